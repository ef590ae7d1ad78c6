"""Numbers for people: every metric formatted from the unit the registry declares for it.

No rich here: the Markdown fast path imports this module too.
"""

from __future__ import annotations

from collections.abc import Callable

from infra_advisor import metrics
from infra_advisor.report import Components
from infra_advisor.units import (
    format_bytes,
    format_duration,
    format_energy,
    format_money,
    format_power,
    format_rate,
)

MISSING = "—"


def hardware_text(components: Components) -> str:
    """What a stack rents or buys: '2 × p5.48xlarge (16 × H100 SXM)', or for a chip no
    offering prices, '16 × h100-sxm'."""
    if components.offering is not None and components.offering.label:
        return components.offering.label
    return f"{components.chip.count} × {components.chip.id}"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.3g}%"


def _plain(count: float) -> str:
    return f"{count:.0f}" if float(count).is_integer() else f"{count:.3g}"


def _rate(unit: str) -> Callable[[float], str]:
    return lambda value: format_rate(value, unit)


# One formatter for each unit of metrics.Unit (tests check that none is missing).
FORMATTERS: dict[str, Callable[[float], str]] = {
    "s": format_duration,
    "h": lambda hours: f"{hours:.3g} h",
    "bytes": format_bytes,
    "USD": format_money,
    "kWh": format_energy,
    "W": format_power,
    "tokens/s": _rate("tokens/s"),
    "requests/s": _rate("requests/s"),
    "samples/s": _rate("samples/s"),
    "fraction": _percent,
    "count": _plain,
    "chip-h": _rate("chip-h"),
}

# Units a table column's label already names, so a cell under it may leave them out.
_BARE: dict[str, Callable[[float], str]] = {
    "tokens/s": format_rate,
    "requests/s": format_rate,
    "samples/s": format_rate,
    "chip-h": format_rate,
}


def format_quantity(value: float, unit: str) -> str:
    """``value`` in ``unit``; a unit with no formatter (a Term's "steps") is printed after it."""
    formatter = FORMATTERS.get(unit)
    return formatter(value) if formatter else f"{value:.4g} {unit}".rstrip()


def format_value(name: str, value: float | None, *, bare: bool = False) -> str:
    """Metric ``name``'s ``value`` for people, by its registered unit ("83.3 tokens/s").

    ``bare`` leaves out a unit the column's label already names ("50" under "req/s"); units
    that scale (ms, GB, $k, MWh) are always shown.  ``None`` (does not apply) is a dash.
    Raises ``KeyError`` for a metric that is not registered.
    """
    unit = metrics.get(name).unit
    if value is None:
        return MISSING
    formatter = _BARE.get(unit) if bare else None
    return formatter(value) if formatter else format_quantity(value, unit)


def label_of(name: str) -> str:
    """The short header of metric ``name`` ("TTFT", "req/s")."""
    return metrics.get(name).label


def ranking_metrics(workload: dict[str, object]) -> tuple[str, ...]:
    """The metrics a ranking table shows for this workload, in column order."""
    inference = workload.get("task") == "inference"
    # A battery the user gave shows as hours; a power budget as watts (edge questions).
    edge = ("power_w",) if workload.get("power_budget") or workload.get("battery") else ()
    battery = ("battery_hours",) if workload.get("battery") else ()
    # Bought hardware: what the units cost up front, beside the cost of the job (its TCO share).
    bought = ("purchase_usd",) if workload.get("deploy") in ("onprem", "edge") else ()
    if inference and workload.get("model_type") == "transformer":
        # Serving: throughput, latency under load, and what a million tokens cost.
        return ("tokens_per_s", "ttft_s", "tpot_s", "cost_per_million_tokens_usd", *bought,
                "energy_kwh", *edge, *battery)  # fmt: skip
    if inference:
        return ("requests_per_s", "latency_s", "cost_usd", *bought, "energy_kwh", *edge, *battery)
    # Training: job time and cost, and how well the chips are used.
    return ("time_s", "cost_usd", *bought, "mfu", "energy_kwh", *edge, *battery)


def format_cell(name: str, value: float | None) -> str:
    """A ranking-table cell under ``label_of(name)``: a missing cost has no public price."""
    if value is None and name == "cost_usd":
        return "no public price"
    return format_value(name, value, bare=True)
