"""`sweep`: the frontier over one or two swept fields, through the real entry point."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra_advisor.interface.cli import app

LLAMA70B_FP8 = ["--model", "llama-3.1-70b", "--task", "inference", "--precision", "fp8",
                "--rate", "10", "--chip", "h100-sxm"]  # fmt: skip


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["sweep", *args])


def sweep_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_chip_count_sweep_goes_through_the_planner_and_marks_the_front() -> None:
    data = sweep_json(*LLAMA70B_FP8, "--sweep", "chips=1..16")
    assert [p["values"]["chips"] for p in data["points"]] == [1, 2, 4, 8, 16]
    assert (
        data["x_metric"] == "tokens_per_s_per_user" and data["y_metric"] == "tokens_per_s_per_chip"
    )
    stacks = [p["stack"] for p in data["points"]]
    assert [s["components"]["chip"]["count"] for s in stacks] == [1, 2, 4, 8, 16]
    # More chips never serve less (the rate is 10 requests/s, 2,560 output tokens/s).
    served = [s["metrics"]["tokens_per_s"] for s in stacks]
    assert served == sorted(served) and served[-1] == pytest.approx(2560)
    # The front is what a brute-force dominance check over the two axes gives.
    pts = [(p["x"], p["y"]) for p in data["points"]]
    for p, (x, y) in zip(data["points"], pts, strict=True):
        dominated = any(a >= x and b >= y and (a > x or b > y) for a, b in pts)
        assert p["front"] is (not dominated)
    # Each point is what `recommend` says for that count.
    direct = CliRunner().invoke(app, ["recommend", *LLAMA70B_FP8, "--chips", "4", "--json"])
    assert json.loads(direct.stdout)["stacks"][0] == data["points"][2]["stack"]


def test_two_fields_make_a_grid_and_a_training_sweep_plots_time_against_cost() -> None:
    data = sweep_json("--preset", "llama-70b-lora", "--sweep", "chips=8,16",
                      "--sweep", "optimize=time,cost")  # fmt: skip
    assert [a["field"] for a in data["sweep"]] == ["chips", "optimize"]
    assert [(p["values"]["chips"], p["values"]["optimize"]) for p in data["points"]] == [
        ("8", "time"), ("8", "cost"), ("16", "time"), ("16", "cost")]  # fmt: skip
    assert (data["x_metric"], data["y_metric"]) == ("time_s", "cost_usd")
    assert any(p["front"] for p in data["points"])


def test_the_sweep_json_matches_its_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(CliRunner().invoke(app, ["schema", "sweep"]).stdout)
    jsonschema.validate(sweep_json(*LLAMA70B_FP8, "--sweep", "chips=1,2"), schema)


def test_csv_has_one_row_per_point_with_si_values() -> None:
    result = run(*LLAMA70B_FP8, "--sweep", "chips=1,2,4", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["chips"] for r in rows] == ["1", "2", "4"]
    assert all(float(r["tokens_per_s_per_chip"]) > 0 for r in rows)
    assert {r["front"] for r in rows} <= {"true", "false"}


def test_the_chart_renders_as_svg_and_html_with_the_front_in_it(tmp_path: Path) -> None:
    svg, page = tmp_path / "front.svg", tmp_path / "front.html"
    result = run(*LLAMA70B_FP8, "--sweep", "chips=1..16",
                 "--export-svg", str(svg), "--export-html", str(page))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    root = ET.fromstring(svg.read_text(encoding="utf-8"))  # parses as XML
    assert root.tag.endswith("svg")
    text = svg.read_text(encoding="utf-8")
    data = sweep_json(*LLAMA70B_FP8, "--sweep", "chips=1..16")
    front_rows = [i for i, p in enumerate(data["points"], 1) if p["front"]]
    assert front_rows and all(f"#{i} chips=" in text for i in front_rows)
    assert "Pareto front" in text and "http" not in text.split("<svg", 1)[1].split("xmlns")[0]
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "<table>" in html and "Pareto front" in html
    # The same sweep gives the same bytes; an existing file is kept without --force.
    again = run(*LLAMA70B_FP8, "--sweep", "chips=1..16", "--export-svg", str(svg))
    assert again.exit_code == 2 and "already exists" in again.stderr
    (tmp_path / "b.svg").write_text("")
    run(*LLAMA70B_FP8, "--sweep", "chips=1..16", "--export-svg", str(tmp_path / "b.svg"), "--force")
    assert (tmp_path / "b.svg").read_text(encoding="utf-8") == text


def test_the_table_has_the_terminal_scatter() -> None:
    result = run(*LLAMA70B_FP8, "--sweep", "chips=1..16")
    assert result.exit_code == 0
    out = result.stdout
    assert "tok/s/user" in out and "★ on the front" in out and "│" in out and "└" in out
    assert "sweep:" not in result.stderr  # progress only on a terminal


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("chipz=1,2", "did you mean chip"),
        ("chips", "expected FIELD=VALUES"),
        ("chips=8..4", "a range runs from a positive LOW up to HIGH"),
        ("rate=1..1000000x1.05", "at most 200"),
        ("rate=1,-5", "--rate"),
        ("model=llama-3.1-8b,lama-3.1-70b", "did you mean"),
        ("chips=1,,2", "an empty value"),
    ],
)
def test_bad_sweeps_exit_2_naming_what_is_wrong(spec: str, says: str) -> None:
    result = run("--task", "inference", "--rate", "5", "--sweep", spec)
    assert result.exit_code == 2
    assert says in result.stderr and "Traceback" not in result.stderr


def test_three_fields_are_refused() -> None:
    result = run("--task", "inference", "--sweep", "chips=1,2", "--sweep", "rate=1,2",
                 "--sweep", "prompt_tokens=100,200")  # fmt: skip
    assert result.exit_code == 2 and "one or two fields" in result.stderr


def test_a_point_with_no_stack_says_why_in_its_own_terms() -> None:
    # 405B on 2,048 chips of any kind misses the preset's 90-day deadline: the point says so,
    # rather than listing parts that never apply (a DPU, an edge board).
    result = run("--preset", "llama-405b-pretrain", "--sweep", "chips=2048", "--json")
    assert result.exit_code == 1  # the command ran; no point has a stack
    point = json.loads(result.stdout)["points"][0]
    assert point["stack"] is None and point["reasons"]
    assert all("deadline" in r or "needs at least" in r for r in point["reasons"])
    assert not any("DPU" in r or "edge" in r for r in point["reasons"])
