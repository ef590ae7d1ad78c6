"""The Report: everything the engine found, and the JSON output.

Renderers draw from it and nothing else.  ``schema_version`` bumps on any
breaking change to these models.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

BottleneckKind = Literal[
    "compute", "memory_bandwidth", "memory_capacity", "network", "storage", "power", "host"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChipCount(_Model):
    id: str
    count: int


class Components(_Model):
    chip: ChipCount
    scale_up: str | None = Field(description="scale-up interconnect id; null on one chip")
    scale_out: str | None = Field(description="scale-out interconnect id; null within one domain")
    storage: str | None
    framework: str
    offload: str | None = Field(None, description="DPU used as an offload, where one is")


class Metrics(_Model):
    chips: int
    time_s: float | None = Field(description="the whole job (training) or the serving window")
    step_time_s: float | None = Field(description="one training step, or one decode step")
    chip_hours: float | None
    tokens_per_s: float | None
    ttft_s: float | None = Field(description="time to first token (transformer inference)")
    tpot_s: float | None = Field(description="time per output token (transformer inference)")
    latency_s: float | None = Field(None, description="end-to-end latency of one request or sample")
    samples_per_s: float | None
    requests_per_s: float | None = Field(None, description="requests per second sustained")
    memory_per_chip_bytes: float
    memory_capacity_per_chip_bytes: float
    power_w: float
    energy_kwh: float | None
    cost_usd: float | None = Field(description="null where a component has no public price")
    cost_per_million_tokens_usd: float | None = None
    mfu: float | None = Field(None, description="model FLOPs utilisation (useful FLOPs / peak)")
    battery_hours: float | None = None


class Breakdown(_Model):
    """Seconds of one step (or one request) bound by each resource."""

    compute_s: float
    memory_s: float
    network_s: float
    storage_s: float
    host_s: float
    bubble_s: float = 0.0
    overlap_s: float = Field(
        0.0, description="seconds of communication or I/O hidden under compute"
    )


class Term(_Model):
    """One line of the working: a formula, its inputs and its result."""

    name: str
    formula: str
    inputs: dict[str, Any]
    value: float
    unit: str
    source: str = ""


class Relief(_Model):
    change: str = Field(description="what to change, e.g. 'scale_out: ib-hdr -> ib-ndr'")
    component: str
    before: str | None
    after: str
    metric: str
    before_value: float
    after_value: float
    improvement: float = Field(description="fractional reduction of the metric (0.18 = 18% less)")


class Bottleneck(_Model):
    kind: BottleneckKind
    explanation: str
    relief: str
    relief_detail: Relief | None = None


class Range(_Model):
    low: float
    high: float


class Stack(_Model):
    rank: int
    id: str
    components: Components
    score: float = Field(description="1 = best under --optimize; higher is better")
    metrics: Metrics
    breakdown: Breakdown
    bottleneck: Bottleneck
    layout: dict[str, Any] = Field(default_factory=dict, description="parallel layout chosen")
    terms: list[Term] = Field(default_factory=list)
    ranges: dict[str, Range] = Field(
        default_factory=dict, description="optimistic-pessimistic range of key metrics"
    )
    notes: list[str] = Field(default_factory=list)
    pareto: bool = False
    fits: bool = Field(
        True, description="meets every soft target (rate, latency); hard ones always"
    )


class Rejection(_Model):
    id: str
    reasons: list[str]


class CatalogInfo(_Model):
    files: list[str]
    counts: dict[str, int]


class Report(_Model):
    schema_version: int = SCHEMA_VERSION
    workload: dict[str, Any]
    catalog: CatalogInfo
    optimize: str
    stacks: list[Stack]
    rejected: list[Rejection]
    assumptions: list[str]
    evaluated: int = Field(0, description="stack candidates evaluated")
