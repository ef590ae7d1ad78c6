"""Collective communication (F13): ring algorithms with latency and bandwidth terms.

Bandwidth is per chip per direction in bytes/s; ``efficiency`` is the achieved
fraction of it (nccl-tests "bus bandwidth" over link bandwidth); ``latency_s``
the per-hop latency α.  Sources: NVIDIA nccl-tests PERFORMANCE.md; Thakur,
Rabenseifner & Gropp 2005 ("Optimization of collective communication
operations in MPICH").
"""

from __future__ import annotations


def all_reduce_time(
    size_bytes: float, group: int, bandwidth_bytes_s: float, latency_s: float, efficiency: float
) -> float:
    """Ring all-reduce: 2·(n−1)/n · S/(BW·η) + 2·(n−1)·α."""
    if group <= 1 or size_bytes <= 0:
        return 0.0
    steps = group - 1
    return 2 * steps / group * size_bytes / (bandwidth_bytes_s * efficiency) + 2 * steps * latency_s


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
