"""The guided Q&A in a real pseudo-terminal (pexpect), as a newcomer meets it."""

from __future__ import annotations

import os
import sys
import time

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = pytest.mark.e2e


def spawn() -> pexpect.spawn:
    env = dict(os.environ, COLUMNS="120", LINES="50", TERM="xterm", NO_COLOR="1",
               PROMPT_TOOLKIT_NO_CPR="1")  # fmt: skip
    return pexpect.spawn(
        sys.executable,
        ["-m", "infra_advisor"],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 120),
    )


# A question as questionary draws it: a styled "?", then the message.
QUESTION = r"\?\x1b\[0;1m ([^\x1b]+)"


def test_pressing_enter_through_every_question_gives_a_ranked_table() -> None:
    child = spawn()
    child.expect("Which model")  # the first question; Enter = another model, described below
    child.send("\r")
    child.expect("What are you doing")
    child.send("\r")
    asked = {"What are you doing?"}
    for _ in range(80):  # each question once: prompt_toolkit redraws a prompt as it is answered
        index = child.expect([QUESTION, "What next"])
        text = child.match.group(1).strip() if index == 0 else "What next?"
        if text.startswith("What next"):
            break
        if text not in asked:
            asked.add(text)
            time.sleep(0.3)  # let the prompt finish drawing (keys typed ahead may be dropped)
            child.send("\r")
    else:
        pytest.fail("never reached the results")
    out = child.before
    assert "bottleneck" in out and "relief" in out
    child.send("\x1b[B" * 4 + "\r")  # Quit
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_exits_130_without_traceback() -> None:
    child = spawn()
    child.expect("Which model")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")


def test_a_sweep_on_a_terminal_shows_its_progress() -> None:
    env = dict(os.environ, COLUMNS="120", LINES="50", TERM="xterm", NO_COLOR="1",
               PROMPT_TOOLKIT_NO_CPR="1")  # fmt: skip
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "infra_advisor",
            "sweep",
            "--task",
            "inference",
            "--model",
            "llama-3.1-8b",
            "--sweep",
            "rate=1..8",
        ],  # fmt: skip
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 120),  # fmt: skip
    )
    child.expect(r"sweep: 4/4 points")
    child.expect("on the front")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
