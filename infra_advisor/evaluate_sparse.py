"""Graph neural networks and embedding-heavy recommenders: the irregular, memory-bound workloads.

Composes estimators/graph.py and the embedding formulas for one stack, decides
where the graph or the tables must live (device memory, host memory, storage)
and what that costs, and records each step as a Term.
"""

from __future__ import annotations

import math

from infra_advisor.catalog import Catalog
from infra_advisor.estimators import graph as gr
from infra_advisor.estimators import network as net
from infra_advisor.evaluate import (
    GB,
    Outcome,
    Spec,
    breakdown,
    choose_storage,
    compute_peak,
    dominant_overhead,
    duty_cycle,
    finish,
    group_link,
    host_link_bandwidth,
    links_for,
    node_size,
    serving_targets,
    tcp_host_time,
    usable_memory,
)
from infra_advisor.job import Job
from infra_advisor.models import Chip, Framework
from infra_advisor.report import BottleneckKind
from infra_advisor.units import format_bytes, format_duration

PCIE_GEN4_X16 = 32e9  # bytes/s per direction: the host link assumed where a chip lists none


def _element_bytes(precision: str) -> float:
    return 4.0 if precision in ("fp32", "tf32") else 2.0


def _where(
    job: Job, chip: Chip, need: float, usable_total: float, nodes_hosts: int
) -> tuple[str, float]:
    """Where data of ``need`` bytes lives: device, host or storage; and the host memory available."""
    host_total = job.eff["host-memory"] * nodes_hosts if chip.segment == "datacenter" else 0.0
    if need <= usable_total:
        return "device", host_total
    if need <= host_total:
        return "host", host_total
    return "storage", host_total


def evaluate_gnn(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    w = job.workload
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision}")
    if fw.edge_features is False and (w.edge_features or 0) > 0:
        return oc.reject(f"{fw.name} layers do not take edge features")
    n_nodes = w.nodes or 10e6
    n_edges = w.edges or 10 * n_nodes
    f_v = w.node_features if w.node_features is not None else 128
    f_e = w.edge_features or 0
    hidden = w.hidden or 256
    layers = w.layers or (len(w.fanout) if w.fanout else 2)
    fanout = (w.fanout or [15, 10, 5][:layers] + [10] * max(0, layers - 3))[:layers]
    sampling = w.sampling or "neighbor"
    by = _element_bytes(w.precision)
    train = not job.inference
    n = spec.count
    params: float = (
        sum((f_v if i == 0 else hidden) * hidden + hidden for i in range(layers))
        + f_e * f_v * layers
    )
    if w.params:
        params = w.params
    capacity = chip.memory_gb * GB
    usable = usable_memory(job, chip)
    struct = gr.structure_bytes(n_nodes, n_edges)
    feats = gr.feature_bytes(n_nodes, f_v, n_edges, f_e, by)
    graph_bytes = struct + feats
    hosts = math.ceil(n / node_size(chip))
    up, out = links_for(cat, chip, spec)
    eff_gather = job.eff["gather-bandwidth"]
    hbm = chip.memory_bandwidth_gb_s * GB
    state_bytes = params * (16.0 if train else by)
    if sampling == "full":
        n_l, e_l = n_nodes / n, n_edges / n
        steps = 1
        batch_seeds = n_nodes
    else:
        batch_seeds = w.batch_size or 1024
        seeds_per_chip = batch_seeds / n
        if job.inference:
            seeds_per_chip = 1.0
        n_l, e_l = gr.sampled_subgraph(seeds_per_chip, fanout)
        n_l, e_l = min(n_l, n_nodes), min(e_l, n_edges)
        seeds_total = w.samples or n_nodes
        steps = math.ceil(seeds_total / batch_seeds)
    acts = sum(gr.activation_bytes(n_l, e_l, hidden, f_e, by) for _ in range(layers))
    if not train:
        acts /= layers  # inference keeps one layer's activations at a time
    sampled_bytes = n_l * f_v * by + e_l * f_e * by
    working = acts + state_bytes + sampled_bytes
    if working > usable:
        return oc.reject(
            f"one step's working set {format_bytes(working)} (activations of {n_l:.3g} nodes and "
            f"{e_l:.3g} edges, {hidden}-wide{', with per-edge messages' if f_e else ''}) exceeds "
            f"{chip.name}'s {format_bytes(usable)} usable"
        )
    where, host_total = _where(job, chip, graph_bytes, max(usable - working, 0.0) * n, hosts)
    if sampling == "full" and where != "device":
        return oc.reject(
            f"full-batch training needs the whole graph ({format_bytes(graph_bytes)}) in device memory; "
            f"{n} × {chip.name} hold {format_bytes(max(usable - working, 0.0) * n)} free"
        )
    oc.term(
        "graph structure (CSR)",
        "(N+1)·idx + E·idx",
        struct,
        "bytes",
        "F21",
        N=n_nodes,
        E=n_edges,
        idx=gr.index_bytes(n_nodes, n_edges),
    )
    oc.term(
        "node + edge features",
        "N·F_v·by + E·F_e·by",
        feats,
        "bytes",
        "F21",
        F_v=f_v,
        F_e=f_e,
        by=by,
    )
    oc.term(
        "sampled subgraph per chip-step",
        "nodes ≤ b·ΣΠf, edges ≤ b·ΣΠf (fanouts)",
        n_l,
        "nodes",
        "F21",
        edges=e_l,
        fanout=",".join(map(str, fanout)),
        sampling=sampling,
    )
    # Compute: every layer over the sampled (or local) nodes and edges.
    flops = sum(
        gr.layer_flops(n_l, e_l, f_v if i == 0 else hidden, hidden, f_e) for i in range(layers)
    )
    flops *= 3 if train else 1
    compute = flops / (peak * job.eff["compute-small"])
    # Kernel launches and framework dispatch: CPU time that dominates one-seed queries.
    launch = layers * job.eff["launch-overhead"] * (3 if train else 1)
    # Aggregation reads every edge's source state irregularly from device memory.
    agg_bytes = sum(e_l * (f_v if i == 0 else hidden) * by for i in range(layers)) * (
        2 if train else 1
    )
    memory_s = agg_bytes / (hbm * eff_gather)
    gather_s = storage_extra = 0.0
    host_s = launch
    if where == "device":
        gather_s = sampled_bytes / (hbm * eff_gather)
        memory_s += gather_s
        place = f"in device memory ({format_bytes(graph_bytes / n)} per chip)"
    elif where == "host":
        link = host_link_bandwidth(chip) or PCIE_GEN4_X16
        host_s = sampled_bytes / (link * eff_gather)
        place = (
            f"in host memory ({format_bytes(graph_bytes)} > device memory); features cross the host "
            f"link at {link / 1e9:g} GB/s × {eff_gather:g}"
        )
    else:
        place = (
            f"on storage ({format_bytes(graph_bytes)} exceeds device and host memory"
            f"{'' if chip.segment == 'datacenter' else ' of the device'})"
        )
    # Partitioned graph: remote neighbours come over the network.
    network = 0.0
    if n > 1:
        bw, lat, link_id = group_link(n, n, chip, up, out)
        cut = job.eff["graph-edge-cut"]
        if sampling == "full":
            remote = n_nodes * (1 - 1 / n)  # nodes outside this partition
            halo = gr.halo_bytes(e_l, cut, hidden, by, remote) * layers * (2 if train else 1)
        else:
            halo = sampled_bytes * cut
        network = net.point_to_point_time(halo, bw, lat) if math.isfinite(bw) else 0.0
        if train:
            network += net.all_reduce_time(2 * params, n, bw, lat, job.eff["network"])
        network += tcp_host_time(job, cat, spec, halo)
        oc.term(
            "halo exchange per step",
            "distinct remote neighbours R·(1 − e^(−cut edges/R)) × state bytes / link",
            network,
            "s",
            "F21",
            cut_fraction=cut,
            link=link_id,
            bytes=halo,
        )
    if sampling == "neighbor" and not job.inference:
        # Neighbour sampling runs in host data-loader workers, overlapped with device compute.
        cores = job.eff["host-cores"] if chip.segment == "datacenter" else 4.0
        sample_s = e_l * min(n, 8) / (job.eff["sampling-per-core"] * cores)
        host_s += max(0.0, sample_s - max(compute, memory_s))
        oc.term(
            "neighbour sampling per step (host)",
            "sampled edges per host / (per-core rate × cores)",
            sample_s,
            "s",
            "F21",
            edges=e_l * min(n, 8),
            per_core=job.eff["sampling-per-core"],
            cores=cores,
        )
    read_step = sampled_bytes * n if where == "storage" else 0.0
    store, storage_s, _, provisioned = choose_storage(
        job,
        cat,
        chip,
        spec,
        oc,
        read_step,
        compute,
        state_bytes if train else 0.0,
        w.checkpoint_every or job.eff["checkpoint-interval"],
        w.dataset_size or graph_bytes,
        hosts,
        random_rows=(n_l * n if where == "storage" else 0.0),
    )
    if store is None:
        return oc
    storage_s += storage_extra
    step = max(compute, memory_s) + host_s + network + storage_s
    epochs = w.epochs or 1
    if job.inference:
        total = w.samples / w.rate if (w.samples and w.rate) else 3600.0
    else:
        total = steps * step * epochs
    oc.term(
        "compute per step",
        "3·Σ_layers(2·N·F_in·F_out + 2·E·F_out [+ 2·E·F_e·F_in])/(F·η)",
        compute,
        "s",
        "F21",
        flops=flops,
        peak_tflops=peak / 1e12,
        efficiency=job.eff["compute-small"],
    )
    oc.term(
        "feature gather per step",
        "sampled bytes / (bandwidth × gather η)",
        gather_s + host_s,
        "s",
        "F21",
        bytes=sampled_bytes,
        where=where,
        efficiency=eff_gather,
    )
    oc.layout = {
        "graph": where,
        "partitions": n,
        "sampling": sampling,
        "batch": batch_seeds,
        "precision": precision,
        "layers": layers,
        "hidden": hidden,
    }
    oc.breakdown = breakdown(compute, memory_s, network, storage_s, host_s)
    memory = working + (graph_bytes / n if where == "device" else 0.0)
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
        util=duty_cycle(job, compute + memory_s, step, n),
        memory=memory,
        capacity=capacity,
    )
    rate = batch_seeds / step if not job.inference else n / step
    oc.metrics.update(
        samples_per_s=rate,
        requests_per_s=min(rate, w.rate or rate) if job.inference else None,
        latency_s=step if job.inference else None,
    )
    oc.objective_time_s = total if not job.inference else step
    serving_targets(job, oc, rate, step, "requests")
    terms: dict[BottleneckKind, float] = {
        "compute": compute,
        "memory_bandwidth": memory_s,
        "network": network,
        "storage": storage_s,
        "host": host_s,
    }
    oc.kind = dominant_overhead(terms)
    detail = {
        "compute": f"message passing computes {flops:.3g} FLOPs per step at {peak / 1e12:g} TFLOPS × "
        f"{job.eff['compute-small']:g} → {format_duration(compute)}",
        "memory_bandwidth": f"irregular gathers move {format_bytes(agg_bytes + (sampled_bytes if where == 'device' else 0))} "
        f"per step at {chip.memory_bandwidth_gb_s:g} GB/s × {eff_gather:g} → {format_duration(memory_s)}",
        "network": f"the graph is split over {n} devices: halo features and gradients take "
        f"{format_duration(network)} per step",
        "storage": f"features are read from {store.id} at random: {format_duration(storage_s)} per step",
        "host": f"host-side work per step (framework dispatch {format_duration(launch)}"
        + (", neighbour sampling on CPU cores" if sampling == "neighbor" and train else "")
        + (
            f", {format_bytes(sampled_bytes)} of features over the host link"
            if where == "host"
            else ""
        )
        + f") leaves {format_duration(host_s)} not hidden by the device",
    }[oc.kind]
    oc.explanation = f"{detail} (of a {format_duration(step)} step); the graph lives {place}"
    if f_e:
        oc.notes.append(
            f"{f_e} edge feature(s) per edge: {format_bytes(n_edges * f_e * by)} more features and per-edge "
            "messages materialised in every layer (GINE/NNConv-style)"
        )
    return oc


DEFAULT_TABLES = 26  # Criteo's 26 categorical features (DLRM, MLPerf DLRM-DCNv2)


def evaluate_recsys(
    job: Job, cat: Catalog, chip: Chip, fw: Framework, spec: Spec, oc: Outcome
) -> Outcome:
    w = job.workload
    precision, peak = compute_peak(job, chip, fw, oc.notes)
    if peak <= 0:
        return oc.reject(f"{chip.name} lists no peak throughput usable for {w.precision}")
    rows = w.embedding_rows or 100e6
    dim = int(w.embedding_dim or 128)
    lookups = w.lookups_per_sample or 26
    by = _element_bytes(w.precision)
    train = not job.inference
    n = spec.count
    table = rows * dim * by + (rows * 4.0 if train else 0.0)  # row-wise Adagrad: one fp32 per row
    dense_params = job.params
    dense_fwd = w.flops_per_sample or 2 * dense_params
    batch = w.batch_size or (65536 if train else 512)
    capacity = chip.memory_gb * GB
    usable = usable_memory(job, chip)
    dense_bytes = dense_params * (16.0 if train else by)
    hosts = math.ceil(n / node_size(chip))
    where, _ = _where(job, chip, table, max(usable - dense_bytes, 0.0) * n, hosts)
    if where == "storage":
        return oc.reject(
            f"embedding tables of {format_bytes(table)} exceed the memory of {n} × {chip.name} and their hosts"
        )
    sparsecore = "sparsecore" in chip.features
    eff_gather = job.eff["gather-bandwidth-sparsecore" if sparsecore else "gather-bandwidth"]
    lookup_bytes = (
        batch * lookups * dim * by / n * (3 if train else 1)
    )  # read, gradient, write back
    if where == "device":
        bw = chip.memory_bandwidth_gb_s * GB
        memory_s = lookup_bytes / (bw * eff_gather)
        host_s = 0.0
    else:
        link = host_link_bandwidth(chip) or PCIE_GEN4_X16
        memory_s = 0.0
        host_s = lookup_bytes / (link * eff_gather)
    compute = dense_fwd * batch * (3 if train else 1) / n / (peak * job.eff["compute-small"])
    up, out = links_for(cat, chip, spec)
    network = 0.0
    if n > 1:
        bw_l, lat, link_id = group_link(n, n, chip, up, out)
        # Model-parallel tables send each sample's pooled vectors, one per table, to the chip
        # that owns the sample (DLRM, Naumov et al. 2019 §3; TorchRec's pooled embedding
        # all-to-all): tables × dim bytes a sample, however many lookups are pooled.
        pooled = min(lookups, w.embedding_tables or DEFAULT_TABLES)
        a2a = batch * pooled * dim * by / n * (2 if train else 1)
        network = net.all_to_all_time(a2a, n, bw_l, lat, job.eff["network"])
        if train:
            network += net.all_reduce_time(2 * dense_params, n, bw_l, lat, job.eff["network"])
        network += tcp_host_time(job, cat, spec, a2a)
        oc.term(
            "embedding all-to-all per step",
            "(n−1)/n · batch·tables·dim·by/n /(BW·η) (pooled per table)",
            network,
            "s",
            "F12/F13",
            link=link_id,
            bytes=a2a,
        )
    samples_total = (w.samples or 4e9) * (w.epochs or 1)
    read_step = batch * (w.bytes_per_sample or 160.0) if train else 0.0
    store, storage_s, _, provisioned = choose_storage(
        job,
        cat,
        chip,
        spec,
        oc,
        read_step,
        max(compute, memory_s),
        table if train else 0.0,
        w.checkpoint_every or job.eff["checkpoint-interval"],
        w.dataset_size or samples_total * 160.0,
        hosts,
    )
    if store is None:
        return oc
    step = max(compute, memory_s) + host_s + network + storage_s
    total = (
        math.ceil(samples_total / batch) * step
        if train
        else (w.samples / w.rate if (w.samples and w.rate) else 3600.0)
    )
    oc.term(
        "embedding tables",
        "rows · dim · by (+ 4 B/row Adagrad state)",
        table,
        "bytes",
        "F21/F12",
        rows=rows,
        dim=dim,
        by=by,
    )
    oc.term(
        "lookup traffic per chip-step",
        "batch · lookups · dim · by / n (×3 training)",
        lookup_bytes,
        "bytes",
        "F12",
        where=where,
        gather_efficiency=eff_gather,
        sparsecore=sparsecore,
    )
    oc.term("dense compute per step", "FLOPs/sample · batch · 3 / (n·F·η)", compute, "s", "F3")
    oc.layout = {"tables": where, "shards": n, "batch": batch, "precision": precision}
    oc.breakdown = breakdown(compute, memory_s, network, storage_s, host_s)
    memory = (table / n if where == "device" else 0.0) + dense_bytes + job.eff["runtime-overhead"]
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
        util=duty_cycle(job, compute + memory_s, step, n),
        memory=memory,
        capacity=capacity,
    )
    rate = batch / step
    oc.metrics.update(
        samples_per_s=rate,
        requests_per_s=min(rate, w.rate or rate) if job.inference else None,
        latency_s=step if job.inference else None,
    )
    oc.objective_time_s = total if train else step
    serving_targets(job, oc, rate, step, "samples", latency=False)
    terms: dict[BottleneckKind, float] = {
        "compute": compute,
        "memory_bandwidth": memory_s,
        "network": network,
        "storage": storage_s,
        "host": host_s,
    }
    oc.kind = dominant_overhead(terms)
    if oc.kind == "memory_bandwidth" and where == "device" and table > 0.5 * usable * n:
        oc.kind = "memory_bandwidth"
    oc.explanation = {
        "memory_bandwidth": f"{batch * lookups:.3g} random embedding lookups per step move "
        f"{format_bytes(lookup_bytes)} per chip at {chip.memory_bandwidth_gb_s:g} GB/s × "
        f"{eff_gather:g}{' (SparseCore)' if sparsecore else ''} → {format_duration(memory_s)}",
        "host": f"the {format_bytes(table)} of tables live in host memory: lookups cross the host link, "
        f"{format_duration(host_s)} per step",
        "network": f"sharded tables exchange pooled embeddings all-to-all: {format_duration(network)} per step",
        "compute": f"the dense layers compute {format_duration(compute)} per step",
        "storage": f"reading samples from {store.id} adds {format_duration(storage_s)} per step",
    }[oc.kind] + f" (of a {format_duration(step)} step)"
    return oc
