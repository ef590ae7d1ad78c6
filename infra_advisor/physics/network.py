"""Collective communication (F13): ring algorithms with latency and bandwidth terms.

Bandwidth is per chip per direction in bytes/s; ``efficiency`` is the achieved
fraction of it (nccl-tests "bus bandwidth" over link bandwidth); ``latency_s``
the per-hop latency α.  Sources: NVIDIA nccl-tests PERFORMANCE.md; Thakur,
Rabenseifner & Gropp 2005 ("Optimization of collective communication
operations in MPICH").
"""

from __future__ import annotations

import math


def all_reduce_time(
    size_bytes: float, group: int, bandwidth_bytes_s: float, latency_s: float, efficiency: float
) -> float:
    """All-reduce as NCCL runs it, the faster of a ring, 2·(n−1)/n · S/(BW·η) + 2·(n−1)·α, and
    a double binary tree, whose latency grows with the tree's depth instead of the group:
    2·S/(BW·η) + 2·⌈log2 n⌉·α (each rank sends and receives the data once on the way up and once
    on the way down; Sanders, Speck & Träff 2009, the two-tree algorithm NCCL 2.4 adopted).
    Large messages take the ring, small ones over many ranks the tree."""
    if group <= 1 or size_bytes <= 0:
        return 0.0
    steps = group - 1
    per_byte = size_bytes / (bandwidth_bytes_s * efficiency)
    ring = 2 * steps / group * per_byte + 2 * steps * latency_s
    tree = 2 * per_byte + 2 * math.ceil(math.log2(group)) * latency_s
    return min(ring, tree)


def all_gather_time(
    size_bytes: float, group: int, bandwidth_bytes_s: float, latency_s: float, efficiency: float
) -> float:
    """Ring all-gather or reduce-scatter of S bytes in all: (n−1)/n · S/(BW·η) + (n−1)·α."""
    if group <= 1 or size_bytes <= 0:
        return 0.0
    steps = group - 1
    return steps / group * size_bytes / (bandwidth_bytes_s * efficiency) + steps * latency_s


def all_to_all_time(
    size_bytes: float, group: int, bandwidth_bytes_s: float, latency_s: float, efficiency: float
) -> float:
    """All-to-all where each chip sends S bytes in all: (n−1)/n · S/(BW·η) + (n−1)·α."""
    return all_gather_time(size_bytes, group, bandwidth_bytes_s, latency_s, efficiency)


def point_to_point_time(size_bytes: float, bandwidth_bytes_s: float, latency_s: float) -> float:
    """One message between neighbours: S/BW + α."""
    if size_bytes <= 0:
        return 0.0
    return size_bytes / bandwidth_bytes_s + latency_s
