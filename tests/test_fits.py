"""`models --fits CHIP`: what one box can serve, each generative model at the heaviest precision
the engine finds a fitting stack for (search.fits), with the engine's own numbers."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from infra_advisor.catalog import Catalog
from infra_advisor.interface.cli import app
from infra_advisor.search.engine import recommend
from infra_advisor.search.fits import fit_on, precisions_to_try
from infra_advisor.workload import build_workload

runner = CliRunner()


def _rows(*args: str) -> dict[str, dict[str, object]]:
    result = runner.invoke(app, ["models", "--json", *args])
    assert result.exit_code == 0, result.output
    return {r["model"]: r for r in json.loads(result.stdout)}


def test_a_24_gb_card() -> None:
    rows = _rows("--fits", "RTX-4090")
    assert rows["llama-3.1-8b"]["precision"] == "bf16"  # 16 GB of weights
    assert rows["qwen2.5-32b"]["precision"] == "int4"  # 65 GB in bf16, 33 in fp8
    assert rows["llama-3.1-70b"]["precision"] is None  # 35 GB even in int4
    assert "GB" in str(rows["llama-3.1-70b"]["reason"])
    assert "bert-base" not in rows  # an encoder does not decode
    assert all(r["chip"] == "rtx-4090" for r in rows.values())


def test_gpt_oss_20b_on_a_16_gb_card() -> None:
    # gpt-oss model card (arXiv 2508.10925, §2): gpt-oss-20b runs within 16 GB of memory.
    rows = _rows("--fits", "rtx-4080")
    assert rows["gpt-oss-20b"]["precision"] == "fp4"


def test_a_second_card_holds_what_one_cannot() -> None:
    one, two = _rows("--fits", "rtx-4090"), _rows("--fits", "rtx-4090", "--chips", "2")
    assert one["qwen2.5-32b"]["precision"] == "int4"
    assert two["qwen2.5-32b"]["precision"] in ("fp8", "bf16")


def test_the_verdict_is_the_engines(catalog: Catalog) -> None:
    model = catalog.models["mistral-small-3"]
    fit = fit_on(catalog, model, "rtx-4090", 1, 4096)
    assert fit.precision is not None
    tried = precisions_to_try(model)
    for precision in tried[: tried.index(fit.precision) + 1]:
        w = build_workload({"model": model.id, "task": "inference", "chip": "rtx-4090",
                            "chips": 1, "precision": precision, "prompt_tokens": 4096 - 256,
                            "output_tokens": 256, "deploy": "onprem", "include_unpriced": True},
                           catalog=catalog)  # fmt: skip
        stacks = recommend(w, catalog, top=1).stacks
        assert bool(stacks) == (precision == fit.precision)
        if stacks:
            assert stacks[0].id == fit.stack
            assert fit.decode_tokens_per_s == 1.0 / stacks[0].metrics.tpot_s


def test_an_unknown_chip_is_bad_input() -> None:
    result = runner.invoke(app, ["models", "--fits", "rtx4090"])
    assert result.exit_code == 2
    assert "--fits" in result.stderr and "rtx-4090" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_table_names_the_box_and_the_count() -> None:
    result = runner.invoke(app, ["models", "--fits", "rtx-4090", "--context", "8192"])
    assert result.exit_code == 0, result.output
    assert "RTX 4090" in result.stdout and "8,192 tokens" in result.stdout
    assert "llama-3.1-8b" in result.stdout and "bf16" in result.stdout
