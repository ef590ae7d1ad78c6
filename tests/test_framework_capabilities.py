"""Framework capability data in the shipped catalog: what each runtime really runs.

Each assertion is a fact checked against the framework's own documentation (the URLs are in the
entry's ``sources``; ``notes`` say what each claim rests on).
"""

from __future__ import annotations

import datetime as dt

import pytest

from infra_advisor.catalog import Catalog, load_catalog
from infra_advisor.models import Framework, RunsOn

SIXTEEN_BIT = {"fp16", "bf16"}
# LLM serving engines with iteration-level (in-flight) scheduling and a paged KV cache.
PAGED_CONTINUOUS = ("vllm", "tensorrt-llm", "sglang")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def frameworks(catalog: Catalog) -> dict[str, Framework]:
    return catalog.frameworks


def test_llama_cpp_has_no_fp8_weights_or_kv(frameworks: dict[str, Framework]) -> None:
    # GGUF has F32/F16/BF16, Q8_0, Q4_*/K-quants/IQ and MXFP4/NVFP4 - no FP8 type.
    llama = frameworks["llama-cpp"]
    assert "fp8" not in llama.weight_precisions
    assert "fp8" not in llama.kv_precisions
    assert {"fp16", "bf16", "int8", "int4"} <= set(llama.weight_precisions)
    # --cache-type-k/v: f32, f16, bf16, q8_0, q4_0, ...
    assert {"fp16", "int8", "int4"} <= set(llama.kv_precisions)
    for row in llama.runs_on:
        assert "fp8" not in (row.weight_precisions or [])


@pytest.mark.parametrize("framework_id", PAGED_CONTINUOUS)
def test_llm_engines_batch_continuously_with_paged_kv(
    frameworks: dict[str, Framework], framework_id: str
) -> None:
    engine = frameworks[framework_id]
    assert engine.batching == "continuous"
    assert {"paged_kv", "chunked_prefill", "prefix_caching", "speculative_decoding"} <= set(
        engine.serving_features
    )
    assert "fp8" in engine.kv_precisions
    assert "fp8" in engine.activation_precisions  # FP8 GEMMs (W8A8) on Hopper-class GPUs


def test_llama_cpp_server_slots_are_continuous_but_not_paged(
    frameworks: dict[str, Framework],
) -> None:
    llama = frameworks["llama-cpp"]
    assert llama.batching == "continuous"  # server README: continuous batching, parallel slots
    assert "paged_kv" not in llama.serving_features


@pytest.mark.parametrize("framework_id", ["onnxruntime", "pytorch", "tensorrt", "litert"])
def test_runtimes_without_iteration_scheduling_are_not_continuous(
    frameworks: dict[str, Framework], framework_id: str
) -> None:
    framework = frameworks[framework_id]
    assert framework.batching in ("static", None)
    assert "paged_kv" not in framework.serving_features


def test_every_kv_list_holds_a_16_bit_type(frameworks: dict[str, Framework]) -> None:
    for framework in frameworks.values():
        if framework.kv_precisions:
            assert SIXTEEN_BIT & set(framework.kv_precisions), framework.id
        for row in framework.runs_on:
            if row.kv_precisions:
                assert SIXTEEN_BIT & set(row.kv_precisions), (framework.id, row.type, row.vendor)


def test_every_efficiency_row_has_an_https_source_and_a_measurement(
    frameworks: dict[str, Framework],
) -> None:
    for framework in frameworks.values():
        for row in framework.efficiency:
            assert row.source.startswith("https://"), framework.id
            assert row.measurement.strip(), framework.id
            assert row.factor > 0, framework.id


def test_runs_on_overrides_stay_within_the_framework_precisions(
    frameworks: dict[str, Framework],
) -> None:
    for framework in frameworks.values():
        allowed = set(framework.precisions)
        for field in ("weight_precisions", "activation_precisions", "kv_precisions"):
            assert set(getattr(framework, field)) <= allowed, (framework.id, field)
        for row in framework.runs_on:
            for field in ("weight_precisions", "activation_precisions", "kv_precisions"):
                override = getattr(row, field)
                if override is not None:
                    assert override, (framework.id, row.type, row.vendor, field)
                    assert set(override) <= allowed, (framework.id, row.type, row.vendor, field)


def test_tf32_is_a_compute_mode_not_a_storage_format(frameworks: dict[str, Framework]) -> None:
    for framework in frameworks.values():
        assert "tf32" not in framework.weight_precisions, framework.id
        assert "tf32" not in framework.kv_precisions, framework.id


def test_training_only_frameworks_serve_nothing(frameworks: dict[str, Framework]) -> None:
    megatron = frameworks["megatron-lm"]
    assert "inference" not in megatron.tasks
    assert megatron.batching is None
    assert not megatron.kv_precisions and not megatron.serving_features
    assert "fp8" in megatron.activation_precisions  # Transformer Engine FP8 GEMMs
    assert "lora" in megatron.peft  # Megatron Bridge PEFT


def test_serving_features_come_with_a_batching_mode(frameworks: dict[str, Framework]) -> None:
    for framework in frameworks.values():
        if framework.serving_features or framework.kv_precisions:
            assert framework.batching is not None, framework.id


def test_inference_only_engines_do_not_claim_fine_tuning(
    frameworks: dict[str, Framework],
) -> None:
    # Serving LoRA adapters is not PEFT: peft is for frameworks that fine-tune.
    for framework in frameworks.values():
        if not {"train", "finetune"} & set(framework.tasks):
            assert not framework.peft, framework.id
    assert {"lora", "qlora"} <= set(frameworks["pytorch"].peft)  # PEFT + bitsandbytes
    assert {"lora", "qlora"} <= set(frameworks["mlx"].peft)  # mlx_lm.lora on quantized models
    assert "lora" in frameworks["deepspeed"].peft
    assert "lora" in frameworks["neuronx"].peft


def test_fp8_activations_only_where_the_engine_runs_fp8_gemms(
    frameworks: dict[str, Framework],
) -> None:
    for framework_id in ("llama-cpp", "mlx", "openvino", "litert", "tensorflow", "deepspeed"):
        assert "fp8" not in frameworks[framework_id].activation_precisions, framework_id
    for framework_id in ("tensorrt-llm", "vllm", "sglang", "megatron-lm", "tensorrt"):
        assert "fp8" in frameworks[framework_id].activation_precisions, framework_id


def test_fp4_only_where_documented(frameworks: dict[str, Framework]) -> None:
    # NVFP4/MXFP4: TensorRT(-LLM), vLLM and SGLang on Blackwell; MXFP4/NVFP4 GGUF in llama.cpp.
    for framework_id in ("tensorrt-llm", "tensorrt", "vllm", "sglang", "llama-cpp"):
        assert "fp4" in frameworks[framework_id].weight_precisions, framework_id
    for framework_id in ("pytorch", "jax", "onnxruntime", "openvino", "mlx", "neuronx"):
        assert "fp4" not in frameworks[framework_id].weight_precisions, framework_id


def _row(framework: Framework, chip_type: str, vendor: str | None) -> RunsOn:
    rows = [r for r in framework.runs_on if r.type == chip_type and r.vendor == vendor]
    assert len(rows) == 1, (framework.id, chip_type, vendor)
    return rows[0]


def test_family_overrides_an_expert_would_check(frameworks: dict[str, Framework]) -> None:
    edge_tpu = _row(frameworks["litert"], "tpu", "google")
    assert edge_tpu.weight_precisions == ["int8"]  # Coral: fully 8-bit quantized models only
    assert edge_tpu.activation_precisions == ["int8"]
    vllm_cpu = _row(frameworks["vllm"], "cpu", None)
    assert vllm_cpu.activation_precisions is not None and vllm_cpu.kv_precisions is not None
    assert "fp8" not in (vllm_cpu.activation_precisions or [])  # no FP8 W8A8 on CPU
    assert "fp8" in (vllm_cpu.kv_precisions or [])  # FP8-E5M2 KV cache on the CPU backend
    for framework_id in ("pytorch-xla", "tensorflow"):
        tpu = _row(frameworks[framework_id], "tpu", "google")
        assert "fp16" not in (tpu.activation_precisions or []), framework_id
        assert "bf16" in (tpu.activation_precisions or []), framework_id
    ascend = _row(frameworks["sglang"], "npu", "huawei")
    assert "fp8" not in (ascend.weight_precisions or [])  # FP8 is WIP on Ascend


def test_vendor_reference_stacks(frameworks: dict[str, Framework]) -> None:
    assert _row(frameworks["tensorrt-llm"], "gpu", "nvidia").maturity == "reference"
    assert _row(frameworks["neuronx"], "npu", "aws").maturity == "reference"
    assert _row(frameworks["jax"], "tpu", "google").maturity == "reference"
    assert _row(frameworks["vllm"], "gpu", "nvidia").maturity in (None, "production")


def test_capability_entries_are_dated(frameworks: dict[str, Framework]) -> None:
    for framework in frameworks.values():
        if framework.weight_precisions or framework.batching or framework.peft:
            assert framework.as_of >= dt.date(2026, 12, 1), framework.id


def test_a_native_16_bit_engine_dominates_one_that_falls_back_to_the_other() -> None:
    # MLC-LLM loads fp16, not bf16 (its docs list q0f16/q4f16 formats); for bf16 serving on an
    # H100 it would run fp16, the same bytes and FLOPs, with no more KV room or parallelism than
    # vLLM: it can never be the better stack, so it is not sized.  TensorRT (static batching, no
    # paged KV) is dominated by TensorRT-LLM for LLM serving.  For a CNN, TensorRT's compiled
    # engine is never dropped in favour of an eager runtime.
    from infra_advisor.job import build_job
    from infra_advisor.search import rules
    from infra_advisor.workload import build_workload

    catalog = load_catalog()
    chip = catalog.chips["h100-sxm"]
    llm = build_job(build_workload(dict(model="llama-3.1-8b", task="inference", rate=5)), catalog)
    served = [f.id for f in rules.frameworks_for(llm, catalog.frameworks, chip)[0]]
    assert "vllm" in served and "tensorrt-llm" in served
    assert "mlc-llm" not in served and "tensorrt" not in served
    cnn = build_job(build_workload(dict(model="resnet-50", task="inference", rate=100)), catalog)
    assert "tensorrt" in [f.id for f in rules.frameworks_for(cnn, catalog.frameworks, chip)[0]]


def test_a_row_that_requires_a_feature_matches_only_chips_that_have_it() -> None:
    # Vitis AI 6.x runs on AMD's AI Engine-ML devices, not on every AMD FPGA: a runs_on row can
    # say so, and the search (framework lists, capabilities, their memo keys) follows it.
    import dataclasses

    from infra_advisor.job import build_job
    from infra_advisor.plan.frameworks import capabilities, row_matches
    from infra_advisor.search import rules
    from infra_advisor.workload import build_workload

    catalog = load_catalog()
    alveo = catalog.chips["alveo-v80"]
    versal = dataclasses.replace(alveo, id="versal-test", features=[*alveo.features, "aie-ml"])
    row = RunsOn(type="fpga", vendor="amd", support="native", requires_features=["aie-ml"])
    base = catalog.frameworks["onnxruntime"]
    fw = dataclasses.replace(base, id="vitis-test", runs_on=[row], model_types=["vision"])
    assert row_matches(row, versal) and not row_matches(row, alveo)
    assert capabilities(fw, versal) is not None and capabilities(fw, alveo) is None
    job = build_job(build_workload(dict(model="resnet-50", task="inference", rate=10)), catalog)
    frameworks = {**catalog.frameworks, fw.id: fw}
    assert [f.id for f in rules.frameworks_for(job, frameworks, versal)[0]] == ["vitis-test"]
    assert "vitis-test" not in [f.id for f in rules.frameworks_for(job, frameworks, alveo)[0]]


def test_torchtpu_is_pytorchs_tpu_backend_and_does_not_outrank_the_reference_stacks(
    catalog: Catalog,
) -> None:
    # Google Cloud, 'PyTorch on Cloud TPU': TorchTPU is the PyTorch-native TPU backend that
    # replaces PyTorch/XLA; JAX and MaxText remain the TPU reference stacks.
    from infra_advisor.plan.frameworks import capabilities
    from infra_advisor.search.engine import recommend
    from infra_advisor.workload import build_workload

    torchtpu = catalog.frameworks["torchtpu"]
    assert catalog.frameworks["pytorch-xla"].status == "legacy"
    assert capabilities(torchtpu, catalog.chips["tpu-v6e"]) is not None
    assert capabilities(torchtpu, catalog.chips["h100-sxm"]) is None
    w = build_workload(dict(task="train", model="llama-3.1-8b", tokens="10B", chip="tpu-v6e"))
    top = recommend(w, catalog, top=1).stacks[0]
    assert top.components.framework in ("jax", "maxtext")
    pinned = build_workload(dict(task="train", model="llama-3.1-8b", tokens="10B",
                                 chip="tpu-v6e", framework="torchtpu"))  # fmt: skip
    assert recommend(pinned, catalog, top=1).stacks[0].components.framework == "torchtpu"


def test_the_alveo_fpga_serves_cnns_through_vitis_ai_2(catalog: Catalog) -> None:
    # AMD UG1354 2.0 (Vitis AI Library): the Alveo U55C is a supported card for the CNN samples;
    # later releases dropped Alveo, so the path is legacy.
    from infra_advisor.search.engine import recommend
    from infra_advisor.workload import build_workload

    base = dict(task="inference", model="resnet-50", precision="int8", rate=100,
                chip="alveo-u55c", include_unpriced=True)  # fmt: skip
    assert not recommend(build_workload(base), catalog, top=1).stacks
    found = recommend(build_workload(dict(base, include_legacy=True)), catalog, top=1).stacks
    assert found and found[0].components.framework == "vitis-ai-alveo"
    llm = dict(task="inference", model="llama-3.2-1b", precision="int8", rate=1,
               chip="alveo-u55c", include_unpriced=True, include_legacy=True)  # fmt: skip
    assert not recommend(build_workload(llm), catalog, top=1).stacks


def test_optimum_habana_serves_static_batches_with_an_fp8_kv_cache(
    frameworks: dict[str, Framework],
) -> None:
    # optimum-habana's run_generation.py: --reuse_cache preallocates each request's KV cache
    # (no paged cache), generate() runs a batch to completion, FP8 through INC quantizes the KV
    # cache too (maxabs_quant.json's empty whitelist; KVCache is among Gaudi's supported modules).
    oh = frameworks["optimum-habana"]
    assert oh.batching == "static" and "paged_kv" not in oh.serving_features
    assert "fp8" in oh.kv_precisions and oh.compiled
    assert [(r.type, r.vendor, r.support) for r in oh.runs_on] == [("npu", "intel", "native")]


def test_a_kv_precision_a_framework_lacks_is_named_in_the_rejection(catalog: Catalog) -> None:
    from infra_advisor.search.engine import explain_stack
    from infra_advisor.workload import build_workload

    w = build_workload(dict(model="llama-3.1-8b", task="inference", precision="fp8",
                            kv_precision="fp8", rate=10))  # fmt: skip
    report = explain_stack(w, catalog, "gaudi3:1/-/-/-/pytorch")
    assert not report.stacks
    reasons = " ".join(r for rej in report.rejected for r in rej.reasons)
    assert "--kv-precision fp8: PyTorch keeps its KV cache in bf16, fp16, fp32" in reasons


def test_a_library_built_for_the_model_type_is_not_dominated_by_a_general_one(
    catalog: Catalog,
) -> None:
    # DLRM on B200: JAX lists everything TorchRec does (and FP8) but is not built for
    # recommenders; with equal estimates the tie goes to TorchRec, the library built for them.
    from infra_advisor.search.engine import recommend
    from infra_advisor.workload import build_workload

    w = build_workload({"model": "dlrm-v2", "task": "train", "samples": "4B", "chip": "b200",
                        "chips": 8}, catalog=catalog)  # fmt: skip
    top = recommend(w, catalog, top=1).stacks[0]
    assert top.components.framework == "torchrec"
