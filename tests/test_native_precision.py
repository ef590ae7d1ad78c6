"""A model published below 16 bits is served as published unless --precision says otherwise;
the memory-bound explanation names the weight bytes a decode step really reads."""

from __future__ import annotations

from infra_advisor.catalog import Catalog
from infra_advisor.search.engine import recommend
from infra_advisor.workload import build_workload
from tests.helpers import served


def test_an_fp8_checkpoint_is_served_in_fp8(catalog: Catalog) -> None:
    w = build_workload({"model": "deepseek-r1", "task": "inference"}, catalog=catalog)
    assert w.precision == "fp8"
    stated = build_workload(
        {"model": "deepseek-r1", "task": "inference", "precision": "bf16"}, catalog=catalog
    )
    assert stated.precision == "bf16"
    trained = build_workload({"model": "deepseek-r1", "task": "finetune"}, catalog=catalog)
    assert trained.precision == "bf16"  # training keeps the 16-bit default
    dense = build_workload({"model": "llama-3.1-70b", "task": "inference"}, catalog=catalog)
    assert dense.precision == "bf16"


def test_the_assumption_is_stated(catalog: Catalog) -> None:
    report = recommend(build_workload({"model": "deepseek-r1", "task": "inference"},
                                      catalog=catalog), catalog, top=1)  # fmt: skip
    assert any("published in FP8" in a for a in report.assumptions)


def test_gpt_oss_120b_fits_one_80gb_gpu_by_default(catalog: Catalog) -> None:
    # OpenAI, gpt-oss model card (arXiv 2508.10925, §2): the MXFP4 MoE weights let gpt-oss-120b
    # run on a single 80 GB GPU.
    stack = served(catalog, "h100-sxm:1/-/-/-/vllm", model="gpt-oss-120b", task="inference")
    assert stack.fits
    assert stack.layout["weights"] == "fp4"


def test_the_memory_bound_explanation_reads_the_touched_experts(catalog: Catalog) -> None:
    stack = served(catalog, "h100-sxm:1/-/-/-/vllm", model="gpt-oss-120b", task="inference")
    assert stack.bottleneck.kind == "memory_bandwidth"
    text = stack.bottleneck.explanation
    # a batch of one routes to 4 of 128 experts: a few GB a step, not the 66 GB held
    assert "GB of weights per chip for a batch of 1" in text
    read = float(text.split("each step reads ")[1].split(" GB")[0])
    assert read < 10


def test_qlora_computes_in_16_bit_and_is_not_offered_fp8(catalog: Catalog) -> None:
    # QLoRA (Dettmers et al. 2023, §3): the NF4 base is dequantized to the BF16 compute dtype
    # before each matmul (bitsandbytes bnb_4bit_compute_dtype).
    flags = dict(model="llama-3.1-70b", task="finetune", finetune_method="qlora", tokens="100M")
    half = served(catalog, "h100-sxm:1/-/-/-/pytorch", **flags)
    asked = served(catalog, "h100-sxm:1/-/-/-/pytorch", **flags, precision="fp8")
    assert asked.metrics.step_time_s == half.metrics.step_time_s
    assert any("QLoRA computes in 16-bit" in n for n in asked.notes)
    assert "fp8" not in (half.bottleneck.relief or "")
