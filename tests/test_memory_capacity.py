"""Device memory is binary in hardware and decimal GB in the catalog (catalog/README.md, "Memory
capacity rule"): an H100 "80GB" is 80 GiB, and what the driver reports is no more than that."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra_advisor.catalog import Catalog
from tests.test_bad_input import CHIP, run_main

GIB = 2**30 / 1e9  # GB per GiB


def test_h100_holds_80_gib_and_reports_81559_mib(catalog: Catalog) -> None:
    h100 = catalog.chips["h100-sxm"]
    assert h100.memory_gb == pytest.approx(80 * GIB, abs=0.1)  # 85.9 GB, not the printed "80"
    assert h100.memory_gb == pytest.approx(85.9, abs=0.1)
    assert h100.memory_usable_gb is not None and h100.memory_usable_gb >= 85
    assert h100.memory_usable_gb == pytest.approx(81559 * 2**20 / 1e9, abs=0.001)


def test_tpu_v6e_holds_32_gib(catalog: Catalog) -> None:
    assert catalog.chips["tpu-v6e"].memory_gb == pytest.approx(34.36, abs=0.01)


def test_gib_per_second_bandwidths_are_converted(catalog: Catalog) -> None:
    for chip_id in ("inferentia2", "trainium1"):  # AWS: "820 GiB/sec"
        assert catalog.chips[chip_id].memory_bandwidth_gb_s == pytest.approx(820 * GIB, abs=0.1)


def test_usable_memory_never_exceeds_device_memory(catalog: Catalog) -> None:
    with_usable = [c for c in catalog.chips.values() if c.memory_usable_gb is not None]
    assert len(with_usable) >= 5
    for chip in with_usable:
        assert chip.memory_usable_gb is not None
        assert chip.memory_usable_gb <= chip.memory_gb, chip.id
        assert chip.memory_usable_gb >= 0.8 * chip.memory_gb, chip.id


@pytest.mark.parametrize(
    ("usable", "words"),
    [("96", ["exceeds memory_gb"]), ("40", ["under 80%"])],
    ids=["above", "far-below"],
)
def test_bad_usable_memory_is_refused_naming_file_entry_and_field(
    usable: str, words: list[str], tmp_path: Path, capsys: Any
) -> None:
    text = CHIP.format(memory="80") + f"memory_usable_gb = {usable}\n"
    (tmp_path / "chips.toml").write_text(text, encoding="utf-8")
    for argv in (
        ["catalog", "validate", str(tmp_path)],
        ["recommend", "--preset", "llama-8b-chat", "--json", "--catalog", str(tmp_path)],
    ):
        code, out, err = run_main(argv, capsys)
        assert code == 2 and out == "" and "Traceback" not in err
        for word in ["chips.toml:3:", "'test-chip'", "field memory_usable_gb", *words]:
            assert word in err, (word, err)


def test_good_usable_memory_is_accepted(tmp_path: Path, capsys: Any) -> None:
    text = CHIP.format(memory="85.899") + "memory_usable_gb = 85.521\n"
    (tmp_path / "chips.toml").write_text(text, encoding="utf-8")
    code, _, err = run_main(["catalog", "validate", str(tmp_path)], capsys)
    assert code == 0, err
