"""The search grows with the catalog, not with the product of its kinds (counts, not timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infra_advisor.catalog import load_catalog
from infra_advisor.engine import recommend
from infra_advisor.presets import load_preset
from infra_advisor.workload import build_workload

ROOT = Path(__file__).resolve().parent.parent


def test_evaluations_grow_linearly_with_a_larger_catalog(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "make_overlay.py"),
            str(overlay),
            "--factor",
            "4",
        ],
        check=True,
        capture_output=True,
    )
    shipped = load_catalog()
    bigger = load_catalog([overlay])
    assert len(bigger.chips) == 4 * len(shipped.chips)
    assert len(bigger.storage) == 4 * len(shipped.storage)
    workload = build_workload(load_preset("llama-70b-lora"))
    small = recommend(workload, shipped).evaluated
    large = recommend(workload, bigger).evaluated
    # Four times every kind is 4^4 = 256 times the combinations; the work must stay near 4 times.
    assert large <= 6 * small, (small, large)
