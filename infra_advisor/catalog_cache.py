"""The validated catalog, kept so a run need not validate the same files again.

A catalog is validated (TOML parsed, every entry checked by pydantic, references resolved) the
first time a set of files is seen.  Its validated form is JSON, keyed by a BLAKE2b hash over the
definitions of the entries and the rules that check them (``models.py``, ``catalog.py``,
``catalog_checks.py``, ``model_params.py``) and every file's label, kind and bytes: any change to
a catalog file, the entry definitions or the checks gives a new key, so a stale form is never used.

Two places hold validated forms:

* ``catalog_validated.json`` inside the package, made from the shipped catalog when the package
  is built (``python -m infra_advisor.catalog_cache`` rewrites it; a test fails when it is stale).
  A run on the shipped catalog reads it and writes nothing.
* the user's cache directory for overlay catalogs (``$INFRA_ADVISOR_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/infra-advisor``, else ``~/.cache/infra-advisor``; ``%LOCALAPPDATA%`` on
  Windows).  Files are written whole to a temporary name and renamed, so concurrent runs never
  read half a file, and the directory keeps the newest few.  ``INFRA_ADVISOR_NO_CACHE=1`` turns
  both places off; a cache that cannot be read or written is skipped without a word.

The JSON is data only: entries are rebuilt field by field into the same dataclasses the
validator returns, and anything that does not fit is treated as a miss and validated afresh.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from infra_advisor import models
from infra_advisor.catalog import Catalog
from infra_advisor.checks import to_data

if TYPE_CHECKING:
    from pathlib import Path

CACHE_FORMAT = 1
SHIPPED_FORM = "catalog_validated.json"
KEEP = 16  # validated forms kept in the user's cache directory
# What decides whether a catalog is valid: a change to any of them gives every catalog a new key.
VALIDATION_MODULES = ("models.py", "catalog.py", "catalog_checks.py", "model_params.py")

CatalogFiles = Sequence[tuple[str, str, bytes]]  # (label, file name, bytes)


def enabled() -> bool:
    return os.environ.get("INFRA_ADVISOR_NO_CACHE", "") in ("", "0")


def cache_dir() -> Path:
    from pathlib import Path

    explicit = os.environ.get("INFRA_ADVISOR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "infra-advisor" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "infra-advisor"


def _hasher(data: bytes = b"") -> Any:
    from infra_advisor import package_data

    return package_data.hasher(data)


def cache_key(files: CatalogFiles) -> str:
    """BLAKE2b of the entry definitions, the validation rules and every file, in order."""
    digest = _hasher(f"infra-advisor validated catalog {CACHE_FORMAT}\0".encode())
    here = os.path.dirname(models.__file__)
    for rules in VALIDATION_MODULES:
        with open(os.path.join(here, rules), "rb") as handle:
            digest.update(handle.read())
    for label, name, raw in files:
        digest.update(f"{label}\0{name}\0{len(raw)}\0".encode())
        digest.update(raw)
    return str(digest.hexdigest())


def _date(value: str) -> _dt.date:
    return _dt.date.fromisoformat(value)


def _chip(data: dict[str, Any]) -> models.Chip:
    data["as_of"] = _date(data["as_of"])
    data["peak_tflops"] = models.PeakTflops(**data["peak_tflops"])
    if data.get("sparse_peak_tflops") is not None:
        data["sparse_peak_tflops"] = models.PeakTflops(**data["sparse_peak_tflops"])
    for name in ("matmul_sustained_tflops", "dla_peak_tflops"):
        if data.get(name) is not None:
            data[name] = models.PeakTflops(**data[name])
    data["power_modes"] = [models.PowerMode(**mode) for mode in data.get("power_modes", [])]
    return models.Chip(**data)


def _framework(data: dict[str, Any]) -> models.Framework:
    data["as_of"] = _date(data["as_of"])
    data["runs_on"] = [models.RunsOn(**item) for item in data["runs_on"]]
    data["efficiency"] = [models.PhaseEfficiency(**item) for item in data.get("efficiency", [])]
    return models.Framework(**data)


def _model(data: dict[str, Any]) -> models.Model:
    data["as_of"] = _date(data["as_of"])
    if data.get("moe") is not None:
        data["moe"] = models.MoeArchitecture(**data["moe"])
    if data.get("mla") is not None:
        data["mla"] = models.LatentAttention(**data["mla"])
    return models.Model(**data)


def _offering(data: dict[str, Any]) -> models.Offering:
    data["as_of"] = _date(data["as_of"])
    if data.get("purchase_as_of") is not None:
        data["purchase_as_of"] = _date(data["purchase_as_of"])
    data["price"] = [
        models.OfferingPrice(**{**item, "as_of": _date(item["as_of"])})
        for item in data.get("price", [])
    ]
    return models.Offering(**data)


def _plain(cls: type[models.Entry]) -> Any:
    def build(data: dict[str, Any]) -> models.Entry:
        data["as_of"] = _date(data["as_of"])
        return cls(**data)

    return build


_BUILDERS: dict[str, Any] = {
    "chips": _chip,
    "interconnects": _plain(models.Interconnect),
    "storage": _plain(models.Storage),
    "frameworks": _framework,
    "models": _model,
    "offerings": _offering,
    "efficiency": _plain(models.Efficiency),
}


def to_form(key: str, catalog: Catalog) -> str:
    """The validated form: the key and the body's digest on the first line, the catalog as JSON.

    The digest catches a form damaged or edited after it was written: it is then a miss.
    """
    kept = {attr: to_data(getattr(catalog, attr)) for attr in (*_BUILDERS, "files", "origins")}
    body = json.dumps(kept, separators=(",", ":"))
    return f"{key} {_hasher(body.encode()).hexdigest()}\n{body}"


def from_form(text: str, key: str, verify: bool = True) -> Catalog | None:
    """The catalog in a validated form, or None when the form is for other files or unreadable.

    ``verify``: check the body's digest (a form in the user's cache directory may be damaged or
    edited; the package's own form is installed with the package, like its code)."""
    head, _, body = text.partition("\n")
    found, _, check = head.partition(" ")
    if found != key or (verify and check != _hasher(body.rstrip("\n").encode()).hexdigest()):
        return None
    try:
        data = json.loads(body)
        catalog = Catalog(files=list(data["files"]), origins=dict(data["origins"]))
        for attr, build in _BUILDERS.items():
            setattr(catalog, attr, {k: build(v) for k, v in data[attr].items()})
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if set(catalog.origins) != set(catalog.all_ids()):
        return None
    return catalog


def _read_shipped() -> str | None:
    from infra_advisor import package_data

    try:
        raw = package_data.read_bytes("infra_advisor", SHIPPED_FORM)
        return None if raw is None else raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def lookup(files: CatalogFiles) -> tuple[str, Catalog | None]:
    """The key of these files and their validated catalog, where one is kept."""
    key = cache_key(files)
    if not enabled():
        return key, None
    shipped = _read_shipped()
    if shipped is not None:
        found = from_form(shipped, key, verify=False)
        if found is not None:
            return key, found
    try:
        text = (cache_dir() / f"catalog-{key[:40]}.json").read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return key, None
    return key, from_form(text, key)


def store(key: str, catalog: Catalog) -> None:
    """Keep a validated catalog in the user's cache directory; failures are not errors."""
    if not enabled():
        return
    import tempfile

    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".catalog-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(to_form(key, catalog))
            os.replace(temp, folder / f"catalog-{key[:40]}.json")
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
        kept = sorted(folder.glob("catalog-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return


def write_shipped_form(target: Path | None = None) -> Path:
    """Validate the shipped catalog and write its form into the package (a build step)."""
    from infra_advisor.catalog import shipped_files, validate_files

    files = list(shipped_files())
    catalog = validate_files(files)
    from pathlib import Path

    path = target or Path(__file__).with_name(SHIPPED_FORM)
    path.write_text(to_form(cache_key(files), catalog) + "\n", encoding="utf-8")
    return path


def write_parsed_presets(target: Path | None = None) -> Path:
    """Parse the shipped presets into the package's JSON form (a build step)."""
    from pathlib import Path

    from infra_advisor import presets

    path = target or Path(__file__).with_name(presets.PARSED_FORM)
    path.write_text(presets.parsed_form(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_shipped_form()}")
    print(f"wrote {write_parsed_presets()}")
