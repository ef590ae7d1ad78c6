"""Objectives, scores and the Pareto front over (time, cost, energy).

A score is in (0, 1]: 1 for the best stack under the objective, best/value
for the others.  ``balanced`` is the geometric mean of the three ratios.
A stack with no public price counts as the dearest priced stack under
``balanced`` and ranks after every priced stack under ``cost``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from infra_advisor.evaluate import Outcome

Scored = Outcome


def _metric(oc: Scored, key: str) -> float | None:
    value = oc.metrics.get(key)
    return float(value) if isinstance(value, (int, float)) else None


def _triple(oc: Scored) -> tuple[float, float, float]:
    cost = _metric(oc, "cost_usd")
    energy = _metric(oc, "energy_kwh")
    return (
        oc.objective_time_s,
        cost if cost is not None else math.inf,
        energy if energy is not None else math.inf,
    )


def objective_value(oc: Scored, optimize: str) -> float:
    time_s, cost, energy = _triple(oc)
    penalty = 10.0 if oc.soft else 1.0  # stacks that miss a rate or latency target sink
    if optimize == "cost":
        return cost * penalty if not math.isinf(cost) else math.inf
    if optimize == "energy":
        return energy * penalty
    if optimize == "time":
        return time_s * penalty
    finite_cost = cost if not math.isinf(cost) else None
    parts = [time_s, energy] + ([finite_cost] if finite_cost is not None else [])
    return math.exp(sum(math.log(max(p, 1e-12)) for p in parts) / len(parts)) * penalty


def score(outcomes: Sequence[Scored], optimize: str) -> list[float]:
    if not outcomes:
        return []
    triples = [_triple(o) for o in outcomes]
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
            cost_ratio = ratio(c, best[1])
            if cost_ratio is None:
                # No public price: count it as the dearest priced stack, so a missing
                # price never ranks a stack above priced ones on cost.
                cost_ratio = worst_cost_ratio
            parts = [r for r in (ratio(t, best[0]), cost_ratio, ratio(e, best[2])) if r is not None]
            s = math.exp(sum(math.log(max(p, 1e-12)) for p in parts) / len(parts)) if parts else 0.0
        scores.append(s * penalty)
    return scores


def pareto_flags(outcomes: Sequence[Scored]) -> list[bool]:
    """True where no other stack is at least as good on time, cost and energy and better on one."""
    triples = [_triple(o) for o in outcomes]
    flags = []
    for i, a in enumerate(triples):
        dominated = any(
            all(b[k] <= a[k] for k in range(3)) and any(b[k] < a[k] for k in range(3))
            for j, b in enumerate(triples)
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
