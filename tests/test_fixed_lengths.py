"""--fixed-lengths (F9, F11): every request has exactly the stated prompt and output lengths, so a
runtime without a paged KV cache uses all it reserves and a static batch ends together."""

from __future__ import annotations

import pytest

from infra_advisor.catalog import Catalog
from infra_advisor.workload import build_workload
from tests.helpers import served, term

# Intel's Gaudi 3 model-performance table (intel.com/content/www/us/en/developer/platform/gaudi/
# model-performance.html, "LLM for Throughput"): LLaMA 3.1 8B, 1 HPU, fp8, 128 in / 2,048 out,
# batch 768, 18,830 tokens/s; optimum-habana's run_generation.py with --reuse_cache, FP8 via INC.
GAUDI = dict(model="llama-3.1-8b", task="inference", precision="fp8", kv_precision="fp8",
             prompt_tokens=128, output_tokens=2048, batch_size=768, rate=1e6)  # fmt: skip


def test_fixed_lengths_fill_a_contiguous_cache_and_a_static_batch(catalog: Catalog) -> None:
    varied = served(catalog, "gaudi3:1/-/-/-/optimum-habana", **GAUDI)
    fixed = served(catalog, "gaudi3:1/-/-/-/optimum-habana", **GAUDI, fixed_lengths=True)
    util = catalog.efficiency["kv-utilisation-contiguous"].value
    assert term(varied, "largest batch in memory").inputs["utilisation"] == util
    assert term(fixed, "largest batch in memory").inputs["utilisation"] == 1.0
    assert fixed.layout["max_batch"] == pytest.approx(varied.layout["max_batch"] / util, rel=0.02)
    assert term(fixed, "capacity").inputs["occupancy"] == 1.0
    assert term(varied, "capacity").inputs["occupancy"] == (
        catalog.efficiency["static-batch-occupancy"].value
    )
    # The published row: 768 requests fit (the model's 740 is within 4%) at 18,830 tokens/s.
    assert 700 <= fixed.layout["max_batch"] <= 768
    assert 18830 / 1.5 <= fixed.metrics.tokens_per_s <= 18830 * 1.5


def test_a_paged_continuous_runtime_is_unchanged_by_fixed_lengths(catalog: Catalog) -> None:
    flags = dict(model="llama-3.1-8b", task="inference", precision="fp8", prompt_tokens=1000,
                 output_tokens=1000, rate=1e6)  # fmt: skip
    paged = served(catalog, "h100-sxm:1/-/-/-/vllm", **flags)
    same = served(catalog, "h100-sxm:1/-/-/-/vllm", **flags, fixed_lengths=True)
    assert same.metrics.tokens_per_s == pytest.approx(paged.metrics.tokens_per_s)
    assert same.layout["max_batch"] == paged.layout["max_batch"]


def test_fixed_lengths_is_a_switch_only_serving_reads() -> None:
    from infra_advisor.workload import inapplicable_notes

    train = build_workload(dict(model="llama-3.1-8b", task="train", fixed_lengths=True))
    assert "--fixed-lengths does not apply to training: ignored" in inapplicable_notes(train)
    assert not inapplicable_notes(build_workload(dict(model_type="vision", task="inference")))
