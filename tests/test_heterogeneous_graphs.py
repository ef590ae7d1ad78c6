"""Heterogeneous graphs (F21): relations, learned embeddings for featureless nodes, where the
data loader runs and where the features live."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from infra_advisor.catalog import Catalog, load_catalog
from infra_advisor.interface.cli import app
from infra_advisor.physics import graph
from infra_advisor.search.engine import explain_stack
from infra_advisor.workload import build_workload

# DGL's GraphBolt RGCN example on ogbn-mag (examples/sampling/graphbolt/rgcn/hetero_rgcn.py; its
# stdout in dmlc/dgl PR 6808): author 1,134,649 + field_of_study 59,965 + institution 8,740 nodes
# learn 128-wide embeddings, "Number of embedding parameters: 154029312".
MAG_EMBEDDING_NODES = 1_134_649 + 59_965 + 8_740
MAG = dict(
    model_type="gnn", task="train", nodes="1.94M", edges="21.1M", node_features=128, layers=2,
    hidden=64, fanout="25,10", batch_size=1024, samples=629571, precision="fp32", relations=7,
    embedding_nodes=MAG_EMBEDDING_NODES,
)  # fmt: skip
T4 = "t4:1/-/-/-/pyg"  # DGL, which the measurement ran, is legacy in the catalog


def explain(catalog: Catalog, stack: str = T4, **flags: Any):  # type: ignore[no-untyped-def]
    report = explain_stack(build_workload(flags), catalog, stack)
    assert report.stacks, report.rejected
    return report.stacks[0]


def test_ogbn_mag_embeddings_are_the_published_parameter_count() -> None:
    assert MAG_EMBEDDING_NODES * 128 == 154_029_312
    # Dense Adam on nn.Embedding: 28 B of Adam traffic and 4 B of zero-filled gradient per
    # parameter, 4.93 GB a step; sparse touches only the rows looked up.
    dense = graph.embedding_update_bytes(MAG_EMBEDDING_NODES, 128, 175_000, dense=True)
    assert dense == pytest.approx(154_029_312 * 32)
    sparse = graph.embedding_update_bytes(MAG_EMBEDDING_NODES, 128, 175_000, dense=False)
    assert sparse == pytest.approx(175_000 * 128 * 28)


def test_learned_embeddings_are_state_and_a_dense_update_costs_a_pass(catalog: Catalog) -> None:
    none = explain(catalog, **{**MAG, "embedding_nodes": None})
    dense = explain(catalog, **MAG, embedding_update="dense")
    sparse = explain(catalog, **MAG, embedding_update="sparse")
    # 154M parameters at 16 B (weight, gradient, two moments) on the T4.
    grown = dense.metrics.memory_per_chip_bytes - none.metrics.memory_per_chip_bytes
    assert grown == pytest.approx(154_029_312 * 16, rel=0.35)
    assert dense.metrics.step_time_s > sparse.metrics.step_time_s > 0
    assert (
        "dense Adam" in dense.bottleneck.explanation or dense.bottleneck.kind != "memory_bandwidth"
    )
    term = next(t for t in dense.terms if t.name == "learned-embedding update per step")
    assert term.inputs["bytes"] == pytest.approx(154_029_312 * 32)


def test_relations_multiply_the_dispatch(catalog: Catalog) -> None:
    one = explain(catalog, **{**MAG, "relations": 1, "embedding_nodes": None})
    seven = explain(catalog, **{**MAG, "embedding_nodes": None})
    assert seven.breakdown.host_s > one.breakdown.host_s
    assert "over 7 relations" in seven.bottleneck.explanation or seven.bottleneck.kind != "host"


def test_an_in_process_loader_hides_none_of_its_sampling(catalog: Catalog) -> None:
    overlapped = explain(catalog, **MAG)
    inline = explain(catalog, **MAG, loader_workers=0)
    assert inline.metrics.step_time_s > overlapped.metrics.step_time_s
    sampling = next(t for t in inline.terms if t.name.startswith("neighbour sampling"))
    assert sampling.inputs["loader"] == "in the training process"


def test_a_pinned_feature_store_is_where_the_features_live(catalog: Catalog) -> None:
    host = explain(catalog, **MAG, feature_store="host")
    device = explain(catalog, **MAG, feature_store="device")
    assert host.layout["graph"] == "host" and device.layout["graph"] == "device"
    assert host.metrics.step_time_s > device.metrics.step_time_s
    assert (
        "as --feature-store pins" in host.bottleneck.explanation or host.bottleneck.kind != "host"
    )
    big = {**MAG, "nodes": "1B", "edges": "20B", "embedding_nodes": None}
    report = explain_stack(build_workload({**big, "feature_store": "device"}), catalog, T4)
    assert not report.stacks
    assert any("--feature-store device" in r for rej in report.rejected for r in rej.reasons)


def test_the_relief_of_a_slow_pipeline_is_the_pipeline(catalog: Catalog) -> None:
    flags = {**MAG, "embedding_update": "dense", "loader_workers": 0, "feature_store": "host"}
    stack = explain(catalog, **flags)
    relief = stack.bottleneck.relief_detail
    assert relief is not None and relief.component in (
        "loader_workers", "feature_store", "embedding_update")  # fmt: skip
    # The relief's "after" is what the changed workload gets on the same stack.
    changed = {**flags, relief.component: relief.after if relief.component != "loader_workers"
               else int(relief.after)}  # fmt: skip
    after = explain(catalog, **changed)
    assert after.metrics.time_s == pytest.approx(relief.after_value, rel=1e-6)


CATALOG = load_catalog()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fewer=st.integers(1, 48), more=st.integers(1, 48), relations=st.integers(1, 12))
def test_more_loader_workers_and_sparse_updates_never_hurt(
    fewer: int, more: int, relations: int
) -> None:
    fewer, more = min(fewer, more), max(fewer, more)
    flags = {**MAG, "relations": relations}
    slow = explain(CATALOG, **flags, loader_workers=fewer)
    fast = explain(CATALOG, **flags, loader_workers=more)
    assert fast.metrics.step_time_s <= slow.metrics.step_time_s * (1 + 1e-9)
    # As many single-threaded workers as the in-process loader has threads: never slower, as
    # the same sampling now overlaps the device.
    inline = explain(CATALOG, **flags, loader_workers=0)
    cores = int(CATALOG.eff("host-cores").value)  # the default server's, which the T4 runs in
    wide = explain(CATALOG, **flags, loader_workers=cores)
    assert wide.metrics.step_time_s <= inline.metrics.step_time_s * (1 + 1e-9)
    sparse = explain(CATALOG, **flags, embedding_update="sparse")
    dense = explain(CATALOG, **flags, embedding_update="dense")
    assert sparse.metrics.step_time_s <= dense.metrics.step_time_s


def test_bad_heterograph_flags_exit_2_naming_the_flag() -> None:
    runner = CliRunner()
    base = ["recommend", "--task", "train", "--model-type", "gnn", "--nodes", "1M", "--json"]
    more = runner.invoke(app, [*base, "--embedding-nodes", "2M"])
    assert (
        more.exit_code == 2
        and "--embedding-nodes" in more.output
        and "Traceback" not in more.output
    )
    wrong = runner.invoke(app, [*base, "--feature-store", "disk"])
    assert wrong.exit_code == 2 and "--feature-store" in wrong.output
    negative = runner.invoke(app, [*base, "--loader-workers", "-1"])
    assert negative.exit_code == 2 and "--loader-workers" in negative.output


def test_heterograph_flags_on_a_transformer_are_named_as_ignored() -> None:
    from infra_advisor.workload import inapplicable_notes

    w = build_workload(dict(model_type="transformer", params="7B", relations=3, loader_workers=0))
    notes = inapplicable_notes(w)
    assert any(n.startswith("--relations does not apply") for n in notes)
    assert any(n.startswith("--loader-workers does not apply") for n in notes)


def test_pytorch_runs_no_sampled_gnn_on_a_tpu_but_still_runs_transformers(catalog: Catalog) -> None:
    # PyTorch/XLA compiles static shapes only and recompiles on every new input shape
    # (docs.pytorch.org/xla/release/r2.8/perf/recompilation.html); a sampled subgraph has a new
    # shape every step, so PyTorch's TPU row leaves GNNs out.
    gnn = explain_stack(build_workload({**MAG, "embedding_nodes": None}), catalog,
                        "tpu-v5e:1/-/-/-/pytorch")  # fmt: skip
    assert not gnn.stacks
    assert any("does not run gnn models" in r for rej in gnn.rejected for r in rej.reasons)
    llm = explain_stack(build_workload(dict(task="inference", params="3B")), catalog,
                        "tpu-v5e:1/-/-/-/pytorch")  # fmt: skip
    assert llm.stacks


def test_only_featured_rows_cross_the_host_link(catalog: Catalog) -> None:
    # ogbn-mag: 736,389 of its ~1.94M nodes are papers with 128 features; the other 1,203,354
    # learn embeddings held on the device with the model (hetero_rgcn.py moves its
    # HeteroEmbedding to the GPU and fetches only ("paper", "feat") from the feature store).  So
    # the bytes copied over the host link per step are the sampled papers' rows, and the learned
    # rows are looked up in device memory instead.
    host = explain(catalog, **MAG, feature_store="host")
    plain = explain(catalog, **{**MAG, "embedding_nodes": None}, feature_store="host")
    sampled = next(t for t in host.terms if t.name == "sampled subgraph per chip-step").value
    gather = next(t for t in host.terms if t.name == "feature gather per step")
    featured = sampled * (1 - MAG_EMBEDDING_NODES / 1.94e6)
    assert gather.inputs["bytes"] == pytest.approx(featured * 128 * 4)
    every = next(t for t in plain.terms if t.name == "feature gather per step")
    assert every.inputs["bytes"] == pytest.approx(sampled * 128 * 4)
    # Fewer bytes over the host link, and the learned rows still cost a device-memory gather:
    # device-memory time beyond the optimizer pass exceeds the featured-only graph's.
    assert host.breakdown.host_s < plain.breakdown.host_s
    update = next(t for t in host.terms if t.name == "learned-embedding update per step").value
    assert host.breakdown.memory_s - update > plain.breakdown.memory_s
