"""One embedding-recommender stack evaluated (F12, F21b): where the tables live, one step's
phases, and what limits it.

Tables are sharded over the chips (model parallel); each step looks up the batch's rows at the
gather fraction of memory bandwidth (a higher, sourced fraction on SparseCore chips), runs the
dense layers, and exchanges each sample's pooled vectors all-to-all.  The step is a StepCost, so
the breakdown sums to the step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra_advisor.catalog import Catalog
from infra_advisor.job import Job
from infra_advisor.models import Chip, Framework, Storage
from infra_advisor.physics import network as net
from infra_advisor.physics.cost import PhaseCost, StepCost
from infra_advisor.plan.evaluate import (
    GB,
    Outcome,
    Spec,
    choose_storage,
    collective_efficiency,
    compute_peak,
    dominant_overhead,
    duty_cycle,
    evaluation_passes,
    finish,
    group_link,
    host_link_bandwidth,
    host_of,
    links_for,
    node_size,
    serving_targets,
    tcp_host_time,
    usable_memory,
)
from infra_advisor.plan.graph_outcome import PCIE_GEN4_X16, element_bytes, where_data_lives
from infra_advisor.report import BottleneckKind
from infra_advisor.units import format_bytes, format_duration

DEFAULT_TABLES = 26  # Criteo's 26 categorical features (DLRM, MLPerf DLRM-DCNv2)
SAMPLE_BYTES = 160.0  # a Criteo sample: 13 dense + 26 sparse features, label (MLPerf DLRM data)


@dataclass(frozen=True)
class Tables:
    """The sparse tables and the dense part of the model, and one step's batch."""

    rows: float
    dim: int
    lookups: float
    tables: float
    element_bytes: float
    table_bytes: float
    dense_params: float
    dense_flops: float  # per sample, forward
    batch: int


def describe_tables(job: Job) -> Tables:
    w, train = job.workload, not job.inference
    rows, dim, by = (
        w.embedding_rows or 100e6,
        int(w.embedding_dim or 128),
        element_bytes(w.precision),
    )
    return Tables(
        rows=rows, dim=dim, lookups=w.lookups_per_sample or 26,
        tables=w.embedding_tables or DEFAULT_TABLES, element_bytes=by,
        # Row-wise Adagrad keeps one fp32 per row in training.
        table_bytes=rows * dim * by + (rows * 4.0 if train else 0.0),
        dense_params=job.params, dense_flops=w.flops_per_sample or 2 * job.params,
        batch=w.batch_size or (65536 if train else 512),
    )  # fmt: skip


# Serving batches tried per copy of the tables when --batch-size is not given: up to NVIDIA's
# MLPerf DLRM-v2 offline batch (configs/dlrm-v2/Offline: gpu_batch_size 600,000 pairs per GPU).
INFERENCE_BATCHES = (512, 4096, 32768, 262144, 600000)


@dataclass
class _Work:
    where: str
    lookup_bytes: float
    gather_efficiency: float
    sparsecore: bool
    compute_s: float
    memory_s: float
    host_s: float
    group: int  # chips one copy of the tables is sharded over (all of them in training)
    batch: int  # samples one copy takes a step
    network_s: float = 0.0
    exchange_bytes: float = 0.0
    link: str = "none"
    exchange_s: float = 0.0  # the pooled all-to-all alone (forward and, in training, backward)

    def step_s(self) -> float:
        return self.compute_s + self.memory_s + self.network_s + self.host_s


def _layouts(job: Job, spec: Spec, t: Tables) -> list[tuple[int, int]]:
    """(group, batch) pairs to cost.  Training shards the tables over every chip (TorchRec's
    model parallelism).  Serving may instead keep a whole copy on each group of g chips, g a
    power of two dividing the count, and serve the copies side by side (NVIDIA's MLPerf DLRM-v2
    configs hold every table on every GPU: embedding_weights_on_gpu_part 1.0), with the largest
    batch that pays (INFERENCE_BATCHES) unless --batch-size gives one."""
    n = spec.count
    if not job.inference:
        return [(n, t.batch)]
    groups = [g for g in (2**k for k in range(n.bit_length())) if n % g == 0]
    if n not in groups:
        groups.append(n)
    batches = [t.batch] if job.workload.batch_size else list(INFERENCE_BATCHES)
    return [(g, b) for g in groups for b in batches]


def _work(
    job: Job, cat: Catalog, chip: Chip, spec: Spec, t: Tables, peak: float, layout: tuple[int, int]
) -> _Work | str:
    """Where one copy of the tables lives on its group of chips, and one step of it: the
    lookups, the dense compute and the pooled all-to-all inside the group."""
    train, (g, batch) = not job.inference, layout
    usable = usable_memory(job, chip)
    dense_bytes = t.dense_params * (16.0 if train else t.element_bytes)
    # Each sample in flight holds its pooled vectors (twice: gathered and exchanged) and input.
    in_flight = batch / g * (2 * t.tables * t.dim * t.element_bytes + SAMPLE_BYTES)
    free = max(usable - dense_bytes - in_flight, 0.0) * g
    where, _ = where_data_lives(t.table_bytes, free, host_of(job, cat, chip, spec), g)
    if where == "storage":
        return (
            f"embedding tables of {format_bytes(t.table_bytes)} exceed the memory of {g} × "
            f"{chip.name} and their hosts"
        )
    sparsecore = "sparsecore" in chip.features
    eff = job.eff["gather-bandwidth-sparsecore" if sparsecore else "gather-bandwidth"]
    # Read, gradient, write back in training.
    lookup = batch * t.lookups * t.dim * t.element_bytes / g * (3 if train else 1)
    if where == "device":
        memory_s, host_s = lookup / (chip.memory_bandwidth_gb_s * GB * eff), 0.0
    else:
        memory_s, host_s = 0.0, lookup / ((host_link_bandwidth(chip) or PCIE_GEN4_X16) * eff)
    compute = t.dense_flops * batch * (3 if train else 1) / g / (peak * job.eff["compute-small"])
    work = _Work(where, lookup, eff, sparsecore, compute, memory_s, host_s, g, batch)
    _exchange(job, cat, chip, spec, t, work)
    return work


def _exchange(job: Job, cat: Catalog, chip: Chip, spec: Spec, t: Tables, work: _Work) -> None:
    """Model-parallel tables send each sample's pooled vectors, one per table, to the chip that
    owns the sample (DLRM, Naumov et al. 2019 §3; TorchRec's pooled embedding all-to-all):
    tables × dim bytes a sample, however many lookups are pooled; training also all-reduces
    the dense gradients over every chip."""
    g, n, train = work.group, spec.count, not job.inference
    up, out = links_for(cat, chip, spec)
    network, a2a, link = 0.0, 0.0, "none"
    if g > 1:
        bw, lat, link = group_link(g, g, chip, up, out)
        pooled = min(t.lookups, t.tables)
        a2a = work.batch * pooled * t.dim * t.element_bytes / g * (2 if train else 1)
        network = net.all_to_all_time(a2a, g, bw, lat, job.eff["network"])
        network += tcp_host_time(job, cat, spec, a2a)
        work.exchange_s = network
    if train and n > 1:
        bw, lat, link = group_link(n, n, chip, up, out)
        eff = collective_efficiency(job, n, n, chip, up, out)
        network += net.all_reduce_time(2 * t.dense_params, n, bw, lat, eff)
    work.network_s, work.exchange_bytes, work.link = network, a2a, link


def _best(job: Job, spec: Spec, works: list[_Work]) -> _Work:
    """The layout a serving engineer would run: within the latency target where one is given,
    the lowest latency that still serves the rate asked, else the highest rate."""
    w, n = job.workload, spec.count
    if w.latency_target is not None:
        works = [x for x in works if x.step_s() <= w.latency_target] or works

    def rate(x: _Work) -> float:
        return n / x.group * x.batch / x.step_s()

    if w.rate:
        serving = [x for x in works if rate(x) >= w.rate * 0.999]
        if serving:
            return min(serving, key=lambda x: (x.step_s(), x.group))
    return max(works, key=lambda x: (rate(x), -x.group))


def evaluate_embedding(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    """Train or serve the recommender on this stack."""
    w = job.workload
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision}")
    t = describe_tables(job)
    tried = [_work(job, cat, chip, spec, t, peak, layout) for layout in _layouts(job, spec, t)]
    works = [x for x in tried if not isinstance(x, str)]
    if not works:
        return oc.reject(str(tried[-1]))
    work = _best(job, spec, works)
    stored = _storage(job, cat, chip, spec, t, oc, work)
    if stored is None:
        return oc
    store, storage_s, provisioned = stored
    # The lookups and the dense layers are separate kernels one after the other on each chip
    # (TorchRec's embedding kernels, then the MLPs; NVIDIA's MLPerf DLRM-v2 serving runs one
    # inference stream, gpu_inference_streams = 1), so their times add.
    cost = StepCost((
        PhaseCost("embedding lookups", memory_s=work.memory_s),
        PhaseCost("dense layers", compute_s=work.compute_s),
        PhaseCost("pooled embedding all-to-all", network_s=work.network_s),
        PhaseCost("lookups over the host link", host_s=work.host_s),
        PhaseCost("sample reads (exposed)", storage_s=storage_s),
    ))  # fmt: skip
    _terms(t, oc, work)
    oc.layout = {
        "tables": work.where,
        "shards": work.group,
        "replicas": spec.count // work.group,
        "batch": work.batch,
        "precision": precision,
    }
    oc.breakdown = cost.breakdown() | {"bubble_s": 0.0}
    _power_and_metrics(job, cat, chip, spec, t, oc, work, cost.total_s, store, provisioned)
    _attribute(chip, t, oc, work, cost.total_s, storage_s, store.id if store else None)
    return oc


def _storage(
    job: Job, cat: Catalog, chip: Chip, spec: Spec, t: Tables, oc: Outcome, work: _Work
) -> tuple[Storage | None, float, float] | None:
    w, train = job.workload, not job.inference
    samples = (w.samples or 4e9) * (w.epochs or 1)
    store, storage_s, _, provisioned = choose_storage(
        job, cat, chip, spec, oc, t.batch * (w.bytes_per_sample or SAMPLE_BYTES) if train else 0.0,
        work.compute_s + work.memory_s, t.table_bytes if train else 0.0,
        w.checkpoint_every or job.eff["checkpoint-interval"],
        w.dataset_size or samples * SAMPLE_BYTES, math.ceil(spec.count / node_size(chip)),
    )  # fmt: skip
    if store is None and not oc.ok:
        return None
    return store, storage_s, provisioned


def _terms(t: Tables, oc: Outcome, work: _Work) -> None:
    oc.term("embedding tables", "rows · dim · by (+ 4 B/row Adagrad state)", t.table_bytes,
            "bytes", "F21/F12", rows=t.rows, dim=t.dim, by=t.element_bytes)  # fmt: skip
    oc.term("lookup traffic per chip-step", "batch · lookups · dim · by / n (×3 training)",
            work.lookup_bytes, "bytes", "F12", where=work.where,
            gather_efficiency=work.gather_efficiency, sparsecore=work.sparsecore)  # fmt: skip
    oc.term(
        "dense compute per step", "FLOPs/sample · batch · 3 / (n·F·η)", work.compute_s, "s", "F3"
    )
    if work.network_s:
        oc.term("embedding all-to-all per step",
                "(n−1)/n · batch·tables·dim·by/n /(BW·η) (pooled per table)", work.network_s,
                "s", "F12/F13", link=work.link, bytes=work.exchange_bytes)  # fmt: skip


def _power_and_metrics(
    job: Job,
    cat: Catalog,
    chip: Chip,
    spec: Spec,
    t: Tables,
    oc: Outcome,
    work: _Work,
    step: float,
    store: Storage | None,
    provisioned: float,
) -> None:
    w, n, train = job.workload, spec.count, not job.inference
    samples = (w.samples or 4e9) * (w.epochs or 1)
    passes = evaluation_passes(job, samples)
    eval_s = passes * _evaluation_pass_s(job, t, work)
    total = math.ceil(samples / t.batch) * step + eval_s if train else (
        w.samples / w.rate if (w.samples and w.rate) else 3600.0
    )  # fmt: skip
    if passes:
        oc.term("evaluation passes", "passes × eval samples × a sample's forward share of a step",
                eval_s, "s", "F3d", passes=passes, eval_samples=w.eval_samples)  # fmt: skip
    g = work.group
    dense_bytes = t.dense_params * (16.0 if train else t.element_bytes)
    memory = (t.table_bytes / g if work.where == "device" else 0.0) + dense_bytes
    memory += job.eff["runtime-overhead"]
    # Each chip finishes batch / g samples a step: serving power follows that load.
    util = duty_cycle(job, work.compute_s + work.memory_s, step, n, work.batch / g)
    finish(job, cat, chip, spec, oc, store, provisioned, seconds=total, step_s=step, util=util,
           memory=memory, capacity=chip.memory_gb * GB)  # fmt: skip
    rate = n // g * work.batch / step
    oc.metrics.update(
        samples_per_s=rate,
        requests_per_s=min(rate, w.rate or rate) if job.inference else None,
        latency_s=step if job.inference else None,
    )
    if job.inference:
        oc.saturation_rps = rate
    oc.objective_time_s = total if train else step
    serving_targets(job, oc, rate, step, "samples", latency=False)


def _evaluation_pass_s(job: Job, t: Tables, work: _Work) -> float:
    """One evaluation pass (F3d): ``eval_samples`` samples forward only, in the training layout:
    a third of the lookup traffic (reads, no gradients or write-back) and of the dense compute,
    half the pooled all-to-all, no gradient all-reduce."""
    samples = job.workload.eval_samples or 0.0
    if not samples:
        return 0.0
    forward = (work.memory_s + work.compute_s + work.host_s) / 3 + work.exchange_s / 2
    return float(samples / work.batch * forward)


def _attribute(
    chip: Chip,
    t: Tables,
    oc: Outcome,
    work: _Work,
    step: float,
    storage_s: float,
    store_id: str | None,
) -> None:
    """The bottleneck (F24), in numbers."""
    terms: dict[BottleneckKind, float] = {"compute": work.compute_s, "memory_bandwidth": work.memory_s,
                                          "network": work.network_s, "storage": storage_s,
                                          "host": work.host_s}  # fmt: skip
    oc.kind = dominant_overhead(terms)
    oc.explanation = {
        "memory_bandwidth": f"{t.batch * t.lookups:.3g} random embedding lookups per step move "
        f"{format_bytes(work.lookup_bytes)} per chip at {chip.memory_bandwidth_gb_s:g} GB/s × "
        f"{work.gather_efficiency:g}{' (SparseCore)' if work.sparsecore else ''} → "
        f"{format_duration(work.memory_s)}",
        "host": f"the {format_bytes(t.table_bytes)} of tables live in host memory: lookups cross "
        f"the host link, {format_duration(work.host_s)} per step",
        "network": f"sharded tables exchange pooled embeddings all-to-all: "
        f"{format_duration(work.network_s)} per step",
        "compute": f"the dense layers compute {format_duration(work.compute_s)} per step",
        "storage": f"reading samples from {store_id} adds {format_duration(storage_s)} per step",
    }[oc.kind] + f" (of a {format_duration(step)} step)"
