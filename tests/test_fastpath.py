"""The fast JSON path of the console script answers exactly as the typer app does, or defers to it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from infra_advisor.interface.cli import app
from infra_advisor.interface.entry import parse_fast

runner = CliRunner()

SAME = [
    ["recommend", "--preset", "llama-8b-chat", "--format", "json", "-n", "2"],
    ["recommend", "-p", "edge-gnn-friendship", "--json", "--top=3", "--power-budget", "5W"],
    ["recommend", "--preset=dlrm-criteo", "--format", "MARKDOWN", "--chips", "8"],
    ["recommend", "--preset", "llama-8b-chat", "--json", "--chip", "h100-sxm", "--require-fit"],
    ["recommend", "--preset", "no-such-preset", "--json"],
    ["recommend", "--preset", "llama-8b-chat", "--json", "--params", "seventy"],
    ["recommend", "--preset", "llama-8b-chat", "--json", "--catalog", "/no/such/dir"],
]


@pytest.mark.parametrize("argv", SAME, ids=lambda a: " ".join(a[1:4]))
def test_fast_path_matches_the_typer_app(argv: list[str]) -> None:
    assert parse_fast(argv) is not None  # these are the fast path's to answer
    fast = subprocess.run(
        [sys.executable, "-m", "infra_advisor", *argv], capture_output=True, text=True, check=False
    )
    slow = runner.invoke(app, argv)
    assert fast.returncode == slow.exit_code
    assert fast.stdout == slow.stdout
    assert fast.stderr.strip() == slow.stderr.strip()
    assert "Traceback" not in fast.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["recommend", "--preset", "llama-8b-chat"],  # table: rich needed anyway
        ["recommend", "--preset", "llama-8b-chat", "--json", "--help"],
        ["recommend", "--preset", "llama-8b-chat", "--json", "--export-svg", "x.svg"],
        ["recommend", "--preset", "llama-8b-chat", "--json", "--chips", "2", "--chips", "3"],
        ["recommend", "--preset", "llama-8b-chat", "--json", "--params", "-5"],
        ["recommend", "--preset", "llama-8b-chat", "--json", "--top", "0"],
        ["recommend", "--preset", "llama-8b-chat", "--json", "--bogus", "1"],
        ["recommend", "--preset", "llama-8b-chat", "--json", "extra"],
        ["recommend", "--preset"],
        ["recommend", "-p=llama-8b-chat", "--json"],
        ["explain", "x", "--json"],
        [],
    ],
)
def test_anything_unusual_goes_to_the_typer_app(argv: list[str]) -> None:
    assert parse_fast(argv) is None


def test_the_console_exit_keeps_output_and_exit_codes() -> None:
    """The installed command leaves a fast-path answer without interpreter teardown: what it
    wrote is all there, and the exit code is the answer's (0, and 2 for bad input)."""
    ok = subprocess.run(
        [sys.executable, "-m", "infra_advisor", "recommend", "--preset", "llama-8b-chat", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0 and ok.stdout.endswith("}\n")
    assert json.loads(ok.stdout)["stacks"]
    bad = subprocess.run(
        [sys.executable, "-m", "infra_advisor", "recommend", "--preset", "nope", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "unknown preset" in bad.stderr and not bad.stdout


def test_the_console_survives_a_closed_pipe() -> None:
    """`infra-advisor recommend ... | head -1`: the reader goes away; no traceback."""
    shell = (
        f"{sys.executable} -m infra_advisor recommend --preset llama-8b-chat --format markdown"
        " | head -c 10"
    )
    run = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=False)
    assert run.stdout.startswith("###") and "Traceback" not in run.stderr


def test_a_json_answer_never_loads_inspect_and_its_users_get_the_real_one() -> None:
    # dataclasses imports inspect (and with it ast, dis, tokenize) only to write signatures into
    # classes without docstrings; the console entry defers it (interface/_deferred.py).
    code = (
        "import io, sys, contextlib\n"
        "sys.argv = ['infra-advisor', 'recommend', '--preset', 'llama-8b-chat', '--json']\n"
        "from infra_advisor.interface import entry\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        entry.main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(type(sys.modules['inspect']).__name__, 'ast' in sys.modules)\n"
        "import inspect, dataclasses\n"
        "@dataclasses.dataclass\n"
        "class Plain:\n"
        "    a: int\n"
        "print(Plain.__doc__, inspect.signature(len).parameters['obj'].name,\n"
        "      type(sys.modules['inspect']).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = done.stdout.strip().splitlines()[-2:]
    assert first == "_Deferred False"
    assert second == "Plain(a: int) obj module"
