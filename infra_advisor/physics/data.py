"""Data loading: throughput demanded vs delivered, file opens vs metadata capacity, host decode (F19)."""

from __future__ import annotations


def file_opens_per_step(samples_per_step: float, samples: float, files: float) -> float:
    """Files opened per step when ``samples`` are spread over ``files`` and read in random order."""
    if files <= 0 or samples <= 0:
        return 0.0
    per_file = max(samples / files, 1.0)
    return samples_per_step / per_file


def metadata_time(
    opens: float, ops_per_s: float | None, latency_s: float | None, parallel: int
) -> float:
    """Seconds to open ``opens`` files: capacity-bound at ops_per_s, latency-bound at
    ``parallel`` outstanding requests each taking ``latency_s``."""
    capacity = opens / ops_per_s if ops_per_s else 0.0
    latency = opens * latency_s / parallel if latency_s else 0.0
    return max(capacity, latency)


def decode_time(samples: float, per_core_per_s: float, cores: float) -> float:
    """Host CPU time to decode and augment ``samples`` across ``cores`` cores."""
    return samples / (per_core_per_s * cores)
