"""The Workload: what the user wants to run, in SI units.

Built from flags, a workload TOML file or a preset; every field is named
after its flag (dashes as underscores).  Quantities given as text are parsed
here, at the edge ("70B", "2TB", "15W", "30d"); inside, everything is SI:
counts, bytes, seconds, watts, joules, US dollars, events per second.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args

from infra_advisor.checks import Check, FrozenRecord, doc, record
from infra_advisor.errors import UnitError, WorkloadError
from infra_advisor.units import PARSERS

if TYPE_CHECKING:
    from pathlib import Path

    from infra_advisor.catalog import Catalog
    from infra_advisor.models import Model

Task = Literal["train", "finetune", "inference"]
FinetuneMethod = Literal["full", "lora", "qlora"]
ModelType = Literal["transformer", "gnn", "recsys", "vision", "generic"]
WorkloadPrecision = Literal["fp32", "tf32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"]
KvPrecision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]
GradReduce = Literal["fp32", "bf16", "fp16"]
Deploy = Literal["cloud", "onprem", "edge"]
Pricing = Literal["on_demand", "spot", "commit_1y", "commit_3y"]
Optimize = Literal["time", "cost", "energy", "balanced"]
Sampling = Literal["full", "neighbor"]
EmbeddingUpdate = Literal["dense", "sparse"]
FeatureStore = Literal["device", "host", "storage"]
Sampler = Literal["host", "device"]
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
    "embedding_nodes": ("count", 1e13),
    "edges": ("count", 1e15),
    "dataset_size": ("bytes", 1e19),
    "files": ("count", 1e13),
    "checkpoint_every": ("duration", 1e9),
    "eval_samples": ("count", 1e12),
    "eval_every": ("count", 1e15),
    "bits_per_weight": ("count", 32.0),
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
    "relations": 1e4,
    "loader_workers": 1e4,
    "max_chips": 1e6,
    "chips": 1e6,
    "tensor_parallel": 1024,
    "pipeline_parallel": 1024,
    "expert_parallel": 4096,
    "micro_batch": 1e5,
    "experts": 1e5,
    "steps": 1e4,
}
# A graph may carry no edge features; a data loader may run in the training process (0 workers).
ZERO_ALLOWED = {"node_features", "edge_features", "loader_workers"}
UNITS = {
    "count": "count",
    "bytes": "bytes",
    "duration": "seconds",
    "power": "watts",
    "energy": "joules",
    "money": "US dollars",
    "rate": "per second",
}


@record(frozen=True)
class Workload(FrozenRecord):
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
    steps: int | None = doc(
        "denoising steps of a diffusion model (default: its pipeline's)", default=None
    )
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
    bits_per_weight: float | None = doc(
        "stored bits per weight of the served checkpoint's format (GGUF Q4_K_M: 4.9); absent = "
        "the precision's",
        default=None,
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
    relations: int | None = doc(
        "edge types of a heterogeneous graph; each layer transforms and aggregates every one "
        "separately (R-GCN, R-GAT)",
        default=None,
    )
    embedding_nodes: float | None = doc(
        "nodes without input features, which learn a node_features-wide embedding instead",
        default=None,
    )
    embedding_update: EmbeddingUpdate | None = doc(
        "how learned node embeddings are updated: dense (every row, every step) or sparse "
        "(the rows a step touched)",
        default=None,
    )
    feature_store: FeatureStore | None = doc(
        "pin where the graph's features live: device, host or storage (absent: the nearest "
        "memory that holds them)",
        default=None,
    )
    loader_workers: int | None = doc(
        "data-loader worker processes; 0 samples in the training process, not overlapped",
        default=None,
    )
    sampler: Sampler | None = doc(
        "pin where neighbour sampling runs: host (CPU cores) or device (the accelerator, in the "
        "training process; absent: the device where the framework samples there)",
        default=None,
    )
    dataset_size: float | None = doc("bytes", default=None)
    files: float | None = None
    checkpoint_every: float | None = doc("seconds between checkpoints", default=None)
    eval_samples: float | None = doc(
        "samples in one evaluation pass during training (forward only)", default=None
    )
    eval_every: float | None = doc(
        "training samples between evaluation passes (absent: one pass at the end)", default=None
    )
    deploy: Deploy = "cloud"
    power_budget: float | None = doc("watts", default=None)
    battery: float | None = doc("joules", default=None)
    max_chips: int | None = None
    budget: float | None = doc("US dollars", default=None)
    deadline: float | None = doc("seconds", default=None)
    vendor: str | None = None
    cloud: str | None = None
    offering: str | None = doc("pin the rentable unit (an offering id)", default=None)
    pricing: Pricing = "on_demand"
    framework: str | None = None
    chip: str | None = None
    chips: int | None = None
    interconnect: str | None = None
    storage: str | None = None
    tensor_parallel: int | None = doc("pin the tensor-parallel degree", default=None)
    pipeline_parallel: int | None = doc("pin the pipeline-parallel degree", default=None)
    expert_parallel: int | None = doc("pin the expert-parallel degree (MoE)", default=None)
    micro_batch: int | None = doc("pin the sequences per micro-batch (training)", default=None)
    grad_reduce: GradReduce | None = doc(
        "precision gradients are reduced in across data-parallel ranks (training); absent = the "
        "framework's",
        default=None,
    )
    optimize: Optimize = "balanced"
    include_legacy: bool = False
    include_unpriced: bool = False
    fixed_lengths: bool = doc(
        "every request has exactly --prompt-tokens and --output-tokens (a fixed-shape benchmark "
        "that generates past end-of-sequence): a reserved KV buffer is all used and a static "
        "batch ends together",
        default=False,
    )

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
    "grad_reduce": get_args(GradReduce),
    "sparsity_pattern": get_args(SparsityPattern),
    "sampling": get_args(Sampling),
    "embedding_update": get_args(EmbeddingUpdate),
    "feature_store": get_args(FeatureStore),
    "sampler": get_args(Sampler),
    "deploy": get_args(Deploy),
    "pricing": get_args(Pricing),
    "optimize": get_args(Optimize),
}
TEXT = (
    "description",
    "model",
    "vendor",
    "cloud",
    "offering",
    "framework",
    "chip",
    "interconnect",
    "storage",
)
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
# Every quantity must be greater than zero: zero would be an empty model or job, a limit nothing
# meets (a 0 W power budget, a $0 budget, a 0 s deadline), or -- where the planners read a value
# with ``or`` -- would silently fall back to the default.  Integers must be at least 1 but for
# ZERO_ALLOWED.  The bounds in QUANTITIES and INTEGERS refuse (exit 2); PLAUSIBLE only warns.
ID_FIELDS = ("chip", "interconnect", "storage", "framework", "vendor", "cloud", "offering")
FLAG_FIELDS = ("include_legacy", "include_unpriced", "fixed_lengths")  # switches, not values
ID_KINDS = {
    "chip": "chips",
    "interconnect": "interconnects",
    "storage": "storage",
    "framework": "frameworks",
    "offering": "offerings",
}
ANY = "any"  # --vendor any, --cloud any: no restriction (the same as leaving the flag out)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _negative(value: Any) -> bool:
    """Whether a value is written as a negative number ("-5", "-5W", "$-20k", -3)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value < 0
    return str(value).strip().removeprefix("$").lstrip().startswith("-")


def _quantity(name: str, value: Any) -> float:
    kind, upper = QUANTITIES[name]
    flag = _flag(name)
    if _negative(value):
        raise UnitError(f"{flag}: {value!r} is negative; it must be greater than zero")
    parsed = PARSERS[kind](value, flag)
    if parsed == 0:
        raise UnitError(f"{flag}: {value!r} must be greater than zero")
    if parsed > upper:
        raise UnitError(f"{flag}: {value!r} is absurdly large (over {upper:g} {UNITS[kind]})")
    return parsed


def _integer(name: str, value: Any) -> int:
    flag = _flag(name)
    least = 0 if name in ZERO_ALLOWED else 1
    if _negative(value):
        raise UnitError(f"{flag}: {value!r} is negative; it must be at least {least}")
    parsed = PARSERS["count"](value, flag)
    if parsed != math.floor(parsed):
        raise UnitError(f"{flag}: {value!r} must be a whole number")
    if parsed < least:
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


EDGES_PER_NODE = 10  # the mean degree assumed when --edges is not given


def default_edges(nodes: float) -> float:
    """Graph edges when --edges is not given: ten per node (ogbn-products: 62M edges over
    2.4M nodes, about 25; citation graphs fewer)."""
    return EDGES_PER_NODE * nodes


def default_fanout(layers: int) -> list[int]:
    """Neighbours sampled per layer when --fanout is not given: 15, 10, 5 (PyG's ogbn-products
    GraphSAGE example and the MLPerf R-GAT reference), then 10 for each layer beyond three."""
    return ([15, 10, 5][:layers] + [10] * max(0, layers - 3))[:layers]


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
    if name in FLAG_FIELDS:
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
    if w.active_params is not None and w.params is not None and w.active_params > w.params:
        raise WorkloadError(
            f"--active-params ({w.active_params:g}) exceeds --params ({w.params:g})",
            hint="active parameters are the ones used per token; they cannot exceed the total",
        )
    if w.kv_heads and w.heads and w.heads % w.kv_heads:
        raise WorkloadError(f"--kv-heads {w.kv_heads} must divide --heads {w.heads}")
    if w.hidden and w.heads and w.hidden % w.heads:
        raise WorkloadError(f"--hidden {w.hidden} must be a multiple of --heads {w.heads}")
    served = (w.prompt_tokens or 0) + (w.output_tokens or 0)
    if w.task == "inference" and w.seq_len is not None and w.seq_len < served:
        raise WorkloadError(
            f"--seq-len {w.seq_len} is shorter than --prompt-tokens + --output-tokens ({served})",
            hint="for serving, --seq-len is the longest sequence the server is compiled for",
        )
    if w.embedding_nodes is not None and w.nodes is not None and w.embedding_nodes > w.nodes:
        raise WorkloadError(
            f"--embedding-nodes ({w.embedding_nodes:g}) exceeds --nodes ({w.nodes:g})",
            hint="the nodes that learn an embedding are some of the graph's nodes",
        )


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
    import difflib

    close = difflib.get_close_matches(name.strip().lower(), list(lowered), n=1, cutoff=0.5)
    hint = f" (did you mean {lowered[close[0]]!r}?)" if close else ""
    raise WorkloadError(
        f"{where}--model: unknown model {name!r}{hint}",
        hint="`infra-advisor models` lists them; describe another model with --params, --layers …",
    )


def known_ids(name: str, catalog: Catalog) -> list[str]:
    """The values an id-valued field takes: catalog ids, the vendors of its chips, or the clouds
    its offerings come from."""
    if name == "vendor":
        return sorted({chip.vendor for chip in catalog.chips.values()})
    if name == "cloud":
        return clouds(catalog)
    return list(getattr(catalog, ID_KINDS[name]))


def clouds(catalog: Catalog) -> list[str]:
    """The providers one rents from (every offering's provider but on-prem)."""
    return sorted({o.provider for o in catalog.offerings.values() if o.provider != "onprem"})


def canonical_id(name: str, value: str, catalog: Catalog, where: str = "") -> str | None:
    """The catalog's spelling of an id-valued field, matched in any case (``vLLM`` -> ``vllm``);
    None for ``--vendor any`` / ``--cloud any``; an unknown value is a WorkloadError (exit 2)
    with the closest known value (difflib)."""
    text = value.strip()
    if name in ("vendor", "cloud") and text.lower() == ANY:
        return None
    known = known_ids(name, catalog)
    lowered = {k.lower(): k for k in known}
    if text.lower() in lowered:
        return lowered[text.lower()]
    import difflib

    close = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=0.6)
    suggestion = f" (did you mean {lowered[close[0]]!r}?)" if close else ""
    if name in ID_KINDS:
        listing = ID_KINDS[name]
        raise WorkloadError(
            f"{where}{_flag(name)}: unknown id {value!r}{suggestion}",
            hint=f"see `infra-advisor catalog list {listing}` (ids match in any case)",
        )
    noun = "vendor" if name == "vendor" else "cloud"
    raise WorkloadError(
        f"{where}{_flag(name)}: unknown {noun} {value!r}{suggestion}",
        hint=f"the catalog's {'chips' if noun == 'vendor' else 'offerings'} come from these "
        f"{noun}s: {', '.join(known)}; or {ANY}",
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


def native_serving_precision(model: Model) -> str | None:
    """The precision a model is served in when --precision is not given: its published
    checkpoint's, where that is below 16 bits (FP8 DeepSeek-V3 and R1, MXFP4 gpt-oss)."""
    return model.native_precision if model.native_precision in ("fp8", "fp4") else None


def _with_model(values: Mapping[str, Any], catalog: Catalog | None, where: str) -> dict[str, Any]:
    """The values with the named model's fields filled in under those given explicitly."""
    given = {k: v for k, v in values.items() if v is not None}
    name = given.get("model")
    if name is None or (isinstance(name, str) and not name.strip()):
        given.pop("model", None)
        return given
    model = resolve_model(name, catalog, where)
    merged = {**model_values(model), **given, "model": model.id}
    if given.get("task") == "inference" and native_serving_precision(model):
        # Served as published: an FP8 or MXFP4 checkpoint (DeepSeek-V3, gpt-oss) is not
        # up-cast to 16-bit by the engines that serve it.
        merged.setdefault("precision", model.native_precision)
    steps = given.get("steps")
    per_step = model.flops_per_step if model.kind == "diffusion" else None
    if per_step is not None and steps is not None and "flops_per_sample" not in given:
        merged["flops_per_sample"] = per_step * _integer("steps", steps)  # re-counted per step
    if model.kind == "diffusion" and merged.get("flops_per_sample") is None:
        # A UNet or DiT does far more than 2 FLOPs per parameter per image (every latent
        # position, every denoising step): guessing would be off by orders of magnitude.
        raise WorkloadError(
            f"{where}--model {model.id}: the catalog has no published FLOPs per denoising step "
            f"for it ({given.get('steps') or model.steps or 'unknown'} steps); give "
            "--flops-per-sample, the FLOPs of one image over all its steps"
        )
    return merged


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
            import difflib

            close = difflib.get_close_matches(str(name), FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{where}{name}: unknown key{hint}")
    if problems:
        raise WorkloadError("; ".join(problems))
    if catalog is not None:
        for name in ID_FIELDS:
            if isinstance(fields.get(name), str):
                fields[name] = canonical_id(name, fields[name], catalog, where)
    workload = Workload(**fields)
    _check_consistency(workload)
    return workload


# --------------------------------------------------------------------------- plausibility


@record(frozen=True, kw_only=False)
class Plausible(FrozenRecord):
    """Where a field's value plausibly lies (SI units), for the model types ``kinds`` and the
    tasks ``tasks`` (all when empty).  A value outside is kept, with one warning: a bare number
    below ``low`` probably lacks one of ``low_suffixes`` (``--params 70`` meant 70B), a bare
    number above ``high`` one of ``high_suffixes`` (``--latency-target 200`` meant 200ms)."""

    field: str
    low: float | None
    high: float | None
    shown: str  # how the value reads: "{} parameters"
    low_suffixes: tuple[str, ...] = ()
    high_suffixes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    scale: float = 1.0  # SI units per shown unit (battery: 3600 J per Wh)


# The first entry for a field whose kinds and tasks fit the workload applies.  Bounds are wide:
# the largest published models, clusters and contexts sit well inside them (transformers of 1M
# to 100T parameters; at most 1,000 layers, 1,024 heads, 20M tokens of context; one service at
# up to a million requests per second; 200,000 chips).  Documented in docs/cli.md.
PLAUSIBLE: tuple[Plausible, ...] = (
    Plausible("params", 1e6, 1e14, "{} parameters", ("B",), kinds=("transformer",)),
    Plausible("params", 1e3, 1e14, "{} parameters", ("M",)),
    Plausible("active_params", 1e6, 1e14, "{} active parameters", ("B",), kinds=("transformer",)),
    Plausible("tokens", 1e6, 1e16, "{} training tokens", ("B", "T")),
    Plausible("epochs", None, 1e3, "{} passes over the data"),
    Plausible("rate", None, 1e6, "{} requests per second"),
    Plausible("latency_target", None, 60, "{} seconds", high_suffixes=("ms",)),
    Plausible("tpot_target", None, 1, "{} seconds per output token", high_suffixes=("ms",)),
    Plausible("deadline", 600, 3.2e8, "{} seconds", ("h", "d")),
    Plausible("checkpoint_every", 60, None, "{} seconds between checkpoints", ("min", "h")),
    Plausible("layers", None, 1000, "{} layers"),
    Plausible("hidden", None, 1e5, "a hidden size of {}"),
    Plausible("heads", None, 1024, "{} attention heads"),
    Plausible("kv_heads", None, 1024, "{} key/value heads"),
    Plausible("experts", None, 4096, "{} experts per layer"),
    Plausible("seq_len", 32, 2e7, "{} tokens per sequence", ("k",), kinds=("transformer",)),
    Plausible("prompt_tokens", None, 2e7, "{} prompt tokens"),
    Plausible("output_tokens", None, 1e6, "{} output tokens"),
    Plausible("batch_size", None, 1e7, "a batch of {}"),
    Plausible("embedding_rows", 1e3, 1e12, "{} embedding rows", ("M", "B")),
    Plausible("embedding_dim", None, 65536, "{}-wide embeddings"),
    Plausible("flops_per_sample", 1e3, None, "{} FLOPs per sample", ("M", "G")),
    Plausible("nodes", 100, None, "{} nodes", ("M",)),
    Plausible("edges", 100, None, "{} edges", ("M", "B")),
    Plausible("dataset_size", 1e6, None, "{} bytes", ("GB", "TB")),
    Plausible("power_budget", 0.1, 1e8, "{} W"),
    Plausible("battery", 0.1 * 3600, 1e5 * 3600, "{} Wh", scale=3600.0),
    Plausible("budget", 100, None, "${}", ("k",), tasks=("train", "finetune")),
    Plausible("chips", None, 2e5, "{} chips"),
    Plausible("max_chips", None, 2e5, "{} chips"),
)


def _readable(value: float) -> str:
    if value >= 1e6:
        from infra_advisor.units import format_count

        return format_count(value)
    return f"{value:,.0f}" if value == int(value) and value >= 1000 else f"{value:.3g}"


def magnitude_warnings(given: Mapping[str, Any], workload: Workload) -> list[str]:
    """One line per value the user gave (``given``: the raw values of flags, file and preset)
    whose magnitude is implausible for its field, naming the flag and its likely meaning."""
    from infra_advisor.units import has_unit

    lines = []
    seen: set[str] = set()
    for rule in PLAUSIBLE:
        value = getattr(workload, rule.field, None)
        raw = given.get(rule.field)
        if rule.field in seen or value is None or raw is None or isinstance(raw, bool):
            continue
        if rule.kinds and workload.model_type not in rule.kinds:
            continue
        if rule.tasks and workload.task not in rule.tasks:
            continue
        seen.add(rule.field)
        low = rule.low is not None and value < rule.low
        high = rule.high is not None and value > rule.high
        if not (low or high):
            continue
        shown = rule.shown.format(_readable(value / rule.scale))
        suffixes = rule.low_suffixes if low else rule.high_suffixes
        typed = str(raw).strip()
        if suffixes and not has_unit(raw):
            guesses = " or ".join(f"{typed}{suffix}" for suffix in suffixes)
            lines.append(f"{_flag(rule.field)} {typed}: {shown}; did you mean {guesses}?")
            continue
        low_text, high_text = (
            rule.shown.format(_readable(bound / rule.scale)) if bound is not None else None
            for bound in (rule.low, rule.high)
        )
        if low_text and high_text:
            plausible = f"{low_text} to {high_text}"
        else:
            plausible = f"at least {low_text}" if low_text else f"at most {high_text}"
        check = "check the value" if rule.field in INTEGERS else "check the value and its unit"
        lines.append(f"{_flag(rule.field)} {typed}: {shown} (plausible: {plausible}); {check}")
    return lines


# --------------------------------------------------------------------------- what applies

# Fields only some model types read (the planners of the others never look at them).
_KIND_FIELDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("tokens", "seq_len", "prompt_tokens", "output_tokens", "tpot_target", "fixed_lengths"),
        ("transformer",),
    ),
    (("kv_precision", "active_params", "experts", "heads", "kv_heads"), ("transformer",)),
    (
        ("tensor_parallel", "pipeline_parallel", "expert_parallel", "micro_batch", "grad_reduce"),
        ("transformer",),
    ),
    (("eval_samples", "eval_every"), ("transformer", "recsys", "gnn")),
    (("nodes", "edges", "node_features", "edge_features", "sampling", "fanout"), ("gnn",)),
    (
        ("relations", "embedding_nodes", "embedding_update", "loader_workers", "feature_store"),
        ("gnn",),
    ),
    (
        ("sampler",),
        ("gnn",),
    ),
    (("embedding_rows", "embedding_dim", "lookups_per_sample", "embedding_tables"), ("recsys",)),
    (("flops_per_sample", "bytes_per_sample"), ("recsys", "vision", "generic")),
    (("steps",), ("generic",)),
    (("hidden",), ("transformer", "gnn")),
    (("layers",), ("transformer", "gnn", "vision", "generic")),
)
_ONLY_FOR_KINDS = {name: kinds for names, kinds in _KIND_FIELDS for name in names}
# Fields only serving reads, and those only training (and fine-tuning) reads.
_SERVING_ONLY = (
    "prompt_tokens",
    "output_tokens",
    "rate",
    "latency_target",
    "tpot_target",
    "kv_precision",
    "bits_per_weight",
    "fixed_lengths",
)
_TRAINING_ONLY = (
    "tokens",
    "epochs",
    "deadline",
    "checkpoint_every",
    "expert_parallel",
    "micro_batch",
    "grad_reduce",
    "eval_samples",
    "eval_every",
    "embedding_update",
    "loader_workers",
    "sampler",
)
_KIND_NAMES = {
    "transformer": "a transformer",
    "gnn": "a GNN",
    "recsys": "a recommender (recsys)",
    "vision": "a vision model",
    "generic": "a generic model",
}


def inapplicable_notes(w: Workload) -> list[str]:
    """A note for each field given that the task, the model type or another field makes the
    planner ignore ("--tokens does not apply to inference: ignored"): nothing is dropped silently.
    ``--batch-size`` applies everywhere but where noted: it is the global batch of training, the
    batch a served model may use at most, and the seeds per step of a sampled GNN."""
    reasons: dict[str, str] = {}
    training = "fine-tuning" if w.task == "finetune" else "training"
    for name in FIELDS:
        value = getattr(w, name)
        if value is None or value is False:  # absent, or a switch left off
            continue
        kinds = _ONLY_FOR_KINDS.get(name)
        if kinds and w.model_type not in kinds:
            reasons[name] = f"to {_KIND_NAMES[w.model_type]}"
        elif w.task == "inference" and name in _TRAINING_ONLY:
            reasons[name] = "to inference"
        elif w.task != "inference" and name in _SERVING_ONLY:
            reasons[name] = f"to {training}"
    if w.finetune_method is not None and w.task != "finetune":
        reasons["finetune_method"] = (
            "to inference" if w.task == "inference" else "to training from scratch"
        )
    transformer = w.model_type == "transformer"
    if transformer and w.task != "inference" and w.samples is not None and w.tokens is not None:
        reasons["samples"] = "when --tokens is given (the tokens are counted directly)"
    if transformer and w.task != "inference" and w.epochs and not (w.tokens or w.samples):
        reasons["epochs"] = "without --tokens or --samples (the tokens follow Chinchilla)"
    if w.model_type == "gnn" and w.batch_size is not None:
        if w.sampling == "full":
            reasons["batch_size"] = "to --sampling full (each step is the whole graph)"
        elif w.task == "inference":
            reasons["batch_size"] = "to GNN inference (one query per chip per step)"
    if w.eval_every is not None and w.eval_samples is None and "eval_every" not in reasons:
        reasons["eval_every"] = "without --eval-samples (no evaluation set is given)"
    if w.max_chips is not None and w.chips is not None:
        reasons["max_chips"] = "when --chips pins the count"
    if w.steps is not None and w.model_type == "generic" and w.model is None:
        reasons["steps"] = "without a --model that names a diffusion model"
    if w.cloud is not None and w.deploy != "cloud":
        reasons["cloud"] = f"to --deploy {w.deploy}"
    return [f"{_flag(name)} does not apply {why}: ignored" for name, why in reasons.items()]


def load_workload_file(path: str | Path) -> dict[str, Any]:
    """Read a workload TOML file into a flat dict of workload keys (not yet validated)."""
    from pathlib import Path

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


def answers_to_toml(answers: Mapping[str, Any]) -> str:
    """The answers as they were typed (``params = "70B"``, ``battery = "50Wh"``), in the order
    of the workload's fields, as a workload file that rebuilds the same workload."""
    lines = ["# infra-advisor workload: the answers as given (values take the flags' units)"]
    order = {key: i for i, key in enumerate(FIELDS)}
    for key in sorted(answers, key=lambda k: order.get(k, len(order))):
        value = answers[key]
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
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
