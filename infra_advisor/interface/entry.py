"""The console entry point: a fast path for `recommend` in JSON or Markdown, typer for the rest.

Scripts and CI call ``infra-advisor recommend ... --format json`` in loops; that path needs neither
typer nor rich, and importing them costs more than answering.  ``parse_fast`` accepts only plain
spellings of the recommend options (``--flag value``, ``--flag=value``, the short forms with a
separate value); anything else -- help, exports, an unknown or repeated flag, a value that looks
like a flag, a bad --top -- goes to the typer app, which owns every message about usage.  The
fast path therefore never produces an answer the typer app would not.
"""

from __future__ import annotations

# Before anything imports dataclasses: what it imports and an answer never uses loads on use.
from infra_advisor.interface import _deferred  # noqa: F401

# isort: split
import gc
import os
import sys
from dataclasses import field
from typing import Any

from infra_advisor.checks import Record, record
from infra_advisor.interface.flags import WORKLOAD_HELP
from infra_advisor.workload import FLAG_FIELDS

_VALUE_OPTIONS = {
    "--workload": "workload_file",
    "-w": "workload_file",
    "--preset": "preset",
    "-p": "preset",
    "--top": "top",
    "-n": "top",
    "--format": "fmt",
    "-f": "fmt",
}
_WORKLOAD_FLAGS = {
    "--" + name.replace("_", "-"): name for name in WORKLOAD_HELP if name not in FLAG_FIELDS
}
_SWITCHES = {"--" + name.replace("_", "-"): name for name in FLAG_FIELDS}


@record()
class FastRecommend(Record):
    """A `recommend` invocation the fast path can answer."""

    preset: str | None = None
    workload_file: str | None = None
    top: int = 5
    fmt: str = "table"
    catalog_dirs: list[str] = field(default_factory=list)
    require_fit: bool = False
    flags: dict[str, Any] = field(default_factory=dict)


def parse_fast(argv: list[str]) -> FastRecommend | None:
    """The invocation, or None when the typer app should handle it."""
    if not argv or argv[0] != "recommend":
        return None
    out = FastRecommend()
    seen: set[str] = set()
    as_json = False
    args = argv[1:]
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("-") or token == "--":
            return None
        name, eq, inline = token.partition("=")
        if name in ("--json", "--require-fit") or name in _SWITCHES:
            if eq or name in seen:
                return None
            seen.add(name)
            if name == "--json":
                as_json = True
            elif name == "--require-fit":
                out.require_fit = True
            else:
                out.flags[_SWITCHES[name]] = True
            i += 1
            continue
        if name == "--catalog" or name in _VALUE_OPTIONS or name in _WORKLOAD_FLAGS:
            if eq and not name.startswith("--"):
                return None  # click reads "-p=x" as the value "=x"; leave it to click
            if eq:
                value = inline
                i += 1
            else:
                if i + 1 >= len(args):
                    return None
                value = args[i + 1]
                i += 2
            if value.startswith("-"):
                return None
            if name == "--catalog":
                out.catalog_dirs.append(value)
                continue
            key = _VALUE_OPTIONS.get(name) or _WORKLOAD_FLAGS[name]
            if key in seen:
                return None
            seen.add(key)
            if key in _WORKLOAD_FLAGS.values():
                out.flags[key] = value
            elif key == "top":
                if not value.isdigit() or not 1 <= int(value) <= 1000:
                    return None
                out.top = int(value)
            elif key == "fmt":
                out.fmt = value.lower()
            else:
                setattr(out, key, value)
            continue
        return None
    if as_json:
        out.fmt = "json"
    if out.fmt not in ("json", "markdown"):
        return None
    return out


def main() -> None:
    """Entry point (tests and embedders call it in process): exit codes follow errors.ExitCode."""
    fast = parse_fast(sys.argv[1:])
    if fast is None:
        from infra_advisor.interface.cli import main as typer_main

        typer_main()
        return
    sys.exit(answer(fast))


def console() -> None:
    """The installed command and ``python -m infra_advisor``: main(), except that a fast-path
    answer, once written and flushed, leaves without tearing the interpreter down.  Freeing a
    one-shot run's objects one by one (the catalog, the search's memos, every module) takes
    longer than the answer's last steps; the operating system reclaims them at once."""
    fast = parse_fast(sys.argv[1:])
    if fast is None:
        main()
        return
    code = answer(fast)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`| head`): nothing more can be said
        pass
    os._exit(code)


def answer(fast: FastRecommend) -> int:
    """Answer a fast-path `recommend`; the exit code.  The cyclic garbage collector is off
    meanwhile: the search makes no cycles worth collecting, and its passes over the growing
    heap (catalog entries, memos) cost more than the few megabytes they would free."""
    from infra_advisor.errors import AdvisorError, ExitCode, format_error
    from infra_advisor.interface.commands import recommend_text

    collecting = gc.isenabled()
    gc.disable()
    try:
        return recommend_text(
            preset=fast.preset,
            workload_file=fast.workload_file,
            flags=fast.flags,
            top=fast.top,
            fmt=fast.fmt,
            catalog_dirs=fast.catalog_dirs,
            require_fit=fast.require_fit,
        )
    except AdvisorError as exc:
        sys.stderr.write(format_error(exc.message, exc.hint))
        return int(exc.exit_code)
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\ninfra-advisor: interrupted\n")
        return int(ExitCode.INTERRUPTED)
    finally:
        if collecting:
            gc.enable()
