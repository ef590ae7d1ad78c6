"""Guided Q&A (questionary) -> Workload.  Imported only when a terminal asks for it.

Questions are plain language, each with a hint and a default; accepting every
default gives a sensible recommendation.  The flow branches on the answers
(graph questions only for GNNs, serving questions only for inference, power
only for the edge).  A flag given on the command line pre-answers its
question.  Input and output come from prompt_toolkit's current app session, so
tests drive it with a pipe input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra_advisor.errors import AdvisorError, WorkloadError


@dataclass(frozen=True)
class Question:
    """One question of the guided Q&A and the workload field it answers.  ``default`` may depend
    on earlier answers (the edges on the node count)."""

    key: str
    message: str
    hint: str
    default: str | Callable[[dict[str, Any]], str]
    choices: tuple[tuple[str, str], ...] = ()  # (label, value)
    when: Callable[[dict[str, Any]], bool] = lambda answers: True
    optional: bool = False

    def default_for(self, answers: dict[str, Any]) -> str:
        return self.default(answers) if callable(self.default) else self.default


def _task(a: dict[str, Any]) -> str:
    return str(a.get("task", "inference"))


def _model(a: dict[str, Any]) -> str:
    return str(a.get("model_type", "transformer"))


def _edges_default(a: dict[str, Any]) -> str:
    """The engine's own default (workload.default_edges) for the node count answered."""
    from infra_advisor.units import format_count, parse_count
    from infra_advisor.workload import default_edges

    try:
        nodes = parse_count(str(a.get("nodes", "10M")), "nodes")
    except AdvisorError:
        nodes = 10e6
    return format_count(default_edges(nodes))


def _fanout_default(a: dict[str, Any]) -> str:
    """The engine's own default fanouts, one per layer."""
    from infra_advisor.workload import default_fanout

    try:
        layers = max(1, int(str(a.get("layers", "2")).strip()))
    except ValueError:
        layers = 2
    return ",".join(str(f) for f in default_fanout(layers))


QUESTIONS: tuple[Question, ...] = (
    Question(
        "task",
        "What are you doing?",
        "training from scratch, adapting a model, or serving it",
        "inference",
        (
            ("Serve a model (inference)", "inference"),
            ("Fine-tune an existing model", "finetune"),
            ("Train a model from scratch", "train"),
        ),
    ),
    Question(
        "model_type",
        "What kind of model?",
        "LLMs and other transformers are the most common",
        "transformer",
        (
            ("Transformer / LLM", "transformer"),
            ("Graph neural network", "gnn"),
            ("Recommender with large embedding tables", "recsys"),
            ("Vision / CNN", "vision"),
            ("Something else", "generic"),
        ),
    ),
    Question(
        "params",
        "How many parameters does the model have?",
        "e.g. 8B, 70B, 25M",
        "8B",
        when=lambda a: _model(a) == "transformer",
    ),
    Question(
        "params",
        "How many parameters does the model have?",
        "e.g. 25M for ResNet-50",
        "25M",
        when=lambda a: _model(a) in ("vision", "generic"),
    ),
    Question(
        "params",
        "How many parameters in the dense layers beside the embedding tables?",
        "e.g. 25M; the tables are asked next",
        "25M",
        when=lambda a: _model(a) == "recsys",
    ),
    Question(
        "active_params",
        "Active parameters per token, if it is a mixture of experts?",
        "leave blank for a dense model; e.g. 13B for Mixtral 8x7B",
        "",
        optional=True,
        when=lambda a: _model(a) == "transformer",
    ),
    Question(
        "finetune_method",
        "How will you fine-tune?",
        "LoRA trains small adapters; QLoRA also stores the base model in 4 bits",
        "lora",
        (("LoRA adapters", "lora"), ("QLoRA (4-bit base)", "qlora"), ("Full fine-tune", "full")),
        when=lambda a: _task(a) == "finetune",
    ),
    Question(
        "tokens",
        "How much training data, in tokens?",
        "e.g. 100M for a fine-tune, 2T to pre-train",
        "100M",
        when=lambda a: _task(a) != "inference" and _model(a) == "transformer",
    ),
    Question(
        "samples",
        "How many training samples per epoch?",
        "e.g. 1.28M images",
        "1.28M",
        when=lambda a: _task(a) != "inference" and _model(a) != "transformer",
    ),
    Question(
        "dataset_size",
        "How big is the dataset on disk?",
        "e.g. 150GB; blank if unsure",
        "",
        optional=True,
        when=lambda a: _task(a) != "inference",
    ),
    Question(
        "files",
        "In how many files?",
        "many small files stress storage metadata; blank if unsure",
        "",
        optional=True,
        when=lambda a: _task(a) != "inference",
    ),
    Question(
        "rate",
        "How many requests per second must it serve?",
        "e.g. 10 or 600/min",
        "10",
        when=lambda a: _task(a) == "inference",
    ),
    Question(
        "prompt_tokens",
        "How long is a typical prompt, in tokens?",
        "about 0.75 words per token",
        "1024",
        when=lambda a: _task(a) == "inference" and _model(a) == "transformer",
    ),
    Question(
        "output_tokens",
        "How long is a typical answer, in tokens?",
        "e.g. 256",
        "256",
        when=lambda a: _task(a) == "inference" and _model(a) == "transformer",
    ),
    Question(
        "latency_target",
        "How fast must the first token come back?",
        "e.g. 500ms; blank for no target",
        "500ms",
        optional=True,
        when=lambda a: _task(a) == "inference" and _model(a) == "transformer",
    ),
    Question(
        "latency_target",
        "How fast must each result come back?",
        "e.g. 50ms; blank for no target",
        "100ms",
        optional=True,
        when=lambda a: _task(a) == "inference" and _model(a) != "transformer",
    ),
    Question(
        "nodes",
        "How many nodes does the graph have?",
        "e.g. 111M",
        "10M",
        when=lambda a: _model(a) == "gnn",
    ),
    Question(
        "edges",
        "How many edges?",
        "e.g. 1.6B; the default is ten per node",
        _edges_default,
        when=lambda a: _model(a) == "gnn",
    ),
    Question(
        "node_features",
        "How many features per node?",
        "e.g. 128",
        "128",
        when=lambda a: _model(a) == "gnn",
    ),
    Question(
        "edge_features",
        "How many features per edge?",
        "0 if edges carry none; e.g. 1 for a strength",
        "0",
        optional=True,
        when=lambda a: _model(a) == "gnn",
    ),
    Question(
        "layers",
        "How many message-passing layers?",
        "the model's size follows from its layers and widths; e.g. 2 or 3",
        "2",
        when=lambda a: _model(a) == "gnn",
    ),
    Question(
        "hidden",
        "Hidden width of each layer?",
        "e.g. 256",
        "256",
        when=lambda a: _model(a) == "gnn",
    ),
    Question(
        "sampling",
        "Train on the full graph or sample neighbours?",
        "sampling fits bigger graphs",
        "neighbor",
        (("Neighbour sampling", "neighbor"), ("Full graph", "full")),
        when=lambda a: _model(a) == "gnn" and _task(a) != "inference",
    ),
    Question(
        "fanout",
        "Neighbours sampled per layer?",
        "one number per layer, e.g. 15,10",
        _fanout_default,
        when=lambda a: (
            _model(a) == "gnn" and _task(a) != "inference" and a.get("sampling") == "neighbor"
        ),
    ),
    Question(
        "embedding_rows",
        "How many rows in the embedding tables, in all?",
        "e.g. 1B",
        "100M",
        when=lambda a: _model(a) == "recsys",
    ),
    Question(
        "embedding_dim",
        "Embedding dimension?",
        "e.g. 128",
        "128",
        when=lambda a: _model(a) == "recsys",
    ),
    Question(
        "lookups_per_sample",
        "Embedding lookups per sample?",
        "e.g. 26 sparse features",
        "26",
        when=lambda a: _model(a) == "recsys",
    ),
    Question(
        "flops_per_sample",
        "Forward FLOPs per sample?",
        "e.g. 8.2G for ResNet-50 at 224x224; blank to use a default",
        "",
        optional=True,
        when=lambda a: _model(a) in ("vision", "generic"),
    ),
    Question(
        "bytes_per_sample",
        "Input bytes per sample?",
        "e.g. 110KB for an ImageNet JPEG",
        "110KB",
        when=lambda a: _model(a) in ("vision", "generic"),
    ),
    Question(
        "deploy",
        "Where will it run?",
        "an edge device is battery or power limited",
        "cloud",
        (
            ("In a public cloud", "cloud"),
            ("On our own servers", "onprem"),
            ("On an edge device", "edge"),
        ),
    ),
    Question(
        "cloud",
        "Which cloud?",
        "its instances, fabric and storage; the providers come from the catalog's offerings",
        "any",
        (("Any of them", "any"),),  # the catalog's providers follow (provider_choices)
        when=lambda a: a.get("deploy", "cloud") == "cloud",
    ),
    Question(
        "power_budget",
        "What power budget does the device have?",
        "e.g. 15W",
        "15W",
        when=lambda a: a.get("deploy") == "edge",
    ),
    Question(
        "battery",
        "Battery capacity, if it runs on one?",
        "e.g. 50Wh; blank for mains power",
        "",
        optional=True,
        when=lambda a: a.get("deploy") == "edge",
    ),
    Question(
        "optimize",
        "What matters most?",
        "the ranking follows it",
        "balanced",
        (
            ("A balance of time, cost and energy", "balanced"),
            ("Finish soonest", "time"),
            ("Lowest cost", "cost"),
            ("Least energy", "energy"),
        ),
    ),
    Question(
        "budget",
        "Any budget limit?",
        "e.g. $20k; blank for none",
        "",
        optional=True,
        when=lambda a: a.get("deploy") != "edge",
    ),
    Question(
        "deadline",
        "Any deadline?",
        "e.g. 30d; blank for none",
        "",
        optional=True,
        when=lambda a: _task(a) != "inference",
    ),
    Question(
        "vendor",
        "Only one chip vendor?",
        "e.g. nvidia, amd, google; blank for any",
        "",
        optional=True,
    ),
)


DESCRIBE_MODEL = "another model — describe it"
MODEL_HINT = "type to search ids and Hugging Face names; blank or the last entry to describe it"


def _ask_model(catalog: Any) -> Any:
    """The first question: a catalog model (with completion), or None to describe another one."""
    import questionary

    names = [DESCRIBE_MODEL, *catalog.model_names()]
    meta = {m.id: f"{m.name} ({m.kind})" for m in catalog.models.values()}

    def validate(text: str) -> bool | str:
        text = text.strip()
        if not text or text == DESCRIBE_MODEL or catalog.find_model(text) is not None:
            return True
        return f"not a model of the catalog; pick one or '{DESCRIBE_MODEL}'"

    text = questionary.autocomplete(
        f"Which model? ({MODEL_HINT})", choices=names, meta_information=meta, validate=validate
    ).unsafe_ask()
    text = text.strip()
    return None if not text or text == DESCRIBE_MODEL else catalog.find_model(text)


def check_answer(key: str, text: str) -> str | None:
    """None when ``text`` is a valid answer for ``key``; otherwise the reason, for the prompt to show."""
    from infra_advisor.workload import build_workload

    try:
        build_workload({key: text})
    except AdvisorError as exc:
        return exc.message
    return None


def ask_workload(prefilled: dict[str, Any], catalog: Any = None) -> dict[str, Any]:
    """Ask every question the flags have not answered; return the answers (flag names, text values).

    The first question is which model: a model of the catalog answers every question its
    architecture does (a flag still overrides it); "another model" asks them.
    """

    from infra_advisor.workload import model_values, resolve_model

    if catalog is None:
        from infra_advisor.catalog import load_catalog

        catalog = load_catalog()
    answers: dict[str, Any] = dict(prefilled)
    model = resolve_model(answers["model"], catalog) if answers.get("model") else None
    described = {"params", "active_params", "layers", "hidden", "model_type"} & set(prefilled)
    if "model" not in prefilled and not described:  # flags that describe a model answer it
        model = _ask_model(catalog)
    filled: set[str] = set()
    if model is not None:
        implied = model_values(model)
        answers["model"] = model.id
        answers.setdefault("model_type", implied["model_type"])
        filled = set(implied)
    asked: set[str] = set()
    for q in QUESTIONS:
        if q.key in prefilled or q.key in filled or q.key in asked or not q.when(answers):
            continue
        asked.add(q.key)
        if q.key == "flops_per_sample" and model is not None and model.kind == "diffusion":
            # No published per-step FLOPs for this model: the answer cannot be left blank.
            q = dataclasses.replace(
                q, hint=f"the FLOPs of one image over its {model.steps or ''} steps", optional=False
            )
        if q.key == "cloud":
            q = dataclasses.replace(q, choices=provider_choices(catalog))
        value = _ask(q, answers, q.default_for(answers))
        if value and not (q.key == "cloud" and value == "any"):
            answers[q.key] = value
    return answers


# How people name the providers (ids not listed here are shown as written).
PROVIDER_NAMES = {
    "aws": "AWS", "gcp": "Google Cloud", "azure": "Microsoft Azure", "oci": "Oracle Cloud (OCI)",
    "coreweave": "CoreWeave", "lambda": "Lambda", "vultr": "Vultr", "tensorwave": "TensorWave",
    "ibm-cloud": "IBM Cloud",
}  # fmt: skip


def provider_choices(catalog: Any) -> tuple[tuple[str, str], ...]:
    """'Any of them', then each provider the catalog's offerings come from."""
    from infra_advisor.workload import clouds

    listed = tuple((PROVIDER_NAMES.get(p, p), p) for p in clouds(catalog))
    return (("Any of them", "any"), *listed)


def _ask(q: Question, answers: dict[str, Any], default: str) -> str:
    """One question: a menu for its choices, else a validated line of text ('' when skipped)."""
    import questionary

    if q.choices:
        choices = [questionary.Choice(label, value=value) for label, value in q.choices]
        chosen = next((c for c in choices if c.value == default), None)
        picked: str = questionary.select(
            q.message, choices=choices, default=chosen, instruction=f"({q.hint})"
        ).unsafe_ask()
        return picked

    def validate(text: str) -> bool | str:
        if not text.strip():
            return True if q.optional else "an answer is needed (or accept the default)"
        return check_answer(q.key, text.strip()) or True

    text: str = questionary.text(
        f"{q.message} ({q.hint})", default=default, validate=validate
    ).unsafe_ask()
    return text.strip()


def run_guided(
    prefilled: dict[str, Any] | None = None,
    save: str | None = None,
    force: bool = False,
    catalog_dirs: list[str] | None = None,
) -> int:
    """The whole guided session: questions, optional save, ranked answer, then a small menu."""
    from infra_advisor.catalog import load_catalog
    from infra_advisor.interface.render.table import make_console, render_report
    from infra_advisor.search.engine import compare_stacks, explain_stack, recommend
    from infra_advisor.workload import build_workload

    console = make_console()
    catalog = load_catalog(catalog_dirs or [])
    answers = ask_workload(prefilled or {}, catalog)
    workload = build_workload(answers, catalog=catalog)
    if save:
        _save(answers, save, force)
    while True:
        report = recommend(workload, catalog)
        render_report(report, console)
        ids = [s.id for s in report.stacks]
        while True:
            choice = _next_step(ids)
            if choice == "quit":
                return 0 if report.stacks else 1
            if choice == "explain":
                pick = _pick_one(ids)
                render_report(explain_stack(workload, catalog, pick), console, "explain")
            elif choice == "compare":
                render_report(compare_stacks(workload, catalog, _pick_two(ids)), console, "compare")
            elif choice == "save":
                _save_again(answers, save, force)
            else:
                changed = _change_answer(answers, catalog, console)
                if changed is not None:
                    workload = changed
                    break


def _next_step(ids: list[str]) -> str:
    import questionary

    choice: str = questionary.select(
        "What next?",
        choices=[
            questionary.Choice(
                "Explain a stack", value="explain", disabled=None if ids else "none"
            ),
            questionary.Choice(
                "Compare two stacks",
                value="compare",
                disabled=None if len(ids) > 1 else "fewer than two",
            ),
            questionary.Choice("Change an answer and re-rank", value="change"),
            questionary.Choice("Save the workload to a file", value="save"),
            questionary.Choice("Quit", value="quit"),
        ],
    ).unsafe_ask()
    return choice


def _pick_one(ids: list[str]) -> str:
    import questionary

    pick: str = questionary.select("Which stack?", choices=ids).unsafe_ask()
    return pick


def _pick_two(ids: list[str]) -> list[str]:
    import questionary

    picks: list[str] = questionary.checkbox(
        "Which stacks? (space to mark, enter to confirm)",
        choices=ids,
        validate=lambda marked: len(marked) >= 2 or "mark at least two",
    ).unsafe_ask()
    return picks


def _save_again(answers: dict[str, Any], save: str | None, force: bool) -> None:
    """Save from the menu, asking before an existing file is overwritten."""
    from pathlib import Path

    import questionary

    path = questionary.text("File name?", default=save or "workload.toml").unsafe_ask()
    overwrite = force
    if Path(path).exists() and not force:
        overwrite = questionary.confirm(f"{path} exists. Overwrite it?", default=False).unsafe_ask()
        if not overwrite:
            return
    _save(answers, path, overwrite)


MODEL_LABEL = "Which model?"


def _filled(answers: dict[str, Any], catalog: Any) -> frozenset[str]:
    """The workload fields the answers' catalog model fills."""
    from infra_advisor.workload import model_values

    model = catalog.find_model(answers["model"]) if answers.get("model") else None
    return frozenset(model_values(model)) if model is not None else frozenset()


def answer_menu(
    answers: dict[str, Any], filled: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(label, key) for every answer that can be changed now, in the order the questions come:
    the model first, then each question that applies to the answers so far, with its value
    (``filled``: the fields the chosen model answers)."""
    model = answers.get("model")
    rows = [(f"{MODEL_LABEL} ({model or DESCRIBE_MODEL})", "model")]
    seen = {"model"}
    for q in QUESTIONS:
        if q.key in seen or not q.when(answers):
            continue
        seen.add(q.key)
        value = answers.get(q.key)
        if value not in (None, ""):
            shown = str(value)
        elif q.key in filled:
            shown = f"from {model}"
        else:
            shown = f"default {q.default_for(answers) or 'none'}"
        rows.append((f"{q.message} ({shown})", q.key))
    rows += [(f"--{k.replace('_', '-')} ({answers[k]})", k) for k in answers if k not in seen]
    return rows


def _change_answer(answers: dict[str, Any], catalog: Any, console: Any) -> Any:
    """Change one answer; the new workload, or None when it does not validate."""
    import questionary

    from infra_advisor.workload import build_workload

    menu = answer_menu(answers, _filled(answers, catalog))
    key = questionary.select(
        "Which answer?", choices=[questionary.Choice(label, value=k) for label, k in menu]
    ).unsafe_ask()
    if key == "model":
        model = _ask_model(catalog)
        answers.pop("model_type", None)  # the new model brings its own type and architecture
        if model is None:
            answers.pop("model", None)
        else:
            for field in _filled({"model": model.id}, catalog):
                answers.pop(field, None)  # the earlier description gives way to the model's
            answers["model"] = model.id
    else:
        question = next((q for q in QUESTIONS if q.key == key and q.when(answers)), None)
        current = str(answers.get(key) or (question.default_for(answers) if question else ""))
        new = questionary.text(
            f"{question.message if question else key} (now {current or 'not set'}):",
            default=current,
            validate=lambda text, k=key: not text.strip() or check_answer(k, text.strip()) or True,
        ).unsafe_ask()
        answers[key] = new.strip()
        if not answers[key]:
            del answers[key]
    try:
        return build_workload(answers, catalog=catalog)
    except WorkloadError as exc:
        console.print(f"[red]{exc.message}[/red]")
        return None


def _save(answers: dict[str, Any], path: str, overwrite: bool) -> None:
    """Write the answers as typed; the file rebuilds the same workload."""
    from infra_advisor.interface.files import write_text_atomic
    from infra_advisor.workload import answers_to_toml

    write_text_atomic(path, answers_to_toml(answers), overwrite=overwrite)
    import sys

    sys.stderr.write(
        f"workload saved to {path} (reproduce with: infra-advisor recommend --workload {path})\n"
    )
