"""recommend(workload, catalog) -> Report.  No I/O; never prints.

Filter (rules) -> size (chip counts, layouts) -> estimate -> limits -> score
and rank -> bottleneck relief and ranges for the ranked stacks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

from infra_advisor import rules, scoring
from infra_advisor.catalog import Catalog
from infra_advisor.checks import to_data
from infra_advisor.errors import WorkloadError
from infra_advisor.evaluate import (
    Outcome,
    Spec,
    evaluate_generic,
    evaluate_inference,
    evaluate_training,
    serving_memory,
    stack_id,
    storage_candidates,
    weight_bytes_per_param,
)
from infra_advisor.evaluate_sparse import evaluate_gnn, evaluate_recsys
from infra_advisor.job import Job, build_job
from infra_advisor.models import Chip, Framework, Interconnect
from infra_advisor.report import (
    Bottleneck,
    Breakdown,
    CatalogInfo,
    ChipCount,
    Components,
    Metrics,
    Range,
    Rejection,
    Relief,
    Report,
    Stack,
)
from infra_advisor.units import format_duration, format_money
from infra_advisor.workload import Workload

DEFAULT_TOP = 5
DEFAULT_HORIZON_S = {"train": 90 * 86400.0, "finetune": 7 * 86400.0}


RELIEF_CHIPS = 12  # chip swaps considered for a relief: the best-ranked feasible chips
RELIEF_STORAGE = 12  # storage swaps considered: the fastest readers


@dataclasses.dataclass
class Context:
    """One search: the job, the catalog, and how many stacks were evaluated."""

    job: Job
    catalog: Catalog
    evaluated: int = 0
    shortlist: list[str] | None = None  # feasible chips, best first (bounds relief chip swaps)
    # Each distinct stack is evaluated once per search: the count ladder, the framework and link
    # choices and the relief search ask for some of the same stacks again.
    memo: dict[Spec, Outcome] = dataclasses.field(default_factory=dict, repr=False)
    # Searches for a changed workload or an efficiency scenario, shared by every ranked stack.
    subs: dict[Any, Context] = dataclasses.field(default_factory=dict, repr=False)

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
    chip = cat.chips[spec.chip]
    fw = cat.frameworks[spec.framework]
    oc = Outcome(spec=spec, scale_up=chip.scale_up_interconnect if spec.count > 1 else None)
    if power_note := rules.check_power(job, chip):
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
    if not needs_scale_out and spec.scale_out is not None:
        oc.spec = dataclasses.replace(spec, scale_out=None)
        spec = oc.spec
    if spec.scale_out:
        link = cat.interconnects[spec.scale_out]
        reason = rules.scale_out_rejection(link, chip)
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
    if job.workload.model_type == "transformer":
        if job.inference:
            evaluate_inference(job, cat, chip, fw, spec, oc)
        else:
            evaluate_training(job, cat, chip, fw, spec, oc)
    elif job.workload.model_type == "gnn":
        evaluate_gnn(job, cat, chip, fw, spec, oc)
    elif job.workload.model_type == "recsys":
        evaluate_recsys(job, cat, chip, fw, spec, oc)
    else:
        evaluate_generic(job, cat, chip, fw, spec, oc)
    if oc.ok:
        for reason in rules.outcome_rejections(job, oc):
            oc.reject(reason)
    return oc


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


def scale_out_options(cat: Catalog, chip: Chip, pinned: str | None) -> list[str]:
    """Scale-out links for the chip, fastest first, dominated ones dropped (memoised per catalog)."""
    if pinned is not None:
        return [pinned]
    key = ("scale_out_options", chip.id)
    if key not in cat.memo:
        cat.memo[key] = _scale_out_options(cat, chip)
    return list(cat.memo[key])


def _scale_out_options(cat: Catalog, chip: Chip) -> list[str]:
    links = [i for i in cat.interconnects.values() if rules.scale_out_rejection(i, chip) is None]
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
    w = job.workload
    if w.chips is not None:
        return [w.chips]
    limit = w.max_chips or (16384 if job.task == "train" else 4096)
    node = max(1, min(chip.scale_up_domain_size, 8))
    counts: list[int] = []
    c = 1
    while c <= limit:
        if c <= node or c % node == 0:
            counts.append(c)
        c *= 2
    return counts


def _best(outcomes: Iterable[Outcome], optimize: str) -> Outcome | None:
    """The best outcome under the objective; on a tie, the earliest (preferred framework, fastest link)."""
    ok = [(i, o) for i, o in enumerate(outcomes) if o.ok]
    if not ok:
        return None
    return min(ok, key=lambda p: (round(scoring.objective_value(p[1], optimize), 12), p[0]))[1]


def plan_chip(
    ctx: Context, chip: Chip, frameworks: list[Framework]
) -> tuple[list[Outcome], list[str]]:
    """Size and assemble stacks for one chip: fit first, then scale toward the deadline."""
    job, cat = ctx.job, ctx.catalog
    w = job.workload
    optimize = w.optimize
    fw0 = frameworks[0]
    links = scale_out_options(cat, chip, w.interconnect)
    link0 = links[0] if links else None
    storage0 = w.storage
    reasons: list[str] = []

    def at(count: int, fw: Framework, link: str | None) -> Outcome:
        return evaluate(ctx, Spec(chip.id, count, link, storage0, fw.id))

    chosen: list[int] = []
    if job.inference:
        first: Outcome | None = None
        fallback: Outcome | None = None
        for count in count_ladder(chip, job):
            split = count > chip.scale_up_domain_size and needs_network(job, chip)
            oc = at(count, fw0, link0 if split else None)
            if oc.ok and oc.layout.get("graph", "device") != "device":
                # A graph that spills to host memory or storage: keep looking for a partitioned
                # layout that holds it in device memory, and fall back to the first such spill.
                fallback = fallback or oc
                continue
            if oc.ok:
                first = oc
                break
            if not reasons or not any("power" in r or "budget" in r for r in reasons):
                reasons = oc.reasons
            if any("power budget" in r or "the budget is" in r for r in oc.reasons):
                break  # more chips only draw more power and cost more
        first = first or fallback
        if first is None:
            return [], reasons or ["does not fit"]
        chosen.append(first.spec.count)
        rate = w.rate
        served = first.metrics.get("requests_per_s") or 0.0
        if rate and served < rate * 0.999 and w.chips is None:
            tp = first.layout.get("tensor_parallel", 1)
            replicas = math.ceil(rate / max(served, 1e-12) * first.spec.count / tp)
            limit = w.max_chips or 4096
            count = min(tp * replicas, limit - limit % tp)
            if count > first.spec.count:
                chosen = [count]
    else:
        horizon = w.deadline or DEFAULT_HORIZON_S.get(job.task, math.inf)
        fitting: list[Outcome] = []
        first_reasons: list[str] = []
        limit_reasons: list[str] = []
        for count in count_ladder(chip, job):
            link = link0 if count > chip.scale_up_domain_size else None
            oc = at(count, fw0, link)
            for fw in frameworks[1:]:
                if oc.ok or any("deadline" in r or "budget" in r for r in oc.reasons):
                    break
                oc = at(count, fw, link)
            if not oc.ok:
                limited = any("deadline" in r or "budget" in r for r in oc.reasons)
                if limited:
                    limit_reasons = oc.reasons  # the latest says how close scaling came
                elif not first_reasons:
                    first_reasons = oc.reasons
                if limited and any("budget" in r for r in oc.reasons):
                    break  # a budget overrun only grows with scale
                continue
            fitting.append(oc)
            if oc.metrics["time_s"] <= horizon:
                break
        if not fitting:
            return [], limit_reasons or first_reasons or ["does not fit on any chip count tried"]
        base = fitting[-1]
        chosen.append(base.spec.count)
        if optimize in ("time", "balanced") and w.chips is None:
            limit = w.max_chips or 16384
            if base.spec.count * 2 <= limit:
                chosen.append(base.spec.count * 2)
    results: list[Outcome] = []
    for count in chosen:
        needs_link = count > chip.scale_up_domain_size and needs_network(job, chip)
        candidates = [at(count, fw, link0 if needs_link else None) for fw in frameworks]
        best = _best(candidates, optimize)
        if best is None:
            reasons = candidates[0].reasons
            continue
        fw_best = cat.frameworks[best.spec.framework]
        if needs_link and len(links) > 1:
            others = [at(count, fw_best, link) for link in links[1:]]
            best = _best([best, *others], optimize) or best
        results.append(best)
    return results, reasons


# --------------------------------------------------------------------------- relief


def _relief_options(
    ctx: Context, oc: Outcome
) -> list[tuple[str, str, str | None, str, Spec | Workload]]:
    """(category, component, before, after, new spec or workload) for each single change."""
    cat, job = ctx.catalog, ctx.job
    chip = cat.chips[oc.spec.chip]
    s = oc.spec
    options: list[tuple[str, str, str | None, str, Spec | Workload]] = []
    if s.scale_out:
        options.extend(
            ("network", "scale_out", s.scale_out, link, dataclasses.replace(s, scale_out=link))
            for link in scale_out_options(cat, chip, None)
            if link != s.scale_out
        )
    storage_matters = oc.breakdown.get("storage_s", 0.0) > 0.01 * (
        oc.metrics.get("step_time_s") or 0.0
    )
    if job.workload.storage is None and (storage_matters or job.workload.optimize == "cost"):
        stores = [
            st
            for st in storage_candidates(cat, chip, dataclasses.replace(s, storage=None))
            if st.id != s.storage
        ]
        stores.sort(key=lambda st: (-(st.read_gb_s or st.read_max_gb_s or 0.0), st.id))
        options.extend(
            ("storage", "storage", s.storage, store.id, dataclasses.replace(s, storage=store.id))
            for store in stores[:RELIEF_STORAGE]
        )
    if job.workload.chip is None:
        pool = (
            [cat.chips[c] for c in ctx.shortlist]
            if ctx.shortlist is not None
            else list(cat.chips.values())
        )
        for other in pool:
            if other.id == chip.id or rules.chip_rejections(job, other):
                continue
            fws, _ = rules.frameworks_for(job, cat.frameworks, other)
            if not fws:
                continue
            fw = s.framework if any(f.id == s.framework for f in fws) else fws[0].id
            links = scale_out_options(cat, other, job.workload.interconnect)
            link = links[0] if links and s.count > other.scale_up_domain_size else None
            spec = Spec(other.id, s.count, link, None, fw)
            options.append(("chip", "chip", chip.id, other.id, spec))
    if job.workload.chips is None:
        limit = job.workload.max_chips or 16384
        if s.count * 2 <= limit:
            links = scale_out_options(cat, chip, job.workload.interconnect)
            link = s.scale_out or (
                links[0] if links and s.count * 2 > chip.scale_up_domain_size else None
            )
            options.append(
                (
                    "count",
                    "chips",
                    str(s.count),
                    str(s.count * 2),
                    dataclasses.replace(s, count=s.count * 2, scale_out=link),
                )
            )
    fabric = cat.interconnects.get(s.scale_out or "")
    if fabric is not None and not fabric.rdma and not s.offload and chip.segment == "datacenter":
        options.extend(
            ("offload", "offload", None, dpu.id, dataclasses.replace(s, offload=dpu.id))
            for dpu in cat.chips.values()
            if dpu.type == "dpu" and dpu.status == "available"
        )
    if job.workload.framework is None:
        fws, _ = rules.frameworks_for(job, cat.frameworks, chip)
        options.extend(
            ("framework", "framework", s.framework, fw.id, dataclasses.replace(s, framework=fw.id))
            for fw in fws
            if fw.id != s.framework
        )
    w = job.workload
    if w.precision in ("bf16", "fp16") and chip.peak_tflops.fp8:
        options.append(
            ("workload", "precision", w.precision, "fp8", dataclasses.replace(w, precision="fp8"))
        )
    if job.inference and w.precision in ("bf16", "fp16", "fp8"):
        options.append(
            (
                "workload",
                "precision",
                w.precision,
                "int4",
                dataclasses.replace(w, precision="int4"),
            )
        )
    if job.task == "finetune" and job.method == "lora":
        options.append(
            (
                "workload",
                "finetune_method",
                "lora",
                "qlora",
                dataclasses.replace(w, finetune_method="qlora"),
            )
        )
    return options


PREFERRED = {
    "network": ("network", "offload", "count", "chip"),
    "storage": ("storage",),
    "compute": ("workload", "chip", "count"),
    "memory_bandwidth": ("chip", "workload", "count"),
    "memory_capacity": ("chip", "count", "workload"),
    "power": ("chip", "workload"),
    "host": ("offload", "chip", "storage", "workload"),
}


def find_relief(ctx: Context, oc: Outcome) -> Relief | None:
    job = ctx.job
    optimize = job.workload.optimize
    metric, before = scoring.relief_metric(oc, optimize)
    if before is None:
        return None
    found: list[tuple[int, float, str, Relief]] = []
    preferred = PREFERRED.get(oc.kind, ())
    options = _relief_options(ctx, oc)
    # A change of a preferred kind beats any other that helps, so the others are weighed only
    # when no preferred change helps: the same answer, from fewer evaluations.
    first = [o for o in options if o[0] in preferred]
    later = [o for o in options if o[0] not in preferred]
    for category, component, old, new, change in first + later:
        if found and category not in preferred:
            break
        if isinstance(change, Workload):
            sub = ctx.sub(("workload", component, new), change)
            spec = oc.spec
            other = ctx.evaluate_in(
                sub,
                dataclasses.replace(spec, storage=spec.storage if job.workload.storage else None),
            )
        else:
            other = evaluate(ctx, change)
        if not other.ok or (other.soft and not oc.soft):
            continue  # a change that breaks a target the stack meets is no relief
        _, after = scoring.relief_metric(other, optimize, metric)
        if after is None or before <= 0:
            continue
        gain = scoring.gain(metric, before, after)
        if gain <= 0.02:
            continue
        rank = 0 if category in preferred else 1
        relief = Relief(
            change=f"{component}: {old} -> {new}",
            component=component,
            before=old,
            after=new,
            metric=metric,
            before_value=before,
            after_value=after,
            improvement=gain,
        )
        found.append((rank, -gain, f"{component}:{new}", relief))
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


def _candidates(ctx: Context) -> tuple[list[Outcome], list[Rejection]]:
    job, cat = ctx.job, ctx.catalog
    w = job.workload
    chips: list[Chip]
    chips = [cat.chips[w.chip]] if w.chip is not None else list(cat.chips.values())
    outcomes: list[Outcome] = []
    rejected: list[Rejection] = []
    for chip in chips:
        reasons = (
            rules.chip_rejections(job, chip)
            if w.chip is None
            else [
                r
                for r in rules.chip_rejections(job, chip)
                if "include-legacy" not in r or not w.include_legacy
            ]
        )
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
        found, reasons = plan_chip(ctx, chip, frameworks)
        if found:
            outcomes.extend(found)
        else:
            rejected.append(Rejection(id=chip.id, reasons=sorted(set(reasons))[:3]))
    return outcomes, rejected


def validate_pins(workload: Workload, catalog: Catalog) -> None:
    pins: dict[str, dict[str, Any]] = {
        "chip": catalog.chips,
        "interconnect": catalog.interconnects,
        "storage": catalog.storage,
        "framework": catalog.frameworks,
    }
    for name, table in pins.items():
        value = getattr(workload, name)
        if value is not None and value not in table:
            import difflib

            close = difflib.get_close_matches(value, list(table), n=1)
            raise WorkloadError(
                f"--{name}: unknown id {value!r}"
                + (f" (did you mean {close[0]!r}?)" if close else ""),
                hint=f"see `infra-advisor catalog list {name if name != 'storage' else 'storage'}s`".replace(
                    "storages", "storage"
                ),
            )
    if (
        workload.interconnect is not None
        and catalog.interconnects[workload.interconnect].scope != "scale_out"
    ):
        raise WorkloadError(
            f"--interconnect {workload.interconnect}: a scale-up link; --interconnect pins the scale-out "
            "fabric (the scale-up link comes with the chip)"
        )


def recommend(
    workload: Workload, catalog: Catalog, top: int = DEFAULT_TOP, require_fit: bool = False
) -> Report:
    validate_pins(workload, catalog)
    job = build_job(workload, catalog)
    ctx = Context(job, catalog)
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
    ranked = sorted(
        range(len(outcomes)),
        key=lambda i: (-scores[i], stack_id(outcomes[i].spec, outcomes[i].scale_up)),
    )
    ctx.shortlist = list(dict.fromkeys(outcomes[i].spec.chip for i in ranked))[:RELIEF_CHIPS]
    pareto = scoring.pareto_flags(outcomes)
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
        rejected=sorted(rejected, key=lambda r: r.id),
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


def build_stack(ctx: Context, oc: Outcome, rank: int, score: float, pareto: bool) -> Stack:
    relief = find_relief(ctx, oc)
    notes = list(dict.fromkeys([*oc.soft, *oc.notes]))
    return Stack(
        rank=rank,
        id=stack_id(oc.spec, oc.scale_up),
        components=Components(
            chip=ChipCount(id=oc.spec.chip, count=oc.spec.count),
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
    """Turn 'h100-sxm:8/nvlink-4/-/aws-fsx-lustre/pytorch' back into workload pins."""
    parts = text.strip().split("/")
    offload = None
    if len(parts) == 6 and parts[5].startswith("dpu:"):
        offload = parts.pop()[4:]
    if len(parts) != 5 or ":" not in parts[0]:
        raise WorkloadError(
            f"stack id {text!r}: expected CHIP:COUNT/SCALE_UP/SCALE_OUT/STORAGE/FRAMEWORK "
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
    pinned = dataclasses.replace(workload, **pins)
    validate_pins(pinned, catalog)
    if offload is not None and (
        offload not in catalog.chips or catalog.chips[offload].type != "dpu"
    ):
        raise WorkloadError(f"stack id {stack!r}: {offload!r} is not a DPU in the catalog")
    return pinned, None if offload is None else str(offload)


def explain_stack(workload: Workload, catalog: Catalog, stack: str) -> Report:
    pinned, offload = _pinned(workload, catalog, stack)
    chip = catalog.chips[str(pinned.chip)]
    fw = catalog.frameworks[str(pinned.framework)]
    job = build_job(pinned, catalog)
    reasons = [r for r in rules.chip_rejections(job, chip) if "include-legacy" not in r]
    fw_reason = rules.framework_rejection(job, fw, chip)
    ctx = Context(job, catalog)
    oc = evaluate(
        ctx, Spec(chip.id, pinned.chips or 1, pinned.interconnect, pinned.storage, fw.id, offload)
    )
    all_reasons = reasons + ([fw_reason] if fw_reason else []) + oc.reasons
    stacks = []
    rejected = []
    if oc.ok and not all_reasons:
        stacks.append(build_stack(ctx, oc, 1, 1.0, True))
    else:
        rejected.append(Rejection(id=stack, reasons=all_reasons))
    return Report(
        workload=to_data(pinned),
        catalog=CatalogInfo(files=list(catalog.files), counts={"chips": len(catalog.chips)}),
        optimize=pinned.optimize,
        stacks=stacks,
        rejected=rejected,
        assumptions=list(job.assumptions),
        evaluated=ctx.evaluated,
    )


def compare_stacks(workload: Workload, catalog: Catalog, stack_ids: list[str]) -> Report:
    """Evaluate each stack for the same workload and rank them against each other."""
    outcomes: list[Outcome] = []
    rejected: list[Rejection] = []
    jobs: list[Context] = []
    for text in stack_ids:
        pinned, offload = _pinned(workload, catalog, text)
        job = build_job(pinned, catalog)
        ctx = Context(job, catalog)
        chip = catalog.chips[str(pinned.chip)]
        fw = catalog.frameworks[str(pinned.framework)]
        fw_reason = rules.framework_rejection(job, fw, chip)
        oc = evaluate(
            ctx,
            Spec(chip.id, pinned.chips or 1, pinned.interconnect, pinned.storage, fw.id, offload),
        )
        reasons = ([fw_reason] if fw_reason else []) + oc.reasons
        if reasons:
            rejected.append(Rejection(id=text, reasons=reasons))
        else:
            outcomes.append(oc)
            jobs.append(ctx)
    scores = scoring.score(outcomes, workload.optimize)
    pareto = scoring.pareto_flags(outcomes)
    order = sorted(
        range(len(outcomes)),
        key=lambda i: (-scores[i], stack_id(outcomes[i].spec, outcomes[i].scale_up)),
    )
    stacks = [
        build_stack(jobs[i], outcomes[i], rank, scores[i], pareto[i])
        for rank, i in enumerate(order, start=1)
    ]
    job0 = build_job(workload, catalog)
    return Report(
        workload=to_data(workload),
        catalog=CatalogInfo(files=list(catalog.files), counts={"chips": len(catalog.chips)}),
        optimize=workload.optimize,
        stacks=stacks,
        rejected=rejected,
        assumptions=list(job0.assumptions),
        evaluated=sum(c.evaluated for c in jobs),
    )
