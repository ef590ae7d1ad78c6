"""The search's bounds: a candidate left unsized, or a relief not evaluated, changes nothing.

- the serving floor (plan.serving.floor, accounted by plan.evaluate.serving_floor_objectives) is
  never beaten by a stack of its unit, at the count the solver picks or at any pinned count;
- recommend ranks the same stacks, with the same scores, Pareto marks and reliefs, with the
  bounds on and off;
- a candidate left unsized is named in `rejected` with its floor.
"""

from __future__ import annotations

import os
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra_advisor.catalog import load_catalog
from infra_advisor.checks import to_data
from infra_advisor.job import build_job
from infra_advisor.search import engine, scoring
from infra_advisor.workload import build_workload

CATALOG = load_catalog()
FUZZ = int(os.environ.get("INFRA_ADVISOR_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=FUZZ or 10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=not FUZZ,
)
MODELS = st.sampled_from(
    ["llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "qwen3-30b-a3b", "qwen2.5-7b"]
)
LENGTHS = st.sampled_from([(1024, 256), (128, 2048), (4096, 16), (2000, 500)])
RATES = st.sampled_from([0.5, 5.0, 50.0, 400.0])
OPTIMIZE = st.sampled_from(["cost", "balanced", "energy", "time"])
WHERE = st.sampled_from(
    [
        {},
        {"cloud": "aws"},
        {"cloud": "lambda"},
        {"deploy": "onprem"},
        {"include_unpriced": True},
        {"pricing": "spot"},
    ]
)


def _workload(model, lengths, rate, optimize, **extra):  # type: ignore[no-untyped-def]
    return build_workload(
        dict(task="inference", model=model, prompt_tokens=lengths[0], output_tokens=lengths[1],
             rate=rate, optimize=optimize, **extra),
        catalog=CATALOG,
    )  # fmt: skip


def _ctx(workload):  # type: ignore[no-untyped-def]
    return engine.Context(build_job(workload, CATALOG), CATALOG, keep=5)


def _assert_above(floor: tuple[float, float, float], oc) -> None:  # type: ignore[no-untyped-def]
    actual = scoring.objectives(oc)
    for bound, value, name in zip(floor, actual, ("latency", "cost", "energy"), strict=True):
        assert value >= bound * (1 - 1e-9), (oc.spec, name, value, bound)


@SETTINGS
@given(MODELS, LENGTHS, RATES, st.sampled_from(["bf16", "fp8", "int4"]))
def test_no_stack_beats_its_floor(model, lengths, rate, precision) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(_workload(model, lengths, rate, "cost", precision=precision))
    options, _ = engine._allowed(ctx)
    checked = 0
    for chip, off, frameworks in options:
        floor = engine._floor(ctx, chip, off, frameworks)
        if floor is None:
            continue
        found, _ = engine.plan_chip(ctx, chip, frameworks, off)
        for oc in found:
            _assert_above(floor, oc)
            checked += 1
    assert checked > 0


@SETTINGS
@given(MODELS, LENGTHS, RATES, st.integers(1, 24))
def test_no_pinned_count_beats_the_floor(model, lengths, rate, chips) -> None:  # type: ignore[no-untyped-def]
    """The floor holds whatever the count, short of the rate or not."""
    ctx = _ctx(_workload(model, lengths, rate, "cost", chips=chips))
    options, _ = engine._allowed(ctx)
    for chip, off, frameworks in options[::3]:
        floor = engine._floor(ctx, chip, off, frameworks)
        if floor is None:
            continue
        for oc in engine.plan_chip(ctx, chip, frameworks, off)[0]:
            _assert_above(floor, oc)


def _ranked(workload, bounds: bool):  # type: ignore[no-untyped-def]
    if bounds:
        return engine.recommend(workload, CATALOG)
    with (
        mock.patch.object(engine, "_floor", return_value=None),
        mock.patch.object(engine, "_relief_bound", return_value=None),
        mock.patch.object(engine, "_fewest_chips", return_value=1),
    ):
        return engine.recommend(workload, CATALOG)


@settings(max_examples=FUZZ or 8, deadline=None, derandomize=not FUZZ,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(MODELS, LENGTHS, RATES, OPTIMIZE, WHERE, st.sampled_from(["bf16", "fp8"]))
def test_bounds_change_no_ranked_stack(model, lengths, rate, optimize, where, precision) -> None:  # type: ignore[no-untyped-def]
    workload = _workload(model, lengths, rate, optimize, precision=precision, **where)
    with_bounds, without = _ranked(workload, True), _ranked(workload, False)
    assert to_data(with_bounds.stacks) == to_data(without.stacks)
    assert with_bounds.evaluated <= without.evaluated


def test_a_candidate_left_unsized_is_named_with_its_floor() -> None:
    workload = _workload("llama-3.1-8b", (1024, 256), 50.0, "cost")
    report = engine.recommend(workload, CATALOG)
    unsized = [r for r in report.rejected if r.reasons[0].startswith("not sized")]
    assert unsized, "an 8-GPU node for 50 requests/s of an 8B model is never sized"
    assert "per million output tokens" in unsized[0].reasons[0]
    ranked = {s.components.offering.id for s in report.stacks if s.components.offering}
    assert not ranked & {r.id for r in unsized}


def test_one_gpu_instances_are_not_joined_by_nvlink() -> None:
    """Three 1-GPU VMs are three machines: the stack names no scale-up link."""
    workload = build_workload(
        dict(task="inference", model="llama-3.1-8b", prompt_tokens=1024, output_tokens=256,
             rate=50, offering="lambda-gpu-1x-gh200", chips=3),
        catalog=CATALOG,
    )  # fmt: skip
    stack = engine.recommend(workload, CATALOG).stacks[0]
    assert stack.components.scale_up is None
    assert stack.id.startswith("lambda-gpu-1x-gh200:3/-/")


def test_the_table_sets_unsized_units_apart_from_rejected_ones() -> None:
    """The text table lists the units ruled out, with why, and counts the units left unsized in
    one line; JSON lists them all, the ruled-out first."""
    from typer.testing import CliRunner

    from infra_advisor.interface.cli import app

    shown = CliRunner().invoke(app, ["recommend", "--preset", "llama-8b-chat"])
    assert shown.exit_code == 0
    assert "more units not sized: even at their floor" in shown.stdout
    assert "not sized: at best" not in shown.stdout
    report = engine.recommend(_workload("llama-3.1-8b", (1024, 256), 50.0, "cost"), CATALOG)
    flags = [r.unsized for r in report.rejected]
    assert any(flags) and flags == sorted(flags)
