"""Estimators against published figures.  Each test names its source.

The error bands asserted here are the ones stated in docs/methodology.md.
"""

from __future__ import annotations

import pytest

from infra_advisor.catalog import Catalog
from infra_advisor.physics import network, storage, transformer
from infra_advisor.search.engine import explain_stack
from infra_advisor.workload import build_workload

LLAMA3_8B = transformer.Shape(layers=32, hidden=4096, heads=32, kv_heads=8, derived=False)
GPT3 = transformer.Shape(layers=96, hidden=12288, heads=96, kv_heads=96, derived=False)


def test_kv_cache_llama3_8b_is_128_kib_per_token() -> None:
    # Llama 3 8B config (32 layers, 8 KV heads, head dim 128) in bf16: 2·32·8·128·2 B = 128 KiB per token,
    # the worked value in ../shared/reference/estimators.md F8 (llm-analysis, vllm-fit #2).
    assert transformer.kv_bytes_per_token(LLAMA3_8B, 2.0) == 131072


def test_gpt3_training_compute_matches_brown_et_al() -> None:
    # Brown et al. 2020 (arXiv 2005.14165), Table D.1: GPT-3 175B trained on 300B tokens = 3.14e23 FLOPs.
    per_token = transformer.training_flops_per_token(175e9, GPT3, 2048, recompute=False, lora=False)
    assert per_token * 300e9 == pytest.approx(3.14e23, rel=0.03)


def test_zero_paper_model_states() -> None:
    # Rajbhandari et al. 2020 (ZeRO, arXiv 1910.02054), §3.1 and Fig. 1: a 7.5B model with mixed-precision
    # Adam needs 16 bytes/param = 120 GB; ZeRO stage 3 (P_os+g+p) over 64 GPUs holds 1.9 GB per GPU.
    full = transformer.model_state_bytes_per_chip(
        7.5e9, 7.5e9, method="full", tp=1, pp=1, dp=1, zero=0
    )
    assert full == pytest.approx(120e9)
    stage3 = transformer.model_state_bytes_per_chip(
        7.5e9, 7.5e9, method="full", tp=1, pp=1, dp=64, zero=3
    )
    assert stage3 == pytest.approx(1.9e9, rel=0.02)
    stage1 = transformer.model_state_bytes_per_chip(
        7.5e9, 7.5e9, method="full", tp=1, pp=1, dp=64, zero=1
    )
    assert stage1 == pytest.approx(31.4e9, rel=0.01)  # ZeRO Fig. 1: P_os column, 31.4 GB


def test_activation_memory_follows_korthikanti() -> None:
    # Korthikanti et al. 2022 (arXiv 2205.05198), Table 2: with tensor and sequence parallelism and selective
    # recomputation the per-layer activations are 34·s·b·h/t; full recomputation keeps 2·s·b·h/t.
    s, b, h, t = 2048, 1, 12288, 8
    assert transformer.activation_bytes_per_layer(s, b, h, t, recompute=False) == 34 * s * b * h / t
    assert transformer.activation_bytes_per_layer(s, b, h, t, recompute=True) == 2 * s * b * h / t


def test_qlora_base_weights_are_about_half_a_byte() -> None:
    # Dettmers et al. 2023 (QLoRA, arXiv 2305.14314) §2: NF4 with double quantisation costs 0.127 bits of
    # constants per parameter on top of 4 bits; a 65B model's base fits a 48 GB GPU.
    base = transformer.model_state_bytes_per_chip(65e9, 0, method="qlora", tp=1, pp=1, dp=1, zero=0)
    assert 32e9 < base < 34e9


def test_pipeline_bubble_narayanan() -> None:
    # Narayanan et al. 2021 (arXiv 2104.04473) §2.2.1: bubble time fraction (p−1)/m.
    assert transformer.pipeline_bubble_fraction(4, 8) == pytest.approx(3 / 8)
    assert transformer.pipeline_bubble_fraction(1, 8) == 0.0


def test_ring_all_reduce_bus_bandwidth() -> None:
    # NVIDIA nccl-tests PERFORMANCE.md: all-reduce bus bandwidth = algorithm bandwidth × 2(n−1)/n, so at
    # full link speed 1 GB across 8 ranks at 450 GB/s takes 2·7/8·1e9/450e9 s.
    t = network.all_reduce_time(1e9, 8, 450e9, 0.0, 1.0)
    assert t == pytest.approx(2 * 7 / 8 * 1e9 / 450e9)
    assert network.all_reduce_time(1e9, 1, 450e9, 1e-6, 1.0) == 0.0


def test_critical_batch_h100() -> None:
    # estimators.md F10/F11 (LLM-Viewer roofline; llm-analysis pivot): H100 SXM ridge ≈ 989e12/3.35e12 ≈ 295
    # FLOP/byte, so bf16 decode turns compute-bound near a batch of 295.
    assert transformer.critical_batch(989.4e12, 3.35e12, 2.0) == pytest.approx(295, rel=0.01)


def test_checkpoint_size_fourteen_bytes_per_parameter() -> None:
    # estimators.md F20 (derived from F6; MLPerf Storage checkpointing workloads): bf16 weights + fp32
    # master, m and v = 14 bytes per parameter; Llama 3 405B ≈ 5.7 TB.
    assert storage.checkpoint_bytes(405e9, 405e9, full_states=True) == pytest.approx(5.67e12)


def _explain(catalog: Catalog, stack: str, **flags: object):  # type: ignore[no-untyped-def]
    report = explain_stack(build_workload(flags), catalog, stack)
    assert report.stacks, report.rejected
    return report.stacks[0]


def test_llama2_7b_decode_latency_within_stated_band(catalog: Catalog) -> None:
    # NVIDIA NeMo Framework performance docs, "Llama-2 Results / Inference Performance":
    # Llama-2-7B, batch 1, 128 input and 20 output tokens, TP1: average latency 153.8 ms on H100 80GB
    # HBM3 and 234.0 ms on A100 80GB SXM4.
    # https://docs.nvidia.com/nemo-framework/user-guide/latest/performance/llama.html
    shape = dict(
        task="inference",
        params="6.74B",
        layers=32,
        hidden=4096,
        heads=32,
        kv_heads=32,
        prompt_tokens=128,
        output_tokens=20,
    )
    for chip, measured in (("h100-sxm", 0.1538), ("a100-80gb-sxm", 0.2340)):
        stack = _explain(catalog, f"{chip}:1/-/-/-/tensorrt-llm", **shape)
        ratio = stack.metrics.latency_s / measured
        assert 1 / 1.5 <= ratio <= 1.5, (chip, ratio)
        assert stack.bottleneck.kind == "memory_bandwidth"


def test_llama3_405b_gpu_hours_within_stated_band(catalog: Catalog) -> None:
    # Llama 3.1 model card: 405B pre-training used 30.84M H100-80GB GPU-hours, on up to 16K GPUs
    # (Dubey et al. 2024, arXiv 2407.21783, §3.3). 15.6T tokens, 8K context, 16M-token batches.
    # https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md
    stack = _explain(
        catalog,
        "h100-sxm:16384/nvlink-4/ib-ndr/-/megatron-lm",
        params="405B",
        layers=126,
        hidden=16384,
        heads=128,
        kv_heads=8,
        tokens="15.6T",
        seq_len=8192,
        batch_size=2048,
    )
    ratio = stack.metrics.chip_hours / 30.84e6
    assert 1 / 1.5 <= ratio <= 1.5, ratio


def test_megascale_175b_mfu_within_stated_band(catalog: Catalog) -> None:
    # Jiang et al. 2024 (MegaScale, arXiv 2402.15627): 55.2% MFU training a 175B model on 12,288 GPUs
    # (GPT-3 shape; 2048-token sequences, 6144-sequence batches).
    stack = _explain(
        catalog,
        "a100-80gb-sxm:12288/nvlink-3/ib-hdr/-/megatron-lm",
        params="175B",
        layers=96,
        hidden=12288,
        heads=96,
        kv_heads=96,
        tokens="300B",
        seq_len=2048,
        batch_size=6144,
        deadline="1y",
    )
    assert stack.metrics.mfu is not None
    ratio = stack.metrics.mfu / 0.552
    assert 1 / 1.5 <= ratio <= 1.5, ratio


def test_memory_fit_facts(catalog: Catalog) -> None:
    # Llama 3 paper §6.2 (arXiv 2407.21783): 405B in BF16 does not fit one 8×H100 server; FP8 lets it.
    base = dict(task="inference", params="405B", layers=126, hidden=16384, heads=128, kv_heads=8)
    bf16 = explain_stack(build_workload(base), catalog, "h100-sxm:8/nvlink-4/-/-/tensorrt-llm")
    assert not bf16.stacks and "holds" in " ".join(bf16.rejected[0].reasons)
    fp8 = explain_stack(
        build_workload({**base, "precision": "fp8"}),
        catalog,
        "h100-sxm:8/nvlink-4/-/-/tensorrt-llm",
    )
    assert fp8.stacks
    # A 70B model in 16-bit needs 140 GB: not one 80 GB GPU (cursor.com "Inference characteristics of
    # Llama-2": two 80 GB A100s are the minimum for Llama-2-70B at 16-bit).
    one = explain_stack(
        build_workload(dict(task="inference", params="70B")), catalog, "a100-80gb-sxm:1/-/-/-/vllm"
    )
    assert not one.stacks
    two = explain_stack(
        build_workload(
            dict(
                task="inference",
                params="70B",
                layers=80,
                hidden=8192,
                heads=64,
                kv_heads=8,
                prompt_tokens=512,
                output_tokens=128,
            )
        ),
        catalog,
        "a100-80gb-sxm:2/nvlink-3/-/-/vllm",
    )
    assert two.stacks


def test_power_mode_shares_reproduce_nvidias_orin_nano_super_figures() -> None:
    # NVIDIA Technical Blog, "NVIDIA Jetson Orin Nano Developer Kit Gets a 'Super' Boost"
    # (Dec 2024): the same module at the new clocks goes from 40 to 67 INT8 TOPS (sparse) as
    # the GPU goes from 625 to 1,020 MHz, and from 68 to 102 GB/s as memory goes from 2,133 to
    # 3,200 MHz.  F22c: compute ∝ GPU clock, bandwidth ∝ memory clock.
    from infra_advisor.physics.power import amortised_hourly, mode_shares

    compute, memory = mode_shares(625, 2133, 1020, 3200)
    assert 67 * compute == pytest.approx(40, rel=0.05)
    assert 102 * memory == pytest.approx(68, rel=0.01)
    # F17b by hand: a $249 board over 5 years = 249 / (5 × 8,766 h) = $0.00568 per hour.
    assert amortised_hourly(249, 5) == pytest.approx(0.005681, rel=1e-3)


def test_emulated_accelerators_draw_their_demand_while_storage_keeps_up() -> None:
    # MLPerf Storage v1.0, DDN AI400X2T with 18 clients, unet3d-h100: 36 emulated H100s, each
    # computing 0.323 s on a batch of 7 files of 146,600,628 bytes (DLIO unet3d_h100.yaml,
    # github.com/mlcommons/storage v1.0); the run measured 99,017.79 MiB/s (mlperf_storage_report.json,
    # storage_results_v1.0 Closed/DDN) and passes only at >= 90% accelerator utilisation.
    step_bytes = 36 * 7 * 146_600_628
    rate = storage.delivered_read_rate(step_bytes, read_s=0.2, compute_s=0.323)
    measured = 99_017.79 * 2**20
    assert rate == pytest.approx(step_bytes / 0.323)
    assert 0.90 <= measured / rate <= 1.0
    # Once storage is slower than the compute, the accelerators wait and draw the storage's rate.
    assert storage.delivered_read_rate(step_bytes, read_s=1.0, compute_s=0.323) == step_bytes
    assert storage.exposed_read_s(1.0, 0.323) == pytest.approx(0.677)
    assert storage.exposed_read_s(0.2, 0.323) == 0.0


def test_a_sharded_feature_store_serves_each_device_one_shard_of_its_minibatch() -> None:
    # NVIDIA's MLPerf Training R-GAT shards the IGBH features over every GPU by node id
    # (WG_SHARDING_LOCATION=cuda in its v4.0 config); the sampled nodes come from the whole graph,
    # so on 512 GPUs all but 1/512 of them are fetched from another GPU, on one device none.
    from infra_advisor.physics import graph

    assert graph.remote_feature_share(512) == pytest.approx(511 / 512)
    assert graph.remote_feature_share(8) == pytest.approx(7 / 8)
    assert graph.remote_feature_share(1) == 0.0


def test_small_all_reduces_over_many_ranks_take_the_tree() -> None:
    # NCCL runs double binary trees (Sanders, Speck & Träff 2009; NCCL 2.4) where a ring's
    # 2·(n−1) latency steps would dominate: 128 ranks, 8 KB, 5 µs per hop.
    bw, lat = 50e9, 5e-6
    ring = 2 * 127 / 128 * 8e3 / bw + 2 * 127 * lat
    tree = 2 * 8e3 / bw + 2 * 7 * lat
    assert network.all_reduce_time(8e3, 128, bw, lat, 1.0) == pytest.approx(min(ring, tree))
    assert network.all_reduce_time(8e3, 128, bw, lat, 1.0) == pytest.approx(tree)
    # A large gradient bucket keeps the bandwidth-optimal ring (nccl-tests' bus bandwidth).
    big = 4e9
    assert network.all_reduce_time(big, 8, bw, lat, 1.0) == pytest.approx(
        2 * 7 / 8 * big / bw + 2 * 7 * lat
    )


def test_latent_attention_runs_over_its_expanded_heads_then_its_latent() -> None:
    # DeepSeek-R1 config.json: qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128,
    # kv_lora_rank 512 (DeepSeek-V2 §2.1.2: decode absorbs the up-projections, so its scores run
    # over the 576-wide cached latent and its values over the 512-wide latent).
    from infra_advisor.catalog import load_catalog
    from infra_advisor.model_params import attention_head_widths

    model = load_catalog().models["deepseek-r1"]
    assert attention_head_widths(model) == ((128 + 64 + 128) // 2, (2 * 512 + 64) // 2)
    llama = load_catalog().models["llama-3.1-8b"]
    assert attention_head_widths(llama) == (128, 128)
