"""Graph neural network physics (F21): structure, features, sampled subgraphs, messages, halos.

Derived from first principles (no existing tool implements it; F21 in docs/methodology.md),
with parameters from the MLPerf GNN
reference (mlcommons/training graph_neural_network) and PyG/DGL layer docs.
"""

from __future__ import annotations

import math


def index_bytes(nodes: float, edges: float) -> int:
    """int32 indices while ids fit in 2^31, int64 beyond (PyG and DGL switch the same way)."""
    return 4 if max(nodes, edges) < 2**31 else 8


def structure_bytes(nodes: float, edges: float) -> float:
    """CSR: (N + 1) row pointers + E column indices."""
    idx = index_bytes(nodes, edges)
    return (nodes + 1) * idx + edges * idx


def feature_bytes(
    nodes: float, node_features: int, edges: float, edge_features: int, by: float
) -> float:
    """Node and edge feature store: N·F_v·by + E·F_e·by (IGBH-full: 547M × 1024 × 4 B ≈ 2.24 TB)."""
    return nodes * node_features * by + edges * edge_features * by


def sampled_subgraph(seeds: float, fanouts: list[int]) -> tuple[float, float]:
    """Upper bounds on nodes and edges touched by neighbour sampling from ``seeds`` seed nodes.

    nodes ≤ b·Σ_{l=0..L} Π_{i≤l} f_i, edges ≤ b·Σ_{l=1..L} Π_{i≤l} f_i.
    MLPerf R-GAT (15, 10, 5), b = 1024: ≤ 937,984 nodes and ≤ 936,960 edges.
    """
    nodes, edges, frontier = seeds, 0.0, seeds
    for fanout in fanouts:
        frontier *= fanout
        nodes += frontier
        edges += frontier
    return nodes, edges


# A GPU reads global memory in 32-byte sectors (CUDA C++ Best Practices Guide, 'Coalesced
# Access to Global Memory'): a random read of one index costs a whole sector.
SECTOR_BYTES = 32.0


def sampling_frontier(seeds: float, fanouts: list[int]) -> float:
    """Nodes a sampler draws neighbours for: the seeds and every hop's new nodes but the last's."""
    nodes, frontier = seeds, seeds
    for fanout in fanouts[:-1]:
        frontier *= fanout
        nodes += frontier
    return nodes


def sampling_structure_bytes(frontier: float, edges: float) -> float:
    """Random reads of the graph structure a sampler makes (F21): each frontier node's row
    pointers and each sampled edge's column index, a sector each.  They cross the host link
    when the structure is pinned in host memory and sampled from the device (GraphBolt's
    pinned mode, UVA)."""
    return (frontier + edges) * SECTOR_BYTES


def device_sampling_time(edges: float, relations: int, memory_tb_s: float, rate: float) -> float:
    """Seconds a device sampler takes for ``edges`` sampled edges (F21): a heterogeneous
    sampler samples, de-duplicates and accumulates each relation separately, so its work goes
    as edges × relations; its random-access throughput goes with the device's memory
    bandwidth, ``rate`` edge-relations per second per TB/s (efficiency device-sampling-rate)."""
    return edges * relations / (rate * memory_tb_s)


def layer_flops(nodes: float, edges: float, f_in: int, f_out: int, edge_features: int) -> float:
    """Forward FLOPs of one message-passing layer.

    Dense transform 2·N·F_in·F_out; messages and aggregation 2·E·F_out; with edge
    features an edge-conditioned layer (GINE-style) projects them, 2·E·F_e·F_in,
    and adds them to every message, E·F_in.
    """
    flops = 2 * nodes * f_in * f_out + 2 * edges * f_out
    if edge_features:
        flops += 2 * edges * edge_features * f_in + edges * f_in
    return flops


def activation_bytes(
    nodes: float, edges: float, hidden: int, edge_features: int, by: float
) -> float:
    """Activations kept for backward per layer: node states N·F_h, plus per-edge messages
    E·F_h when edge features force messages to be materialised (GINE, NNConv, GAT with edge_dim)."""
    per_layer = nodes * hidden * by
    if edge_features:
        per_layer += edges * hidden * by
    return per_layer


def halo_bytes(
    edges: float, cut_fraction: float, hidden: int, by: float, remote_nodes: float = math.inf
) -> float:
    """Remote node states a partition fetches per layer (F21): one per distinct remote neighbour,
    not one per cut edge.  With c·E cut edges landing on R remote nodes at random, the expected
    number of distinct ones is R·(1 − e^(−c·E/R)) (the occupancy expectation behind PowerGraph's
    replication factor, Gonzalez et al. OSDI 2012, §5.2); few cut edges each bring one, many
    saturate at every remote node."""
    cut_edges = edges * cut_fraction
    if math.isfinite(remote_nodes) and remote_nodes > 0:
        distinct = remote_nodes * -math.expm1(-cut_edges / remote_nodes)
    else:
        distinct = cut_edges
    return distinct * hidden * by


def remote_feature_share(shards: int) -> float:
    """Share of a sampled minibatch's input features that another shard holds (F21): a feature
    store sharded over ``shards`` devices or hosts by node id (WholeGraph's distributed memory,
    NVIDIA's MLPerf R-GAT WG_SHARDING_LOCATION) spreads the sampled nodes, which are drawn from
    the whole graph, evenly over the shards, so each fetches (shards − 1) / shards of them."""
    return 1.0 - 1.0 / shards if shards > 1 else 0.0


# Adam in fp32 (torch.optim.Adam, DGL's SparseAdam) reads a weight, its gradient and both moments
# and writes the weight and both moments back: 7 × 4 bytes for every element it updates.
ADAM_UPDATE_BYTES = 28.0
DENSE_GRADIENT_BYTES = 4.0  # nn.Embedding's dense backward zero-fills a table-sized fp32 gradient
# What training holds per parameter: the fp32 weight, its gradient and Adam's two moments.
TRAIN_STATE_BYTES = 16.0
FP32_BYTES = 4.0  # a trained weight (and so a learned embedding row's element) in fp32


def embedding_state_bytes(dense: bool) -> float:
    """Training state per learned-embedding parameter: a sparse update keeps no table-sized
    gradient, so it holds the weight and both moments only."""
    return TRAIN_STATE_BYTES if dense else TRAIN_STATE_BYTES - DENSE_GRADIENT_BYTES


def embedding_update_bytes(rows: float, width: int, touched_rows: float, dense: bool) -> float:
    """Bytes one optimizer step moves for learned node embeddings (featureless node types).

    Dense (torch.optim.Adam on nn.Embedding with sparse=False): the gradient is a table-sized
    tensor, zero-filled and then scattered into, and Adam updates every row, touched or not:
    rows·width·(28 + 4) B.  Sparse (DGL NodeEmbedding with SparseAdam, torch SparseAdam): only
    the rows the step looked up, touched·width·28 B.  ogbn-mag's 1.19M learned 128-wide rows
    (154M parameters, DGL's GraphBolt RGCN example) move 4.9 GB a step dense.
    """
    if dense:
        return rows * width * (ADAM_UPDATE_BYTES + DENSE_GRADIENT_BYTES)
    return min(touched_rows, rows) * width * ADAM_UPDATE_BYTES
