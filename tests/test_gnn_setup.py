"""Training's set-up before its first step (F21): every host reads the graph it holds from
storage, the framework builds its graph and sampler; multi-host device sampling keeps a whole
copy of the structure on each host."""

from __future__ import annotations

from typing import Any

import pytest

from infra_advisor.catalog import Catalog
from infra_advisor.search.engine import explain_stack
from infra_advisor.workload import build_workload
from tests.helpers import served, term

# MLPerf R-GAT on IGBH-full (training_results_v4.0 NVIDIA/benchmarks/gnn/implementations/dgl),
# the shape of the fidelity cases mlperf-t40-rgat-*.
RGAT = dict(
    model_type="gnn", task="train", nodes="547M", edges="5.8B", node_features=1024, layers=3,
    hidden=512, fanout="15,10,5", samples=94605581, precision="fp8", relations=11,
    sampler="device", eval_samples=788379, eval_every=4730279, include_legacy=True,
)  # fmt: skip


def stack(catalog: Catalog, spec: str, **flags: Any) -> Any:
    return served(catalog, spec, **{**RGAT, **flags})


def test_set_up_is_part_of_the_job_and_epoch_time_is_the_steps_alone(catalog: Catalog) -> None:
    s = stack(catalog, "h200-sxm:8/-/-/local-nvme-gen4/dgl", batch_size=16384, epochs=1)
    setup = term(s, "set-up before the first step")
    evaluation = term(s, "evaluation passes")
    m = s.metrics
    assert m.setup_s == pytest.approx(setup.value)
    assert m.time_s == pytest.approx(m.setup_s + m.epoch_time_s + evaluation.value, rel=1e-6)
    # One host reads the whole graph (611 GB of structure and FP8 features) from its NVMe at the
    # storage's read bandwidth x storage-read, then the framework's set-up.
    read = (
        catalog.storage["local-nvme-gen4"].read_gb_s
        * 1e9
        * catalog.efficiency["storage-read"].value
    )
    held = setup.inputs["bytes"]
    assert held == pytest.approx(611e9, rel=0.01)
    assert setup.inputs["load_s"] == pytest.approx(held / read)
    assert m.setup_s == pytest.approx(held / read + catalog.efficiency["gnn-setup"].value)


def test_serving_a_graph_model_has_no_training_set_up(catalog: Catalog) -> None:
    s = stack(catalog, "h200-sxm:1/-/-/-/dgl", task="inference", sampler=None, rate=10,
              samples=1000, eval_samples=None, eval_every=None)  # fmt: skip
    assert s.metrics.setup_s is None and s.metrics.epoch_time_s is None
    assert not any(t.name == "set-up before the first step" for t in s.terms)


def test_each_sampling_host_holds_a_copy_of_the_structure(catalog: Catalog) -> None:
    # 64 x H100 (8 hosts) sample on the devices: each host keeps IGBH-full's structure, sharded
    # over its 8 GPUs, and every GPU a 64th of the features (GRAPH_SHARDING_PARTITION=node).
    dev = stack(catalog, "h100-sxm:64/nvlink-4/ib-ndr/local-nvme-gen4/dgl", batch_size=65536)
    structure = term(dev, "graph structure (CSR)").value
    features = term(dev, "node + edge features").value
    setup = term(dev, "set-up before the first step")
    assert setup.inputs["bytes"] == pytest.approx(8 * structure + features)
    assert "copied on each of 8 hosts" in dev.bottleneck.explanation
    # Host cores sampling (PyG) partition the graph once: no copies, fewer bytes held a chip.
    host = stack(catalog, "h100-sxm:64/nvlink-4/ib-ndr/local-nvme-gen4/pyg", batch_size=65536,
                 sampler=None)  # fmt: skip
    assert term(host, "set-up before the first step").inputs["bytes"] == pytest.approx(
        structure + features
    )
    assert host.metrics.memory_per_chip_bytes < dev.metrics.memory_per_chip_bytes


@pytest.mark.parametrize(
    ("spec", "batch", "logged"),
    [
        # run_start to the first epoch_start in each log (held-out rows of the fidelity set):
        # training_results_v4.0 NVIDIA/results/h200_ngc24.04_dgl/gnn/result_0.txt, 23.5 s;
        ("h200-sxm:8/-/-/-/dgl", 16384, 23.5),
        # .../eos_n64_ngc24.04_dgl/gnn/result_0.txt (512 H100), 8.6 s;
        ("h100-sxm:512/nvlink-4/ib-ndr/-/dgl", 262144, 8.6),
        # training_results_v5.0 NVIDIA/results/tyche_ngpu72_ngc25.03_dgl/rgat/result_0.txt, 6.3 s.
        ("gb200:72/-/-/-/dgl", 73728, 6.3),
    ],
)
def test_set_up_against_the_logged_mlperf_set_ups(
    catalog: Catalog, spec: str, batch: int, logged: float
) -> None:
    s = stack(catalog, spec, batch_size=batch, epochs=1)
    assert s.metrics.setup_s is not None
    assert logged / 2 <= s.metrics.setup_s <= logged * 2


def test_a_faster_storage_is_chosen_when_the_graph_must_be_loaded(catalog: Catalog) -> None:
    # Nothing is read per step with the graph in device memory; the load before the first step
    # is what storage adds, so the engine's pick loads no slower than the cheapest mount would.
    s = stack(catalog, "h200-sxm:8/-/-/-/dgl", batch_size=16384, epochs=1)
    chosen = s.components.storage
    pinned = stack(catalog, "h200-sxm:8/-/-/local-nvme-gen4/dgl", batch_size=16384, epochs=1)
    assert chosen is not None
    assert s.metrics.setup_s <= pinned.metrics.setup_s + 1e-9


def test_a_job_its_set_up_dominates_says_so(catalog: Catalog) -> None:
    small = dict(model_type="gnn", task="train", nodes="2M", edges="60M", node_features=100,
                 layers=2, hidden=256, fanout="10,5", batch_size=1024, samples=200000, epochs=1,
                 include_legacy=True)  # fmt: skip
    report = explain_stack(build_workload(small), catalog, "t4:1/-/-/local-nvme-gen4/pyg")
    s = report.stacks[0]
    assert s.metrics.setup_s > s.metrics.time_s / 2
    assert any(n.startswith("set-up before the first step is") for n in s.notes)
    # A long job's set-up is a small share and goes unremarked.
    big = stack(catalog, "h200-sxm:8/-/-/local-nvme-gen4/dgl", batch_size=16384, epochs=1)
    assert not any(n.startswith("set-up before the first step is") for n in big.notes)
