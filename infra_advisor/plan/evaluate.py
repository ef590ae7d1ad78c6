"""Evaluate one stack for one job: memory, time per resource, power, energy, cost.

The estimators are pure formulas; this module composes them for a stack
(chip × count, links, storage, framework), chooses the parallel layout, and
records each step as a Term so ``explain`` can show the working.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import field
from typing import Any

from infra_advisor.catalog import Catalog
from infra_advisor.checks import FrozenRecord, Record, record
from infra_advisor.job import Job
from infra_advisor.models import Chip, Framework, Interconnect, Offering, Storage
from infra_advisor.physics import power as pw
from infra_advisor.physics import storage as st
from infra_advisor.physics import transformer as tf
from infra_advisor.plan import offer
from infra_advisor.plan.frameworks import capabilities
from infra_advisor.report import BottleneckKind, Term
from infra_advisor.units import format_bytes, format_duration

GB = 1e9


@record(frozen=True, kw_only=False, hashable=True)
class Spec(FrozenRecord):
    """The components of one stack."""

    chip: str
    count: int
    scale_out: str | None
    storage: str | None
    framework: str
    offload: str | None = None  # a DPU taking network processing off the host CPUs
    offering: str | None = None  # the unit rented or bought (None: a bare chip, unpriced)


@record(kw_only=False)
class Outcome(Record):
    """The evaluation of one stack: fit, metrics, breakdown, bottleneck and the working."""

    spec: Spec
    scale_up: str | None
    ok: bool = True
    reasons: list[str] = field(default_factory=list)
    soft: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The working, (name, formula, inputs, value, unit, source): Terms only when reported.
    terms: list[tuple[str, str, dict[str, Any], float, str, str]] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    breakdown: dict[str, float] = field(default_factory=dict)
    kind: BottleneckKind = "compute"
    explanation: str = ""
    objective_time_s: float = math.inf
    saturation_rps: float | None = None  # serving: requests/s at the largest batch, all replicas
    # Working and prose that only a reported stack needs, written when it is reported.
    deferred: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def finalise(self) -> Outcome:
        """Write the deferred working (terms first) and the bottleneck's explanation."""
        while self.deferred:
            done = len(self.terms)
            self.deferred.pop(0)()
            self.terms[:] = self.terms[done:] + self.terms[:done]
        return self

    def term(
        self, name: str, formula: str, value: float, unit: str, source: str = "", **inputs: Any
    ) -> float:
        self.terms.append((name, formula, inputs, value, unit, source))
        return value

    def reported_terms(self) -> list[Term]:
        """The working as reported: float inputs rounded to six decimals.

        Rounding waits until a stack is reported; most evaluations are search candidates whose
        terms nobody reads.
        """
        return [
            Term(
                name=name, formula=formula, value=value, unit=unit, source=source,
                inputs={k: round(v, 6) if isinstance(v, float) else v for k, v in inputs.items()},
            )
            for name, formula, inputs, value, unit, source in self.terms
        ]  # fmt: skip

    def reject(self, reason: str) -> Outcome:
        self.ok = False
        self.reasons.append(reason)
        return self


def stack_id(spec: Spec, scale_up: str | None) -> str:
    """A readable id that ``explain`` and ``compare`` accept back."""
    parts = [
        f"{spec.offering or spec.chip}:{spec.count}",  # 'aws-p5-48xlarge:16': the unit, chips used
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
    """The precision compute runs at on this chip and framework, and its dense peak in FLOP/s.

    What the framework computes in on this chip family comes from plan.frameworks."""
    caps = capabilities(fw, chip)
    acts = caps.activations if caps is not None else frozenset(fw.precisions)
    weights = caps.weights if caps is not None else frozenset(fw.precisions)
    order = _compute_order(job, chip, fw, acts, weights, notes)
    for precision in order:
        peak = chip.peak_tflops.get(precision)
        if peak:
            peak *= sustained_share(job, chip, precision, notes)
        if peak and precision in ("fp8", "fp4") and chip.peak_tflops.bf16:
            # FP8 doubles GEMM peak (FP4 doubles it again), but attention, norms, activation
            # quantisation and collectives stay 16-bit: a share of the gain is realised.
            bf16 = chip.peak_tflops.bf16 * sustained_share(job, chip, "bf16", [])
            peak = bf16 + (peak - bf16) * job.eff["fp8-realised"]
        if peak:
            if precision != order[0] and job.workload.precision not in ("fp8", "fp4"):
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
                    return precision, sparse * sustained_share(job, chip, precision, []) * 1e12
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


EIGHT_BIT = ("fp8", "fp4", "int8", "int4")


def evaluation_passes(job: Job, trained_samples: float) -> int:
    """Evaluation passes in a training job (F3d): one every ``eval_every`` training samples (at
    least one), or one at the end when only ``eval_samples`` is given; none without an
    evaluation set."""
    w = job.workload
    if not w.eval_samples or job.inference:
        return 0
    if not w.eval_every:
        return 1
    return max(1, math.floor(trained_samples / w.eval_every + 1e-9))


def attention_peak(job: Job, chip: Chip, precision: str, peak: float) -> float:
    """The peak attention's score and value products run at (F3b): FlashAttention computes in
    16-bit even when the weight matmuls run in FP8 or FP4 (Transformer Engine's FP8 attention is
    opt-in, NVTE_FP8_DPA), so those take the chip's sustained 16-bit peak; otherwise the same
    peak as the matmuls."""
    bf16 = chip.peak_tflops.bf16 or chip.peak_tflops.fp16
    if precision not in ("fp8", "fp4") or not bf16:
        return peak
    return min(peak, bf16 * sustained_share(job, chip, "bf16", []) * 1e12)


def sustained_share(job: Job, chip: Chip, precision: str, notes: list[str]) -> float:
    """How much of its peak this chip keeps in dense matmuls, relative to the chips the compute
    efficiencies were calibrated on (F3c): its measured sustained matmul rate over its peak,
    divided by the least the calibration chips keep (the H100's; efficiency.toml
    matmul-sustained-16bit / -8bit), at most 1: the calibration (A100, H100, H200) already
    absorbs the spread among chips that keep more.  A precision with no measurement takes the
    chip's 16-bit share (the same clocks throttle); no measurement at all: 1."""
    table = chip.matmul_sustained_tflops
    if table is None:
        return 1.0
    measured, peak, ref = table.get(precision), chip.peak_tflops.get(precision), precision
    if measured is None or not peak:
        ref = "bf16" if table.bf16 else "fp16"
        measured, peak = table.get(ref), chip.peak_tflops.get(ref)
    if measured is None or not peak:
        return 1.0
    reference = job.eff["matmul-sustained-8bit" if ref in EIGHT_BIT else "matmul-sustained-16bit"]
    share = min(1.0, measured / peak / reference)
    if share < 0.98:
        notes.append(
            f"{chip.name} sustains {measured / peak:.0%} of its {ref.upper()} peak in dense "
            f"matmuls (measured), against {reference:.0%} on the chips the efficiencies are "
            f"calibrated on: its peak counts x{share:.2f}"
        )
    return share


def _compute_order(
    job: Job,
    chip: Chip,
    fw: Framework,
    acts: frozenset[str],
    weights: frozenset[str],
    notes: list[str],
) -> list[str]:
    """Precisions to try for the matmuls, best first."""
    wanted = job.workload.precision
    if job.method == "qlora" and wanted in ("fp8", "fp4"):
        # bitsandbytes dequantizes the NF4 base to its compute dtype (bnb_4bit_compute_dtype:
        # bf16, fp16 or fp32) before every matmul: QLoRA has no 8-bit GEMM path.
        notes.append(
            f"QLoRA computes in 16-bit (NF4 dequantized to BF16): {wanted.upper()} not used"
        )
        return ["bf16", "fp16", "fp32"]
    if wanted in ("fp8", "fp4"):
        if chip.peak_tflops.get(wanted) and wanted in acts:
            return [wanted] if wanted == "fp8" else ["fp4", "fp8"]
        if wanted == "fp4" and chip.peak_tflops.fp8 and "fp8" in acts:
            notes.append(
                f"FP4 requested but {fw.name} or {chip.name} has no FP4 GEMMs: FP8 compute"
            )
            return ["fp8"]
        why = (
            f"{chip.name} has no {wanted.upper()}"
            if not chip.peak_tflops.get(wanted)
            else f"{fw.name} does not compute in {wanted.upper()} there"
        )
        notes.append(f"{wanted.upper()} requested but {why}: computing in BF16/FP16 instead")
        return ["bf16", "fp16", "fp32", "int8"]
    if (
        wanted == "int8"
        and job.inference
        and job.workload.model_type in ("vision", "generic", "recsys")
        and "int8" in weights
    ):
        # CNN, recommender and other dense-model inference engines (TensorRT, LiteRT, OpenVINO)
        # quantise weights and activations: the matmuls and convolutions run on the integer
        # units (NVIDIA's MLPerf DLRM-v2: INT8 bottom and top MLPs and interaction).
        return ["int8", "bf16", "fp16", "fp32"]
    if wanted in ("int8", "int4"):
        # LLM weight-only quantisation: weights stored small, matmuls in 16-bit (or int8 on
        # integer-only parts).
        return (
            ["bf16", "fp16", "int8", "fp32"] if job.inference else ["bf16", "fp16", "fp32", "int8"]
        )
    if wanted == "fp32":
        return ["fp32", "tf32", "bf16"]
    if wanted == "tf32":
        return ["tf32", "fp32", "bf16"]
    return [wanted, "bf16" if wanted == "fp16" else "fp16", "fp32", "int8"]


def dispatch_per_layer(job: Job, fw: Framework) -> float:
    """Seconds a layer's operators take to dispatch, per step (F18): a compiled engine launches
    its fused kernels (launch-overhead-compiled), an eager Python framework dispatches each
    operator from Python (launch-overhead-python), a C++ runtime from its interpreter
    (launch-overhead)."""
    if fw.compiled:
        return job.eff["launch-overhead-compiled"]
    return job.eff["launch-overhead-python" if fw.eager_python else "launch-overhead"]


def weight_bytes_per_param(job: Job) -> float:
    """Bytes a weight is held in: as served (its precision, or the format's stated bits per
    weight), or as trained (16-bit, beside its optimizer states)."""
    w = job.workload
    return tf.bytes_per_weight(w.precision, w.bits_per_weight) if job.inference else tf.WEIGHT_BYTES


# --------------------------------------------------------------------------- topology


def node_size(chip: Chip) -> int:
    """Chips per host: up to 8 in one scale-up domain (HGX, OAM, TPU hosts hold 4-8)."""
    return max(1, min(chip.scale_up_domain_size, 8))


@record(frozen=True, kw_only=False)
class Host(FrozenRecord):
    """The host beside a stack's chips: its CPU cores, the chips it serves, its memory."""

    cores: float
    chips: int
    memory_bytes: float


def host_of(job: Job, cat: Catalog, chip: Chip, spec: Spec) -> Host:
    """A data-centre unit's own host where its offering says (vCPUs / 2 = cores: two hardware
    threads a core), else the catalog's server (`host-cores`, `host-memory` per node of up to
    8 chips); a device runs on its own few cores, with no memory beside its own."""
    off = cat.offerings.get(spec.offering or "")
    if chip.segment != "datacenter":
        return Host(4.0, node_size(chip), 0.0)
    if off is not None and off.host_vcpus:
        memory = off.host_memory_gb * 1e9 if off.host_memory_gb else job.eff["host-memory"]
        return Host(off.host_vcpus / 2, off.chips_per_unit, memory)
    return Host(job.eff["host-cores"], node_size(chip), job.eff["host-memory"])


def links_for(
    cat: Catalog, chip: Chip, spec: Spec
) -> tuple[Interconnect | None, Interconnect | None]:
    up = cat.interconnects.get(chip.scale_up_interconnect or "") if spec.count > 1 else None
    out = cat.interconnects.get(spec.scale_out) if spec.scale_out else None
    if out is not None and spec.offering is not None:
        out = offer.fabric(cat.offerings[spec.offering], out)
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
    link = group_interconnect(span, chip, up, out)
    if link is None:
        return 1.0 * GB, 50e-6, "host network"
    bandwidth = chip.scale_up_bandwidth_gb_s if link is up else link.bandwidth_gb_s
    return (bandwidth or 0.0) * GB, link.latency_us * 1e-6, link.id


def group_interconnect(
    span: int, chip: Chip, up: Interconnect | None, out: Interconnect | None
) -> Interconnect | None:
    """The link entry a group over ``span`` consecutive chips rides (group_link's choice): the
    scale-up link inside the scale-up domain, the scale-out link beyond it, the scale-up link
    where there is no other; None for the host network."""
    scale_up = up if up is not None and chip.scale_up_bandwidth_gb_s else None
    if scale_up is not None and span <= chip.scale_up_domain_size:
        return scale_up
    return out if out is not None else scale_up


def collective_efficiency(
    job: Job, group: int, span: int, chip: Chip, up: Interconnect | None,
    out: Interconnect | None,
) -> float:  # fmt: skip
    """Share of its link's bandwidth a group's ring collectives (all-reduce, all-gather,
    reduce-scatter) achieve (F13d): the link entry's measured collective_efficiency where the
    catalog states one, else the catalog-wide network efficiency."""
    link = group_interconnect(span, chip, up, out) if group > 1 else None
    return ring_efficiency(link, job.eff["network"])


def ring_efficiency(link: Interconnect | None, default: float) -> float:
    """A link's measured ring-collective share (its collective_efficiency), else ``default``,
    the catalog-wide network efficiency."""
    stated = link.collective_efficiency if link is not None else None
    return default if stated is None else stated


def duty_cycle(job: Job, busy_s: float, step_s: float, chips: int, per_step: float = 1.0) -> float:
    """Utilisation for power: the busy share of a step, times the share of time spent serving,
    rate / capacity with ``per_step`` samples finished per chip per step (a device answering
    5 queries/s of 1 ms each idles 99.5% of the time)."""
    if step_s <= 0:
        return 0.0
    util = min(1.0, busy_s / step_s)
    rate = job.workload.rate
    if job.inference and rate:
        util *= min(1.0, rate * step_s / (chips * per_step))
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


def chip_capacity_bytes(chip: Chip) -> float:
    """Device memory a runtime can allocate: what the driver reports where the catalog has it
    (memory_usable_gb), else the physical capacity."""
    usable = getattr(chip, "memory_usable_gb", None)
    return float(usable if usable else chip.memory_gb) * GB


def serving_memory(job: Job, chip: Chip) -> float:
    """Bytes an LLM server may use on one chip for weights and KV cache: capacity × usable fraction,
    less the runtime's fixed share (F9)."""
    return chip_capacity_bytes(chip) * job.eff["memory-usable"] - job.eff["runtime-overhead"]


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
    host = host_of(job, cat, cat.chips[spec.chip], spec)
    chips_per_host = max(1, min(spec.count, host.chips))
    return bytes_per_chip * chips_per_host / (job.eff["tcp-per-core"] * host.cores)


# --------------------------------------------------------------------------- training


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


# --------------------------------------------------------------------------- inference


# --------------------------------------------------------------------------- generic models


# --------------------------------------------------------------------------- storage and totals


def storage_candidates(
    cat: Catalog, chip: Chip, spec: Spec, provider: str | None = None
) -> list[Storage]:
    """The storage a stack can use: a pinned one, else its provider's services (the ones its
    offering mounts) that serve the chip's segment."""
    if spec.storage is not None:
        store = cat.storage.get(spec.storage)
        return [store] if store is not None else []
    off = cat.offerings.get(spec.offering or "")
    key = ("storage-candidates", chip.segment, offer.storage_key(off, provider))
    if key not in cat.memo:
        cat.memo[key] = _storage_candidates(cat, chip, spec.offering, provider)
    return list(cat.memo[key])


def _storage_candidates(
    cat: Catalog, chip: Chip, off_id: str | None, provider: str | None
) -> list[Storage]:
    off = cat.offerings.get(off_id or "")
    if off is not None:
        provider = off.provider
    return [
        s
        for s in cat.storage.values()
        if (
            chip.segment in s.segments
            or (chip.segment in ("workstation", "consumer") and "edge" not in s.segments)
        )
        and offer.storage_allowed(off, provider, s)
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
    stage: tuple[float, float] = (0.0, 1.0),
) -> tuple[Storage | None, float, float, float]:
    """Pick the storage that adds least time (then costs least) for this demand (F19, F20);
    ``stage`` = (bytes read into memory before the first step, the job's steps), its load time
    weighed as a share of every step.

    Returns (storage, exposed read seconds per step, checkpoint share, provisioned bytes).
    """
    front = _storage_front(
        job, cat, chip, spec, read_step, ckpt_bytes, interval_s, dataset, nodes, random_rows, opens,
        stage[0],
    )  # fmt: skip
    if not front and _no_storage_known(job, cat, chip, spec):
        off = cat.offerings[str(spec.offering)]
        oc.notes.append(
            f"the catalog has no storage {off.name} mounts ({off.provider}'s services or its own "
            "drives): data reads and checkpoints are not modelled"
        )
        return None, 0.0, 0.0, 0.0
    best = _best_storage(front, compute_s, stage[1])
    return _apply_storage(job, chip, spec, oc, best, dataset, ckpt_bytes, interval_s)


def _no_storage_known(job: Job, cat: Catalog, chip: Chip, spec: Spec) -> bool:
    """An offering (not a pinned storage) for which the catalog holds no storage at all."""
    if spec.offering is None or spec.storage is not None:  # a pinned storage is in the spec
        return False
    return not storage_candidates(cat, chip, spec)


def _best_storage(
    front: list[StoreFigures], compute_s: float, steps: float
) -> tuple[float, float, str, Storage, float, float, float] | None:
    """The storage whose exposed reads, checkpoint writes and load before the first step (spread
    over the job's ``steps``) cost least time, then least money."""
    best: tuple[float, float, str, Storage, float, float, float] | None = None
    for read_s, share, cost, store_id, store, provisioned, stage_s in front:
        exposed = st.exposed_read_s(read_s, compute_s)
        key = (round(exposed + share * compute_s + stage_s / max(steps, 1.0), 9), cost, store_id)
        if best is None or key < best[:3]:
            best = (key[0], key[1], key[2], store, exposed, share, provisioned)
    return best


StoreFigures = tuple[float, float, float, str, Storage, float, float]


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
    stage_bytes: float = 0.0,
) -> list[StoreFigures]:
    """(read seconds per step, checkpoint share, cost, id, store, provisioned bytes, load
    seconds before the first step) of the storage systems that can hold the data, less those
    another beats whatever the compute time.

    The demand on storage is known before the candidate's compute time is: every count, batch and
    framework of a chip asks the same of it.  So the figures are worked out once per demand, and a
    system is dropped when another reads no slower, checkpoints no slower, loads no slower and is
    cheaper (or as cheap with an earlier id, the tie-break): the time it adds, max(0, read -
    compute) + share × compute + load / steps, can then never be lower, nor its cost.  What is
    left is small, and each candidate only weighs that against its compute time (F19, F20).
    """
    w = job.workload
    provider = offer.provider_of(cat, spec.offering, w.cloud, w.deploy)
    key = (
        "storage-front",
        chip.segment,
        spec.storage,
        offer.storage_key(cat.offerings.get(spec.offering or ""), provider),
        nodes,
        read_step,
        ckpt_bytes,
        interval_s,
        dataset,
        random_rows,
        opens,
        stage_bytes,
        id(cat),
    )
    cached: list[StoreFigures] | None = job.cache.get(key)
    if cached is not None:
        return cached
    figures: list[StoreFigures] = []
    for store in storage_candidates(cat, chip, spec, provider):
        if store.status in ("legacy", "discontinued") and not job.workload.include_legacy:
            continue
        need = dataset + 2 * ckpt_bytes
        capacity_tb = offer.capacity_tb(cat, spec.offering, store)
        if capacity_tb is not None and need > capacity_tb * 1e12 * (nodes if store.per_node else 1):
            continue
        demand = (read_step, ckpt_bytes, interval_s, random_rows, opens, stage_bytes)
        figures.append(_store_figures(job, store, need, nodes, demand))
    figures.sort(key=lambda f: (f[2], f[3]))  # cheapest first, then by id: the tie-break order
    front: list[StoreFigures] = []
    for fig in figures:
        if not any(kept[0] <= fig[0] and kept[1] <= fig[1] and kept[6] <= fig[6] for kept in front):
            front.append(fig)
    job.cache[key] = front
    return front


def _store_figures(
    job: Job, store: Storage, need: float, nodes: int, demand: tuple[float, ...]
) -> StoreFigures:
    """One storage system's read seconds per step, checkpoint share, monthly cost and load time
    for a demand of (read bytes per step, checkpoint bytes, interval, random rows, file opens,
    bytes loaded before the first step)."""
    read_step, ckpt_bytes, interval_s, random_rows, opens, stage_bytes = demand
    provisioned = st.provisioned_bytes(store, need)
    read_bw = st.read_bandwidth(store, provisioned, nodes) * job.eff["storage-read"]
    read_s = st.read_seconds(store, read_bw, nodes, read_step, random_rows=random_rows, opens=opens)
    share = 0.0
    if ckpt_bytes:
        write_s = ckpt_bytes / (
            st.write_bandwidth(store, provisioned, nodes) * job.eff["storage-read"]
        )
        share = st.checkpoint_share(write_s, interval_s)
    price = store.price_usd_per_gb_month if store.price_usd_per_gb_month is not None else math.inf
    stage_s = stage_seconds(job, store, provisioned, nodes, stage_bytes)
    return (read_s, share, price * provisioned / 1e9, store.id, store, provisioned, stage_s)


def stage_seconds(
    job: Job, store: Storage, provisioned: float, nodes: int, stage_bytes: float
) -> float:
    """Seconds to read ``stage_bytes`` (every host's share together) from storage into memory
    before the first step (F19): the system's aggregate read bandwidth over the hosts, derated
    as its per-step reads are."""
    if not stage_bytes:
        return 0.0
    bandwidth = st.read_bandwidth(store, provisioned, nodes) * job.eff["storage-read"]
    return stage_bytes / bandwidth


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


def _cost(
    job: Job,
    cat: Catalog,
    spec: Spec,
    oc: Outcome,
    store: Storage | None,
    provisioned: float,
    seconds: float,
    energy: float,
) -> float | None:
    """Rented units: $/unit-hour × units × hours (+ storage); bought ones: ownership per hour ×
    units × hours + facility energy.  None, with a note, for a chip no offering prices."""
    off = cat.offerings.get(spec.offering or "")
    if off is None:
        units = [o.id for o in cat.offerings.values() if o.chip == spec.chip]
        if units:  # a stack id that names the chip, not a unit it is rented or bought in
            oc.notes.append(
                f"{spec.chip} is named without an offering, so it has no price: cost not "
                f"estimated (name one for its cost, e.g. {units[0]}:{spec.count}/...)"
            )
        else:
            oc.notes.append(
                f"{spec.chip}: no offering in the catalog prices it: cost not estimated"
            )
        return None
    count = offer.units(off, spec.count)
    extra = 0.0
    if store is not None and store.price_usd_per_gb_month is not None and not store.per_node:
        extra = st.storage_cost(store.price_usd_per_gb_month, provisioned, seconds)
    if off.purchase_usd is not None:
        return _owned_cost(job, cat, spec, oc, off, count, seconds, energy) + extra
    price = offer.price(off, job.workload.pricing)
    hourly = unit_hourly(job, cat, off)
    if price is None or hourly is None:
        oc.notes.append(
            f"{off.name} has no public {job.workload.pricing} or on-demand price: cost not estimated"
        )
        return None
    if price.kind != job.workload.pricing:
        asked = job.workload.pricing.replace("_", "-")
        oc.notes.append(f"{off.name} has no public {asked} price: costed at its on-demand price")
    cost = pw.rental_cost(hourly, count, seconds) + extra
    oc.term(
        "cost", "units × $/unit-hour × hours (+ storage $/GB-month)", cost, "USD", "F17",
        offering=off.id, units=count, usd_per_unit_hour=hourly, price_kind=price.kind,
        hours=seconds / 3600,
    )  # fmt: skip
    return cost


def _owned_cost(
    job: Job,
    cat: Catalog,
    spec: Spec,
    oc: Outcome,
    off: Offering,
    count: int,
    seconds: float,
    energy: float,
) -> float:
    """Total cost of ownership (F17c): each unit's price over its service life plus operations,
    and the electricity the stack draws (× PUE in a data centre).  A device (edge board,
    workstation, desk computer) pays no facility overhead: PUE 1, no operations share."""
    years = job.eff["device-service-life"]
    ops = _operations_share(job, cat, off)
    pue = job.eff["datacenter-pue"] if cat.chips[off.chip].segment == "datacenter" else 1.0
    usd_kwh = job.eff["electricity-price"]
    hourly = _owned_hourly(job, cat, off)
    cost = hourly * count * seconds / 3600 + pw.facility_energy_cost(energy, pue, usd_kwh)
    oc.term(
        "cost",
        "units × purchase $ × (1 / (service years × 8,766 h) + operations share / 8,766 h) × hours"
        " + energy kWh × PUE × $/kWh",
        cost, "USD", "F17c",
        offering=off.id, units=count, purchase_usd=off.purchase_usd, service_years=years,
        operations_per_year=ops, pue=pue, usd_per_kwh=usd_kwh, energy_kwh=energy,
        hours=seconds / 3600,
    )  # fmt: skip
    return cost


def _operations_share(job: Job, cat: Catalog, off: Offering) -> float:
    """A bought unit's operations per year as a share of its price: a data-centre system pays
    `onprem-operations`, a device none (F17c)."""
    return job.eff["onprem-operations"] if cat.chips[off.chip].segment == "datacenter" else 0.0


def _owned_hourly(job: Job, cat: Catalog, off: Offering) -> float:
    """A bought unit's ownership per hour before power (F17c)."""
    assert off.purchase_usd is not None
    return pw.ownership_hourly(
        off.purchase_usd, job.eff["device-service-life"], _operations_share(job, cat, off)
    )


def unit_hourly(job: Job, cat: Catalog, off: Offering) -> float | None:
    """What one unit costs an hour before storage and power: its rent at the price kind asked
    (else on-demand), or its ownership; None when it has no public price."""
    if off.purchase_usd is not None:
        return _owned_hourly(job, cat, off)
    price = offer.price(off, job.workload.pricing)
    return None if price is None else price.unit_hour(off.chips_per_unit)


def _power_parts(job: Job, chip: Chip) -> tuple[float, float, float]:
    """What F22 charges a chip: its idle watts, the server overhead it runs under, and the
    watts of the host computer a USB accelerator needs the whole time."""
    idle = chip.idle_w if chip.idle_w is not None else chip.tdp_w * job.eff["idle-power"]
    overhead = job.eff["server-overhead"] if chip.segment == "datacenter" else 1.0
    usb = (chip.host_interconnect or "").startswith("usb")
    return idle, overhead, job.eff["usb-accelerator-host-power"] if usb else 0.0


def idle_power(job: Job, chip: Chip) -> tuple[float, float]:
    """The least a stack draws, as F22 charges it: watts per chip at idle (with the server
    overhead), and a USB accelerator's host computer."""
    idle, overhead, host = _power_parts(job, chip)
    return idle * overhead, host


def serving_floor_objectives(
    job: Job,
    cat: Catalog,
    chip: Chip,
    off: Offering,
    chips: int,
    per_chip_rps: float,
    latency_s: float,
) -> tuple[float, float, float] | None:
    """(latency, cost, energy) per unit served that no stack of the chip in ``off``'s units
    beats, whatever its count (at least ``chips``, each serving at most ``per_chip_rps``
    requests/s) and whether or not it meets the rate: F17, F17c and F22 at their least.

    Served requests/s are at most min(rate, c · r) on c chips, and a stack pays for whole units
    and draws at least idle power on every chip.  Below the count that serves the rate, cost and
    energy per request are at least a chip's hourly price and idle power over r; at or above
    it, at least those of that count over the rate.  None when the unit has no price or no rate
    was asked."""
    hourly = unit_hourly(job, cat, off)
    rate = job.workload.rate
    if hourly is None or not rate or per_chip_rps <= 0:
        return None
    per_request = job.output_tokens if job.workload.model_type == "transformer" else 1
    for_rate = rate / per_chip_rps  # chips (fractional) that serve the rate at the floor
    if chips < for_rate:
        chip_hourly = hourly / off.chips_per_unit
        cost = chip_hourly / 3600.0 / per_chip_rps
    else:
        cost = hourly * offer.units(off, chips) / 3600.0 / rate
    idle, host = idle_power(job, chip)
    power = max(chips, for_rate) * idle + host
    energy = pw.energy_kwh(power, 1.0) / rate
    return latency_s, cost / per_request, energy / per_request


def _purchase(cat: Catalog, spec: Spec) -> float | None:
    """What the stack's units cost to buy, for an offering one buys (None when rented)."""
    off = cat.offerings.get(spec.offering or "")
    if off is None or off.purchase_usd is None:
        return None
    return off.purchase_usd * offer.units(off, spec.count)


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
    idle, overhead, host = _power_parts(job, chip)
    per_chip = pw.chip_power(chip.tdp_w, idle, util)
    power = per_chip * spec.count * overhead + host
    energy = pw.energy_kwh(power, seconds)
    oc.term(
        "power",
        "chips × (idle + (TDP − idle)·u) × server overhead (+ a USB accelerator's host)",
        power,
        "W",
        "F22",
        chips=spec.count,
        tdp_w=chip.tdp_w,
        idle_w=idle,
        utilisation=util,
        overhead=overhead,
    )
    cost = _cost(job, cat, spec, oc, store, provisioned, seconds, energy)
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
        "purchase_usd": _purchase(cat, spec),
        "battery_hours": battery,
        "tokens_per_s": None,
        "ttft_s": None,
        "tpot_s": None,
        "samples_per_s": None,
    }
