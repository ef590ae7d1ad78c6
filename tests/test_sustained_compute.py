"""Sustained matmul rates (F3c), attention at 16-bit (F3b), evaluation passes (F3d) and the
context-parallel ring's overlap: each against the published figure it comes from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra_advisor.catalog import Catalog, load_catalog
from infra_advisor.job import build_job
from infra_advisor.plan.evaluate import attention_peak, compute_peak, sustained_share
from infra_advisor.workload import Workload, build_workload
from tests.test_bad_input import run_main
from tests.test_catalog_checks import assert_named, chip, line_of, validate


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# The MLPerf Training v5.0 Llama 2 70B LoRA workload (GovReport, seq 8192, global batch 8,
# FP8, 173 validation samples), as AMD ran it on one 8-GPU node with PyTorch (TP1 PP1 CP1).
LORA = [
    "--model", "llama-2-70b", "--task", "finetune", "--finetune-method", "lora",
    "--precision", "fp8", "--seq-len", "8192", "--batch-size", "8", "--tokens", "25.2M",
    "--chips", "8", "--framework", "pytorch", "--top", "1", "--json",
]  # fmt: skip


def _answer(argv: list[str], capsys: Any) -> dict[str, Any]:
    code, out, err = run_main(["recommend", *argv], capsys)
    assert code == 0, err
    answer: dict[str, Any] = json.loads(out)
    return answer


def _top(argv: list[str], capsys: Any) -> dict[str, Any]:
    stack: dict[str, Any] = _answer(argv, capsys)["stacks"][0]
    return stack


def _term(stack: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in stack["terms"] if t["name"] == name)


def test_a_throttling_chip_keeps_its_measured_share_of_peak(catalog: Catalog) -> None:
    # AMD, 'Measuring Max-Achievable FLOPs - Part 2' (rocm.blogs.amd.com), Table 1: MI300X FP8
    # 1,273 TFLOPS sustained of 2,614.9 peak; the H100's MAMF FP8 share is 70.9% (Bekman,
    # ml-engineering, compute/accelerator/README.md).  So its FP8 peak counts x 0.687.
    job = build_job(Workload(task="train", params=7e9, precision="fp8"), catalog)
    mi300x = catalog.chips["mi300x"]
    assert sustained_share(job, mi300x, "fp8", []) == pytest.approx(1273 / 2614.9 / 0.709)
    assert sustained_share(job, mi300x, "bf16", []) == pytest.approx(668.4 / 1307.4 / 0.803)
    # The MI355X has only a BF16 measurement: its FP8 takes the 16-bit share.
    mi355x = catalog.chips["mi355x"]
    assert sustained_share(job, mi355x, "fp8", []) == pytest.approx(1565 / 2516.6 / 0.803)


def test_chips_that_keep_more_than_the_calibration_chips_are_not_credited(
    catalog: Catalog,
) -> None:
    job = build_job(Workload(task="train", params=7e9), catalog)
    # MAMF: A100 SXM 86.9% of BF16 peak, above the H100's 80.3%; both calibrated the efficiencies.
    assert sustained_share(job, catalog.chips["a100-80gb-sxm"], "bf16", []) == 1.0
    assert sustained_share(job, catalog.chips["h100-sxm"], "bf16", []) == 1.0
    # No measurement: as the calibration chips.
    assert sustained_share(job, catalog.chips["tpu-v5p"], "bf16", []) == 1.0


def test_fp8_attention_runs_at_the_16_bit_sustained_rate(catalog: Catalog) -> None:
    job = build_job(Workload(task="train", params=7e9, precision="fp8"), catalog)
    chip, fw = catalog.chips["mi325x"], catalog.frameworks["pytorch"]
    notes: list[str] = []
    precision, peak = compute_peak(job, chip, fw, notes)
    assert precision == "fp8"
    attention = attention_peak(job, chip, precision, peak)
    assert attention == pytest.approx(784.9 / 0.803 * 1e12)
    assert attention < peak
    assert any("sustains 58% of its FP8 peak" in n for n in notes)
    bf16 = build_job(Workload(task="train", params=7e9, precision="bf16"), catalog)
    _, peak16 = compute_peak(bf16, chip, fw, [])
    assert attention_peak(bf16, chip, "bf16", peak16) == peak16


def test_mi300x_trains_lora_at_the_share_of_an_mi325x_that_mlperf_measured(capsys: Any) -> None:
    # MLPerf Training v5.0, AMD/results/MI300X_EPYC_9575F_pytorch and MI325X_EPYC_9575F_pytorch,
    # llama2_70b_lora/result_0.txt MLLOG tracked_stats: 2.028 and 2.730 samples/s.  The two
    # parts have the same CDNA3 peaks; the MI300X's 750 W holds lower clocks under dense
    # matmuls (AMD's max-achievable FLOPs: 1,230 vs 1,464 MHz at FP8).
    mi300x = _top([*LORA, "--chip", "mi300x"], capsys)["metrics"]["samples_per_s"]
    mi325x = _top([*LORA, "--chip", "mi325x"], capsys)["metrics"]["samples_per_s"]
    assert mi300x / mi325x == pytest.approx(2.028 / 2.730, rel=0.15)
    assert mi325x == pytest.approx(2.730, rel=0.25)


def test_an_evaluation_pass_costs_what_mlperf_logged(capsys: Any) -> None:
    # Same MI325X run: five eval_start/eval_stop intervals over 173 samples take 140.9 s in all
    # (28.2 s each) of a 1,279 s run.
    stack = _top(
        [*LORA, "--chip", "mi325x", "--eval-samples", "173", "--eval-every", "614"], capsys
    )
    one = _term(stack, "evaluation pass")
    assert one["inputs"]["passes"] == 5
    assert one["value"] == pytest.approx(28.2, rel=0.25)
    plain = _top([*LORA, "--chip", "mi325x"], capsys)
    added = stack["metrics"]["time_s"] - plain["metrics"]["time_s"]
    assert added == pytest.approx(5 * one["value"], rel=1e-6)
    assert stack["metrics"]["energy_kwh"] > plain["metrics"]["energy_kwh"]


def test_one_evaluation_at_the_end_without_an_interval(capsys: Any) -> None:
    stack = _top([*LORA, "--chip", "mi325x", "--eval-samples", "173"], capsys)
    assert _term(stack, "evaluation pass")["inputs"]["passes"] == 1


def test_evaluation_flags_that_cannot_apply_are_named(capsys: Any) -> None:
    answer = _answer([*LORA, "--chip", "mi325x", "--eval-every", "384"], capsys)
    notes = " ".join(answer["assumptions"])
    assert "--eval-every does not apply without --eval-samples" in notes
    assert not any(t["name"] == "evaluation pass" for t in answer["stacks"][0]["terms"])
    code, out, err = run_main(
        ["recommend", "--preset", "llama-8b-chat", "--eval-samples", "100", "--json"], capsys
    )
    assert code == 0, err
    assert "--eval-samples does not apply to inference: ignored" in out


def test_mfu_is_over_the_datasheet_peak(capsys: Any) -> None:
    stack = _top([*LORA, "--chip", "mi325x"], capsys)
    m = stack["metrics"]
    flops = _term(stack, "FLOPs per token")
    # Useful FLOPs of LoRA: two thirds of full training's 6·P + 6·L·s·h.
    useful = (6 * flops["inputs"]["P_act"] + 6 * 80 * 8192 * 8192) * 2 / 3
    expected = useful * m["tokens_per_s"] / (8 * 2614.9e12)
    assert m["mfu"] == pytest.approx(expected, rel=0.02)


def test_the_compute_explanation_names_attention_at_16_bit(capsys: Any) -> None:
    stack = _top([*LORA, "--chip", "mi325x"], capsys)
    assert "of them attention, at the 16-bit" in stack["bottleneck"]["explanation"]
    term = _term(stack, "compute per step")
    assert term["inputs"]["attention_peak_tflops"] < term["inputs"]["peak_tflops"]


def test_a_ring_that_attention_covers_is_not_exposed(capsys: Any) -> None:
    # NVIDIA NeMo performance summary, 'Long Sequence Performance', Llama 2 7B FP8 at 512K on
    # 512 H100s (TP8 CP16): 549 TFLOPS/GPU; the ring's KV hops overlap attention there.
    stack = _top(
        ["--model", "llama-2-7b", "--task", "train", "--precision", "fp8", "--tokens", "10B",
         "--seq-len", "524288", "--batch-size", "4", "--chip", "h100-sxm", "--chips", "512",
         "--interconnect", "ib-ndr", "--framework", "megatron-lm", "--top", "1", "--json"],
        capsys,
    )  # fmt: skip
    assert stack["layout"]["context_parallel"] > 1
    assert stack["breakdown"]["network_s"] < 0.1 * stack["breakdown"]["compute_s"]
    assert stack["metrics"]["mfu"] == pytest.approx(549 / 1979, rel=0.25)


def test_a_sustained_rate_above_the_peak_is_rejected(tmp_path: Path, capsys: Any) -> None:
    text = chip("matmul_sustained_tflops = { bf16 = 120 }\n")
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'id =')}"
    assert_named(message, where, "test-chip", "matmul_sustained_tflops.bf16")
    assert "exceeds the dense peak 100" in message


def test_a_sustained_rate_needs_its_peak(tmp_path: Path, capsys: Any) -> None:
    text = chip("matmul_sustained_tflops = { fp8 = 50 }\n")
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    assert "matmul_sustained_tflops.fp8: the chip has no fp8 peak" in message


def test_elementwise_traffic_follows_the_layer(catalog: Catalog) -> None:
    from infra_advisor.physics.transformer import elementwise_bytes_per_token_layer
    from infra_advisor.plan.training import elementwise_bytes

    # Llama 2 7B (config.json: hidden 4096, 32 heads of 128, intermediate 11008, SwiGLU).
    job = build_job(build_workload(dict(task="train", model="llama-2-7b")), catalog)
    expected = 6 * (10 * 4096 + 2 * (4096 + 4096) + 3 * 11008)
    assert elementwise_bytes(job) == pytest.approx(expected)
    # A MoE layer moves each token's hidden state to its k experts and back.
    moe = build_job(build_workload(dict(task="train", model="qwen3-30b-a3b")), catalog)
    dense_part = elementwise_bytes_per_token_layer(moe.shape, 0.0, True)
    assert elementwise_bytes(moe) == pytest.approx(dense_part + 6 * (3 * 8 * 768 + 18 * 2048))


def test_mlperf_lora_throughput_with_the_element_wise_kernels(capsys: Any) -> None:
    # MLPerf Training v4.0, NVIDIA/results/eos_ngc24.04_nemo/llama2_70b_lora/result_0.txt MLLOG
    # tracked_stats: 2.155 samples/s on 8 x H100 (NeMo, TP4, FP8), between evaluations.
    stack = _top([*LORA, "--chip", "h100-sxm", "--framework", "megatron-lm"], capsys)
    assert stack["metrics"]["samples_per_s"] == pytest.approx(2.155, rel=0.15)
    ew = _term(stack, "element-wise kernels per step")["value"]
    assert 0 < ew < 0.1 * stack["metrics"]["step_time_s"]


def test_fp4_keeps_the_realised_share_of_its_gain_as_fp8_does(catalog: Catalog) -> None:
    # F3g: FP8 doubles the GEMM peak and FP4 doubles it again, but attention, norms and
    # activation quantisation stay 16-bit, so a step keeps fp8-realised (0.7) of the gain over
    # the 16-bit peak, FP4 as FP8.  B200: BF16 2,250, FP4 9,000 dense; the MAMF table has no FP4
    # row, so both take the chip's 16-bit sustained share (BF16 1,745 / 2,250 over the H100's 80.3%).
    chip, fw = catalog.chips["b200"], catalog.frameworks["tensorrt-llm"]
    job = build_job(build_workload(dict(task="inference", params=7e10, precision="fp4")), catalog)
    precision, peak = compute_peak(job, chip, fw, [])
    assert precision == "fp4"
    bf16 = 2250 * min(1.0, 1745.0 / 2250 / 0.803)
    fp4 = 9000 * min(1.0, 1745.0 / 2250 / 0.803)
    assert peak == pytest.approx((bf16 + (fp4 - bf16) * 0.7) * 1e12)


def test_a_prefill_bound_fp4_serving_run_matches_tensorrt_llm(capsys: Any) -> None:
    # TensorRT-LLM perf-overview.md (commit 00f37686), 'Llama 3.3 70B' table, row 2048/128,
    # column 'B200 TP1 (FP4)': 1,339 output tokens/s, offline (trtllm-bench, infinite rate).
    # A 2,048-token prompt per 128 outputs: prompt encoding, compute-bound, sets the rate.
    stack = _top(
        ["--model", "llama-3.3-70b", "--task", "inference", "--precision", "fp4",
         "--prompt-tokens", "2048", "--output-tokens", "128", "--tensor-parallel", "1",
         "--chip", "b200", "--chips", "1", "--framework", "tensorrt-llm", "--rate", "1e9",
         "--top", "1", "--json"],
        capsys,
    )  # fmt: skip
    assert stack["metrics"]["tokens_per_s"] == pytest.approx(1339, rel=0.2)
