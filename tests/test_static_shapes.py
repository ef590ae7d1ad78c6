"""Neuron serving (F11d, F12c, F13): graphs compiled for one sequence length, attention heads
padded to the tensor-parallel degree, NeuronLink's collective latency, NxD's blockwise expert
matmul and a systolic array's fill, and framework factors stated for mixtures of experts."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from infra_advisor.catalog import Catalog
from infra_advisor.interface.cli import app
from infra_advisor.physics import transformer_serving as ts
from infra_advisor.plan.frameworks import capabilities
from infra_advisor.search.engine import explain_stack
from infra_advisor.workload import build_workload
from tests.helpers import served, term

# huggingface/optimum-neuron benchmark/vllm/single-instance/llama-3.1-8b-trn2 (commit b52f1a3a,
# 2025-10-16): Llama-3.1-8B on one Trainium2, batch 32, SEQUENCE_LENGTH 4096, TP4; guidellm's
# synchronous row (one request at a time) has TTFT 197 ms and 22.1 ms between tokens.
ON_8B = dict(model="llama-3.1-8b", task="inference", precision="bf16", prompt_tokens=1500,
             output_tokens=250, batch_size=32)  # fmt: skip
ON_SPEC = "trainium2:1/-/-/-/optimum-neuron"


def test_a_static_shape_engine_pads_each_prompt_to_its_compiled_length(catalog: Catalog) -> None:
    own = served(catalog, ON_SPEC, **ON_8B)
    compiled = served(catalog, ON_SPEC, **ON_8B, seq_len=4096)
    # Without --seq-len the graphs are compiled for the request itself: prompt + output.
    assert term(own, "time to first token").inputs["s"] == 1750
    assert term(compiled, "time to first token").inputs["s"] == 4096
    assert compiled.metrics.ttft_s > 2 * own.metrics.ttft_s
    # The published synchronous TTFT is a 4,096-token prompt encoding: within x1.25 of it.
    assert 0.197 / 1.25 <= compiled.metrics.ttft_s <= 0.197 * 1.25
    # Every decode step attends over all 4,096 positions of each of the 32 slots.
    assert compiled.metrics.step_time_s > own.metrics.step_time_s
    assert 0.0221 / 2 <= compiled.metrics.step_time_s <= 0.0221
    slot = term(compiled, "largest batch in memory").inputs
    assert slot["context"] == 4096 and slot["utilisation"] == 1.0


def test_an_engine_that_runs_the_requests_shapes_ignores_the_compiled_length(
    catalog: Catalog,
) -> None:
    flags = dict(ON_8B, rate=1e6)
    paged = served(catalog, "h100-sxm:1/-/-/-/vllm", **flags)
    same = served(catalog, "h100-sxm:1/-/-/-/vllm", **flags, seq_len=4096)
    assert same.metrics.tokens_per_s == pytest.approx(paged.metrics.tokens_per_s)


def test_seq_len_shorter_than_the_request_is_refused_naming_the_flag() -> None:
    result = CliRunner().invoke(app, ["recommend", "--model", "llama-3.1-8b", "--task",
                                      "inference", "--prompt-tokens", "1500", "--output-tokens",
                                      "250", "--seq-len", "1024"])  # fmt: skip
    assert result.exit_code == 2
    assert "--seq-len 1024 is shorter than --prompt-tokens + --output-tokens (1750)" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_seq_len_now_applies_to_serving() -> None:
    from infra_advisor.workload import inapplicable_notes

    w = build_workload(dict(ON_8B, seq_len=4096))
    assert not any("--seq-len" in note for note in inapplicable_notes(w))


def test_padded_heads_let_tensor_parallelism_split_forty_heads_sixteen_ways(
    catalog: Catalog,
) -> None:
    # Llama-2-13B has 40 heads; the Neuron documentation's Trn1 table serves it TP32 on 16 chips.
    flags = dict(model="llama-2-13b", task="inference", precision="bf16", prompt_tokens=128,
                 output_tokens=1024, batch_size=1, tensor_parallel=16)  # fmt: skip
    assert (
        served(catalog, "trainium1:16/neuronlink-v2/-/-/neuronx", **flags).layout["tensor_parallel"]
        == 16
    )
    report = explain_stack(
        build_workload(dict(flags, chip="h100-sxm")), catalog, "h100-sxm:16/-/-/-/vllm"
    )
    assert not report.stacks


def test_neuronlink_collectives_match_the_trn1_decode_table(catalog: Catalog) -> None:
    # aws-neuron-sdk about-neuron/benchmarks/trn1/latency_data_decoder.csv (Neuron 2.18,
    # Transformers NeuronX, trn1.32xlarge TP32, batch 1): Llama-2-70b, 128 in / 1,024 out,
    # TPOT p50 25.45 ms; Llama-2-7b, 128 in / 8,064 out, 6.70 ms (held-out rows of round 6).
    for model, out, tpot in (("llama-2-70b", 1024, 0.02545), ("llama-2-7b", 8064, 0.0067)):
        flags = dict(model=model, task="inference", precision="bf16", prompt_tokens=128,
                     output_tokens=out, batch_size=1, tensor_parallel=16)  # fmt: skip
        stack = served(catalog, "trainium1:16/neuronlink-v2/-/-/neuronx", **flags)
        assert tpot / 1.25 <= stack.metrics.tpot_s <= tpot * 1.25, model
    assert catalog.interconnects["neuronlink-v3"].latency_us == 10.0


def test_blockwise_expert_slots_follow_nxd() -> None:
    # neuronx_distributed expert_mlps_v2.forward_blockwise: ceil((T·k − (E−1))/B) + E − 1 blocks.
    # Qwen3-235B-A22B (E 128, top-8) on a 4,096-token prompt: 64 + 127 = 191 blocks of 512.
    assert ts.expert_token_slots(4096, 128, 8, 512) == 191 * 512
    assert ts.expert_token_slots(4096, 128, 8, 0) == 4096 * 8  # plain routing
    assert ts.expert_token_slots(32, 128, 8, 512) == 32 * 128  # T·k < B: every expert
    # Llama-4-Scout (E 16, top-1): 8 + 15 = 23 blocks.
    assert ts.expert_token_slots(4096, 16, 1, 512) == 23 * 512


def test_a_narrow_shard_fills_part_of_the_systolic_array() -> None:
    # Qwen3-235B's 1,536-wide experts over 16 Trainium2 (512 a chip: 4 ranks × 128): 96/512.
    assert ts.tile_utilisation(1536 / 16, 512) == pytest.approx(0.1875)
    assert ts.tile_utilisation(768, 512) == pytest.approx(0.75)
    assert ts.tile_utilisation(8192 / 16, 512) == 1.0
    assert ts.tile_utilisation(100, 0) == 1.0


def test_blockwise_prefill_costs_more_than_plain_routing_and_never_less() -> None:
    m = ts.ServedModel(layers=94, hidden=4096, attention_width=8192, active_params=22e9,
                       params=235e9, weight_bytes=470e9, kv_bytes_per_token=2e5, experts=128,
                       experts_per_token=8, dense_params=8e9, expert_width=1536)  # fmt: skip
    plain = ts.ServingHardware(flops=5e14, memory_bytes_s=2e12)
    nxd = dataclasses.replace(plain, matmul_tile=512, expert_block_tokens=512)
    for tokens in (16, 1500, 4096, 20000):
        a = ts.prefill(m, plain, 16, 1, tokens, tokens).phase("prefill GEMMs")
        b = ts.prefill(m, nxd, 16, 1, tokens, tokens).phase("prefill GEMMs")
        assert a is not None and b is not None and b.compute_s >= a.compute_s


def test_a_factor_stated_for_mixtures_of_experts_leaves_dense_models_alone(
    catalog: Catalog,
) -> None:
    caps = capabilities(catalog.frameworks["optimum-neuron"], catalog.chips["trainium2"])
    assert caps is not None
    assert caps.efficiency("prefill", moe=True) == pytest.approx(0.15)
    assert caps.efficiency("decode", moe=True) == pytest.approx(0.43)
    assert caps.efficiency("prefill") == caps.efficiency("decode") == 1.0
    nxdi = capabilities(catalog.frameworks["neuronx"], catalog.chips["trainium2"])
    assert nxdi is not None and nxdi.efficiency("prefill", moe=True) == 1.0


def test_a_batch_capped_by_the_flag_is_not_blamed_on_memory(catalog: Catalog) -> None:
    flags = dict(ON_8B, batch_size=4, rate=1e6)
    stack = served(catalog, "h100-sxm:1/-/-/-/vllm", **flags)
    assert stack.bottleneck.kind != "memory_capacity"
    assert any("at the batch of 4 that --batch-size 4 allows" in n for n in stack.notes)
    free = {k: v for k, v in ON_8B.items() if k != "batch_size"}
    roomy = served(catalog, "h100-sxm:1/-/-/-/vllm", **dict(free, rate=1e6))
    assert roomy.bottleneck.kind == "memory_capacity"
    assert any("fits in memory left for the KV cache" in n for n in roomy.notes)
