"""The validated catalog kept between runs: fresh, keyed by content, safe, and never in the way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra_advisor import catalog_cache, models
from infra_advisor.catalog import load_catalog, shipped_files, validate_files
from infra_advisor.checks import to_data
from tests.test_catalog import CHIP

# Loads a catalog in a fresh interpreter and says what it had to import to do so.
PROBE = (
    "import json, sys\n"
    "from infra_advisor.catalog import load_catalog\n"
    "cat = load_catalog(sys.argv[1:])\n"
    "print(json.dumps({'memory': {k: c.memory_gb for k, c in cat.chips.items()},"
    " 'pydantic': 'pydantic' in sys.modules, 'tomllib': 'tomllib' in sys.modules}))\n"
)


def probe(overlays: list[str], cache: Path, **env: str) -> dict[str, Any]:
    environ = {**os.environ, "INFRA_ADVISOR_CACHE_DIR": str(cache), **env}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *overlays],
        capture_output=True,
        text=True,
        env=environ,
        check=True,
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def overlay(tmp_path: Path, memory: str = "80") -> Path:
    folder = tmp_path / "overlay"
    folder.mkdir(exist_ok=True)
    (folder / "chips.toml").write_text(CHIP.format(id="test-chip", memory=memory), "utf-8")
    return folder


def test_packaged_validated_form_matches_the_shipped_catalog() -> None:
    files = list(shipped_files())
    text = (Path(catalog_cache.__file__).parent / catalog_cache.SHIPPED_FORM).read_text("utf-8")
    found = catalog_cache.from_form(text, catalog_cache.cache_key(files))
    assert found is not None, (
        "infra_advisor/catalog_validated.json is stale: run `python -m infra_advisor.catalog_cache`"
    )
    assert to_data(found) == to_data(validate_files(files))
    assert found.chips == validate_files(files).chips  # same dataclasses, field for field


def test_a_run_on_the_shipped_catalog_writes_nothing_and_needs_no_validator(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    seen = probe([], cache)
    assert not cache.exists()
    assert not seen["pydantic"] and not seen["tomllib"]
    shipped = validate_files(list(shipped_files())).chips["h100-sxm"].memory_gb
    assert seen["memory"]["h100-sxm"] == shipped


def test_an_overlay_is_validated_once_then_read_back(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = overlay(tmp_path)
    first = probe([str(folder)], cache)
    assert first["pydantic"] and first["memory"]["test-chip"] == 80.0
    kept = list(cache.glob("catalog-*.json"))
    assert len(kept) == 1
    second = probe([str(folder)], cache)
    assert not second["pydantic"] and not second["tomllib"]
    assert second["memory"] == first["memory"]


def test_changing_an_overlay_file_is_seen_at_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = overlay(tmp_path, memory="80")
    assert probe([str(folder)], cache)["memory"]["test-chip"] == 80.0
    overlay(tmp_path, memory="96")  # same size, same path, other bytes
    assert probe([str(folder)], cache)["memory"]["test-chip"] == 96.0
    overlay(tmp_path, memory="nan")  # and a broken file is reported, not served from the cache
    with pytest.raises(Exception, match="memory_gb"):
        load_catalog([folder])


def test_the_key_covers_the_entry_definitions(tmp_path: Path, monkeypatch: Any) -> None:
    files = list(shipped_files())
    before = catalog_cache.cache_key(files)
    here = Path(models.__file__).parent
    for name in catalog_cache.VALIDATION_MODULES:  # a copy of the package's validation rules
        (tmp_path / name).write_bytes((here / name).read_bytes())
    monkeypatch.setattr(models, "__file__", str(tmp_path / "models.py"))
    assert catalog_cache.cache_key(files) == before
    for name in catalog_cache.VALIDATION_MODULES:  # an edit to any of them is a new key
        edited = tmp_path / name
        original = edited.read_bytes()
        edited.write_bytes(original + b"\n# a rule changed\n")
        assert catalog_cache.cache_key(files) != before, name
        edited.write_bytes(original)


def test_a_damaged_cache_file_is_validated_afresh_and_replaced(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = overlay(tmp_path)
    probe([str(folder)], cache)
    (kept,) = cache.glob("catalog-*.json")
    good = kept.read_text("utf-8")
    key = good.partition(" ")[0]
    damaged = [
        good.replace('"memory_gb":80.0', '"memory_gb":"80"'),  # edited: the digest no longer fits
        good[: len(good) // 2],  # cut short
        key + "\n{not json",
        "",
    ]
    for damage in damaged:
        kept.write_text(damage, "utf-8")
        seen = probe([str(folder)], cache)
        assert seen["pydantic"] and seen["memory"]["test-chip"] == 80.0
        assert kept.read_text("utf-8") == good  # rewritten whole


def test_concurrent_runs_agree_and_leave_one_whole_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = overlay(tmp_path)
    environ = {**os.environ, "INFRA_ADVISOR_CACHE_DIR": str(cache)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE, str(folder)],
            stdout=subprocess.PIPE,
            text=True,
            env=environ,
        )
        for _ in range(4)
    ]
    outputs = [json.loads(run.communicate()[0]) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert all(out["memory"] == outputs[0]["memory"] for out in outputs)
    assert [p.name.startswith("catalog-") for p in cache.iterdir()] == [True]  # no temporary left


def test_the_cache_can_be_turned_off_or_be_unwritable(tmp_path: Path) -> None:
    folder = overlay(tmp_path)
    off = tmp_path / "off"
    seen = probe([str(folder)], off, INFRA_ADVISOR_NO_CACHE="1")
    assert seen["pydantic"] and not off.exists()
    blocked = tmp_path / "a-file"
    blocked.write_text("the user's file\n", "utf-8")
    seen = probe([str(folder)], blocked / "cache")  # a file where the folder would go
    assert seen["memory"]["test-chip"] == 80.0
    assert blocked.read_text("utf-8") == "the user's file\n"


def test_the_cache_keeps_only_the_newest_forms(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("INFRA_ADVISOR_CACHE_DIR", str(tmp_path / "cache"))
    for memory in range(1, catalog_cache.KEEP + 4):
        load_catalog([overlay(tmp_path, memory=str(memory))])
    assert len(list((tmp_path / "cache").glob("catalog-*.json"))) == catalog_cache.KEEP


def test_catalog_validate_always_validates_and_keeps_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = overlay(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "infra_advisor", "catalog", "validate", str(folder)],
        capture_output=True,
        text=True,
        env={**os.environ, "INFRA_ADVISOR_CACHE_DIR": str(cache)},
        check=False,
    )
    assert result.returncode == 0 and "catalog valid" in result.stdout
    assert not cache.exists()


def test_the_parsed_presets_are_current() -> None:
    from infra_advisor import presets

    shipped = (Path(catalog_cache.__file__).parent / presets.PARSED_FORM).read_text("utf-8")
    assert shipped == presets.parsed_form(), (
        "infra_advisor/presets_parsed.json is stale: run `python -m infra_advisor.catalog_cache`"
    )


def test_a_preset_edited_after_parsing_is_read_from_its_toml(monkeypatch: Any) -> None:
    import json

    from infra_advisor import presets

    stale = json.loads(presets.parsed_form())
    stale["llama-8b-chat"]["data"]["workload"]["rate"] = 12345.0
    stale["llama-8b-chat"]["digest"] = "0" * 32
    monkeypatch.setattr(presets, "_parsed", lambda: stale)
    assert presets.load_preset("llama-8b-chat")["rate"] != 12345.0
    stale["llama-8b-chat"]["digest"] = json.loads(presets.parsed_form())["llama-8b-chat"]["digest"]
    assert presets.load_preset("llama-8b-chat")["rate"] == 12345.0
