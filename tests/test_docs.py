"""Docs cannot drift: the CLI reference is generated from the typer app; README commands run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_current(tmp_path: Path) -> None:
    typer_cli = shutil.which("typer")
    if typer_cli is None:
        pytest.skip("the typer command is not installed")
    out = tmp_path / "cli.md"
    subprocess.run(
        [
            typer_cli,
            "infra_advisor.interface.cli",
            "utils",
            "docs",
            "--name",
            "infra-advisor",
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    assert out.read_text() == (ROOT / "docs" / "cli.md").read_text(), (
        "docs/cli.md is stale: run `typer infra_advisor.interface.cli utils docs --name infra-advisor --output docs/cli.md`"
    )


def test_readme_usage_commands_run(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Use", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    for line in block.strip().splitlines():
        command = line.split("#", 1)[0].strip()
        if not command or "ID1" in command or "./our-catalog" in command:
            continue
        args = command.split()[1:]
        args = [a.strip("'") for a in args]
        if "plan.toml" in args:
            continue
        result = subprocess.run(
            [sys.executable, "-m", "infra_advisor", *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,  # what a command writes (an exported chart) lands here
        )
        assert result.returncode in (0, 1), (command, result.stderr[-400:])
