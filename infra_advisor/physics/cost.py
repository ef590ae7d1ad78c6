"""StepCost: the seconds of one step (or one request), phase by phase and resource by resource.

A phase (prefill, decode GEMMs, decode attention, an all-reduce …) needs some seconds of each
resource.  Which resources overlap is data on the phase: the ones named in ``overlapped`` run at
the same time, so the phase takes the longest of them (the roofline); every other resource adds.
Phases run one after another, each ``repeat`` times.  Attribution, breakdown bars and the
reported times are all read from the same StepCost, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import field

from infra_advisor.checks import FrozenRecord, record

RESOURCES = ("compute", "memory", "network", "host", "storage")
ROOFLINE = ("compute", "memory")


@record(frozen=True, kw_only=False, hashable=True)
class PhaseCost(FrozenRecord):
    """Seconds of each resource one occurrence of a phase needs, and which of them overlap."""

    name: str
    compute_s: float = 0.0
    memory_s: float = 0.0
    network_s: float = 0.0
    host_s: float = 0.0
    storage_s: float = 0.0
    overlapped: tuple[str, ...] = ROOFLINE
    repeat: float = 1.0

    def resource_s(self, resource: str) -> float:
        """Seconds of one resource over every occurrence."""
        value: float = getattr(self, f"{resource}_s")
        return value * self.repeat

    seconds: float = field(init=False, repr=False, compare=False)  # one occurrence
    total_s: float = field(init=False, repr=False, compare=False)  # every occurrence

    def __post_init__(self) -> None:
        # Wall time of one occurrence: the longest overlapped resource plus the others (worked
        # out once: the planner reads it many times).
        values = (self.compute_s, self.memory_s, self.network_s, self.host_s, self.storage_s)
        if self.overlapped == ROOFLINE:
            seconds = max(values[0], values[1]) + values[2] + values[3] + values[4]
        else:
            inside = [v for r, v in zip(RESOURCES, values, strict=True) if r in self.overlapped]
            rest = [v for r, v in zip(RESOURCES, values, strict=True) if r not in self.overlapped]
            seconds = max(inside, default=0.0) + sum(rest)
        object.__setattr__(self, "seconds", seconds)
        object.__setattr__(self, "total_s", seconds * self.repeat)

    def repeated(self, factor: float) -> PhaseCost:
        """The same phase, ``factor`` times as often."""
        return PhaseCost(
            self.name, self.compute_s, self.memory_s, self.network_s, self.host_s, self.storage_s,
            self.overlapped, self.repeat * factor,
        )  # fmt: skip

    @property
    def bound(self) -> str:
        """The resource this phase waits on most."""
        return max(RESOURCES, key=lambda r: (getattr(self, f"{r}_s"), -RESOURCES.index(r)))


@record(frozen=True, kw_only=False, hashable=True)
class StepCost(FrozenRecord):
    """A step or a request as its phases."""

    phases: tuple[PhaseCost, ...]
    total_s: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_s", sum(p.total_s for p in self.phases))

    def resource_s(self, resource: str) -> float:
        return sum(p.resource_s(resource) for p in self.phases)

    @property
    def overlap_s(self) -> float:
        """Seconds hidden by overlap: resource seconds summed, less the wall time."""
        return max(0.0, sum(self.resource_s(r) for r in RESOURCES) - self.total_s)

    def breakdown(self) -> dict[str, float]:
        """The report's breakdown: seconds per resource and the overlap; they sum to the total
        (compute + memory + network + storage + host - overlap = total)."""
        parts = {f"{r}_s": self.resource_s(r) for r in RESOURCES}
        parts["overlap_s"] = self.overlap_s
        return parts

    def dominant(self) -> PhaseCost | None:
        """The phase that takes most of the time."""
        return max(self.phases, key=lambda p: p.total_s, default=None)

    def phase(self, name: str) -> PhaseCost | None:
        return next((p for p in self.phases if p.name == name), None)

    def scaled(self, name: str, factor: float) -> StepCost:
        """The same step with one phase repeated ``factor`` times as often."""
        return StepCost(tuple(p.repeated(factor) if p.name == name else p for p in self.phases))


def combine(*steps: StepCost) -> StepCost:
    """Phases of several steps, one after another."""
    return StepCost(tuple(p for s in steps for p in s.phases))
