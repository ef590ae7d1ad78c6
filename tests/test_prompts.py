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
    with keys(ENTER * 14 + quit_menu):
        code = run_guided({}, save=str(plan))
    assert code == 0 and plan.exists()
    shown = capsys.readouterr().out
    assert "bottleneck" in shown
    with keys(ENTER * 14 + quit_menu):
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

    with keys(ENTER * 14), pytest.raises(FileWriteError):
        run_guided({}, save=str(plan))
    assert plan.read_text() == "keep me"


def test_ask_without_terminal_names_the_alternatives() -> None:
    result = CliRunner().invoke(app, ["ask"])
    assert result.exit_code == 2
    assert "--workload" in result.stderr and "--preset" in result.stderr


def _applicable(answers: dict[str, Any]) -> list[Any]:
    from infra_advisor.interface.prompts import QUESTIONS

    return [q for q in QUESTIONS if q.when(answers)]


def test_a_served_gnn_is_not_asked_about_sampling_tokens_or_a_resnet_size() -> None:
    asked = _applicable({"task": "inference", "model_type": "gnn", "deploy": "edge"})
    keys_asked = {q.key for q in asked}
    assert not {"sampling", "fanout", "params", "prompt_tokens"} & keys_asked
    assert {"layers", "hidden", "nodes", "edges", "latency_target"} <= keys_asked
    text = " ".join(q.message + " " + q.hint for q in asked)
    assert "token" not in text and "ResNet" not in text
    # A GNN being trained is asked how it samples, with one fanout per layer by default.
    trained = {
        q.key: q
        for q in _applicable({"task": "train", "model_type": "gnn", "sampling": "neighbor"})
    }
    assert "sampling" in trained and "params" not in trained
    fanout = trained["fanout"]
    assert fanout.default_for({"layers": "3", "sampling": "neighbor"}) == "15,10,5"


def test_the_edges_default_follows_the_node_count() -> None:
    # model: another; task: train; type: GNN; samples, dataset, files: defaults; nodes: 1B.
    with keys(
        ENTER + DOWN * 2 + ENTER + DOWN + ENTER + ENTER * 3 + CLEAR + "1B" + ENTER + ENTER * 30
    ):
        answers = ask_workload({})
    assert answers["nodes"] == "1B" and answers["edges"] == "10B"


def test_change_an_answer_lists_questions_in_order_with_their_values() -> None:
    from infra_advisor.interface.prompts import answer_menu

    answers = {"task": "inference", "model_type": "transformer", "params": "70B", "rate": "20"}
    menu = answer_menu(answers)
    labels = [label for label, _ in menu]
    keys_in_order = [key for _, key in menu]
    assert keys_in_order[:3] == ["model", "task", "model_type"]
    assert (
        keys_in_order.index("params") < keys_in_order.index("rate") < keys_in_order.index("deploy")
    )
    assert "How many parameters does the model have? (70B)" in labels
    # Questions that apply but were not answered are offered too, with their default.
    assert any(label.startswith("What power budget") for label in labels) is False
    assert "How long is a typical prompt, in tokens? (default 1024)" in labels
    assert all(not label.islower() for label in labels)  # human labels, not internal keys


def test_saved_file_holds_what_was_typed(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    quit_menu = DOWN * 4 + ENTER
    # model: another; task/type defaults; 100M params; MoE: no; 1 request/s; defaults to deploy:
    # edge; 15W; battery 50Wh.
    typed = ENTER * 3 + CLEAR + "100M" + ENTER * 2 + CLEAR + "1" + ENTER * 4 + DOWN * 2 + ENTER
    with keys(typed + ENTER + "50Wh" + ENTER + ENTER * 2 + quit_menu):
        run_guided({}, save=str(plan))
    text = plan.read_text()
    assert 'params = "100M"' in text and 'battery = "50Wh"' in text
    assert "J" not in text and "100000000" not in text
    result = CliRunner().invoke(app, ["recommend", "--workload", str(plan), "--json"])
    assert json.loads(result.stdout)["workload"]["battery"] == 50 * 3600


def test_a_diffusion_model_needs_its_flops_answered() -> None:
    # A diffusion model with no published per-step FLOPs (an overlay's in-house UNet): the FLOPs
    # question cannot be skipped (a blank answer is refused in place), so the answers always
    # build a workload.  Model my-unet; task, rate and latency: defaults; FLOPs: a blank
    # answer, refused; then 300T.
    from infra_advisor.catalog import load_catalog

    catalog = load_catalog([str(Path(__file__).parent / "data" / "unet")])
    with keys("my-unet" + ENTER + ENTER * 3 + CLEAR + ENTER + "300T" + ENTER + ENTER * 20):
        answers = ask_workload({}, catalog)
    assert answers["model"] == "my-unet" and answers["flops_per_sample"] == "300T"
    assert build_workload(answers, catalog=catalog).flops_per_sample == 300e12
