"""A sweep's frontier for people: a table, CSV, a terminal scatter and an SVG / HTML chart.

Numbers are formatted through the metric registry (render/values.py).  The terminal scatter is
a character grid drawn here; the SVG chart is drawn by pygal, imported only when a chart is
exported (about 30 ms), so no other command pays for it.
"""

from __future__ import annotations

import csv
import html
import io
import math
from typing import Any

from infra_advisor.interface.render.values import (
    format_cell,
    format_value,
    hardware_text,
    label_of,
)
from infra_advisor.report import SweepPoint, SweepReport

FRONT, OTHER = "★", "·"


def swept_fields(report: SweepReport) -> list[str]:
    return [axis.field for axis in report.sweep]


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def stack_text(point: SweepPoint, sep: str = " / ") -> str:
    if point.stack is None:
        return "no stack: " + "; ".join(point.reasons or ["nothing fits"])
    c = point.stack.components
    return f"{hardware_text(c)}{sep}{c.framework}"


# What else a sweep row shows, beside its two axes, per task (the ranking table shows more).
EXTRA = {
    "training": ("mfu", "energy_kwh"),
    "llm": ("tokens_per_s", "cost_per_million_tokens_usd"),
    "serving": ("requests_per_s", "cost_usd"),
}


def extra_metrics(report: SweepReport) -> tuple[str, ...]:
    w = report.workload
    kind = "training" if w.get("task") != "inference" else "serving"
    if kind == "serving" and w.get("model_type") == "transformer":
        kind = "llm"
    edge = ("power_w",) if w.get("power_budget") or w.get("battery") else ()
    battery = ("battery_hours",) if w.get("battery") else ()
    shown = (*EXTRA[kind], *edge, *battery)
    return tuple(m for m in shown if m not in (report.x_metric, report.y_metric))


def table_rows(
    report: SweepReport, wide: bool = True, sep: str = " / "
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the sweep table: the row number (★ on the front), swept values, the
    stack, both axes, what else the task reads and, when ``wide``, the bottleneck."""
    shown = extra_metrics(report)
    names = (report.x_metric, report.y_metric, *shown)
    header = ["#", *swept_fields(report), "stack", *[label_of(m) for m in names]]
    header += ["bottleneck"] if wide else []
    rows = []
    for i, p in enumerate(report.points, 1):
        row = [f"{i}{' ' + FRONT if p.front else ''}"]
        row += [_value_text(p.values[f]) for f in swept_fields(report)] + [stack_text(p, sep)]
        values = [
            p.x,
            p.y,
            *[getattr(p.stack.metrics, m, None) if p.stack else None for m in shown],
        ]
        row += [format_cell(m, v) if p.stack else "—" for m, v in zip(names, values, strict=True)]
        if wide:
            row.append(p.stack.bottleneck.kind.replace("_", " ") if p.stack else "—")
        rows.append(row)
    return header, rows


def to_csv(report: SweepReport) -> str:
    """One row per point and stack, SI values as the JSON has them (no formatting)."""
    names = ["chips", "time_s", "cost_usd", "energy_kwh", "power_w", "tokens_per_s", "ttft_s",
             "tpot_s", "requests_per_s", "latency_s", "mfu", "cost_per_million_tokens_usd"]  # fmt: skip
    names = [n for n in names if n not in swept_fields(report)]  # one column per name
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*swept_fields(report), "rank", "stack", "chip", "count", "framework",
                     report.x_metric, report.y_metric, "front", "bottleneck", *names])  # fmt: skip
    for p in report.points:
        s = p.stack
        row: list[Any] = [p.values[f] for f in swept_fields(report)]
        if s is None:
            row += ["", "", "", "", "", "", "", "false", "", *[""] * len(names)]
        else:
            c = s.components
            row += [s.rank, s.id, c.chip.id, c.chip.count, c.framework, _raw(p.x), _raw(p.y)]
            row += [str(p.front).lower(), s.bottleneck.kind]
            row += [_raw(getattr(s.metrics, n, None)) for n in names]
        writer.writerow(row)
    return out.getvalue()


def _raw(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def plotted(report: SweepReport) -> list[tuple[int, SweepPoint]]:
    """(table row number, point) for every point with both axis values."""
    return [(i, p) for i, p in enumerate(report.points, 1) if p.x is not None and p.y is not None]


def _log_axis(values: list[float]) -> bool:
    low, high = min(values), max(values)
    return low > 0 and high / low > 20


def _position(value: float, low: float, high: float, cells: int, log: bool) -> int:
    if log:
        value, low, high = math.log10(value), math.log10(low), math.log10(high)
    if high <= low:
        return cells // 2
    return round((value - low) / (high - low) * (cells - 1))


def scatter_lines(report: SweepReport, width: int = 64, height: int = 16) -> list[str]:
    """The points as a character grid: ★ on the front, · elsewhere; log axes where the values
    span more than 20×.  Empty when fewer than two points have both values."""
    pts = plotted(report)
    if len(pts) < 2:
        return []
    xs, ys = [p.x for _, p in pts], [p.y for _, p in pts]
    assert all(v is not None for v in xs + ys)
    xv, yv = [float(v) for v in xs if v is not None], [float(v) for v in ys if v is not None]
    xlog, ylog = _log_axis(xv), _log_axis(yv)
    grid = [[" "] * width for _ in range(height)]
    for (_, p), x, y in sorted(zip(pts, xv, yv, strict=True), key=lambda t: t[0][1].front):
        col = _position(x, min(xv), max(xv), width, xlog)
        row = height - 1 - _position(y, min(yv), max(yv), height, ylog)
        grid[row][col] = FRONT if p.front else OTHER
    top, bottom = format_value(report.y_metric, max(yv)), format_value(report.y_metric, min(yv))
    pad = max(len(top), len(bottom))
    lines = [f"{label_of(report.y_metric)}{' (log)' if ylog else ''}"]
    for r, cells in enumerate(grid):
        tick = top if r == 0 else bottom if r == height - 1 else ""
        lines.append(f"{tick:>{pad}} │{''.join(cells)}")
    lines.append(" " * pad + " └" + "─" * width)
    left, right = format_value(report.x_metric, min(xv)), format_value(report.x_metric, max(xv))
    lines.append(" " * (pad + 2) + left + " " * max(1, width - len(left) - len(right)) + right)
    x_label = f"{label_of(report.x_metric)}{' (log)' if xlog else ''}"
    lines.append(" " * (pad + 2) + x_label.center(width))
    better = _better_text(report)
    lines.append(f"{FRONT} on the front ({better})   {OTHER} other points")
    return lines


def _direction(name: str) -> str:
    from infra_advisor import metrics

    return "lower" if metrics.better_direction(name) == "lower" else "higher"


def _better_text(report: SweepReport) -> str:
    names = (report.x_metric, report.y_metric)
    return ", ".join(f"{_direction(n)} {label_of(n)} is better" for n in names)


def render_sweep(report: SweepReport, console: Any) -> None:
    """The table, then the scatter (rich console)."""
    from rich.table import Table
    from rich.text import Text

    header, rows = table_rows(report, wide=console.width >= 110, sep="\n")
    table = Table(header_style="bold")
    text_columns = (*swept_fields(report), "stack", "bottleneck")
    for name in header:
        numeric = name not in text_columns
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*row)
    swept = " × ".join(f"{a.field} ({len(a.values)})" for a in report.sweep)
    console.print(Text(f"infra-advisor sweep: {swept}, optimize {report.optimize}", style="bold"))
    console.print(table)
    lines = scatter_lines(report, width=max(30, min(72, console.width - 16)))
    if lines:
        console.print()
        for line in lines:
            console.print(Text(line))
    for note in report.assumptions:
        console.print(Text(f"  - {note}", style="dim"))


def _padded(values: list[float], log: bool) -> tuple[float, float]:
    """An axis range with a margin, so no point sits on the frame."""
    low, high = min(values), max(values)
    if log:
        return low / 1.25, high * 1.25
    margin = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    return max(0.0, low - margin) if low >= 0 else low - margin, high + margin


def to_svg(report: SweepReport) -> str:
    """A scatter chart (pygal): the front as a connected series and the other points apart,
    each labelled with its table row, swept values and stack (a tooltip in a browser).  The
    same sweep always gives the same bytes (pygal's random chart id and date are fixed)."""
    import re

    import pygal  # type: ignore[import-untyped]  # pygal ships no type hints

    pts = plotted(report)
    xs = [float(p.x) for _, p in pts if p.x is not None] or [0.0, 1.0]
    ys = [float(p.y) for _, p in pts if p.y is not None] or [0.0, 1.0]
    log = _log_axis(xs) and _log_axis(ys)  # pygal's XY chart takes one log switch for both
    x_better, y_better = (_direction(report.x_metric), _direction(report.y_metric))
    chart = pygal.XY(
        logarithmic=log,
        title=f"infra-advisor sweep: {' × '.join(swept_fields(report))}",
        x_title=f"{label_of(report.x_metric)} ({x_better} is better)",
        y_title=f"{label_of(report.y_metric)} ({y_better} is better)",
        xrange=_padded(xs, log),
        range=_padded(ys, log),
        js=[],  # no script from the network: the SVG stands alone
        dots_size=4,
        width=900,
        height=540,
        truncate_legend=-1,
    )
    front = sorted((p for p in pts if p[1].front), key=lambda t: t[1].x or 0.0)
    chart.add("Pareto front", [_dot(i, p, report) for i, p in front], stroke=True)
    chart.add("other points", [_dot(i, p, report) for i, p in pts if not p.front], stroke=False)
    svg: str = chart.render(is_unicode=True)
    svg = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "sweep", svg)
    return re.sub(r" on \d{4}-\d{2}-\d{2}-->", "-->", svg)


def _dot(row: int, p: SweepPoint, report: SweepReport) -> dict[str, Any]:
    return {"value": (float(p.x or 0.0), float(p.y or 0.0)), "label": _point_label(row, p, report)}


def _point_label(row: int, p: SweepPoint, report: SweepReport) -> str:
    values = ", ".join(f"{f}={_value_text(p.values[f])}" for f in swept_fields(report))
    return f"#{row} {values}: {stack_text(p)}"


def to_html(report: SweepReport) -> str:
    """A standalone page: the SVG chart inline, then the table."""
    header, rows = table_rows(report)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    svg = to_svg(report)
    svg = svg[svg.find("<svg") :]  # inline: drop the XML declaration
    title = html.escape(f"infra-advisor sweep: {' × '.join(swept_fields(report))}")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head>"
        f"<body><h1>{title}</h1>\n{svg}\n<table><tr>{head}</tr>{body}</table></body></html>\n"
    )
