"""The guided Q&A, driven in-process through prompt_toolkit's pipe input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from typer.testing import CliRunner

from infra_advisor.interface.cli import app
from infra_advisor.interface.prompts import ask_workload, run_guided
from infra_advisor.workload import build_workload

ENTER, DOWN, CLEAR, CTRL_C = "\r", "\x1b[B", "\x15", "\x03"


@contextmanager
def keys(text: str) -> Iterator[None]:
    with create_pipe_input() as pipe:
        pipe.send_text(text)
        with create_app_session(input=pipe, output=DummyOutput()):
            yield


def test_accepting_every_default_gives_a_sensible_serving_workload() -> None:
    with keys(ENTER * 30):
        answers = ask_workload({})
    workload = build_workload(answers)
    assert workload.task == "inference" and workload.model_type == "transformer"
    assert workload.params == 8e9 and workload.rate == 10
    assert "nodes" not in answers and "power_budget" not in answers and "tokens" not in answers


def test_graph_branch_asks_graph_questions_only() -> None:
    # model: another (Enter); task: train (third choice); model type: GNN (second); defaults.
    with keys(ENTER + DOWN * 2 + ENTER + DOWN + ENTER + ENTER * 30):
        answers = ask_workload({})
    assert answers["task"] == "train" and answers["model_type"] == "gnn"
    for key in ("nodes", "edges", "node_features", "edge_features", "sampling", "fanout"):
        assert key in answers
    assert "rate" not in answers and "embedding_rows" not in answers


def test_edge_branch_asks_power_and_battery() -> None:
    # defaults for model/task/type/params/moe/rate/prompt/output/latency, then deploy: edge (third).
    with keys(ENTER * 9 + DOWN * 2 + ENTER + CLEAR + "10W" + ENTER + "50Wh" + ENTER + ENTER * 10):
        answers = ask_workload({})
    assert (
        answers["deploy"] == "edge"
        and answers["power_budget"] == "10W"
        and answers["battery"] == "50Wh"
    )
    assert build_workload(answers).battery == 50 * 3600


def test_flags_pre_answer_their_questions() -> None:
    with keys(ENTER * 30):
        answers = ask_workload({"task": "finetune", "params": "70B", "model_type": "transformer"})
    assert answers["params"] == "70B" and answers["finetune_method"] == "lora"
    assert "rate" not in answers


def test_invalid_answer_is_refused_in_place_and_asked_again() -> None:
    # model, task, type defaults; params: type nonsense (refused), then clear and type 70B.
    with keys(ENTER * 3 + CLEAR + "lots" + ENTER + CLEAR + "70B" + ENTER + ENTER * 30):
        answers = ask_workload({})
    assert answers["params"] == "70B"


def test_ctrl_c_interrupts() -> None:
    with keys(CTRL_C), pytest.raises(KeyboardInterrupt):
        ask_workload({})


def test_saved_workload_reproduces_the_same_report(tmp_path: Path, capsys: Any) -> None:
    plan = tmp_path / "plan.toml"
    quit_menu = DOWN * 4 + ENTER
    with keys(ENTER * 13 + quit_menu):
        code = run_guided({}, save=str(plan))
    assert code == 0 and plan.exists()
    shown = capsys.readouterr().out
    assert "bottleneck" in shown
    with keys(ENTER * 13 + quit_menu):
        answers = ask_workload({})
    from infra_advisor.catalog import load_catalog
    from infra_advisor.checks import to_data
    from infra_advisor.search.engine import recommend

    direct = to_data(recommend(build_workload(answers), load_catalog()))
    result = CliRunner().invoke(app, ["recommend", "--workload", str(plan), "--json"])
    assert result.exit_code == 0
    from_file = json.loads(result.stdout)
    assert from_file["stacks"] == direct["stacks"]


def test_save_never_overwrites(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text("keep me")
    from infra_advisor.errors import FileWriteError

    with keys(ENTER * 13), pytest.raises(FileWriteError):
        run_guided({}, save=str(plan))
    assert plan.read_text() == "keep me"


def test_ask_without_terminal_names_the_alternatives() -> None:
    result = CliRunner().invoke(app, ["ask"])
    assert result.exit_code == 2
    assert "--workload" in result.stderr and "--preset" in result.stderr
