"""The typer app: flags / workload files / presets -> Workload -> engine -> render.

Only ``main`` maps errors to exit codes (errors.ExitCode).  Heavy modules
(rich, questionary, the engine) are imported inside the commands that use them.
"""

import inspect
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from infra_advisor import __version__
from infra_advisor.errors import AdvisorError, ExitCode, format_error
from infra_advisor.interface.flags import WORKLOAD_HELP
from infra_advisor.workload import FLAG_FIELDS

if TYPE_CHECKING:
    from infra_advisor.report import Report

app = typer.Typer(
    name="infra-advisor",
    help="Rank AI infrastructure stacks for a workload, and explain what limits each one.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(
    help="List, show and validate the catalog (hardware and named models).", no_args_is_help=True
)
app.add_typer(catalog_app, name="catalog")

F = TypeVar("F", bound=Callable[..., Any])


def _workload_parameters() -> list[inspect.Parameter]:
    params = []
    for name, help_text in WORKLOAD_HELP.items():
        flag = "--" + name.replace("_", "-")
        if name in FLAG_FIELDS:
            annotation: Any = Annotated[
                bool | None,
                typer.Option(flag, help=help_text, rich_help_panel="Workload", show_default=False),
            ]
        else:
            annotation = Annotated[
                str | None,
                typer.Option(
                    flag,
                    help=help_text,
                    rich_help_panel="Workload",
                    show_default=False,
                    metavar="VALUE",
                ),
            ]
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation
            )
        )
    return params


def with_workload_options(fn: F) -> F:
    """Give a command every workload flag (collected into its ``**workload`` keyword arguments)."""
    sig = inspect.signature(fn)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    fn.__signature__ = sig.replace(parameters=own + _workload_parameters())  # type: ignore[attr-defined]  # typer reads __signature__
    return fn


# Options shared by the commands that read a workload.
WorkloadFile = Annotated[
    str | None, typer.Option("--workload", "-w", help="workload TOML file", metavar="FILE")
]
Preset = Annotated[
    str | None, typer.Option("--preset", "-p", help="start from a preset (see `presets`)")
]
CatalogDirs = Annotated[
    list[str] | None,
    typer.Option("--catalog", help="overlay catalog directory (repeatable)", metavar="DIR"),
]
Format = Annotated[
    str | None, typer.Option("--format", "-f", help="table, json or markdown", metavar="FORMAT")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="same as --format json")]
JsonOnly = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
Debug = Annotated[bool, typer.Option("--debug", help="show tracebacks", hidden=True)]


def fail(message: str, hint: str = "", code: int = ExitCode.BAD_INPUT) -> NoReturn:
    sys.stderr.write(format_error(message, hint))
    raise typer.Exit(code)


def _load_catalog(dirs: list[str] | None) -> Any:
    from infra_advisor.catalog import load_catalog

    return load_catalog(dirs or [])


def _build_workload(
    preset: str | None, workload_file: str | None, flags: dict[str, Any], catalog: Any = None
) -> Any:
    from infra_advisor.interface.commands import build_workload_from

    return build_workload_from(preset, workload_file, flags, catalog)


def _require_workload(
    command: str, preset: str | None, workload_file: str | None, flags: dict[str, Any]
) -> None:
    """explain and compare evaluate a stack for a workload; with none given they would answer
    for a default nobody asked about, so they refuse (exit 2)."""
    if preset is None and workload_file is None and all(v is None for v in flags.values()):
        what = "the stacks are" if command == "compare" else "the stack is"
        fail(
            f"{command} needs the workload {what} to run: give it as workload flags "
            "(e.g. --model llama-3.1-8b --task inference --rate 5), --workload FILE or "
            "--preset NAME",
            "pass the same workload you gave `recommend`; a stack id names only the hardware "
            "and the framework",
        )


def _resolve_format(fmt: str | None, as_json: bool) -> str:
    if as_json:
        return "json"
    fmt = (fmt or "table").lower()
    if fmt not in ("table", "json", "markdown"):
        fail(f"--format: {fmt!r} is not one of table, json, markdown")
    return fmt


ExportSvg = Annotated[
    str | None, typer.Option("--export-svg", help="also save the table view as SVG", metavar="FILE")
]
ExportHtml = Annotated[
    str | None,
    typer.Option("--export-html", help="also save the table view as HTML", metavar="FILE"),
]
Force = Annotated[bool, typer.Option("--force", help="let --export-* replace existing files")]


def _check_exports(svg: str | None, html: str | None, force: bool) -> None:
    """Refuse before any work is done, so nothing is half-written."""
    from pathlib import Path

    for path in (svg, html):
        if path and Path(path).is_dir():
            fail(f"{path}: is a directory; give a file name")
        if path and Path(path).exists() and not force:
            fail(f"{path}: already exists; not overwritten", "pass --force to replace it")


def _export(report: Any, view: str, svg: str | None, html: str | None, force: bool) -> None:
    """Render the table view into a recording console and save it; never overwrite without --force."""
    if not (svg or html):
        return

    from infra_advisor.interface.files import write_text_atomic
    from infra_advisor.interface.render.table import make_console, render_report

    console = make_console(record=True, file=open(os.devnull, "w"), width=120)  # noqa: SIM115  # closed below
    try:
        render_report(report, console, view)
        if svg:
            write_text_atomic(
                svg, console.export_svg(title="infra-advisor", clear=False), overwrite=force
            )
        if html:
            write_text_atomic(html, console.export_html(clear=False), overwrite=force)
    finally:
        console.file.close()


def _emit(report: Any, fmt: str, view: str = "ranking") -> None:
    if fmt in ("json", "markdown"):
        from infra_advisor.interface.commands import emit_text

        emit_text(report, fmt, view)
    else:
        from infra_advisor.interface.render.table import make_console, render_report

        render_report(report, make_console(), view)


def _guard(debug: bool, body: Callable[[], int | None]) -> None:
    try:
        code = body()
    except AdvisorError as exc:
        if debug:
            raise
        fail(exc.message, exc.hint, int(exc.exit_code))
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\ninfra-advisor: interrupted\n")
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    if code:
        raise typer.Exit(code)


NO_TERMINAL_HELP = """Usage: infra-advisor [OPTIONS] COMMAND [ARGS]...

Commands:
  recommend  rank stacks for a workload (flags, --workload FILE or --preset NAME)
  explain    the full working for one stack id
  compare    stack ids side by side
  sweep      vary one or two workload fields and show the frontier
  presets    the shipped workloads
  models     the named models `--model NAME` takes
  schema     JSON Schema of the report or a workload file
  catalog    list, show and validate the catalog
  ask        the guided questions (needs a terminal)

No terminal, so no questions: pass a command, e.g.
  infra-advisor recommend --preset llama-8b-chat --format json
  infra-advisor recommend --model llama-3.1-70b --task inference --rate 5 --json
Run `infra-advisor COMMAND --help` for its options.
"""


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"infra-advisor {__version__}\n")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="print the version and exit",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Rank AI infrastructure stacks for a workload, and explain what limits each one."""
    if ctx.invoked_subcommand is not None:
        return
    if sys.stdin.isatty() and sys.stdout.isatty():
        from infra_advisor.interface.prompts import run_guided

        _guard(False, lambda: run_guided())
        raise typer.Exit(0)
    sys.stderr.write(NO_TERMINAL_HELP)
    raise typer.Exit(ExitCode.BAD_INPUT)


@app.command()
@with_workload_options
def recommend(
    workload_file: WorkloadFile = None,
    preset: Preset = None,
    top: Annotated[
        int, typer.Option("--top", "-n", help="how many stacks to show", min=1, max=1000)
    ] = 5,
    fmt: Format = None,
    as_json: JsonFlag = False,
    catalog_dirs: CatalogDirs = None,
    require_fit: Annotated[
        bool,
        typer.Option(
            "--require-fit", help="exit 1 unless a stack meets every target (rate, latency)"
        ),
    ] = False,
    export_svg: ExportSvg = None,
    export_html: ExportHtml = None,
    force: Force = False,
    debug: Debug = False,
    **workload: Any,
) -> None:
    """Rank stacks for a workload: time, cost, energy, the bottleneck and its relief.

    Quantities take units and suffixes, in any case where case cannot change the meaning:
    counts 70B or 70b, 1.5T, 13M (m is mega in a count), bytes 2TB or 2tb, 512GiB; time 30d,
    12h, 200ms, 5m (minutes; M is refused: minutes or months?); money $20k, $1.5m; power and
    energy 15W, 15w, 50Wh, 1kWh, keeping mW (milli) and MW (mega) apart.  Ids (--chip,
    --framework, --storage, --interconnect, --vendor, --cloud, --model, --preset) match in any
    case; an unknown one exits 2 with the closest known value.  Zero or negative quantities
    exit 2.  A magnitude implausible for its flag (a transformer under 1M parameters, over
    1,000 layers, over a million requests per second, a deadline under 10 minutes) gets one
    warning line on stderr and the run goes on.  A flag that the task or the model type
    ignores (--tokens for inference, --fanout for a transformer) is named in the assumptions.

    Plausible ranges (outside them, a warning): --params 1M to 100T for a transformer, 1k to
    100T otherwise; --active-params 1M to 100T; --tokens 1M to 10^16; --epochs up to 1,000;
    --rate up to 1M/s; --latency-target up to 60 s; --tpot-target up to 1 s; --deadline 10 min
    to 10 years; --checkpoint-every 1 min or more; --layers up to 1,000; --hidden up to 100k;
    --heads and --kv-heads up to 1,024; --experts up to 4,096; --seq-len 32 to 20M;
    --prompt-tokens up to 20M; --output-tokens up to 1M; --batch-size up to 10M;
    --embedding-rows 1k to 1T; --embedding-dim up to 65,536; --flops-per-sample 1k or more;
    --nodes and --edges 100 or more; --dataset-size 1 MB or more; --power-budget 0.1 W to
    100 MW; --battery 0.1 Wh to 100 kWh; --budget $100 or more for training; --chips and
    --max-chips up to 200k.
    """

    def body() -> int:
        from infra_advisor.search.engine import recommend as run

        fmt_name = _resolve_format(fmt, as_json)
        catalog = _load_catalog(catalog_dirs)
        wl = _build_workload(preset, workload_file, workload, catalog)
        _check_exports(export_svg, export_html, force)
        report = run(wl, catalog, top=top, require_fit=require_fit)
        _emit(report, fmt_name)
        _export(report, "ranking", export_svg, export_html, force)
        return ExitCode.OK if report.stacks else ExitCode.NO_FIT

    _guard(debug, body)


@app.command()
@with_workload_options
def explain(
    stack_id: Annotated[
        str, typer.Argument(help="a stack id from `recommend`", metavar="STACK_ID")
    ],
    workload_file: WorkloadFile = None,
    preset: Preset = None,
    fmt: Format = None,
    as_json: JsonFlag = False,
    catalog_dirs: CatalogDirs = None,
    export_svg: ExportSvg = None,
    export_html: ExportHtml = None,
    force: Force = False,
    debug: Debug = False,
    **workload: Any,
) -> None:
    """Show the full working for one stack: every term, the bottleneck and the relief.

    Give the workload as for recommend (workload flags, --workload FILE or --preset NAME);
    with none, explain refuses (exit 2) rather than explain a default run.
    """

    def body() -> int:
        from infra_advisor.search.engine import explain_stack

        def run(wl: Any, catalog: Any) -> "Report":
            return explain_stack(wl, catalog, stack_id)

        return _pinned_command("explain", run, (preset, workload_file, workload), catalog_dirs,
                               (fmt, as_json), (export_svg, export_html, force))  # fmt: skip

    _guard(debug, body)


def _pinned_command(
    view: str,
    run: Any,
    given: tuple[Any, Any, dict[str, Any]],
    catalog_dirs: Any,
    formats: tuple[Any, bool],
    exports: tuple[Any, Any, bool],
) -> int:
    """explain and compare: the workload (refused when none is given), the report, its output."""
    preset, workload_file, workload = given
    _require_workload(view, preset, workload_file, workload)
    fmt_name = _resolve_format(*formats)
    catalog = _load_catalog(catalog_dirs)
    wl = _build_workload(preset, workload_file, workload, catalog)
    _check_exports(*exports)
    report = run(wl, catalog)
    _emit(report, fmt_name, view)
    _export(report, view, *exports)
    return ExitCode.OK if report.stacks else ExitCode.NO_FIT


@app.command()
@with_workload_options
def compare(
    stack_ids: Annotated[
        list[str], typer.Argument(help="two or more stack ids", metavar="STACK_ID...")
    ],
    workload_file: WorkloadFile = None,
    preset: Preset = None,
    fmt: Format = None,
    as_json: JsonFlag = False,
    catalog_dirs: CatalogDirs = None,
    export_svg: ExportSvg = None,
    export_html: ExportHtml = None,
    force: Force = False,
    debug: Debug = False,
    **workload: Any,
) -> None:
    """Lay two or more stacks side by side for the same workload.

    Give the workload as for recommend (workload flags, --workload FILE or --preset NAME);
    with none, compare refuses (exit 2).
    """

    def body() -> int:
        from infra_advisor.search.engine import compare_stacks

        if len(stack_ids) < 2:
            fail("compare needs at least two stack ids")

        def run(wl: Any, catalog: Any) -> "Report":
            return compare_stacks(wl, catalog, stack_ids)

        return _pinned_command("compare", run, (preset, workload_file, workload), catalog_dirs,
                               (fmt, as_json), (export_svg, export_html, force))  # fmt: skip

    _guard(debug, body)


@app.command()
@with_workload_options
def sweep(
    specs: Annotated[
        list[str],
        typer.Option(
            "--sweep",
            help="FIELD=VALUES to vary (once or twice): chips=8..512 (doubling), "
            "rate=1..1000x10, rate=1,10,100, model=llama-3.1-8b,llama-3.1-70b",
            metavar="FIELD=VALUES",
        ),
    ],
    workload_file: WorkloadFile = None,
    preset: Preset = None,
    top: Annotated[
        int, typer.Option("--top", "-n", help="stacks kept per point", min=1, max=20)
    ] = 1,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="table, json or csv", metavar="FORMAT")
    ] = None,
    as_json: JsonFlag = False,
    catalog_dirs: CatalogDirs = None,
    export_svg: Annotated[
        str | None,
        typer.Option("--export-svg", help="also save the frontier chart as SVG", metavar="FILE"),
    ] = None,
    export_html: Annotated[
        str | None,
        typer.Option("--export-html", help="also save the chart and table as HTML", metavar="FILE"),
    ] = None,
    force: Force = False,
    debug: Debug = False,
    **workload: Any,
) -> None:
    """Vary one or two workload fields (or the chip count) and show the frontier.

    Each point is answered by the same planner as `recommend`.  Training plots time against
    cost; LLM serving, speed per user (1 / time per output token) against throughput per chip;
    other serving, latency against requests per chip.  ★ marks the Pareto front.  At most 200
    points.
    """

    def body() -> int:
        from infra_advisor.interface.commands import merged_values, warn_magnitudes
        from infra_advisor.search.sweep import parse_axis
        from infra_advisor.search.sweep import sweep as run

        fmt_name = "json" if as_json else (fmt or "table").lower()
        if fmt_name not in ("table", "json", "csv"):
            fail(f"--format: {fmt_name!r} is not one of table, json, csv")
        axes = [parse_axis(spec) for spec in specs]
        catalog = _load_catalog(catalog_dirs)
        values, _ = merged_values(preset, workload_file, workload)
        _check_exports(export_svg, export_html, force)
        from infra_advisor.workload import build_workload

        warn_magnitudes(values, build_workload(values, "", catalog))
        report = run(values, axes, catalog, top=top, progress=_progress_printer())
        _emit_sweep(report, fmt_name)
        _export_sweep(report, export_svg, export_html, force)
        return ExitCode.OK if any(p.stack for p in report.points) else ExitCode.NO_FIT

    _guard(debug, body)


def _progress_printer() -> Callable[[int, int], None] | None:
    """Progress on stderr while a sweep runs, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        sys.stderr.write(f"\rsweep: {done}/{total} points{end}")
        sys.stderr.flush()

    return show


def _emit_sweep(report: Any, fmt: str) -> None:
    if fmt == "json":
        from infra_advisor.interface.commands import emit_text

        emit_text(report, "json")  # the same JSON writer as recommend
    elif fmt == "csv":
        from infra_advisor.interface.render.sweep import to_csv

        sys.stdout.write(to_csv(report))
    else:
        from infra_advisor.interface.render.sweep import render_sweep
        from infra_advisor.interface.render.table import make_console

        render_sweep(report, make_console())


def _export_sweep(report: Any, svg: str | None, html: str | None, force: bool) -> None:
    from infra_advisor.interface.files import write_text_atomic

    if svg:
        from infra_advisor.interface.render.sweep import to_svg

        write_text_atomic(svg, to_svg(report), overwrite=force)
    if html:
        from infra_advisor.interface.render.sweep import to_html

        write_text_atomic(html, to_html(report), overwrite=force)


@app.command()
@with_workload_options
def ask(
    save: Annotated[
        str | None,
        typer.Option("--save", help="write the answered workload as TOML", metavar="FILE"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="let --save replace an existing file")
    ] = False,
    catalog_dirs: CatalogDirs = None,
    debug: Debug = False,
    **workload: Any,
) -> None:
    """Answer plain questions and get a ranked, explained answer (needs a terminal)."""
    given = {k: v for k, v in workload.items() if v is not None}
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail(
            "ask needs a terminal to ask questions",
            "without one, pass the workload as flags (`infra-advisor recommend --params 8B --task inference "
            "...`), a file (`--workload FILE`) or a preset (`--preset NAME`)",
        )
    if save is not None and not force:
        from pathlib import Path

        if Path(save).exists():
            fail(f"--save {save}: already exists; not overwritten", "pass --force to replace it")

    def body() -> int:
        from infra_advisor.interface.prompts import run_guided

        return run_guided(given, save=save, force=force, catalog_dirs=catalog_dirs)

    _guard(debug, body)


@app.command()
def presets(
    as_json: JsonOnly = False,
) -> None:
    """List the shipped workload presets."""

    def body() -> int:
        from infra_advisor.presets import list_presets

        items = list_presets()
        if as_json:
            sys.stdout.write(json.dumps(items, indent=2, sort_keys=True) + "\n")
        else:
            from infra_advisor.interface.render.table import make_console, render_presets

            render_presets(items, make_console())
        return 0

    _guard(False, body)


@app.command()
def models(
    as_json: JsonOnly = False,
    fits: Annotated[
        str | None,
        typer.Option(
            "--fits",
            help="list what this chip can serve instead: each generative model at the heaviest "
            "precision that fits, with its batch-1 decode speed (a chip id, any case)",
            metavar="CHIP",
        ),
    ] = None,
    chips: Annotated[
        int, typer.Option("--chips", help="chips in the box, with --fits", metavar="N", min=1)
    ] = 1,
    context: Annotated[
        int,
        typer.Option(
            "--context",
            help="tokens of one request, prompt and answer, with --fits",
            metavar="TOKENS",
            min=2,
        ),
    ] = 4096,
    catalog_dirs: CatalogDirs = None,
    debug: Debug = False,
) -> None:
    """List the named models of the catalog (`--model NAME` takes any id or alias), or with
    --fits what one box can serve."""

    def body() -> int:
        from infra_advisor.interface.commands import fit_rows, model_rows

        catalog = _load_catalog(catalog_dirs)
        if fits is not None:
            rows = fit_rows(catalog, fits, chips, context)
            if as_json:
                sys.stdout.write(json.dumps(rows, indent=2, sort_keys=True) + "\n")
            else:
                from infra_advisor.interface.render.table import make_console, render_fits

                render_fits(rows, catalog.chips[rows[0]["chip"]].name if rows else fits,
                            chips, context, make_console())  # fmt: skip
            return 0
        rows = model_rows(catalog)
        if as_json:
            sys.stdout.write(json.dumps(rows, indent=2, sort_keys=True) + "\n")
        else:
            from infra_advisor.interface.render.table import make_console, render_models

            render_models(rows, make_console())
        return 0

    _guard(debug, body)


@app.command()
def schema(
    which: Annotated[
        str,
        typer.Argument(help="report, sweep or workload", metavar="[report|sweep|workload]"),
    ] = "report",
) -> None:
    """Print the JSON Schema (draft 2020-12) of the report, the sweep report or a workload file."""

    def body() -> int:
        from infra_advisor.checks import json_schema

        if which == "report":
            from infra_advisor.report import Report

            data = json_schema(Report)
        elif which == "sweep":
            from infra_advisor.report import SweepReport

            data = json_schema(SweepReport)
        elif which == "workload":
            from infra_advisor.workload import Workload

            data = json_schema(Workload)
        else:
            fail(f"schema: {which!r} is not one of report, sweep, workload")
        data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        return 0

    _guard(False, body)


# --------------------------------------------------------------------------- catalog


@catalog_app.command("list")
def catalog_list(
    kind: Annotated[
        str | None,
        typer.Argument(
            help="chips, interconnects, storage, frameworks, models or offerings", metavar="[KIND]"
        ),
    ] = None,
    as_json: JsonOnly = False,
    catalog_dirs: CatalogDirs = None,
    debug: Debug = False,
) -> None:
    """List catalog entries (all kinds, or one)."""

    def body() -> int:
        from infra_advisor.catalog import LIST_KINDS

        kinds = list(LIST_KINDS)
        if kind is not None:
            wanted = kind.lower()
            aliases = {
                "chip": "chips",
                "interconnect": "interconnects",
                "framework": "frameworks",
                "model": "models",
                "offering": "offerings",
            }
            wanted = aliases.get(wanted, wanted)
            if wanted not in LIST_KINDS:
                fail(f"catalog list: unknown kind {kind!r}; use one of {', '.join(LIST_KINDS)}")
            kinds = [wanted]
        catalog = _load_catalog(catalog_dirs)
        if as_json:
            from infra_advisor.checks import to_data

            data = {k: [to_data(e) for e in getattr(catalog, k).values()] for k in kinds}
            sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        else:
            from infra_advisor.interface.render.table import make_console, render_catalog

            render_catalog(catalog, kinds, make_console())
        return 0

    _guard(debug, body)


@catalog_app.command("show")
def catalog_show(
    entry_id: Annotated[str, typer.Argument(help="a catalog id", metavar="ID")],
    as_json: JsonOnly = False,
    catalog_dirs: CatalogDirs = None,
    debug: Debug = False,
) -> None:
    """Show one catalog entry with its sources."""

    def body() -> int:
        import difflib

        catalog = _load_catalog(catalog_dirs)
        entry = catalog.get(entry_id) or catalog.find_model(entry_id)  # a model by any alias
        if entry is None:
            close = difflib.get_close_matches(entry_id, catalog.all_ids(), n=3)
            fail(
                f"catalog show: no entry with id {entry_id!r}",
                f"did you mean {', '.join(close)}?"
                if close
                else "see `infra-advisor catalog list`",
            )
        if as_json:
            from infra_advisor.checks import to_data

            data = to_data(entry)
            data["kind"] = catalog.kind_of(entry.id)
            sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        else:
            from infra_advisor.interface.render.table import make_console, render_entry

            render_entry(entry, catalog.kind_of(entry.id) or "", make_console())
        return 0

    _guard(debug, body)


@catalog_app.command("validate")
def catalog_validate(
    dirs: Annotated[
        list[str] | None, typer.Argument(help="overlay directories to check", metavar="[DIR]...")
    ] = None,
    debug: Debug = False,
) -> None:
    """Validate the shipped catalog plus the given overlays; exit 0 when valid."""

    def body() -> int:
        from infra_advisor.catalog import LIST_KINDS, load_catalog

        catalog = load_catalog(dirs or [], fresh=True)  # validate every file, keep nothing
        counts = ", ".join(f"{len(getattr(catalog, k))} {k}" for k in (*LIST_KINDS, "efficiency"))
        sys.stdout.write(f"catalog valid: {counts} ({len(catalog.files)} files)\n")
        return 0

    _guard(debug, body)


def _usage_message(exc: Exception, argv: list[str]) -> str:
    """A click usage error as one line in the house format, with where to read the options."""
    command = next((a for a in argv if not a.startswith("-")), "")
    known = {"recommend", "explain", "compare", "sweep", "ask", "presets", "models", "schema",
             "catalog"}  # fmt: skip
    where = f"infra-advisor {command} --help" if command in known else "infra-advisor --help"
    return format_error(exc.format_message(), f"see `{where}`")  # type: ignore[attr-defined]  # click's UsageError


def main() -> None:
    """Entry point: run the app; exit codes follow errors.ExitCode.

    Usage errors (unknown flag, missing value, --top out of range) are printed in the same one-line
    shape as every other error, without a box, so scripts and CI logs read them plainly.
    """
    if os.environ.get("NO_COLOR") is not None:
        os.environ.setdefault("TERM", "dumb")
    argv = sys.argv[1:]
    try:
        code = app(args=argv, prog_name="infra-advisor", standalone_mode=False)
    except KeyboardInterrupt:
        sys.stderr.write("infra-advisor: interrupted\n")
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:
        # click (vendored by recent typer) raises UsageError / BadParameter / NoSuchOption here;
        # they carry format_message() and exit_code.  Anything else is a bug and is re-raised.
        if hasattr(exc, "format_message") and getattr(exc, "exit_code", None) == 2:
            sys.stderr.write(_usage_message(exc, argv))
            sys.exit(ExitCode.BAD_INPUT)
        if type(exc).__name__ == "Abort":
            sys.stderr.write("\ninfra-advisor: interrupted\n")
            sys.exit(ExitCode.INTERRUPTED)
        raise
    sys.exit(code if isinstance(code, int) else 0)
