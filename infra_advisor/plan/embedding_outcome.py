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
    compute_peak,
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


@dataclass
class _Work:
    where: str
    lookup_bytes: float
    gather_efficiency: float
    sparsecore: bool
    compute_s: float
    memory_s: float
    host_s: float
    network_s: float = 0.0


def _work(job: Job, cat: Catalog, chip: Chip, spec: Spec, t: Tables, peak: float) -> _Work | str:
    """Where the tables live, and the lookups and dense compute of one chip's step."""
    train, n = not job.inference, spec.count
    usable = usable_memory(job, chip)
    dense_bytes = t.dense_params * (16.0 if train else t.element_bytes)
    free = max(usable - dense_bytes, 0.0) * n
    where, _ = where_data_lives(t.table_bytes, free, host_of(job, cat, chip, spec), n)
    if where == "storage":
        return (
            f"embedding tables of {format_bytes(t.table_bytes)} exceed the memory of {n} × "
            f"{chip.name} and their hosts"
        )
    sparsecore = "sparsecore" in chip.features
    eff = job.eff["gather-bandwidth-sparsecore" if sparsecore else "gather-bandwidth"]
    # Read, gradient, write back in training.
    lookup = t.batch * t.lookups * t.dim * t.element_bytes / n * (3 if train else 1)
    if where == "device":
        memory_s, host_s = lookup / (chip.memory_bandwidth_gb_s * GB * eff), 0.0
    else:
        memory_s, host_s = 0.0, lookup / ((host_link_bandwidth(chip) or PCIE_GEN4_X16) * eff)
    compute = t.dense_flops * t.batch * (3 if train else 1) / n / (peak * job.eff["compute-small"])
    return _Work(where, lookup, eff, sparsecore, compute, memory_s, host_s)


def _exchange(
    job: Job, cat: Catalog, chip: Chip, spec: Spec, t: Tables, oc: Outcome, work: _Work
) -> None:
    """Model-parallel tables send each sample's pooled vectors, one per table, to the chip that
    owns the sample (DLRM, Naumov et al. 2019 §3; TorchRec's pooled embedding all-to-all):
    tables × dim bytes a sample, however many lookups are pooled."""
    n, train = spec.count, not job.inference
    if n <= 1:
        return
    up, out = links_for(cat, chip, spec)
    bw, lat, link_id = group_link(n, n, chip, up, out)
    pooled = min(t.lookups, t.tables)
    a2a = t.batch * pooled * t.dim * t.element_bytes / n * (2 if train else 1)
    network = net.all_to_all_time(a2a, n, bw, lat, job.eff["network"])
    if train:
        network += net.all_reduce_time(2 * t.dense_params, n, bw, lat, job.eff["network"])
    network += tcp_host_time(job, cat, spec, a2a)
    work.network_s = network
    oc.term("embedding all-to-all per step",
            "(n−1)/n · batch·tables·dim·by/n /(BW·η) (pooled per table)", network, "s",
            "F12/F13", link=link_id, bytes=a2a)  # fmt: skip


def evaluate_embedding(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    """Train or serve the recommender on this stack."""
    w = job.workload
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision}")
    t = describe_tables(job)
    work = _work(job, cat, chip, spec, t, peak)
    if isinstance(work, str):
        return oc.reject(work)
    _exchange(job, cat, chip, spec, t, oc, work)
    stored = _storage(job, cat, chip, spec, t, oc, work)
    if stored is None:
        return oc
    store, storage_s, provisioned = stored
    cost = StepCost((
        PhaseCost("lookups and dense layers", compute_s=work.compute_s, memory_s=work.memory_s),
        PhaseCost("pooled embedding all-to-all", network_s=work.network_s),
        PhaseCost("lookups over the host link", host_s=work.host_s),
        PhaseCost("sample reads (exposed)", storage_s=storage_s),
    ))  # fmt: skip
    _terms(t, oc, work)
    oc.layout = {
        "tables": work.where,
        "shards": spec.count,
        "batch": t.batch,
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
        max(work.compute_s, work.memory_s), t.table_bytes if train else 0.0,
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
    total = math.ceil(samples / t.batch) * step if train else (
        w.samples / w.rate if (w.samples and w.rate) else 3600.0
    )  # fmt: skip
    dense_bytes = t.dense_params * (16.0 if train else t.element_bytes)
    memory = (t.table_bytes / n if work.where == "device" else 0.0) + dense_bytes
    memory += job.eff["runtime-overhead"]
    # Each chip finishes batch / n samples a step: serving power follows that load.
    util = duty_cycle(job, work.compute_s + work.memory_s, step, n, t.batch / n)
    finish(job, cat, chip, spec, oc, store, provisioned, seconds=total, step_s=step, util=util,
           memory=memory, capacity=chip.memory_gb * GB)  # fmt: skip
    rate = t.batch / step
    oc.metrics.update(
        samples_per_s=rate,
        requests_per_s=min(rate, w.rate or rate) if job.inference else None,
        latency_s=step if job.inference else None,
    )
    if job.inference:
        oc.saturation_rps = rate
    oc.objective_time_s = total if train else step
    serving_targets(job, oc, rate, step, "samples", latency=False)


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
