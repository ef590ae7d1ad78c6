"""The Workload: what the user wants to run, in SI units.

Built from flags, a workload TOML file or a preset; every field is named
after its flag (dashes as underscores).  Quantities given as text are parsed
here, at the edge ("70B", "2TB", "15W", "30d"); inside, everything is SI:
counts, bytes, seconds, watts, joules, US dollars, events per second.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from infra_advisor.errors import UnitError, WorkloadError
from infra_advisor.units import PARSERS

Task = Literal["train", "finetune", "inference"]
FinetuneMethod = Literal["full", "lora", "qlora"]
ModelType = Literal["transformer", "gnn", "recsys", "vision", "generic"]
WorkloadPrecision = Literal["fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4"]
Deploy = Literal["cloud", "onprem", "edge"]
Optimize = Literal["time", "cost", "energy", "balanced"]
Sampling = Literal["full", "neighbor"]
SparsityPattern = Literal["unstructured", "2:4"]

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
    "embedding_rows": ("count", 1e13),
    "embedding_dim": ("count", 1e6),
    "lookups_per_sample": ("count", 1e7),
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


class Workload(BaseModel):
    """A workload and the user's priorities and limits.  Absent = derive or not applicable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    task: Task = "train"
    finetune_method: FinetuneMethod | None = None
    model_type: ModelType = "transformer"
    params: float | None = Field(None, description="total parameters (count)")
    active_params: float | None = Field(
        None, description="active parameters per token, MoE (count)"
    )
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    kv_heads: int | None = None
    precision: WorkloadPrecision = "bf16"
    tokens: float | None = Field(None, description="training tokens (count)")
    samples: float | None = Field(None, description="training samples or served requests (count)")
    epochs: float | None = None
    seq_len: int | None = None
    batch_size: int | None = Field(None, description="global batch (sequences or samples)")
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    rate: float | None = Field(None, description="requests (or samples) per second to serve")
    latency_target: float | None = Field(
        None,
        description="seconds: time to first token for LLM serving, per-sample latency otherwise",
    )
    weight_sparsity: float | None = Field(None, ge=0, lt=1, description="fraction of zero weights")
    sparsity_pattern: SparsityPattern | None = None
    embedding_rows: float | None = None
    embedding_dim: float | None = None
    lookups_per_sample: float | None = None
    flops_per_sample: float | None = Field(None, description="forward FLOPs per sample")
    bytes_per_sample: float | None = Field(None, description="input bytes per sample")
    nodes: float | None = None
    edges: float | None = None
    node_features: int | None = None
    edge_features: int | None = None
    sampling: Sampling | None = None
    fanout: list[int] | None = None
    dataset_size: float | None = Field(None, description="bytes")
    files: float | None = None
    checkpoint_every: float | None = Field(None, description="seconds between checkpoints")
    deploy: Deploy = "cloud"
    power_budget: float | None = Field(None, description="watts")
    battery: float | None = Field(None, description="joules")
    max_chips: int | None = None
    budget: float | None = Field(None, description="US dollars")
    deadline: float | None = Field(None, description="seconds")
    vendor: str | None = None
    cloud: str | None = None
    framework: str | None = None
    chip: str | None = None
    chips: int | None = None
    interconnect: str | None = None
    storage: str | None = None
    optimize: Optimize = "balanced"
    include_legacy: bool = False

    @field_validator(*QUANTITIES, mode="before")
    @classmethod
    def _parse_quantity(cls, value: Any, info: Any) -> Any:
        if value is None:
            return None
        name: str = info.field_name
        kind, upper = QUANTITIES[name]
        flag = "--" + name.replace("_", "-")
        parsed = PARSERS[kind](value, flag)
        if parsed > upper:
            raise UnitError(f"{flag}: {value!r} is absurdly large (over {upper:g} {UNITS[kind]})")
        return parsed

    @field_validator(*INTEGERS, mode="before")
    @classmethod
    def _parse_integer(cls, value: Any, info: Any) -> Any:
        if value is None:
            return None
        name: str = info.field_name
        flag = "--" + name.replace("_", "-")
        parsed = PARSERS["count"](value, flag)
        if parsed != math.floor(parsed):
            raise UnitError(f"{flag}: {value!r} must be a whole number")
        if parsed < (0 if name in ZERO_ALLOWED else 1):
            raise UnitError(f"{flag}: {value!r} must be at least 1")
        if parsed > INTEGERS[name]:
            raise UnitError(f"{flag}: {value!r} is absurdly large (over {INTEGERS[name]:g})")
        return int(parsed)

    @field_validator("fanout", mode="before")
    @classmethod
    def _parse_fanout(cls, value: Any) -> Any:
        if value is None or isinstance(value, list):
            return value
        try:
            return [int(x) for x in str(value).split(",") if x.strip()]
        except ValueError:
            raise UnitError(
                f"--fanout: {value!r} must be whole numbers separated by commas (e.g. 15,10)"
            ) from None

    @field_validator("weight_sparsity", mode="before")
    @classmethod
    def _parse_fraction(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            try:
                return float(text[:-1]) / 100 if text.endswith("%") else float(text)
            except ValueError:
                raise UnitError(
                    f"--weight-sparsity: {value!r} is not a fraction (e.g. 0.5 or 50%)"
                ) from None
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Workload:
        for name in (
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
        ):
            value = getattr(self, name)
            if value is not None and value == 0:
                raise UnitError(f"--{name.replace('_', '-')}: must be greater than zero")
        if (
            self.active_params is not None
            and self.params is not None
            and self.active_params > self.params
        ):
            raise WorkloadError(
                f"--active-params ({self.active_params:g}) exceeds --params ({self.params:g})",
                hint="active parameters are the ones used per token; they cannot exceed the total",
            )
        if self.fanout is not None and any(f < 1 for f in self.fanout):
            raise UnitError("--fanout: every fanout must be at least 1")
        if self.kv_heads and self.heads and self.heads % self.kv_heads:
            raise WorkloadError(f"--kv-heads {self.kv_heads} must divide --heads {self.heads}")
        if self.hidden and self.heads and self.hidden % self.heads:
            raise WorkloadError(
                f"--hidden {self.hidden} must be a multiple of --heads {self.heads}"
            )
        return self

    def flag_values(self) -> dict[str, Any]:
        """The fields that differ from the defaults, as a TOML-ready dict."""
        data = self.model_dump(exclude_defaults=True)
        return {k: v for k, v in data.items() if v is not None}


FIELDS: tuple[str, ...] = tuple(Workload.model_fields)


def _format_error(err: ValidationError, where: str) -> str:
    parts = []
    for item in err.errors():
        name = ".".join(str(p) for p in item["loc"])
        ctx = item.get("ctx") or {}
        inner = ctx.get("error")
        msg = str(inner) if isinstance(inner, Exception) else item["msg"]
        if item["type"] == "extra_forbidden":
            close = difflib.get_close_matches(name, FIELDS, n=1)
            msg = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
            parts.append(f"{where}{name}: {msg}")
            continue
        if item["type"] == "literal_error":
            msg = f"{item['input']!r} is not one of: {ctx.get('expected', '')}"
        flag = "--" + name.replace("_", "-")
        parts.append(msg if msg.startswith(flag) else f"{where}{flag}: {msg}")
    return "; ".join(parts)


def build_workload(values: Mapping[str, Any], where: str = "") -> Workload:
    """Validate a mapping of flag names (underscored) to values into a Workload."""
    try:
        return Workload.model_validate(dict(values))
    except ValidationError as exc:
        raise WorkloadError(_format_error(exc, where)) from None
    except UnitError as exc:  # raised directly by a validator in a nested path
        raise WorkloadError(f"{where}{exc.message}") from None


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
