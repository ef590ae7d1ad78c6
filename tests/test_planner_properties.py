"""Planner invariants over random workloads and pinned stacks (hypothesis).

- more chips never serve less at saturation, and never take longer under --optimize time;
- model states summed over the chips of any layout are never below the model's states;
- explain of a ranked stack reports what recommend reported for it;
- a relief's "after" is what explain reports for the changed stack;
- a budget that some ranked plan meets is met.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra_advisor.catalog import load_catalog
from infra_advisor.job import build_job
from infra_advisor.plan import training as pt
from infra_advisor.search.engine import explain_stack, recommend
from infra_advisor.workload import build_workload

CATALOG = load_catalog()
FUZZ = int(os.environ.get("INFRA_ADVISOR_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=FUZZ or 12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=not FUZZ,
)
SERVING_CHIPS = st.sampled_from(["h100-sxm", "h200-sxm", "a100-80gb-sxm", "l4", "mi300x"])
SIZES = st.sampled_from(
    [("8B", 32, 4096, 32, 8), ("13B", 40, 5120, 40, 40), ("70B", 80, 8192, 64, 8)]
)
LENGTHS = st.sampled_from([(128, 2048), (1000, 1000), (2048, 128), (4096, 1)])


def _serving(size, lengths, precision, chip, chips):  # type: ignore[no-untyped-def]
    params, layers, hidden, heads, kv = size
    return build_workload(
        dict(task="inference", params=params, layers=layers, hidden=hidden, heads=heads,
             kv_heads=kv, precision=precision, prompt_tokens=lengths[0],
             output_tokens=lengths[1], rate=1e6, chip=chip, chips=chips)
    )  # fmt: skip


def _served(report) -> float:  # type: ignore[no-untyped-def]
    return float(report.stacks[0].metrics.tokens_per_s) if report.stacks else 0.0


@SETTINGS
@given(SIZES, LENGTHS, st.sampled_from(["bf16", "fp8", "int4"]), SERVING_CHIPS,
       st.integers(1, 9))  # fmt: skip
def test_more_chips_never_serve_less_at_saturation(size, lengths, precision, chip, chips) -> None:  # type: ignore[no-untyped-def]
    fewer = _served(recommend(_serving(size, lengths, precision, chip, chips), CATALOG))
    more = _served(recommend(_serving(size, lengths, precision, chip, chips + 1), CATALOG))
    assert more >= fewer * (1 - 1e-9)


@SETTINGS
@given(st.sampled_from(["1B", "7B", "13B"]), st.sampled_from(["h100-sxm", "b200", "tpu-v5p"]),
       st.integers(0, 4))  # fmt: skip
def test_a_higher_max_chips_never_takes_longer_under_optimize_time(params, chip, step) -> None:  # type: ignore[no-untyped-def]
    def fastest(limit: int) -> float:
        w = build_workload(dict(params=params, tokens="50B", chip=chip, optimize="time",
                                max_chips=limit))  # fmt: skip
        report = recommend(w, CATALOG)
        return min((s.metrics.time_s for s in report.stacks), default=float("inf"))

    small = 8 * 2**step
    assert fastest(small * 2) <= fastest(small) * (1 + 1e-9)


@SETTINGS
@given(st.sampled_from([("46.7B", "12.9B", 8), ("141B", "39B", 8), ("30B", "3B", 128)]),
       st.sampled_from([8, 16, 64, 256]), st.sampled_from(["full", "lora", "qlora"]))  # fmt: skip
def test_states_over_chips_cover_the_model(moe, chips, method) -> None:  # type: ignore[no-untyped-def]
    params, active, experts = moe
    task = "train" if method == "full" else "finetune"
    w = build_workload(dict(task=task, finetune_method=None if task == "train" else method,
                            params=params, active_params=active, experts=experts))  # fmt: skip
    job = build_job(w, CATALOG)
    par = frozenset({"data", "tensor", "pipeline", "expert", "zero"})
    trainable = job.params if method == "full" else 1.0
    for c in pt.candidates(job, chips, 8, par):
        for group in pt.forms(c, pt.zero_stages(par)):
            for form in group:
                assert pt.smallest_state_fraction(job, form, trainable) >= 1 - 1e-9


PRESETS = st.sampled_from(["llama-8b-chat", "llama-70b-lora", "resnet50-imagenet", "dlrm-criteo",
                           "papers100m-gnn", "camera-vision-edge"])  # fmt: skip


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(PRESETS)
def test_explain_agrees_with_recommend_and_reliefs_are_reproduced(preset: str) -> None:
    from infra_advisor.presets import load_preset

    w = build_workload(load_preset(preset))
    for stack in recommend(w, CATALOG, top=2).stacks:
        again = explain_stack(w, CATALOG, stack.id).stacks[0]
        assert again.metrics == stack.metrics and again.bottleneck == stack.bottleneck
        relief = stack.bottleneck.relief_detail
        if (
            relief is None
            or relief.stack is None
            or relief.component in ("precision", "finetune_method")
        ):
            continue
        after = explain_stack(w, CATALOG, relief.stack).stacks[0]
        assert getattr(after.metrics, relief.metric) == pytest.approx(relief.after_value)


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(st.sampled_from([("7B", "100B", "h100-sxm"), ("1B", "20B", "a100-80gb-sxm"),
                        ("13B", "50B", "mi300x")]), st.floats(1.0, 3.0))  # fmt: skip
def test_a_budget_some_plan_meets_is_met(job, slack) -> None:  # type: ignore[no-untyped-def]
    params, tokens, chip = job
    base = dict(params=params, tokens=tokens, chip=chip)
    stacks = recommend(build_workload(base), CATALOG).stacks
    priced = [s.metrics.cost_usd for s in stacks if s.metrics.cost_usd is not None]
    if not priced:
        return
    budget = min(priced) * slack
    within = recommend(build_workload({**base, "budget": budget}), CATALOG)
    assert within.stacks


@SETTINGS
@given(
    experts=st.sampled_from([8, 16, 64, 128]),
    ep=st.sampled_from([1, 2, 4, 8]),
    mb=st.sampled_from([1, 2, 4]),
    pp=st.sampled_from([1, 2, 4]),
)
def test_wider_expert_parallelism_and_larger_micro_batches_never_launch_more(
    experts: int, ep: int, mb: int, pp: int
) -> None:
    # F12b: the host launches each local expert after every MoE layer's sync, so spreading the
    # experts over more ranks, or the batch over fewer micro-batches, never adds host time.
    w = build_workload(dict(task="train", params="30B", active_params="3B", layers=48, hidden=2048,
                            heads=32, kv_heads=4, experts=experts, seq_len=4096, batch_size=512))  # fmt: skip
    job = build_job(w, CATALOG)
    per = job.eff["moe-expert-launch"]

    def host(e: int, m: int) -> float:
        return pt.expert_launch_seconds(job, pt.Candidate(1, pp, 16, e, 1, m, 0, False), per)

    assert host(ep, mb) > 0
    assert host(min(2 * ep, experts), mb) <= host(ep, mb)
    assert host(ep, min(2 * mb, 4)) <= host(ep, mb)
    assert pt.expert_launch_seconds(job, pt.Candidate(1, pp, 16, ep, 1, mb, 0, False), 0.0) == 0.0
