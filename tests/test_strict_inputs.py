"""Strict inputs (issue 18): suffixes in any case where unambiguous, a warning for implausible
magnitudes, ids in any case with "did you mean", zero and negative limits refused, flags that do
not apply named, and explain / compare refusing to run without a workload.

Through the real entry point (``infra_advisor.interface.entry.main``, fast path and typer app), a real
process for the stdout/stderr split, and typer's CliRunner.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from infra_advisor.errors import UnitError, WorkloadError
from infra_advisor.interface.cli import app
from infra_advisor.units import (
    parse_bytes,
    parse_count,
    parse_duration,
    parse_energy,
    parse_money,
    parse_power,
    parse_rate,
)
from tests.test_bad_input import run_main

SERVE = ["recommend", "--model", "llama-3.1-8b", "--task", "inference", "--rate", "5", "--json"]
STACK = "h100-sxm:8/nvlink-4/-/local-nvme-gen5/vllm"


def _json(argv: list[str], capsys: Any) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_main(argv, capsys)
    return code, json.loads(out) if out else {}, err


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("infra-advisor: warning: ")]


# --------------------------------------------------------------------------- suffixes


@pytest.mark.parametrize(
    ("parser", "text", "expected"),
    [
        (parse_count, "70b", 70e9),
        (parse_count, "1.5t", 1.5e12),
        (parse_count, "13m", 13e6),  # a count has no thousandths: m is mega
        (parse_count, "8K", 8e3),
        (parse_bytes, "2tb", 2e12),
        (parse_bytes, "512gib", 512 * 2**30),
        (parse_power, "15w", 15.0),
        (parse_power, "1.5kw", 1500.0),
        (parse_power, "500mW", 0.5),
        (parse_power, "2MW", 2e6),
        (parse_energy, "50wh", 50 * 3600.0),
        (parse_energy, "1kwh", 3.6e6),
        (parse_energy, "2MWh", 2 * 3.6e9),
        (parse_duration, "30D", 30 * 86400.0),
        (parse_duration, "200MS", 0.2),
        (parse_duration, "5m", 300.0),  # in a duration, m is minutes
        (parse_duration, "5MIN", 300.0),
        (parse_money, "$1.5m", 1.5e6),
        (parse_money, "$20K", 20e3),
        (parse_rate, "5k/h", 5e3 / 3600),
        (parse_rate, "600/MIN", 10.0),
    ],
)
def test_suffixes_in_any_case_where_unambiguous(parser, text, expected):  # type: ignore[no-untyped-def]
    assert parser(text, "--x") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("parser", "text", "words"),
    [
        (parse_power, "500mw", ["'mw'", "ambiguous", "mW (milliwatts) or MW (megawatts)"]),
        (parse_energy, "5mwh", ["'mwh'", "ambiguous", "mWh", "MWh"]),
        (parse_duration, "5M", ["'M'", "ambiguous", "min"]),
        (parse_rate, "5kx", ["'kx'"]),
    ],
)
def test_ambiguous_suffixes_are_refused(parser, text, words):  # type: ignore[no-untyped-def]
    with pytest.raises(UnitError) as caught:
        parser(text, "--x")
    for word in words:
        assert word in caught.value.message, (word, caught.value.message)


def test_lower_case_params_are_the_same_workload(capsys: Any) -> None:
    base = ["recommend", "--task", "inference", "--json"]
    lower = _json([*base, "--params", "70b"], capsys)
    upper = _json([*base, "--params", "70B"], capsys)
    assert lower[0] == upper[0] == 0 and lower[2] == upper[2] == ""
    assert lower[1]["workload"]["params"] == upper[1]["workload"]["params"] == 70e9
    assert [s["id"] for s in lower[1]["stacks"]] == [s["id"] for s in upper[1]["stacks"]]


# --------------------------------------------------------------------------- magnitudes


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (["--params", "70"], "--params 70: 70 parameters; did you mean 70B?"),
        (["--params", "5", "--model-type", "gnn"], "--params 5: 5 parameters; did you mean 5M?"),
        (["--tokens", "15"], "--tokens 15: 15 training tokens; did you mean 15B or 15T?"),
        (["--deadline", "30"], "--deadline 30: 30 seconds; did you mean 30h or 30d?"),
        (["--seq-len", "8"], "--seq-len 8: 8 tokens per sequence; did you mean 8k?"),
        (
            ["--layers", "5000"],
            "--layers 5000: 5,000 layers (plausible: at most 1,000 layers); check the value",
        ),
        (
            ["--params", "500k"],
            "--params 500k: 500,000 parameters (plausible: 1M parameters to 100T parameters); "
            "check the value and its unit",
        ),
    ],
)
def test_implausible_magnitudes_warn_once_and_run_on(
    extra: list[str], line: str, capsys: Any
) -> None:
    code, report, err = _json(["recommend", "--json", *extra], capsys)
    assert code in (0, 1) and "stacks" in report  # the run goes on; stdout is the JSON alone
    assert _warnings(err) == [f"infra-advisor: warning: {line}"]
    assert "error" not in err


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (["--rate", "2e6"], "--rate 2e6: 2M requests per second (plausible: at most 1M"),
        (["--latency-target", "200"], "--latency-target 200: 200 seconds; did you mean 200ms?"),
        (["--tpot-target", "50"], "--tpot-target 50: 50 seconds per output token; did you mean"),
    ],
)
def test_implausible_serving_targets_warn(extra: list[str], line: str, capsys: Any) -> None:
    argv = ["recommend", "--model", "llama-3.1-8b", "--task", "inference", "--json", *extra]
    code, report, err = _json(argv, capsys)
    assert code in (0, 1) and "stacks" in report
    (warning,) = _warnings(err)
    assert warning.startswith(f"infra-advisor: warning: {line}"), warning


def test_plausible_values_and_presets_warn_nothing(capsys: Any) -> None:
    # Presets also name no flag that does not apply to them (one run of each answers both).
    from infra_advisor.presets import list_presets

    for preset in list_presets():
        code, report, err = _json(["recommend", "--preset", preset["id"], "--json"], capsys)
        assert code in (0, 1) and err == "", (preset["id"], err)
        assert not [a for a in report["assumptions"] if "does not apply" in a], preset["id"]
    code, _, err = _json([*SERVE, "--latency-target", "200ms", "--params", "8B"], capsys)
    assert code == 0 and err == ""


def test_warning_leaves_stdout_pure_json_in_a_real_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra_advisor", "recommend", "--params", "70", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["workload"]["params"] == 70
    assert (
        result.stderr == "infra-advisor: warning: --params 70: 70 parameters; did you mean 70B?\n"
    )


def test_warning_through_the_typer_app() -> None:
    result = CliRunner().invoke(app, ["recommend", "--params", "70", "--format", "markdown"])
    assert result.exit_code == 0
    assert result.stderr.strip() == (
        "infra-advisor: warning: --params 70: 70 parameters; did you mean 70B?"
    )
    assert result.stdout.startswith("### infra-advisor:")


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        (["--framework", "vLLM"], "framework", "vllm"),
        (["--chip", "H100-SXM"], "chip", "h100-sxm"),
        (["--storage", "Local-NVMe-Gen5"], "storage", "local-nvme-gen5"),
        (["--vendor", "NVIDIA"], "vendor", "nvidia"),
        (["--cloud", "GCP"], "cloud", "gcp"),
        (["--model", "LLAMA-3.1-8B"], "model", "llama-3.1-8b"),
        (["--vendor", "Any"], "vendor", None),
    ],
)
def test_id_flags_match_in_any_case(
    extra: list[str], field: str, expected: str | None, capsys: Any, catalog: Any
) -> None:
    code, report, err = _json([*SERVE, *extra], capsys)
    assert code == 0, err
    assert report["workload"][field] == expected
    if field == "vendor" and expected:
        chips = {s["components"]["chip"]["id"] for s in report["stacks"]}
        assert chips and {catalog.chips[c].vendor for c in chips} == {expected}


def test_interconnect_and_preset_match_in_any_case(capsys: Any) -> None:
    code, report, _ = _json(
        ["recommend", "--preset", "LLAMA-70B-LORA", "--interconnect", "IB-NDR", "--json"], capsys
    )
    assert code in (0, 1)
    assert report["workload"]["interconnect"] == "ib-ndr"
    assert report["workload"]["description"]  # the preset was read


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--vendor", "nvdia"], ["--vendor: unknown vendor 'nvdia'", "did you mean 'nvidia'?"]),
        (["--cloud", "azur"], ["--cloud: unknown cloud 'azur'", "did you mean 'azure'?"]),
        (["--framework", "vlm"], ["--framework: unknown id 'vlm'", "did you mean 'vllm'?"]),
        (["--chip", "h100"], ["--chip: unknown id 'h100'", "did you mean 'h100-sxm'?"]),
        (["--storage", "GSC"], ["--storage: unknown id 'GSC'", "did you mean 'gcs'?"]),
        (["--interconnect", "ib-nrd"], ["--interconnect", "did you mean 'ib-ndr'?"]),
        (["--model", "lama-3.1-8b"], ["--model", "did you mean 'llama-3.1-8b'?"]),
        (["--preset", "llama-8b-chta"], ["--preset", "did you mean 'llama-8b-chat'?"]),
    ],
)
def test_unknown_ids_exit_2_with_a_suggestion(
    extra: list[str], words: list[str], capsys: Any
) -> None:
    code, out, err = run_main([*SERVE, *extra], capsys)
    assert code == 2 and out == ""
    assert err.startswith("infra-advisor: error: ") and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def test_a_stack_id_matches_in_any_case() -> None:
    result = CliRunner().invoke(
        app,
        ["explain", STACK.upper(), "--model", "llama-3.1-8b", "--task", "inference", "--json"],
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["stacks"][0]["id"] == STACK


def test_the_engine_refuses_a_misspelt_id_from_the_api(catalog: Any) -> None:
    from infra_advisor.search.engine import recommend
    from infra_advisor.workload import Workload, build_workload

    with pytest.raises(WorkloadError, match="spelled 'vllm'"):
        recommend(Workload(task="inference", framework="vLLM"), catalog)
    with pytest.raises(WorkloadError, match="did you mean 'nvidia'"):
        recommend(Workload(task="inference", vendor="nvdia"), catalog)
    assert build_workload({"framework": "vLLM"}, catalog=catalog).framework == "vllm"


# --------------------------------------------------------------------------- zero and negative


@pytest.mark.parametrize(
    ("flag", "value", "word"),
    [
        ("--power-budget", "0W", "'0W' must be greater than zero"),
        ("--power-budget", "-5W", "'-5W' is negative; it must be greater than zero"),
        ("--budget", "0", "must be greater than zero"),
        ("--budget", "$-20k", "is negative"),
        ("--battery", "0Wh", "must be greater than zero"),
        ("--deadline", "0d", "must be greater than zero"),
        ("--deadline", "-3d", "is negative"),
        ("--rate", "0", "must be greater than zero"),
        ("--rate", "-1/s", "is negative"),
        ("--latency-target", "0ms", "must be greater than zero"),
        ("--tpot-target", "-1ms", "is negative"),
        ("--checkpoint-every", "0h", "must be greater than zero"),
        ("--dataset-size", "0TB", "must be greater than zero"),
        ("--max-chips", "-8", "is negative; it must be at least 1"),
    ],
)
def test_zero_or_negative_limits_exit_2_naming_the_flag(
    flag: str, value: str, word: str, capsys: Any
) -> None:
    code, out, err = run_main([*SERVE, f"{flag}={value}"], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"infra-advisor: error: {flag}: "), err
    assert word in err, err


def test_a_zero_limit_in_a_workload_file_is_refused(tmp_path: Any, capsys: Any) -> None:
    path = tmp_path / "w.toml"
    path.write_text('task = "inference"\npower_budget = "0W"\n')
    code, out, err = run_main(["recommend", "--workload", str(path), "--json"], capsys)
    assert code == 2 and out == "" and "--power-budget" in err and "greater than zero" in err


# --------------------------------------------------------------------------- what does not apply


@pytest.mark.parametrize(
    ("argv", "note"),
    [
        (
            ["--task", "inference", "--tokens", "1T"],
            "--tokens does not apply to inference: ignored",
        ),
        (["--fanout", "15,10"], "--fanout does not apply to a transformer: ignored"),
        (["--prompt-tokens", "100"], "--prompt-tokens does not apply to training: ignored"),
        (
            ["--task", "finetune", "--rate", "5"],
            "--rate does not apply to fine-tuning: ignored",
        ),
        (
            ["--model-type", "gnn", "--sampling", "full", "--batch-size", "64", "--nodes", "1M"],
            "--batch-size does not apply to --sampling full (each step is the whole graph): "
            "ignored",
        ),
        (
            ["--model-type", "vision", "--params", "25M", "--tokens", "1B"],
            "--tokens does not apply to a vision model: ignored",
        ),
        (
            ["--task", "inference", "--deadline", "30d"],
            "--deadline does not apply to inference: ignored",
        ),
        (
            ["--deploy", "onprem", "--cloud", "aws"],
            "--cloud does not apply to --deploy onprem: ignored",
        ),
        (
            ["--chips", "8", "--max-chips", "64"],
            "--max-chips does not apply when --chips pins the count: ignored",
        ),
        (
            ["--task", "train", "--finetune-method", "lora"],
            "--finetune-method does not apply to training from scratch: ignored",
        ),
    ],
)
def test_flags_that_do_not_apply_are_named(argv: list[str], note: str, capsys: Any) -> None:
    code, report, _ = _json(["recommend", "--json", *argv], capsys)
    assert code in (0, 1)
    assert note in report["assumptions"], report["assumptions"]


def test_batch_size_applies_to_llm_serving(capsys: Any) -> None:
    code, report, _ = _json([*SERVE, "--batch-size", "4"], capsys)
    assert code == 0
    assert not [a for a in report["assumptions"] if "does not apply" in a]
    assert all(s["layout"]["batch"] <= 4 for s in report["stacks"])  # it caps the batch


# --------------------------------------------------------------------------- explain / compare


@pytest.mark.parametrize(
    "argv",
    [["explain", STACK], ["explain", STACK, "--json"], ["compare", STACK, STACK]],
)
def test_explain_and_compare_refuse_without_a_workload(argv: list[str], capsys: Any) -> None:
    code, out, err = run_main(argv, capsys)
    assert code == 2 and out == ""
    assert f"infra-advisor: error: {argv[0]} needs the workload" in err
    assert "--workload FILE or --preset NAME" in err and "hint:" in err


def test_explain_prints_the_workload_it_used() -> None:
    result = CliRunner().invoke(
        app, ["explain", STACK, "--model", "llama-3.1-8b", "--task", "inference", "--rate", "5"]
    )
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("infra-advisor: inference, transformer, 8.03B params, 5 req/s"), first


def test_compare_prints_the_workload_it_used() -> None:
    other = "b200:8/nvlink-5/-/local-nvme-gen5/vllm"
    result = CliRunner().invoke(
        app, ["compare", STACK, other, "--preset", "llama-8b-chat"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("infra-advisor: inference, transformer")
