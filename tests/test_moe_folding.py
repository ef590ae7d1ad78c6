"""MoE parallel folding (F12d) and deduplicated token dispatch (F12e): expert parallelism spans
the TP·CP·DP ranks of a stage with experts whole on their rank, and a DeepEP-style dispatch
sends a token once to each rank (across nodes, once to each node) that holds its experts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra_advisor.catalog import Catalog
from infra_advisor.plan import training as pt
from tests.helpers import served, term

# Megatron MoE Model Zoo, best_practice/qwen3/readme.md, H100 table (256 H100, seq 4096,
# GBS 2048): 'Intra-node EP strategy' row TP4 EP8 PP8 VPP4, step 29.0 s; 'Cross-node EP strategy'
# row TP2 EP32 PP8 VPP4 (DeepEP), step 19.7 s
# (https://github.com/yanring/Megatron-MoE-ModelZoo/blob/020b8136b3bc6f47e4143849f54e400cf0f71e8a/
# best_practice/qwen3/readme.md).
QWEN = dict(
    model="qwen3-235b-a22b", task="train", precision="bf16", tokens="100B", seq_len=4096,
    batch_size=2048, micro_batch=1,
)  # fmt: skip
H100 = "h100-sxm:256/-/ib-ndr/-/megatron-lm"
TOKENS = 2048 * 4096


def test_expert_parallel_wider_than_data_parallel_is_a_layout(catalog: Catalog) -> None:
    # TP2 × DP16 × PP8: EP32 folds over the 32 TP·DP ranks of a stage (EDP 1).
    stack = served(catalog, H100, **QWEN, tensor_parallel=2, pipeline_parallel=8,
                   expert_parallel=32)  # fmt: skip
    assert stack.layout["data_parallel"] == 16 and stack.layout["expert_parallel"] == 32
    ratio = stack.metrics.tokens_per_s / (TOKENS / 19.7)
    assert 1 / 1.5 <= ratio <= 1.5, ratio


def test_folded_expert_ranks_stay_in_the_box(catalog: Catalog) -> None:
    # With expert tensor parallelism 1 the EP8 group is 8 consecutive GPUs even at TP4.
    stack = served(catalog, H100, **QWEN, tensor_parallel=4, pipeline_parallel=8,
                   expert_parallel=8)  # fmt: skip
    a2a = term(stack, "expert all-to-all per step")
    assert a2a.inputs["link"] == "nvlink-4"
    ratio = stack.metrics.tokens_per_s / (TOKENS / 29.0)
    assert 1 / 1.5 <= ratio <= 1.5, ratio


def test_experts_are_whole_on_their_rank() -> None:
    tp1 = pt.Candidate(1, 2, 16, 8, 1, 1, 0, False)
    tp4 = pt.Candidate(4, 2, 4, 8, 1, 1, 0, False)
    assert pt.expert_share(tp4, 1e9) == pt.expert_share(tp1, 1e9) == 1e9 / 16
    assert pt.expert_replicas(tp4) == 2 and pt.expert_replicas(tp1) == 2


def test_dispatch_copies_published_shapes() -> None:
    # Per routed expert: k·(ep−1)/ep copies leave the rank.
    assert pt.dispatch_copies(8, 8, 8, dedup=False) == pytest.approx(7.0)
    # Deduplicated inside a node: one copy per other rank holding an expert, 7·(1 − (7/8)^8).
    assert pt.dispatch_copies(8, 8, 8, dedup=True) == pytest.approx(7 * (1 - (7 / 8) ** 8))
    # Across 4 nodes of 8: one copy per other node holding one, 3·(1 − (3/4)^8) ≈ 2.7.
    assert pt.dispatch_copies(8, 32, 8, dedup=True) == pytest.approx(3 * (1 - 0.75**8))
    assert pt.dispatch_copies(8, 1, 8, dedup=True) == 0.0


@given(
    k=st.integers(1, 16),
    ep=st.sampled_from([2, 4, 8, 16, 32, 64, 128]),
    domain=st.sampled_from([4, 8, 72]),
)
def test_deduplication_never_sends_more(k: int, ep: int, domain: int) -> None:
    plain = pt.dispatch_copies(k, ep, domain, dedup=False)
    dedup = pt.dispatch_copies(k, ep, domain, dedup=True)
    assert 0.0 <= dedup <= plain + 1e-12
