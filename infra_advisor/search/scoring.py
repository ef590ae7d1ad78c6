"""Objectives, scores and the Pareto front over (time, cost, energy).

Objectives are per served unit: serving compares request latency under load and cost and
energy per token (request, sample) served; training compares job time, cost and energy.
Stacks that meet the rate and targets rank first, then those that miss a latency target, then
those short of the rate, by their shortfall.  A score is in (0, 1]: 1 for the best stack under
the objective, best/value for the others.  ``balanced`` is the geometric mean of the three
ratios.
A stack with no public price counts as the dearest priced stack under
``balanced`` and ranks after every priced stack under ``cost``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from infra_advisor.plan.evaluate import Outcome

Scored = Outcome


def _metric(oc: Scored, key: str) -> float | None:
    value = oc.metrics.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def _served(oc: Scored) -> float | None:
    """Units a serving stack delivers per second: output tokens for a transformer, else
    requests or samples; None for a training job."""
    return (
        _metric(oc, "tokens_per_s")
        if _metric(oc, "ttft_s") is not None
        else (_metric(oc, "requests_per_s"))
    )


def objectives(oc: Scored) -> tuple[float, float, float]:
    """(time, cost, energy) the ranking compares.  Serving: request latency under load, and cost
    and energy per unit served (a stack idling at a fraction of the rate pays for its idle
    hours); training: job time, job cost, job energy."""
    cost = _metric(oc, "cost_usd")
    energy = _metric(oc, "energy_kwh")
    served = _served(oc)
    window = _metric(oc, "time_s")
    if served is not None and window:
        units = served * window
        cost = cost / units if cost is not None and units > 0 else None
        energy = energy / units if energy is not None and units > 0 else None
    return (
        oc.objective_time_s,
        cost if cost is not None else math.inf,
        energy if energy is not None else math.inf,
    )


def served_fraction(oc: Scored, rate: float | None) -> float:
    """Share of the asked rate the stack sustains (1 when no rate was asked)."""
    served = _metric(oc, "requests_per_s")
    if not rate or served is None:
        return 1.0
    return min(1.0, served / rate)


def tier(oc: Scored, rate: float | None) -> int:
    """0 meets the rate and every target; 1 meets the rate but misses a latency target; 2 falls
    short of the rate (ranked by how short)."""
    if served_fraction(oc, rate) < 0.999:
        return 2
    return 1 if oc.soft else 0


def objective_value(oc: Scored, optimize: str) -> float:
    return objective_of(objectives(oc), optimize)


def objective_of(triple: tuple[float, float, float], optimize: str) -> float:
    """The objective of a (time, cost, energy) triple (objective_value of a stack's)."""
    time_s, cost, energy = triple
    if optimize == "cost":
        return cost
    if optimize == "energy":
        return energy
    if optimize == "time":
        return time_s
    parts = [time_s, energy] + ([cost] if not math.isinf(cost) else [])
    return math.exp(sum(math.log(max(p, 1e-300)) for p in parts) / len(parts))


AXES = {"time": (0,), "cost": (1,), "energy": (2,)}


class Standing:
    """The stacks a search has found so far, as far as a floor is compared with them: the
    ``keep`` best objectives among those meeting every target, and each objective's least value.

    A stack whose (time, cost, energy) per unit served are no better than a floor can be left
    unsized when ``keep`` stacks found already meet every target and beat the floor's objective
    (it would rank after them, and dominate none of them), and each objective the scores are
    normalised by already has a value at or below the floor's (no score moves)."""

    def __init__(self, optimize: str, rate: float | None, keep: int) -> None:
        self.optimize, self.rate, self.keep = optimize, rate, keep
        self.best: list[float] = []
        self.least = [math.inf, math.inf, math.inf]
        self.unpriced = False

    def add(self, oc: Scored) -> None:
        triple = objectives(oc)
        self.least = [min(a, b) for a, b in zip(self.least, triple, strict=True)]
        self.unpriced = self.unpriced or math.isinf(triple[1])
        if tier(oc, self.rate) == 0:
            bisect.insort(self.best, objective_of(triple, self.optimize))
            del self.best[self.keep :]

    def outranks(self, floor: tuple[float, float, float]) -> bool:
        if self.optimize not in AXES and self.unpriced:
            return False  # an unpriced stack's balanced score leans on the dearest priced one
        if len(self.best) < self.keep:
            return False
        if self.best[-1] >= objective_of(floor, self.optimize) * (1 - 1e-9):
            return False
        axes = AXES.get(self.optimize, (0, 1, 2))
        return all(self.least[i] <= floor[i] for i in axes)


def _sig(value: float) -> float:
    """A value to 9 significant digits: equal estimates compare equal whatever their size."""
    return float(f"{value:.9g}")


def rank_key(oc: Scored, optimize: str, rate: float | None) -> tuple[int, float, float]:
    """Sort key of one stack on its own (lower is better): tier, shortfall, objective."""
    t = tier(oc, rate)
    shortfall = -_sig(served_fraction(oc, rate)) if t == 2 else 0.0
    return t, shortfall, _sig(objective_value(oc, optimize))


def score(outcomes: Sequence[Scored], optimize: str) -> list[float]:
    """Score in (0, 1]: best/value for the objective (the geometric mean of the three ratios
    for balanced); a stack missing a target is scaled by 0.1."""
    if not outcomes:
        return []
    triples = [objectives(o) for o in outcomes]
    best = [min(t[i] for t in triples) for i in range(3)]

    def ratio(value: float, best_value: float) -> float | None:
        if math.isinf(value) or value <= 0:
            return None if math.isinf(value) else 1.0
        return best_value / value

    priced = [best[1] / t[1] for t in triples if not math.isinf(t[1]) and t[1] > 0]
    worst_cost_ratio = min(priced) if priced else None
    scores = []
    for oc, (t, c, e) in zip(outcomes, triples, strict=False):
        penalty = 0.1 if oc.soft else 1.0
        if optimize == "time":
            s = ratio(t, best[0]) or 0.0
        elif optimize == "cost":
            s = ratio(c, best[1]) or 0.0
        elif optimize == "energy":
            s = ratio(e, best[2]) or 0.0
        else:
            # No public price: count it as the dearest priced stack, so a missing price never
            # ranks a stack above priced ones on cost.
            cost_ratio = ratio(c, best[1])
            cost_ratio = worst_cost_ratio if cost_ratio is None else cost_ratio
            parts = [r for r in (ratio(t, best[0]), cost_ratio, ratio(e, best[2])) if r is not None]
            s = math.exp(sum(math.log(max(p, 1e-12)) for p in parts) / len(parts)) if parts else 0.0
        scores.append(s * penalty)
    return scores


def order(
    outcomes: Sequence[Scored], optimize: str, rate: float | None, ids: Sequence[str]
) -> list[int]:
    """Indices best first: tier, then shortfall, then score, then id (for determinism)."""
    scores = score(outcomes, optimize)
    return sorted(
        range(len(outcomes)),
        key=lambda i: (
            tier(outcomes[i], rate),
            -_sig(served_fraction(outcomes[i], rate)) if tier(outcomes[i], rate) == 2 else 0.0,
            -scores[i],
            ids[i],
        ),
    )


def pareto_flags(outcomes: Sequence[Scored], rate: float | None = None) -> list[bool]:
    """True where no other stack is at least as good on served share, time, cost and energy and
    better on one."""
    points = [(-served_fraction(o, rate), *objectives(o)) for o in outcomes]
    # A stack that dominates another comes before it in lexicographic order, and whatever a
    # dominated stack dominates, a stack of the front dominates too: so each stack is checked
    # against the front found so far, not against every other stack.
    flags = [False] * len(points)
    front: list[tuple[float, ...]] = []
    for i in sorted(range(len(points)), key=lambda k: points[k]):
        a = points[i]
        if not any(all(x <= y for x, y in zip(b, a, strict=True)) and b != a for b in front):
            flags[i] = True
            front.append(a)
    return flags


def front_flags(
    points: Sequence[tuple[float, float] | None], better: tuple[str, str]
) -> list[bool]:
    """True where no other point is at least as good on both axes and better on one; ``better``
    is each axis's direction from the metric registry ("lower" or "higher"); None is never on
    the front."""
    sign = tuple(1.0 if b == "lower" else -1.0 for b in better)
    keyed = [None if p is None else (p[0] * sign[0], p[1] * sign[1]) for p in points]
    flags = []
    for i, a in enumerate(keyed):
        if a is None:
            flags.append(False)
            continue
        dominated = any(
            b is not None and b[0] <= a[0] and b[1] <= a[1] and (b[0] < a[0] or b[1] < a[1])
            for j, b in enumerate(keyed)
            if j != i
        )
        flags.append(not dominated)
    return flags


def relief_metric(oc: Scored, optimize: str, metric: str | None = None) -> tuple[str, float | None]:
    """The metric a relief should improve, and its value on this stack."""
    if metric is None:
        if oc.soft and _metric(oc, "requests_per_s") is not None:
            metric = "requests_per_s"
        elif optimize == "cost" and _metric(oc, "cost_usd") is not None:
            metric = "cost_usd"
        elif optimize == "energy":
            metric = "energy_kwh"
        else:
            metric = "latency_s" if _metric(oc, "latency_s") is not None else "time_s"
    return metric, _metric(oc, metric)


def gain(metric: str, before: float, after: float) -> float:
    """Fractional improvement: less is better, except for throughput."""
    if metric == "requests_per_s":
        return after / before - 1.0 if before > 0 else 0.0
    return 1.0 - after / before if before > 0 else 0.0


RELIEF_MIN_GAIN = 0.02  # a change that helps less is no relief


def could_gain(metric: str, before: float, bound: float, best: float | None) -> bool:
    """Whether a change whose metric is at best ``bound`` could improve on ``before`` by more
    than a relief needs (RELIEF_MIN_GAIN), and be no worse than the best change found so far."""
    if gain(metric, before, bound) <= RELIEF_MIN_GAIN:
        return False
    return best is None or gain(metric, best, bound) >= 0.0


def promise(metric: str, bound: float | None) -> float:
    """Sort key: the change whose bound is best first (an unknown bound before all)."""
    if bound is None:
        return -math.inf
    return -bound if metric == "requests_per_s" else bound
