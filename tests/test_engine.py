"""Engine behaviour a user would notice: rules, layouts, bottlenecks that move with the physics."""

from __future__ import annotations

from infra_advisor.catalog import Catalog
from infra_advisor.search.engine import explain_stack, recommend
from infra_advisor.workload import build_workload


def rec(catalog: Catalog, top: int = 50, **flags: object):  # type: ignore[no-untyped-def]
    return recommend(build_workload(flags), catalog, top=top)


def test_scale_out_is_never_a_scale_up_link_and_tp_stays_in_the_domain(catalog: Catalog) -> None:
    report = rec(catalog, params="405B", tokens="2T", deadline="60d")
    assert report.stacks
    for stack in report.stacks:
        chip = catalog.chips[stack.components.chip.id]
        if stack.components.scale_out:
            assert catalog.interconnects[stack.components.scale_out].scope == "scale_out"
        assert stack.layout["tensor_parallel"] <= chip.scale_up_domain_size
        if stack.components.chip.count <= chip.scale_up_domain_size:
            assert stack.components.scale_out is None


def test_legacy_parts_only_when_asked(catalog: Catalog) -> None:
    plain = rec(catalog, task="inference", params="7B")
    assert "t4" not in {s.components.chip.id for s in plain.stacks}
    assert any(r.id == "t4" and "include-legacy" in r.reasons[0] for r in plain.rejected)
    pinned = rec(
        catalog, task="inference", params="7B", chip="t4", include_legacy=True, precision="fp16"
    )
    assert pinned.stacks and pinned.stacks[0].components.chip.id == "t4"


def test_fp8_only_where_chip_supports_it(catalog: Catalog) -> None:
    a100 = explain_stack(
        build_workload(dict(params="8B", precision="fp8", tokens="1B")),
        catalog,
        "a100-80gb-sxm:8/nvlink-3/-/-/megatron-lm",
    ).stacks[0]
    assert a100.layout["precision"] == "bf16"
    assert any("FP8" in n for n in a100.notes)
    h100 = explain_stack(
        build_workload(dict(params="8B", precision="fp8", tokens="1B")),
        catalog,
        "h100-sxm:8/nvlink-4/-/-/megatron-lm",
    ).stacks[0]
    assert h100.layout["precision"] == "fp8"


def test_decode_is_memory_bound_at_batch_one_and_compute_bound_at_large_batch(
    catalog: Catalog,
) -> None:
    single = explain_stack(
        build_workload(dict(task="inference", params="8B")), catalog, "h100-sxm:1/-/-/-/vllm"
    ).stacks[0]
    assert single.bottleneck.kind == "memory_bandwidth"
    assert "GB of weights" in single.bottleneck.explanation
    busy = explain_stack(
        build_workload(
            dict(task="inference", params="8B", rate=200, prompt_tokens=128, output_tokens=64)
        ),
        catalog,
        "h100-sxm:1/-/-/-/vllm",
    ).stacks[0]
    assert busy.layout["batch"] > single.layout["batch"]
    assert busy.metrics.tpot_s > single.metrics.tpot_s


def test_slow_scale_out_makes_training_network_bound_and_relief_swaps_it(catalog: Catalog) -> None:
    flags = dict(params="13B", tokens="100B", seq_len=2048, batch_size=512, optimize="time")
    slow = explain_stack(
        build_workload(flags), catalog, "h100-sxm:64/nvlink-4/eth-25g-tcp/-/megatron-lm"
    ).stacks[0]
    fast = explain_stack(
        build_workload(flags), catalog, "h100-sxm:64/nvlink-4/ib-ndr/-/megatron-lm"
    ).stacks[0]
    assert slow.bottleneck.kind == "network"
    assert slow.metrics.time_s > fast.metrics.time_s
    relief = slow.bottleneck.relief_detail
    assert relief is not None and relief.component == "scale_out" and relief.improvement > 0.1
    assert "eth-25g-tcp" in slow.bottleneck.relief and "%" in slow.bottleneck.relief


def test_more_chips_shorten_training_but_not_for_free(catalog: Catalog) -> None:
    w = build_workload(dict(params="8B", tokens="200B"))
    small = explain_stack(w, catalog, "h100-sxm:64/nvlink-4/ib-ndr/-/megatron-lm").stacks[0]
    large = explain_stack(w, catalog, "h100-sxm:256/nvlink-4/ib-ndr/-/megatron-lm").stacks[0]
    assert large.metrics.time_s < small.metrics.time_s
    assert large.metrics.chip_hours >= small.metrics.chip_hours * 0.99


def test_moe_compute_follows_active_memory_follows_total(catalog: Catalog) -> None:
    dense = dict(params="47B", layers=32, hidden=4096, heads=32, kv_heads=8, tokens="100B")
    moe = {**dense, "active_params": "13B"}
    stack = "h100-sxm:64/nvlink-4/ib-ndr/-/megatron-lm"
    d = explain_stack(build_workload(dense), catalog, stack).stacks[0]
    m = explain_stack(build_workload(moe), catalog, stack).stacks[0]
    assert m.metrics.time_s < d.metrics.time_s / 2
    assert any(
        "mixture of experts" in a
        for a in explain_stack(build_workload(moe), catalog, stack).assumptions
    )


def test_qlora_needs_less_memory_than_lora(catalog: Catalog) -> None:
    # The same layout for both (the planner may spend QLoRA's savings on a faster, less sharded one).
    base = dict(task="finetune", params="70B", tokens="10M", tensor_parallel=8, pipeline_parallel=1)
    lora = explain_stack(
        build_workload({**base, "finetune_method": "lora"}),
        catalog,
        "h100-sxm:8/nvlink-4/-/-/deepspeed",
    ).stacks[0]
    qlora = explain_stack(
        build_workload({**base, "finetune_method": "qlora"}),
        catalog,
        "h100-sxm:8/nvlink-4/-/-/deepspeed",
    ).stacks[0]
    assert qlora.metrics.memory_per_chip_bytes < lora.metrics.memory_per_chip_bytes


def test_pareto_and_scores_are_consistent(catalog: Catalog) -> None:
    report = rec(catalog, task="inference", params="8B", rate=20)
    assert report.stacks[0].score == max(s.score for s in report.stacks)
    assert any(s.pareto for s in report.stacks)
    scores = [s.score for s in report.stacks]
    assert scores == sorted(scores, reverse=True)


def test_no_public_price_is_said_not_guessed(catalog: Catalog) -> None:
    stack = explain_stack(
        build_workload(dict(task="inference", params="8B")), catalog, "mi300x:1/-/-/-/vllm"
    ).stacks[0]
    assert stack.metrics.cost_usd is None
    # MI300X is rented (OCI, Azure) but the id names no offering: the note says how to get a cost.
    assert any("without an offering" in n and "cost not estimated" in n for n in stack.notes)


def test_saturated_serving_reports_throughput_with_memory_sized_batch(catalog: Catalog) -> None:
    stack = explain_stack(
        build_workload(dict(task="inference", params="8B", rate=10000)), catalog, "l4:1/-/-/-/vllm"
    ).stacks[0]
    assert not stack.fits
    assert stack.metrics.requests_per_s is not None and stack.metrics.requests_per_s < 10000
    assert stack.layout["batch"] == stack.layout["max_batch"]
    assert stack.bottleneck.kind == "memory_capacity"


def test_rate_scales_replicas(catalog: Catalog) -> None:
    low = rec(catalog, task="inference", params="8B", rate=5, chip="h100-sxm", top=1).stacks[0]
    high = rec(catalog, task="inference", params="8B", rate=400, chip="h100-sxm", top=1).stacks[0]
    assert high.components.chip.count > low.components.chip.count
    assert high.fits


def test_ranges_bracket_the_estimate(catalog: Catalog) -> None:
    stack = rec(catalog, params="8B", tokens="100B", top=1).stacks[0]
    rng = stack.ranges["time_s"]
    assert rng.low <= stack.metrics.time_s <= rng.high and rng.low < rng.high
