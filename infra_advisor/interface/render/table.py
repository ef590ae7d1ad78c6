"""Human output with rich: ranked table, breakdown bars, explain and compare views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra_advisor.checks import to_data
from infra_advisor.interface.render.values import (
    format_cell,
    format_quantity,
    format_value,
    hardware_text,
    label_of,
    ranking_metrics,
)
from infra_advisor.report import Report, Stack
from infra_advisor.units import format_count

PARTS = (
    ("compute_s", "green"),
    ("memory_s", "yellow"),
    ("network_s", "magenta"),
    ("storage_s", "cyan"),
    ("host_s", "blue"),
)

COMPARED = (
    "chips",
    "time_s",
    "step_time_s",
    "ttft_s",
    "tpot_s",
    "tokens_per_s",
    "requests_per_s",
    "served_fraction",
    "mfu",
    "memory_per_chip_bytes",
    "power_w",
    "energy_kwh",
    "cost_usd",
)


def make_console(**kwargs: Any) -> Console:
    return Console(highlight=False, **kwargs)


def _num(value: float | None, fmt: str = "{:.3g}") -> str:
    return "—" if value is None else fmt.format(value)


def breakdown_bar(stack: Stack, width: int = 30) -> Text:
    b = to_data(stack.breakdown)
    total = sum(b[k] for k, _ in PARTS) or 1.0
    text = Text()
    for key, colour in PARTS:
        cells = round(width * b[key] / total)
        if cells:
            text.append("█" * cells, style=colour)
    text.append("  ")
    shares = [
        f"{label_of(key)} {b[key] / total:.0%}" for key, _ in PARTS if b[key] / total >= 0.005
    ]
    text.append(" · ".join(shares), style="dim")
    return text


def _summary(report: Report) -> str:
    w = report.workload
    parts = [str(w.get("task")), str(w.get("model_type"))]
    if w.get("params"):
        parts.append(f"{format_count(float(w['params']))} params")  # "3.5M", "70.6B"
    if w.get("rate"):
        parts.append(f"{w['rate']:g} req/s")
    parts.append(f"optimize {report.optimize}")
    return ", ".join(parts)


def render_report(report: Report, console: Console, view: str = "ranking") -> None:
    if view in ("explain", "compare"):  # the workload the stacks were evaluated for, as recommend
        _render_header(report, console)
    if view == "explain":
        for stack in report.stacks:
            render_explain(stack, console)
    elif view == "compare":
        render_compare(report, console)
    else:
        render_ranking(report, console)
    _render_rejected(report, console, limit=10 if report.stacks else 50)
    if view == "ranking":
        _render_assumptions(report, console)


def _render_header(report: Report, console: Console) -> None:
    desc = report.workload.get("description") or ""
    console.print(Text(f"infra-advisor: {_summary(report)}", style="bold"))
    if desc:
        console.print(Text(desc, style="dim"))


def render_ranking(report: Report, console: Console) -> None:
    _render_header(report, console)
    if not report.stacks:
        console.print(Text("No stack satisfies this workload and its limits.", style="bold red"))
        return
    console.print(_ranking_table(report, narrow=console.width < NARROW))
    console.print(
        Text(
            "★ Pareto-optimal over time, cost and energy · `infra-advisor explain ID` shows the working",
            style="dim",
        )
    )
    for s in report.stacks:
        console.print()
        console.print(Text(f"{s.rank}. ", style="bold").append(s.id, style="bold cyan"))
        console.print(Text("   ").append(breakdown_bar(s)))
        console.print(
            Text(
                f"   bottleneck ({s.bottleneck.kind.replace('_', ' ')}): {s.bottleneck.explanation}"
            )
        )
        console.print(Text(f"   relief: {s.bottleneck.relief}", style="green"))
        for note in s.notes:
            console.print(Text(f"   note: {note}", style="dim"))


NARROW = 110  # below this many columns the table leaves out what the lines under it repeat


def _ranking_table(report: Report, narrow: bool = False) -> Table:
    """The ranking.  A narrow terminal drops the bottleneck column (each stack's lines below
    name it) and, where power is shown (edge questions), the energy and the price to buy; ids
    wrap, never cut."""
    shown = ranking_metrics(report.workload)
    if narrow and "power_w" in shown:
        shown = tuple(k for k in shown if k not in ("energy_kwh", "purchase_usd"))
    table = Table(show_lines=False, header_style="bold", expand=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("stack", overflow="fold")
    for key in shown:
        table.add_column(label_of(key), justify="right")
    if not narrow:
        table.add_column("bottleneck", overflow="fold")
    for s in report.stacks:
        mark = " ★" if s.pareto else ""
        c = s.components
        row = [f"{s.rank}{mark}", f"{hardware_text(c)}\n{c.framework}"]
        row += [format_cell(key, getattr(s.metrics, key, None)) for key in shown]
        if not narrow:
            row.append(s.bottleneck.kind.replace("_", " "))
        table.add_row(*row)
    return table


def _render_rejected(report: Report, console: Console, limit: int) -> None:
    if not report.rejected:
        return
    ruled_out = [r for r in report.rejected if not r.unsized]
    unsized = len(report.rejected) - len(ruled_out)
    console.print()
    console.print(Text(f"Rejected ({len(ruled_out)}):", style="bold"))
    for r in ruled_out[:limit]:
        console.print(Text(f"  {r.id}: {'; '.join(r.reasons)}"))
    if len(ruled_out) > limit:
        console.print(Text(f"  … {len(ruled_out) - limit} more (see --format json)", style="dim"))
    if unsized:
        console.print(
            Text(
                f"  {unsized} more units not sized: even at their floor they rank after the stacks "
                "above (see --format json)",
                style="dim",
            )
        )


def _render_assumptions(report: Report, console: Console) -> None:
    if not report.assumptions:
        return
    console.print()
    console.print(Text("Assumptions:", style="bold"))
    for a in report.assumptions:
        console.print(Text(f"  - {a}", style="dim"))


def render_explain(stack: Stack, console: Console) -> None:
    c = stack.components
    console.print(Text(f"Stack {stack.id}", style="bold"))
    console.print(
        f"  {hardware_text(c)}: chip {c.chip.id} × {c.chip.count}; scale-up {c.scale_up or '—'}; scale-out "
        f"{c.scale_out or '—'}; storage {c.storage or '—'}; framework {c.framework}"
    )
    if stack.layout:
        console.print("  layout: " + ", ".join(f"{k} {v}" for k, v in stack.layout.items()))
    terms = Table(title="Working", header_style="bold", show_lines=False)
    terms.add_column("term")
    terms.add_column("formula", overflow="fold")
    terms.add_column("inputs", overflow="fold")
    terms.add_column("result", justify="right")
    terms.add_column("ref")
    for t in stack.terms:
        inputs = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.inputs.items()
        )
        terms.add_row(t.name, t.formula, inputs, format_quantity(t.value, t.unit), t.source)
    console.print(terms)
    console.print(_metrics_table(stack))
    console.print(Text("Time per step: ").append(breakdown_bar(stack)))
    console.print(
        Text(
            f"Bottleneck ({stack.bottleneck.kind.replace('_', ' ')}): {stack.bottleneck.explanation}"
        )
    )
    console.print(Text(f"Relief: {stack.bottleneck.relief}", style="green"))
    for note in stack.notes:
        console.print(Text(f"note: {note}", style="dim"))
    console.print()


def _metrics_table(stack: Stack) -> Table:
    table = Table(title="Metrics", header_style="bold")
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column("range (optimistic–pessimistic)", justify="right")
    for key, value in to_data(stack.metrics).items():
        if value is None:
            continue
        rng = stack.ranges.get(key)
        # "2.56k – 2.6k tokens/s": a unit the low end shares with the high end is said once
        span = (
            f"{format_value(key, rng.low, bare=True)} – {format_value(key, rng.high)}"
            if rng
            else ""
        )
        table.add_row(key, format_value(key, value), span)
    return table


def render_compare(report: Report, console: Console) -> None:
    if not report.stacks:
        return
    table = Table(title="Compare", header_style="bold")
    table.add_column("")
    for s in report.stacks:
        table.add_column(f"{s.rank}. {s.id}", overflow="fold")
    for key in COMPARED:
        values = [getattr(s.metrics, key, None) for s in report.stacks]
        if all(v is None for v in values):
            continue
        table.add_row(key, *[format_value(key, v) for v in values])
    table.add_row("bottleneck", *[s.bottleneck.kind for s in report.stacks])
    table.add_row("pareto", *["★" if s.pareto else "" for s in report.stacks])
    console.print(table)
    for s in report.stacks:
        console.print(Text(f"{s.rank}. ").append(breakdown_bar(s)))
        console.print(Text(f"   {s.bottleneck.explanation}"))
        console.print(Text(f"   relief: {s.bottleneck.relief}", style="green"))


def render_presets(items: list[dict[str, Any]], console: Console) -> None:
    table = Table(header_style="bold")
    table.add_column("preset")
    table.add_column("description", overflow="fold")
    for item in items:
        table.add_row(item["id"], item["description"])
    console.print(table)
    console.print(Text("Run one: infra-advisor recommend --preset NAME", style="dim"))


def _count(value: float | None) -> str:
    if value is None:
        return "—"
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:g}"


def _models_table(rows: list[dict[str, Any]], title: str) -> Table:
    """Named models: what they are, how big (published), their shape and context."""
    table = Table(title=title, header_style="bold underline", box=None, padding=(0, 1))
    for col in ("id", "kind", "params", "active", "layers", "hidden", "heads", "context"):
        table.add_column(col, justify="left" if col in ("id", "kind") else "right", no_wrap=True)
    for m in rows:
        heads = f"{m['heads']}/{m['kv_heads'] or m['heads']}" if m.get("heads") else "—"
        table.add_row(
            m["id"],
            m["kind"],
            _count(m.get("params")),
            _count(m.get("active_params")),
            _num(m.get("layers"), "{:d}"),
            _num(m.get("hidden"), "{:d}"),
            heads,
            _num(m.get("max_context"), "{:d}"),
        )
    return table


def render_fits(
    rows: list[dict[str, Any]], chip: str, chips: int, context: int, console: Console
) -> None:
    """What one box serves: each model at the heaviest precision that fits, or why none does."""
    box = f"{chips} × {chip}" if chips > 1 else chip
    fitting = sum(1 for r in rows if r["precision"])
    table = Table(title=f"{box}: {fitting} of {len(rows)} models fit at {context:,} tokens",
                  header_style="bold underline", box=None, padding=(0, 1))  # fmt: skip
    for col in ("model", "params", "fits at", "GB/chip", "tok/s", "TTFT", "framework"):
        table.add_column(col, justify="left" if col in ("model", "framework") else "right",
                         no_wrap=True)  # fmt: skip
    for r in rows:
        if r["precision"] is None:
            table.add_row(r["model"], _count(r["params"]), "no", "—", "", "", "")
            continue
        held, capacity = r["memory_per_chip_bytes"] / 1e9, r["capacity_per_chip_bytes"] / 1e9
        speed, ttft = r["decode_tokens_per_s"], r["ttft_s"]
        table.add_row(r["model"], _count(r["params"]), r["precision"], f"{held:.1f}/{capacity:.1f}",
                      f"{speed:,.0f}" if speed else "—", f"{ttft * 1e3:,.0f} ms" if ttft else "—",
                      r["framework"] or "—")  # fmt: skip
    console.print(table)
    console.print(Text("tok/s: decode at batch 1 · TTFT: a prompt of the context less its 256 "
                       "answer tokens · --json gives each stack id and, where none fits, why · "
                       "infra-advisor explain STACK --model ID --task inference shows the "
                       "working", style="dim"))  # fmt: skip


def render_models(rows: list[dict[str, Any]], console: Console) -> None:
    console.print(_models_table(rows, f"models ({len(rows)})"))
    console.print(
        Text(
            "Use one: infra-advisor recommend --model ID (or any alias) · "
            "`infra-advisor catalog show ID` shows its config, sources and notes",
            style="dim",
        )
    )


def render_catalog(catalog: Any, kinds: list[str], console: Console) -> None:
    for kind in kinds:
        entries = list(getattr(catalog, kind).values())
        if kind == "models":
            console.print(_models_table([to_data(e) for e in entries], f"models ({len(entries)})"))
            continue
        table = Table(title=f"{kind} ({len(entries)})", header_style="bold")
        columns, row = CATALOG_COLUMNS.get(kind, CATALOG_COLUMNS["frameworks"])
        for col in columns:
            table.add_column(col, justify="right" if col[0].isupper() else "left", overflow="fold")
        for e in entries:
            table.add_row(*row(e, catalog))
        console.print(table)


def _chip_row(e: Any, catalog: Any) -> list[str]:
    offered = sorted({o.provider for o in catalog.offerings.values() if o.chip == e.id})
    return [
        e.id, e.type, e.segment, f"{e.memory_gb:g} GB", f"{e.memory_bandwidth_gb_s:g}",
        _num(e.peak_tflops.bf16, "{:g}"), f"{e.tdp_w:g}", ", ".join(offered) or "—", e.status,
    ]  # fmt: skip


def _link_row(e: Any, catalog: Any) -> list[str]:
    return [
        e.id, e.scope, f"{e.bandwidth_gb_s:g}", f"{e.latency_us:g}", "yes" if e.rdma else "no",
        _num(e.max_domain_size, "{:d}"), ", ".join(e.providers) or "any", e.status,
    ]  # fmt: skip


def _storage_row(e: Any, catalog: Any) -> list[str]:
    return [
        e.id, e.type, _num(e.read_gb_s, "{:g}"), _num(e.read_gb_s_per_tib, "{:g}"),
        "yes" if e.gpudirect_storage else "no", _num(e.price_usd_per_gb_month, "{:g}"),
        ", ".join(e.providers) or "any", e.status,
    ]  # fmt: skip


def _offering_row(e: Any, catalog: Any) -> list[str]:
    price = e.price_of("on_demand")
    unit = price.unit_hour(e.chips_per_unit) if price is not None else None
    shapes = f" (slices {e.unit_chips[0]}–{e.unit_chips[-1]})" if e.unit_chips else ""
    return [
        e.id, e.provider, f"{e.chips_per_unit} × {e.chip}{shapes}", e.scale_out or "—",
        _num(unit, "{:.2f}"), _num(unit / e.chips_per_unit if unit else None, "{:.2f}"),
        _num(e.purchase_usd, "{:,.0f}"), e.status,
    ]  # fmt: skip


def _framework_row(e: Any, catalog: Any) -> list[str]:
    runs = ", ".join(f"{r.vendor or 'any'} {r.type} ({r.support})" for r in e.runs_on)
    return [e.id, runs, ", ".join(e.tasks), ", ".join(e.model_types), e.status]


Row = Callable[[Any, Any], list[str]]
CATALOG_COLUMNS: dict[str, tuple[tuple[str, ...], Row]] = {
    "chips": (
        (
            "id",
            "type",
            "segment",
            "memory",
            "BW GB/s",
            "bf16 TFLOPS",
            "TDP W",
            "offered by",
            "status",
        ),
        _chip_row,
    ),  # fmt: skip
    "interconnects": (
        ("id", "scope", "GB/s per dir", "latency µs", "RDMA", "domain", "providers", "status"),
        _link_row,
    ),
    "storage": (
        ("id", "type", "read GB/s", "per TiB", "GDS", "$/GB-month", "providers", "status"),
        _storage_row,
    ),
    "offerings": (
        (
            "id",
            "provider",
            "unit",
            "fabric",
            "$/unit-h",
            "$/chip-h",
            "purchase $",
            "status",
        ),
        _offering_row,
    ),  # fmt: skip
    "frameworks": (("id", "runs on", "tasks", "models", "status"), _framework_row),
}


def _item_text(item: Any) -> str:
    """One item of a listed field: a table (an offering's price, a power mode) as its set fields."""
    if isinstance(item, dict):
        return ", ".join(f"{k} {v}" for k, v in item.items() if v is not None)
    return str(item)


def render_entry(entry: Any, kind: str, console: Console) -> None:
    table = Table(title=f"{kind}: {entry.id}", header_style="bold", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key, value in to_data(entry).items():
        if value in (None, [], ""):
            continue
        if isinstance(value, float) and value.is_integer() and abs(value) >= 1e6:
            value = f"{value:,.0f}"  # 70,000,000,000 reads where 70000000000.0 does not
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if v is not None)
        elif isinstance(value, list):
            value = "\n".join(_item_text(v) for v in value)
        table.add_row(key, str(value))
    console.print(table)
