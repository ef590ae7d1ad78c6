"""Fuzz the input edges: the unit parser, workload files, catalog files and the command line.

Run from the repository root with the project installed:

    python benchmarks/fuzz.py                 # 20,000 inputs per target
    python benchmarks/fuzz.py --examples 2000 # quicker

Each target feeds generated input to one entry point and accepts exactly two outcomes: a value
(or report), or an ``AdvisorError`` whose message names the culprit.  Anything else -- another
exception, a NaN or negative quantity, a traceback on stderr -- is a finding, printed with the
input that caused it.  Findings and fixes are logged in benchmarks/fuzz.md.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra_advisor import units
from infra_advisor.catalog import load_catalog
from infra_advisor.errors import AdvisorError
from infra_advisor.workload import build_workload, load_workload_file

PARSERS = ["parse_count", "parse_bytes", "parse_power", "parse_energy", "parse_duration",
           "parse_money", "parse_rate"]  # fmt: skip
QUANTITY_TEXT = st.one_of(
    st.text(max_size=24),
    st.from_regex(r"[-+ ]?[0-9._,eE]{0,10}\s*[a-zA-Z$/%]{0,5}", fullmatch=True),
)
SHIPPED = {
    name: resources.files("infra_advisor.data").joinpath(name).read_bytes()
    for name in ("chips.toml", "interconnects.toml", "storage.toml", "frameworks.toml")
}
JUNK_VALUES = ["nan", "inf", "-inf", "-1", "0", "1e400", "1e300", '"x"', "[]", "{}", "true",
               '"\\u0000"', "2026-13-45", '"' + "a" * 300 + '"', "[1, [2]]"]  # fmt: skip


class Target:
    def __init__(self, name: str) -> None:
        self.name, self.tried, self.findings = name, 0, []  # type: list[tuple[str, str]]  # noqa: E501

    def finding(self, sample: object, problem: str) -> None:
        if len(self.findings) < 20:
            self.findings.append((repr(sample)[:200], problem))


def fuzz_units(target: Target, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None)
    @given(QUANTITY_TEXT, st.sampled_from(PARSERS))
    def run(text: str, parser: str) -> None:
        target.tried += 1
        try:
            value = getattr(units, parser)(text, "--x")
        except AdvisorError:
            return
        except Exception as exc:  # noqa: BLE001  # any other exception is the finding
            target.finding((parser, text), repr(exc))
            return
        if not (math.isfinite(value) and value >= 0):
            target.finding((parser, text), f"returned {value!r}")

    run()


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        op = rng.randrange(5)
        if op == 0 and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {rng.choice(JUNK_VALUES)}"
        elif op == 1:
            del lines[i]
        elif op == 2:
            lines.insert(i, lines[rng.randrange(len(lines))])  # duplicate a line elsewhere
        elif op == 3:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]  # truncate a line
        else:
            lines = lines[: i + 1]  # truncate the file
    return "\n".join(lines) + "\n"


def fuzz_catalog(target: Target, examples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:

        @settings(max_examples=examples, deadline=None, database=None)
        @given(
            st.sampled_from(sorted(SHIPPED)),
            st.integers(0, 2**32),
            st.one_of(st.none(), st.binary(max_size=64)),
        )
        def run(name: str, seed: int, raw: bytes | None) -> None:
            target.tried += 1
            data = (
                raw
                if raw is not None
                else _mutate(SHIPPED[name].decode(), random.Random(seed)).encode()
            )
            path = Path(tmp) / name
            path.write_bytes(data)
            try:
                load_catalog([tmp])
            except AdvisorError as exc:
                if name not in exc.message:
                    target.finding(data[:120], f"message does not name the file: {exc.message}")
            except Exception as exc:  # noqa: BLE001
                target.finding(data[:120], repr(exc))
            finally:
                path.unlink()

        run()


def fuzz_workload_files(target: Target, examples: int) -> None:
    keys = ["task", "params", "model_type", "precision", "tokens", "rate", "nodes", "edges",
            "fanout", "chips", "power_budget", "battery", "weight_sparsity", "parms", "layers"]  # fmt: skip
    value = st.one_of(
        st.sampled_from(JUNK_VALUES),
        st.from_regex(r'"[0-9a-zA-Z.,:%$ -]{0,8}"', fullmatch=True),
        st.integers(-(10**12), 10**12).map(str),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.toml"

        @settings(max_examples=examples, deadline=None, database=None)
        @given(
            st.one_of(
                st.binary(max_size=64),
                st.lists(st.tuples(st.sampled_from(keys), value), max_size=6).map(
                    lambda kv: "\n".join(f"{k} = {v}" for k, v in kv).encode()
                ),
            )
        )
        def run(raw: bytes) -> None:
            target.tried += 1
            path.write_bytes(raw)
            try:
                build_workload(load_workload_file(path), f"{path}: ")
            except AdvisorError as exc:
                if not exc.message.strip():
                    target.finding(raw, "empty message")
            except Exception as exc:  # noqa: BLE001
                target.finding(raw, repr(exc))

        run()


def fuzz_cli(target: Target, examples: int) -> None:
    from typer.testing import CliRunner

    from infra_advisor.interface.cli import app
    from infra_advisor.workload import FIELDS

    runner = CliRunner()
    flag = st.sampled_from([f for f in FIELDS if f not in ("include_legacy", "description")])
    value = st.one_of(
        st.text(max_size=10), st.sampled_from(JUNK_VALUES + ["70B", "h100-sxm", "2:4"])
    )

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(
        st.sampled_from(
            [None, "llama-8b-chat", "edge-gnn-friendship", "dlrm-criteo", "llama-70b-lora"]
        ),
        st.dictionaries(flag, value, max_size=4),
    )
    def run(preset: str | None, flags: dict[str, str]) -> None:
        target.tried += 1
        argv = ["recommend", "--json", "-n", "1"] + (["--preset", preset] if preset else [])
        argv += [f"--{k.replace('_', '-')}={v}" for k, v in flags.items()]
        result = runner.invoke(app, argv)
        if result.exit_code not in (0, 1, 2) or (
            result.exception is not None and not isinstance(result.exception, SystemExit)
        ):
            target.finding(argv, f"exit {result.exit_code}: {result.exception!r}")

    run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=20000, help="inputs per target")
    parser.add_argument(
        "--cli-examples",
        type=int,
        default=0,
        help="inputs for the CLI target (default examples/10)",
    )
    args = parser.parse_args()
    plan: list[tuple[str, Callable[[Target, int], None], int]] = [
        ("unit parser", fuzz_units, args.examples),
        ("catalog loader", fuzz_catalog, args.examples),
        ("workload files", fuzz_workload_files, args.examples),
        ("recommend flags (CLI)", fuzz_cli, args.cli_examples or max(1, args.examples // 10)),
    ]
    failed = 0
    print(f"{'target':28} {'inputs':>8} {'findings':>9} {'seconds':>8}")
    for name, fn, n in plan:
        target = Target(name)
        start = time.perf_counter()
        fn(target, n)
        print(
            f"{name:28} {target.tried:8d} {len(target.findings):9d} {time.perf_counter() - start:8.1f}"
        )
        for sample, problem in target.findings:
            print(f"    {problem}\n      input: {sample}")
        failed += bool(target.findings)
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    # Every fuzzed catalog goes through the validator, and none is kept in the user's cache.
    os.environ["INFRA_ADVISOR_NO_CACHE"] = "1"
    sys.exit(main())
