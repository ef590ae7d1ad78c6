"""The fidelity set: published measurements with sources, and how close the engine comes to them.

The thresholds are the ones docs/methodology.md states for the current model (a regression guard:
a change that moves estimates away from the measurements fails here).  The issue's own target --
80% of held-out cases within ×1.5, none beyond ×3 -- is not met yet; methodology.md says why.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fidelity", ROOT / "benchmarks" / "fidelity.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["fidelity"] = module
    spec.loader.exec_module(module)
    return module


F = _harness()
CASES = F.load_cases()


@pytest.fixture(scope="module")
def results() -> list:  # type: ignore[type-arg]
    return F.run_all(CASES)


def test_at_least_thirty_sourced_cases_across_every_category() -> None:
    assert len(CASES) >= 30
    needed = {"pretraining", "mlperf-training", "inference", "memory-fit", "gnn", "storage",
              "collective", "edge"}  # fmt: skip
    assert needed <= {c["category"] for c in CASES}
    for case in CASES:
        assert case["source"].startswith(("https://", "http://")), case["id"]
        assert case["where"] and case["original"], case["id"]
        assert case["split"] in ("calibrate", "holdout")
    held = [c for c in CASES if c["split"] == "holdout"]
    assert len(held) >= len(CASES) / 2  # most cases never inform the efficiency data


def test_every_case_gets_an_estimate(results: list) -> None:  # type: ignore[type-arg]
    missing = [r.id for r in results if r.estimate is None]
    assert not missing


def test_every_memory_fit_verdict_is_right(results: list) -> None:  # type: ignore[type-arg]
    wrong = [r.id for r in results if r.fit_right is False]
    assert not wrong
    assert sum(r.fit_right is True for r in results) >= 10


def test_accuracy_holds_at_the_documented_level(results: list) -> None:  # type: ignore[type-arg]
    everything = F.summarise(results, "all")
    held = F.summarise([r for r in results if r.case["split"] == "holdout"], "holdout")
    # docs/methodology.md, "Fidelity": all cases 65% within ×1.5 and 79% within ×2; held out 66%
    # within ×1.5; median |ln ratio| 0.26.  Asserted with a little room for rounding only.
    assert everything.within_2 >= 0.75
    assert held.within_15 >= 0.63
    assert everything.median_abs_log <= 0.30
    assert everything.beyond_3 <= 6


def test_transformer_serving_and_training_cases_are_within_a_third(results: list) -> None:  # type: ignore[type-arg]
    # The cases the model is built for: TensorRT-LLM max-throughput tables and MFU-reported runs.
    chosen = [r for r in results if r.id.startswith(("trtllm-", "megatron-", "opt-", "mpt-13b"))]
    assert len(chosen) >= 10
    for r in chosen:
        assert 1 / 1.35 <= r.ratio <= 1.35, (r.id, r.ratio)


def test_benchmark_prints_a_table_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    old = sys.argv
    sys.argv = ["fidelity.py", "--split", "holdout", "--category", "collective"]
    try:
        F.main()
    finally:
        sys.argv = old
    out = capsys.readouterr().out
    assert "nccl-allreduce-8xh100-ring" in out and "≤×1.5" in out
