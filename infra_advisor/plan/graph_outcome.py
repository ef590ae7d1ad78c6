"""One graph-neural-network stack evaluated (F21): where the graph lives, one step's phases,
and what limits it.

Full-batch training partitions the graph over the chips; neighbour sampling gives each chip a
sampled subgraph per step (one seed per query when serving).  The step is a StepCost: message
passing (compute and irregular gathers as a roofline), the halo exchange and gradient sync,
host work (dispatch, CPU sampling not hidden, features over the host link) and random feature
reads from storage when the graph fits nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra_advisor.catalog import Catalog
from infra_advisor.job import Job
from infra_advisor.models import Chip, Framework, Storage
from infra_advisor.physics import graph as gr
from infra_advisor.physics import network as net
from infra_advisor.physics.cost import PhaseCost, StepCost
from infra_advisor.plan.evaluate import (
    GB,
    Host,
    Outcome,
    Spec,
    choose_storage,
    collective_efficiency,
    compute_peak,
    dispatch_per_layer,
    dominant_overhead,
    duty_cycle,
    evaluation_passes,
    finish,
    group_link,
    host_link_bandwidth,
    host_of,
    links_for,
    serving_targets,
    stage_seconds,
    tcp_host_time,
    usable_memory,
)
from infra_advisor.report import BottleneckKind
from infra_advisor.units import format_bytes, format_duration
from infra_advisor.workload import default_edges, default_fanout

LOADER_BEYOND = "the next batch's sampling and feature fetch, beyond the step"
PCIE_GEN4_X16 = 32e9  # bytes/s per direction: the host link assumed where a chip lists none


def element_bytes(precision: str) -> float:
    """Bytes of one stored feature or embedding element (8-bit tables: NVIDIA's MLPerf DLRM-v2
    serves INT8 embeddings; 4-bit where asked)."""
    return {"fp32": 4.0, "tf32": 4.0, "fp8": 1.0, "int8": 1.0, "fp4": 0.5, "int4": 0.5}.get(
        precision, 2.0
    )


def where_data_lives(need: float, usable_total: float, host: Host, chips: int) -> tuple[str, float]:
    """Where data of ``need`` bytes lives: device, host or storage; and the host memory available
    (each host's memory over the hosts the chips need)."""
    host_total = host.memory_bytes * math.ceil(chips / host.chips)
    if need <= usable_total:
        return "device", host_total
    if need <= host_total:
        return "host", host_total
    return "storage", host_total


@dataclass(frozen=True)
class Graph:
    """The graph, the model and one chip's share of a step."""

    nodes: float
    edges: float
    node_features: int
    edge_features: int
    hidden: int
    layers: int
    fanout: list[int]
    sampling: str
    element_bytes: float
    params: float
    chip_nodes: float  # nodes one chip processes per step
    chip_edges: float
    seeds: float  # seeds per step (the whole graph at full batch)
    steps: int  # per epoch
    relations: int = 1  # edge types, each transformed and aggregated on its own
    embedding_nodes: float = 0.0  # featureless nodes that learn an embedding instead
    dense_update: bool = False  # learned embeddings updated every row, every step
    chip_frontier: float = 0.0  # nodes one chip's sampler draws neighbours for per step

    @property
    def structure_bytes(self) -> float:
        return gr.structure_bytes(self.nodes, self.edges)

    @property
    def feature_bytes(self) -> float:
        """Input features of the nodes that have them (learned embeddings are model state)."""
        return gr.feature_bytes(self.nodes - self.embedding_nodes, self.node_features, self.edges,
                                self.edge_features, self.element_bytes)  # fmt: skip

    @property
    def embedding_params(self) -> float:
        return self.embedding_nodes * self.node_features

    @property
    def touched_embedding_rows(self) -> float:
        """Learned rows one chip's step looks up: its sampled nodes in the featureless share."""
        return self.chip_nodes * self.embedding_nodes / self.nodes

    @property
    def featured_rows(self) -> float:
        """Sampled nodes whose input row comes from the feature store: those with features."""
        return self.chip_nodes - self.touched_embedding_rows

    @property
    def sampled_bytes(self) -> float:
        """Input features one chip's step reads from the feature store (wherever it lives); a
        featureless node's row is a learned embedding, read from the model's own table."""
        by = self.element_bytes
        return (self.featured_rows * self.node_features * by
                + self.chip_edges * self.edge_features * by)  # fmt: skip

    def lookup_bytes(self, train: bool) -> float:
        """Learned-embedding rows one chip's step looks up in device memory (fp32 weights while
        training, the stored precision when serving)."""
        by = gr.FP32_BYTES if train else self.element_bytes
        return self.touched_embedding_rows * self.node_features * by

    def width(self, layer: int) -> int:
        return self.node_features if layer == 0 else self.hidden


def describe_graph(job: Job, chips: int) -> Graph:
    """The workload's graph, with defaults, and one chip's share of a step."""
    w = job.workload
    nodes = w.nodes or 10e6
    edges = w.edges or default_edges(nodes)
    f_v = w.node_features if w.node_features is not None else 128
    f_e, hidden = w.edge_features or 0, w.hidden or 256
    layers = w.layers or (len(w.fanout) if w.fanout else 2)
    fanout = (w.fanout or default_fanout(layers))[:layers]
    sampling = w.sampling or "neighbor"
    relations = w.relations or 1
    # One weight per relation, and a self-loop weight beside them when there are several (R-GCN).
    per_layer = relations + (1 if relations > 1 else 0)
    params = w.params or (
        sum(per_layer * (f_v if i == 0 else hidden) * hidden + hidden for i in range(layers))
        + f_e * f_v * layers
    )  # fmt: skip
    frontier = 0.0
    if sampling == "full":
        n_l, e_l, seeds, steps = nodes / chips, edges / chips, nodes, 1
    else:
        seeds = w.batch_size or 1024
        per_chip = 1.0 if job.inference else seeds / chips
        n_l, e_l = gr.sampled_subgraph(per_chip, fanout)
        n_l, e_l = min(n_l, nodes), min(e_l, edges)
        frontier = min(gr.sampling_frontier(per_chip, fanout), nodes)
        steps = math.ceil((w.samples or nodes) / seeds)
    return Graph(nodes, edges, f_v, f_e, hidden, layers, fanout, sampling,
                 element_bytes(w.precision), params, n_l, e_l, seeds, steps, relations,
                 min(w.embedding_nodes or 0.0, nodes), w.embedding_update == "dense",
                 frontier)  # fmt: skip


@dataclass
class _Placement:
    where: str
    working_bytes: float
    state_bytes: float
    place: str
    held_bytes: float = 0.0  # the graph as held over the chips or hosts (structure copies too)
    copies: int = 1  # hosts that each hold a whole copy of the structure
    hosts: int = 1  # hosts the chips need


def structure_copies(job: Job, fw: Framework, chip: Chip, hosts: int) -> int:
    """Copies of the graph structure a multi-host job keeps: one per host where the devices
    sample, each host's devices sampling from their own whole copy (NVIDIA's MLPerf R-GAT shards
    the structure over a node's GPUs, GRAPH_SHARDING_PARTITION=node, and the features over all of
    them); one, partitioned, where host cores sample (DistDGL's partitions)."""
    if hosts <= 1 or sampler_location(job, fw, chip, "device") != "device":
        return 1
    return hosts


def _place(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, g: Graph
) -> _Placement | str:
    """Whether one step fits a chip, and where the graph lives, or why it cannot run."""
    train, n = not job.inference, spec.count
    usable = usable_memory(job, chip)
    embedded = g.embedding_params * (
        gr.embedding_state_bytes(g.dense_update) if train else g.element_bytes
    )
    state = g.params * (gr.TRAIN_STATE_BYTES if train else g.element_bytes) + embedded
    acts = sum(gr.activation_bytes(g.chip_nodes, g.chip_edges, g.hidden, g.edge_features,
                                   g.element_bytes) for _ in range(g.layers))  # fmt: skip
    if not train:
        acts /= g.layers  # inference keeps one layer's activations at a time
    working = acts + state + g.sampled_bytes + g.lookup_bytes(train)
    if working > usable:
        return (
            f"one step's working set {format_bytes(working)} (activations of {g.chip_nodes:.3g} "
            f"nodes and {g.chip_edges:.3g} edges, {g.hidden}-wide"
            f"{', with per-edge messages' if g.edge_features else ''}) exceeds {chip.name}'s "
            f"{format_bytes(usable)} usable"
        )
    free = max(usable - working, 0.0) * n
    host = host_of(job, cat, chip, spec)
    hosts = math.ceil(n / host.chips)
    copies = structure_copies(job, fw, chip, hosts)
    total = g.structure_bytes * copies + g.feature_bytes
    where, host_total = where_data_lives(total, free, host, n)
    pinned = job.workload.feature_store
    if pinned is not None:
        room = {"device": free, "host": host_total, "storage": math.inf}[pinned]
        if total > room:
            return (
                f"--feature-store {pinned}: the graph ({format_bytes(total)}) does not fit in "
                f"{pinned} memory ({format_bytes(room)} free on {n} × {chip.name})"
            )
        where = pinned
    if where == "storage":  # host cores sample a graph on storage: one partitioned copy
        copies, total = 1, g.structure_bytes + g.feature_bytes
    if g.sampling == "full" and where != "device":
        return (
            f"full-batch training needs the whole graph ({format_bytes(total)}) in device memory; "
            f"{n} × {chip.name} hold {format_bytes(free)} free"
        )
    text = _place_text(job, chip, g, where, n, (total, copies))
    return _Placement(where, working, state, text, total, copies, hosts)


def _place_text(job: Job, chip: Chip, g: Graph, where: str, n: int,
                held: tuple[float, int]) -> str:  # fmt: skip
    total, copies = held
    if where == "device":
        copied = f", the structure copied on each of {copies} hosts" if copies > 1 else ""
        return f"in device memory ({format_bytes(total / n)} per chip{copied})"
    pinned = job.workload.feature_store is not None
    if where == "host":
        link = host_link_bandwidth(chip) or PCIE_GEN4_X16
        why = "as --feature-store pins" if pinned else "> device memory"
        return (
            f"in host memory ({format_bytes(total)} {why}); features cross the host "
            f"link at {link / 1e9:g} GB/s × {job.eff['gather-bandwidth']:g}"
        )
    if pinned:
        return f"on storage ({format_bytes(total)}, as --feature-store pins)"
    return (
        f"on storage ({format_bytes(total)} exceeds device and host memory"
        f"{'' if chip.segment == 'datacenter' else ' of the device'})"
    )


@dataclass
class _Work:
    """One chip's step before storage: seconds by resource and what they come from."""

    flops: float
    compute_s: float
    aggregate_s: float  # irregular aggregation reads in device memory (both passes training)
    lookup_s: float  # learned-embedding rows looked up in device memory
    features_s: float  # sampled input features gathered from device memory
    link_s: float  # sampled input features over the host link (graph in host memory)
    aggregate_bytes: float
    launch_s: float  # framework dispatch (both passes training)
    exchange_s: float = 0.0  # remote features (sharded store) or halo states over the network
    allreduce_s: float = 0.0  # gradient sync
    sampler: str = "none"  # where neighbour sampling runs: host, device or none
    in_process: bool = False  # host sampling in the training process (no loader workers)
    sampling_s: float = 0.0  # host sampling: CPU seconds per step over the host's cores
    device_sampling_s: float = 0.0  # device sampling: its memory traffic
    sampler_launch_s: float = 0.0  # device sampling: its operators' dispatch
    update_s: float = 0.0  # the optimizer step over learned embeddings
    update_bytes: float = 0.0

    @property
    def gather_s(self) -> float:
        return self.lookup_s + self.features_s

    def memory_s(self, train: bool = True) -> float:
        """Device-memory time of message passing: a forward pass reads each edge's source once."""
        return self.aggregate_s / (1 if train else 2) + self.lookup_s + self.features_s

    def exposed_sampling_s(self, train: bool = True) -> float:
        """Host sampling the device does not hide: all of it in the training process, what
        outlasts the device's message passing when loader workers run beside it."""
        if self.sampler != "host":
            return 0.0
        if self.in_process:
            return self.sampling_s
        busy = max(self.compute_s / (1 if train else 3), self.memory_s(train))
        return max(0.0, self.sampling_s - busy)

    @property
    def pipelined(self) -> bool:
        """A device sampler prefetches: the next batch is sampled and its features fetched on
        side streams while this one trains (GraphBolt's DataLoader overlaps the feature fetch,
        NVIDIA's MLPerf R-GAT sets TRAIN_OVERLAP=1 to overlap sampling and feature reads)."""
        return self.sampler == "device"

    def host_s(self, train: bool = True) -> float:
        """Host-side seconds in the training step itself (a pipelined loader's are its own)."""
        loader = 0.0 if self.pipelined else self.link_s + self.sampler_launch_s
        return self.launch_s / (1 if train else 3) + loader + self.exposed_sampling_s(train)

    @property
    def network_s(self) -> float:
        return self.exchange_s + self.allreduce_s

    def step(self, storage_s: float, train: bool = True) -> StepCost:
        """A training step, or (``train`` False) one forward pass of an evaluation step: a third
        of the compute and dispatch, one read of each edge's source, no gradient sync and no
        optimizer step; sampling, feature gathers and storage reads are the same.  A pipelined
        loader's stages (sampling; fetching features over the host link or the network) run
        beside the step, so only what the longer of them outlasts it adds."""
        third = 1 if train else 3
        fetch = self.exchange_s if self.pipelined else 0.0
        phases = [
            PhaseCost("message passing", compute_s=self.compute_s / third,
                      memory_s=self.memory_s(train)),
            PhaseCost("halo exchange and gradient sync",
                      network_s=self.exchange_s - fetch + (self.allreduce_s if train else 0.0)),
            PhaseCost("host: dispatch, sampling, features over the host link",
                      host_s=self.host_s(train)),
            PhaseCost("feature reads from storage", storage_s=storage_s),
            PhaseCost("optimizer step over learned embeddings",
                      memory_s=self.update_s if train else 0.0),
        ]  # fmt: skip
        if self.pipelined:
            phases.append(self._loader_beyond(sum(p.total_s for p in phases)))
        return StepCost(tuple(phases))

    def _loader_beyond(self, step_s: float) -> PhaseCost:
        """What a pipelined loader's longer stage adds beyond the step it runs beside, charged
        to the resource that stage waits on."""
        sample = self.device_sampling_s + self.sampler_launch_s
        beyond = max(0.0, max(sample, self.link_s, self.exchange_s) - step_s)
        name = LOADER_BEYOND
        if sample >= max(self.link_s, self.exchange_s):
            return PhaseCost(name, memory_s=beyond)
        if self.link_s >= self.exchange_s:
            return PhaseCost(name, host_s=beyond)
        return PhaseCost(name, network_s=beyond)


def _work(job: Job, chip: Chip, fw: Framework, g: Graph, p: _Placement, peak: float) -> _Work:
    """Message passing, irregular gathers and host time (F21)."""
    train = not job.inference
    flops = sum(gr.layer_flops(g.chip_nodes, g.chip_edges, g.width(i), g.hidden, g.edge_features)
                for i in range(g.layers)) * (3 if train else 1)  # fmt: skip
    hbm, eff_gather = chip.memory_bandwidth_gb_s * GB, job.eff["gather-bandwidth"]
    # Aggregation reads every edge's source state irregularly from device memory.
    aggregate = sum(g.chip_edges * g.width(i) * g.element_bytes for i in range(g.layers))
    aggregate *= 2 if train else 1
    # Learned rows are looked up in the device-resident table wherever the features live.
    lookup_s = g.lookup_bytes(train) / (hbm * eff_gather)
    features_s = g.sampled_bytes / (hbm * eff_gather) if p.where == "device" else 0.0
    link_s = 0.0
    if p.where == "host":  # the gather crosses the host link, after the dispatch
        link_s = g.sampled_bytes / ((host_link_bandwidth(chip) or PCIE_GEN4_X16) * eff_gather)
    # Kernel launches and framework dispatch: CPU time that dominates one-seed queries.  A
    # heterogeneous layer runs one module per relation (DGL HeteroGraphConv, PyG to_hetero).
    launch = g.layers * g.relations * dispatch_per_layer(job, fw) * (3 if train else 1)
    compute = flops / (peak * job.eff["compute-small"])
    work = _Work(flops, compute, aggregate / (hbm * eff_gather), lookup_s, features_s, link_s,
                 aggregate, launch)  # fmt: skip
    if train and g.embedding_params:
        work.update_bytes = gr.embedding_update_bytes(
            g.embedding_nodes, g.node_features, g.touched_embedding_rows, g.dense_update
        )
        eff = job.eff["memory-bandwidth" if g.dense_update else "gather-bandwidth"]
        work.update_s = work.update_bytes / (hbm * eff)
    return work


def _exchange(job: Job, cat: Catalog, chip: Chip, spec: Spec, g: Graph, p: _Placement,
              oc: Outcome, work: _Work) -> None:  # fmt: skip
    """A partitioned graph: remote neighbours' states (full batch) or remote input features
    (sampled minibatches: the feature store is sharded over the devices, or over the hosts when
    it lives in host memory), and gradients, over the network."""
    n, train = spec.count, not job.inference
    if n <= 1:
        return
    up, out = links_for(cat, chip, spec)
    bw, lat, link_id = group_link(n, n, chip, up, out)
    cut = job.eff["graph-edge-cut"]
    exchange = 0.0
    if g.sampling == "full":
        remote = g.nodes * (1 - 1 / n)  # nodes outside this partition
        halo = gr.halo_bytes(g.chip_edges, cut, g.hidden, g.element_bytes, remote)
        halo *= g.layers * (2 if train else 1)
        exchange = net.point_to_point_time(halo, bw, lat) if math.isfinite(bw) else 0.0
    else:
        hosts = math.ceil(n / host_of(job, cat, chip, spec).chips)
        shards = {"device": n, "host": hosts}.get(p.where, 1)
        halo = g.sampled_bytes * gr.remote_feature_share(shards)
        if shards > 1 and math.isfinite(bw):
            # A sharded store gathers in two all-to-alls: the node ids each shard is asked
            # for, then their features back (WholeGraph's distributed gather).
            eff = job.eff["network"]
            ids = g.featured_rows * gr.index_bytes(g.nodes, g.edges)
            exchange = net.all_to_all_time(ids, shards, bw, lat, eff)
            exchange += net.all_to_all_time(g.sampled_bytes, shards, bw, lat, eff)
    if train:
        ring = collective_efficiency(job, n, n, chip, up, out)
        work.allreduce_s = net.all_reduce_time(2 * g.params, n, bw, lat, ring)
    work.exchange_s = exchange + tcp_host_time(job, cat, spec, halo)
    formula = (
        "distinct remote neighbours R·(1 − e^(−cut edges/R)) × state bytes / link"
        if g.sampling == "full"
        else "ids and sampled features, two all-to-alls over the shards: (s − 1)/s · S/(BW·η) + (s − 1)·α each"
    )
    oc.term("halo exchange per step", formula, work.network_s,
            "s", "F21", cut_fraction=cut, link=link_id, bytes=halo)  # fmt: skip


def sampler_location(job: Job, fw: Framework, chip: Chip, where: str) -> str:
    """Where neighbour sampling runs (F21): none without it (full batch, serving); where the
    workload pins it; else on the device when the framework samples there, the chip is an
    accelerator, no loader workers are asked for and the graph is in device or host memory
    (DGL's CUDA sampling, GraphBolt's pinned mode); otherwise on host CPU cores."""
    w = job.workload
    if job.inference or (w.sampling or "neighbor") != "neighbor":
        return "none"
    if chip.type == "cpu":
        return "host"
    if w.sampler is not None:
        return w.sampler
    able = fw.device_sampling and not w.loader_workers and where != "storage"
    return "device" if able else "host"


def _sampling(job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, g: Graph,
              p: _Placement, oc: Outcome, work: _Work) -> str | None:  # fmt: skip
    """Neighbour sampling, on the device or on host cores; why it cannot run, if it cannot."""
    work.sampler = sampler_location(job, fw, chip, p.where)
    if work.sampler == "device":
        if not fw.device_sampling:
            return f"--sampler device: {fw.name} samples neighbours on host CPU cores only"
        if p.where == "storage":
            return "--sampler device: the graph is on storage; the device samples from device or host memory"
        _device_sampling(job, chip, fw, g, p, oc, work)
    elif work.sampler == "host":
        _host_sampling(job, cat, chip, spec, g, oc, work)
    return None


def _device_sampling(job: Job, chip: Chip, fw: Framework, g: Graph, p: _Placement, oc: Outcome,
                     work: _Work) -> None:  # fmt: skip
    """Sampling on the accelerator: its throughput per relation and edge goes with the device's
    memory bandwidth; a structure pinned in host memory is read over the host link, a sector a
    random read; one sampling operator per relation and hop is dispatched from the host."""
    hbm, rate = chip.memory_bandwidth_gb_s * GB, job.eff["device-sampling-rate"]
    work.device_sampling_s = gr.device_sampling_time(g.chip_edges, g.relations, hbm / 1e12, rate)
    if p.where == "host":
        link = (host_link_bandwidth(chip) or PCIE_GEN4_X16) * job.eff["gather-bandwidth"]
        work.device_sampling_s += gr.sampling_structure_bytes(g.chip_frontier, g.chip_edges) / link
    work.sampler_launch_s = len(g.fanout) * g.relations * dispatch_per_layer(job, fw)
    oc.term("neighbour sampling per step (device)",
            "edges × relations / (rate × HBM TB/s) [+ (frontier + edges)·32 B / host link]",
            work.device_sampling_s, "s", "F21", frontier=g.chip_frontier, edges=g.chip_edges,
            relations=g.relations, rate=rate, structure_in=p.where,
            dispatch_s=work.sampler_launch_s)  # fmt: skip


def _host_sampling(job: Job, cat: Catalog, chip: Chip, spec: Spec, g: Graph, oc: Outcome,
                   work: _Work) -> None:  # fmt: skip
    """Neighbour sampling runs in host data-loader workers, overlapped with device compute: one
    thread each (PyTorch's DataLoader sets each worker to one thread), the host's cores where
    the workers are not given.  With no workers it runs in the training process, on the host's
    cores but between steps, so none of it is hidden."""
    host = host_of(job, cat, chip, spec)
    workers = job.workload.loader_workers
    chips = min(spec.count, host.chips)
    cores = host.cores if not workers else min(float(workers * chips), host.cores)
    edges = g.chip_edges * chips
    work.sampling_s = edges / (job.eff["sampling-per-core"] * cores)
    work.in_process = workers == 0
    oc.term("neighbour sampling per step (host)", "sampled edges per host / (per-core rate × cores)",
            work.sampling_s, "s", "F21", edges=edges, per_core=job.eff["sampling-per-core"],
            cores=cores, loader="in the training process" if workers == 0 else "worker processes")  # fmt: skip


def evaluate_graph(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    """Train or serve the graph model on this stack."""
    w = job.workload
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision}")
    if fw.edge_features is False and (w.edge_features or 0) > 0:
        return oc.reject(f"{fw.name} layers do not take edge features")
    g = describe_graph(job, spec.count)
    p = _place(job, cat, chip, fw, spec, g)
    if isinstance(p, str):
        return oc.reject(p)
    _size_terms(g, oc)
    work = _work(job, chip, fw, g, p, peak)
    _exchange(job, cat, chip, spec, g, p, oc, work)
    why = _sampling(job, cat, chip, fw, spec, g, p, oc, work)
    if why is not None:
        return oc.reject(why)
    stored = _storage(job, cat, chip, spec, g, p, oc, work)
    if stored is None:
        return oc
    store, storage_s, provisioned, setup_s = stored
    cost = work.step(storage_s)
    _work_terms(job, g, p, oc, work, peak)
    oc.layout = {"graph": p.where, "partitions": spec.count, "sampling": g.sampling,
                 "batch": g.seeds, "precision": precision, "layers": g.layers,
                 "hidden": g.hidden}  # fmt: skip
    if work.sampler != "none":
        oc.layout["sampler"] = work.sampler
    oc.breakdown = cost.breakdown() | {"bubble_s": 0.0}
    eval_s = _evaluation_s(job, g, oc, work, storage_s)
    _power_and_metrics(job, cat, chip, spec, g, p, oc, work, (cost.total_s, eval_s, setup_s),
                       store, provisioned)  # fmt: skip
    _attribute(
        job,
        chip,
        spec,
        g,
        p,
        oc,
        work,
        (cost, storage_s, peak),
        store.id if store else None,
    )
    return oc


def _evaluation_s(job: Job, g: Graph, oc: Outcome, work: _Work, storage_s: float) -> float:
    """Evaluation passes during training (F3d): ``eval_samples`` seeds a pass, in steps of the
    training batch, each a forward pass over the sampled subgraph."""
    w = job.workload
    passes = evaluation_passes(job, (w.samples or g.nodes) * (w.epochs or 1))
    if not passes:
        return 0.0
    steps = math.ceil((w.eval_samples or 0.0) / g.seeds)
    eval_s = passes * steps * work.step(storage_s, train=False).total_s
    oc.term("evaluation passes", "passes × ⌈eval seeds / batch⌉ × a forward step", eval_s, "s",
            "F3d", passes=passes, eval_samples=w.eval_samples, steps=steps)  # fmt: skip
    return eval_s


def _size_terms(g: Graph, oc: Outcome) -> None:
    oc.term("graph structure (CSR)", "(N+1)·idx + E·idx", g.structure_bytes, "bytes", "F21",
            N=g.nodes, E=g.edges, idx=gr.index_bytes(g.nodes, g.edges))  # fmt: skip
    oc.term("node + edge features", "N·F_v·by + E·F_e·by", g.feature_bytes, "bytes", "F21",
            F_v=g.node_features, F_e=g.edge_features, by=g.element_bytes)  # fmt: skip
    oc.term("sampled subgraph per chip-step", "nodes ≤ b·ΣΠf, edges ≤ b·ΣΠf (fanouts)",
            g.chip_nodes, "nodes", "F21", edges=g.chip_edges, fanout=",".join(map(str, g.fanout)),
            sampling=g.sampling)  # fmt: skip


def _work_terms(job: Job, g: Graph, p: _Placement, oc: Outcome, work: _Work, peak: float) -> None:
    oc.term("compute per step", "3·Σ_layers(2·N·F_in·F_out + 2·E·F_out [+ 2·E·F_e·F_in])/(F·η)",
            work.compute_s, "s", "F21", flops=work.flops, peak_tflops=peak / 1e12,
            efficiency=job.eff["compute-small"])  # fmt: skip
    oc.term("feature gather per step", "sampled bytes / (bandwidth × gather η)",
            work.gather_s + work.link_s, "s", "F21", bytes=g.sampled_bytes, where=p.where,
            efficiency=job.eff["gather-bandwidth"])  # fmt: skip
    if work.update_bytes:
        formula = ("rows·width·(28 + 4) B / (bandwidth × η): Adam on every row, a table-sized gradient"
                   if g.dense_update else "touched rows·width·28 B / (bandwidth × gather η)")  # fmt: skip
        oc.term("learned-embedding update per step", formula, work.update_s, "s", "F21",
                rows=g.embedding_nodes, width=g.node_features, bytes=work.update_bytes,
                touched_rows=g.touched_embedding_rows, dense=g.dense_update)  # fmt: skip


def _storage(
    job: Job,
    cat: Catalog,
    chip: Chip,
    spec: Spec,
    g: Graph,
    p: _Placement,
    oc: Outcome,
    work: _Work,
) -> tuple[Storage | None, float, float, float] | None:
    """Random feature reads when the graph lives on storage, checkpoints and the load before
    the first step (F19, F20); (storage, read seconds a step, provisioned bytes, set-up s)."""
    n, w, train = spec.count, job.workload, not job.inference
    on_storage, hosts = p.where == "storage", p.hosts
    staged = p.held_bytes if train and not on_storage else 0.0
    steps = g.steps * (w.epochs or 1)
    store, storage_s, _, provisioned = choose_storage(
        job, cat, chip, spec, oc, g.sampled_bytes * n if on_storage else 0.0, work.compute_s,
        p.state_bytes if train else 0.0, w.checkpoint_every or job.eff["checkpoint-interval"],
        w.dataset_size or g.structure_bytes + g.feature_bytes, hosts,
        random_rows=(g.featured_rows * n if on_storage else 0.0), stage=(staged, steps),
    )  # fmt: skip
    if store is None and not oc.ok:
        return None
    return store, storage_s, provisioned, _setup(job, store, provisioned, hosts, staged, oc)


def _setup(job: Job, store: Storage | None, provisioned: float, hosts: int, staged: float,
           oc: Outcome) -> float:  # fmt: skip
    """Training's set-up before the first step: every host reads the graph it holds from
    storage into memory, and the framework builds its graph and sampler (F21)."""
    if job.inference:
        return 0.0
    load = stage_seconds(job, store, provisioned, hosts, staged) if store is not None else 0.0
    setup = load + job.eff["gnn-setup"]
    oc.term("set-up before the first step",
            "graph held / (storage read bandwidth × η) + framework set-up", setup, "s", "F21",
            bytes=staged, storage=store.id if store else None, hosts=hosts, load_s=load,
            framework_s=job.eff["gnn-setup"])  # fmt: skip
    return setup


def _power_and_metrics(
    job: Job,
    cat: Catalog,
    chip: Chip,
    spec: Spec,
    g: Graph,
    p: _Placement,
    oc: Outcome,
    work: _Work,
    seconds: tuple[float, float, float],
    store: Storage | None,
    provisioned: float,
) -> None:
    """Totals, power and rates; ``seconds`` = (a training step or a query, evaluation passes,
    set-up before the first step)."""
    w, n = job.workload, spec.count
    step, eval_s, setup_s = seconds
    if job.inference:
        total = w.samples / w.rate if (w.samples and w.rate) else 3600.0
    else:
        total = setup_s + g.steps * step * (w.epochs or 1) + eval_s
        if setup_s > total / 2:
            oc.notes.append(
                f"set-up before the first step is {format_duration(setup_s)} of the job's "
                f"{format_duration(total)} (the graph read into memory and the framework's graph "
                "and sampler built): more or faster chips shorten only the steps"
            )
    memory = p.working_bytes + (p.held_bytes / n if p.where == "device" else 0.0)
    busy = work.compute_s + work.memory_s() + work.device_sampling_s
    finish(job, cat, chip, spec, oc, store, provisioned, seconds=total, step_s=step,
           util=duty_cycle(job, busy, step, n), memory=memory,
           capacity=chip.memory_gb * GB)  # fmt: skip
    rate = g.seeds / step if not job.inference else n / step  # serving: a query per chip per step
    oc.metrics.update(
        setup_s=None if job.inference else setup_s,
        epoch_time_s=None if job.inference else g.steps * step,
        samples_per_s=rate,
        requests_per_s=min(rate, w.rate or rate) if job.inference else None,
        latency_s=step if job.inference else None,
    )
    if job.inference:
        oc.saturation_rps = rate
    oc.objective_time_s = total if not job.inference else step
    serving_targets(job, oc, rate, step, "requests")


def _attribute(
    job: Job,
    chip: Chip,
    spec: Spec,
    g: Graph,
    p: _Placement,
    oc: Outcome,
    work: _Work,
    seconds: tuple[StepCost, float, float],
    store_id: str | None,
) -> None:
    """The bottleneck (F24) and where the graph lives; ``seconds`` = (step, storage, peak).
    Read from the step's own phases, so a pipelined loader counts only where it outlasts the
    step, on the resource its longer stage waits on."""
    n, train = spec.count, not job.inference
    cost, storage_s, peak = seconds
    step = cost.total_s
    terms: dict[BottleneckKind, float] = {"compute": cost.resource_s("compute"),
                                          "memory_bandwidth": cost.resource_s("memory"),
                                          "network": cost.resource_s("network"),
                                          "storage": cost.resource_s("storage"),
                                          "host": cost.resource_s("host")}  # fmt: skip
    oc.kind = dominant_overhead(terms)
    gathered = work.aggregate_bytes + g.lookup_bytes(train)
    gathered += g.sampled_bytes if p.where == "device" else 0.0
    sampling = {
        "host": f", neighbour sampling {'in the training process' if work.in_process else 'on CPU cores'} "
        f"({format_duration(work.sampling_s)})",
        "device": f", the device sampler's dispatch ({format_duration(work.sampler_launch_s)}, "
        "in the loader beside the step)",
    }.get(work.sampler, "")
    host = (
        f"host-side work per step (framework dispatch {format_duration(work.launch_s)}"
        + (f" over {g.relations} relations" if g.relations > 1 else "")
        + sampling
        + (f", {format_bytes(g.sampled_bytes)} of features over the host link" if p.where == "host" else "")
        + f") leaves {format_duration(terms['host'])} not hidden by the device"
    )  # fmt: skip
    detail = {
        "compute": f"message passing computes {work.flops:.3g} FLOPs per step at "
        f"{peak / 1e12:g} TFLOPS × {job.eff['compute-small']:g} → "
        f"{format_duration(work.compute_s)}",
        "memory_bandwidth": _explain_memory(job, chip, g, work, gathered, cost),
        "network": f"the graph is split over {n} devices: halo features and gradients take "
        f"{format_duration(terms['network'])} per step",
        "storage": f"features are read from {store_id} at random: {format_duration(storage_s)} per step",
        "host": host,
    }[oc.kind]
    oc.explanation = f"{detail} (of a {format_duration(step)} step); the graph lives {p.place}"
    if g.edge_features:
        oc.notes.append(
            f"{g.edge_features} edge feature(s) per edge: "
            f"{format_bytes(g.edges * g.edge_features * g.element_bytes)} more features and "
            "per-edge messages materialised in every layer (GINE/NNConv-style)"
        )


def _explain_memory(
    job: Job, chip: Chip, g: Graph, work: _Work, gathered: float, cost: StepCost
) -> str:
    """Device-memory time: the irregular gathers (or the device sampler, where its stage sets
    the step), then any optimizer step over learned rows."""
    text = (
        f"irregular gathers move {format_bytes(gathered)} per step at "
        f"{chip.memory_bandwidth_gb_s:g} GB/s × {job.eff['gather-bandwidth']:g} → "
        f"{format_duration(work.memory_s())}"
    )
    beyond = cost.phase(LOADER_BEYOND)
    if beyond is not None and beyond.memory_s > 0:
        text = (
            f"sampling the next batch's {g.chip_edges:.3g} edges"
            + (f" over {g.relations} relations" if g.relations > 1 else "")
            + f" on the device takes {format_duration(work.device_sampling_s)}, the loader "
            f"stage that sets the step (message passing's irregular gathers: "
            f"{format_bytes(gathered)}, {format_duration(work.memory_s())})"
        )
    elif work.device_sampling_s:
        text += f", and sampling on the device takes {format_duration(work.device_sampling_s)}"
    if not work.update_s:
        return text
    how = (
        f"a dense Adam step rewrites all {g.embedding_nodes:.3g} learned {g.node_features}-wide rows"
        if g.dense_update
        else f"a sparse Adam step updates the {g.touched_embedding_rows:.3g} learned rows touched"
    )
    return (
        f"{text}, and {how}: {format_bytes(work.update_bytes)} → {format_duration(work.update_s)}"
    )
