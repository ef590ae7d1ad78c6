"""Convolutional networks served by a compiled engine (TensorRT) and the DLAs beside a Jetson's GPU:
each against the published figure it comes from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_bad_input import run_main
from tests.test_catalog_checks import assert_named, chip, line_of, validate

RESNET50 = [
    "--task", "inference", "--model-type", "vision", "--params", "25.6M",
    "--flops-per-sample", "8.2G", "--bytes-per-sample", "150KB", "--precision", "int8",
    "--framework", "tensorrt", "--chips", "1", "--top", "1", "--json",
]  # fmt: skip


def _stack(argv: list[str], capsys: Any) -> dict[str, Any]:
    code, out, err = run_main(["recommend", *RESNET50, *argv], capsys)
    assert code == 0, err
    stack: dict[str, Any] = json.loads(out)["stacks"][0]
    return stack


def test_tensorrt_serves_resnet50_at_the_share_mlperf_measured(capsys: Any) -> None:
    # MLPerf Inference v4.0 closed, NVIDIA DGX-H100 1 x H100-SXM TensorRT, ResNet-50 Offline:
    # 88,714.3 samples/s (mlperf_log_summary.txt) -- the figure compute-cnn-compiled comes from.
    stack = _stack(["--chip", "h100-sxm", "--batch-size", "2048", "--deploy", "onprem"], capsys)
    assert stack["metrics"]["samples_per_s"] == pytest.approx(88_714.3, rel=0.25)


def test_a_lone_request_on_a_jetson_runs_on_its_gpu_without_the_dlas(capsys: Any) -> None:
    # MLPerf Inference v3.1 closed edge, NVIDIA Orin_TRT ResNet-50 SingleStream: 90th-percentile
    # latency 640,258 ns; NVIDIA's harness uses the DLAs only in Offline (Orin_TRT_MaxQ.json).
    one = _stack(
        ["--chip", "jetson-agx-orin-64gb", "--batch-size", "1", "--deploy", "edge"], capsys
    )
    many = _stack(
        ["--chip", "jetson-agx-orin-64gb", "--batch-size", "64", "--deploy", "edge"], capsys
    )
    assert one["metrics"]["latency_s"] == pytest.approx(640e-6, rel=0.5)
    per_sample_one = one["breakdown"]["compute_s"]
    per_sample_many = many["breakdown"]["compute_s"] / 64
    # GPU alone: 85 of the 137.5 dense INT8 TOPS.
    assert per_sample_one / per_sample_many == pytest.approx(137.5 / 85, rel=1e-6)


def test_a_dla_share_above_the_peak_is_rejected(tmp_path: Path, capsys: Any) -> None:
    text = chip("dla_peak_tflops = { bf16 = 120 }\n")
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'id =')}"
    assert_named(message, where, "test-chip", "dla_peak_tflops.bf16")
    assert "exceeds the dense peak 100" in message


def test_a_gguf_k_quant_is_read_at_its_stated_bits_per_weight(capsys: Any) -> None:
    # llama.cpp's quantize table: Q4_K_M is 4.58 GiB for Llama-3-8B (tools/quantize/quantize.cpp),
    # 4.58 x 2^30 bytes = 4.92 GB, which --bits-per-weight 4.9 reproduces for its 8.03B weights.
    argv = [
        "recommend", "--model", "llama-3.1-8b", "--task", "inference", "--precision", "int4",
        "--bits-per-weight", "4.9", "--prompt-tokens", "1", "--output-tokens", "512",
        "--batch-size", "1", "--chip", "apple-m2-ultra", "--framework", "llama-cpp",
        "--deploy", "onprem", "--top", "1", "--json",
    ]  # fmt: skip
    code, out, err = run_main(argv, capsys)
    assert code == 0, err
    stack = json.loads(out)["stacks"][0]
    weights = next(t for t in stack["terms"] if t["name"] == "weights")
    assert weights["value"] == pytest.approx(4.58 * 2**30, rel=0.01)


@pytest.mark.parametrize("value", ["0", "40", "-4"])
def test_bits_per_weight_out_of_range_is_refused(value: str, capsys: Any) -> None:
    argv = [
        "recommend",
        "--model",
        "llama-3.1-8b",
        "--task",
        "inference",
        f"--bits-per-weight={value}",
    ]
    code, _, err = run_main(argv, capsys)
    assert code == 2
    assert "--bits-per-weight" in err and "Traceback" not in err


def test_a_compiled_engine_copies_the_next_batch_while_one_computes(capsys: Any) -> None:
    # NVIDIA's MLPerf ResNet-50 harness runs input copies on their own streams (gpu_copy_streams
    # 2 in configs/resnet50/Offline): at batch 2048 on an H100 the 307 MB of inputs take less
    # than the 23 ms of compute, so no copy time is left in the step; one request waits for its
    # own input.
    batched = _stack(["--chip", "h100-sxm", "--batch-size", "2048", "--deploy", "onprem"], capsys)
    assert batched["breakdown"]["host_s"] == pytest.approx(50 * 3.4e-6, rel=0.01)
    alone = _stack(["--chip", "h100-sxm", "--batch-size", "1", "--deploy", "onprem"], capsys)
    assert alone["breakdown"]["host_s"] > 50 * 3.4e-6 + 150e3 / 128e9 * 0.5


def test_llama_cpp_splits_a_model_over_two_cards_by_layers(capsys: Any) -> None:
    # llama.cpp's default split mode is layer (pipeline parallelism; tensor is experimental,
    # docs/multi-gpu.md); XiongjieDai's llama-bench table: 2 x RTX 4090, Llama 3 70B Q4_K_M,
    # tg 512 = 19.22 tokens/s, a token passing the two halves in turn.
    argv = [
        "recommend", "--model", "llama-3.1-70b", "--task", "inference", "--precision", "int4",
        "--bits-per-weight", "4.9", "--prompt-tokens", "1", "--output-tokens", "512",
        "--batch-size", "1", "--chip", "rtx-4090", "--chips", "2", "--framework", "llama-cpp",
        "--deploy", "onprem", "--top", "1", "--json",
    ]  # fmt: skip
    code, out, err = run_main(argv, capsys)
    assert code == 0, err
    stack = json.loads(out)["stacks"][0]
    assert stack["layout"]["pipeline_parallel"] == 2
    assert stack["layout"]["tensor_parallel"] == 1
    assert stack["metrics"]["tokens_per_s"] == pytest.approx(19.22, rel=0.25)


def test_eager_pytorch_at_batch_one_is_its_host_dispatching_operators(capsys: Any) -> None:
    # NVIDIA DeepLearningExamples ResNet-50 v1.5 README, 'Inference performance: NVIDIA T4',
    # Mixed Precision Inference Latency: 12.96 ms at batch 1 and 12.82 ms at batch 8 (the host
    # dispatch, launch-overhead-python, set from the same tables' V100 rows, not these).
    argv = ["--chip", "t4", "--deploy", "onprem", "--framework", "pytorch", "--precision", "fp16"]
    base = [a for a in RESNET50 if a not in ("--framework", "tensorrt", "--precision", "int8")]
    code, out, err = run_main(["recommend", *base, *argv, "--batch-size", "1"], capsys)
    assert code == 0, err
    one = json.loads(out)["stacks"][0]
    assert one["metrics"]["latency_s"] == pytest.approx(12.96e-3, rel=0.25)
    assert one["bottleneck"]["kind"] == "host"
