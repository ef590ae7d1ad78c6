"""Where neighbour sampling runs (F21): on the device where the framework samples there, in a
loader that prefetches beside the step; on host cores otherwise; and evaluation passes."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from infra_advisor.catalog import Catalog
from infra_advisor.interface.cli import app
from infra_advisor.physics import graph
from infra_advisor.search.engine import explain_stack
from infra_advisor.workload import build_workload

# MLPerf R-GAT on IGBH-full as NVIDIA runs it (training_results_v4.0, NVIDIA/benchmarks/gnn/
# implementations/dgl: config_DGXH200_1x8x2048.sh, SAMPLING_DEVICE=cuda, TRAIN_OVERLAP=1;
# model/dgl_model.py RGAT_DGL over the 11 IGBH edge types).
RGAT = dict(
    model_type="gnn", task="train", nodes="547M", edges="5.8B", node_features=1024, layers=3,
    hidden=512, fanout="15,10,5", batch_size=16384, samples=94605581, epochs=0.85,
    precision="fp8", relations=11, include_legacy=True,
)  # fmt: skip
H200 = "h200-sxm:8/-/-/-/dgl"


def explain(catalog: Catalog, stack: str = H200, **flags: Any):  # type: ignore[no-untyped-def]
    report = explain_stack(build_workload(flags), catalog, stack)
    assert report.stacks, report.rejected
    return report.stacks[0]


def test_dgl_samples_on_the_device_and_pyg_on_host_cores(catalog: Catalog) -> None:
    dgl = explain(catalog, **RGAT)
    assert dgl.layout["sampler"] == "device"
    assert any(t.name == "neighbour sampling per step (device)" for t in dgl.terms)
    pyg = explain(catalog, "h200-sxm:8/-/-/-/pyg", **RGAT)
    assert pyg.layout["sampler"] == "host"
    # Loader workers are host processes: asking for them samples on host cores.
    workers = explain(catalog, **RGAT, loader_workers=12)
    assert workers.layout["sampler"] == "host"


def test_the_device_sampler_sets_an_8_gpu_r_gat_step(catalog: Catalog) -> None:
    """ASUS ESC_N8_E11 (8x H200, MLPerf Training v4.1 gnn result_1.txt, a calibrate row):
    training periods between evaluations of 23.74 s for 0.05 epoch (288.7 steps of 16,384
    seeds), 82.2 ms a step."""
    stack = explain(catalog, **RGAT)
    assert stack.metrics.step_time_s == pytest.approx(0.0822, rel=0.15)
    assert "sampling" in stack.bottleneck.explanation
    # The loader runs beside the step: the step is its longer stage, not the sum.
    sampling = next(t for t in stack.terms if t.name == "neighbour sampling per step (device)")
    compute = next(t for t in stack.terms if t.name == "compute per step")
    assert stack.metrics.step_time_s < sampling.value + compute.value + 0.01


def test_device_sampling_goes_with_memory_bandwidth_and_relations() -> None:
    one = graph.device_sampling_time(1e6, 1, 4.8, 5.3e7)
    assert graph.device_sampling_time(1e6, 11, 4.8, 5.3e7) == pytest.approx(11 * one)
    assert graph.device_sampling_time(1e6, 1, 9.6, 5.3e7) == pytest.approx(one / 2)
    # Three hops from 1,024 seeds at (15, 10, 5): seeds and the first two hops' new nodes.
    assert graph.sampling_frontier(1024, [15, 10, 5]) == 1024 * (1 + 15 + 150)


def test_a_pinned_sampler_the_framework_lacks_is_refused(catalog: Catalog) -> None:
    report = explain_stack(build_workload({**RGAT, "sampler": "device"}), catalog,
                           "h200-sxm:8/-/-/-/pyg")  # fmt: skip
    assert not report.stacks
    reasons = " ".join(" ".join(r.reasons) for r in report.rejected)
    assert "samples neighbours on host CPU cores only" in reasons
    host = explain(catalog, **RGAT, sampler="host")
    assert host.layout["sampler"] == "host"


def test_evaluation_passes_are_forward_steps(catalog: Catalog) -> None:
    """MLPerf R-GAT evaluates 788,379 seeds every 0.05 epoch (EVAL_FREQUENCY 0.05 of the logged
    94,605,581 train_samples): 17 passes in 0.85 epoch, each 49 forward steps of 16,384."""
    plain = explain(catalog, **RGAT)
    timed = explain(catalog, **RGAT, eval_samples=788379, eval_every=4730279)
    term = next(t for t in timed.terms if t.name == "evaluation passes")
    assert term.inputs["passes"] == 17 and term.inputs["steps"] == 49
    added = timed.metrics.time_s - plain.metrics.time_s
    assert added == pytest.approx(term.value)
    # A forward step is never slower than a training step, and keeps the sampling: here the
    # loader's sampling stage is the longer one in both, so they take the same time.
    forward = term.value / (17 * 49)
    assert 0 < forward <= plain.metrics.step_time_s * (1 + 1e-9)
    sampling = next(t for t in plain.terms if t.name == "neighbour sampling per step (device)")
    assert forward >= sampling.value


def test_sampler_flag_is_checked_and_named() -> None:
    result = CliRunner().invoke(app, ["recommend", "--model-type", "gnn", "--sampler", "gpu"])
    assert result.exit_code == 2
    assert "--sampler" in result.output
