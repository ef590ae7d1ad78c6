"""`sweep`: one recommendation per point of one or two swept workload fields, and the front.

Each point is an ordinary workload (the base with the swept fields set) answered by
``engine.recommend``, so the sizing solver, ranking and relief are the ones every command uses;
this module only expands the sweep, collects the stacks and marks the Pareto front over the two
axes the task reads (training: time against cost; LLM serving: speed per user against
throughput per chip; other serving: latency against requests per chip).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any

from infra_advisor import metrics
from infra_advisor.catalog import Catalog
from infra_advisor.checks import to_data
from infra_advisor.errors import WorkloadError
from infra_advisor.report import Stack, SweepAxis, SweepPoint, SweepReport
from infra_advisor.search import scoring
from infra_advisor.search.engine import recommend
from infra_advisor.units import parse_count
from infra_advisor.workload import FIELDS, FLAG_FIELDS, Workload, build_workload

MAX_POINTS = 200  # a sweep past this is a batch job, not a question
MAX_AXES = 2
NOT_SWEPT = set(FLAG_FIELDS)  # flags, not values


@dataclass(frozen=True)
class Axes:
    """The two metrics a sweep's picture and front read, with their better directions."""

    x: str
    y: str

    @property
    def better(self) -> tuple[str, str]:
        return (str(metrics.better_direction(self.x)), str(metrics.better_direction(self.y)))


def parse_axis(spec: str) -> SweepAxis:
    """``FIELD=VALUES``: a comma list (``rate=1,10,100``, ``model=llama-3.1-8b,llama-3.1-70b``)
    or a geometric range of counts, doubling by default (``chips=8..512``; ``rate=1..1000x10``)."""
    name, eq, text = spec.partition("=")
    field = name.strip().lower().replace("-", "_")
    if not eq or not text.strip():
        raise WorkloadError(
            f"--sweep {spec!r}: expected FIELD=VALUES, e.g. chips=8..512 or rate=1,10,100"
        )
    if field not in FIELDS or field in NOT_SWEPT:
        close = difflib.get_close_matches(field, [f for f in FIELDS if f not in NOT_SWEPT], n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise WorkloadError(f"--sweep {spec!r}: {name.strip()!r} is not a workload field{hint}")
    text = text.strip()
    values = _range(spec, text) if ".." in text else [v.strip() for v in text.split(",")]
    if any(v == "" for v in values):
        raise WorkloadError(f"--sweep {spec!r}: an empty value in the list")
    return SweepAxis(field=field, values=values)


def _range(spec: str, text: str) -> list[Any]:
    """``LOW..HIGH`` or ``LOW..HIGHxFACTOR``: LOW, LOW·F, LOW·F², … up to HIGH (HIGH included)."""
    low_text, _, rest = text.partition("..")
    high_text, _, factor_text = rest.partition("x")
    low = parse_count(low_text.strip(), f"--sweep {spec}")
    high = parse_count(high_text.strip(), f"--sweep {spec}")
    factor = parse_count(factor_text.strip(), f"--sweep {spec}") if factor_text else 2.0
    if low <= 0 or high < low or factor <= 1:
        raise WorkloadError(
            f"--sweep {spec!r}: a range runs from a positive LOW up to HIGH by a factor over 1 "
            "(e.g. 8..512 or 1..1000x10)"
        )
    values: list[Any] = []
    value = low
    while value <= high * (1 + 1e-9) and len(values) <= MAX_POINTS:
        values.append(_number(value))
        value *= factor
    if values[-1] != _number(high) and len(values) <= MAX_POINTS:
        values.append(_number(high))
    return values


def _number(value: float) -> int | float:
    return int(round(value)) if abs(value - round(value)) < 1e-9 * max(1.0, value) else value


def axes_for(workload: Workload) -> Axes:
    """Training: time against cost.  LLM serving: speed per user against throughput per chip.
    Other serving: latency against requests per chip."""
    if workload.task != "inference":
        return Axes("time_s", "cost_usd")
    if workload.model_type == "transformer":
        return Axes("tokens_per_s_per_user", "tokens_per_s_per_chip")
    return Axes("latency_s", "requests_per_s_per_chip")


def axis_value(stack: Stack, name: str) -> float | None:
    """A frontier metric of one stack: a metric of the report, or one derived per chip / user."""
    m = stack.metrics
    chips = m.chips or stack.components.chip.count
    derived: dict[str, Callable[[], float | None]] = {
        "tokens_per_s_per_chip": lambda: m.tokens_per_s / chips if m.tokens_per_s else None,
        "tokens_per_s_per_user": lambda: 1.0 / m.tpot_s if m.tpot_s else None,
        "requests_per_s_per_chip": lambda: m.requests_per_s / chips if m.requests_per_s else None,
    }
    value = derived[name]() if name in derived else getattr(m, name, None)
    return float(value) if value is not None and math.isfinite(value) else None


def points_of(axes: list[SweepAxis]) -> list[dict[str, Any]]:
    """Every combination of the swept values, the first axis outermost."""
    if not axes or len(axes) > MAX_AXES:
        raise WorkloadError(f"--sweep: give one or two fields to sweep, got {len(axes)}")
    if len({a.field for a in axes}) < len(axes):
        raise WorkloadError(f"--sweep: {axes[0].field} is swept twice")
    names = [a.field for a in axes]
    grid = [dict(zip(names, combo, strict=True)) for combo in product(*[a.values for a in axes])]
    if len(grid) > MAX_POINTS:
        raise WorkloadError(
            f"--sweep: {len(grid)} points; at most {MAX_POINTS} (fewer values, or a coarser range)"
        )
    return grid


def _planning_reasons(workload: Workload, catalog: Catalog, rejected: list[Any]) -> list[str]:
    """Why no stack fits this point: the reasons of chips that passed the chip rules (the
    deadline, budget or memory at this point), not of parts that never apply (a DPU, an edge
    board); those only when nothing else was rejected."""
    from infra_advisor.job import build_job
    from infra_advisor.search import rules

    job = build_job(workload, catalog)

    def sized(rej: Any) -> bool:  # a chip, or an offering of one, that the planner sized
        off = catalog.offerings.get(rej.id)
        chip = catalog.chips.get(off.chip if off is not None else rej.id)
        if chip is None or rules.chip_rejections(job, chip):
            return False
        return off is not None or bool(rules.offerings_for(job, catalog, chip)[0])

    planned = [rej for rej in rejected if sized(rej)]
    chosen = planned or rejected
    return [f"{rej.id}: {'; '.join(rej.reasons)}" for rej in chosen[:2]]


def sweep(
    base: Mapping[str, Any],
    axes: list[SweepAxis],
    catalog: Catalog,
    top: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Recommend at every point (the base values with the swept fields set); every point's
    workload is validated before any is answered, so bad input fails fast."""
    grid = points_of(axes)
    before = build_workload(dict(base), "", catalog)
    workloads = [build_workload({**base, **point}, "", catalog) for point in grid]
    chosen = axes_for(workloads[0])
    points: list[SweepPoint] = []
    assumptions: list[str] = []
    first: Any = None
    for i, (point, workload) in enumerate(zip(grid, workloads, strict=True)):
        report = recommend(workload, catalog, top=top)
        first = first or report
        assumptions += [a for a in report.assumptions if a not in assumptions]
        if not report.stacks:
            why = _planning_reasons(workload, catalog, report.rejected)
            points.append(SweepPoint(values=point, stack=None, x=None, y=None, reasons=why))
        for stack in report.stacks:
            x, y = axis_value(stack, chosen.x), axis_value(stack, chosen.y)
            points.append(SweepPoint(values=point, stack=stack, x=x, y=y))
        if progress is not None:
            progress(i + 1, len(grid))
    pairs = [(p.x, p.y) if p.x is not None and p.y is not None else None for p in points]
    for p, on in zip(points, scoring.front_flags(pairs, chosen.better), strict=True):
        p.front = on
    return SweepReport(
        workload=to_data(before),
        catalog=first.catalog,
        optimize=workloads[0].optimize,
        sweep=axes,
        x_metric=chosen.x,
        y_metric=chosen.y,
        points=points,
        assumptions=assumptions,
    )
