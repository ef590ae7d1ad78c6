"""The Report: everything the engine found, and the JSON output.

Renderers draw from it and nothing else.  ``schema_version`` bumps on any
breaking change to these models.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from infra_advisor.checks import Record, doc, record

SCHEMA_VERSION = 1

BottleneckKind = Literal[
    "compute", "memory_bandwidth", "memory_capacity", "network", "storage", "power", "host"
]


# Unknown keys are refused when a report is validated against its schema.
_FORBID: dict[str, Any] = {"extra": "forbid"}


@record()
class ChipCount(Record):
    """The chip and how many of it."""

    __pydantic_config__ = _FORBID

    id: str
    count: int


@record()
class OfferingUnits(Record):
    """The offering the chips are rented or bought in, and how many of its units."""

    __pydantic_config__ = _FORBID

    id: str
    units: int
    provider: str = doc("the cloud, GPU cloud or onprem", default="")
    label: str = doc("e.g. '4 × p5.48xlarge (32 × H100 SXM)'", default="")


@record()
class Components(Record):
    """What a stack is built from: chip, links, storage, framework (ids from the catalog)."""

    __pydantic_config__ = _FORBID

    chip: ChipCount
    offering: OfferingUnits | None = doc(
        "the rentable or bought unit; null for a chip no offering prices", default=None
    )
    scale_up: str | None = doc("scale-up interconnect id; null on one chip")
    scale_out: str | None = doc("scale-out interconnect id; null within one domain")
    storage: str | None
    framework: str
    offload: str | None = doc("DPU used as an offload, where one is", default=None)


@record()
class Metrics(Record):
    """The stack's estimates in SI units; null where a metric does not apply."""

    __pydantic_config__ = _FORBID

    chips: int
    time_s: float | None = doc("the whole job (training) or the serving window")
    step_time_s: float | None = doc("one training step, or one decode step")
    setup_s: float | None = doc(
        "training's set-up before the first step, inside time_s (graph models: the graph "
        "loaded into memory and the framework's set-up)",
        default=None,
    )
    epoch_time_s: float | None = doc(
        "one epoch's training steps, without set-up or evaluation (graph models)", default=None
    )
    chip_hours: float | None
    tokens_per_s: float | None
    ttft_s: float | None = doc("time to first token (transformer inference)")
    tpot_s: float | None = doc("time per output token (transformer inference)")
    latency_s: float | None = doc("end-to-end latency of one request or sample", default=None)
    samples_per_s: float | None
    requests_per_s: float | None = doc("requests per second sustained", default=None)
    memory_per_chip_bytes: float
    memory_capacity_per_chip_bytes: float
    power_w: float
    energy_kwh: float | None
    cost_usd: float | None = doc("null where a component has no public price")
    cost_per_million_tokens_usd: float | None = None
    purchase_usd: float | None = doc(
        "the price of the units bought (on-prem, devices); null when rented", default=None
    )
    mfu: float | None = doc("model FLOPs utilisation (useful FLOPs / peak)", default=None)
    battery_hours: float | None = None


@record()
class Breakdown(Record):
    """Seconds of one step (or one request) bound by each resource."""

    __pydantic_config__ = _FORBID

    compute_s: float
    memory_s: float
    network_s: float
    storage_s: float
    host_s: float
    bubble_s: float = 0.0
    overlap_s: float = doc("seconds of communication or I/O hidden under compute", default=0.0)


@record()
class Term(Record):
    """One line of the working: a formula, its inputs and its result."""

    __pydantic_config__ = _FORBID

    name: str
    formula: str
    inputs: dict[str, Any]
    value: float
    unit: str
    source: str = ""


@record()
class Relief(Record):
    """The single change that most improves the objective, with the metric before and after."""

    __pydantic_config__ = _FORBID

    change: str = doc("what to change, e.g. 'scale_out: ib-hdr -> ib-ndr'")
    component: str
    before: str | None
    after: str
    metric: str
    before_value: float
    after_value: float
    improvement: float = doc("fractional reduction of the metric (0.18 = 18% less)")
    stack: str | None = doc(
        "id of the changed stack: `explain` of it (with the changed workload field, if the change "
        "is one) reports after_value",
        default=None,
    )


@record()
class Bottleneck(Record):
    """What limits the stack, in words and numbers, and what would relieve it."""

    __pydantic_config__ = _FORBID

    kind: BottleneckKind
    explanation: str
    relief: str
    relief_detail: Relief | None = None


@record()
class Range(Record):
    """Optimistic and pessimistic values of a metric, from the efficiency ranges."""

    __pydantic_config__ = _FORBID

    low: float
    high: float


@record()
class Stack(Record):
    """One ranked stack: components, estimates, bottleneck and the working."""

    __pydantic_config__ = _FORBID

    rank: int
    id: str
    components: Components
    score: float = doc("1 = best under --optimize; higher is better")
    metrics: Metrics
    breakdown: Breakdown
    bottleneck: Bottleneck
    layout: dict[str, Any] = doc("parallel layout chosen", default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    ranges: dict[str, Range] = doc(
        "optimistic-pessimistic range of key metrics", default_factory=dict
    )
    notes: list[str] = field(default_factory=list)
    pareto: bool = False
    fits: bool = doc("meets every soft target (rate, latency); hard ones always", default=True)


# How a rejection of a unit the search left unsized begins (its floor ranks after the stacks
# found): renderers set these apart from the units no stack of which runs.
UNSIZED = "not sized: "


@record()
class Rejection(Record):
    """A chip that fits no stack, with the reasons in numbers."""

    __pydantic_config__ = _FORBID

    id: str
    reasons: list[str]

    @property
    def unsized(self) -> bool:
        """Left unsized by the search's floor, not ruled out."""
        return bool(self.reasons) and self.reasons[0].startswith(UNSIZED)


@record()
class CatalogInfo(Record):
    """The catalog files read and how many entries of each kind."""

    __pydantic_config__ = _FORBID

    files: list[str]
    counts: dict[str, int]


@record()
class Report(Record):
    """Everything `recommend`, `explain` and `compare` found: the JSON output."""

    __pydantic_config__ = _FORBID

    schema_version: int = SCHEMA_VERSION
    workload: dict[str, Any]
    catalog: CatalogInfo
    optimize: str
    stacks: list[Stack]
    rejected: list[Rejection]
    assumptions: list[str]
    evaluated: int = doc("stack candidates evaluated", default=0)


@record()
class SweepAxis(Record):
    """One swept workload field and the values it takes, as given."""

    __pydantic_config__ = _FORBID

    field: str
    values: list[Any]


@record()
class SweepPoint(Record):
    """One stack at one point of the sweep: where it sits on the two axes, and whether it is on
    the front (no other point as good on both axes and better on one)."""

    __pydantic_config__ = _FORBID

    values: dict[str, Any] = doc("the swept fields' values at this point, as given")
    stack: Stack | None = doc("the stack ranked `rank` for this point; null when none fits")
    x: float | None = doc("the point's value of the x metric")
    y: float | None = doc("the point's value of the y metric")
    front: bool = doc("on the Pareto front over every point of the sweep", default=False)
    reasons: list[str] = doc("why no stack fits, when none does", default_factory=list)


@record()
class SweepReport(Record):
    """What `sweep` found: one recommendation per point, and the front over them."""

    __pydantic_config__ = _FORBID

    schema_version: int = SCHEMA_VERSION
    workload: dict[str, Any] = doc("the workload before the sweep (normalised, SI units)")
    catalog: CatalogInfo
    optimize: str
    sweep: list[SweepAxis]
    x_metric: str = doc("metric on the x axis (a registry name)")
    y_metric: str = doc("metric on the y axis (a registry name)")
    points: list[SweepPoint]
    assumptions: list[str]
