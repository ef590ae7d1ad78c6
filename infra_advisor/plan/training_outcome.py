"""One transformer training stack evaluated: its layout, metrics, breakdown and bottleneck.

The layouts and their memory come from plan.training; the step is a StepCost of named phases
(forward and backward as a roofline, the collectives of each parallel dimension, host copies,
exposed storage reads and checkpoint writes) plus the pipeline bubble, so the breakdown sums to
the time per step.  Power and cost come from evaluate.finish.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from infra_advisor.catalog import Catalog
from infra_advisor.job import Job
from infra_advisor.models import Chip, Framework
from infra_advisor.physics import storage as st
from infra_advisor.physics import transformer as tf
from infra_advisor.physics.cost import PhaseCost, StepCost
from infra_advisor.plan import training as pt
from infra_advisor.plan.evaluate import (
    GB,
    Outcome,
    Spec,
    attention_peak,
    choose_storage,
    collective_efficiency,
    compute_peak,
    dominant_overhead,
    finish,
    group_link,
    links_for,
    node_size,
    tcp_host_time,
)
from infra_advisor.plan.frameworks import capabilities
from infra_advisor.report import BottleneckKind
from infra_advisor.units import format_bytes, format_duration


@dataclass
class TrainingLayout:
    """A training layout: parallel degrees, ZeRO stage, recomputation, memory and step parts."""

    tp: int
    pp: int
    dp: int
    zero: int
    recompute: bool
    memory: float
    step_s: float
    parts: dict[str, float]
    detail: dict[str, Any]


@dataclass(frozen=True)
class _Search:
    """What every layout of one stack shares."""

    job: Job
    cat: Catalog
    chip: Chip
    spec: Spec
    trainable: float
    usable: float
    flops: tuple[float, float]  # matmul and attention compute rates, FLOP/s per chip
    mem_bytes_s: float
    links: tuple[Any, Any]
    expert_launch: float = 0.0  # host seconds per local expert per MoE layer per micro-batch
    reduce_bytes: float = tf.GRAD_BYTES  # a gradient element in the data-parallel reduction
    dedup_dispatch: bool = False  # the framework's MoE dispatch deduplicates (F12e)


def plan_training(
    job: Job,
    cat: Catalog,
    chip: Chip,
    fw: Framework,
    spec: Spec,
    peaks: tuple[float, float],
    capacity: float,
) -> TrainingLayout | str:
    """The fastest training layout that fits, or a sentence saying why none fits; ``peaks``
    are the matmul and attention peaks (compute_peak, attention_peak)."""
    n = spec.count
    lora = job.method in ("lora", "qlora")
    trainable = tf.lora_params(job.shape) if lora else job.params
    usable = capacity * job.eff["memory-usable"]
    caps = capabilities(fw, chip)
    par = caps.parallelism if caps is not None else frozenset(fw.parallelism)
    floor = pt.lower_bound_bytes(job, n, trainable) + job.eff["runtime-overhead"]
    if floor > usable:
        return (
            f"model states alone need {format_bytes(floor)} per chip even fully sharded over {n} "
            f"chips; {chip.name} holds {format_bytes(capacity)} ({format_bytes(usable)} usable)"
        )
    mem_bytes_s = job.eff["memory-bandwidth"] * chip.memory_bandwidth_gb_s * GB
    eta = job.eff["compute-training"]
    launch = job.eff["moe-expert-launch"] if fw.moe_expert_launches else 0.0
    reduce = job.workload.grad_reduce or fw.gradient_reduce_precision
    search = _Search(job, cat, chip, spec, trainable, usable, (peaks[0] * eta, peaks[1] * eta),
                     mem_bytes_s, links_for(cat, chip, spec), launch,
                     tf.bytes_per_weight(reduce) if reduce else tf.GRAD_BYTES,
                     fw.dedup_dispatch)  # fmt: skip
    best, smallest = _search_layouts(search, par)
    if best is not None:
        return best
    if smallest == math.inf:
        return (
            f"no parallel layout of {n} chips suits this model ({job.shape.heads} heads, "
            f"{job.shape.layers} layers, global batch {job.batch_size}) with {fw.name}'s "
            f"parallelism ({', '.join(sorted(par)) or 'none'})"
        )
    return (
        f"needs at least {format_bytes(smallest)} per chip in the best layout on {n} chips; "
        f"{chip.name} holds {format_bytes(capacity)} ({format_bytes(usable)} usable)"
    )


def _search_layouts(s: _Search, par: frozenset[str]) -> tuple[TrainingLayout | None, float]:
    """The fastest layout that fits, and the least memory any layout needs.

    The layouts that fit come from plan.training.fitting_layouts; a layout whose compute,
    bubble and tensor-parallel all-reduces alone are slower than the best found is not costed."""
    job = s.job
    overhead = job.eff["runtime-overhead"]
    fits, smallest = pt.fitting_layouts(
        job, s.spec.count, s.chip.scale_up_domain_size, par, s.trainable, s.usable - overhead
    )
    best: TrainingLayout | None = None
    links: dict[int, tuple[float, float, float]] = {}
    for c, need in fits:
        if best is not None:
            if c.tp not in links:
                links[c.tp] = _tp_link(s, c)
            if pt.lower_bound_s(job, c, s.flops, links[c.tp]) >= best.step_s:
                continue
        layout = _cost_layout(s, c, need + overhead)
        if best is None or layout.step_s < best.step_s - 1e-12:
            best = layout
    return best, smallest + overhead


def _tp_link(s: _Search, c: pt.Candidate) -> tuple[float, float, float]:
    bandwidth, latency, _ = group_link(c.tp, c.tp, s.chip, *s.links)
    return bandwidth, latency, collective_efficiency(s.job, c.tp, c.tp, s.chip, *s.links)


def _cost_layout(s: _Search, c: pt.Candidate, memory: float) -> TrainingLayout:
    """Seconds of one step of a layout that fits (plan.training.step_parts)."""
    n = s.spec.count
    up, out = s.links
    links = pt.Links(
        tp=group_link(c.tp, c.tp, s.chip, up, out),
        dp=group_link(c.dp, n, s.chip, up, out),
        pp=group_link(c.pp, n, s.chip, up, out),
        # Folded expert ranks are consecutive (expert TP 1): EP 8 stays in an 8-GPU box (F12d).
        ep=group_link(c.ep, c.ep, s.chip, up, out),
        cp=group_link(c.cp, c.tp * c.cp, s.chip, up, out),
        tp_eff=collective_efficiency(s.job, c.tp, c.tp, s.chip, up, out),
        dp_eff=collective_efficiency(s.job, c.dp, n, s.chip, up, out),
        domain=s.chip.scale_up_domain_size,
        dedup_dispatch=s.dedup_dispatch,
    )
    parts = pt.step_parts(s.job, c, s.trainable, s.flops, s.mem_bytes_s, links, s.reduce_bytes)
    tcp = tcp_host_time(s.job, s.cat, s.spec, parts["grad_bytes"]) if c.dp > 1 else 0.0
    launches = pt.expert_launch_seconds(s.job, c, s.expert_launch)
    host = tcp + launches
    keep = ("compute_s", "memory_s", "elementwise_s", "network_s", "bubble_s", "overlap_s",
            "tp_comm_s", "dp_comm_s", "pp_comm_s", "ep_comm_s", "cp_comm_s")  # fmt: skip
    return TrainingLayout(
        tp=c.tp, pp=c.pp, dp=c.dp, zero=c.zero, recompute=c.recompute, memory=memory,
        step_s=pt.step_seconds(parts, host),
        parts={k: parts[k] for k in keep}
        | {"host_s": host, "tcp_host_s": tcp, "expert_host_s": launches},
        detail={
            "states_bytes": pt.state_bytes(s.job, c, s.trainable),
            "activation_bytes": parts["activation_bytes"],
            "micro_batches": parts["micro_batches"], "micro_batch": c.micro_batch,
            "virtual_stages": c.virtual, "flops_per_token": parts["flops_per_token"],
            "attention_flops_per_token": pt.attention_flops_per_token(s.job, c.recompute),
            "tp_link": links.tp[2], "dp_link": links.dp[2], "grad_bytes": parts["grad_bytes"],
            "expert_parallel": c.ep, "context_parallel": c.cp, "ep_link": links.ep[2],
            "ep_copies": parts["ep_copies"],
            "eval_pass_s": pt.evaluation_pass_s(s.job, c, parts),
        },
    )  # fmt: skip


def evaluate_training(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    """Train the transformer on this stack: the fastest layout that fits, its storage, time,
    power and cost, and what limits it."""
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(
            f"{chip.name} lists no peak throughput usable for {job.workload.precision} training"
        )
    capacity = chip.memory_gb * GB
    peaks = (peak, attention_peak(job, chip, precision, peak))
    layout = plan_training(job, cat, chip, fw, spec, peaks, capacity)
    if isinstance(layout, str):
        return oc.reject(layout)
    oc.layout = _layout_dict(job, layout, precision)
    timing = _storage_and_time(job, cat, chip, spec, oc, layout)
    if timing is None:
        return oc
    store, provisioned, step, total, ckpt_share, storage_s = timing
    util = min(1.0, layout.parts["compute_s"] / step) if step > 0 else 0.0
    finish(job, cat, chip, spec, oc, store, provisioned, seconds=total, step_s=step, util=util,
           memory=layout.memory, capacity=capacity)  # fmt: skip
    tokens_step = job.batch_size * job.seq_len
    useful = tf.model_flops_per_token(job.matmul_active_params, job.shape, pt.attended_context(job))
    useful *= 2 / 3 if job.method in ("lora", "qlora") else 1
    # MFU as it is published: over the datasheet's dense peak in the compute precision, not
    # the sustained, FP8-blended rate the step is costed at.
    datasheet = (chip.peak_tflops.get(precision) or peak / 1e12) * 1e12
    oc.metrics.update(
        tokens_per_s=tokens_step / step,
        samples_per_s=job.batch_size / step,
        mfu=useful * tokens_step / (step * spec.count * datasheet) if step > 0 else None,
        ttft_s=None,
        tpot_s=None,
    )
    oc.objective_time_s = total

    # Sizing and relief candidates are compared on their metrics: the breakdown, working and
    # prose are written only for a stack that is reported.
    def explain() -> None:
        _layout_terms(job, spec, oc, layout, peaks)
        cost = step_cost(layout, storage_s, ckpt_share * step)
        oc.breakdown = cost.breakdown() | {"bubble_s": layout.parts["bubble_s"]}
        _attribute(job, chip, spec, oc, layout, peaks)

    oc.deferred.append(explain)
    return oc


def step_cost(layout: TrainingLayout, storage_s: float, checkpoint_s: float) -> StepCost:
    """One step as phases (the pipeline bubble is reported beside it, as bubble_s)."""
    p = layout.parts
    exposed_dp = p["dp_comm_s"] - p["overlap_s"]
    phases = (
        PhaseCost("forward and backward", compute_s=p["compute_s"], memory_s=p["memory_s"]),
        PhaseCost(
            "element-wise kernels (norms, activations, routing)", memory_s=p["elementwise_s"]
        ),  # fmt: skip
        PhaseCost("tensor-parallel all-reduces", network_s=p["tp_comm_s"]),
        PhaseCost("data-parallel gradient sync (exposed)", network_s=exposed_dp),
        PhaseCost("pipeline sends", network_s=p["pp_comm_s"]),
        PhaseCost("expert all-to-all", network_s=p["ep_comm_s"]),
        PhaseCost("context-parallel ring (KV chunks, exposed)", network_s=p["cp_comm_s"]),
        PhaseCost("TCP copies on the host", host_s=p["tcp_host_s"]),
        PhaseCost("expert launches after each MoE layer's host sync", host_s=p["expert_host_s"]),
        PhaseCost("data reads (exposed)", storage_s=storage_s),
        PhaseCost("checkpoint writes (amortised)", storage_s=checkpoint_s),
    )
    return StepCost(phases)


def _layout_dict(job: Job, layout: TrainingLayout, precision: str) -> dict[str, Any]:
    d = layout.detail
    return {
        "tensor_parallel": layout.tp,
        "pipeline_parallel": layout.pp,
        "data_parallel": layout.dp,
        "expert_parallel": d["expert_parallel"] if job.is_moe else 1,
        "context_parallel": d["context_parallel"],
        "zero_stage": layout.zero,
        "recompute": "full" if layout.recompute else "none",
        "micro_batches": d["micro_batches"],
        "micro_batch": d["micro_batch"],
        "virtual_stages": d["virtual_stages"],
        "precision": precision,
    }


def _layout_terms(
    job: Job, spec: Spec, oc: Outcome, layout: TrainingLayout, peaks: tuple[float, float]
) -> None:
    """The working of memory and compute: states, activations, FLOPs, compute per step."""
    d, lora = layout.detail, job.method in ("lora", "qlora")
    trainable = tf.lora_params(job.shape) if lora else job.params
    states_formula = (
        "P·by_base/(t·p) + P_lora·16/(t·p)" if lora
        else "(D/(t·p) + X/(ep·p))·(2+2+12), D dense and X routed-expert parameters; ZeRO "
        "shards D over DP and X over t·DP/ep (F12d)" if job.is_moe
        else "P·(2+2+12)/(t·p), ZeRO shards over DP"
    )  # fmt: skip
    oc.term("model states per chip", states_formula, d["states_bytes"], "bytes", "F6/F23",
            P=job.params, trainable=trainable, t=layout.tp, p=layout.pp, dp=layout.dp,
            zero=layout.zero, **({"ep": d["expert_parallel"]} if job.is_moe else {}))  # fmt: skip
    oc.term("activations per chip",
            ("2" if layout.recompute else "34") + "·s·b·h/t per layer × L/p × in-flight",
            d["activation_bytes"], "bytes", "F7", s=job.seq_len, b=d["micro_batch"],
            h=job.shape.hidden, t=layout.tp, L=job.shape.layers, p=layout.pp)  # fmt: skip
    attended = pt.attended_context(job)
    oc.term("FLOPs per token",
            ("4" if lora else "6") + "·P_act + 6·L·s·h"
            + (" + recompute forward" if layout.recompute else "")
            + (" (s: the mean tokens a layer attends, sliding windows counted)"
               if attended < job.seq_len else ""),
            d["flops_per_token"], "FLOP", "F2", P_act=job.matmul_active_params, L=job.shape.layers,
            s=round(attended, 1), h=job.shape.hidden)  # fmt: skip
    oc.term("compute per step",
            "tokens/step / N × (matmul FLOPs/token / (peak · η) + attention FLOPs/token / "
            "(attention peak · η))",
            layout.parts["compute_s"], "s", "F3/F3b", tokens_per_step=job.batch_size * job.seq_len,
            N=spec.count, peak_tflops=peaks[0] / 1e12, attention_peak_tflops=peaks[1] / 1e12,
            attention_flops_per_token=d["attention_flops_per_token"],
            efficiency=job.eff["compute-training"])  # fmt: skip
    oc.term("element-wise kernels per step",
            "tokens/step · L · bytes/token-layer / (N · BW · η) (+1/3 with recomputation; "
            "QLoRA: + NF4 dequantisation, 2.5 B a frozen weight a pass)",
            layout.parts["elementwise_s"], "s", "F3e",
            bytes_per_token_layer=pt.elementwise_bytes(job), N=spec.count)  # fmt: skip
    if layout.parts["expert_host_s"] > 0:
        _, _, experts = pt.moe_split(job)
        oc.term("expert launches per step",
                "m · MoE layers/p · E/ep · launch per expert (×4/3 with recomputation)",
                layout.parts["expert_host_s"], "s", "F12b", m=d["micro_batches"],
                moe_layers=pt.moe_layers(job), p=layout.pp, E=experts, ep=d["expert_parallel"],
                launch_s=job.eff["moe-expert-launch"])  # fmt: skip
    _collective_terms(oc, layout)


# What the data-parallel exchange of one step is, by ZeRO stage (plan.training._dp_comm): g is
# the gradient reduction's bytes a parameter (the framework's precision), P/(t·p) a chip's share.
_DP_SYNC = {
    0: "all-reduce(g·P/(t·p), dp), under the last micro-batch's backward",
    1: "reduce-scatter(g·P/(t·p)) + all-gather(2·P/(t·p)), under one micro-batch",
    2: "reduce-scatter(g·P/(t·p)) + all-gather(2·P/(t·p)), under one micro-batch",
    3: "m · (2 all-gathers(2·P/(t·p)) + reduce-scatter(g·P/(t·p))), under each micro-batch",
}


def _collective_terms(oc: Outcome, layout: TrainingLayout) -> None:
    d, p = layout.detail, layout.parts
    if layout.tp > 1:
        oc.term("tensor-parallel all-reduces per step", "m · L/p · 4 · ring(2·s·b·h bytes, t)",
                p["tp_comm_s"], "s", "F13", link=d["tp_link"], t=layout.tp)  # fmt: skip
    if layout.dp > 1:
        oc.term("data-parallel gradient sync per step", _DP_SYNC[min(layout.zero, 3)],
                p["dp_comm_s"], "s", "F13/F13c", link=d["dp_link"], dp=layout.dp,
                bytes=d["grad_bytes"], overlapped=p["overlap_s"])  # fmt: skip
    if layout.pp > 1:
        oc.term("pipeline bubble per step", "(p−1)/(v·m) × compute", p["bubble_s"], "s", "F14",
                p=layout.pp, m=d["micro_batches"], v=d["virtual_stages"])  # fmt: skip
    if d["expert_parallel"] > 1:
        oc.term("expert all-to-all per step",
                "m · L/p · 4 · (2·c·(s/t)·b·h bytes / (BW·η) + (ep−1)·α), c = copies of a token "
                "over the group's slowest link (k·(ep−1)/ep; deduplicated: one a rank, across "
                "domains one a domain)",
                p["ep_comm_s"], "s", "F12/F12d/F12e", ep=d["expert_parallel"],
                link=d["ep_link"], copies=d["ep_copies"])  # fmt: skip
    if d["context_parallel"] > 1:
        oc.term("context-parallel ring per step (exposed)",
                "max(0, m · L/p · 3(c−1) hops of 2·(s/c)·b·kv·2 bytes − attention compute)",
                p["cp_comm_s"], "s", "F14b", c=d["context_parallel"])  # fmt: skip


def _storage_and_time(
    job: Job, cat: Catalog, chip: Chip, spec: Spec, oc: Outcome, layout: TrainingLayout
) -> tuple[Any, float, float, float, float, float] | None:
    """Token reads and checkpoints (F19, F20): the storage, and the step and job times."""
    w, lora = job.workload, job.method in ("lora", "qlora")
    trainable = tf.lora_params(job.shape) if lora else job.params
    tokens_step = job.batch_size * job.seq_len
    nodes = math.ceil(spec.count / node_size(chip))
    ckpt = st.checkpoint_bytes(job.params, trainable, full_states=not lora)
    dataset = w.dataset_size or job.tokens * job.eff["token-bytes"]
    interval = w.checkpoint_every or job.eff["checkpoint-interval"]
    store, storage_s, share, provisioned = choose_storage(
        job, cat, chip, spec, oc, tokens_step * job.eff["token-bytes"], layout.step_s, ckpt,
        interval, dataset, nodes,
    )  # fmt: skip
    if store is None and not oc.ok:
        return None
    steps = math.ceil(job.tokens / tokens_step)
    step = layout.step_s + storage_s
    passes, eval_s = pt.evaluations(job), layout.detail["eval_pass_s"]
    total = steps * step * (1 + share) + passes * eval_s
    oc.term("steps", "tokens / (batch · seq_len)", steps, "steps", "", tokens=job.tokens,
            batch=job.batch_size, seq_len=job.seq_len)  # fmt: skip
    if passes:
        oc.term("evaluation pass", "eval samples / batch × forward share of a step", eval_s, "s",
                "F3d", eval_samples=w.eval_samples, passes=passes)  # fmt: skip
    oc.term("job time", "steps × step × (1 + checkpoint share) + passes × evaluation pass",
            total, "s", "F3/F20/F3d", step_s=step, checkpoint_share=share)  # fmt: skip
    return store, provisioned, step, total, share, storage_s


def _attribute(
    job: Job,
    chip: Chip,
    spec: Spec,
    oc: Outcome,
    layout: TrainingLayout,
    peaks: tuple[float, float],
) -> None:
    """The bottleneck (F24): compute unless another resource costs half as much; memory
    capacity when fitting forced recomputation, pipelining or ZeRO-3 that costs a quarter."""
    b = oc.breakdown
    step = oc.metrics["step_time_s"]
    capacity = chip.memory_gb * GB
    forced = layout.recompute or layout.pp > 1 or layout.zero >= 3
    overhead = b["bubble_s"] + (b["compute_s"] * 0.25 if layout.recompute else 0.0)
    # Weight and activation traffic overlaps the matmuls (the roofline): it limits the step only
    # when it takes longer than the compute it hides under; the element-wise kernels run
    # between the matmuls, so all their time counts.
    p = layout.parts
    terms: dict[BottleneckKind, float] = {
        "compute": b["compute_s"],
        "memory_bandwidth": p["elementwise_s"] + max(0.0, p["memory_s"] - p["compute_s"]),
        "network": b["network_s"],
        "storage": b["storage_s"],
        "host": b["host_s"],
    }
    kind = dominant_overhead(terms)
    if forced and overhead > 0.25 * step and layout.memory > 0.6 * capacity:
        kind = "memory_capacity"
    oc.kind = kind
    share = terms.get(kind, overhead) / step if step else 0
    oc.explanation = _explain(job, chip, spec, oc, layout, kind, (share, overhead, *peaks))


def _exchanges(layout: TrainingLayout) -> str:
    """The step's exchanges that cost anything, largest first, each with its link."""
    p, d = layout.parts, layout.detail
    parts = [
        (p["tp_comm_s"], f"tensor-parallel all-reduces {{}} over {d['tp_link']}"),
        (p["dp_comm_s"] - p["overlap_s"], f"data-parallel gradient sync {{}} over {d['dp_link']} "
         f"(another {format_duration(p['overlap_s'])} hides under compute)"),
        (p["ep_comm_s"], f"expert all-to-all {{}} (EP {d['expert_parallel']})"),
        (p["pp_comm_s"], "pipeline sends {}"),
        (p["cp_comm_s"], f"context-parallel ring {{}} (CP {d['context_parallel']}, exposed)"),
    ]  # fmt: skip
    shown = [text.format(format_duration(s)) for s, text in sorted(parts, reverse=True) if s > 0]
    return "; ".join(shown) or "none"


def _explain_host(job: Job, layout: TrainingLayout, step: float, share: float) -> str:
    """Host time in words: expert launches after each MoE layer's sync, TCP copies."""
    p, d = layout.parts, layout.detail
    shown = []
    if p["expert_host_s"] > 0:
        _, _, experts = pt.moe_split(job)
        shown.append(
            f"launching each rank's {experts // d['expert_parallel']} experts after every MoE "
            f"layer's device-to-host sync, {d['micro_batches']} micro-batches × "
            f"{pt.moe_layers(job) / layout.pp:g} MoE layers a stage × "
            f"{format_duration(job.eff['moe-expert-launch'])} an expert → "
            f"{format_duration(p['expert_host_s'])}"
        )
    if p["tcp_host_s"] > 0:
        shown.append(f"TCP copies of the gradients {format_duration(p['tcp_host_s'])}")
    return (
        f"the host holds the GPUs up {format_duration(p['host_s'])} of a "
        f"{format_duration(step)} step ({share:.0%}): " + "; ".join(shown)
    )


def _explain(
    job: Job,
    chip: Chip,
    spec: Spec,
    oc: Outcome,
    layout: TrainingLayout,
    kind: BottleneckKind,
    figures: tuple[float, float, float, float],
) -> str:
    """The bottleneck in words; ``figures`` = (its share of the step, forced overhead, matmul
    peak, attention peak)."""
    share, overhead, peak, attn_peak = figures
    b, step, d = oc.breakdown, oc.metrics["step_time_s"], layout.detail
    if kind == "compute":
        flops = d["flops_per_token"] * job.batch_size * job.seq_len
        attn = d["attention_flops_per_token"] / d["flops_per_token"]
        split = (
            f" ({attn:.0%} of them attention, at the 16-bit {attn_peak / 1e12:g} TFLOPS)"
            if attn_peak < peak and attn >= 0.005
            else ""
        )
        return (
            f"forward and backward: each step does {flops:.3g} FLOPs over {spec.count} × "
            f"{chip.name} at {peak / 1e12:g} TFLOPS{split} × "
            f"{job.eff['compute-training']:.2f} → {format_duration(b['compute_s'])} of compute in "
            f"a {format_duration(step)} step ({share:.0%})"
        )
    if kind == "network":
        return (
            f"communication exposed per step: {format_duration(b['network_s'])} of a "
            f"{format_duration(step)} step ({share:.0%}): " + _exchanges(layout)
        )
    if kind == "memory_capacity":
        return (
            f"{format_bytes(layout.memory)} of {format_bytes(chip.memory_gb * GB)} per chip forces "
            f"{'full recomputation, ' if layout.recompute else ''}"
            f"{layout.pp}-stage pipelining and ZeRO stage {layout.zero}: bubble "
            f"{format_duration(b['bubble_s'])} and recompute overhead cost {overhead / step:.0%} "
            "of each step"
        )
    if kind == "host":
        return _explain_host(job, layout, step, share)
    if kind == "memory_bandwidth":
        p = layout.parts
        hidden = max(0.0, p["memory_s"] - p["compute_s"])
        streamed = (
            f"; weight and activation reads take {format_duration(hidden)} beyond the compute "
            "they overlap"
            if hidden > 0
            else ""
        )
        return (
            f"element-wise kernels (norms, activations{', expert routing' if job.is_moe else ''}) "
            f"stream {format_bytes(pt.elementwise_bytes(job) * job.shape.layers)} a token at "
            f"{chip.memory_bandwidth_gb_s:g} GB/s × {job.eff['memory-bandwidth']:.2f} → "
            f"{format_duration(p['elementwise_s'])} of a {format_duration(step)} step, between "
            f"{format_duration(p['compute_s'])} of matmuls{streamed}"
        )
    return (
        f"storage adds {format_duration(b['storage_s'])} per step ({share:.0%}): token reads and "
        f"checkpoint writes over {oc.spec.storage}"
    )
