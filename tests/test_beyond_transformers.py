"""Graphs, embeddings, vision, storage and the edge (issue 4): published figures and physics that moves."""

from __future__ import annotations

import pytest

from infra_advisor.catalog import Catalog
from infra_advisor.physics import graph
from infra_advisor.presets import load_preset
from infra_advisor.search.engine import explain_stack, recommend
from infra_advisor.workload import build_workload


def explain(catalog: Catalog, stack: str, **flags: object):  # type: ignore[no-untyped-def]
    report = explain_stack(build_workload(flags), catalog, stack)
    assert report.stacks, report.rejected
    return report.stacks[0]


def test_sampled_subgraph_matches_mlperf_rgat_bound() -> None:
    # ../shared/reference/estimators.md F21 from mlcommons/training graph_neural_network (R-GAT,
    # fanouts 15,10,5, batch 1024): at most 937,984 nodes and 936,960 edges per mini-batch.
    assert graph.sampled_subgraph(1024, [15, 10, 5]) == (937_984, 936_960)


def test_igbh_feature_store_is_about_2_2_tb() -> None:
    # MLPerf GNN README (mlcommons/training graph_neural_network): IGBH-full node features ≈ 2.2 TB in fp32
    # (547M nodes × 1024 features × 4 B).
    assert graph.feature_bytes(547e6, 1024, 0, 0, 4.0) == pytest.approx(2.24e12, rel=0.01)


def test_resnet50_training_throughput_within_stated_band(catalog: Catalog) -> None:
    # NVIDIA DeepLearningExamples, RN50 v1.5 (PaddlePaddle) README: 2,711 img/s mixed-precision training
    # on one A100 80GB. https://github.com/NVIDIA/DeepLearningExamples/blob/master/PaddlePaddle/Classification/RN50v1.5/README.md
    stack = explain(
        catalog,
        "a100-80gb-sxm:1/-/-/local-nvme-gen4/pytorch",
        model_type="vision",
        params="25.6M",
        flops_per_sample="8.2G",
        batch_size=256,
        samples="1.28M",
    )
    ratio = stack.metrics.samples_per_s / 2711
    assert 1 / 1.5 <= ratio <= 1.5, ratio


def test_edge_features_grow_memory_and_step_time(catalog: Catalog) -> None:
    base = dict(
        model_type="gnn", task="train", nodes="10M", edges="200M", node_features=64, fanout="15,10"
    )
    plain = explain(catalog, "h100-sxm:1/-/-/-/pyg", **base, edge_features=0)
    rich = explain(catalog, "h100-sxm:1/-/-/-/pyg", **base, edge_features=32)
    assert rich.metrics.memory_per_chip_bytes > plain.metrics.memory_per_chip_bytes
    assert rich.breakdown.compute_s > plain.breakdown.compute_s
    assert rich.breakdown.memory_s > plain.breakdown.memory_s
    assert rich.metrics.step_time_s >= plain.metrics.step_time_s
    assert any("edge feature" in n for n in rich.notes)


def test_a_graph_that_outgrows_the_device_moves_to_host_memory(catalog: Catalog) -> None:
    small = explain(
        catalog, "h100-sxm:1/-/-/-/pyg", model_type="gnn", task="train", nodes="10M", edges="100M"
    )
    huge = explain(
        catalog,
        "h100-sxm:1/-/-/-/pyg",
        model_type="gnn",
        task="train",
        nodes="1B",
        edges="20B",
        node_features=256,
    )
    assert small.layout["graph"] == "device" and huge.layout["graph"] == "host"
    assert huge.breakdown.host_s > small.breakdown.host_s
    assert "host memory" in huge.bottleneck.explanation


def test_more_devices_mean_more_halo_traffic(catalog: Catalog) -> None:
    flags = dict(
        model_type="gnn",
        task="train",
        nodes="100M",
        edges="2B",
        node_features=128,
        sampling="full",
        layers=2,
        hidden=128,
    )
    four = explain(catalog, "h100-sxm:16/nvlink-4/ib-ndr/-/pyg", **flags)
    many = explain(catalog, "h100-sxm:64/nvlink-4/ib-ndr/-/pyg", **flags)
    assert four.breakdown.network_s > 0
    assert many.metrics.memory_per_chip_bytes < four.metrics.memory_per_chip_bytes


def test_many_small_files_on_an_object_store_make_storage_the_bottleneck(catalog: Catalog) -> None:
    flags = dict(
        model_type="vision",
        task="train",
        params="25.6M",
        samples="1.28M",
        batch_size=4096,
        bytes_per_sample="110KB",
    )
    small = explain(catalog, "h100-sxm:8/nvlink-4/-/aws-s3/pytorch", **flags, files="1.28M")
    sharded = explain(catalog, "h100-sxm:8/nvlink-4/-/aws-s3/pytorch", **flags, files="1280")
    assert small.breakdown.storage_s > sharded.breakdown.storage_s
    assert small.bottleneck.kind == "storage" and "files" in small.bottleneck.explanation


def test_tighter_power_budget_rejects_with_numbers(catalog: Catalog) -> None:
    loose = recommend(
        build_workload(
            {**load_preset("camera-vision-edge"), "power_budget": "60W", "include_unpriced": True}
        ),
        catalog,
        top=20,
    )
    # Unpriced boards too (the AGX Orin kit has no sourced price): the power rule is under test.
    tight = recommend(
        build_workload({**load_preset("camera-vision-edge"), "include_unpriced": True}),
        catalog,
        top=20,
    )
    loose_chips = {s.components.chip.id for s in loose.stacks}
    tight_chips = {s.components.chip.id for s in tight.stacks}
    assert tight_chips < loose_chips
    rejected = {r.id: r.reasons for r in tight.rejected}
    assert any(
        "W; the power budget is 5 W" in reason
        for reason in rejected["onprem-jetson-agx-orin-64gb-devkit"]  # the board's kit
    )
    assert all(s.metrics.power_w <= 5 for s in tight.stacks)
    assert all(s.metrics.battery_hours is not None for s in tight.stacks)


def test_edge_tpu_streams_weights_that_do_not_fit_its_sram(catalog: Catalog) -> None:
    fits = explain(
        catalog,
        "coral-edge-tpu:1/-/-/-/litert",
        task="inference",
        model_type="vision",
        params="3.4M",
        flops_per_sample="600M",
        precision="int8",
        deploy="edge",
    )
    spills = explain(
        catalog,
        "coral-edge-tpu:1/-/-/-/litert",
        task="inference",
        model_type="vision",
        params="25M",
        flops_per_sample="8.2G",
        precision="int8",
        deploy="edge",
    )
    assert not any("stream" in n for n in fits.notes)
    assert any("stream over usb-3" in n for n in spills.notes)
    assert spills.breakdown.host_s > fits.breakdown.host_s


def test_sparsecore_gathers_faster_than_plain_hbm(catalog: Catalog) -> None:
    flags = dict(
        model_type="recsys",
        task="train",
        embedding_rows="100M",
        embedding_dim=128,
        lookups_per_sample=26,
        params="2M",
        samples="100M",
    )
    v5p = explain(catalog, "tpu-v5p:1/-/-/-/jax", **flags)
    assert "SparseCore" in v5p.bottleneck.explanation or v5p.bottleneck.kind != "memory_bandwidth"
    assert any(t.inputs.get("sparsecore") is True for t in v5p.terms)
    h100 = explain(catalog, "h100-sxm:1/-/-/-/torchrec", **flags)
    assert any(t.inputs.get("sparsecore") is False for t in h100.terms)


def test_embedding_tables_beyond_device_memory_live_in_host_memory(catalog: Catalog) -> None:
    stack = explain(
        catalog,
        "h100-sxm:1/-/-/-/torchrec",
        model_type="recsys",
        task="train",
        embedding_rows="2B",
        embedding_dim=128,
        params="2M",
        samples="10M",
    )
    assert stack.layout["tables"] == "host"
    assert stack.bottleneck.kind == "host"


def test_tcp_scale_out_costs_host_cpu_and_a_dpu_offload_relieves_it(catalog: Catalog) -> None:
    flags = dict(
        model_type="recsys",
        task="train",
        embedding_rows="500M",
        embedding_dim=128,
        params="2M",
        samples="100M",
        batch_size=262144,
    )
    tcp = explain(catalog, "h100-sxm:16/nvlink-4/eth-25g-tcp/-/torchrec", **flags)
    offloaded = explain(
        catalog, "h100-sxm:16/nvlink-4/eth-25g-tcp/-/torchrec/dpu:bluefield-3", **flags
    )
    assert offloaded.metrics.step_time_s < tcp.metrics.step_time_s
    assert offloaded.components.offload == "bluefield-3"


@pytest.mark.parametrize(
    "preset",
    [
        "edge-gnn-friendship",
        "edge-gnn-friendship-sharded",
        "papers100m-gnn",
        "dlrm-criteo",
        "resnet50-imagenet",
        "camera-vision-edge",
    ],
)
def test_new_presets_rank_explained_stacks(catalog: Catalog, preset: str) -> None:
    report = recommend(build_workload(load_preset(preset)), catalog)
    assert report.stacks
    for stack in report.stacks:
        assert stack.bottleneck.explanation and stack.bottleneck.relief
    if preset.startswith("edge"):
        assert all(catalog.chips[s.components.chip.id].segment == "edge" for s in report.stacks)


def test_a_host_resident_graph_still_pays_the_dispatch(catalog: Catalog) -> None:
    # A 1B-node graph (344 GB) outgrows an MI350X, so features cross the host link; the
    # per-layer dispatch is paid all the same, and the explanation's figures add up to the step.
    w = build_workload(dict(task="inference", model_type="gnn", rate=10, nodes="1B",
                            edges="10B"))  # fmt: skip
    stack = explain_stack(w, catalog, "mi350x:1/-/-/gcs/pyg").stacks[0]
    assert stack.layout["graph"] == "host"
    dispatch = 2 * 50e-6  # two layers × launch-overhead (catalog/efficiency.toml)
    assert stack.metrics.step_time_s >= dispatch
    assert stack.breakdown.host_s >= dispatch


DLRM_SERVING = dict(model="dlrm-v2", task="inference", precision="int8", rate=1e9)


def test_dlrm_serving_keeps_a_copy_of_the_tables_on_each_gpu(catalog: Catalog) -> None:
    # NVIDIA's MLPerf Inference v4.1 DLRM-v2 configs (closed/NVIDIA/configs/dlrm-v2): every table
    # on every GPU (embedding_weights_on_gpu_part 1.0), INT8 embeddings and MLPs, batch 600,000;
    # the 8-GPU systems serve 8x one GPU.  DGX H100 Offline: 595,658 samples/s x 270.06 user-item
    # pairs a sample = 1.609e8 pairs/s (mlperf_log_summary.txt, accuracy.txt).
    stack = explain(catalog, "h100-sxm:8/nvlink-4/-/-/tensorrt", **DLRM_SERVING)
    assert stack.layout["shards"] == 1 and stack.layout["replicas"] == 8
    assert stack.layout["precision"] == "int8"
    assert stack.breakdown.network_s == 0.0
    assert not any(t.name == "embedding all-to-all per step" for t in stack.terms)
    tables = next(t for t in stack.terms if t.name == "embedding tables")
    assert tables.inputs["by"] == 1.0
    assert stack.metrics.samples_per_s == pytest.approx(1.609e8, rel=0.5)
    one = explain(catalog, "h100-sxm:1/-/-/-/tensorrt", **DLRM_SERVING)
    assert stack.metrics.samples_per_s == pytest.approx(8 * one.metrics.samples_per_s, rel=1e-6)


def test_dlrm_serving_shards_when_a_copy_does_not_fit(catalog: Catalog) -> None:
    # 26.1 B embedding parameters in fp32 are 105 GB: more than an 80 GB H100 holds.
    flags = dict(DLRM_SERVING, precision="fp32")
    stack = explain(catalog, "h100-sxm:8/nvlink-4/-/-/tensorrt", **flags)
    assert stack.layout["shards"] >= 2
    assert stack.layout["replicas"] * stack.layout["shards"] == 8
    assert any(t.name == "embedding all-to-all per step" for t in stack.terms)


def test_a_latency_target_caps_the_serving_batch(catalog: Catalog) -> None:
    fast = explain(catalog, "h100-sxm:1/-/-/-/tensorrt", **DLRM_SERVING, latency_target=0.001)
    free = explain(catalog, "h100-sxm:1/-/-/-/tensorrt", **DLRM_SERVING)
    assert fast.metrics.latency_s <= 0.001
    assert fast.layout["batch"] < free.layout["batch"] or free.metrics.latency_s <= 0.001


def test_dlrm_training_lookups_and_mlps_run_one_after_the_other(catalog: Catalog) -> None:
    # MLPerf Training v4.0, NVIDIA DGX H100 x8 DLRM-DCNv2: 1.38e7 samples/s (the case
    # mlperf-t40-dlrm-8xh100-nvidia-throughput in benchmarks/fidelity/cases.toml).
    stack = explain(catalog, "h100-sxm:8/nvlink-4/-/-/torchrec", model="dlrm-v2", task="train",
                    batch_size=65536, samples="4.2B")  # fmt: skip
    b = stack.breakdown
    assert b.overlap_s == pytest.approx(0.0, abs=1e-12)
    assert stack.metrics.step_time_s == pytest.approx(
        b.compute_s + b.memory_s + b.network_s + b.host_s + b.storage_s, rel=1e-9
    )
    assert stack.metrics.samples_per_s == pytest.approx(1.38e7, rel=0.5)


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_more_chips_never_serve_fewer_recommendations(catalog: Catalog, precision: str) -> None:
    # Copies of the tables side by side (int8: one per chip) or sharded groups (fp32: 105 GB of
    # tables over several chips): either way a larger count serves at least as much.
    rates = [
        explain(catalog, f"h100-sxm:{n}/nvlink-4/-/-/tensorrt",
                **dict(DLRM_SERVING, precision=precision)).metrics.samples_per_s
        for n in (2, 4, 8)
    ]  # fmt: skip
    assert rates == sorted(rates)


def test_dlrm_training_pays_its_auc_evaluations(catalog: Catalog) -> None:
    # MLPerf Training v4.0, NVIDIA/results/eos_ngc24.04_merlin_hugectr/dlrm_dcnv2/result_0.txt:
    # 16 eval_start/eval_stop intervals over eval_samples 89,137,319 take 27.9 s of a 243 s run.
    flags = dict(model="dlrm-v2", task="train", batch_size=55296, samples=4195197692,
                 epochs=0.7999, eval_samples=89137319, eval_every=4195197692 * 0.7999 / 16)  # fmt: skip
    stack = explain(catalog, "h100-sxm:8/nvlink-4/-/-/torchrec", **flags)
    term = next(t for t in stack.terms if t.name == "evaluation passes")
    assert term.inputs["passes"] == 16
    assert term.value == pytest.approx(27.9, rel=0.25)
    plain = dict(flags)
    plain.pop("eval_samples")
    plain.pop("eval_every")
    without = explain(catalog, "h100-sxm:8/nvlink-4/-/-/torchrec", **plain)
    assert stack.metrics.time_s == pytest.approx(without.metrics.time_s + term.value, rel=1e-6)
