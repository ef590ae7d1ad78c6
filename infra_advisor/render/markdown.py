"""GitHub-flavoured Markdown for CI job summaries and pull-request comments."""

from __future__ import annotations

from infra_advisor.report import Report
from infra_advisor.units import format_duration, format_money


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _t(value: float | None) -> str:
    return "—" if value is None else format_duration(value)


def render_markdown(report: Report, view: str = "ranking") -> str:
    w = report.workload
    lines = [
        f"### infra-advisor: {w.get('task')} {w.get('model_type')} (optimize {report.optimize})",
        "",
    ]
    if w.get("description"):
        lines += [f"_{_cell(str(w['description']))}_", ""]
    if not report.stacks:
        lines += ["**No stack satisfies this workload and its limits.**", ""]
    else:
        inference = w.get("task") == "inference"
        llm = inference and w.get("model_type") == "transformer"
        head = ["#", "stack", "chips"]
        head += (
            ["TTFT", "per token", "req/s"]
            if llm
            else ["latency", "req/s"]
            if inference
            else ["time"]
        )
        head += ["cost", "energy", "bottleneck", "Pareto"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append(
            "|"
            + "|".join(
                "---:"
                if h
                in ("#", "chips", "time", "cost", "energy", "TTFT", "per token", "req/s", "latency")
                else "---"
                for h in head
            )
            + "|"
        )
        for s in report.stacks:
            m = s.metrics
            row = [str(s.rank), f"`{s.id}`", str(m.chips)]
            rps = "—" if m.requests_per_s is None else f"{m.requests_per_s:.3g}"
            if llm:
                row += [_t(m.ttft_s), _t(m.tpot_s), rps]
            elif inference:
                row += [_t(m.latency_s), rps]
            else:
                row += [_t(m.time_s)]
            row += [
                "no public price" if m.cost_usd is None else format_money(m.cost_usd),
                "—" if m.energy_kwh is None else f"{m.energy_kwh:.3g} kWh",
                s.bottleneck.kind.replace("_", " "),
                "★" if s.pareto else "",
            ]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        lines.append("")
        for s in report.stacks:
            lines.append(
                f"- **{s.rank}. `{s.id}`** — {_cell(s.bottleneck.explanation)}. "
                f"*Relief:* {_cell(s.bottleneck.relief)}"
            )
        lines.append("")
    if report.rejected:
        lines += [f"<details><summary>Rejected ({len(report.rejected)})</summary>", ""]
        lines += [f"- `{r.id}`: {_cell('; '.join(r.reasons))}" for r in report.rejected]
        lines += ["", "</details>", ""]
    if report.assumptions:
        lines += ["<details><summary>Assumptions</summary>", ""]
        lines += [f"- {_cell(a)}" for a in report.assumptions]
        lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"
