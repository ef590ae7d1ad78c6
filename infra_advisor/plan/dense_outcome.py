"""One vision or generic dense-model stack evaluated (F3, F10, F16, F18, F19).

Training splits the global batch over data-parallel chips; serving runs a batch on every chip,
the smallest that serves the rate.  The step is a StepCost (the forward, or forward and
backward, as a roofline; the exposed gradient all-reduce; host time for dispatch, inputs over
the host link, image decode or weight streaming; exposed storage reads), so the breakdown sums
to the step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra_advisor.catalog import Catalog
from infra_advisor.job import Job
from infra_advisor.models import Chip, Framework
from infra_advisor.physics import data as dt
from infra_advisor.physics import network as net
from infra_advisor.physics import transformer as tf
from infra_advisor.physics.cost import PhaseCost, StepCost
from infra_advisor.plan.evaluate import (
    GB,
    Outcome,
    Spec,
    choose_storage,
    collective_efficiency,
    compute_peak,
    dispatch_per_layer,
    dominant_overhead,
    duty_cycle,
    finish,
    group_link,
    host_link_bandwidth,
    host_of,
    links_for,
    node_size,
    serving_targets,
    tcp_host_time,
    usable_memory,
    weight_bytes_per_param,
)
from infra_advisor.report import BottleneckKind
from infra_advisor.units import format_bytes, format_duration

MAX_SERVING_BATCH = 2048  # NVIDIA's MLPerf Inference ResNet-50 offline configs: batch 2048 per H100
RESNET50_FLOPS = 8.2e9  # ResNet-50 at 224²: 4.1 G multiply-adds (He et al. 2016, Table 1)


@dataclass(frozen=True)
class DenseModel:
    """A dense model on one chip: its per-sample work and what one step reads."""

    job: Job
    chip: Chip
    peak: float
    flops_per_sample: float  # forward
    bytes_per_sample: float
    efficiency: float
    model_bytes: float
    streamed_bytes: float  # weights beyond on-chip memory, streamed over the host link
    weights_s: float  # reading the weights once per step
    host_link_bytes_s: float | None
    layers: int
    dispatch_s: float  # per layer: eager per-operator dispatch, or a compiled engine's launch
    lone_peak: float  # FLOP/s a request served alone computes at: without the DLAs beside the GPU
    # A compiled engine: it copies the next batch in on its own stream while one computes, and
    # its per-layer cost is the device-side gap between its graph's kernels.
    compiled: bool = False

    @property
    def train(self) -> bool:
        return not self.job.inference

    def per_chip(self, samples: float) -> tuple[float, float]:
        """(compute, host) seconds of one chip's step over ``samples`` samples.  The inputs cross
        the chip's host link before their batch computes; a compiled engine serving batches
        copies the next batch on its own stream while this one computes (NVIDIA's MLPerf
        harness: gpu_copy_streams), so only the copy beyond the compute is exposed."""
        link = self.host_link_bytes_s
        host = self.streamed_bytes / (link or 1e9) if self.streamed_bytes else 0.0
        work = self.flops_per_sample * (3 if self.train else 1) * samples
        peak = self.lone_peak if samples <= 1 else self.peak
        compute = work / (peak * self.efficiency)
        if self.job.inference and link:
            inputs = samples * self.bytes_per_sample / link
            host += max(0.0, inputs - compute) if self.compiled and samples > 1 else inputs
        # An eager framework's host dispatches operators ahead of the accelerator running them,
        # so only the dispatch beyond its compute is exposed (on a CPU the same cores do both).
        # A compiled engine's per-layer figure is the gap between its graph's kernels on the
        # device (launch-overhead-compiled), which adds.
        dispatch = self.layers * self.dispatch_s
        ahead = not self.compiled and self.chip.type != "cpu"
        host += max(0.0, dispatch - compute) if ahead else dispatch
        return compute, host

    def step_at(self, samples: int) -> float:
        compute, host = self.per_chip(samples)
        return max(compute, self.weights_s) + host


def compute_efficiency_id(model_type: str, compiled_inference: bool) -> str:
    """The efficiency entry a dense model's compute runs at: a CNN served by a compiled engine
    (TensorRT fuses each convolution with its batch norm and activation, so those make no
    memory-bound passes of their own) at compute-cnn-compiled, an eager CNN at compute-cnn, any
    other small dense model at compute-small."""
    if model_type == "vision":
        return "compute-cnn-compiled" if compiled_inference else "compute-cnn"
    return "compute-small"


def dense_model(
    job: Job,
    chip: Chip,
    oc: Outcome,
    peak: float,
    fw: Framework,
    precision: str = "bf16",
) -> DenseModel | str:
    """The model's numbers on this chip, or why it cannot run there.  A layer costs the
    framework's dispatch (F18): a compiled engine's launch, Python's or a runtime's dispatch."""
    w = job.workload
    compiled, dispatch_s = fw.compiled, dispatch_per_layer(job, fw)
    fwd = w.flops_per_sample
    if fwd is None:
        fwd = RESNET50_FLOPS if w.model_type == "vision" else 2 * job.params
        oc.notes.append(
            "--flops-per-sample not given: "
            + ("8.2 GFLOPs (ResNet-50 at 224², 4.1 G multiply-adds) assumed"
               if w.model_type == "vision" else "2 FLOPs per parameter assumed")
        )  # fmt: skip
    train = not job.inference
    by_w = (
        tf.WEIGHT_BYTES + tf.GRAD_BYTES + tf.OPTIMIZER_BYTES
        if train
        else weight_bytes_per_param(job)
    )
    model_bytes = job.params * by_w
    usable = usable_memory(job, chip)
    link = host_link_bandwidth(chip)
    streamed = 0.0
    if model_bytes > usable:
        if train or link is None:
            return (
                f"needs {format_bytes(model_bytes)} per chip for the model; {chip.name} holds "
                f"{format_bytes(chip.memory_gb * GB)}"
            )
        # Small on-chip memories (an edge TPU's 8 MB SRAM) stream the rest of the weights from
        # the host on every inference (F16).
        streamed = model_bytes - max(usable, 0.0)
        oc.notes.append(
            f"weights ({format_bytes(model_bytes)}) exceed {chip.name}'s "
            f"{format_bytes(chip.memory_gb * GB)} of on-chip memory: {format_bytes(streamed)} "
            f"stream over {chip.host_interconnect or 'the host link'} on every inference"
        )
    on_chip = chip.sram_mb is not None and chip.memory_gb * 1e3 <= chip.sram_mb * 1.01
    # Weights cached in on-chip SRAM are not re-read from external memory (its bandwidth is not
    # published and not the limit); otherwise every step streams them once.
    eff_bw = job.eff["memory-bandwidth"] * chip.memory_bandwidth_gb_s * GB
    weights_s = 0.0 if on_chip else min(model_bytes, max(usable, 0.0) or model_bytes) / eff_bw
    return DenseModel(
        job=job, chip=chip, peak=peak, flops_per_sample=fwd,
        bytes_per_sample=w.bytes_per_sample or (110e3 if w.model_type == "vision" else 4e3),
        efficiency=job.eff[compute_efficiency_id(w.model_type, compiled and not train)],
        model_bytes=model_bytes, streamed_bytes=streamed, weights_s=weights_s,
        host_link_bytes_s=link, layers=w.layers or 50,
        dispatch_s=dispatch_s,
        lone_peak=peak - dla_flops(chip, precision, peak),
        compiled=compiled,
    )  # fmt: skip


def dla_flops(chip: Chip, precision: str, peak: float) -> float:
    """FLOP/s of ``peak`` that the chip's DLAs hold (their share of the dense peak, at the same
    sustained share), which a request served alone does not use."""
    dla = chip.dla_peak_tflops.get(precision) if chip.dla_peak_tflops else None
    dense = chip.peak_tflops.get(precision)
    return peak * dla / dense if dla and dense else 0.0


def serving_batch(job: Job, chips: int, step_at: Callable[[int], float]) -> int:
    """Samples per chip per step for a dense model being served: --batch-size if given; one at a
    time with no rate; else the smallest power of two whose capacity, chips × b / step(b),
    serves the rate (capacity rises with the batch, so a bisection finds it)."""
    w = job.workload
    if w.batch_size is not None:
        return w.batch_size
    if not w.rate:
        return 1
    ladder: list[int] = [2**i for i in range(MAX_SERVING_BATCH.bit_length())]
    lo, hi = 0, len(ladder) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if chips * ladder[mid] / step_at(ladder[mid]) >= w.rate:
            hi = mid
        else:
            lo = mid + 1
    return ladder[lo]


def serving_batch_wait(job: Job, chips: int, batch: int) -> float:
    """Seconds a sample waits for its batch to fill at the rate asked: (b − 1) / (rate / chips)."""
    rate = job.workload.rate
    if not rate or batch <= 1:
        return 0.0
    return (batch - 1) / (rate / chips)


@dataclass
class _Step:
    """One step of a dense stack, before storage."""

    batch: int
    compute_s: float
    host_s: float
    network_s: float
    decode_s: float = 0.0


def _step(dm: DenseModel, cat: Catalog, spec: Spec) -> _Step:
    """Batch, compute, host and exposed gradient all-reduce of one step."""
    job, chip, n = dm.job, dm.chip, spec.count
    if dm.train:
        batch = job.workload.batch_size or 256
        compute, host = dm.per_chip(batch / n)  # the global batch over data-parallel chips
    else:
        batch = serving_batch(job, n, dm.step_at)  # every chip runs its own batch (F10)
        compute, host = dm.per_chip(batch)
    comm = 0.0
    if dm.train and n > 1:
        up, out = links_for(cat, chip, spec)
        bw, lat, _ = group_link(n, n, chip, up, out)
        eff = collective_efficiency(job, n, n, chip, up, out)
        comm = net.all_reduce_time(2 * job.params, n, bw, lat, eff)
        comm -= min(comm * job.eff["dp-overlap"], compute)
        comm += tcp_host_time(job, cat, spec, 2 * job.params)
    decode = 0.0
    if dm.train and job.workload.model_type == "vision":
        # Host CPUs decode and augment every image (F19; MLPerf Storage #330).
        host_cpu = host_of(job, cat, chip, spec)
        nodes = math.ceil(n / host_cpu.chips)
        decode = dt.decode_time(batch / nodes, job.eff["decode-per-core"], host_cpu.cores)
        host += max(0.0, decode - compute)
    return _Step(batch, compute, host, max(comm, 0.0), decode)


def evaluate_dense(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    """Vision and other dense models from FLOPs and bytes per sample."""
    w = job.workload
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision}")
    dm = dense_model(job, chip, oc, peak, fw, precision)
    if isinstance(dm, str):
        return oc.reject(dm)
    s = _step(dm, cat, spec)
    if s.decode_s:
        oc.term("host decode per step", "samples per node / (per-core rate × cores)",
                s.decode_s, "s", "F19", per_core=job.eff["decode-per-core"],
                cores=host_of(job, cat, dm.chip, spec).cores)  # fmt: skip
    stored = _storage(dm, cat, spec, oc, s)
    if stored is None:
        return oc
    store, storage_s, provisioned, read_step, opens = stored
    cost = StepCost((
        PhaseCost("forward and backward" if dm.train else "forward", compute_s=s.compute_s,
                  memory_s=dm.weights_s),
        PhaseCost("gradient all-reduce (exposed)", network_s=s.network_s),
        PhaseCost("data reads (exposed)", storage_s=storage_s),
        PhaseCost("host: dispatch, inputs, decode", host_s=s.host_s),
    ))  # fmt: skip
    step = cost.total_s
    _terms(dm, spec, oc, s, read_step, opens)
    oc.layout = {"data_parallel": spec.count, "batch": s.batch, "precision": precision}
    oc.breakdown = cost.breakdown() | {"bubble_s": 0.0}
    _power_and_metrics(dm, cat, spec, oc, s, step, store, provisioned)
    _attribute(dm, spec, oc, s, step, storage_s, read_step, opens, store.id if store else None)
    return oc


def _storage(
    dm: DenseModel, cat: Catalog, spec: Spec, oc: Outcome, s: _Step
) -> tuple[Any, float, float, float, float] | None:
    """The storage for training reads and checkpoints (F19, F20); serving reads nothing."""
    job, w, n = dm.job, dm.job.workload, spec.count
    samples = w.samples or 1.28e6
    if w.samples is None and dm.train:
        oc.notes.append("--samples not given: 1.28M samples (ImageNet-1k size) assumed")
    read_step = s.batch * dm.bytes_per_sample
    dataset = w.dataset_size or samples * dm.bytes_per_sample
    opens = dt.file_opens_per_step(s.batch, samples, w.files) if w.files else 0.0
    store, storage_s, _, provisioned = choose_storage(
        job, cat, dm.chip, spec, oc, read_step if dm.train else 0.0,
        max(s.compute_s, dm.weights_s) + s.network_s, job.params * 14 if dm.train else 0.0,
        w.checkpoint_every or job.eff["checkpoint-interval"], dataset,
        math.ceil(n / node_size(dm.chip)), opens=opens if dm.train else 0.0,
    )  # fmt: skip
    if store is None and not oc.ok:
        return None
    return store, storage_s, provisioned, read_step, opens


def _terms(
    dm: DenseModel, spec: Spec, oc: Outcome, s: _Step, read_step: float, opens: float
) -> None:
    oc.term("compute per step",
            "FLOPs/sample × (3 if training) × samples per chip (batch/N training, own batch "
            "serving) / (F·η)", s.compute_s, "s", "F3", flops_per_sample=dm.flops_per_sample,
            batch=s.batch, N=spec.count, peak_tflops=dm.peak / 1e12,
            efficiency=dm.efficiency)  # fmt: skip
    if dm.train:
        oc.term("data read per step", "batch × bytes/sample (+ file opens / metadata ops)",
                read_step, "bytes", "F19", batch=s.batch, bytes_per_sample=dm.bytes_per_sample,
                opens=opens)  # fmt: skip
    if dm.streamed_bytes:
        oc.term("weight streaming per inference", "overflow bytes / host link", s.host_s, "s",
                "F16", bytes=dm.streamed_bytes,
                link=dm.chip.host_interconnect or "host")  # fmt: skip


def _power_and_metrics(
    dm: DenseModel,
    cat: Catalog,
    spec: Spec,
    oc: Outcome,
    s: _Step,
    step: float,
    store: Any,
    provisioned: float,
) -> None:
    job, w, n, chip = dm.job, dm.job.workload, spec.count, dm.chip
    samples = (w.samples or 1.28e6) * (w.epochs or 1)
    total = math.ceil(samples / s.batch) * step if dm.train else (
        w.samples / w.rate if (w.samples and w.rate) else 3600.0
    )  # fmt: skip
    capacity = chip.memory_gb * GB
    util = duty_cycle(job, s.compute_s + dm.weights_s, step, n, 1 if dm.train else s.batch)
    memory = min(dm.model_bytes, capacity) + min(job.eff["runtime-overhead"], 0.1 * capacity)
    finish(job, cat, chip, spec, oc, store, provisioned, seconds=total, step_s=step, util=util,
           memory=memory, capacity=capacity)  # fmt: skip
    # Training: the global batch per step.  Serving: every chip finishes its own batch per step.
    rate = s.batch / step if dm.train else n * s.batch / step
    latency = None if dm.train else step + serving_batch_wait(job, n, s.batch)
    oc.metrics.update(
        samples_per_s=rate,
        requests_per_s=None if dm.train else min(rate, w.rate or rate),
        latency_s=latency,
    )
    if not dm.train:
        oc.saturation_rps = rate
    oc.objective_time_s = total if dm.train else step
    serving_targets(job, oc, rate, latency or step, "samples")


def _attribute(
    dm: DenseModel,
    spec: Spec,
    oc: Outcome,
    s: _Step,
    step: float,
    storage_s: float,
    read_step: float,
    opens: float,
    store_id: str | None,
) -> None:
    """The bottleneck (F24) and its explanation in numbers."""
    job, chip, w, n = dm.job, dm.chip, dm.job.workload, spec.count
    terms: dict[BottleneckKind, float] = {
        "compute": s.compute_s,
        "memory_bandwidth": dm.weights_s,
        "network": s.network_s,
        "storage": storage_s,
        "host": s.host_s,
    }
    oc.kind = dominant_overhead(terms)
    dispatch = f"framework dispatch ({dm.layers} layers × {format_duration(dm.dispatch_s)})"
    reasons: dict[BottleneckKind, str] = {
        "compute": f"{dm.flops_per_sample * (3 if dm.train else 1) * s.batch:.3g} FLOPs per step "
        f"at {dm.peak / 1e12:g} TFLOPS × {dm.efficiency:g}",
        "memory_bandwidth": f"reading {format_bytes(min(dm.model_bytes, chip.memory_gb * GB))} of "
        f"weights at {chip.memory_bandwidth_gb_s:g} GB/s × {job.eff['memory-bandwidth']:g}",
        "network": f"gradient all-reduce over {n} chips",
        "storage": f"reading {format_bytes(read_step)} per step"
        + (f" from {opens:.3g} files (metadata ops and round trips)" if opens else "")
        + f" from {store_id}",
        "host": "streaming weights over the host link" if dm.streamed_bytes
        else "host CPUs decoding images" if dm.train and w.model_type == "vision"
        else dispatch + (" and moving inputs over the host link"
                         if job.inference and dm.host_link_bytes_s else ""),
    }  # fmt: skip
    oc.explanation = (
        f"{oc.kind.replace('_', ' ')}: {reasons[oc.kind]} takes {format_duration(terms[oc.kind])} "
        f"of each {format_duration(step)} step (batch {s.batch} on {n} × {chip.name})"
    )
