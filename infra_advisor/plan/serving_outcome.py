"""One transformer-serving stack evaluated: its layout, metrics, breakdown and bottleneck.

The layout and the seconds come from plan.serving (layouts, batch) over physics (StepCost);
this module only turns the chosen one into an Outcome: the working (terms), the report's
breakdown and metrics (all read from the same StepCost), power and cost (evaluate.finish), and
the bottleneck named by its phase.
"""

from __future__ import annotations

import math

from infra_advisor.catalog import Catalog
from infra_advisor.job import Job
from infra_advisor.models import Chip, Framework
from infra_advisor.physics.cost import PhaseCost, StepCost
from infra_advisor.plan.evaluate import (
    Outcome,
    Spec,
    chip_capacity_bytes,
    choose_storage,
    compute_peak,
    finish,
    links_for,
    serving_memory,
    weight_bytes_per_param,
)
from infra_advisor.plan.frameworks import Capabilities, capabilities, kv_precision_choices
from infra_advisor.plan.serving import (
    KV_BYTES,
    QUEUED_PHASE,
    Floor,
    Served,
    ServingInputs,
    achieved_bytes_s,
    bandwidth_share,
    batch_capped,
    batch_occupancy,
    best_serving,
    decode_context,
    first_prefill,
    floor,
    kv_per_chip_token,
    kv_utilisation,
    model_for,
    prefill_tokens,
    request_cost,
    reserved_context,
    runtime_overhead,
    served_step,
    smallest_fit_bytes,
)
from infra_advisor.report import BottleneckKind
from infra_advisor.units import format_bytes, format_duration

GB = 1e9
KIND: dict[str, BottleneckKind] = {
    "compute": "compute",
    "memory": "memory_bandwidth",
    "network": "network",
    "host": "host",
    "storage": "storage",
}


def _inputs(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, flops: float
) -> ServingInputs:
    caps = capabilities(fw, chip)
    assert caps is not None  # the caller has checked the framework runs here
    up = cat.interconnects.get(chip.scale_up_interconnect or "")
    _, hop = links_for(cat, chip, spec)
    hop_link = hop or up  # stages in one box hop over the chips' own link
    link = (
        chip.scale_up_bandwidth_gb_s * GB
        if up is not None and chip.scale_up_bandwidth_gb_s
        else math.inf
    )
    return ServingInputs(
        job=job,
        chip=chip,
        caps=caps,
        count=spec.count,
        flops=flops,
        weight_bytes=job.params * weight_bytes_per_param(job),
        capacity_bytes=chip_capacity_bytes(chip),
        usable_bytes=serving_memory(job, chip),
        link_bytes_s=link,
        link_latency_s=up.latency_us * 1e-6 if up is not None else 0.0,
        hop_bytes_s=hop.bandwidth_gb_s * GB if hop is not None else link,
        hop_latency_s=hop_link.latency_us * 1e-6 if hop_link is not None else 0.0,
        has_hop=hop is not None or (up is not None and _stages_in_box(job, caps)),
    )


def _stages_in_box(job: Job, caps: Capabilities) -> bool:
    """Whether pipeline stages may sit inside one scale-up domain, hopping over the chips' own
    link: where the user pins pipeline stages, or the framework splits a model across its
    chips by layers only (llama.cpp's default layer split).  Otherwise stages span nodes and a
    box's chips split by tensor parallelism, as the serving engines run them."""
    return bool(job.workload.pipeline_parallel) or "tensor" not in caps.parallelism


def evaluate_serving(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    """Serve the transformer on this stack: the best layout for the rate, and what limits it."""
    w = job.workload
    caps = capabilities(fw, chip)
    if caps is None:
        return oc.reject(f"{fw.name} does not run on {chip.name}")
    if w.precision not in caps.weights:
        have = ", ".join(sorted(caps.weights)) or "none listed"
        return oc.reject(f"{fw.name} runs no {w.precision} weights on {chip.name} (it runs {have})")
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision} inference")
    flops = _achieved_flops(job, caps, peak)
    inp = _inputs(job, cat, chip, fw, spec, flops)
    best = best_serving(inp, w.precision)
    if best is None:
        return _reject_memory(inp, oc, caps.framework.name)
    _record(inp, cat, oc, best, precision, peak)
    return oc


def _achieved_flops(job: Job, caps: Capabilities, peak: float) -> float:
    return peak * job.eff["compute-inference"] * caps.efficiency("prefill", job.is_moe)


def serving_floor(job: Job, chip: Chip, frameworks: list[Framework], limit: int) -> Floor | None:
    """What no layout of any of these frameworks beats on this chip (plan.serving.floor at the
    best FLOP/s and bytes/s among them); None where none runs the job's weights."""
    flops = bytes_s = 0.0
    kv: list[str] = []
    w = job.workload
    for fw in frameworks:
        caps = capabilities(fw, chip)
        if caps is None or w.precision not in caps.weights:
            continue
        _, peak = compute_peak(job, chip, fw, [])
        flops = max(flops, _achieved_flops(job, caps, peak))
        bytes_s = max(bytes_s, achieved_bytes_s(job, caps, chip))
        kv += kv_precision_choices(caps, w.kv_precision, w.precision)
    if flops <= 0 or bytes_s <= 0 or not kv:
        return None
    capacity = max(chip.memory_gb * GB, chip_capacity_bytes(chip))
    lightest = min(kv, key=lambda p: KV_BYTES[p])
    return floor(job, flops, bytes_s, capacity, chip.scale_up_domain_size, limit, lightest)


def _reject_memory(inp: ServingInputs, oc: Outcome, fw_name: str) -> Outcome:
    w, chip = inp.job.workload, inp.chip
    if w.kv_precision is not None and w.kv_precision not in inp.caps.kv:
        held = ", ".join(sorted(inp.caps.kv)) or "no precision the catalog lists"
        return oc.reject(f"--kv-precision {w.kv_precision}: {fw_name} keeps its KV cache in {held}")
    need, g = smallest_fit_bytes(inp, w.precision)
    if g is None:
        return oc.reject(
            f"no tensor/pipeline layout of {inp.count} chips suits this model with {fw_name}"
            + (
                " and the pinned parallel degrees"
                if w.tensor_parallel or w.pipeline_parallel
                else ""
            )
        )
    stages = f" × {g.pp} pipeline stages" if g.pp > 1 else ""
    return oc.reject(
        f"weights {format_bytes(inp.weight_bytes)} ({w.precision}) + one request's KV cache need "
        f"{format_bytes(need)} per chip at tensor-parallel {g.tp}{stages}; "
        f"{chip.name} holds {format_bytes(chip.memory_gb * GB)} ({format_bytes(inp.usable_bytes)} usable)"
    )


def _record(
    inp: ServingInputs, cat: Catalog, oc: Outcome, s: Served, precision: str, peak: float
) -> None:
    job, spec = inp.job, oc.spec
    g = s.group
    oc.layout = {
        "tensor_parallel": g.tp,
        "pipeline_parallel": g.pp,
        "data_parallel": g.replicas,
        "replicas": g.replicas,
        "batch": s.batch,
        "max_batch": s.max_batch,
        "precision": precision,
        "weights": job.workload.precision,
        "kv_precision": s.kv_precision,
        "batching": inp.caps.batching,
        "idle_chips": spec.count - g.chips * g.replicas,
    }
    oc.saturation_rps = s.saturation_rps
    _storage_and_power(inp, cat, oc, s)
    _metrics(inp, oc, s)
    _targets(inp, oc, s)

    # Most evaluations are sizing and relief candidates nobody reads: their breakdown, working
    # and prose are written only when the stack is reported.
    def explain() -> None:
        request = request_cost(inp, s)
        oc.breakdown = request.breakdown() | {"bubble_s": 0.0}
        _terms(inp, oc, s, peak)
        _attribute(inp, oc, s, request)

    oc.deferred.append(explain)


def _terms(inp: ServingInputs, oc: Outcome, s: Served, peak: float) -> None:
    job, chip = inp.job, inp.chip
    m = model_for(inp, s.kv_precision)
    oc.term("weights", "P · bytes/weight", inp.weight_bytes, "bytes", "F5", P=job.params,
            bytes_per_weight=weight_bytes_per_param(job))  # fmt: skip
    oc.term("KV cache per token", "2·L·n_kv·d_head·bytes", m.kv_bytes_per_token, "bytes", "F8",
            L=job.shape.layers, n_kv=job.shape.kv_heads, d_head=job.shape.head_dim,
            precision=s.kv_precision)  # fmt: skip
    oc.term("largest batch in memory",
            "(M·η − overhead − W/g) · KV utilisation / (KV per chip-token · context)", s.max_batch,
            "requests", "F9", M=chip.memory_gb * GB, g=s.group.chips, paged=inp.caps.paged_kv,
            utilisation=kv_utilisation(inp),
            kv_per_chip_token=kv_per_chip_token(inp, s.group, m.kv_bytes_per_token),
            context=reserved_context(inp))  # fmt: skip
    first = first_prefill(inp, s.group, s.kv_precision).phase("prefill GEMMs")
    oc.term("time to first token", "prefill GEMMs + attention + TP all-reduce (+ one step)",
            s.ttft_s, "s", "F11", s=prefill_tokens(inp), t=s.group.tp, peak_tflops=peak / 1e12,
            prefill_gemm_s=first.total_s if first else 0.0)  # fmt: skip
    oc.term("decode step", "Σ phases: GEMMs max(2·P·B/(g·F·η), W/(g·BW·η)) + attention "
            "max(4·L·c·d·B/(g·F·η), B·c·KV/(split·BW·η)) + all-reduces", s.step_s, "s", "F11",
            B=s.batch, t=s.group.tp, p=s.group.pp, bandwidth_gb_s=chip.memory_bandwidth_gb_s,
            efficiency=bandwidth_share(job, inp.caps, chip))  # fmt: skip
    oc.term("capacity", "replicas × occupancy / (prefill + output tokens × step / B)",
            s.capacity_rps, "requests/s", "F11", replicas=s.group.replicas,
            batching=inp.caps.batching, occupancy=batch_occupancy(inp))  # fmt: skip


def _storage_and_power(inp: ServingInputs, cat: Catalog, oc: Outcome, s: Served) -> None:
    job, chip, spec = inp.job, inp.chip, oc.spec
    cat_store = choose_storage(
        job, cat, chip, spec, oc, 0.0, s.step_s, 0.0, math.inf, inp.weight_bytes,
        s.group.replicas,
    )  # fmt: skip
    store, _, _, provisioned = cat_store
    window = (
        job.workload.samples / s.served_rps if (job.workload.samples and s.served_rps) else 3600.0
    )
    step = served_step(inp, s)
    c, mem, total = step.resource_s("compute"), step.resource_s("memory"), step.total_s
    busy = min(1.0, max(c / total, 0.3 * mem / total)) if total > 0 else 0.0
    active = s.group.chips * s.group.replicas
    util = s.load * busy * active / spec.count
    memory = (
        inp.weight_bytes / s.group.chips
        + s.batch
        * kv_per_chip_token(inp, s.group, model_for(inp, s.kv_precision).kv_bytes_per_token)
        * reserved_context(inp)
        + runtime_overhead(inp)
    )
    finish(job, cat, chip, spec, oc, store, provisioned, seconds=window,
           step_s=s.step_s, util=util, memory=memory, capacity=chip.memory_gb * GB)  # fmt: skip


def _metrics(inp: ServingInputs, oc: Outcome, s: Served) -> None:
    job = inp.job
    tokens_per_s = s.served_rps * job.output_tokens
    cost, window = oc.metrics["cost_usd"], oc.metrics["time_s"]
    oc.metrics.update(
        ttft_s=s.ttft_s,
        tpot_s=s.tpot_s,
        latency_s=s.latency_s,
        tokens_per_s=tokens_per_s,
        samples_per_s=s.served_rps,
        requests_per_s=s.served_rps,
        cost_per_million_tokens_usd=cost / (tokens_per_s * window) * 1e6
        if cost is not None and tokens_per_s
        else None,
    )
    oc.objective_time_s = s.latency_s


def _targets(inp: ServingInputs, oc: Outcome, s: Served) -> None:
    w = inp.job.workload
    if w.rate and s.served_rps < w.rate * 0.999:
        limit = (
            f"--batch-size {w.batch_size} allows"
            if batch_capped(inp, s)
            else "fits in memory left for the KV cache"
        )
        oc.soft.append(
            f"saturated: sustains {s.served_rps:.3g} requests/s of the {w.rate:g} asked, at the "
            f"batch of {s.batch} that {limit}"
        )
    if w.latency_target is not None and s.ttft_s > w.latency_target:
        oc.soft.append(
            f"time to first token {format_duration(s.ttft_s)} misses the "
            f"{format_duration(w.latency_target)} target"
        )
    if w.tpot_target is not None and s.tpot_s > w.tpot_target:
        oc.soft.append(
            f"time per output token {format_duration(s.tpot_s)} misses the "
            f"{format_duration(w.tpot_target)} target"
        )


def _attribute(inp: ServingInputs, oc: Outcome, s: Served, request: StepCost) -> None:
    """The bottleneck: the phase taking most of the request, and the resource it waits on."""
    job, chip = inp.job, inp.chip
    rate, capped = job.workload.rate, batch_capped(inp, s)
    if rate and s.served_rps < rate * 0.999 and s.batch >= s.max_batch and not capped:
        m = model_for(inp, s.kv_precision)
        per = kv_per_chip_token(inp, s.group, m.kv_bytes_per_token) * reserved_context(inp)
        oc.kind = "memory_capacity"
        oc.explanation = (
            f"the KV cache fills memory at a batch of {s.max_batch} per replica "
            f"({format_bytes(per)} per request per chip, {s.kv_precision} KV, beside "
            f"{format_bytes(inp.weight_bytes / s.group.chips)} of weights per chip on "
            f"{s.group.chips} chip(s)); each decode step then takes {format_duration(s.step_s)}"
        )
        return
    phase = _dominant(request)
    oc.kind = KIND[phase.bound] if phase.name != QUEUED_PHASE else "compute"
    oc.explanation = (
        f"{_phase_label(phase.name, job.output_tokens)}: {format_duration(phase.total_s)} of a "
        f"{format_duration(request.total_s)} request ({phase.total_s / request.total_s:.0%}), "
        f"{phase.bound}-bound ({_detail(inp, s, phase.name, phase.bound, chip.name)})"
    )


def _dominant(request: StepCost) -> PhaseCost:
    phase = request.dominant()
    assert phase is not None
    return phase


def _phase_label(name: str, output_tokens: int) -> str:
    if (
        name.startswith("decode")
        or name.startswith("tensor-parallel all-reduce")
        and "prefill" not in name
    ):
        return f"{name} over {output_tokens} output tokens"
    return name


def _detail(inp: ServingInputs, s: Served, name: str, bound: str, chip: str) -> str:
    job = inp.job
    g = s.group
    if name == QUEUED_PHASE:
        return (
            f"the replica runs at {s.load:.0%} of its capacity, so other requests' prompts take "
            "turns with this one's decode steps; more replicas or a faster chip shorten it"
        )
    if bound == "memory":
        m = model_for(inp, s.kv_precision)
        weights = m.weights_read(s.batch, g.tp, g.pp)
        share = bandwidth_share(job, inp.caps, inp.chip)
        kv = kv_per_chip_token(inp, g, m.kv_bytes_per_token) * decode_context(inp) * s.batch
        what = (
            f"{format_bytes(weights)} of weights"
            if "GEMM" in name
            else f"{format_bytes(kv)} of KV cache"
        )
        return (
            f"each step reads {what} per chip for a batch of {s.batch} at "
            f"{inp.chip.memory_bandwidth_gb_s:g} GB/s × {share:.2f}"
        )
    if bound == "network":
        return f"tensor-parallel {g.tp} all-reduces over {inp.chip.scale_up_interconnect or 'the host link'}"
    return (
        f"{job.prompt_tokens if 'prefill' in name else s.batch} "
        f"{'prompt tokens' if 'prefill' in name else 'sequences'} on {g.tp} × {chip} at "
        f"{inp.flops / 1e12:.0f} achieved TFLOPS each"
    )
