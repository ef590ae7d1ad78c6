"""Command bodies that need no terminal library: shared by the typer app and the fast path.

Nothing here imports typer, rich or questionary.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def merged_values(
    preset: str | None, workload_file: str | None, flags: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """Preset, then workload file, then flags (later ones override), not yet validated; and
    where an error in them should point (the file, unless flags were given too)."""
    from infra_advisor.presets import load_preset
    from infra_advisor.workload import load_workload_file

    values: dict[str, Any] = {}
    if preset is not None:
        values.update(load_preset(preset.strip().lower()))  # shipped preset names are lower case
    where = ""
    if workload_file is not None:
        values.update(load_workload_file(workload_file))
        where = f"{workload_file}: "
    given = {k: v for k, v in flags.items() if v is not None}
    values.update(given)
    return values, where if not given else ""


def build_workload_from(
    preset: str | None, workload_file: str | None, flags: dict[str, Any], catalog: Any = None
) -> Any:
    """Preset, then workload file, then flags: later sources override earlier ones.

    A ``model`` named in any of them (the last one wins) fills the fields none of them gives.
    Preset names match in any case.  A value of implausible magnitude (``--params 70``: 70
    parameters) gets one warning line on stderr, and the run goes on.
    """
    from infra_advisor.workload import build_workload

    values, where = merged_values(preset, workload_file, flags)
    workload = build_workload(values, where, catalog)
    warn_magnitudes(values, workload)
    return workload


def warn_magnitudes(values: dict[str, Any], workload: Any) -> None:
    from infra_advisor.errors import format_warning
    from infra_advisor.workload import magnitude_warnings

    for line in magnitude_warnings(values, workload):
        sys.stderr.write(format_warning(line))


def emit_text(report: Any, fmt: str, view: str = "ranking") -> None:
    """Write a report as JSON (keys sorted, nothing else on stdout) or Markdown."""
    if fmt == "json":
        from infra_advisor.checks import to_data

        data = to_data(report)
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")
    else:
        from infra_advisor.interface.render.markdown import render_markdown

        sys.stdout.write(render_markdown(report, view))


def recommend_text(
    *,
    preset: str | None,
    workload_file: str | None,
    flags: dict[str, Any],
    top: int,
    fmt: str,
    catalog_dirs: list[str],
    require_fit: bool,
) -> int:
    """`recommend` for the JSON and Markdown formats; returns the exit code."""
    from infra_advisor.catalog import load_catalog
    from infra_advisor.errors import ExitCode
    from infra_advisor.search.engine import recommend

    catalog = load_catalog(catalog_dirs)
    workload = build_workload_from(preset, workload_file, flags, catalog)
    report = recommend(workload, catalog, top=top, require_fit=require_fit)
    emit_text(report, fmt)
    return ExitCode.OK if report.stacks else ExitCode.NO_FIT


def fit_rows(catalog: Any, chip: str, chips: int, context: int) -> list[dict[str, Any]]:
    """What ``chips`` × ``chip`` can serve (search.fits), as JSON-ready rows; an unknown chip is
    bad input, named with its flag."""
    import dataclasses

    from infra_advisor.search.fits import what_fits
    from infra_advisor.workload import canonical_id

    found = canonical_id("chip", chip, catalog, "--fits: ")
    assert found is not None  # None only for --vendor/--cloud any
    return [dataclasses.asdict(f) | {"chip": found, "chips": chips}
            for f in what_fits(catalog, found, chips, context)]  # fmt: skip


def model_rows(catalog: Any) -> list[dict[str, Any]]:
    """Every model of the catalog as JSON-ready data, with the counts its architecture implies."""
    from infra_advisor.checks import to_data
    from infra_advisor.model_params import count_params

    rows = []
    for model in catalog.models.values():
        row: dict[str, Any] = to_data(model)
        computed: dict[str, float] = {}
        if model.kind == "transformer":
            counted = count_params(model)
            computed = {"params": counted.total, "active_params": counted.active}
        row["computed"] = computed
        rows.append(row)
    return rows
