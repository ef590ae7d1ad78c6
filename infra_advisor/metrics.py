"""The metric registry: the unit, header and better direction of every metric, declared once.

Every field of ``report.Metrics`` and ``report.Breakdown`` (and the serving metrics the
engine is about to add) has one :class:`Metric` here.  Renderers format values from the
declared ``unit``, sorting and scoring read ``better``; nobody guesses a unit from a name's
suffix (docs/methodology.md, "The engine: one owner for each decision").  Floor 1: this module imports nothing from the
project and holds data only; formatting lives in ``render/values.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal[
    "s",
    "h",
    "bytes",
    "USD",
    "kWh",
    "W",
    "tokens/s",
    "requests/s",
    "samples/s",
    "fraction",
    "count",
    "chip-h",
]
Better = Literal["lower", "higher"] | None


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric: its JSON key, a short human header, its SI unit and which way is better."""

    name: str
    label: str
    unit: Unit
    better: Better
    description: str


_DECLARED = (
    # report.Metrics
    Metric("chips", "chips", "count", "lower", "chips in the stack"),
    Metric("time_s", "time", "s", "lower", "the whole job (training) or the serving window"),
    Metric("step_time_s", "step", "s", "lower", "one training step, or one decode step"),
    Metric("setup_s", "set-up", "s", "lower", "training's set-up before the first step"),
    Metric("epoch_time_s", "epoch", "s", "lower", "one epoch's training steps"),
    Metric("chip_hours", "chip-hours", "chip-h", "lower", "chips × hours of the job"),
    Metric("tokens_per_s", "tokens/s", "tokens/s", "higher", "tokens processed per second"),
    Metric("ttft_s", "TTFT", "s", "lower", "time to first token (transformer inference)"),
    Metric("tpot_s", "per token", "s", "lower", "time per output token (transformer inference)"),
    Metric("latency_s", "latency", "s", "lower", "end-to-end latency of one request or sample"),
    Metric("samples_per_s", "samples/s", "samples/s", "higher", "samples processed per second"),
    Metric("requests_per_s", "req/s", "requests/s", "higher", "requests per second sustained"),
    Metric("memory_per_chip_bytes", "memory/chip", "bytes", "lower", "memory used on each chip"),
    Metric(
        "memory_capacity_per_chip_bytes",
        "capacity/chip",
        "bytes",
        None,
        "memory each chip holds",
    ),
    Metric("power_w", "power", "W", "lower", "power drawn by the stack, server overhead included"),
    Metric("energy_kwh", "energy", "kWh", "lower", "energy of the whole job or serving window"),
    Metric("cost_usd", "cost", "USD", "lower", "cost of the job or window; null with no price"),
    Metric(
        "cost_per_million_tokens_usd",
        "$/M tokens",
        "USD",
        "lower",
        "serving cost per million tokens",
    ),
    Metric(
        "purchase_usd",
        "to buy",
        "USD",
        "lower",
        "the price of the units bought (on-prem, devices); null when rented",
    ),
    Metric("mfu", "MFU", "fraction", "higher", "model FLOPs utilisation (useful FLOPs / peak)"),
    Metric("battery_hours", "battery", "h", "higher", "hours the battery lasts at this power"),
    # report.Breakdown: seconds of one step (or one request) bound by each resource
    Metric("compute_s", "compute", "s", "lower", "seconds bound by compute"),
    Metric("memory_s", "memory", "s", "lower", "seconds bound by memory bandwidth"),
    Metric("network_s", "network", "s", "lower", "seconds bound by the network"),
    Metric("storage_s", "storage", "s", "lower", "seconds bound by storage"),
    Metric("host_s", "host", "s", "lower", "seconds bound by the host (CPU, PCIe)"),
    Metric("bubble_s", "bubble", "s", "lower", "pipeline-bubble seconds"),
    Metric("overlap_s", "overlap", "s", None, "communication or I/O hidden under compute"),
    # serving metrics the engine is adding
    Metric(
        "cost_per_thousand_requests_usd",
        "$/k requests",
        "USD",
        "lower",
        "serving cost per thousand requests",
    ),
    Metric(
        "cost_per_million_samples_usd",
        "$/M samples",
        "USD",
        "lower",
        "serving cost per million samples",
    ),
    Metric(
        "energy_per_million_tokens_kwh",
        "kWh/M tokens",
        "kWh",
        "lower",
        "serving energy per million tokens",
    ),
    Metric(
        "energy_per_thousand_requests_kwh",
        "kWh/k requests",
        "kWh",
        "lower",
        "serving energy per thousand requests",
    ),
    Metric(
        "energy_per_million_samples_kwh",
        "kWh/M samples",
        "kWh",
        "lower",
        "serving energy per million samples",
    ),
    Metric("requests_asked_per_s", "asked req/s", "requests/s", None, "request rate asked for"),
    Metric("served_fraction", "served", "fraction", "higher", "share of the asked rate served"),
    # The axes of a sweep's frontier (derived from the metrics above, per point)
    Metric("tokens_per_s_per_chip", "tok/s/chip", "tokens/s", "higher", "throughput per chip"),
    Metric(
        "tokens_per_s_per_user",
        "tok/s/user",
        "tokens/s",
        "higher",
        "speed each user sees: 1 / time per output token",
    ),
    Metric(
        "requests_per_s_per_chip", "req/s/chip", "requests/s", "higher", "requests served per chip"
    ),
)

METRICS: dict[str, Metric] = {m.name: m for m in _DECLARED}


def get(name: str) -> Metric:
    """The registered metric called ``name``; a ``KeyError`` naming it if there is none."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(
            f"metric {name!r} is not registered; declare it in infra_advisor/metrics.py"
        ) from None


def better_direction(name: str) -> Better:
    """Which way ``name`` improves: "lower", "higher", or None where neither is better."""
    return get(name).better
