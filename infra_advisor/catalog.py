"""Load, validate and merge the TOML catalog (shipped + overlays).

The shipped catalog lives in the package ``infra_advisor.data`` (the
repository's ``catalog/`` folder) and is read from the package's own folder so
an installed wheel finds it from any directory (``infra_advisor.package_data``).  Overlays (``--catalog DIR``)
add entries or replace them by id.

Validation (pydantic) runs once per distinct set of catalog files: the validated form is kept
as JSON keyed by a hash of the files' bytes and of the entry definitions (see
``infra_advisor.catalog_cache``), so a repeated run neither parses TOML nor imports pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

from infra_advisor.checks import Record, record
from infra_advisor.errors import CatalogError
from infra_advisor.models import (
    Chip,
    Efficiency,
    Entry,
    Framework,
    Interconnect,
    Model,
    Offering,
    PeakTflops,
    Storage,
)

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import ValidationError

MAX_FILE_BYTES = 8 * 1024 * 1024

# file name -> (table name, model, Catalog attribute)
KINDS: dict[str, tuple[str, type[Entry], str]] = {
    "chips.toml": ("chip", Chip, "chips"),
    "interconnects.toml": ("interconnect", Interconnect, "interconnects"),
    "storage.toml": ("storage", Storage, "storage"),
    "frameworks.toml": ("framework", Framework, "frameworks"),
    "models.toml": ("model", Model, "models"),
    "offerings.toml": ("offering", Offering, "offerings"),
    "efficiency.toml": ("efficiency", Efficiency, "efficiency"),
}
LIST_KINDS = ("chips", "interconnects", "storage", "frameworks", "models", "offerings")


@record()
class Catalog(Record):
    """The merged catalog: entries by kind and id, and the file each came from."""

    chips: dict[str, Chip] = field(default_factory=dict)
    interconnects: dict[str, Interconnect] = field(default_factory=dict)
    storage: dict[str, Storage] = field(default_factory=dict)
    frameworks: dict[str, Framework] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    offerings: dict[str, Offering] = field(default_factory=dict)
    efficiency: dict[str, Efficiency] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # entry id -> the file that last set it
    # Values derived from the entries (e.g. a chip's scale-out links), computed once per catalog.
    # Not an __init__ argument, so dataclasses.replace starts a changed catalog with an empty one.
    memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def kind_of(self, entry_id: str) -> str | None:
        for attr in (*LIST_KINDS, "efficiency"):
            if entry_id in getattr(self, attr):
                return attr
        return None

    def get(self, entry_id: str) -> Entry | None:
        kind = self.kind_of(entry_id)
        if kind is None:
            return None
        entry: Entry = getattr(self, kind)[entry_id]
        return entry

    def all_ids(self) -> list[str]:
        return [i for attr in (*LIST_KINDS, "efficiency") for i in getattr(self, attr)]

    def find_model(self, name: str) -> Model | None:
        """The model whose id or any alias is ``name``, ignoring case; None when there is none."""
        index = self.memo.get("model-names")
        if index is None:
            index = {}
            for model in self.models.values():
                for known in (model.id, *model.aliases):
                    index.setdefault(known.lower(), model.id)
            self.memo["model-names"] = index
        found = index.get(name.strip().lower())
        return self.models[found] if found is not None else None

    def model_names(self) -> list[str]:
        """Every id and alias a model answers to (for completion and "did you mean")."""
        return [known for model in self.models.values() for known in (model.id, *model.aliases)]

    def eff(self, entry_id: str) -> Efficiency:
        try:
            return self.efficiency[entry_id]
        except KeyError:
            raise CatalogError(
                f"catalog: efficiency entry {entry_id!r} is missing",
                hint="an overlay may not remove shipped efficiency entries",
            ) from None


def _entry_line(text: str, entry_id: object) -> int | None:
    if not isinstance(entry_id, str):
        return None
    pattern = re.compile(rf"^\s*id\s*=\s*[\"']{re.escape(entry_id)}[\"']", re.M)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _where(label: str, text: str, entry_id: object) -> str:
    """file:line of an entry, looked up only when reporting an error."""
    line = _entry_line(text, entry_id)
    return f"{label}:{line}" if line else label


def rules_doc() -> str:
    """Where the catalog rules (fields, units, sources) are: the README shipped in the package
    beside the catalog, so an installed user has it too."""
    from infra_advisor import package_data

    return package_data.path_of("infra_advisor.data", "README.md") or "catalog/README.md"


def _field_names(model: type, path: list[str]) -> list[str]:
    """The field names of ``model`` (a dataclass), or of the nested table at ``path`` in it."""
    import dataclasses
    import typing

    current: Any = model
    for part in path:
        hints = typing.get_type_hints(current) if dataclasses.is_dataclass(current) else {}
        inner = [a for a in typing.get_args(hints.get(part)) if dataclasses.is_dataclass(a)]
        current = inner[0] if inner else hints.get(part)
    if not dataclasses.is_dataclass(current):
        return []
    return [f.name for f in dataclasses.fields(current)]


def suggest_field(name: str, known: list[str]) -> str:
    """' (did you mean memory_gb?)' for a name a known field starts with or resembles; '' else."""
    import difflib

    prefixed = [k for k in known if k.startswith(name + "_")]
    close = prefixed[:1] or difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


# Chip fields that moved to offerings.toml: an overlay that still writes them is told where.
MOVED_FIELDS = dict.fromkeys(
    (
        "price_usd_per_hour", "price_source", "price_note", "purchase_price_usd",
        "purchase_source", "clouds",
    ),
    "prices and where a chip is offered now live on offerings ([[offering]] in offerings.toml: "
    "provider, chip, chips_per_unit, [[offering.price]] per unit or per chip, or purchase_usd "
    "on-prem)",
)  # fmt: skip


def _format_validation(err: ValidationError, model: type | None = None) -> list[str]:
    lines = []
    for item in err.errors():
        loc = ".".join(str(p) for p in item["loc"])
        msg = item["msg"].removeprefix("Value error, ")
        kind = item["type"]
        if kind == "dataclass_type":
            lines.append(f"must be a table of fields, got {type(item['input']).__name__}")
            continue
        if not loc:  # a whole-entry check names its field itself: "read_gb_s: give ..."
            lines.append(f"field {msg}")
            continue
        if kind in ("extra_forbidden", "unexpected_keyword_argument"):
            parts = [str(p) for p in item["loc"]]
            known = _field_names(model, parts[:-1]) if model is not None else []
            guess = suggest_field(parts[-1], known)
            if model is Chip and len(parts) == 1 and parts[0] in MOVED_FIELDS:
                lines.append(f"field {loc}: {MOVED_FIELDS[parts[0]]}")
                continue
            msg = f"unknown field{guess or ' (a typo?)'}; the field list is in {rules_doc()}"
        elif kind in ("missing", "missing_keyword_argument"):
            msg = "required field is missing"
        elif kind == "string_pattern_mismatch" and item["ctx"]["pattern"].startswith("^https?"):
            msg = f"a source must be a URL (http:// or https://), got {item['input']!r}"
        lines.append(f"field {loc}: {msg}")
    return lines


# memory_usable_gb is what the driver reports as total device memory: a little under memory_gb
# (NVIDIA HBM parts hold back well under 1%, GDDR parts with ECC on 1/16).  Below this share the
# two figures are almost surely in different units or describe different things.
USABLE_MEMORY_MIN_SHARE = 0.8


def _entry_problem(entry: Entry) -> str | None:
    """A check across fields of one entry that the field types cannot express ("field: reason")."""
    if isinstance(entry, Model):
        return _model_problem(entry)
    if isinstance(entry, Chip):
        problem = _part_of_peak_problem(
            entry, "matmul_sustained_tflops", "is it a sparse figure?"
        ) or _part_of_peak_problem(entry, "dla_peak_tflops", "the DLAs are part of the peak")
        if problem:
            return problem
    if isinstance(entry, Chip) and entry.memory_usable_gb is not None:
        usable, total = entry.memory_usable_gb, entry.memory_gb
        if usable > total:
            return (
                f"memory_usable_gb: {usable:g} GB exceeds memory_gb {total:g} GB; the usable "
                "capacity is part of the device memory (is memory_gb a GiB figure stored as GB? "
                f"see 'Memory capacity rule' in {rules_doc()})"
            )
        if usable < USABLE_MEMORY_MIN_SHARE * total:
            return (
                f"memory_usable_gb: {usable:g} GB is under {USABLE_MEMORY_MIN_SHARE:.0%} of "
                f"memory_gb {total:g} GB; drivers hold back a few percent at most (are the two "
                "figures in different units?)"
            )
    return None


def _part_of_peak_problem(chip: Chip, name: str, hint: str) -> str | None:
    """A rate that is a part of the dense peak (a sustained matmul rate, the DLAs' share) needs
    the peak it is a part of, and cannot exceed it."""
    part: PeakTflops | None = getattr(chip, name)
    if part is None:
        return None
    for precision in part.supported():
        rate, peak = part.get(precision), chip.peak_tflops.get(precision)
        if peak is None:
            return (
                f"{name}.{precision}: the chip has no {precision} peak in peak_tflops to "
                "measure it against"
            )
        if rate is not None and rate > peak:
            return f"{name}.{precision}: {rate:g} TFLOPS exceeds the dense peak {peak:g} ({hint})"
    return None


def _count(value: float) -> str:
    """A parameter count as people write it: 6.74B, 340M."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _model_shape_problem(model: Model) -> str | None:
    """Fields of a model that contradict each other, before any count is taken."""
    if model.kv_heads and model.heads and model.heads % model.kv_heads:
        return f"kv_heads: {model.kv_heads} does not divide heads {model.heads}"
    if (model.sliding_window is None) != (model.sliding_layers is None):
        return "sliding_layers: give sliding_window and sliding_layers together"
    if model.sliding_layers is not None and model.layers and model.sliding_layers > model.layers:
        return f"sliding_layers: {model.sliding_layers} exceeds layers {model.layers}"
    moe = model.moe
    if moe is not None:
        if moe.experts_per_token > moe.experts:
            return f"moe.experts_per_token: {moe.experts_per_token} exceeds experts {moe.experts}"
        if model.layers and moe.dense_layers >= model.layers:
            return f"moe.dense_layers: {moe.dense_layers} leaves no MoE layer of {model.layers}"
        if model.active_params is None and model.kind == "transformer":
            return "active_params: required for a mixture of experts (the published active count)"
    elif model.active_params is not None:
        return "active_params: only a mixture of experts ([model.moe]) has an active count"
    if model.params and model.active_params and model.active_params > model.params:
        return f"active_params: {_count(model.active_params)} exceeds params {_count(model.params)}"
    return None


def _model_problem(model: Model) -> str | None:
    """A transformer's counts computed from its architecture must match the published ones."""
    shape = _model_shape_problem(model)
    if shape is not None or model.kind != "transformer":
        return shape
    from infra_advisor.model_params import PARAMS_TOLERANCE, count_params, published_active

    if model.params is None:
        return "params: required for a transformer (the published total parameter count)"
    try:
        counted = count_params(model)
    except ValueError as exc:
        return str(exc)
    checks = [("params", counted.total, model.params)]
    if model.active_params is not None:
        checks.append(("active_params", published_active(model, counted), model.active_params))
    for name, computed, published in checks:
        off = computed / published - 1
        if abs(off) > PARAMS_TOLERANCE:
            return (
                f"{name}: the architecture gives {_count(computed)} ({off:+.1%} from the "
                f"published {_count(published)}, more than {PARAMS_TOLERANCE:.0%}); check layers, "
                "hidden, ffn_hidden, heads, kv_heads, head_dim, vocab and [model.moe] against "
                "the published config, or the published count"
            )
    return None


def _check_model_names(catalog: Catalog, texts: dict[str, str]) -> None:
    """No name (id or alias, any case) may point at two models."""
    owner: dict[str, str] = {}
    for model in catalog.models.values():
        for known in (model.id, *model.aliases):
            key = known.lower()
            other = owner.setdefault(key, model.id)
            if other != model.id:
                label = catalog.origins.get(model.id, "models")
                where = _where(label, texts.get(label, ""), model.id)
                raise CatalogError(
                    f"{where}: entry {model.id!r}: field aliases: {known!r} already names "
                    f"model {other!r}",
                    hint="every id and alias must name one model (case does not count)",
                )


def _read_toml(label: str, raw: bytes) -> dict[str, Any]:
    from infra_advisor.tomlcompat import tomllib

    if len(raw) > MAX_FILE_BYTES:
        raise CatalogError(
            f"{label}: file is {len(raw)} bytes, over the {MAX_FILE_BYTES}-byte limit"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CatalogError(
            f"{label}:{line}: not UTF-8 text (byte {exc.start}); is this a TOML file?"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", reason)
        where = f"{label}:{match[1]}:{match[2]}" if match else label
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", reason).strip()
        raise CatalogError(f"{where}: TOML syntax error: {reason}") from None
    data["__text__"] = text
    return data


def _parse_file(label: str, name: str, raw: bytes) -> list[Entry]:
    table, model, _ = KINDS[name]
    data = _read_toml(label, raw)
    text: str = data.pop("__text__")
    unknown = [k for k in data if k != table]
    if unknown:
        raise CatalogError(
            f"{label}: unknown table {unknown[0]!r}; {name} holds [[{table}]] entries only"
        )
    items = data.get(table, [])
    if not isinstance(items, list):
        raise CatalogError(f"{label}: {table!r} must be an array of tables ([[{table}]])")
    from pydantic import ValidationError

    from infra_advisor.checks import adapter

    validator = adapter(model)
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        entry_id = item.get("id") if isinstance(item, dict) else None
        who = f"entry {entry_id!r}" if isinstance(entry_id, str) else f"{table} #{index} (no id)"
        try:
            entry: Entry = validator.validate_python(item)
        except ValidationError as exc:
            details = "; ".join(_format_validation(exc, model))
            raise CatalogError(f"{_where(label, text, entry_id)}: {who}: {details}") from None
        problem = _entry_problem(entry)
        if problem is not None:
            raise CatalogError(f"{_where(label, text, entry_id)}: {who}: field {problem}")
        if entry.id in seen:
            where = _where(label, text, entry_id)
            raise CatalogError(f"{where}: duplicate id {entry.id!r} in {name}")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def shipped_files() -> Iterable[tuple[str, str, bytes]]:
    from infra_advisor import package_data

    for name in KINDS:
        raw = package_data.read_bytes("infra_advisor.data", name)
        if raw is not None:
            yield f"<shipped>/{name}", name, raw


def _overlay_files(directory: str | Path) -> Iterable[tuple[str, str, bytes]]:
    from pathlib import Path  # only overlays are read as paths: not at every start

    path = Path(directory)
    if not path.exists():
        raise CatalogError(f"--catalog {directory}: no such directory")
    if not path.is_dir():
        raise CatalogError(
            f"--catalog {directory}: not a directory (give the folder holding chips.toml …)"
        )
    found = False
    for name in KINDS:
        file = path / name
        if file.exists():
            if file.is_dir():
                raise CatalogError(f"{file}: is a directory, expected a TOML file")
            try:
                raw = file.read_bytes()
            except OSError as exc:
                raise CatalogError(f"{file}: cannot read: {exc.strerror}") from None
            found = True
            yield str(file), name, raw
    if not found:
        stray = sorted(p.name for p in path.glob("*.toml"))
        hint = f" (found {', '.join(stray)}; expected names: {', '.join(KINDS)})" if stray else ""
        raise CatalogError(f"--catalog {directory}: holds none of {', '.join(KINDS)}{hint}")


def _check_references(catalog: Catalog) -> None:
    from infra_advisor import catalog_checks

    catalog_checks.check(catalog)  # cross-entry checks, each with file:line (catalog/README.md)
    for chip in catalog.chips.values():
        for fld in ("scale_up_interconnect", "host_interconnect"):
            ref = getattr(chip, fld)
            if ref is not None and ref not in catalog.interconnects:
                raise CatalogError(
                    f"{catalog.origins.get(chip.id, 'chips')}: entry {chip.id!r}: field {fld}: "
                    f"unknown interconnect id {ref!r}",
                    hint="add it to interconnects.toml or fix the id",
                )
        if chip.scale_up_interconnect is not None and chip.scale_up_bandwidth_gb_s is None:
            raise CatalogError(
                f"{catalog.origins.get(chip.id, 'chips')}: entry {chip.id!r}: "
                "field scale_up_bandwidth_gb_s: required when "
                "scale_up_interconnect is set"
            )


def validate_files(files: Iterable[tuple[str, str, bytes]]) -> Catalog:
    """Parse and validate catalog files, merging later files over earlier ones by id."""
    catalog = Catalog()
    texts: dict[str, str] = {}
    for label, name, raw in files:
        if name == "models.toml":
            texts[label] = raw.decode("utf-8", errors="replace")
        attr = KINDS[name][2]
        bucket: dict[str, Entry] = getattr(catalog, attr)
        for entry in _parse_file(label, name, raw):
            other = catalog.kind_of(entry.id)
            if other is not None and other != attr:
                raise CatalogError(
                    f"{label}: id {entry.id!r} is already used by an entry in {other}"
                )
            bucket[entry.id] = entry
            catalog.origins[entry.id] = label
        catalog.files.append(label)
    _check_references(catalog)
    _check_model_names(catalog, texts)
    return catalog


def load_catalog(overlays: Sequence[str | Path] = (), *, fresh: bool = False) -> Catalog:
    """Load the shipped catalog and merge each overlay directory over it, by id.

    Files seen before come from their validated form (``catalog_cache``); ``fresh`` validates them
    again regardless, and keeps nothing.
    """
    files = list(shipped_files())
    for directory in overlays:
        files.extend(_overlay_files(directory))
    if fresh:
        return validate_files(files)
    from infra_advisor import catalog_cache

    key, catalog = catalog_cache.lookup(files)
    if catalog is None:
        catalog = validate_files(files)
        catalog_cache.store(key, catalog)
    return catalog
