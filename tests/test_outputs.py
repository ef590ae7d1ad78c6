"""JSON against the published schema, Markdown for CI, exports, and a lean JSON path."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from infra_advisor.checks import to_data
from infra_advisor.interface.cli import app
from infra_advisor.presets import list_presets

runner = CliRunner()
PRESETS = [p["id"] for p in list_presets()]


@pytest.fixture(scope="module")
def report_schema() -> dict[str, object]:
    result = runner.invoke(app, ["schema", "report"])
    assert result.exit_code == 0
    schema: dict[str, object] = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_report_matches_the_published_schema(
    preset: str, report_schema: dict[str, object]
) -> None:
    result = runner.invoke(app, ["recommend", "--preset", preset, "--json"])
    assert result.exit_code == 0, result.stderr
    jsonschema.validate(
        json.loads(result.stdout), report_schema, cls=jsonschema.Draft202012Validator
    )


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_renders_markdown_tables(preset: str) -> None:
    result = runner.invoke(app, ["recommend", "--preset", preset, "--format", "markdown"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| # |"))
    assert lines[header + 1].startswith("|") and "---" in lines[header + 1]
    assert "*Relief:*" in result.stdout


def test_workload_schema_validates_a_saved_workload(tmp_path: Path) -> None:
    schema = json.loads(runner.invoke(app, ["schema", "workload"]).stdout)
    from infra_advisor.workload import build_workload

    workload = build_workload({"params": "70B", "task": "finetune", "battery": "50Wh"})
    jsonschema.validate(to_data(workload), schema, cls=jsonschema.Draft202012Validator)


def test_export_svg_and_html_never_overwrite(tmp_path: Path) -> None:
    svg, html = tmp_path / "r.svg", tmp_path / "r.html"
    args = [
        "recommend",
        "--preset",
        "llama-8b-chat",
        "--json",
        "--export-svg",
        str(svg),
        "--export-html",
        str(html),
    ]
    assert runner.invoke(app, args).exit_code == 0
    assert svg.read_text().startswith("<svg") and "<html" in html.read_text()
    svg.write_text("mine")
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "already exists" in result.stderr and result.stdout == ""
    assert svg.read_text() == "mine"
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert svg.read_text().startswith("<svg")


def test_json_path_does_not_import_rich_or_questionary() -> None:
    # STYLE habit 9: the JSON path stays lean; rich and questionary load only where they draw or ask,
    # the fast path (infra_advisor.interface.entry) answers without typer or click, and the shipped catalog's
    # validated form (infra_advisor/catalog_validated.json) answers without pydantic.
    code = (
        "import sys; sys.argv = ['infra-advisor', 'recommend', '--preset', 'llama-8b-chat', '--json'];\n"
        "from infra_advisor.interface.entry import main\ntry:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'questionary', 'prompt_toolkit', 'typer', 'click', 'pydantic', 'pydantic_core'))\n"
        "print('LOADED', bad, file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert "LOADED []" in result.stderr, result.stderr[-500:]
    assert json.loads(result.stdout)["stacks"]


def test_piped_table_has_no_escape_codes_and_no_color_is_respected() -> None:
    env = {"NO_COLOR": "1", "COLUMNS": "100", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "infra_advisor", "recommend", "--preset", "llama-8b-chat"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout and "bottleneck" in result.stdout


def test_a_narrow_terminal_wraps_stack_ids_instead_of_cutting_them() -> None:
    from rich.console import Console

    from infra_advisor.catalog import load_catalog
    from infra_advisor.interface.render.table import render_ranking
    from infra_advisor.search.engine import recommend
    from infra_advisor.workload import build_workload

    w = build_workload(dict(task="inference", params="100M", rate=1, deploy="edge",
                            power_budget="15W", battery="50Wh"))  # fmt: skip
    report = recommend(w, load_catalog())
    console = Console(width=80, record=True, file=io.StringIO())
    render_ranking(report, console)
    text = console.export_text()
    table = text.split("★ Pareto")[0]
    assert "…" not in table and "battery" in table and "power" in table
    joined = "".join(
        line.split("│")[2].strip() for line in table.splitlines() if line.count("│") > 3
    )
    assert all(s.components.chip.id in joined for s in report.stacks)
