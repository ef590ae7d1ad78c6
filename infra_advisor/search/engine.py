"""recommend(workload, catalog) -> Report.  No I/O; never prints.

Filter (rules) -> size (chip counts, layouts) -> estimate -> limits -> score
and rank -> bottleneck relief and ranges for the ranked stacks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from infra_advisor.catalog import Catalog
from infra_advisor.checks import Record, record, to_data
from infra_advisor.errors import WorkloadError
from infra_advisor.job import Job, build_job
from infra_advisor.models import Chip, Framework, Interconnect, Offering
from infra_advisor.plan import offer
from infra_advisor.plan.evaluate import (
    Outcome,
    Spec,
    host_of,
    serving_memory,
    stack_id,
    storage_candidates,
    weight_bytes_per_param,
)
from infra_advisor.report import (
    UNSIZED,
    Bottleneck,
    Breakdown,
    CatalogInfo,
    ChipCount,
    Components,
    Metrics,
    OfferingUnits,
    Range,
    Rejection,
    Relief,
    Report,
    Stack,
)
from infra_advisor.search import rules, scoring
from infra_advisor.units import format_duration, format_money
from infra_advisor.workload import ID_FIELDS, Workload, canonical_id

if TYPE_CHECKING:
    from infra_advisor.plan.serving import Floor

DEFAULT_TOP = 5
DEFAULT_HORIZON_S = {"train": 90 * 86400.0, "finetune": 7 * 86400.0}


RELIEF_STORAGE = 12  # storage swaps considered: the fastest readers


@record(kw_only=False)
class Context(Record):
    """One search: the job, the catalog, and how many stacks were evaluated."""

    job: Job
    catalog: Catalog
    evaluated: int = 0
    # The user's own workload, before a stack id pinned its parts (explain, compare): relief
    # changes what the user left open, whichever command asks.
    pins: Workload | None = None
    # Each distinct stack is evaluated once per search: the count ladder, the framework and link
    # choices and the relief search ask for some of the same stacks again.
    memo: dict[Spec, Outcome] = dataclasses.field(default_factory=dict, repr=False)
    # Searches for a changed workload or an efficiency scenario, shared by every ranked stack.
    subs: dict[Any, Context] = dataclasses.field(default_factory=dict, repr=False)
    # How many ranked stacks the search must get right (recommend's --top): a candidate whose
    # floor ranks after that many is left unsized.  None sizes every candidate.
    keep: int | None = None

    @property
    def user(self) -> Workload:
        return self.pins if self.pins is not None else self.job.workload

    def sub(self, key: Any, workload: Workload, scenario: str = "central") -> Context:
        """The search for another workload or scenario over the same catalog, built once."""
        if key not in self.subs:
            self.subs[key] = Context(build_job(workload, self.catalog, scenario), self.catalog)
        return self.subs[key]

    def evaluate_in(self, other: Context, spec: Spec) -> Outcome:
        """Evaluate in a sub-search, counting what it evaluated as this search's work."""
        before = other.evaluated
        outcome = evaluate(other, spec)
        self.evaluated += other.evaluated - before
        return outcome


# --------------------------------------------------------------------------- evaluation


def evaluate(ctx: Context, spec: Spec) -> Outcome:
    """Evaluate one fully specified stack (once per search; a repeat gets the same outcome)."""
    known = ctx.memo.get(spec)
    if known is not None:
        return known
    outcome = ctx.memo[spec] = _evaluate(ctx, spec)
    return outcome


def _evaluate(ctx: Context, spec: Spec) -> Outcome:
    ctx.evaluated += 1
    cat, job = ctx.catalog, ctx.job
    point = rules.operating_point(job, cat.chips[spec.chip])
    off = cat.offerings.get(spec.offering or "")
    chip = point.chip if off is None else offer.unit_chip(point.chip, off)
    fw = cat.frameworks[spec.framework]
    # Chips join over the scale-up link only inside a domain of more than one (three one-GPU
    # instances are three machines, not an NVLink group).
    joined = spec.count > 1 and chip.scale_up_domain_size > 1
    oc = Outcome(spec=spec, scale_up=chip.scale_up_interconnect if joined else None)
    if point.note:
        oc.notes.append(f"{chip.name} {point.note}")
    elif power_note := rules.check_power(job, chip):
        oc.notes.append(f"{chip.name} {power_note}: it must run in a capped power mode")
    factor, note = rules.bridge_note(fw, chip)
    if note:
        oc.notes.append(note)
        eff = dict(job.eff)
        for key in ("compute-training", "compute-inference", "compute-small"):
            eff[key] *= factor
        job = dataclasses.replace(job, eff=eff)
    needs_scale_out = spec.count > chip.scale_up_domain_size and needs_network(job, chip)
    if needs_scale_out and spec.scale_out is None:
        return oc.reject(
            f"{spec.count} chips exceed the scale-up domain of {chip.scale_up_domain_size}; "
            "no scale-out link serves this chip"
        )
    if off is not None and (cap := offer.chip_limit(off)) is not None and spec.count > cap:
        return oc.reject(f"{spec.count} chips exceed the {cap} one stack can take of {off.name}")
    if not needs_scale_out and spec.scale_out is not None:
        oc.spec = dataclasses.replace(spec, scale_out=None)
        spec = oc.spec
    if spec.scale_out:
        link = cat.interconnects[spec.scale_out]
        reason = rules.scale_out_rejection(link, chip) or _fabric_problem(job, cat, off, link)
        if reason:
            return oc.reject(reason)
        if rdma := rules.rdma_note(link):
            oc.notes.append(rdma)
    if (
        spec.count > 1
        and chip.scale_up_interconnect is None
        and not job.inference
        and not spec.scale_out
    ):
        return oc.reject(f"{chip.name} has no scale-up link to join {spec.count} chips")
    family_evaluator(job)(job, cat, chip, fw, spec, oc)
    if point.mode is not None:
        oc.layout["power_mode"] = point.mode.name
    if oc.ok:
        lowest = None if point.mode else rules.lowest_mode_w(chip)
        for reason in rules.outcome_rejections(job, oc):
            if lowest is not None and reason.startswith("draws "):
                reason += f" (its lowest power mode is {lowest:g} W)"
            oc.reject(reason)
    return oc


def _fabric_problem(job: Job, cat: Catalog, off: Offering | None, link: Interconnect) -> str | None:
    """A fabric the stack's unit does not have, or one of another provider."""
    if off is not None and link.id != off.scale_out:
        has = off.scale_out or "no fabric between units"
        return f"{off.name} comes with {has}, not {link.id}"
    provider = (
        None if off else offer.provider_of(cat, None, job.workload.cloud, job.workload.deploy)
    )
    if provider is not None and link.providers and provider not in link.providers:
        return f"{link.name} is offered by {', '.join(link.providers)}, not {provider}"
    return None


Evaluator = Callable[[Job, Catalog, Chip, Framework, Spec, Outcome], Outcome]


def family_evaluator(job: Job) -> Evaluator:
    """The evaluator of the job's family, imported when first needed (a run answers one family,
    so the others' modules stay out of its start-up)."""
    model_type = job.workload.model_type
    if model_type == "transformer" and job.inference:
        from infra_advisor.plan.serving_outcome import evaluate_serving

        return evaluate_serving
    if model_type == "transformer":
        from infra_advisor.plan.training_outcome import evaluate_training

        return evaluate_training
    if model_type == "gnn":
        from infra_advisor.plan.graph_outcome import evaluate_graph

        return evaluate_graph
    if model_type == "recsys":
        from infra_advisor.plan.embedding_outcome import evaluate_embedding

        return evaluate_embedding
    from infra_advisor.plan.dense_outcome import evaluate_dense

    return evaluate_dense


def needs_network(job: Job, chip: Chip | None = None) -> bool:
    """Whether chips beyond one scale-up domain must talk: training always; serving only when
    the model itself is split (a partitioned graph, sharded embedding tables, or a transformer
    whose weights outgrow one scale-up domain and run as pipeline stages across nodes)."""
    if not job.inference or job.workload.model_type in ("gnn", "recsys"):
        return True
    if job.workload.model_type != "transformer" or chip is None:
        return False
    weights = job.params * weight_bytes_per_param(job)
    return weights > serving_memory(job, chip) * chip.scale_up_domain_size


def scale_out_options(
    cat: Catalog, chip: Chip, pinned: str | None, provider: str | None = None
) -> list[str]:
    """Scale-out links for a bare chip (one no offering holds), fastest first, dominated ones
    dropped, of the provider asked for where there is one (memoised per catalog, provider and
    what rules.scale_out_rejection reads of the chip: vendor, type, segment)."""
    if pinned is not None:
        return [pinned]
    key = ("scale_out_options", chip.vendor, chip.type, chip.segment, provider)
    if key not in cat.memo:
        cat.memo[key] = _scale_out_options(cat, chip, provider)
    return list(cat.memo[key])


def _scale_out_options(cat: Catalog, chip: Chip, provider: str | None) -> list[str]:
    links = [
        i
        for i in cat.interconnects.values()
        if rules.scale_out_rejection(i, chip) is None
        and (provider is None or not i.providers or provider in i.providers)
    ]
    links.sort(key=lambda i: (-i.bandwidth_gb_s, not i.rdma, i.latency_us, i.id))
    # Keep the Pareto front over (bandwidth, latency, RDMA, price): a link that is no faster,
    # no quicker, no more capable and no cheaper than one already kept gives no better stack.
    kept: list[Interconnect] = []
    for link in links:
        price = link.price_usd_per_chip_hour or 0.0
        if not any(
            k.latency_us <= link.latency_us
            and (k.rdma or not link.rdma)
            and (k.price_usd_per_chip_hour or 0.0) <= price
            for k in kept
        ):
            kept.append(link)
    return [i.id for i in kept]


def count_ladder(chip: Chip, job: Job) -> list[int]:
    """Chip counts the solver tries: powers of two up to a node, then whole nodes (doubling)."""
    w = job.workload
    if w.chips is not None:
        return [w.chips]
    limit = max_chips(job)
    node = max(1, min(chip.scale_up_domain_size, 8))
    counts: list[int] = []
    c = 1
    while c <= limit:
        if c <= node or c % node == 0:
            counts.append(c)
        c *= 2
    return counts


def max_chips(job: Job) -> int:
    """--max-chips, else 16,384 for pre-training and 4,096 otherwise (documented in cli.md)."""
    return job.workload.max_chips or (16384 if job.task == "train" else 4096)


def _best(outcomes: Iterable[Outcome], optimize: str, rate: float | None = None) -> Outcome | None:
    """The best outcome under the objective (serving: most of the rate first); ties go to the
    earliest (the framework most mature on the chip, the fastest link)."""
    ok = [(i, o) for i, o in enumerate(outcomes) if o.ok]
    if not ok:
        return None
    return min(ok, key=lambda p: (*scoring.rank_key(p[1], optimize, rate), p[0]))[1]


class Sizer:
    """The one sizing solver: the fewest chips (in the units a chip comes in) that meet the rate,
    the deadline and the latency targets, or the fastest plan within --max-chips for
    --optimize time.  recommend sizes every candidate through it and relief sizes a count
    change through it; explain and compare evaluate the stack they are given through the same
    evaluator."""

    def __init__(self, ctx: Context, chip: Chip, off: Offering | None = None) -> None:
        self.ctx, self.off = ctx, off
        self.chip = chip if off is None else offer.unit_chip(chip, off)
        self.job = ctx.job
        w = self.job.workload
        if off is not None:
            self.links = [off.scale_out] if off.scale_out else []
        else:
            provider = offer.provider_of(ctx.catalog, None, w.cloud, w.deploy)
            self.links = scale_out_options(ctx.catalog, chip, w.interconnect, provider)
        self.node = max(1, min(self.chip.scale_up_domain_size, 8))

    def at(self, count: int, fw: str, link: str | None = None) -> Outcome:
        split = count > self.chip.scale_up_domain_size and needs_network(self.job, self.chip)
        chosen = (link or (self.links[0] if self.links else None)) if split else None
        storage = self.job.workload.storage
        off = self.off.id if self.off is not None else None
        return evaluate(self.ctx, Spec(self.chip.id, count, chosen, storage, fw, offering=off))

    def ladder(self) -> list[int]:
        """The chip counts to try: whole units of the offering, or the bare chip's ladder; no
        more than one scale-up domain where the chips must talk and no scale-out link joins
        domains (more of them could not run the job)."""
        if self.off is None or self.job.workload.chips is not None:
            counts = count_ladder(self.chip, self.job)
        else:
            counts = offer.ladder(self.off, max_chips(self.job))
        if self.links or self.job.workload.chips is not None:
            return counts
        if not needs_network(self.job, self.chip):
            return counts
        domain = self.chip.scale_up_domain_size
        return [c for c in counts if c <= domain] or counts[:1]

    def round_up(self, count: int) -> int:
        """The count the chips come in at or above ``count``: whole units (slice shapes), or
        for a bare chip a power of two inside a node and whole nodes beyond."""
        if self.off is not None:
            return offer.round_up(self.off, count)
        if count > self.node:
            return math.ceil(count / self.node) * self.node
        return int(2 ** math.ceil(math.log2(max(count, 1))))

    def _too_few(self) -> list[str]:
        assert self.off is not None
        return [
            f"one {self.off.name} holds {self.off.chips_per_unit} chips, more than "
            f"--max-chips {max_chips(self.job)}"
        ]

    def size(self, fw: str) -> tuple[list[Outcome], list[str]]:
        if self.job.inference:
            return self._serving(fw)
        return self._training(fw)

    def _first_fit(self, fw: str) -> tuple[Outcome | None, list[str]]:
        """The first count that holds the model, and why smaller ones fail."""
        reasons: list[str] = [] if self.ladder() else self._too_few()
        fallback: Outcome | None = None
        for count in self.ladder():
            oc = self.at(count, fw)
            if oc.ok and oc.layout.get("graph", "device") != "device":
                fallback = fallback or oc  # a graph spilling out of device memory: keep looking
                continue
            if oc.ok:
                return oc, reasons
            reasons = reasons or oc.reasons
            if any("power budget" in r or "the budget is" in r for r in oc.reasons):
                break  # more chips only draw more power and cost more
        return fallback, reasons

    def _serving(self, fw: str) -> tuple[list[Outcome], list[str]]:
        first, reasons = self._first_fit(fw)
        if first is None:
            return [], reasons or ["does not fit"]
        rate = self.job.workload.rate
        if not rate or self.job.workload.chips is not None:
            return [first], []
        best = self._per_chip_best(first, fw)
        count = self._count_for_rate(best, rate)
        oc = best if count <= best.spec.count else self._largest_ok(best, count, fw)
        oc = self._grow_until(oc, fw, rate)
        return [oc], []

    def _largest_ok(self, best: Outcome, count: int, fw: str) -> Outcome:
        """The count the rate needs, or, where a limit (power, budget) rules it out, the largest
        count of the ladder between that still runs: short of the rate, ranked by its shortfall."""
        oc = self.at(count, fw)
        if oc.ok:
            return oc
        between = [c for c in self.ladder() if best.spec.count < c < count]
        for c in reversed(between):
            smaller = self.at(c, fw)
            if smaller.ok:
                return smaller
        return best

    def _per_chip_best(self, first: Outcome, fw: str) -> Outcome:
        """Among counts up to a node, the one serving most per chip at saturation (an offering's
        first fit is already its smallest unit)."""
        node = self.node if self.off is None else first.spec.count
        # At a full node every smaller group runs as replicas, so the node's evaluation sees the
        # per-chip capacity of each of them; the first fit covers the smallest group.
        options = [first] + ([self.at(node, fw)] if node > first.spec.count else [])
        options = [o for o in options if o.ok]
        return max(options, key=lambda o: (_capacity(o) / o.spec.count, -o.spec.count))

    def limit(self) -> int:
        """The most chips a stack may take: --max-chips (or its default), and the offering's own
        limit."""
        cap = offer.chip_limit(self.off) if self.off is not None else None
        return max_chips(self.job) if cap is None else min(max_chips(self.job), cap)

    def _count_for_rate(self, oc: Outcome, rate: float) -> int:
        per_chip = _capacity(oc) / oc.spec.count
        if per_chip <= 0:
            return oc.spec.count
        needed = self.round_up(math.ceil(rate / per_chip / oc.spec.count) * oc.spec.count)
        return max(oc.spec.count, min(needed, self.limit()))

    def _grow_until(self, oc: Outcome, fw: str, rate: float) -> Outcome:
        """Add chips until the rate and the latency targets are met or --max-chips is reached:
        scaled by the shortfall, at least a node (or a doubling inside one) at a time.  More
        chips never serve less; a latency target that more chips do not bring closer (a prompt
        that alone takes longer than the TTFT target) stops the growth at the smaller stack."""
        node, limit = self.node, self.limit()
        for _ in range(6):
            served = oc.metrics.get("requests_per_s") or 0.0
            short = served < rate * 0.999
            if not short and not oc.soft:
                return oc
            n = oc.spec.count
            if n < node and self.off is None:
                count = n * 2
            else:
                scaled = math.ceil(n * rate / served) if short and served > 0 else n + 1
                count = self.round_up(max(scaled, n + (1 if self.off else node)))
            count = min(limit, count)
            if count <= n:
                return oc
            bigger = self.at(count, fw)
            if not bigger.ok or (not short and not _latency_better(bigger, oc, self.job.workload)):
                return oc
            oc = bigger
        return oc

    def _training(self, fw: str) -> tuple[list[Outcome], list[str]]:
        w = self.job.workload
        horizon = w.deadline or DEFAULT_HORIZON_S.get(self.job.task, math.inf)
        fitting: list[Outcome] = []
        first_reasons: list[str] = [] if self.ladder() else self._too_few()
        limit_reasons: list[str] = []
        for count in self._within_reach(self.ladder(), horizon):
            oc = self.at(count, fw)
            if not oc.ok:
                limited = any("deadline" in r or "budget" in r for r in oc.reasons)
                if limited:
                    limit_reasons = oc.reasons
                elif not first_reasons:
                    first_reasons = oc.reasons
                if fitting and any("budget" in r for r in oc.reasons):
                    break  # past a count within budget, cost only grows with scale
                continue
            fitting.append(oc)
            if w.optimize != "time" and oc.metrics["time_s"] <= horizon:
                break
        if not fitting:
            return [], limit_reasons or first_reasons or ["does not fit on any chip count tried"]
        if w.optimize == "time":
            return [min(fitting, key=lambda o: (o.metrics["time_s"], o.spec.count))], []
        chosen = [fitting[-1]]
        if (
            w.optimize == "balanced"
            and w.chips is None
            and fitting[-1].spec.count * 2 <= self.limit()
        ):
            doubled = self.at(self.round_up(fitting[-1].spec.count * 2), fw)
            if doubled.ok:
                chosen.append(doubled)
        return chosen, []

    def _within_reach(self, counts: list[int], horizon: float) -> list[int]:
        """The counts whose fastest possible run could meet the horizon: a transformer job's
        FLOPs at the chip's highest peak in any precision, at the most favourable compute
        efficiency and framework factor, is a floor no layout goes below; a count above that
        floor's horizon is not sized (the largest count always is).  Not under --optimize time,
        which takes the fastest count whatever the horizon."""
        job = self.job
        if (job.workload.optimize == "time" or job.workload.chips is not None or len(counts) < 2
                or not job.is_transformer or math.isinf(horizon)):  # fmt: skip
            return counts
        from infra_advisor.plan.evaluate import sustained_share
        from infra_advisor.plan.training import flops_per_token

        per_token = flops_per_token(job, recompute=False)
        chip = self.chip
        peak = max((chip.peak_tflops.get(p) or 0.0) * sustained_share(job, chip, p, [])
                   for p in chip.peak_tflops.supported())  # fmt: skip
        ceiling = peak * 1e12 * _best_compute_factor(self.ctx.catalog)
        if ceiling <= 0:
            return counts
        floor_chips = job.tokens * per_token / (horizon * ceiling)
        kept = [c for c in counts if c >= floor_chips]
        return kept or counts[-1:]


def _best_compute_factor(cat: Catalog) -> float:
    """The most any stack's compute efficiency can be: the training efficiency's high end times
    the largest framework factor (a bound, memoised per catalog)."""
    key = ("best-compute-factor",)
    if key not in cat.memo:
        factors = [e.factor for fw in cat.frameworks.values() for e in fw.efficiency]
        high = max(
            cat.eff(k).high for k in ("compute-training", "compute-inference", "compute-small")
        )
        cat.memo[key] = high * max([1.0, *factors])
    return float(cat.memo[key])


def _latency_better(new: Outcome, old: Outcome, w: Workload) -> bool:
    """Whether the larger stack brings the missed latency targets closer by more than 2%."""
    return _target_gap(new, w) < 0.98 * _target_gap(old, w)


def _target_gap(oc: Outcome, w: Workload) -> float:
    """How far the stack is from its TTFT and TPOT targets (1 = on target), at worst."""
    gaps = [1.0]
    for key, target in (("ttft_s", w.latency_target), ("tpot_s", w.tpot_target)):
        value = oc.metrics.get(key)
        if target and value is not None:
            gaps.append(value / target)
    if w.latency_target and oc.metrics.get("ttft_s") is None and oc.metrics.get("latency_s"):
        gaps.append(oc.metrics["latency_s"] / w.latency_target)
    return max(gaps)


def _capacity(oc: Outcome) -> float:
    """Requests (or samples) per second the stack sustains at saturation."""
    value = oc.saturation_rps
    if value is None:
        value = oc.metrics.get("samples_per_s") or oc.metrics.get("requests_per_s") or 0.0
    return float(value)


def plan_chip(
    ctx: Context, chip: Chip, frameworks: list[Framework], off: Offering | None = None
) -> tuple[list[Outcome], list[str]]:
    """Size every framework that runs the job on this chip (in this offering's units), then
    keep the best per count (a bare chip with its best scale-out link)."""
    sizer = Sizer(ctx, chip, off)
    w = ctx.job.workload
    found: dict[int, list[Outcome]] = {}
    reasons: list[str] = []
    for fw in frameworks:
        outcomes, why = sizer.size(fw.id)
        for oc in outcomes:
            found.setdefault(oc.spec.count, []).append(oc)
        reasons = reasons or why
    results: list[Outcome] = []
    for count in sorted(found):
        best = _best(found[count], w.optimize, w.rate)
        if best is None:
            continue
        if best.spec.scale_out is not None and len(sizer.links) > 1:
            others = [sizer.at(count, best.spec.framework, link) for link in sizer.links[1:]]
            best = _best([best, *others], w.optimize, w.rate) or best
        results.append(best)
    if ctx.job.inference and len(results) > 1:
        results = [_best(results, w.optimize, w.rate) or results[0]]
    return results, reasons


# --------------------------------------------------------------------------- relief


Change = tuple[str, str, str | None, str, Spec | Workload]
SHARD_BYTES = 256e6  # samples packed into shards of about 256 MB (WebDataset / TFRecord practice)


def _relief_options(ctx: Context, oc: Outcome) -> list[Change]:
    """(category, component, before, after, new spec or workload) for each single change the
    user left open."""
    return [
        *_link_changes(ctx, oc),
        *_offering_changes(ctx, oc),
        *_storage_changes(ctx, oc),
        *_chip_changes(ctx, oc),
        *_count_changes(ctx, oc),
        *_offload_changes(ctx, oc),
        *_framework_changes(ctx, oc),
        *_workload_changes(ctx, oc),
        *_pipeline_changes(ctx, oc),
    ]


def _link_changes(ctx: Context, oc: Outcome) -> list[Change]:
    s = oc.spec
    if not s.scale_out or s.offering is not None:
        return []  # an offering's fabric comes with it: another offering is the change
    w = ctx.job.workload
    provider = offer.provider_of(ctx.catalog, None, w.cloud, w.deploy)
    links = scale_out_options(ctx.catalog, ctx.catalog.chips[s.chip], None, provider)
    return [("network", "scale_out", s.scale_out, link, dataclasses.replace(s, scale_out=link))
            for link in links if link != s.scale_out]  # fmt: skip


def _offering_changes(ctx: Context, oc: Outcome) -> list[Change]:
    """The same chip in another unit the workload allows: another instance size, fabric or
    provider (the count rounded to its units)."""
    s, user = oc.spec, ctx.user
    if s.offering is None or user.offering is not None:
        return []
    asked = _asked(ctx)
    units, _ = rules.offerings_for(asked, ctx.catalog, ctx.catalog.chips[s.chip])
    changes = [
        _in_unit(ctx, asked, "offering", s, other) for other in units if other.id != s.offering
    ]
    return [c for c in changes if c is not None]


def _asked(ctx: Context) -> Job:
    """The workload as the user asked it (explain's job has the stack id's parts pinned): what
    another chip or unit runs is judged for it."""
    return ctx.job if ctx.pins is None else ctx.sub(("as asked",), ctx.user).job


def _in_unit(ctx: Context, asked: Job, category: str, s: Spec, off: Offering) -> Change | None:
    """The change to the stack with its chips in ``off``'s units, rounded up to whole ones, and
    its framework where that runs there (else the first that does; None when none does)."""
    cat = ctx.catalog
    chip = offer.unit_chip(cat.chips[off.chip], off)
    fws, _ = rules.frameworks_for(asked, cat.frameworks, chip)
    if not fws:
        return None
    fw = s.framework if any(f.id == s.framework for f in fws) else fws[0].id
    count = offer.round_up(off, s.count)
    link = off.scale_out if count > chip.scale_up_domain_size else None
    spec = Spec(off.chip, count, link, None, fw, offering=off.id)
    if category == "offering":
        return ("offering", "offering", s.offering, off.id, spec)
    return (category, "chip", s.chip, off.chip, spec)


def _storage_changes(ctx: Context, oc: Outcome) -> list[Change]:
    s, user = oc.spec, ctx.user
    matters = oc.breakdown.get("storage_s", 0.0) > 0.01 * (oc.metrics.get("step_time_s") or 0.0)
    if user.storage is not None or not (matters or user.optimize == "cost"):
        return []
    chip = ctx.catalog.chips[s.chip]
    stores = [st for st in storage_candidates(ctx.catalog, chip, dataclasses.replace(s, storage=None))
              if st.id != s.storage]  # fmt: skip
    stores.sort(key=lambda st: (-(st.read_gb_s or st.read_max_gb_s or 0.0), st.id))
    return [("storage", "storage", s.storage, st.id, dataclasses.replace(s, storage=st.id))
            for st in stores[:RELIEF_STORAGE]]  # fmt: skip


def _chip_changes(ctx: Context, oc: Outcome) -> list[Change]:
    cat, user, s = ctx.catalog, ctx.user, oc.spec
    if user.chip is not None or user.offering is not None:
        return []
    changes: list[Change] = []
    # What another chip runs is judged for the workload as asked: explain's job has the stack
    # id's framework pinned, which may not run on the other chip.
    asked = _asked(ctx)
    for other in cat.chips.values():
        if other.id == s.chip or rules.chip_rejections(asked, other):
            continue
        fws, _ = rules.frameworks_for(asked, cat.frameworks, other)
        if not fws:
            continue
        units, _ = rules.offerings_for(asked, cat, other)
        if units:
            change = _in_unit(ctx, asked, "chip", s, units[0])
            changes.extend([change] if change is not None else [])
            continue
        if not rules.bare_chip_allowed(asked):
            continue  # a chip no offering prices is no change to rank by
        fw = s.framework if any(f.id == s.framework for f in fws) else fws[0].id
        provider = offer.provider_of(cat, None, user.cloud, user.deploy)
        links = scale_out_options(cat, other, user.interconnect, provider)
        link = links[0] if links and s.count > other.scale_up_domain_size else None
        changes.append(("chip", "chip", s.chip, other.id, Spec(other.id, s.count, link, None, fw)))
    return changes


def _count_changes(ctx: Context, oc: Outcome) -> list[Change]:
    """More chips: for a server short of its rate or targets, the count the sizing solver gives
    this chip and framework; otherwise twice the chips."""
    user, s = ctx.user, oc.spec
    if user.chips is not None:
        return []
    chip = ctx.catalog.chips[s.chip]
    off = ctx.catalog.offerings.get(s.offering or "")
    sizer = Sizer(ctx, chip, off)
    count = sizer.round_up(s.count * 2)
    if ctx.job.inference and user.rate and oc.soft:
        # Sized for the user's own workload (explain's job has the stack id's count pinned).
        where = ctx if ctx.pins is None else ctx.sub(("as asked",), user)
        before = where.evaluated
        sized, _ = Sizer(where, chip, off).size(s.framework)
        if where is not ctx:
            ctx.evaluated += where.evaluated - before
        if sized and sized[0].spec.count > s.count:
            count = sized[0].spec.count
    if count > (user.max_chips or 16384):
        return []
    split = count > sizer.chip.scale_up_domain_size
    link = s.scale_out or (sizer.links[0] if sizer.links and split else None)
    more = dataclasses.replace(s, count=count, scale_out=link)
    return [("count", "chips", str(s.count), str(count), more)]


def _offload_changes(ctx: Context, oc: Outcome) -> list[Change]:
    cat, s = ctx.catalog, oc.spec
    fabric = cat.interconnects.get(s.scale_out or "")
    if fabric is None or fabric.rdma or s.offload or cat.chips[s.chip].segment != "datacenter":
        return []
    if s.offering is not None and cat.offerings[s.offering].provider != "onprem":
        return []  # a rented instance comes with its NICs
    return [("offload", "offload", None, dpu.id, dataclasses.replace(s, offload=dpu.id))
            for dpu in cat.chips.values() if dpu.type == "dpu" and dpu.status == "available"]  # fmt: skip


def _framework_changes(ctx: Context, oc: Outcome) -> list[Change]:
    s = oc.spec
    if ctx.user.framework is not None:
        return []
    fws, _ = rules.frameworks_for(ctx.job, ctx.catalog.frameworks, ctx.catalog.chips[s.chip])
    return [("framework", "framework", s.framework, fw.id, dataclasses.replace(s, framework=fw.id))
            for fw in fws if fw.id != s.framework]  # fmt: skip


def _workload_changes(ctx: Context, oc: Outcome) -> list[Change]:
    """Precision, KV-cache precision, QLoRA and data format: the workload changes a user can
    make without another stack."""
    job, w = ctx.job, ctx.job.workload
    chip = ctx.catalog.chips[oc.spec.chip]
    changes: list[Change] = []
    if w.precision in ("bf16", "fp16") and chip.peak_tflops.fp8:
        changes.append(
            ("workload", "precision", w.precision, "fp8", dataclasses.replace(w, precision="fp8"))
        )
    if job.inference and w.precision in ("bf16", "fp16", "fp8"):
        changes.append(
            ("workload", "precision", w.precision, "int4", dataclasses.replace(w, precision="int4"))
        )
    kv = oc.layout.get("kv_precision")
    if kv in ("bf16", "fp16") and ctx.user.kv_precision is None:
        changes.append(
            ("workload", "kv_precision", kv, "fp8", dataclasses.replace(w, kv_precision="fp8"))
        )
    if job.task == "finetune" and job.method == "lora":
        changes.append(("workload", "finetune_method", "lora", "qlora",
                        dataclasses.replace(w, finetune_method="qlora")))  # fmt: skip
    packed = _packed_files(w)
    if packed is not None and oc.kind == "storage":
        changes.append(("workload", "files", f"{w.files:,.0f}", f"{packed:,.0f}",
                        dataclasses.replace(w, files=packed)))  # fmt: skip
    return changes


def _pipeline_changes(ctx: Context, oc: Outcome) -> list[Change]:
    """A sampled GNN's data pipeline, where the workload pins a slow form of it: loader workers
    beside the training process (one a host core, each chip's share), sampling on the device
    where the framework can (its prefetching loader), features in device memory
    rather than pinned to the host, learned embeddings updated sparsely rather than densely."""
    job, w = ctx.job, ctx.job.workload
    if w.model_type != "gnn" or job.inference:
        return []
    changes: list[Change] = []
    if w.loader_workers == 0 and oc.layout.get("sampling") == "neighbor":
        chip = ctx.catalog.chips[oc.spec.chip]
        host = host_of(job, ctx.catalog, chip, oc.spec)
        workers = max(1, int(host.cores // host.chips))
        changes.append(("pipeline", "loader_workers", "0", str(workers),
                        dataclasses.replace(w, loader_workers=workers)))  # fmt: skip
    if w.sampler == "host" and ctx.catalog.frameworks[oc.spec.framework].device_sampling:
        changes.append(("pipeline", "sampler", "host", "device",
                        dataclasses.replace(w, sampler="device", loader_workers=None)))  # fmt: skip
    if w.feature_store in ("host", "storage"):
        changes.append(("pipeline", "feature_store", w.feature_store, "device",
                        dataclasses.replace(w, feature_store="device")))  # fmt: skip
    if w.embedding_update == "dense" and w.embedding_nodes:
        changes.append(("pipeline", "embedding_update", "dense", "sparse",
                        dataclasses.replace(w, embedding_update="sparse")))  # fmt: skip
    return changes


def _packed_files(w: Workload) -> float | None:
    """The file count with the dataset packed into shards of about SHARD_BYTES, where that is
    fewer files than now (many small files stress metadata and request latency)."""
    if not w.files or not w.dataset_size:
        return None
    shards = max(1.0, math.ceil(w.dataset_size / SHARD_BYTES))
    return shards if shards < w.files / 10 else None


PREFERRED = {
    "network": ("network", "offering", "offload", "count", "chip"),
    "storage": ("storage", "workload"),
    "compute": ("workload", "chip", "count"),
    "memory_bandwidth": ("pipeline", "workload", "chip", "count"),
    "memory_capacity": ("workload", "count", "chip"),
    "power": ("chip", "workload"),
    "host": ("pipeline", "offload", "chip", "count", "framework", "storage", "workload"),
}


def find_relief(ctx: Context, oc: Outcome) -> Relief | None:
    job = ctx.job
    optimize = job.workload.optimize
    metric, before = scoring.relief_metric(oc, optimize)
    if before is None:
        return None
    found: list[tuple[int, float, str, Relief]] = []
    preferred = PREFERRED.get(oc.kind, ())
    # A change of a preferred kind beats any other that helps, so the others are weighed only
    # when no preferred change helps: the same answer, from fewer evaluations.  Within a kind,
    # the changes whose metric could be best come first, and one whose bound cannot beat the
    # stack (or the best change found) is not evaluated.
    options = []
    for option in _relief_options(ctx, oc):
        rank = preferred.index(option[0]) if option[0] in preferred else len(preferred)
        options.append((rank, _relief_bound(ctx, option[4], metric), option))
    options.sort(key=lambda o: (o[0], scoring.promise(metric, o[1])))
    best: float | None = None
    for rank, bound, (_, component, old, new, change) in options:
        if found and rank > min(f[0] for f in found):
            break  # a change of an earlier kind already helps, and it ranks first
        if bound is not None and not scoring.could_gain(metric, before, bound, best):
            continue
        if isinstance(change, Workload):
            other = _under_workload(ctx, oc, change, (component, new), metric)
        else:
            other = evaluate(ctx, change)
        if not other.ok or (other.soft and not oc.soft):
            continue  # a change that breaks a target the stack meets is no relief
        _, after = scoring.relief_metric(other, optimize, metric)
        if after is None or before <= 0:
            continue
        gain = scoring.gain(metric, before, after)
        if gain <= scoring.RELIEF_MIN_GAIN:
            continue
        # The change that acts on the bottleneck itself comes first (PREFERRED is in that order),
        # then the largest gain.
        resized = other.spec.count != oc.spec.count and component != "chips"
        relief = Relief(
            change=f"{component}: {old} -> {new}"
            + (f" on {other.spec.count} chips" if resized else ""),
            component=component,
            before=old,
            after=new,
            metric=metric,
            before_value=before,
            after_value=after,
            improvement=gain,
            stack=stack_id(other.spec, other.scale_up),
        )
        found.append((rank, -gain, f"{component}:{new}", relief))
        best = after if best is None or scoring.gain(metric, best, after) > 0 else best
    if not found:
        return None
    found.sort(key=lambda x: (x[0], x[1], x[2]))
    return found[0][3]


METRIC_NAMES = {
    "time_s": "job time",
    "latency_s": "request latency",
    "cost_usd": "cost",
    "energy_kwh": "energy",
}


def _under_workload(
    ctx: Context, oc: Outcome, change: Workload, key: tuple[str, str], metric: str
) -> Outcome:
    """The stack under a changed workload (a precision, the KV precision, QLoRA): its own chips,
    or, for a server paying by the hour where the user left the count open, the count the
    sizing solver gives its chip, unit and framework for the user's workload so changed, where
    that is better on the metric (FP8 weights may serve the rate on fewer chips)."""
    spec = oc.spec
    spec = dataclasses.replace(spec, storage=spec.storage if ctx.user.storage else None)
    same = ctx.evaluate_in(ctx.sub(("workload", *key), change), spec)
    if not (ctx.job.inference and ctx.user.rate and ctx.user.chips is None):
        return same
    if metric not in ("cost_usd", "energy_kwh"):
        return same
    now = ctx.job.workload
    changed = {f.name: getattr(change, f.name) for f in dataclasses.fields(change)
               if getattr(change, f.name) != getattr(now, f.name)}  # fmt: skip
    asked = ctx.sub(("as asked", *key), dataclasses.replace(ctx.user, **changed))
    chip, off = ctx.catalog.chips[spec.chip], ctx.catalog.offerings.get(spec.offering or "")
    if _fewest_chips(asked, chip, off, spec.framework) >= spec.count:
        return same  # even at its floor the changed workload needs as many chips
    before = asked.evaluated
    sized, _ = Sizer(asked, chip, off).size(spec.framework)
    ctx.evaluated += asked.evaluated - before
    fewer = [o for o in sized if o.ok and o.spec.count < spec.count]
    if not fewer or (same.ok and not _lower(fewer[0], same, metric)):
        return same
    return fewer[0]


def _fewest_chips(ctx: Context, chip: Chip, off: Offering | None, framework: str) -> int:
    """The fewest chips (in whole units) any stack of this chip and framework could serve the
    rate on, from the serving floor (plan.serving.floor); 1 where it cannot be bounded."""
    job = ctx.job
    found = _unit_floor(ctx, chip, off, [ctx.catalog.frameworks[framework]], max_chips(job))
    rate = job.workload.rate
    if found is None or not rate or found.requests_per_chip_s <= 0:
        return 1
    chips = found.chips_for(rate)
    return offer.round_up(off, chips) if off is not None else chips


def _run_chip(job: Job, chip: Chip, off: Offering | None) -> Chip:
    """The chip as the stack runs it: in its power mode for the job, with its unit's domain."""
    point = rules.operating_point(job, chip).chip
    return point if off is None else offer.unit_chip(point, off)


def _unit_floor(
    ctx: Context, chip: Chip, off: Offering | None, frameworks: list[Framework], limit: int
) -> Floor | None:
    """The serving floor (plan.serving.floor) of the chip as the stack runs it."""
    from infra_advisor.plan.serving_outcome import serving_floor

    return serving_floor(ctx.job, _run_chip(ctx.job, chip, off), frameworks, limit)


def _lower(a: Outcome, b: Outcome, metric: str) -> bool:
    va, vb = a.metrics.get(metric), b.metrics.get(metric)
    return va is not None and (vb is None or va < vb)


def _relief_bound(ctx: Context, change: Spec | Workload, metric: str) -> float | None:
    """The best the relief metric of a changed stack can be, where it is known before the
    stack is evaluated: a served transformer's cost for its hour (whole units × the hourly
    price, storage and power on top), its idle energy, its latency floor, or the requests/s
    its chips serve at most (plan.serving.floor).  None where it is not known."""
    job, cat = ctx.job, ctx.catalog
    w = job.workload
    if not isinstance(change, Spec) or change.offering is None or w.samples is not None:
        return None
    if not job.inference or w.model_type != "transformer":
        return None
    from infra_advisor.plan.evaluate import idle_power, unit_hourly

    off = cat.offerings[change.offering]
    if metric == "cost_usd":
        hourly = unit_hourly(job, cat, off)
        return None if hourly is None else hourly * offer.units(off, change.count)
    chip = cat.chips[change.chip]
    if metric == "energy_kwh":
        idle, host = idle_power(job, _run_chip(job, chip, off))
        return (idle * change.count + host) / 1000.0  # kWh over the hour
    found = _unit_floor(ctx, chip, off, [cat.frameworks[change.framework]], change.count)
    if found is None:
        return None
    if metric == "latency_s":
        return found.latency_s
    if metric == "requests_per_s" and w.rate:
        return min(w.rate, change.count * found.requests_per_chip_s)
    return None


def describe_relief(relief: Relief | None, oc: Outcome) -> str:
    if relief is None:
        return "no single catalog change reduces it: this stack is already at its limit"
    fmt = format_money if relief.metric.startswith("cost") else format_duration
    if relief.metric == "requests_per_s":
        return (
            f"{relief.change} sustains {relief.after_value:.3g} requests/s instead of "
            f"{relief.before_value:.3g} (+{relief.improvement:.0%})"
        )
    return (
        f"{relief.change} cuts {METRIC_NAMES.get(relief.metric, relief.metric)} by {relief.improvement:.0%} "
        f"({fmt(relief.before_value)} -> {fmt(relief.after_value)})"
    )


# --------------------------------------------------------------------------- recommend


Candidate = tuple[Chip, Offering | None, list[Framework]]


def _candidates(ctx: Context) -> tuple[list[Outcome], list[Rejection]]:
    """Size every candidate the rules allow, most promising first; one whose floor (what no
    stack of it beats) ranks after the stacks already found is left unsized, with that reason."""
    options, rejected = _allowed(ctx)
    floors = [_floor(ctx, *option) for option in options]
    order = sorted(range(len(options)), key=lambda i: _floor_key(ctx, floors[i]))
    outcomes: list[Outcome] = []
    w = ctx.job.workload
    standing = scoring.Standing(w.optimize, w.rate, ctx.keep or 0)
    for i in order:
        chip, off, frameworks = options[i]
        floor = floors[i]
        if floor is not None and ctx.keep and standing.outranks(floor):
            assert off is not None
            rejected.append(Rejection(id=off.id, reasons=[_outranked(ctx, floor, ctx.keep)]))
            continue
        found, reasons = plan_chip(ctx, chip, frameworks, off)
        outcomes.extend(found)
        for oc in found:
            standing.add(oc)
        if not found:
            where = chip.id if off is None else off.id
            rejected.append(Rejection(id=where, reasons=sorted(set(reasons))[:3]))
    return outcomes, rejected


def _allowed(ctx: Context) -> tuple[list[Candidate], list[Rejection]]:
    """(chip, offering, frameworks) for each unit the rules allow (a bare chip where no offering
    holds it and one may be sized), and the chips they rule out, with why."""
    job, cat = ctx.job, ctx.catalog
    w = job.workload
    pinned = w.chip or (cat.offerings[w.offering].chip if w.offering else None)
    chips = [cat.chips[pinned]] if pinned is not None else list(cat.chips.values())
    options: list[Candidate] = []
    rejected: list[Rejection] = []
    for chip in chips:
        reasons = [
            r
            for r in rules.chip_rejections(job, chip)
            if w.chip is None or "include-legacy" not in r or not w.include_legacy
        ]
        if reasons and w.chip is None:
            rejected.append(Rejection(id=chip.id, reasons=reasons))
            continue
        frameworks, why = rules.frameworks_for(job, cat.frameworks, chip)
        if not frameworks:
            text = why or [
                f"no framework in the catalog runs {w.model_type} {job.task} on {chip.name}"
            ]
            rejected.append(Rejection(id=chip.id, reasons=text))
            continue
        units, why_not = rules.offerings_for(job, cat, chip)
        if not units and not rules.bare_chip_allowed(job):
            rejected.append(Rejection(id=chip.id, reasons=[str(why_not)]))
            continue
        choices: list[Offering | None] = [*units] or [None]
        options.extend((chip, off, frameworks) for off in choices)
    return options, rejected


def _floor(
    ctx: Context, chip: Chip, off: Offering | None, frameworks: list[Framework]
) -> tuple[float, float, float] | None:
    """(time, cost, energy) per unit served that no stack of this unit beats, where the search
    can bound it: transformer serving at a rate, in a priced unit, when the ranking does not
    lean on unpriced stacks (balanced with bare chips allowed)."""
    job = ctx.job
    w = job.workload
    if ctx.keep is None or off is None or not job.inference or w.model_type != "transformer":
        return None
    if not w.rate or (w.optimize not in scoring.AXES and rules.bare_chip_allowed(job)):
        return None
    from infra_advisor.plan.evaluate import serving_floor_objectives

    found = _unit_floor(ctx, chip, off, frameworks, max(max_chips(job), w.chips or 0))
    if found is None:
        return None
    return serving_floor_objectives(
        job, ctx.catalog, _run_chip(job, chip, off), off, found.chips, found.requests_per_chip_s,
        found.latency_s,
    )  # fmt: skip


def _floor_key(ctx: Context, floor: tuple[float, float, float] | None) -> tuple[int, float]:
    """Candidates with the most promising floors are sized first (unbounded ones before all)."""
    if floor is None:
        return 0, 0.0
    return 1, scoring.objective_of(floor, ctx.job.workload.optimize)


def _outranked(ctx: Context, floor: tuple[float, float, float], keep: int) -> str:
    time_s, cost, energy = floor
    unit = "output token" if ctx.job.workload.model_type == "transformer" else "request"
    return (
        f"{UNSIZED}at best {format_money(cost * 1e6)} and {energy * 1e9:.3g} Wh per million "
        f"{unit}s, {format_duration(time_s)} a request, it ranks after {keep} stacks already "
        "found that meet every target"
    )


def validate_pins(workload: Workload, catalog: Catalog) -> None:
    """Every id-valued field names something in the catalog, in the catalog's spelling (a
    workload built from flags, a file or a preset already is: build_workload matches ids in any
    case); an unknown one is a WorkloadError (exit 2) with the closest known value."""
    for name in ID_FIELDS:
        value = getattr(workload, name)
        if value is None:
            continue
        known = canonical_id(name, value, catalog)
        if known is not None and known != value:
            raise WorkloadError(
                f"--{name}: {value!r} is spelled {known!r} in the catalog",
                hint="build the workload with build_workload(..., catalog=catalog), which "
                "matches ids in any case",
            )
    if (
        workload.interconnect is not None
        and catalog.interconnects[workload.interconnect].scope != "scale_out"
    ):
        raise WorkloadError(
            f"--interconnect {workload.interconnect}: a scale-up link; --interconnect pins the scale-out "
            "fabric (the scale-up link comes with the chip)"
        )
    _validate_offering(workload, catalog)


def _validate_offering(workload: Workload, catalog: Catalog) -> None:
    """--offering agrees with the chip, cloud and deployment pinned beside it."""
    if workload.offering is None:
        return
    off = catalog.offerings[workload.offering]
    if workload.chip is not None and workload.chip != off.chip:
        raise WorkloadError(
            f"--offering {off.id}: holds {off.chip}, but --chip pins {workload.chip}"
        )
    if workload.cloud is not None and workload.cloud != off.provider:
        raise WorkloadError(
            f"--offering {off.id}: is on {off.provider}, but --cloud asks for {workload.cloud}"
        )
    bought = off.provider == "onprem"
    if bought != (workload.deploy in ("onprem", "edge")):
        wanted = "--deploy onprem (or edge)" if bought else "--deploy cloud"
        raise WorkloadError(
            f"--offering {off.id}: is {'bought' if bought else 'rented'}; pass {wanted} with it"
        )


def recommend(
    workload: Workload, catalog: Catalog, top: int = DEFAULT_TOP, require_fit: bool = False
) -> Report:
    validate_pins(workload, catalog)
    job = build_job(workload, catalog)
    ctx = Context(job, catalog, keep=top)
    outcomes, rejected = _candidates(ctx)
    if require_fit:
        keep = []
        for oc in outcomes:
            if oc.soft:
                rejected.append(Rejection(id=stack_id(oc.spec, oc.scale_up), reasons=list(oc.soft)))
            else:
                keep.append(oc)
        outcomes = keep
    scores = scoring.score(outcomes, workload.optimize)
    ids = [stack_id(o.spec, o.scale_up) for o in outcomes]
    ranked = scoring.order(outcomes, workload.optimize, workload.rate, ids)
    pareto = scoring.pareto_flags(outcomes, workload.rate)
    stacks = []
    for rank, index in enumerate(ranked[:top], start=1):
        oc = outcomes[index]
        stacks.append(build_stack(ctx, oc, rank, scores[index], pareto[index]))
    assumptions = list(job.assumptions)
    if not job.inference and workload.deadline is None and workload.chips is None:
        horizon = DEFAULT_HORIZON_S.get(job.task)
        if horizon:
            assumptions.append(
                f"no --deadline: chip counts scaled to finish within {format_duration(horizon)} where possible"
            )
    if job.inference and workload.samples is None:
        assumptions.append("serving cost and energy are for one hour of serving at the given rate")
    assumptions.append(
        "efficiency factors (central values) from catalog/efficiency.toml: "
        + ", ".join(
            f"{k} {v:g}"
            for k, v in sorted(job.eff.items())
            if k.startswith(("compute", "memory-b", "network"))
        )
    )
    return Report(
        workload=to_data(workload),
        catalog=CatalogInfo(
            files=list(catalog.files),
            counts={
                "chips": len(catalog.chips),
                "interconnects": len(catalog.interconnects),
                "storage": len(catalog.storage),
                "frameworks": len(catalog.frameworks),
            },
        ),
        optimize=workload.optimize,
        stacks=stacks,
        rejected=sorted(rejected, key=lambda r: (r.unsized, r.id)),
        assumptions=assumptions,
        evaluated=ctx.evaluated,
    )


def _ranges(ctx: Context, oc: Outcome) -> dict[str, Range]:
    values: dict[str, list[float]] = {}
    for scenario in ("optimistic", "pessimistic"):
        other = ctx.evaluate_in(
            ctx.sub(("scenario", scenario), ctx.job.workload, scenario), oc.spec
        )
        if not other.ok:
            continue
        for key in (
            "time_s",
            "cost_usd",
            "energy_kwh",
            "tokens_per_s",
            "ttft_s",
            "tpot_s",
            "step_time_s",
        ):
            value = other.metrics.get(key)
            if value is not None:
                values.setdefault(key, []).append(value)
    result = {}
    for key, pair in values.items():
        central = oc.metrics.get(key)
        if central is None:
            continue
        low, high = min([*pair, central]), max([*pair, central])
        result[key] = Range(low=low, high=high)
    return result


def _units(cat: Catalog, spec: Spec) -> OfferingUnits | None:
    off = cat.offerings.get(spec.offering or "")
    if off is None:
        return None
    return OfferingUnits(
        id=off.id,
        units=offer.units(off, spec.count),
        provider=off.provider,
        label=offer.label(off, cat.chips[off.chip], spec.count),
    )


def build_stack(ctx: Context, oc: Outcome, rank: int, score: float, pareto: bool) -> Stack:
    oc.finalise()
    relief = find_relief(ctx, oc)
    notes = list(dict.fromkeys([*oc.soft, *oc.notes]))
    return Stack(
        rank=rank,
        id=stack_id(oc.spec, oc.scale_up),
        components=Components(
            chip=ChipCount(id=oc.spec.chip, count=oc.spec.count),
            offering=_units(ctx.catalog, oc.spec),
            scale_up=oc.scale_up,
            scale_out=oc.spec.scale_out,
            storage=oc.spec.storage,
            framework=oc.spec.framework,
            offload=oc.spec.offload,
        ),
        score=round(score, 6),
        metrics=Metrics(**oc.metrics),
        breakdown=Breakdown(**oc.breakdown),
        bottleneck=Bottleneck(
            kind=oc.kind,
            explanation=oc.explanation,
            relief=describe_relief(relief, oc),
            relief_detail=relief,
        ),
        layout=oc.layout,
        terms=oc.reported_terms(),
        ranges=_ranges(ctx, oc),
        notes=notes,
        pareto=pareto,
        fits=not oc.soft,
    )


# --------------------------------------------------------------------------- explain / compare


def parse_stack_id(text: str) -> dict[str, str | int | None]:
    """Turn 'h100-sxm:8/nvlink-4/-/aws-fsx-lustre/pytorch' back into workload pins (the first
    part names a chip, or an offering with the chips used of it: 'aws-p5-48xlarge:16/...')."""
    parts = text.strip().split("/")
    offload = None
    if len(parts) == 6 and parts[5].startswith("dpu:"):
        offload = parts.pop()[4:]
    if len(parts) != 5 or ":" not in parts[0]:
        raise WorkloadError(
            f"stack id {text!r}: expected CHIP:COUNT/SCALE_UP/SCALE_OUT/STORAGE/FRAMEWORK "
            "(or OFFERING:CHIPS/...) "
            "(copy it from the id column of `recommend`)"
        )
    chip, _, count = parts[0].partition(":")
    if not count.isdigit() or int(count) < 1:
        raise WorkloadError(
            f"stack id {text!r}: chip count {count!r} is not a positive whole number"
        )

    def opt(value: str) -> str | None:
        return None if value in ("-", "") else value

    return {
        "chip": chip,
        "chips": int(count),
        "interconnect": opt(parts[2]),
        "storage": opt(parts[3]),
        "framework": parts[4],
        "offload": offload,
    }


def _pinned(workload: Workload, catalog: Catalog, stack: str) -> tuple[Workload, str | None]:
    pins: dict[str, Any] = parse_stack_id(stack)
    offload = pins.pop("offload")
    unit = {o.lower(): o for o in catalog.offerings}.get(str(pins["chip"]).lower())
    if unit is not None:  # the id names an offering: its chip, and the offering pinned
        pins["offering"], pins["chip"] = unit, catalog.offerings[unit].chip
    for name in ("chip", "interconnect", "storage", "framework"):  # ids match in any case
        if pins[name] is not None:
            pins[name] = canonical_id(name, pins[name], catalog, f"stack id {stack!r}: ")
    pinned = dataclasses.replace(workload, **pins)
    validate_pins(pinned, catalog)
    dpu = {c.id.lower(): c.id for c in catalog.chips.values() if c.type == "dpu"}
    if offload is not None:
        if offload.lower() not in dpu:
            raise WorkloadError(f"stack id {stack!r}: {offload!r} is not a DPU in the catalog")
        offload = dpu[offload.lower()]
    return pinned, None if offload is None else str(offload)


def _evaluate_pinned(
    workload: Workload, catalog: Catalog, stack: str
) -> tuple[Context, Outcome, Workload, list[str], list[str]]:
    """A stack id evaluated for the workload: its context, outcome and pinned workload, and the
    chip rules and framework rule it breaks (explain and compare both go through here)."""
    pinned, offload = _pinned(workload, catalog, stack)
    chip = catalog.chips[str(pinned.chip)]
    fw = catalog.frameworks[str(pinned.framework)]
    job = build_job(pinned, catalog)
    chip_reasons = [r for r in rules.chip_rejections(job, chip) if "include-legacy" not in r]
    fw_reason = rules.framework_rejection(job, fw, chip)
    ctx = Context(job, catalog, pins=workload)
    spec = Spec(
        chip.id, pinned.chips or 1, pinned.interconnect, pinned.storage, fw.id, offload,
        offering=pinned.offering,
    )  # fmt: skip
    return ctx, evaluate(ctx, spec), pinned, chip_reasons, [fw_reason] if fw_reason else []


def _pinned_report(
    workload: Workload,
    catalog: Catalog,
    stacks: list[Stack],
    rejected: list[Rejection],
    assumptions: Iterable[str],
    evaluated: int,
) -> Report:
    """The report of explain and compare: the stacks asked about, for the workload used."""
    return Report(
        workload=to_data(workload),
        catalog=CatalogInfo(files=list(catalog.files), counts={"chips": len(catalog.chips)}),
        optimize=workload.optimize,
        stacks=stacks,
        rejected=rejected,
        assumptions=list(assumptions),
        evaluated=evaluated,
    )


def explain_stack(workload: Workload, catalog: Catalog, stack: str) -> Report:
    ctx, oc, pinned, chip_reasons, fw_reasons = _evaluate_pinned(workload, catalog, stack)
    all_reasons = chip_reasons + fw_reasons + oc.reasons
    stacks = []
    rejected = []
    if oc.ok and not all_reasons:
        stacks.append(build_stack(ctx, oc, 1, 1.0, True))
    else:
        rejected.append(Rejection(id=stack, reasons=all_reasons))
    return _pinned_report(pinned, catalog, stacks, rejected, ctx.job.assumptions, ctx.evaluated)


def compare_stacks(workload: Workload, catalog: Catalog, stack_ids: list[str]) -> Report:
    """Evaluate each stack for the same workload and rank them against each other."""
    outcomes: list[Outcome] = []
    rejected: list[Rejection] = []
    jobs: list[Context] = []
    for text in stack_ids:
        ctx, oc, _, chip_reasons, fw_reasons = _evaluate_pinned(workload, catalog, text)
        reasons = chip_reasons + fw_reasons + oc.reasons  # the same rules as explain
        if reasons:
            rejected.append(Rejection(id=text, reasons=reasons))
        else:
            outcomes.append(oc)
            jobs.append(ctx)
    scores = scoring.score(outcomes, workload.optimize)
    pareto = scoring.pareto_flags(outcomes, workload.rate)
    ids = [stack_id(o.spec, o.scale_up) for o in outcomes]
    order = scoring.order(outcomes, workload.optimize, workload.rate, ids)
    stacks = [
        build_stack(jobs[i], outcomes[i], rank, scores[i], pareto[i])
        for rank, i in enumerate(order, start=1)
    ]
    job0 = build_job(workload, catalog)
    evaluated = sum(c.evaluated for c in jobs)
    return _pinned_report(workload, catalog, stacks, rejected, job0.assumptions, evaluated)
