"""The planner as an expert reads it: each defect issue 13 lists, reproduced and held fixed.

Every test asks what a senior ML-infrastructure engineer would check on the top stack: the
framework class, the sharding, the chip count, the rank order, bytes conserved, the phase named,
the relief reproduced, the unit.
"""

from __future__ import annotations

import pytest

from infra_advisor.catalog import Catalog
from infra_advisor.job import build_job
from infra_advisor.plan import training as pt
from infra_advisor.search.engine import explain_stack, recommend
from infra_advisor.workload import build_workload

SERVING_ENGINES = {"tensorrt-llm", "vllm", "sglang"}
LLAMA70B = dict(task="inference", model_type="transformer", params="70.6B", layers=80,
                hidden=8192, heads=64, kv_heads=8, precision="fp8")  # fmt: skip


def _top(report):  # type: ignore[no-untyped-def]
    assert report.stacks, [r.reasons for r in report.rejected]
    return report.stacks[0]


def test_two_h100s_serve_70b_with_a_serving_engine_at_tp2(catalog: Catalog) -> None:
    # NVIDIA TensorRT-LLM performance overview (v0.17 table, Llama 3.1 70B FP8, TP 2, ISL/OSL
    # 1000/1000, H100): 4,391 output tokens/s.  The issue quotes about 4,200.
    w = build_workload({**LLAMA70B, "prompt_tokens": 1000, "output_tokens": 1000,
                        "rate": 100000, "chip": "h100-sxm", "chips": 2})  # fmt: skip
    top = _top(recommend(w, catalog))
    assert top.components.framework in SERVING_ENGINES
    assert top.layout["tensor_parallel"] == 2 and top.layout["batching"] == "continuous"
    assert top.layout["batch"] > 1
    assert 4391 / 1.25 <= top.metrics.tokens_per_s <= 4391 * 1.25


def test_llama_cpp_is_not_credited_with_fp8_weights(catalog: Catalog) -> None:
    w = build_workload({**LLAMA70B, "rate": 10, "chip": "h100-sxm", "chips": 2,
                        "framework": "llama-cpp"})  # fmt: skip
    report = recommend(w, catalog)
    assert not report.stacks
    assert any("no fp8 weights" in r for rej in report.rejected for r in rej.reasons)


def test_an_llm_serving_engine_does_not_serve_a_cnn(catalog: Catalog) -> None:
    w = build_workload(dict(task="inference", model_type="vision", params="3.5M",
                            flops_per_sample="0.6G", deploy="edge", rate=30))  # fmt: skip
    frameworks = {s.components.framework for s in recommend(w, catalog, top=20).stacks}
    assert frameworks and not frameworks & SERVING_ENGINES


def test_rate_is_met_with_few_chips_and_a_wide_enough_group(catalog: Catalog) -> None:
    w = build_workload({**LLAMA70B, "prompt_tokens": 1000, "output_tokens": 1000, "rate": 10,
                        "chip": "h100-sxm", "framework": "vllm"})  # fmt: skip
    top = _top(recommend(w, catalog))
    assert top.metrics.requests_per_s == pytest.approx(10, rel=1e-3)
    assert top.metrics.chips <= 8  # not 281 batch-one replicas
    assert top.layout["tensor_parallel"] >= 2 and top.layout["batch"] > 1


@pytest.mark.parametrize("more", [3, 4, 5])
def test_a_chip_more_never_serves_less(catalog: Catalog, more: int) -> None:
    def served(chips: int) -> float:
        w = build_workload({**LLAMA70B, "prompt_tokens": 1000, "output_tokens": 1000,
                            "rate": 100000, "chip": "h100-sxm", "chips": chips})  # fmt: skip
        return float(_top(recommend(w, catalog)).metrics.tokens_per_s or 0.0)

    assert served(more) >= served(more - 1)


def test_batch_size_caps_the_serving_batch(catalog: Catalog) -> None:
    base = {**LLAMA70B, "rate": 100000, "chip": "h100-sxm", "chips": 2}
    free = _top(recommend(build_workload(base), catalog))
    capped = _top(recommend(build_workload({**base, "batch_size": 8}), catalog))
    assert capped.layout["batch"] == 8 < free.layout["batch"]
    assert capped.metrics.tokens_per_s < free.metrics.tokens_per_s


def test_a_prefill_dominated_request_is_explained_as_prefill(catalog: Catalog) -> None:
    w = build_workload(dict(task="inference", params="8B", prompt_tokens=4096, output_tokens=1))
    top = explain_stack(w, catalog, "h100-sxm:1/-/-/-/vllm").stacks[0]
    assert top.bottleneck.kind == "compute"
    assert top.bottleneck.explanation.startswith("prefill")
    b = top.breakdown
    total = b.compute_s + b.memory_s + b.network_s + b.storage_s + b.host_s - b.overlap_s
    assert total == pytest.approx(top.metrics.latency_s, rel=1e-6)  # the bars sum to the time


def test_mixtral_full_training_does_not_fit_eight_80gb_chips(catalog: Catalog) -> None:
    # Mixtral 8x7B (Jiang et al. 2024): 46.7B parameters; 16 bytes each of mixed-precision Adam
    # states is 747 GB, more than 8 × 80 GB whatever the sharding.
    w = build_workload(dict(task="finetune", finetune_method="full", params="46.7B",
                            active_params="12.9B", layers=32, hidden=4096, heads=32, kv_heads=8,
                            chip="a100-80gb-sxm", chips=8))  # fmt: skip
    assert not recommend(w, catalog).stacks


def test_states_over_chips_are_never_below_the_model_states(catalog: Catalog) -> None:
    w = build_workload(dict(task="train", params="46.7B", active_params="12.9B", layers=32,
                            hidden=4096, heads=32, kv_heads=8, experts=8))  # fmt: skip
    job = build_job(w, catalog)
    for c in pt.candidates(job, 64, 8, frozenset({"data", "tensor", "pipeline", "expert", "zero"})):
        for group in pt.forms(c, [0, 1, 2, 3]):
            for form in group:
                assert pt.smallest_state_fraction(job, form, job.params) >= 1 - 1e-9


def test_expert_parallel_is_bounded_by_the_expert_count(catalog: Catalog) -> None:
    w = build_workload(dict(task="train", params="46.7B", active_params="12.9B", layers=32,
                            hidden=4096, heads=32, kv_heads=8, experts=4))  # fmt: skip
    job = build_job(w, catalog)
    eps = {c.ep for c in pt.candidates(job, 64, 8, frozenset({"data", "tensor", "expert"}))}
    assert max(eps) == 4


def test_a_pinned_expert_parallel_degree_is_never_replaced(catalog: Catalog) -> None:
    # Megatron-Bridge's Qwen3-30B-A3B on 16 H100s runs EP 8 (TP1 PP2): with the pin, shapes whose
    # data-parallel degree cannot hold 8 expert groups are left out, not run at EP 1.
    w = build_workload(dict(task="train", model="qwen3-30b-a3b", expert_parallel=8))
    job = build_job(w, catalog)
    found = pt.candidates(job, 16, 8, frozenset({"data", "tensor", "pipeline", "expert"}))
    assert found and {c.ep for c in found} == {8}
    w = build_workload(dict(task="train", model="qwen3-30b-a3b", expert_parallel=8, chips=16,
                            chip="h100-sxm", framework="megatron-lm", pipeline_parallel=2))  # fmt: skip
    assert _top(recommend(w, catalog)).layout["expert_parallel"] == 8


def test_cnn_serving_batches_on_one_chip(catalog: Catalog) -> None:
    w = build_workload(dict(task="inference", model_type="vision", params="25M", rate=10000,
                            chip="h100-sxm", framework="tensorrt"))  # fmt: skip
    top = _top(recommend(w, catalog))
    assert top.metrics.chips == 1 and top.layout["batch"] > 1
    assert top.metrics.samples_per_s >= 10000


def test_serving_power_follows_the_load(catalog: Catalog) -> None:
    def power(rate: float) -> float:
        w = build_workload(dict(task="inference", model_type="vision", params="25M", rate=rate,
                                chip="h100-sxm", chips=1, framework="tensorrt"))  # fmt: skip
        return float(_top(recommend(w, catalog)).metrics.power_w)

    assert power(100) < power(5000) < power(12000) * 1.0001


def test_a_usb_accelerators_battery_life_counts_its_host(catalog: Catalog) -> None:
    w = build_workload(dict(task="inference", model_type="vision", params="3.5M",
                            flops_per_sample="0.6G", deploy="edge", rate=30, battery="50Wh",
                            chip="coral-edge-tpu"))  # fmt: skip
    top = _top(recommend(w, catalog))
    assert top.metrics.power_w > 3.0  # the Edge TPU's 2 W plus a Raspberry Pi-class host
    assert top.metrics.battery_hours < 50 / 3.0


def test_tcp_scale_out_costs_host_cpu_in_transformer_training(catalog: Catalog) -> None:
    flags = dict(params="13B", tokens="100B", seq_len=2048, batch_size=512)
    tcp = explain_stack(build_workload(flags), catalog,
                        "h100-sxm:64/nvlink-4/eth-25g-tcp/-/megatron-lm").stacks[0]  # fmt: skip
    rdma = explain_stack(build_workload(flags), catalog,
                         "h100-sxm:64/nvlink-4/ib-ndr/-/megatron-lm").stacks[0]  # fmt: skip
    assert tcp.breakdown.host_s > 0 and rdma.breakdown.host_s == 0


def test_optimize_time_scales_past_the_default_horizon(catalog: Catalog) -> None:
    w = build_workload(dict(params="7B", tokens="1T", chip="b200", optimize="time"))
    top = _top(recommend(w, catalog))
    assert top.metrics.chips >= 256
    assert top.metrics.time_s < 2 * 86400 * 1.5


def test_a_budget_some_plan_meets_is_met(catalog: Catalog) -> None:
    base = dict(params="7B", tokens="100B", chip="h100-sxm")
    cheapest = min(s.metrics.cost_usd for s in recommend(build_workload(base), catalog).stacks)
    within = recommend(build_workload({**base, "budget": cheapest * 1.01}), catalog)
    assert within.stacks and all(s.metrics.cost_usd <= cheapest * 1.01 for s in within.stacks)


@pytest.mark.parametrize("preset", ["llama-8b-chat", "llama-70b-lora", "dlrm-criteo"])
def test_explain_and_recommend_agree_and_the_relief_is_reproduced(
    catalog: Catalog, preset: str
) -> None:
    from infra_advisor.presets import load_preset

    w = build_workload(load_preset(preset))
    for stack in recommend(w, catalog, top=2).stacks:
        again = explain_stack(w, catalog, stack.id).stacks[0]
        assert again.metrics == stack.metrics
        assert again.bottleneck.relief == stack.bottleneck.relief
        relief = stack.bottleneck.relief_detail
        if (
            relief is None
            or relief.stack is None
            or relief.component in ("precision", "finetune_method")
        ):
            continue
        after = explain_stack(w, catalog, relief.stack).stacks[0]
        assert getattr(after.metrics, relief.metric) == pytest.approx(relief.after_value)


def test_halo_counts_distinct_remote_neighbours_not_cut_edges() -> None:
    from infra_advisor.physics import graph as gr

    # Few cut edges: each brings its own remote node; many: every remote node once (PowerGraph's
    # occupancy argument, Gonzalez et al. OSDI 2012 §5.2).
    assert gr.halo_bytes(1e3, 0.5, 128, 2, remote_nodes=1e9) == pytest.approx(500 * 256, rel=1e-3)
    assert gr.halo_bytes(1e9, 0.5, 128, 2, remote_nodes=1e6) == pytest.approx(1e6 * 256, rel=1e-3)


def test_recommender_all_to_all_moves_pooled_vectors(catalog: Catalog) -> None:
    # MLPerf DLRM-DCNv2 (multi-hot Criteo 1TB): 26 tables, 214 lookups a sample; the all-to-all
    # carries one pooled vector per table, 26/214 of the lookup bytes.
    base = dict(task="train", model_type="recsys", params="50M", embedding_rows="200M",
                embedding_dim=128, batch_size=65536)  # fmt: skip
    stack = "h100-sxm:8/nvlink-4/-/-/torchrec"

    def a2a(lookups: int) -> float:
        top = explain_stack(build_workload({**base, "lookups_per_sample": lookups}), catalog, stack)
        term = next(t for t in top.stacks[0].terms if t.name == "embedding all-to-all per step")
        return float(term.inputs["bytes"])

    assert a2a(214) == pytest.approx(a2a(26))


def test_training_breakdown_sums_to_the_time_per_step(catalog: Catalog) -> None:
    import math

    w = build_workload(dict(params="13B", tokens="100B", seq_len=2048, batch_size=512))
    top = explain_stack(w, catalog, "h100-sxm:64/nvlink-4/ib-ndr/-/megatron-lm").stacks[0]
    b = top.breakdown
    bars = b.compute_s + b.memory_s + b.network_s + b.storage_s + b.host_s + b.bubble_s
    steps = math.ceil(100e9 / (512 * 2048))
    assert bars - b.overlap_s == pytest.approx(top.metrics.time_s / steps, rel=1e-9)
    assert top.bottleneck.explanation.startswith(("forward and backward", "communication"))


def _reproduce(catalog: Catalog, flags: dict, stack) -> None:  # type: ignore[no-untyped-def,type-arg]
    """explain of the relief's stack, with the relief's workload change, reports its after."""
    relief = stack.bottleneck.relief_detail
    assert relief is not None and relief.stack is not None
    changed = dict(flags)
    if relief.component in ("precision", "kv_precision", "files", "finetune_method"):
        changed[relief.component] = relief.after.replace(",", "")
    after = explain_stack(build_workload(changed), catalog, relief.stack).stacks[0]
    assert getattr(after.metrics, relief.metric) == pytest.approx(relief.after_value)


def test_many_small_files_get_packed_into_shards(catalog: Catalog) -> None:
    flags = dict(task="train", model_type="vision", params="25M", samples="1.28M",
                 dataset_size="150GB", files="1.28M", chip="h100-sxm", chips=8, storage="gcs")  # fmt: skip
    top = _top(recommend(build_workload(flags), catalog))
    assert top.bottleneck.kind == "storage"
    assert top.bottleneck.relief_detail.component == "files"
    _reproduce(catalog, flags, top)


def test_a_kv_bound_server_is_relieved_by_a_smaller_precision(catalog: Catalog) -> None:
    flags = {**LLAMA70B, "precision": "bf16", "prompt_tokens": 2000, "output_tokens": 500,
             "rate": 1e5, "chip": "h100-sxm", "chips": 4, "framework": "vllm"}  # fmt: skip
    top = _top(recommend(build_workload(flags), catalog))
    assert top.bottleneck.kind == "memory_capacity"
    assert top.bottleneck.relief_detail.component in ("precision", "kv_precision")
    _reproduce(catalog, flags, top)


def test_training_search_tries_zero2_micro_batches_and_interleaving(catalog: Catalog) -> None:
    w = build_workload(dict(params="70B", layers=80, hidden=8192, heads=64, kv_heads=8,
                            tokens="1T", seq_len=4096, batch_size=1024))  # fmt: skip
    job = build_job(w, catalog)
    par = frozenset({"data", "tensor", "pipeline", "interleaved_pipeline", "zero"})
    shapes = list(pt.candidates(job, 256, 8, par))
    assert {c.micro_batch for c in shapes} >= {1, 2, 4}
    assert 2 in {c.virtual for c in shapes if c.pp > 1}
    light, heavy = pt.forms(next(c for c in shapes if c.dp > 1), pt.zero_stages(par))
    assert {c.zero for c in light} >= {0, 1, 2} and {c.zero for c in heavy} == {3}
    # Interleaving only where the framework has it (Megatron-LM does, PyTorch's list does not).
    plain = frozenset({"data", "tensor", "pipeline", "zero"})
    assert {c.virtual for c in pt.candidates(job, 256, 8, plain)} == {1}
    assert "interleaved_pipeline" in catalog.frameworks["megatron-lm"].parallelism


def test_a_named_model_drives_the_physics_with_its_own_architecture(catalog: Catalog) -> None:
    # Llama 3.1 8B (config.json): vocab 128,256 × hidden 4,096 = 525M input-embedding
    # parameters, untied: a lookup, not a matmul, so a token multiplies by 8.03B − 0.525B.
    w = build_workload(dict(model="llama-3.1-8b", task="train", tokens="100B"))
    job = build_job(w, catalog)
    assert job.matmul_active_params == pytest.approx(job.active_params - 128256 * 4096)
    # DeepSeek-V3 (MLA): (kv_lora_rank 512 + qk_rope_head_dim 64) × 61 layers × 1 byte in FP8
    # = 35,136 bytes a token, not the 128-head GQA figure; every TP rank holds the latent.
    serve = build_workload(dict(model="deepseek-v3", task="inference", precision="fp8",
                                prompt_tokens=1000, output_tokens=1000, rate=1e5))  # fmt: skip
    top = explain_stack(serve, catalog, "h200-sxm:8/nvlink-4/-/-/tensorrt-llm").stacks[0]
    kv = next(t for t in top.terms if t.name == "KV cache per token")
    assert kv.value == pytest.approx((512 + 64) * 61 * 1.0)


@pytest.mark.parametrize(
    ("flags", "stack"),
    [
        (dict(task="train", model_type="vision", params="25M", samples="1.28M"),
         "h100-sxm:8/nvlink-4/-/-/pytorch"),
        (dict(task="train", model_type="gnn", nodes="100M", edges="1.6B", node_features=128),
         "h100-sxm:8/nvlink-4/-/-/pyg"),
        (dict(task="train", model_type="recsys", embedding_rows="1B", embedding_dim=128,
              lookups_per_sample=214, params="20M"), "h100-sxm:8/nvlink-4/-/-/torchrec"),
    ],
)  # fmt: skip
def test_every_family_breakdown_sums_to_its_step(catalog: Catalog, flags: dict, stack: str) -> None:  # type: ignore[type-arg]
    top = explain_stack(build_workload(flags), catalog, stack).stacks[0]
    b = top.breakdown
    bars = b.compute_s + b.memory_s + b.network_s + b.storage_s + b.host_s + b.bubble_s
    assert bars - b.overlap_s == pytest.approx(top.metrics.step_time_s, rel=1e-9)


def test_a_server_short_of_its_rate_is_relieved_by_the_sized_count(catalog: Catalog) -> None:
    flags = {**LLAMA70B, "prompt_tokens": 1000, "output_tokens": 1000, "rate": 20}
    top = explain_stack(
        build_workload(flags), catalog, "h100-sxm:2/nvlink-4/-/-/tensorrt-llm"
    ).stacks[0]
    relief = top.bottleneck.relief_detail
    assert top.metrics.requests_per_s < 20
    assert relief is not None and relief.component == "chips" and int(relief.after) > 4
    assert relief.after_value == pytest.approx(20, rel=1e-3)  # the solver's count meets the rate
    _reproduce(catalog, flags, top)


def test_an_edge_answer_shows_power_and_battery_hours_and_a_readable_size(catalog: Catalog) -> None:
    from typer.testing import CliRunner

    from infra_advisor.interface.cli import app

    flags = ["recommend", "--task", "inference", "--model", "mobilenetv2", "--deploy", "edge",
             "--rate", "30", "--battery", "50Wh", "--format", "markdown"]  # fmt: skip
    out = CliRunner().invoke(app, flags).stdout
    assert "| power | battery |" in out and " h |" in out
    table = CliRunner().invoke(app, [*flags[:-2], "--format", "table"]).stdout
    assert "3.5M params" in table


@pytest.mark.parametrize(
    ("preset", "headers"),
    [("llama-8b-chat", ("tokens/s", "TTFT", "per token", "$/M tokens")),
     ("llama-70b-lora", ("time", "cost", "MFU"))],
)  # fmt: skip
def test_the_ranking_shows_what_matters_for_the_task(preset: str, headers: tuple[str, ...]) -> None:
    from typer.testing import CliRunner

    from infra_advisor.interface.cli import app

    out = CliRunner().invoke(app, ["recommend", "--preset", preset, "--format", "markdown"]).stdout
    header = next(line for line in out.splitlines() if line.startswith("| # |"))
    assert all(f"| {h} |" in header for h in ("chips", *headers)), header


def test_a_named_models_head_width_sets_attention_flops(catalog: Catalog) -> None:
    # gpt-oss-20b (config.json): 64 heads of head_dim 64 = 4,096 over a hidden size of 2,880.
    job = build_job(build_workload(dict(model="gpt-oss-20b", task="train", tokens="1B")), catalog)
    assert job.shape.attention_width == 64 * 64 and job.shape.hidden == 2880
    derived = build_job(build_workload(dict(params="7B", task="train", tokens="1B")), catalog)
    assert derived.shape.attention_width == derived.shape.hidden  # hidden / heads otherwise


def test_a_rate_a_power_budget_rules_out_leaves_the_largest_count_that_runs(
    catalog: Catalog,
) -> None:
    # 10 requests/s of a 1.5B model is far beyond one 15 W Jetson Orin Nano, and more boards
    # break the budget: the answer is the board short of the rate, never a rejection without a
    # reason.
    w = build_workload(dict(task="inference", params="1.5B", rate=10, deploy="edge",
                            power_budget="15W", chip="jetson-orin-nano-8gb"))  # fmt: skip
    report = recommend(w, catalog)
    assert all(rej.reasons for rej in report.rejected)
    top = _top(report)
    assert top.metrics.power_w <= 15 and top.metrics.requests_per_s < 10


ORIN_LLM = dict(task="inference", params="1.5B", rate=10, deploy="edge",
                chip="jetson-agx-orin-64gb", chips=1)  # fmt: skip


def test_a_power_budget_below_board_power_runs_the_part_in_a_capped_mode(catalog: Catalog) -> None:
    # NVIDIA's nvpmodel modes for the AGX Orin 64GB: 15 / 30 / 50 W and MAXN (60 W).  A 15 W
    # budget runs it in MODE_15W (GPU 408 of 1,300 MHz, 3 of 8 TPCs): the stack fits the budget
    # and serves less than at full power, and says so.
    capped = _top(recommend(build_workload({**ORIN_LLM, "power_budget": "15W"}), catalog))
    full = _top(recommend(build_workload(ORIN_LLM), catalog))
    assert capped.layout["power_mode"] == "15W" and "power_mode" not in full.layout
    assert capped.metrics.power_w <= 15 < full.metrics.power_w
    assert capped.metrics.tokens_per_s < full.metrics.tokens_per_s
    assert any("15W power mode" in n and "3 of 8 TPCs" in n for n in capped.notes)
    # More budget never serves less: each mode up to MAXN serves at least what the one below does.
    served = [
        _top(
            recommend(build_workload({**ORIN_LLM, "power_budget": b}), catalog)
        ).metrics.tokens_per_s
        for b in ("15W", "30W", "50W", "60W")
    ]
    assert served == sorted(served) and served[0] < served[-1]
    # explain of the capped stack gives the same numbers as recommend.
    w = build_workload({**ORIN_LLM, "power_budget": "15W"})
    explained = explain_stack(w, catalog, capped.id).stacks[0]
    assert explained.metrics.tokens_per_s == capped.metrics.tokens_per_s


def test_a_budget_under_every_power_mode_is_rejected_with_the_lowest_mode(catalog: Catalog) -> None:
    report = recommend(build_workload({**ORIN_LLM, "power_budget": "10W"}), catalog)
    assert not report.stacks
    reasons = " ".join(r for rej in report.rejected for r in rej.reasons)
    assert "the power budget is 10 W (its lowest power mode is 15 W)" in reasons


def test_an_edge_board_with_a_purchase_price_costs_its_price_over_its_service_life(
    catalog: Catalog,
) -> None:
    # $399 (NVIDIA's Jetson FAQ, 2026-09-28: the Orin Nano Super developer kit; $249 at launch)
    # over 5 years: $0.0091 per hour (F17b), plus its electricity at PUE 1 (a device, F17c).
    w = build_workload(dict(task="inference", params="100M", rate=1, deploy="edge",
                            chip="jetson-orin-nano-8gb"))  # fmt: skip
    top = _top(recommend(w, catalog))
    power = top.metrics.energy_kwh * catalog.efficiency["electricity-price"].value
    assert top.metrics.cost_usd == pytest.approx(399 / (5 * 8766) + power, rel=1e-3)
    assert not any("no public price" in n or "prices it" in n for n in top.notes)


def test_consumer_cards_are_never_joined_over_an_rdma_fabric(catalog: Catalog) -> None:
    # NVIDIA's GPUDirect RDMA is for data-center and professional GPUs: eight RTX 4090s in two
    # boxes talk over Ethernet without RDMA, never InfiniBand XDR.
    w = build_workload(dict(model="llama-3.1-70b", task="inference", rate=1, chip="rtx-4090"))
    top = _top(recommend(w, catalog))
    link = top.components.scale_out
    assert link is None or not catalog.interconnects[link].rdma


def test_llama_cpp_fits_what_it_runs_on_a_16_gb_card(catalog: Catalog) -> None:
    # XiongjieDai's GPU-Benchmarks-on-LLM-Inference README: Llama 3 8B in F16 runs on one
    # RTX 4080 16GB under llama.cpp (40.58 tokens/s). llama.cpp holds back no utilisation
    # share and only a CUDA context, so it fits; vLLM's 0.92 share and 1.5 GB overhead do not.
    base = dict(model="llama-3.1-8b", task="inference", precision="fp16", batch_size=1,
                prompt_tokens=512, output_tokens=512, deploy="onprem", chip="rtx-4080",
                chips=1)  # fmt: skip
    fits = recommend(build_workload({**base, "framework": "llama-cpp"}), catalog)
    assert fits.stacks and fits.stacks[0].metrics.tokens_per_s > 0
    refused = recommend(build_workload({**base, "framework": "vllm"}), catalog)
    assert not refused.stacks


def test_compare_applies_the_chip_rules_explain_does(catalog: Catalog) -> None:
    # A Jetson for a cloud workload breaks the deploy rule: explain refuses it, and so does
    # compare (one pinned-stack evaluation, one set of rules), while the H100 stack is ranked.
    from infra_advisor.search.engine import compare_stacks

    w = build_workload(dict(model="llama-3.1-8b", task="inference", rate=1))
    edge = "jetson-agx-orin-64gb:1/-/-/edge-nvme/tensorrt-llm"
    cloud = "h100-sxm:1/-/-/local-nvme-gen5/tensorrt-llm"
    assert not explain_stack(w, catalog, edge).stacks
    report = compare_stacks(w, catalog, [edge, cloud])
    assert [s.components.chip.id for s in report.stacks] == ["h100-sxm"]
    assert any("edge part" in r for rej in report.rejected for r in rej.reasons)


def test_a_smaller_micro_batch_without_recomputation_is_costed(catalog: Catalog) -> None:
    """A larger micro-batch that fits only with recomputation does not hide a smaller one that
    fits without it (recomputation is a third more compute): QLoRA of a 70B on 8 B200s runs
    data parallel at a micro-batch of 2 without recomputation, not 4 with it."""
    w = build_workload(dict(model="llama-3.1-70b", task="finetune", finetune_method="qlora",
                            tokens="100M", offering="lambda-gpu-8x-b200-sxm6", chips=8,
                            framework="unsloth"), catalog=catalog)  # fmt: skip
    top = _top(recommend(w, catalog))
    assert top.layout["data_parallel"] == 8 and top.layout["recompute"] == "none"
    # The enumerator keeps, per shape, the largest micro-batch without recomputation and,
    # only where it allows a larger one, the largest with it.
    job = build_job(w, catalog)
    trainable = pt.tf.lora_params(job.shape)
    for free in (60e9, 100e9, 150e9):
        fits, _ = pt.fitting_layouts(job, 8, 8, frozenset({"data"}), trainable, free)
        plain = [c.micro_batch for c, _ in fits if not c.recompute]
        again = [c.micro_batch for c, _ in fits if c.recompute]
        assert len(plain) <= 1 and len(again) <= 1
        assert not (plain and again) or again[0] > plain[0]


def test_qlora_on_the_cheapest_hardware_runs_on_the_qlora_stack(catalog: Catalog) -> None:
    """The 70B QLoRA-cheapest question: one 96 GB GPU with Hugging Face PEFT + bitsandbytes
    (the QLoRA paper's own stack, `peft_maturity` reference), not a TPU-first trainer whose
    QLoRA a release note announces; where estimates tie, the method's maturity decides."""
    w = build_workload(dict(model="llama-3.1-70b", task="finetune", finetune_method="qlora",
                            tokens="100M", optimize="cost"), catalog=catalog)  # fmt: skip
    report = recommend(w, catalog)
    top = _top(report)
    assert top.components.framework in {"pytorch", "unsloth"}
    assert top.components.chip.count == 1
    gpu_stacks = [s for s in report.stacks if catalog.chips[s.components.chip.id].type == "gpu"]
    assert all(
        s.components.framework != "maxtext" for s in gpu_stacks if s.components.chip.count == 1
    )


def test_a_128k_context_stage_splits_its_sequences_over_context_parallel_ranks(
    catalog: Catalog,
) -> None:
    """Llama 3 405B's long-context stage: 16,384 H100s at 131,072 tokens ran TP8 CP16 PP16 at
    380 TFLOPs/GPU, 38% MFU (Dubey et al. 2024, arXiv 2407.21783, Table 4, row 3).  Without
    context parallelism each of 128 replicas held one sequence and a pipeline bubble ate 93%
    of the step (MFU 3.6%); with it the estimate lands within ×1.5 of the measured 38%."""
    w = build_workload(dict(params="405B", layers=126, hidden=16384, heads=128, kv_heads=8,
                            tokens="800B", batch_size=128, seq_len=131072, chip="h100-sxm",
                            chips=16384, interconnect="roce-400g", framework="pytorch",
                            optimize="time"))  # fmt: skip
    top = _top(recommend(w, catalog))
    assert top.layout["context_parallel"] > 1
    assert 0.38 / 1.5 <= top.metrics.mfu <= 0.38 * 1.5
    job = build_job(w, catalog)
    par = frozenset(catalog.frameworks["pytorch"].parallelism)
    shapes = pt.candidates(job, 16384, 8, par)
    assert {c.cp for c in shapes} >= {1, 16, 32}
    assert all(c.cp == 1 or 131072 // c.cp >= pt.CP_MIN_CHUNK for c in shapes)
    for c in shapes[::97]:
        assert pt.smallest_state_fraction(job, c, job.params) >= 1 - 1e-9


def test_a_pinned_micro_batch_is_the_only_one_searched(catalog: Catalog) -> None:
    # Megatron Bridge's GPT-OSS-120B on 64 H100s runs MBS 4 with PP 4 (performance-summary.md,
    # 25.11 container): with the pin, its 8 micro-batches a replica and their bubble are costed.
    flags = dict(task="train", model="gpt-oss-120b", tokens="100B", seq_len=4096, batch_size=512,
                 chip="h100-sxm", chips=64, framework="megatron-lm", tensor_parallel=1,
                 pipeline_parallel=4, expert_parallel=8)  # fmt: skip
    job = build_job(build_workload(flags | {"micro_batch": 4}), catalog)
    shapes = list(pt.candidates(job, 64, 8, frozenset({"data", "pipeline", "expert"})))
    assert shapes and {c.micro_batch for c in shapes} == {4}
    pinned = _top(recommend(build_workload(flags | {"micro_batch": 4}), catalog))
    free = _top(recommend(build_workload(flags), catalog))
    assert pinned.layout["micro_batch"] == 4 and pinned.layout["micro_batches"] == 8
    assert free.layout["micro_batch"] < 4  # more micro-batches, a smaller bubble
    assert pinned.breakdown.bubble_s > free.breakdown.bubble_s
    # A micro-batch the batch per replica cannot divide into leaves no layout, and says why.
    odd = recommend(build_workload(flags | {"micro_batch": 3}), catalog)
    assert not odd.stacks and "no parallel layout" in odd.rejected[0].reasons[0]


def test_dropless_moe_exposes_each_local_experts_launches(catalog: Catalog) -> None:
    # Megatron-Core syncs each MoE layer's token counts to the host, then launches every local
    # expert's kernels (token_dispatcher.py): per step m × MoE layers / p × experts a rank × the
    # per-expert launch time (efficiency moe-expert-launch).
    flags = dict(task="train", model="qwen3-30b-a3b", tokens="100B", seq_len=4096, batch_size=512,
                 chip="b200", chips=8, framework="megatron-lm", micro_batch=1)  # fmt: skip
    w = build_workload(flags | {"expert_parallel": 8})
    top = _top(recommend(w, catalog))
    job = build_job(w, catalog)
    per_expert = job.eff["moe-expert-launch"]
    m = top.layout["micro_batches"]
    assert m == 64 and top.layout["expert_parallel"] == 8 and top.layout["recompute"] == "none"
    assert top.breakdown.host_s == pytest.approx(m * 48 * (128 / 8) * per_expert)
    assert top.bottleneck.kind == "host"
    assert (
        "16 experts" in top.bottleneck.explanation
        and "64 micro-batches" in top.bottleneck.explanation
    )
    # Fewer experts a rank (EP 4 → 32 a rank) launch more; a framework without the sync none.
    wider = _top(recommend(build_workload(flags | {"expert_parallel": 4}), catalog))
    assert wider.breakdown.host_s == pytest.approx(2 * top.breakdown.host_s, rel=1e-9)
    assert not catalog.frameworks["torchtitan"].moe_expert_launches
    titan = _top(
        recommend(
            build_workload(flags | {"expert_parallel": 8, "framework": "torchtitan"}), catalog
        )
    )
    assert titan.breakdown.host_s == 0.0
    # A dense model has no experts to launch.
    dense = dict(flags, model="llama-3.1-8b")
    assert _top(recommend(build_workload(dense), catalog)).breakdown.host_s == 0.0
