"""The commands as a script or CI job uses them (CliRunner; stdout and stderr apart)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra_advisor import __version__
from infra_advisor.interface.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and __version__ in out


def test_catalog_list_json_has_every_kind_with_full_entries() -> None:
    code, out, _ = run("catalog", "list", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"chips", "interconnects", "storage", "frameworks", "models", "offerings"}
    h100 = next(c for c in data["chips"] if c["id"] == "h100-sxm")
    assert h100["peak_tflops"]["bf16"] > 900 and h100["sources"] and h100["as_of"]


def test_catalog_list_one_kind_and_show() -> None:
    code, out, _ = run("catalog", "list", "interconnects", "--json")
    assert code == 0 and list(json.loads(out)) == ["interconnects"]
    code, out, _ = run("catalog", "show", "ib-ndr", "--json")
    assert code == 0 and json.loads(out)["kind"] == "interconnects"
    code, out, _ = run("catalog", "show", "h100-sxm")
    assert code == 0 and "NVIDIA H100" in out


def test_catalog_show_unknown_id_suggests() -> None:
    code, out, err = run("catalog", "show", "h100-sxn")
    assert code == 2 and out == "" and "h100-sxn" in err and "h100-sxm" in err


def test_catalog_list_unknown_kind() -> None:
    code, _, err = run("catalog", "list", "gpus")
    assert code == 2 and "unknown kind 'gpus'" in err


def test_catalog_validate_shipped_and_bad_overlay(tmp_path: Path) -> None:
    code, out, _ = run("catalog", "validate")
    assert code == 0 and "catalog valid" in out
    (tmp_path / "storage.toml").write_text("[[storage]]\nid = 1\n")
    code, out, err = run("catalog", "validate", str(tmp_path))
    assert code == 2 and "storage.toml" in err and "Traceback" not in err + out


def test_overlay_flag_on_recommend(tmp_path: Path) -> None:
    (tmp_path / "chips.toml").write_text("[[chip]]\nid = oops\n")
    code, _, err = run(
        "recommend", "--preset", "llama-8b-chat", "--catalog", str(tmp_path), "--json"
    )
    assert code == 2 and f"{tmp_path}/chips.toml:2:" in err


@pytest.mark.parametrize(
    "preset", ["llama-70b-lora", "llama-405b-pretrain", "llama-8b-chat", "mixtral-moe-pretrain"]
)
def test_every_preset_ranks_explained_stacks_in_json(preset: str) -> None:
    code, out, _ = run("recommend", "--preset", preset, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["schema_version"] >= 1 and report["stacks"]
    for stack in report["stacks"]:
        assert stack["bottleneck"]["kind"] in {
            "compute",
            "memory_bandwidth",
            "memory_capacity",
            "network",
            "storage",
            "power",
            "host",
        }
        assert any(ch.isdigit() for ch in stack["bottleneck"]["explanation"])
        assert stack["bottleneck"]["relief"]
        for key in ("compute_s", "memory_s", "network_s", "storage_s", "host_s"):
            assert key in stack["breakdown"]
        for key in (
            "chips",
            "time_s",
            "step_time_s",
            "chip_hours",
            "tokens_per_s",
            "ttft_s",
            "tpot_s",
            "samples_per_s",
            "memory_per_chip_bytes",
            "memory_capacity_per_chip_bytes",
            "power_w",
            "energy_kwh",
            "cost_usd",
        ):
            assert key in stack["metrics"]
        assert (
            stack["metrics"]["memory_per_chip_bytes"]
            <= stack["metrics"]["memory_capacity_per_chip_bytes"]
        )


def test_markdown_and_table_outputs() -> None:
    code, out, _ = run("recommend", "--preset", "llama-8b-chat", "--format", "markdown")
    assert code == 0 and out.startswith("### infra-advisor") and "| # |" in out
    code, out, _ = run("recommend", "--preset", "llama-8b-chat", "--top", "2")
    assert code == 0 and "bottleneck" in out and "\x1b[" not in out


def test_json_output_is_byte_identical_across_runs() -> None:
    first = run("recommend", "--preset", "mixtral-moe-pretrain", "--json")[1]
    second = run("recommend", "--preset", "mixtral-moe-pretrain", "--json")[1]
    assert first == second


def test_flags_override_preset_and_bad_flags_exit_2() -> None:
    code, out, _ = run("recommend", "--preset", "llama-8b-chat", "--rate", "5", "--json")
    assert code == 0 and json.loads(out)["workload"]["rate"] == 5
    code, out, err = run("recommend", "--params", "lots")
    assert code == 2 and out == "" and "--params" in err
    code, _, err = run("recommend", "--preset", "llama-8b-chatt")
    assert code == 2 and "llama-8b-chat" in err
    code, _, err = run("recommend", "--chip", "h100")
    assert code == 2 and "--chip" in err
    code, _, err = run("recommend", "--interconnect", "nvlink-4")
    assert code == 2 and "scale-up link" in err
    code, _, err = run("recommend", "--format", "yaml")
    assert code == 2 and "--format" in err


def test_workload_file_with_unknown_key(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('task = "inference"\nparms = "8B"\n')
    code, _, err = run("recommend", "--workload", str(plan))
    assert code == 2 and "parms" in err and "params" in err


def test_workload_file_reproduces_flags(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('task = "finetune"\nfinetune_method = "qlora"\nparams = "8B"\ntokens = "20M"\n')
    from_file = run("recommend", "--workload", str(plan), "--json")[1]
    from_flags = run(
        "recommend",
        "--task",
        "finetune",
        "--finetune-method",
        "qlora",
        "--params",
        "8B",
        "--tokens",
        "20M",
        "--json",
    )[1]
    assert json.loads(from_file)["stacks"] == json.loads(from_flags)["stacks"]


def test_budget_and_deadline_gate_with_exit_1() -> None:
    code, out, _ = run("recommend", "--preset", "llama-70b-lora", "--budget", "$1", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["stacks"] == []
    assert any("budget" in reason for r in report["rejected"] for reason in r["reasons"])
    code, out, _ = run("recommend", "--preset", "llama-405b-pretrain", "--deadline", "1d", "--json")
    assert code == 1
    assert any("deadline" in reason for r in json.loads(out)["rejected"] for reason in r["reasons"])


def test_require_fit_turns_a_saturated_stack_into_exit_1() -> None:
    args = [
        "recommend",
        "--preset",
        "llama-8b-chat",
        "--chip",
        "l4",
        "--chips",
        "1",
        "--rate",
        "500",
        "--json",
    ]
    code, out, _ = run(*args)
    assert code == 0
    stack = json.loads(out)["stacks"][0]
    assert not stack["fits"] and any("saturated" in n for n in stack["notes"])
    code, _, _ = run(*args, "--require-fit")
    assert code == 1


def test_explain_and_compare_accept_ids_from_recommend() -> None:
    report = json.loads(run("recommend", "--preset", "llama-70b-lora", "--json", "--top", "2")[1])
    first, second = (s["id"] for s in report["stacks"])
    code, out, _ = run("explain", first, "--preset", "llama-70b-lora", "--json")
    assert code == 0
    explained = json.loads(out)["stacks"][0]
    assert explained["id"] == first and explained["terms"]
    assert explained["metrics"]["time_s"] == pytest.approx(report["stacks"][0]["metrics"]["time_s"])
    code, out, _ = run("explain", first, "--preset", "llama-70b-lora")
    assert code == 0 and "Working" in out and "Relief" in out
    code, out, _ = run("compare", first, second, "--preset", "llama-70b-lora", "--json")
    assert code == 0 and {s["id"] for s in json.loads(out)["stacks"]} == {first, second}
    code, _, err = run("explain", "not-an-id", "--preset", "llama-70b-lora")
    assert code == 2 and "CHIP:COUNT" in err


def test_presets_and_schema() -> None:
    code, out, _ = run("presets", "--json")
    assert code == 0 and len(json.loads(out)) >= 4
    code, out, _ = run("schema", "report")
    assert code == 0 and "2020-12" in json.loads(out)["$schema"]
    code, out, _ = run("schema", "workload")
    assert code == 0 and "params" in json.loads(out)["properties"]


def test_no_arguments_without_terminal_prints_help_and_exits_2() -> None:
    code, _, err = run()
    assert code == 2 and "Usage" in err


def test_micro_batch_flag_pins_the_training_micro_batch() -> None:
    code, out, _ = run("recommend", "--model", "qwen3-30b-a3b", "--task", "train", "--tokens", "10B",
                       "--seq-len", "4096", "--batch-size", "512", "--chip", "b200", "--chips", "8",
                       "--micro-batch", "2", "--top", "1", "--json")  # fmt: skip
    assert code == 0
    layout = json.loads(out)["stacks"][0]["layout"]
    assert layout["micro_batch"] == 2
    assert layout["micro_batches"] * layout["micro_batch"] * layout["data_parallel"] == 512
    code, _, err = run("recommend", "--task", "train", "--micro-batch", "0")
    assert code == 2 and "--micro-batch" in err
