"""GitHub-flavoured Markdown for CI job summaries and pull-request comments."""

from __future__ import annotations

from infra_advisor.interface.render.values import (
    format_cell,
    hardware_text,
    label_of,
    ranking_metrics,
)
from infra_advisor.report import Report


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _ranking_table(report: Report) -> list[str]:
    shown = ("chips", *ranking_metrics(report.workload))
    head = ["#", "stack", *(label_of(key) for key in shown), "bottleneck", "Pareto"]
    align = ["---:", "---", *("---:" for _ in shown), "---", "---"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    for s in report.stacks:
        row = [str(s.rank), f"{hardware_text(s.components)}<br>`{s.id}`"]
        row += [format_cell(key, getattr(s.metrics, key, None)) for key in shown]
        row += [s.bottleneck.kind.replace("_", " "), "★" if s.pareto else ""]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return [*lines, ""]


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
        lines += _ranking_table(report)
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
