"""Checks across catalog entries, run by ``catalog validate`` (and every fresh load) once all files
are merged.

Each check is a small named function over the merged catalog that returns its problems as
``(entry id, field, reason)``; :func:`check` turns them into the catalog's error shape,
``file:line: entry 'id': field X: reason``, with the line of the field inside the entry where the
file shows it, and raises one :class:`CatalogError` listing them all.  The rules, and the note
markers that let an entry explain an exception, are documented in catalog/README.md
("Consistency checks").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from infra_advisor import package_data
from infra_advisor.catalog import LIST_KINDS, Catalog, _entry_line, rules_doc
from infra_advisor.errors import CatalogError
from infra_advisor.models import Entry, Framework, Offering, PeakTflops

Problem = tuple[str, str, str]  # (entry id, field, reason)

# A chip's link figure may differ from its link entry's by rounding only.
LINK_TOLERANCE = 0.01
# A chip whose link figure legitimately differs says so in one sentence of its notes that names
# the link id and contains this word ("... 537.6 differs from amd-infinity-fabric's 448 because ...").
DIFFERS_MARKER = "differs"
# An entry that can only cite a plain-http page says so in its notes with these words.
NO_HTTPS_MARKER = "no https"
GIB = 1.073741824  # GB per GiB
# Phrases that say a field holds nothing ("peak_tflops is empty", "... is left empty").
EMPTY_WORDS = re.compile(r"\bleft empty\b|\bis empty\b|\bnot set\b|\bunset\b", re.IGNORECASE)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;!?])\s+", text) if s]


def _explains(notes: str, link_id: str) -> bool:
    """Whether one sentence of the notes names the link and says the figure differs from it."""
    return any(
        link_id in s and DIFFERS_MARKER in s.lower() for s in _sentences(notes.replace("\n", " "))
    )


# --------------------------------------------------------------------------- the checks


def unknown_references(cat: Catalog) -> list[Problem]:
    """Every id a chip names exists, and its own links are scale-up links (PCIe, NVLink, ICI...)."""
    out: list[Problem] = []
    for chip in cat.chips.values():
        for fld in ("scale_up_interconnect", "host_interconnect"):
            ref = getattr(chip, fld)
            if ref is None:
                continue
            link = cat.interconnects.get(ref)
            if link is None:
                out.append((chip.id, fld, f"unknown interconnect id {ref!r}"))
            elif link.scope != "scale_up":
                out.append(
                    (
                        chip.id,
                        fld,
                        f"{ref!r} is a {link.scope} link; a chip's own links are scale_up",
                    )
                )
        out.extend(
            (chip.id, "runs_frameworks", f"unknown framework id {ref!r}")
            for ref in chip.runs_frameworks
            if ref not in cat.frameworks
        )
    return out


def link_bandwidth_mismatches(cat: Catalog) -> list[Problem]:
    """A chip's link bandwidth equals its link entry's (within 1%) unless its notes say why not."""
    out: list[Problem] = []
    pairs = (
        ("scale_up_interconnect", "scale_up_bandwidth_gb_s"),
        ("host_interconnect", "host_bandwidth_gb_s"),
    )
    for chip in cat.chips.values():
        for link_field, bw_field in pairs:
            link = cat.interconnects.get(getattr(chip, link_field) or "")
            value = getattr(chip, bw_field)
            if link is None or value is None:
                continue
            if abs(value - link.bandwidth_gb_s) <= LINK_TOLERANCE * link.bandwidth_gb_s:
                continue
            if _explains(chip.notes, link.id):
                continue
            out.append(
                (
                    chip.id,
                    bw_field,
                    f"{value:g} GB/s, but {link_field} {link.id!r} carries "
                    f"{link.bandwidth_gb_s:g} GB/s; use the link's figure, or say why this chip's "
                    f"differs in one sentence of its notes that names {link.id!r} and the word "
                    f"{DIFFERS_MARKER!r}",
                )
            )
    return out


def _urls(entry: Entry) -> Iterable[tuple[str, str]]:
    """(field, URL) for every URL an entry cites."""
    for url in entry.sources:
        yield "sources", url
    if isinstance(entry, Offering):
        for price in entry.price:
            yield "price.source", price.source
        if entry.purchase_source:
            yield "purchase_source", entry.purchase_source
    if isinstance(entry, Framework):
        for item in entry.efficiency:
            yield "efficiency.source", item.source


def insecure_sources(cat: Catalog) -> list[Problem]:
    """Sources are https:// URLs, unless the notes say the page has no https version."""
    out: list[Problem] = []
    for entry in _entries(cat):
        if NO_HTTPS_MARKER in entry.notes.lower():
            continue
        for fld, url in _urls(entry):
            if not url.lower().startswith("https://"):
                out.append(
                    (
                        entry.id,
                        fld,
                        f"{url!r} is not an https:// URL; cite the https page, or say in notes "
                        f"that the source has {NO_HTTPS_MARKER}",
                    )
                )
    return out


def offering_references(cat: Catalog) -> list[Problem]:
    """An offering's chip, fabric and storage exist, and the fabric and storage are its
    provider's (so no stack mixes clouds)."""
    out: list[Problem] = []
    for off in cat.offerings.values():
        if off.chip not in cat.chips:
            out.append((off.id, "chip", f"unknown chip id {off.chip!r}"))
        link = cat.interconnects.get(off.scale_out or "")
        if off.scale_out is not None and link is None:
            out.append((off.id, "scale_out", f"unknown interconnect id {off.scale_out!r}"))
        elif link is not None and link.scope != "scale_out":
            out.append((off.id, "scale_out", f"{link.id!r} is a scale_up link"))
        elif link is not None and link.providers and off.provider not in link.providers:
            out.append((off.id, "scale_out", _not_theirs(link.id, off.provider, link.providers)))
        for ref in off.storage:
            store = cat.storage.get(ref)
            if store is None:
                out.append((off.id, "storage", f"unknown storage id {ref!r}"))
            elif store.providers and off.provider not in store.providers:
                out.append((off.id, "storage", _not_theirs(ref, off.provider, store.providers)))
    return out


def _not_theirs(ref: str, provider: str, providers: list[str]) -> str:
    return (
        f"{ref!r} is offered by {', '.join(providers)}, not {provider}; add {provider!r} to its "
        "providers if it does offer it"
    )


def power_modes_off_the_board(cat: Catalog) -> list[Problem]:
    """A chip's peaks and tdp_w are quoted at its top power mode: that mode's budget is tdp_w,
    and no mode runs a clock above it (F22c scales the peaks by the clock ratios)."""
    out: list[Problem] = []
    for chip in cat.chips.values():
        if not chip.power_modes:
            continue
        top = max(chip.power_modes, key=lambda m: (m.power_w, m.gpu_max_mhz, m.emc_max_mhz))
        if abs(top.power_w - chip.tdp_w) > 1e-9:
            out.append((chip.id, "power_modes", f"the top mode {top.name!r} has power_w "
                        f"{top.power_w:g}, but tdp_w is {chip.tdp_w:g}: the peaks are quoted at "
                        "the top mode, so the two must agree"))  # fmt: skip
        faster = [m.name for m in chip.power_modes
                  if m.gpu_max_mhz > top.gpu_max_mhz or m.emc_max_mhz > top.emc_max_mhz]  # fmt: skip
        if faster:
            out.append((chip.id, "power_modes", f"mode(s) {', '.join(faster)} run clocks above "
                        f"the top mode {top.name!r}, where the peaks are quoted"))  # fmt: skip
    return out


def _gib_figures(notes: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*(?:\.\d+)?)\s*GiB\b", notes)]


def unconverted_memory(cat: Catalog) -> list[Problem]:
    """The mechanical part of the memory capacity rule (catalog/README.md): memory_gb is not the
    GiB count the notes give, stored unconverted as GB (a part with 32 GiB stored as 32).

    Notes that say the printed figure was kept (they contain "printed") are left alone. Whether a
    bare whole number is a binary figure is not mechanical (the rule asks for a source), so a
    chip without notes is not checked.
    """
    out: list[Problem] = []
    for chip in cat.chips.values():
        gb = chip.memory_gb
        if gb != int(gb) or "printed" in chip.notes.lower():
            continue
        if gb in _gib_figures(chip.notes):
            out.append(
                (
                    chip.id,
                    "memory_gb",
                    f"{gb:g} is the {gb:g} GiB of the notes stored as GB; convert it "
                    f"({gb:g} GiB = {gb * GIB:.3f} GB), or say in notes that the printed figure "
                    "was kept and why (see 'Memory capacity rule')",
                )
            )
    return out


def _is_set(value: object) -> bool:
    if isinstance(value, PeakTflops):
        return bool(value.supported())
    return value not in (None, "", [], {})


def notes_contradict_fields(cat: Catalog) -> list[Problem]:
    """Notes do not call a set field empty."""
    out: list[Problem] = []
    for chip in cat.chips.values():
        notes = chip.notes.replace("\n", " ")
        fields = [f for f in type(chip).__dataclass_fields__ if "_" in f]
        said_empty = {
            fld
            for sentence in _sentences(notes)
            if EMPTY_WORDS.search(sentence)
            for fld in fields
            if re.search(rf"\b{fld}\b", sentence)
        }
        out.extend(
            (chip.id, "notes", f"say {fld} is empty or not set, but it is {getattr(chip, fld)!r}")
            for fld in sorted(said_empty)
            if _is_set(getattr(chip, fld))
        )
    return out


def peft_maturity_of_unlisted_methods(cat: Catalog) -> list[Problem]:
    """A framework states a maturity only for fine-tuning methods it has."""
    return [
        (fw.id, "peft_maturity", f"names {method}, which is not among its peft methods "
         f"({', '.join(fw.peft) or 'none'})")
        for fw in cat.frameworks.values()
        for method in fw.peft_maturity
        if method not in fw.peft
    ]  # fmt: skip


CHECKS: tuple[Callable[[Catalog], list[Problem]], ...] = (
    unknown_references,
    link_bandwidth_mismatches,
    insecure_sources,
    offering_references,
    unconverted_memory,
    notes_contradict_fields,
    power_modes_off_the_board,
    peft_maturity_of_unlisted_methods,
)


# --------------------------------------------------------------------------- reporting


def _entries(cat: Catalog) -> Iterable[Entry]:
    for kind in (*LIST_KINDS, "efficiency"):
        yield from getattr(cat, kind).values()


def _text(label: str, cache: dict[str, str]) -> str:
    """The text of the file an entry came from (shipped or overlay), read only to report a line."""
    if label not in cache:
        try:
            if label.startswith("<shipped>/"):
                raw = package_data.read_bytes("infra_advisor.data", label.split("/", 1)[1])
                cache[label] = (raw or b"").decode("utf-8", errors="replace")
            else:
                cache[label] = Path(label).read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            cache[label] = ""
    return cache[label]


def _field_line(text: str, entry_id: str, fld: str) -> int | None:
    """The line of ``fld`` inside the entry (the entry's id line when the field is not written)."""
    start = _entry_line(text, entry_id)
    if start is None:
        return None
    lines = text.splitlines()
    key = fld.split(".")[0]
    for number in range(start, len(lines)):  # lines after the id line, 0-based index = number
        line = lines[number]
        if line.lstrip().startswith("[["):
            break
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number + 1
    return start


def format_problem(cat: Catalog, problem: Problem, cache: dict[str, str]) -> str:
    entry_id, fld, reason = problem
    label = cat.origins.get(entry_id, "catalog")
    line = _field_line(_text(label, cache), entry_id, fld)
    where = f"{label}:{line}" if line else label
    return f"{where}: entry {entry_id!r}: field {fld}: {reason}"


def problems(cat: Catalog) -> list[str]:
    """Every problem the checks find, formatted, in check order."""
    cache: dict[str, str] = {}
    return [format_problem(cat, p, cache) for check_fn in CHECKS for p in check_fn(cat)]


def check(cat: Catalog) -> None:
    """Raise one CatalogError naming every problem (file:line, entry, field, reason)."""
    found = problems(cat)
    if found:
        raise CatalogError(
            "\n".join(found),
            hint=f"see 'Consistency checks' in {rules_doc()} for each rule and its note marker",
        )
