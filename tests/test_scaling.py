"""The search grows with the catalog, not with the product of its kinds (counts, not timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from infra_advisor.catalog import load_catalog
from infra_advisor.presets import load_preset
from infra_advisor.search.engine import recommend
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


STEPS = 830.0  # a job's steps, over which the load before the first step is spread


def test_storage_is_chosen_from_a_small_front_and_as_a_full_scan_would() -> None:
    # The storage choice is worked out once per demand over the systems no other beats; for any
    # compute time it must pick what weighing every system in the catalog picks.
    import math

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from infra_advisor.job import build_job
    from infra_advisor.physics import storage as sto
    from infra_advisor.plan import evaluate as ev

    cat = load_catalog()
    job = build_job(build_workload(load_preset("llama-70b-lora")), cat)
    chip = cat.chips["h100-sxm"]
    spec = ev.Spec("h100-sxm", 64, "ib-ndr", None, "pytorch")

    def full_scan(
        read: float, compute: float, ckpt: float, every: float, data: float, stage: float
    ) -> str:
        scored = []
        for store in ev.storage_candidates(cat, chip, spec):
            if store.status in ("legacy", "discontinued"):
                continue
            need = data + 2 * ckpt
            if store.capacity_max_tb is not None and need > store.capacity_max_tb * 1e12 * (
                8 if store.per_node else 1
            ):
                continue
            size = sto.provisioned_bytes(store, need)
            eff = job.eff["storage-read"]
            read_s = read / (sto.read_bandwidth(store, size, 8) * eff) if read else 0.0
            share = (
                sto.checkpoint_share(ckpt / (sto.write_bandwidth(store, size, 8) * eff), every)
                if ckpt
                else 0.0
            )
            price = store.price_usd_per_gb_month
            cost = (price if price is not None else math.inf) * size / 1e9
            load_s = stage / (sto.read_bandwidth(store, size, 8) * eff) if stage else 0.0
            penalty = max(0.0, read_s - compute) + share * compute + load_s / STEPS
            scored.append((round(penalty, 9), cost, store.id))
        return min(scored)[2]

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(
        read=st.sampled_from([0.0, 1e6, 1e9, 5e10]),
        compute=st.floats(1e-4, 1e3),
        ckpt=st.sampled_from([0.0, 1e11, 1e12]),
        every=st.sampled_from([600.0, 3600.0]),
        data=st.sampled_from([1e9, 1e12, 5e13]),
        stage=st.sampled_from([0.0, 1e11, 4e12]),
    )
    def agree(
        read: float, compute: float, ckpt: float, every: float, data: float, stage: float
    ) -> None:
        front = ev._storage_front(job, cat, chip, spec, read, ckpt, every, data, 8, 0, 0, stage)
        chosen = ev._best_storage(front, compute, STEPS)
        best = full_scan(read, compute, ckpt, every, data, stage)
        assert chosen is not None and chosen[2] == best
        assert len(front) < len(ev.storage_candidates(cat, chip, spec))

    agree()


def test_each_distinct_stack_is_evaluated_once_per_search(monkeypatch: object) -> None:
    import infra_advisor.search.engine as engine

    seen: list[tuple[int, object]] = []
    original = engine._evaluate

    def recording(ctx: engine.Context, spec: engine.Spec) -> engine.Outcome:
        seen.append((id(ctx.job), spec))
        return original(ctx, spec)

    monkeypatch.setattr(engine, "_evaluate", recording)  # type: ignore[attr-defined]
    for preset in ("llama-8b-chat", "llama-70b-lora", "papers100m-gnn"):
        seen.clear()
        report = recommend(build_workload(load_preset(preset)), load_catalog())
        assert len(seen) == len(set(seen)) == report.evaluated, preset
