"""Evaluate one stack for one job: memory, time per resource, power, energy, cost.

The estimators are pure formulas; this module composes them for a stack
(chip × count, links, storage, framework), chooses the parallel layout, and
records each step as a Term so ``explain`` can show the working.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from infra_advisor.catalog import Catalog
from infra_advisor.estimators import data as dt
from infra_advisor.estimators import network as net
from infra_advisor.estimators import power as pw
from infra_advisor.estimators import storage as st
from infra_advisor.estimators import transformer as tf
from infra_advisor.job import Job
from infra_advisor.models import Chip, Framework, Interconnect, Storage
from infra_advisor.report import BottleneckKind, Term
from infra_advisor.units import format_bytes, format_duration

GB = 1e9


@dataclass(frozen=True)
class Spec:
    """The components of one stack."""

    chip: str
    count: int
    scale_out: str | None
    storage: str | None
    framework: str
    offload: str | None = None  # a DPU taking network processing off the host CPUs


@dataclass
class Outcome:
    """The evaluation of one stack: fit, metrics, breakdown, bottleneck and the working."""

    spec: Spec
    scale_up: str | None
    ok: bool = True
    reasons: list[str] = field(default_factory=list)
    soft: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    breakdown: dict[str, float] = field(default_factory=dict)
    kind: BottleneckKind = "compute"
    explanation: str = ""
    objective_time_s: float = math.inf

    def term(
        self, name: str, formula: str, value: float, unit: str, source: str = "", **inputs: Any
    ) -> float:
        self.terms.append(
            Term(name=name, formula=formula, inputs=inputs, value=value, unit=unit, source=source)
        )
        return value

    def reported_terms(self) -> list[Term]:
        """The working as reported: float inputs rounded to six decimals.

        Rounding waits until a stack is reported; most evaluations are search candidates whose
        terms nobody reads.
        """
        return [
            dataclasses.replace(
                t,
                inputs={k: round(v, 6) if isinstance(v, float) else v for k, v in t.inputs.items()},
            )
            for t in self.terms
        ]

    def reject(self, reason: str) -> Outcome:
        self.ok = False
        self.reasons.append(reason)
        return self


def stack_id(spec: Spec, scale_up: str | None) -> str:
    """A readable id that ``explain`` and ``compare`` accept back."""
    parts = [
        f"{spec.chip}:{spec.count}",
        scale_up or "-",
        spec.scale_out or "-",
        spec.storage or "-",
        spec.framework,
    ]
    if spec.offload:
        parts.append(f"dpu:{spec.offload}")
    return "/".join(parts)


# --------------------------------------------------------------------------- precision


def compute_peak(job: Job, chip: Chip, fw: Framework, notes: list[str]) -> tuple[str, float]:
    """The precision compute runs at on this chip and framework, and its dense peak in FLOP/s."""
    wanted = job.workload.precision
    order: list[str]
    if wanted == "fp8":
        if chip.peak_tflops.fp8 and "fp8" in fw.precisions:
            order = ["fp8"]
        else:
            why = (
                f"{chip.name} has no FP8"
                if not chip.peak_tflops.fp8
                else f"{fw.name} does not list FP8"
            )
            notes.append(f"FP8 requested but {why}: computing in BF16/FP16 instead")
            order = ["bf16", "fp16", "fp32", "int8"]
    elif (
        wanted == "int8"
        and job.inference
        and job.workload.model_type in ("vision", "generic")
        and "int8" in fw.precisions
    ):
        # CNN and other dense-model inference engines (TensorRT, LiteRT, OpenVINO) quantise weights
        # and activations: the matmuls and convolutions run on the integer units.
        order = ["int8", "bf16", "fp16", "fp32"]
    elif wanted in ("int8", "int4"):
        # LLM weight-only quantisation: weights stored small, matmuls in 16-bit (or int8 on
        # integer-only parts).
        order = (
            ["bf16", "fp16", "int8", "fp32"] if job.inference else ["bf16", "fp16", "fp32", "int8"]
        )
    elif wanted == "fp32":
        order = ["fp32", "tf32", "bf16"]
    elif wanted == "tf32":
        order = ["tf32", "fp32", "bf16"]
    else:
        order = [wanted, "bf16" if wanted == "fp16" else "fp16", "fp32", "int8"]
    for precision in order:
        peak = chip.peak_tflops.get(precision)
        if peak and precision == "fp8" and chip.peak_tflops.bf16:
            # FP8 doubles GEMM peak, but attention, norms and collectives stay 16-bit.
            bf16 = chip.peak_tflops.bf16
            peak = bf16 + (peak - bf16) * job.eff["fp8-realised"]
        if peak:
            if precision != order[0] and wanted != "fp8":
                notes.append(
                    f"{chip.name} has no {order[0].upper()} peak listed: using {precision.upper()}"
                )
            sparse = chip.sparse_peak_tflops.get(precision) if chip.sparse_peak_tflops else None
            if (
                job.workload.sparsity_pattern == "2:4"
                and (job.workload.weight_sparsity or 0) >= 0.5
            ):
                if sparse and fw.structured_sparsity:
                    notes.append(
                        f"2:4 structured sparsity credited: {precision.upper()} peak {sparse:g} TFLOPS "
                        f"instead of {peak:g} dense ({chip.name} and {fw.name} both support it)"
                    )
                    return precision, sparse * 1e12
                notes.append(
                    "2:4 sparsity not credited: "
                    + (
                        "the chip has no sparse peak"
                        if not sparse
                        else f"{fw.name} does not exploit it"
                    )
                )
            elif job.workload.weight_sparsity and job.workload.sparsity_pattern != "2:4":
                notes.append(
                    "unstructured weight sparsity noted but not credited: dense kernels assumed"
                )
            return precision, peak * 1e12
    return "none", 0.0


def weight_bytes_per_param(job: Job) -> float:
    return tf.BYTES_PER_WEIGHT[job.workload.precision] if job.inference else tf.WEIGHT_BYTES


# --------------------------------------------------------------------------- topology


def node_size(chip: Chip) -> int:
    """Chips per host: up to 8 in one scale-up domain (HGX, OAM, TPU hosts hold 4-8)."""
    return max(1, min(chip.scale_up_domain_size, 8))


def links_for(
    cat: Catalog, chip: Chip, spec: Spec
) -> tuple[Interconnect | None, Interconnect | None]:
    up = cat.interconnects.get(chip.scale_up_interconnect or "") if spec.count > 1 else None
    out = cat.interconnects.get(spec.scale_out) if spec.scale_out else None
    return up, out


def group_link(
    group: int, span: int, chip: Chip, up: Interconnect | None, out: Interconnect | None
) -> tuple[float, float, str]:
    """Bandwidth (bytes/s per chip per direction), latency (s) and name of the link a group uses.

    ``span`` is how many consecutive chips the group covers; inside the
    scale-up domain it rides the scale-up link, beyond it the scale-out link.
    """
    if group <= 1:
        return math.inf, 0.0, "none"
    if span <= chip.scale_up_domain_size and up is not None and chip.scale_up_bandwidth_gb_s:
        return chip.scale_up_bandwidth_gb_s * GB, up.latency_us * 1e-6, up.id
    if out is not None:
        return out.bandwidth_gb_s * GB, out.latency_us * 1e-6, out.id
    if up is not None and chip.scale_up_bandwidth_gb_s:
        return chip.scale_up_bandwidth_gb_s * GB, up.latency_us * 1e-6, up.id
    return 1.0 * GB, 50e-6, "host network"


def duty_cycle(job: Job, busy_s: float, step_s: float, chips: int) -> float:
    """Utilisation for power: the busy share of a step, times the share of time spent serving
    (a device answering 5 queries/s of 1 ms each idles 99.5% of the time)."""
    if step_s <= 0:
        return 0.0
    util = min(1.0, busy_s / step_s)
    rate = job.workload.rate
    if job.inference and rate:
        util *= min(1.0, rate * step_s / chips)
    return util


def serving_targets(
    job: Job, oc: Outcome, rate: float, step: float, unit: str, *, latency: bool = True
) -> None:
    """Soft targets of a server: the rate asked (saturated below it) and the latency target."""
    w = job.workload
    if not job.inference:
        return
    if w.rate and rate < w.rate * 0.999:
        oc.soft.append(f"saturated: sustains {rate:.3g} {unit}/s of the {w.rate:g} asked")
    if latency and w.latency_target is not None and step > w.latency_target:
        oc.soft.append(
            f"latency {format_duration(step)} misses the {format_duration(w.latency_target)} target"
        )


def breakdown(
    compute: float,
    memory: float,
    network: float,
    storage: float,
    host: float,
    bubble: float = 0.0,
    overlap: float = 0.0,
) -> dict[str, float]:
    """Seconds of one step bound by each resource (the report's `breakdown`)."""
    return {
        "compute_s": compute,
        "memory_s": memory,
        "network_s": network,
        "storage_s": storage,
        "host_s": host,
        "bubble_s": bubble,
        "overlap_s": overlap,
    }


def serving_memory(job: Job, chip: Chip) -> float:
    """Bytes an LLM server may use on one chip for weights and KV cache: capacity × usable fraction,
    less the runtime's fixed share (F9)."""
    return chip.memory_gb * GB * job.eff["memory-usable"] - job.eff["runtime-overhead"]


def usable_memory(job: Job, chip: Chip) -> float:
    """Bytes a model may use on one chip: capacity × usable fraction, less the runtime's fixed share
    (never more than a tenth of a small device's memory)."""
    capacity = chip.memory_gb * GB
    return capacity * job.eff["memory-usable"] - min(job.eff["runtime-overhead"], 0.1 * capacity)


def host_link_bandwidth(chip: Chip) -> float | None:
    """Bytes/s per direction between the chip and its host (PCIe, USB), where the catalog gives it."""
    return chip.host_bandwidth_gb_s * GB if chip.host_bandwidth_gb_s else None


def tcp_host_time(job: Job, cat: Catalog, spec: Spec, bytes_per_chip: float) -> float:
    """Host CPU seconds to push ``bytes_per_chip`` through TCP when the scale-out link has no RDMA.

    Zero with RDMA, or when a DPU offloads the stack (``spec.offload``).
    """
    link = cat.interconnects.get(spec.scale_out or "")
    if link is None or link.rdma or spec.offload:
        return 0.0
    chips_per_host = max(1, min(spec.count, 8))
    cores = job.eff["host-cores"] if cat.chips[spec.chip].segment == "datacenter" else 4.0
    return bytes_per_chip * chips_per_host / (job.eff["tcp-per-core"] * cores)


# --------------------------------------------------------------------------- training


@dataclass
class _Layout:
    """A training layout: parallel degrees, ZeRO stage, recomputation and memory."""

    tp: int
    pp: int
    dp: int
    zero: int
    recompute: bool
    memory: float
    step_s: float
    parts: dict[str, float]
    detail: dict[str, Any]


def _divisors(limit: int, options: tuple[int, ...]) -> list[int]:
    return [o for o in options if o <= limit]


def plan_training(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, peak: float, capacity: float
) -> _Layout | str:
    """Choose TP × PP × DP, ZeRO stage and recomputation: the fastest layout that fits.

    Returns the layout, or a sentence saying why none fits.
    """
    up, out = links_for(cat, chip, spec)
    n = spec.count
    lora = job.method in ("lora", "qlora")
    trainable = tf.lora_params(job.shape) if lora else job.params
    overhead = job.eff["runtime-overhead"]
    usable = capacity * job.eff["memory-usable"]
    eff_f = job.eff["compute-training"]
    eff_bw = job.eff["memory-bandwidth"] * chip.memory_bandwidth_gb_s * GB
    eff_net = job.eff["network"]
    tokens_step = job.batch_size * job.seq_len
    h, s, L = job.shape.hidden, job.seq_len, job.shape.layers
    par = set(fw.parallelism)
    tps = [
        t
        for t in _divisors(min(chip.scale_up_domain_size, n, 64), (1, 2, 4, 8, 16, 32, 64))
        if job.shape.heads % t == 0 and (t == 1 or "tensor" in par)
    ]
    pps = [p for p in (1, 2, 4, 8, 16, 32) if p <= L and (p == 1 or "pipeline" in par)]
    zeros = [0] + ([1, 3] if {"zero", "fsdp"} & par else [])
    best: _Layout | None = None
    smallest_memory = math.inf
    why_not = ""
    moe_share = 1.0
    ep = 1
    if job.is_moe:
        # Experts are sharded over an expert-parallel group inside the data-parallel group.
        ep = 8 if "expert" in par else 1
        shared = min(job.active_params * 0.35, job.params)
        moe_share = (shared + (job.params - shared) / ep) / job.params
    for t in tps:
        for p in pps:
            if n % (t * p):
                continue
            dp = n // (t * p)
            if dp > 1 and "data" not in par:
                continue
            if job.batch_size < dp:
                why_not = f"a global batch of {job.batch_size} sequences cannot feed {dp} data-parallel replicas"
                continue
            micro = job.batch_size // dp  # micro-batches of one sequence per replica
            for zero in zeros:
                if zero and dp == 1:
                    continue
                states = tf.model_state_bytes_per_chip(
                    job.params,
                    trainable,
                    method=job.method,
                    tp=t,
                    pp=p,
                    dp=dp,
                    zero=zero,
                    expert_shard=moe_share if ep <= dp else 1.0,
                )
                for recompute in (False, True):
                    act_layer = tf.activation_bytes_per_layer(s, 1, h, t, recompute=recompute)
                    in_flight = min(p, micro)
                    acts = act_layer * (L / p) * in_flight
                    memory = states + acts + overhead
                    smallest_memory = min(smallest_memory, memory)
                    if memory > usable:
                        continue
                    flops_tok = tf.training_flops_per_token(
                        job.active_params, job.shape, s, recompute=recompute, lora=lora
                    )
                    compute = flops_tok * tokens_step / n / (peak * eff_f)
                    weight_bytes = job.params * moe_share * tf.WEIGHT_BYTES / (t * p)
                    mem_traffic = (
                        3 * weight_bytes * micro + 2 * acts * micro / max(in_flight, 1)
                    ) / eff_bw
                    bubble = tf.pipeline_bubble_fraction(p, micro) * max(compute, mem_traffic)
                    # Tensor parallel: 4 all-reduces of b·s·h activations per layer (6 with recompute).
                    tp_bw, tp_lat, tp_link = group_link(t, t, chip, up, out)
                    n_ar = 6 if recompute else 4
                    tp_comm = (
                        micro
                        * (L / p)
                        * n_ar
                        * net.all_reduce_time(2 * s * h, t, tp_bw, tp_lat, eff_net)
                    )
                    # Data parallel: gradients (ZeRO-3 adds two parameter all-gathers).
                    grad_bytes = trainable * moe_share * tf.GRAD_BYTES / (t * p)
                    dp_bw, dp_lat, dp_link = group_link(dp, n, chip, up, out)
                    if zero >= 3:
                        dp_comm = 3 * net.all_gather_time(grad_bytes, dp, dp_bw, dp_lat, eff_net)
                    else:
                        dp_comm = net.all_reduce_time(grad_bytes, dp, dp_bw, dp_lat, eff_net)
                    pp_bw, pp_lat, _ = group_link(p, n, chip, up, out)
                    pp_comm = (
                        2 * micro * net.point_to_point_time(2 * s * h, pp_bw, pp_lat)
                        if p > 1
                        else 0.0
                    )
                    ep_comm = 0.0
                    if job.is_moe and ep > 1:
                        ep_bw, ep_lat, _ = group_link(ep, t * ep, chip, up, out)
                        # 2 all-to-alls forward + 2 backward per MoE layer, top-2 routing (F12).
                        ep_comm = (
                            micro
                            * (L / p)
                            * 4
                            * net.all_to_all_time(2 * 2 * s * h, ep, ep_bw, ep_lat, eff_net)
                        )
                    hidden = min(dp_comm * job.eff["dp-overlap"], max(compute - 0, 0))
                    exposed_dp = dp_comm - hidden
                    network = tp_comm + exposed_dp + pp_comm + ep_comm
                    step = max(compute, mem_traffic) + bubble + network
                    if best is None or step < best.step_s - 1e-12:
                        best = _Layout(
                            tp=t,
                            pp=p,
                            dp=dp,
                            zero=zero,
                            recompute=recompute,
                            memory=memory,
                            step_s=step,
                            parts={
                                "compute_s": compute,
                                "memory_s": mem_traffic,
                                "network_s": network,
                                "bubble_s": bubble,
                                "overlap_s": hidden,
                                "tp_comm_s": tp_comm,
                                "dp_comm_s": dp_comm,
                                "pp_comm_s": pp_comm,
                                "ep_comm_s": ep_comm,
                            },
                            detail={
                                "states_bytes": states,
                                "activation_bytes": acts,
                                "micro_batches": micro,
                                "flops_per_token": flops_tok,
                                "tp_link": tp_link,
                                "dp_link": dp_link,
                                "grad_bytes": grad_bytes,
                                "expert_parallel": ep,
                            },
                        )
    if best is None:
        if smallest_memory == math.inf:
            return why_not or (
                f"no parallel layout of {n} chips suits this model ({job.shape.heads} heads, "
                f"{L} layers) with {fw.name}'s parallelism ({', '.join(sorted(par)) or 'none'})"
            )
        return (
            f"needs at least {format_bytes(smallest_memory)} per chip in the best layout on {n} chips; "
            f"{chip.name} holds {format_bytes(capacity)} ({format_bytes(usable)} usable)"
        )
    return best


def evaluate_training(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    w = job.workload
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision} training")
    capacity = chip.memory_gb * GB
    layout = plan_training(job, cat, chip, fw, spec, peak, capacity)
    if isinstance(layout, str):
        return oc.reject(layout)
    lora = job.method in ("lora", "qlora")
    trainable = tf.lora_params(job.shape) if lora else job.params
    tokens_step = job.batch_size * job.seq_len
    steps = math.ceil(job.tokens / tokens_step)
    d = layout.detail
    oc.layout = {
        "tensor_parallel": layout.tp,
        "pipeline_parallel": layout.pp,
        "data_parallel": layout.dp,
        "expert_parallel": d["expert_parallel"] if job.is_moe else 1,
        "zero_stage": layout.zero,
        "recompute": "full" if layout.recompute else "none",
        "micro_batches": d["micro_batches"],
        "precision": precision,
    }
    oc.term(
        "model states per chip",
        "P·(2+2+12)/(t·p), ZeRO shards over DP"
        if not lora
        else "P·by_base/(t·p) + P_lora·16/(t·p)",
        d["states_bytes"],
        "bytes",
        "F6/F23",
        P=job.params,
        trainable=trainable,
        t=layout.tp,
        p=layout.pp,
        dp=layout.dp,
        zero=layout.zero,
    )
    oc.term(
        "activations per chip",
        ("2" if layout.recompute else "34") + "·s·b·h/t per layer × L/p × in-flight",
        d["activation_bytes"],
        "bytes",
        "F7",
        s=job.seq_len,
        b=1,
        h=job.shape.hidden,
        t=layout.tp,
        L=job.shape.layers,
        p=layout.pp,
    )
    oc.term(
        "FLOPs per token",
        "6·P_act + 6·L·s·h" + (" + recompute forward" if layout.recompute else ""),
        d["flops_per_token"],
        "FLOP",
        "F2",
        P_act=job.active_params,
        L=job.shape.layers,
        s=job.seq_len,
        h=job.shape.hidden,
    )
    oc.term(
        "compute per step",
        "FLOPs/token × tokens/step / (N · peak · η)",
        layout.parts["compute_s"],
        "s",
        "F3",
        tokens_per_step=tokens_step,
        N=spec.count,
        peak_tflops=peak / 1e12,
        efficiency=job.eff["compute-training"],
    )
    if layout.tp > 1:
        oc.term(
            "tensor-parallel all-reduces per step",
            "m · L/p · 4 · ring(2·s·h bytes, t)",
            layout.parts["tp_comm_s"],
            "s",
            "F13",
            link=d["tp_link"],
            t=layout.tp,
        )
    if layout.dp > 1:
        oc.term(
            "data-parallel gradient sync per step",
            "ring all-reduce(2·P/(t·p) bytes, dp)",
            layout.parts["dp_comm_s"],
            "s",
            "F13",
            link=d["dp_link"],
            dp=layout.dp,
            bytes=d["grad_bytes"],
            overlapped=layout.parts["overlap_s"],
        )
    if layout.pp > 1:
        oc.term(
            "pipeline bubble per step",
            "(p−1)/m × compute",
            layout.parts["bubble_s"],
            "s",
            "F14",
            p=layout.pp,
            m=d["micro_batches"],
        )
    # Storage: token reads and checkpoints.
    nodes = math.ceil(spec.count / node_size(chip))
    ckpt = st.checkpoint_bytes(job.params, trainable, full_states=not lora)
    read_step = tokens_step * job.eff["token-bytes"]
    dataset = w.dataset_size or job.tokens * job.eff["token-bytes"]
    interval = w.checkpoint_every or job.eff["checkpoint-interval"]
    compute_side = layout.step_s
    store, storage_s, ckpt_share, provisioned = choose_storage(
        job, cat, chip, spec, oc, read_step, compute_side, ckpt, interval, dataset, nodes
    )
    if store is None:
        return oc
    step = compute_side + storage_s
    total = steps * step * (1 + ckpt_share)
    oc.term(
        "steps",
        "tokens / (batch · seq_len)",
        steps,
        "steps",
        "",
        tokens=job.tokens,
        batch=job.batch_size,
        seq_len=job.seq_len,
    )
    oc.term(
        "job time",
        "steps × step × (1 + checkpoint share)",
        total,
        "s",
        "F3/F20",
        step_s=step,
        checkpoint_share=ckpt_share,
    )
    useful = tf.model_flops_per_token(job.active_params, job.shape, job.seq_len) * (
        2 / 3 if lora else 1
    )
    mfu = useful * tokens_step / (step * spec.count * peak) if step > 0 else None
    oc.breakdown = {
        "compute_s": layout.parts["compute_s"],
        "memory_s": layout.parts["memory_s"],
        "network_s": layout.parts["network_s"],
        "storage_s": storage_s + ckpt_share * step,
        "host_s": 0.0,
        "bubble_s": layout.parts["bubble_s"],
        "overlap_s": layout.parts["overlap_s"],
    }
    util = min(1.0, layout.parts["compute_s"] / step) if step > 0 else 0.0
    finish(
        job,
        cat,
        chip,
        spec,
        oc,
        store,
        provisioned,
        seconds=total,
        step_s=step,
        util=util,
        memory=layout.memory,
        capacity=capacity,
    )
    oc.metrics.update(
        tokens_per_s=tokens_step / step,
        samples_per_s=job.batch_size / step,
        mfu=mfu,
        ttft_s=None,
        tpot_s=None,
    )
    oc.objective_time_s = total
    _attribute_training(job, chip, spec, oc, layout)
    return oc


OVERHEAD_SHARE = 0.5


def dominant_overhead(terms: dict[BottleneckKind, float]) -> BottleneckKind:
    """The bottleneck: compute, unless a non-compute term costs at least half as much as compute.

    Compute is the work itself; a memory, network or storage term that large is
    what stands between the stack and its compute roofline (F24).
    """
    others = [k for k in terms if k != "compute"]
    if not others:
        return "compute"
    worst = max(others, key=terms.__getitem__)
    return worst if terms[worst] >= OVERHEAD_SHARE * terms.get("compute", 0.0) else "compute"


def _attribute_training(job: Job, chip: Chip, spec: Spec, oc: Outcome, layout: _Layout) -> None:
    b = oc.breakdown
    step = oc.metrics["step_time_s"]
    capacity = chip.memory_gb * GB
    forced = layout.recompute or layout.pp > 1 or layout.zero >= 3
    overhead = b["bubble_s"] + (b["compute_s"] * 0.25 if layout.recompute else 0.0)
    terms: dict[BottleneckKind, float] = {
        "compute": b["compute_s"],
        "memory_bandwidth": b["memory_s"],
        "network": b["network_s"],
        "storage": b["storage_s"],
    }
    kind = dominant_overhead(terms)
    if forced and overhead > 0.25 * step and layout.memory > 0.6 * capacity:
        kind = "memory_capacity"
    oc.kind = kind
    share = terms.get(kind, overhead) / step if step else 0
    if kind == "compute":
        oc.explanation = (
            f"each step does {oc.terms[2].value * job.batch_size * job.seq_len:.3g} FLOPs over {spec.count} × "
            f"{chip.name} at {oc.terms[3].inputs['peak_tflops']:g} TFLOPS × {job.eff['compute-training']:.2f} "
            f"→ {format_duration(b['compute_s'])} of compute in a {format_duration(step)} step ({share:.0%})"
        )
    elif kind == "network":
        oc.explanation = (
            f"communication exposed per step: {format_duration(b['network_s'])} of a {format_duration(step)} "
            f"step ({share:.0%}); tensor-parallel {format_duration(layout.parts['tp_comm_s'])} over "
            f"{layout.detail['tp_link']}, data-parallel {format_duration(layout.parts['dp_comm_s'])} over "
            f"{layout.detail['dp_link']} of which {format_duration(layout.parts['overlap_s'])} hides under compute"
        )
    elif kind == "memory_capacity":
        oc.explanation = (
            f"{format_bytes(layout.memory)} of {format_bytes(capacity)} per chip forces "
            f"{'full recomputation, ' if layout.recompute else ''}"
            f"{layout.pp}-stage pipelining and ZeRO stage {layout.zero}: bubble "
            f"{format_duration(b['bubble_s'])} and recompute overhead cost {overhead / step:.0%} of each step"
        )
    elif kind == "memory_bandwidth":
        oc.explanation = (
            f"weights and activations stream at {chip.memory_bandwidth_gb_s:g} GB/s × "
            f"{job.eff['memory-bandwidth']:.2f} → {format_duration(b['memory_s'])} per step, more than compute"
        )
    else:
        oc.explanation = (
            f"storage adds {format_duration(b['storage_s'])} per step ({share:.0%}): token reads and "
            f"checkpoint writes over {oc.spec.storage}"
        )


# --------------------------------------------------------------------------- inference


def _decode_step(
    job: Job,
    chip: Chip,
    t: int,
    batch: int,
    peak: float,
    wbytes: float,
    kv_tok: float,
    up: Interconnect | None,
    context: float,
    pp: int = 1,
    hop: Interconnect | None = None,
) -> tuple[float, float, float, float]:
    """Decode step at a batch: (time, compute part, memory part, network part) (F11).

    With ``pp`` pipeline stages (across nodes, over the ``hop`` link) the batch is split into ``pp``
    micro-batches that keep every stage busy: one step -- a token for every request in the batch --
    takes ``pp`` stage steps, each on 1/pp of the layers and weights, plus the activation hops
    between stages (Narayanan et al. 2021, §2.2; the same schedule FasterTransformer and vLLM use).
    """
    eff_bw = job.eff["memory-bandwidth"] * chip.memory_bandwidth_gb_s * GB
    micro = max(1, math.ceil(batch / pp))
    flops = tf.decode_flops_per_token(job.active_params, job.shape, context) * micro / (t * pp)
    compute = flops / (peak * job.eff["compute-inference"])
    # Weights read once per step; with MoE at a batch, more experts are touched (bounded by all of them).
    touched = (
        wbytes * min(1.0, job.active_params / job.params * max(1, micro) ** 0.5)
        if job.is_moe
        else wbytes
    )
    memory = (touched / (t * pp) + micro * kv_tok * context / (t * pp)) / eff_bw
    comm = 0.0
    if t > 1 and up is not None and chip.scale_up_bandwidth_gb_s:
        comm = (
            2
            * job.shape.layers
            / pp
            * net.all_reduce_time(
                2 * job.shape.hidden * micro,
                t,
                chip.scale_up_bandwidth_gb_s * GB,
                up.latency_us * 1e-6,
                job.eff["network"],
            )
        )
    hops = 0.0
    if pp > 1 and hop is not None:
        hops = (pp - 1) * net.point_to_point_time(
            2 * job.shape.hidden * micro / t, hop.bandwidth_gb_s * GB, hop.latency_us * 1e-6
        )
    stage = max(compute, memory) + comm
    return pp * stage + hops, pp * compute, pp * memory, pp * comm + hops


def evaluate_inference(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    w = job.workload
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision} inference")
    by_w = tf.BYTES_PER_WEIGHT[w.precision]
    if w.precision in ("int8", "int4") and w.precision not in fw.precisions:
        return oc.reject(f"{fw.name} does not list {w.precision} weights")
    wbytes = job.params * by_w
    kv_el = 1.0 if w.precision == "fp8" and precision == "fp8" else 2.0
    kv_tok = tf.kv_bytes_per_token(job.shape, kv_el)
    capacity = chip.memory_gb * GB
    usable = serving_memory(job, chip)
    context = job.prompt_tokens + job.output_tokens
    up = cat.interconnects.get(chip.scale_up_interconnect or "")
    # Tensor-parallel degrees the chip, the count, the heads and the framework allow.
    t_options = [
        t
        for t in (1, 2, 4, 8, 16, 32, 64)
        if t <= min(chip.scale_up_domain_size, spec.count)
        and spec.count % t == 0
        and job.shape.heads % t == 0
        and (t == 1 or "tensor" in fw.parallelism)
    ]
    # Tensor parallel within the scale-up domain first; pipeline stages across nodes only when the
    # widest tensor-parallel group cannot hold the model (and a scale-out link joins the nodes).
    groups = [(t, 1) for t in t_options]
    hop = cat.interconnects.get(spec.scale_out or "")
    if t_options and hop is not None and "pipeline" in fw.parallelism:
        widest = max(t_options)
        groups += [
            (widest, p)
            for p in (2, 4, 8, 16, 32)
            if widest * p <= spec.count and spec.count % (widest * p) == 0 and p <= job.shape.layers
        ]
    fitting = [(t, p) for t, p in groups if (wbytes + kv_tok * context) / (t * p) <= usable]
    avg_context = job.prompt_tokens + job.output_tokens / 2
    pf_flops = tf.prefill_flops(job.active_params, job.shape, job.prompt_tokens)

    def largest_batch(group: int) -> int:
        """Requests whose KV cache fits beside the weights in a group of chips (F9)."""
        return max(1, int((usable * group - wbytes) // (kv_tok * context)))

    def served(t: int, p: int) -> float:
        """Requests/s the whole stack serves with groups of t×p chips at their largest batch."""
        b = largest_batch(t * p)
        step, *_ = _decode_step(job, chip, t, b, peak, wbytes, kv_tok, up, avg_context, p, hop)
        per_request = pf_flops / t / (peak * job.eff["compute-inference"]) + (
            job.output_tokens * step / b
        )
        return (spec.count // (t * p)) / per_request

    # Without a rate: the smallest group that holds the model (lowest latency per chip spent).
    # With a rate: the group that serves most of it -- a wider tensor-parallel group frees memory
    # for a larger batch (KV cache) -- and among those that serve it all, the smallest.
    fit = fitting[0] if fitting else None
    if fitting and w.rate is not None and len(fitting) > 1:
        rate_asked = w.rate
        fit = max(fitting, key=lambda g: (min(served(*g), rate_asked), -g[0] * g[1]))
    if fit is None:
        most_t, most_p = groups[-1] if groups else (1, 1)
        stages = f" × {most_p} pipeline stages" if most_p > 1 else ""
        return oc.reject(
            f"weights {format_bytes(wbytes)} ({w.precision}) + one request's KV cache need "
            f"{format_bytes((wbytes + kv_tok * context) / (most_t * most_p))} per chip at "
            f"tensor-parallel {most_t}{stages}; "
            f"{chip.name} holds {format_bytes(capacity)} ({format_bytes(usable)} usable)"
        )
    tp, pp = fit
    group = tp * pp
    replicas = spec.count // group
    free = usable * group - wbytes
    b_max = largest_batch(group)
    eff_bw = job.eff["memory-bandwidth"] * chip.memory_bandwidth_gb_s * GB
    prefill = max(pf_flops / tp / (peak * job.eff["compute-inference"]), wbytes / tp / eff_bw)
    if tp > 1 and up is not None and chip.scale_up_bandwidth_gb_s:
        prefill += (
            2
            * job.shape.layers
            * net.all_reduce_time(
                2 * job.shape.hidden * job.prompt_tokens,
                tp,
                chip.scale_up_bandwidth_gb_s * GB,
                up.latency_us * 1e-6,
                job.eff["network"],
            )
        )

    if pp > 1 and hop is not None:
        prefill += (pp - 1) * net.point_to_point_time(
            2 * job.shape.hidden * job.prompt_tokens / tp,
            hop.bandwidth_gb_s * GB,
            hop.latency_us * 1e-6,
        )

    def capacity_at(batch: int) -> tuple[float, float]:
        step, *_ = _decode_step(
            job, chip, tp, batch, peak, wbytes, kv_tok, up, avg_context, pp, hop
        )
        per_request = (
            pf_flops / tp / (peak * job.eff["compute-inference"]) + job.output_tokens * step / batch
        )
        return 1.0 / per_request, step

    rate = w.rate
    if rate is None:
        batch = 1
        req_s, step = capacity_at(1)
        req_s *= replicas
    else:
        per_replica = rate / replicas
        # The smallest batch on the ladder that serves the rate; capacity rises with the batch
        # (a step's cost per request falls), so a bisection finds it.
        ladder = _batch_ladder(b_max)
        lo, hi = 0, len(ladder) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if capacity_at(ladder[mid])[0] >= per_replica:
                hi = mid
            else:
                lo = mid + 1
        batch = ladder[lo]
        cap, step = capacity_at(batch)
        req_s = min(rate, cap * replicas)
        if cap * replicas < rate * 0.999:
            oc.soft.append(
                f"saturated: sustains {cap * replicas:.3g} requests/s of the {rate:g} asked, with the batch "
                f"of {batch} that fits in memory left for the KV cache"
            )
    step_t, c_part, m_part, n_part = _decode_step(
        job, chip, tp, batch, peak, wbytes, kv_tok, up, avg_context, pp, hop
    )
    ttft = prefill + (step_t if rate is not None else 0.0)
    latency = ttft + job.output_tokens * step_t
    if w.latency_target is not None and ttft > w.latency_target:
        oc.soft.append(
            f"time to first token {format_duration(ttft)} misses the {format_duration(w.latency_target)} target"
        )
    memory = (wbytes + batch * kv_tok * context) / group + job.eff["runtime-overhead"]
    crit = tf.critical_batch(peak, chip.memory_bandwidth_gb_s * GB, by_w)
    oc.layout = {
        "tensor_parallel": tp,
        "pipeline_parallel": pp,
        "replicas": replicas,
        "batch": batch,
        "max_batch": b_max,
        "precision": precision,
        "weights": w.precision,
    }
    oc.term(
        "weights", "P · bytes/weight", wbytes, "bytes", "F5", P=job.params, bytes_per_weight=by_w
    )
    oc.term(
        "KV cache per token",
        "2·L·n_kv·d_head·bytes",
        kv_tok,
        "bytes",
        "F8",
        L=job.shape.layers,
        n_kv=job.shape.kv_heads,
        d_head=job.shape.head_dim,
        bytes=kv_el,
    )
    oc.term(
        "largest batch in memory",
        "(M·η − overhead)·t − W) / (KV/token · context)",
        b_max,
        "requests",
        "F9",
        M=capacity,
        t=tp,
        context=context,
    )
    oc.term(
        "prefill (TTFT)",
        "max(2·P·s + 2·L·s²·h over t·F·η, W/(t·BW·η))",
        prefill,
        "s",
        "F11",
        s=job.prompt_tokens,
        t=tp,
        peak_tflops=peak / 1e12,
    )
    oc.term(
        "decode step",
        "max(2·P·B/(t·F·η), (W/t + B·KV)/(BW·η)) + TP comm",
        step_t,
        "s",
        "F11",
        B=batch,
        t=tp,
        bandwidth_gb_s=chip.memory_bandwidth_gb_s,
        efficiency=job.eff["memory-bandwidth"],
    )
    oc.term("critical batch", "F·by_w/(2·BW)", crit, "requests", "F11")
    window = w.samples / rate if (w.samples and rate) else 3600.0
    tokens_per_s = req_s * job.output_tokens
    oc.breakdown = breakdown(c_part, m_part, n_part, 0.0, 0.0)
    util = min(1.0, max(c_part / step_t, 0.3 * m_part / step_t)) if step_t > 0 else 0.0
    store, _, _, provisioned = choose_storage(
        job, cat, chip, spec, oc, 0.0, step_t, 0.0, math.inf, wbytes, replicas
    )
    if store is None and spec.storage is not None:
        return oc
    finish(
        job,
        cat,
        chip,
        spec,
        oc,
        store,
        provisioned,
        seconds=window,
        step_s=step_t,
        util=util,
        memory=memory,
        capacity=capacity,
    )
    cost = oc.metrics["cost_usd"]
    oc.metrics.update(
        ttft_s=ttft,
        tpot_s=step_t,
        latency_s=latency,
        tokens_per_s=tokens_per_s,
        samples_per_s=req_s,
        requests_per_s=req_s,
        cost_per_million_tokens_usd=(cost / (tokens_per_s * window) * 1e6)
        if cost is not None and tokens_per_s
        else None,
    )
    oc.objective_time_s = latency
    if batch >= b_max and rate is not None and oc.soft:
        oc.kind = "memory_capacity"
        oc.explanation = (
            f"the KV cache fills memory at a batch of {b_max} ({format_bytes(kv_tok * context)} per request, "
            f"{format_bytes(free)} free after {format_bytes(wbytes)} of weights on {group} chip(s)); "
            f"decode then takes {format_duration(step_t)} per token"
        )
    elif n_part > max(c_part, m_part):
        oc.kind = "network"
        oc.explanation = f"tensor-parallel all-reduces take {format_duration(n_part)} of each {format_duration(step_t)} decode step"
    elif m_part >= c_part:
        oc.kind = "memory_bandwidth"
        oc.explanation = (
            f"decode reads {format_bytes(wbytes / group)} of weights per chip"
            + (
                f" and {format_bytes(batch * kv_tok * avg_context / tp)} of KV cache for its batch"
                if batch > 1
                else ""
            )
            + f" per decode step at {chip.memory_bandwidth_gb_s:g} GB/s × {job.eff['memory-bandwidth']:.2f} → "
            f"{format_duration(m_part)} per token (batch {batch}; compute-bound only above ~{crit:.0f})"
        )
    else:
        oc.kind = "compute"
        oc.explanation = (
            f"batch {batch} is past the critical batch {crit:.0f}: decode computes "
            f"{format_duration(c_part)} per step at {peak / 1e12:g} TFLOPS × {job.eff['compute-inference']:.2f}"
        )
    return oc


def _batch_ladder(limit: int) -> list[int]:
    ladder, b = [], 1
    while b < limit:
        ladder.append(b)
        b *= 2
    ladder.append(limit)
    return ladder


# --------------------------------------------------------------------------- generic models


def evaluate_generic(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    """Vision and other dense models from FLOPs and bytes per sample (F3, F10, F19)."""
    w = job.workload
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision}")
    fwd = w.flops_per_sample
    if fwd is None:
        fwd = 8.2e9 if w.model_type == "vision" else 2 * job.params
        oc.notes.append(
            "--flops-per-sample not given: "
            + (
                "8.2 GFLOPs (ResNet-50 at 224², 4.1 G multiply-adds) assumed"
                if w.model_type == "vision"
                else "2 FLOPs per parameter assumed"
            )
        )
    per_sample_bytes = w.bytes_per_sample or (110e3 if w.model_type == "vision" else 4e3)
    eff = job.eff["compute-cnn" if w.model_type == "vision" else "compute-small"]
    capacity = chip.memory_gb * GB
    usable = usable_memory(job, chip)
    train = not job.inference
    by_w = (
        tf.WEIGHT_BYTES + tf.GRAD_BYTES + tf.OPTIMIZER_BYTES
        if train
        else tf.BYTES_PER_WEIGHT[w.precision]
    )
    model_bytes = job.params * by_w
    streamed = 0.0
    if model_bytes > usable:
        link = host_link_bandwidth(chip)
        if train or link is None:
            return oc.reject(
                f"needs {format_bytes(model_bytes)} per chip for the model; {chip.name} holds "
                f"{format_bytes(capacity)}"
            )
        # Small on-chip memories (an edge TPU's 8 MB SRAM) stream the rest of the weights
        # from the host on every inference.
        streamed = model_bytes - max(usable, 0.0)
        oc.notes.append(
            f"weights ({format_bytes(model_bytes)}) exceed {chip.name}'s {format_bytes(capacity)} of "
            f"on-chip memory: {format_bytes(streamed)} stream over {chip.host_interconnect or 'the host link'} "
            "on every inference"
        )
    up, out = links_for(cat, chip, spec)
    n = spec.count
    batch = w.batch_size or (256 if train else 1)
    flops_step = fwd * (3 if train else 1) * batch
    compute = flops_step / n / (peak * eff)
    eff_bw = job.eff["memory-bandwidth"] * chip.memory_bandwidth_gb_s * GB
    on_chip = chip.sram_mb is not None and chip.memory_gb * 1e3 <= chip.sram_mb * 1.01
    # Weights cached in on-chip SRAM are not re-read from external memory (its bandwidth is not
    # published and not the limit); otherwise every step streams them once.
    mem_s = 0.0 if on_chip else min(model_bytes, max(usable, 0.0) or model_bytes) / eff_bw
    host_s = 0.0
    link_bw = host_link_bandwidth(chip)
    if streamed:
        host_s += streamed / (link_bw or 1e9)
    if job.inference and link_bw:
        # Inputs cross each chip's own host link (PCIe, USB): its share of the batch.
        host_s += batch / n * per_sample_bytes / link_bw
    layers = w.layers or 50
    host_s += layers * job.eff["launch-overhead"]  # kernel launches: CPU time per layer
    comm = 0.0
    if train and n > 1:
        bw, lat, _ = group_link(n, n, chip, up, out)
        comm = net.all_reduce_time(2 * job.params, n, bw, lat, job.eff["network"])
        comm -= min(comm * job.eff["dp-overlap"], compute)
        comm += tcp_host_time(job, cat, spec, 2 * job.params)
    samples = (w.samples or 1.28e6) * (w.epochs or 1)
    if w.samples is None and train:
        oc.notes.append("--samples not given: 1.28M samples (ImageNet-1k size) assumed")
    nodes = math.ceil(n / node_size(chip))
    if train and w.model_type == "vision":
        # Host CPUs decode and augment every image (F19; MLPerf Storage #330).
        cores = job.eff["host-cores"] if chip.segment == "datacenter" else 4.0
        decode = dt.decode_time(batch / nodes, job.eff["decode-per-core"], cores)
        host_s += max(0.0, decode - compute)
        oc.term(
            "host decode per step",
            "samples per node / (per-core rate × cores)",
            decode,
            "s",
            "F19",
            per_core=job.eff["decode-per-core"],
            cores=cores,
        )
    read_step = batch * per_sample_bytes
    dataset = w.dataset_size or samples / (w.epochs or 1) * per_sample_bytes
    opens = dt.file_opens_per_step(batch, samples / (w.epochs or 1), w.files) if w.files else 0.0
    step_compute = max(compute, mem_s) + comm
    store, storage_s, _, provisioned = choose_storage(
        job,
        cat,
        chip,
        spec,
        oc,
        read_step if train else 0.0,
        step_compute,
        job.params * 14 if train else 0.0,
        w.checkpoint_every or job.eff["checkpoint-interval"],
        dataset,
        nodes,
        opens=opens if train else 0.0,
    )
    if store is None:
        return oc
    step = step_compute + storage_s + host_s
    steps = math.ceil(samples / batch)
    total = steps * step if train else (w.samples / w.rate if (w.samples and w.rate) else 3600.0)
    oc.term(
        "compute per step",
        "FLOPs/sample × (3 if training) × batch / (N·F·η)",
        compute,
        "s",
        "F3",
        flops_per_sample=fwd,
        batch=batch,
        N=n,
        peak_tflops=peak / 1e12,
        efficiency=eff,
    )
    if train:
        oc.term(
            "data read per step",
            "batch × bytes/sample (+ file opens / metadata ops)",
            read_step,
            "bytes",
            "F19",
            batch=batch,
            bytes_per_sample=per_sample_bytes,
            opens=opens,
        )
    if streamed:
        oc.term(
            "weight streaming per inference",
            "overflow bytes / host link",
            host_s,
            "s",
            "F16",
            bytes=streamed,
            link=chip.host_interconnect or "host",
        )
    oc.layout = {"data_parallel": n, "batch": batch, "precision": precision}
    oc.breakdown = breakdown(compute, mem_s, max(comm, 0.0), storage_s, host_s)
    finish(
        job,
        cat,
        chip,
        spec,
        oc,
        store,
        provisioned,
        seconds=total,
        step_s=step,
        util=duty_cycle(job, compute + mem_s, step, n),
        memory=min(model_bytes, capacity) + min(job.eff["runtime-overhead"], 0.1 * capacity),
        capacity=capacity,
    )
    rate = batch / step  # the batch is global: n chips each run batch/n of it per step
    oc.metrics.update(
        samples_per_s=rate,
        requests_per_s=None if train else min(rate, w.rate or rate),
        latency_s=step if not train else None,
    )
    oc.objective_time_s = total if train else step
    terms: dict[BottleneckKind, float] = {
        "compute": compute,
        "memory_bandwidth": mem_s,
        "network": max(comm, 0.0),
        "storage": storage_s,
        "host": host_s,
    }
    oc.kind = dominant_overhead(terms)
    reasons: dict[BottleneckKind, str] = {
        "compute": f"{fwd * (3 if train else 1) * batch:.3g} FLOPs per step at {peak / 1e12:g} TFLOPS × {eff:g}",
        "memory_bandwidth": f"reading {format_bytes(min(model_bytes, capacity))} of weights at "
        f"{chip.memory_bandwidth_gb_s:g} GB/s × {job.eff['memory-bandwidth']:g}",
        "network": f"gradient all-reduce over {n} chips",
        "storage": f"reading {format_bytes(read_step)} per step"
        + (f" from {opens:.3g} files (metadata ops and round trips)" if opens else "")
        + f" from {store.id}",
        "host": (
            "streaming weights over the host link"
            if streamed
            else "host CPUs decoding images"
            if train and w.model_type == "vision"
            else f"framework dispatch ({layers} layers × {format_duration(job.eff['launch-overhead'])})"
            + (" and moving inputs over the host link" if job.inference and link_bw else "")
        ),
    }
    oc.explanation = (
        f"{oc.kind.replace('_', ' ')}: {reasons[oc.kind]} takes {format_duration(terms[oc.kind])} "
        f"of each {format_duration(step)} step (batch {batch} on {n} × {chip.name})"
    )
    serving_targets(job, oc, rate, step, "samples")
    return oc


# --------------------------------------------------------------------------- storage and totals


def storage_candidates(cat: Catalog, chip: Chip, spec: Spec) -> list[Storage]:
    if spec.storage is not None:
        store = cat.storage.get(spec.storage)
        return [store] if store is not None else []
    return [
        s
        for s in cat.storage.values()
        if chip.segment in s.segments
        or (chip.segment == "workstation" and "edge" not in s.segments)
    ]


def choose_storage(
    job: Job,
    cat: Catalog,
    chip: Chip,
    spec: Spec,
    oc: Outcome,
    read_step: float,
    compute_s: float,
    ckpt_bytes: float,
    interval_s: float,
    dataset: float,
    nodes: int,
    *,
    random_rows: float = 0.0,
    opens: float = 0.0,
) -> tuple[Storage | None, float, float, float]:
    """Pick the storage that adds least time (then costs least) for this demand (F19, F20).

    Returns (storage, exposed read seconds per step, checkpoint share, provisioned bytes).
    """
    front = _storage_front(
        job, cat, chip, spec, read_step, ckpt_bytes, interval_s, dataset, nodes, random_rows, opens
    )
    best = _best_storage(front, compute_s)
    return _apply_storage(job, chip, spec, oc, best, dataset, ckpt_bytes, interval_s)


def _best_storage(
    front: list[StoreFigures], compute_s: float
) -> tuple[float, float, str, Storage, float, float, float] | None:
    """The storage whose exposed reads and checkpoint writes cost least time, then least money."""
    best: tuple[float, float, str, Storage, float, float, float] | None = None
    for read_s, share, cost, store_id, store, provisioned in front:
        exposed = max(0.0, read_s - compute_s)
        key = (round(exposed + share * compute_s, 9), cost, store_id)
        if best is None or key < best[:3]:
            best = (key[0], key[1], key[2], store, exposed, share, provisioned)
    return best


StoreFigures = tuple[float, float, float, str, Storage, float]


def _storage_front(
    job: Job,
    cat: Catalog,
    chip: Chip,
    spec: Spec,
    read_step: float,
    ckpt_bytes: float,
    interval_s: float,
    dataset: float,
    nodes: int,
    random_rows: float,
    opens: float,
) -> list[StoreFigures]:
    """(read seconds per step, checkpoint share, cost, id, store, provisioned bytes) of the
    storage systems that can hold the data, less those another beats whatever the compute time.

    The demand on storage is known before the candidate's compute time is: every count, batch and
    framework of a chip asks the same of it.  So the figures are worked out once per demand, and a
    system is dropped when another reads no slower, checkpoints no slower and is cheaper (or as
    cheap with an earlier id, the tie-break): the time it adds, max(0, read - compute) +
    share × compute, can then never be lower, nor its cost.  What is left is small, and each
    candidate only weighs that against its compute time (F19, F20).
    """
    key = (
        "storage-front",
        chip.segment,
        spec.storage,
        nodes,
        read_step,
        ckpt_bytes,
        interval_s,
        dataset,
        random_rows,
        opens,
        id(cat),
    )
    cached: list[StoreFigures] | None = job.cache.get(key)
    if cached is not None:
        return cached
    figures: list[StoreFigures] = []
    for store in storage_candidates(cat, chip, spec):
        if store.status in ("legacy", "discontinued") and not job.workload.include_legacy:
            continue
        need = dataset + 2 * ckpt_bytes
        if store.capacity_max_tb is not None and need > store.capacity_max_tb * 1e12 * (
            nodes if store.per_node else 1
        ):
            continue
        provisioned = st.provisioned_bytes(store, need)
        read_bw = st.read_bandwidth(store, provisioned, nodes) * job.eff["storage-read"]
        read_s = read_step / read_bw if read_step else 0.0
        if random_rows and store.read_iops:
            # Random small reads (graph feature rows) are bound by IOPS, not bandwidth.
            iops = store.read_iops * (nodes if store.per_node else 1)
            read_s = max(read_s, random_rows / iops)
        if opens:
            # Many small files: each open is a metadata operation with a round trip (F19).
            latency = (store.latency_ms or 1.0) / 1e3
            read_s += dt.metadata_time(opens, store.metadata_ops_per_s, latency, 64 * nodes)
        share = 0.0
        if ckpt_bytes:
            write_s = ckpt_bytes / (
                st.write_bandwidth(store, provisioned, nodes) * job.eff["storage-read"]
            )
            share = st.checkpoint_share(write_s, interval_s)
        price = (
            store.price_usd_per_gb_month if store.price_usd_per_gb_month is not None else math.inf
        )
        figures.append((read_s, share, price * provisioned / 1e9, store.id, store, provisioned))
    figures.sort(key=lambda f: (f[2], f[3]))  # cheapest first, then by id: the tie-break order
    front: list[StoreFigures] = []
    for fig in figures:
        if not any(kept[0] <= fig[0] and kept[1] <= fig[1] for kept in front):
            front.append(fig)
    job.cache[key] = front
    return front


def _apply_storage(
    job: Job,
    chip: Chip,
    spec: Spec,
    oc: Outcome,
    best: tuple[float, float, str, Storage, float, float, float] | None,
    dataset: float,
    ckpt_bytes: float,
    interval_s: float,
) -> tuple[Storage | None, float, float, float]:
    if best is None:
        if spec.storage is not None or job.workload.storage is not None:
            oc.reject(
                f"storage {spec.storage} cannot hold {format_bytes(dataset + 2 * ckpt_bytes)} "
                f"for a {chip.segment} deployment"
            )
        else:
            oc.reject(f"no storage in the catalog serves a {chip.segment} deployment of this size")
        return None, 0.0, 0.0, 0.0
    _, _, _, store, exposed, share, provisioned = best
    oc.spec = dataclasses.replace(oc.spec, storage=store.id)
    if ckpt_bytes:
        oc.term(
            "checkpoint",
            "size / write bandwidth, share = write time / interval",
            share,
            "fraction",
            "F20",
            size_bytes=ckpt_bytes,
            storage=store.id,
            interval_s=interval_s,
        )
    return store, exposed, share, provisioned


def finish(
    job: Job,
    cat: Catalog,
    chip: Chip,
    spec: Spec,
    oc: Outcome,
    store: Storage | None,
    provisioned: float,
    *,
    seconds: float,
    step_s: float,
    util: float,
    memory: float,
    capacity: float,
) -> None:
    """Power, energy and cost for the whole job (F17, F22)."""
    idle = chip.idle_w if chip.idle_w is not None else chip.tdp_w * job.eff["idle-power"]
    per_chip = pw.chip_power(chip.tdp_w, idle, util)
    overhead = job.eff["server-overhead"] if chip.segment == "datacenter" else 1.0
    power = per_chip * spec.count * overhead
    energy = pw.energy_kwh(power, seconds)
    oc.term(
        "power",
        "chips × (idle + (TDP − idle)·u) × server overhead",
        power,
        "W",
        "F22",
        chips=spec.count,
        tdp_w=chip.tdp_w,
        idle_w=idle,
        utilisation=util,
        overhead=overhead,
    )
    cost: float | None = None
    if chip.price_usd_per_hour is not None:
        cost = pw.compute_cost(chip.price_usd_per_hour, spec.count, seconds)
        if store is not None and store.price_usd_per_gb_month is not None and not store.per_node:
            cost += st.storage_cost(store.price_usd_per_gb_month, provisioned, seconds)
        oc.term(
            "cost",
            "chips × $/chip-hour × hours (+ storage $/GB-month)",
            cost,
            "USD",
            "F17",
            price_usd_per_hour=chip.price_usd_per_hour,
            chips=spec.count,
            hours=seconds / 3600,
        )
    else:
        oc.notes.append(f"no public price for {chip.name}: cost not estimated")
    battery = None
    if job.workload.battery is not None:
        battery = pw.battery_hours(job.workload.battery, power)
    oc.metrics = {
        "chips": spec.count,
        "time_s": seconds,
        "step_time_s": step_s,
        "chip_hours": spec.count * seconds / 3600,
        "memory_per_chip_bytes": memory,
        "memory_capacity_per_chip_bytes": capacity,
        "power_w": power,
        "energy_kwh": energy,
        "cost_usd": cost,
        "battery_hours": battery,
        "tokens_per_s": None,
        "ttft_s": None,
        "tpot_s": None,
        "samples_per_s": None,
    }
