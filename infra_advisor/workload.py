"""The Workload: what the user wants to run, in SI units.

Built from flags, a workload TOML file or a preset; every field is named
after its flag (dashes as underscores).  Quantities given as text are parsed
here, at the edge ("70B", "2TB", "15W", "30d"); inside, everything is SI:
counts, bytes, seconds, watts, joules, US dollars, events per second.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args

from infra_advisor.checks import Check, Record, doc
from infra_advisor.errors import UnitError, WorkloadError
from infra_advisor.units import PARSERS

if TYPE_CHECKING:
    from infra_advisor.catalog import Catalog
    from infra_advisor.models import Model

Task = Literal["train", "finetune", "inference"]
FinetuneMethod = Literal["full", "lora", "qlora"]
ModelType = Literal["transformer", "gnn", "recsys", "vision", "generic"]
WorkloadPrecision = Literal["fp32", "tf32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"]
KvPrecision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]
Deploy = Literal["cloud", "onprem", "edge"]
Optimize = Literal["time", "cost", "energy", "balanced"]
Sampling = Literal["full", "neighbor"]
SparsityPattern = Literal["unstructured", "2:4"]
Fraction = Annotated[float, Check(ge=0, lt=1)]

# field -> (quantity kind, largest sensible value).  The upper bounds catch
# typos and absurd magnitudes ("1e40 parameters") with a clear message.
QUANTITIES: dict[str, tuple[str, float]] = {
    "params": ("count", 1e15),
    "active_params": ("count", 1e15),
    "tokens": ("count", 1e17),
    "samples": ("count", 1e15),
    "epochs": ("count", 1e6),
    "rate": ("rate", 1e9),
    "latency_target": ("duration", 1e7),
    "tpot_target": ("duration", 1e4),
    "embedding_rows": ("count", 1e13),
    "embedding_dim": ("count", 1e6),
    "lookups_per_sample": ("count", 1e7),
    "embedding_tables": ("count", 1e6),
    "flops_per_sample": ("count", 1e18),
    "bytes_per_sample": ("bytes", 1e13),
    "nodes": ("count", 1e13),
    "edges": ("count", 1e15),
    "dataset_size": ("bytes", 1e19),
    "files": ("count", 1e13),
    "checkpoint_every": ("duration", 1e9),
    "power_budget": ("power", 1e9),
    "battery": ("energy", 1e12),
    "budget": ("money", 1e12),
    "deadline": ("duration", 1e10),
}
INTEGERS: dict[str, float] = {
    "layers": 1e4,
    "hidden": 1e6,
    "heads": 1e4,
    "kv_heads": 1e4,
    "seq_len": 1e8,
    "batch_size": 1e8,
    "prompt_tokens": 1e8,
    "output_tokens": 1e8,
    "node_features": 1e7,
    "edge_features": 1e7,
    "max_chips": 1e6,
    "chips": 1e6,
    "tensor_parallel": 1024,
    "pipeline_parallel": 1024,
    "expert_parallel": 4096,
    "experts": 1e5,
}
ZERO_ALLOWED = {"node_features", "edge_features"}  # a graph may carry no edge features
UNITS = {
    "count": "count",
    "bytes": "bytes",
    "duration": "seconds",
    "power": "watts",
    "energy": "joules",
    "money": "US dollars",
    "rate": "per second",
}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Workload(Record):
    """A workload and the user's priorities and limits.  Absent = derive or not applicable."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid", "title": "Workload"}

    description: str = ""
    model: str | None = doc(
        "a model of the catalog (id); its architecture fills the fields not given", default=None
    )
    task: Task = "train"
    finetune_method: FinetuneMethod | None = None
    model_type: ModelType = "transformer"
    params: float | None = doc("total parameters (count)", default=None)
    active_params: float | None = doc("active parameters per token, MoE (count)", default=None)
    experts: int | None = doc("routed experts per MoE layer", default=None)
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    kv_heads: int | None = None
    precision: WorkloadPrecision = "bf16"
    tokens: float | None = doc("training tokens (count)", default=None)
    samples: float | None = doc("training samples or served requests (count)", default=None)
    epochs: float | None = None
    seq_len: int | None = None
    batch_size: int | None = doc("global batch (sequences or samples)", default=None)
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    rate: float | None = doc("requests (or samples) per second to serve", default=None)
    latency_target: float | None = doc(
        "seconds: time to first token for LLM serving, per-sample latency otherwise",
        default=None,
    )
    tpot_target: float | None = doc(
        "seconds: time per output token under load (LLM serving)", default=None
    )
    kv_precision: KvPrecision | None = doc(
        "KV-cache element precision (LLM serving); absent = the planner chooses", default=None
    )
    weight_sparsity: Fraction | None = doc("fraction of zero weights", default=None)
    sparsity_pattern: SparsityPattern | None = None
    embedding_rows: float | None = None
    embedding_dim: float | None = None
    lookups_per_sample: float | None = None
    embedding_tables: float | None = doc(
        "sparse features (tables); each sample's lookups in a table are pooled into one vector",
        default=None,
    )
    flops_per_sample: float | None = doc("forward FLOPs per sample", default=None)
    bytes_per_sample: float | None = doc("input bytes per sample", default=None)
    nodes: float | None = None
    edges: float | None = None
    node_features: int | None = None
    edge_features: int | None = None
    sampling: Sampling | None = None
    fanout: list[int] | None = None
    dataset_size: float | None = doc("bytes", default=None)
    files: float | None = None
    checkpoint_every: float | None = doc("seconds between checkpoints", default=None)
    deploy: Deploy = "cloud"
    power_budget: float | None = doc("watts", default=None)
    battery: float | None = doc("joules", default=None)
    max_chips: int | None = None
    budget: float | None = doc("US dollars", default=None)
    deadline: float | None = doc("seconds", default=None)
    vendor: str | None = None
    cloud: str | None = None
    framework: str | None = None
    chip: str | None = None
    chips: int | None = None
    interconnect: str | None = None
    storage: str | None = None
    tensor_parallel: int | None = doc("pin the tensor-parallel degree", default=None)
    pipeline_parallel: int | None = doc("pin the pipeline-parallel degree", default=None)
    expert_parallel: int | None = doc("pin the expert-parallel degree (MoE)", default=None)
    optimize: Optimize = "balanced"
    include_legacy: bool = False

    def flag_values(self) -> dict[str, Any]:
        """The fields that differ from the defaults, as a TOML-ready dict."""
        values = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None and value != f.default:
                values[f.name] = list(value) if isinstance(value, list) else value
        return values


FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Workload))
CHOICES: dict[str, tuple[str, ...]] = {
    "task": get_args(Task),
    "finetune_method": get_args(FinetuneMethod),
    "model_type": get_args(ModelType),
    "precision": get_args(WorkloadPrecision),
    "kv_precision": get_args(KvPrecision),
    "sparsity_pattern": get_args(SparsityPattern),
    "sampling": get_args(Sampling),
    "deploy": get_args(Deploy),
    "optimize": get_args(Optimize),
}
TEXT = ("description", "model", "vendor", "cloud", "framework", "chip", "interconnect", "storage")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
# Quantities that may not be zero: the model or the job would be empty.
_NONZERO = (
    "params",
    "active_params",
    "tokens",
    "samples",
    "epochs",
    "rate",
    "flops_per_sample",
    "nodes",
    "embedding_rows",
    "embedding_dim",
    "embedding_tables",
)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _quantity(name: str, value: Any) -> float:
    kind, upper = QUANTITIES[name]
    flag = _flag(name)
    parsed = PARSERS[kind](value, flag)
    if parsed > upper:
        raise UnitError(f"{flag}: {value!r} is absurdly large (over {upper:g} {UNITS[kind]})")
    return parsed


def _integer(name: str, value: Any) -> int:
    flag = _flag(name)
    parsed = PARSERS["count"](value, flag)
    if parsed != math.floor(parsed):
        raise UnitError(f"{flag}: {value!r} must be a whole number")
    if parsed < (0 if name in ZERO_ALLOWED else 1):
        raise UnitError(f"{flag}: {value!r} must be at least 1")
    if parsed > INTEGERS[name]:
        raise UnitError(f"{flag}: {value!r} is absurdly large (over {INTEGERS[name]:g})")
    return int(parsed)


def _fanout(value: Any) -> list[int]:
    items = value if isinstance(value, list) else str(value).split(",")
    fanout = []
    for item in items:
        if isinstance(item, str):
            item = item.strip()
            if not item and not isinstance(value, list):
                continue
        number = item if isinstance(item, (int, float)) and not isinstance(item, bool) else None
        if isinstance(item, str) and item.isdigit():
            number = int(item)
        if number is None or number != math.floor(number):
            raise UnitError(
                f"--fanout: {value!r} must be whole numbers separated by commas (e.g. 15,10)"
            )
        if number < 1:
            raise UnitError("--fanout: every fanout must be at least 1")
        fanout.append(int(number))
    return fanout


def _fraction(value: Any) -> float:
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise UnitError(
                f"--weight-sparsity: {value!r} is not a fraction (e.g. 0.5 or 50%)"
            ) from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        raise UnitError(f"--weight-sparsity: {value!r} is not a fraction (e.g. 0.5 or 50%)")
    if not 0 <= number < 1:
        raise UnitError(f"--weight-sparsity: {value!r} must be at least 0 and below 1")
    return number


def _choice_text(options: tuple[str, ...]) -> str:
    quoted = [repr(o) for o in options]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _field(name: str, value: Any) -> tuple[Any, str | None]:
    """A field's value in SI, or the reason it is refused (unit errors are raised)."""
    if name in QUANTITIES:
        return _quantity(name, value), None
    if name in INTEGERS:
        return _integer(name, value), None
    if name in CHOICES:
        options = CHOICES[name]
        if isinstance(value, str) and value in options:
            return value, None
        return None, f"{value!r} is not one of: {_choice_text(options)}"
    if name in TEXT:
        return (value, None) if isinstance(value, str) else (None, "must be text (a string)")
    if name == "include_legacy":
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE, None
        return None, f"{value!r} is not true or false"
    if name == "fanout":
        return _fanout(value), None
    return _fraction(value), None  # weight_sparsity, the one field left


def _check_consistency(w: Workload) -> None:
    for name in _NONZERO:
        if getattr(w, name) == 0:
            raise UnitError(f"{_flag(name)}: must be greater than zero")
    if w.active_params is not None and w.params is not None and w.active_params > w.params:
        raise WorkloadError(
            f"--active-params ({w.active_params:g}) exceeds --params ({w.params:g})",
            hint="active parameters are the ones used per token; they cannot exceed the total",
        )
    if w.kv_heads and w.heads and w.heads % w.kv_heads:
        raise WorkloadError(f"--kv-heads {w.kv_heads} must divide --heads {w.heads}")
    if w.hidden and w.heads and w.hidden % w.heads:
        raise WorkloadError(f"--hidden {w.hidden} must be a multiple of --heads {w.heads}")


def resolve_model(name: Any, catalog: Catalog | None = None, where: str = "") -> Model:
    """The catalog model named by id or alias (any case), or a WorkloadError with a suggestion."""
    if catalog is None:
        from infra_advisor.catalog import load_catalog

        catalog = load_catalog()
    if not isinstance(name, str):
        raise WorkloadError(f"{where}--model: must be text (a model id or alias)")
    model = catalog.find_model(name)
    if model is not None:
        return model
    names = catalog.model_names()
    lowered = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.strip().lower(), list(lowered), n=1, cutoff=0.5)
    hint = f" (did you mean {lowered[close[0]]!r}?)" if close else ""
    raise WorkloadError(
        f"{where}--model: unknown model {name!r}{hint}",
        hint="`infra-advisor models` lists them; describe another model with --params, --layers …",
    )


def model_values(model: Model) -> dict[str, Any]:
    """The workload fields (flag names, SI values) a catalog model fills."""
    values: dict[str, Any] = {}
    if model.kind == "transformer":
        from infra_advisor.model_params import count_params

        counted = count_params(model)
        values.update(model_type="transformer", params=counted.total)
        values["layers"] = (model.layers or 0) + (model.decoder_layers or 0)
        values.update(hidden=model.hidden, heads=model.heads)
        values["kv_heads"] = model.kv_heads or model.heads
        if model.moe is not None:
            values.update(active_params=counted.active, experts=model.moe.experts)
        return values
    values["model_type"] = {"diffusion": "generic"}.get(model.kind, model.kind)
    if model.kind == "gnn":
        values.update(layers=model.layers, hidden=model.hidden, sampling=model.sampling)
        values["fanout"] = list(model.fanout) or None
        return {k: v for k, v in values.items() if v is not None}
    flops = model.flops_per_sample
    if flops is None and model.flops_per_step is not None and model.steps is not None:
        flops = model.flops_per_step * model.steps
    values.update(params=model.params, flops_per_sample=flops)
    values["bytes_per_sample"] = model.bytes_per_sample
    if model.kind == "recsys":
        values.update(embedding_rows=model.embedding_rows, embedding_dim=model.embedding_dim)
        values["lookups_per_sample"] = model.lookups_per_sample
        values["embedding_tables"] = model.embedding_tables
    return {k: v for k, v in values.items() if v is not None}


def _with_model(values: Mapping[str, Any], catalog: Catalog | None, where: str) -> dict[str, Any]:
    """The values with the named model's fields filled in under those given explicitly."""
    given = {k: v for k, v in values.items() if v is not None}
    name = given.get("model")
    if name is None or (isinstance(name, str) and not name.strip()):
        given.pop("model", None)
        return given
    model = resolve_model(name, catalog, where)
    return {**model_values(model), **given, "model": model.id}


def build_workload(
    values: Mapping[str, Any], where: str = "", catalog: Catalog | None = None
) -> Workload:
    """Validate a mapping of flag names (underscored) to values into a Workload.

    Quantities are parsed here ("70B", "2TB", "15W"); a value that cannot be parsed stops at once,
    with its flag; other refusals (an unknown key, a value outside its choices) are gathered so
    one message names them all.  A ``model`` (catalog id or alias) fills every field it knows
    that the values leave out; ``catalog`` is loaded when not given and a model is named.
    """
    values = _with_model(values, catalog, where)
    fields: dict[str, Any] = {}
    problems: list[str] = []
    try:
        for name in FIELDS:
            if name not in values or values[name] is None:
                continue
            value, problem = _field(name, values[name])
            if problem is None:
                fields[name] = value
            else:
                problems.append(f"{where}{_flag(name)}: {problem}")
    except UnitError as exc:
        raise WorkloadError(f"{where}{exc.message}") from None
    for name in values:
        if name not in Workload.__dataclass_fields__:
            close = difflib.get_close_matches(str(name), FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{where}{name}: unknown key{hint}")
    if problems:
        raise WorkloadError("; ".join(problems))
    workload = Workload(**fields)
    try:
        _check_consistency(workload)
    except UnitError as exc:
        raise WorkloadError(f"{where}{exc.message}") from None
    return workload


def load_workload_file(path: str | Path) -> dict[str, Any]:
    """Read a workload TOML file into a flat dict of workload keys (not yet validated)."""
    from infra_advisor.tomlcompat import tomllib

    file = Path(path)
    if not file.exists():
        raise WorkloadError(f"--workload {path}: no such file")
    if file.is_dir():
        raise WorkloadError(f"--workload {path}: is a directory, expected a TOML file")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise WorkloadError(f"--workload {path}: cannot read: {exc.strerror}") from None
    if len(raw) > 1024 * 1024:
        raise WorkloadError(f"--workload {path}: file is over 1 MiB; is this a workload file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WorkloadError(f"{path}: not UTF-8 text; expected a TOML workload file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        import re

        reason = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", reason)
        loc = f"{path}:{match[1]}:{match[2]}" if match else str(path)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", reason)
        raise WorkloadError(f"{loc}: TOML syntax error: {reason}") from None
    if "workload" in data and isinstance(data["workload"], dict) and len(data) == 1:
        data = data["workload"]
    for key, value in data.items():
        if isinstance(value, dict):
            raise WorkloadError(
                f"{path}: [{key}] tables are not workload keys; put keys at the top level"
            )
    return data


def workload_to_toml(workload: Workload) -> str:
    """Serialise the non-default fields of a workload as TOML (SI values)."""
    lines = ["# infra-advisor workload (SI units: counts, bytes, seconds, watts, joules, USD)"]
    for key, value in workload.flag_values().items():
        if key == "battery":  # a bare energy reads as watt-hours; joules need their unit
            value = f"{value!r}J"
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'
