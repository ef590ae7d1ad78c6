"""Storage throughput, provisioning and checkpoints (F19, F20)."""

from __future__ import annotations

import math

from infra_advisor.models import Storage
from infra_advisor.physics.data import metadata_time

TIB = 2.0**40


def provisioned_bytes(store: Storage, needed_bytes: float) -> float:
    """Capacity provisioned: what the data needs, at least 1.2 TiB on per-TiB systems."""
    if store.read_gb_s_per_tib is not None:
        return max(needed_bytes, 1.2 * TIB)
    return needed_bytes


def read_bandwidth(store: Storage, provisioned: float, nodes: int) -> float:
    """Aggregate read bandwidth in bytes/s for a capacity and a number of client nodes.

    Per-TiB systems scale with capacity up to their ceiling; per-node systems
    (local NVMe) scale with the nodes; the rest are absolute.
    """
    if store.read_gb_s_per_tib is not None:
        bw = store.read_gb_s_per_tib * provisioned / TIB
        if store.read_max_gb_s is not None:
            bw = min(bw, store.read_max_gb_s)
        return bw * 1e9
    assert store.read_gb_s is not None  # checked when the catalog loads
    return store.read_gb_s * 1e9 * (nodes if store.per_node else 1)


def write_bandwidth(store: Storage, provisioned: float, nodes: int) -> float:
    """Aggregate write bandwidth in bytes/s; falls back to half the read figure where none is published."""
    if store.write_gb_s_per_tib is not None:
        bw = store.write_gb_s_per_tib * provisioned / TIB
        if store.write_max_gb_s is not None:
            bw = min(bw, store.write_max_gb_s)
        return bw * 1e9
    if store.write_gb_s is not None:
        return store.write_gb_s * 1e9 * (nodes if store.per_node else 1)
    return read_bandwidth(store, provisioned, nodes) / 2


def read_seconds(
    store: Storage,
    bandwidth: float,
    nodes: int,
    read_bytes: float,
    *,
    random_rows: float = 0.0,
    opens: float = 0.0,
) -> float:
    """Seconds to read one step's data at ``bandwidth`` bytes/s (F19): the bytes, or the random
    rows at the system's IOPS when those are slower (graph feature rows), plus one metadata
    operation for each file opened, each a round trip."""
    read_s = read_bytes / bandwidth if read_bytes else 0.0
    if random_rows and store.read_iops:
        iops = store.read_iops * (nodes if store.per_node else 1)
        read_s = max(read_s, random_rows / iops)
    if opens:
        latency = (store.latency_ms or 1.0) / 1e3
        read_s += metadata_time(opens, store.metadata_ops_per_s, latency, 64 * nodes)
    return read_s


def exposed_read_s(read_s: float, compute_s: float) -> float:
    """Read seconds a step waits for (F19): a prefetching loader reads the next batch while the
    accelerators compute this one, so only reads beyond the compute time add to the step."""
    return max(0.0, read_s - compute_s)


def delivered_read_rate(read_bytes: float, read_s: float, compute_s: float) -> float:
    """Bytes/s the storage delivers to accelerators that consume read_bytes per compute_s of work
    when it alone would take read_s (F19): the step lasts compute plus the exposed reads, so the
    rate is the accelerators' demand while storage keeps up and the storage's rate once it does not
    (what MLPerf Storage measures of its emulated accelerators)."""
    step_s = compute_s + exposed_read_s(read_s, compute_s)
    return read_bytes / step_s if step_s > 0 else math.inf


def checkpoint_bytes(params: float, trainable: float, *, full_states: bool) -> float:
    """Checkpoint size (F20): weights at 2 B + fp32 master, m, v at 12 B per trainable parameter."""
    if full_states:
        return params * 14.0
    return trainable * 14.0


def checkpoint_share(write_s: float, interval_s: float) -> float:
    """Fraction of the job spent blocked writing checkpoints: write time / interval."""
    if interval_s <= 0 or math.isinf(interval_s):
        return 0.0
    return write_s / interval_s


def storage_cost(price_usd_per_gb_month: float, provisioned: float, seconds: float) -> float:
    months = seconds / (30 * 86400)
    return price_usd_per_gb_month * provisioned / 1e9 * months
