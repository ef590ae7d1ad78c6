"""A Job: the workload with its derived quantities, computed once per run.

Holds the architecture (derived where the user gave none), token and sample
volumes, and the efficiency factors for one scenario (central, optimistic or
pessimistic), each with the assumption it rests on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from infra_advisor import shape as tf
from infra_advisor.catalog import Catalog
from infra_advisor.checks import FrozenRecord, record
from infra_advisor.workload import (
    Workload,
    inapplicable_notes,
    model_values,
    native_serving_precision,
)

SCENARIOS = ("central", "optimistic", "pessimistic")

# Efficiency entries where a larger value means a faster stack.
_HIGHER_IS_FASTER = {
    "compute-training",
    "compute-inference",
    "compute-small",
    "memory-bandwidth",
    "gather-bandwidth",
    "network",
    "dp-overlap",
    "memory-usable",
    "storage-read",
    "fp8-realised",
    "sampling-per-core",
    "device-sampling-rate",
}


@record(frozen=True)
class Job(FrozenRecord):
    """A workload with its derived quantities, for one efficiency scenario."""

    workload: Workload
    task: str
    method: str
    params: float
    active_params: float
    shape: tf.Shape
    seq_len: int
    batch_size: int
    tokens: float
    prompt_tokens: int
    output_tokens: int
    eff: dict[str, float]
    scenario: str = "central"
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    # The catalog model whose architecture the job uses unchanged (None when there is none, or
    # when a flag overrides its shape): the serving physics reads its KV cache and head width.
    model: Any = None
    # Parameters a token multiplies by (embedding lookups are not matmuls; a tied LM head is),
    # and those a step reads (all but the input embedding, of which only the batch's rows move).
    # Without a named model the user's counts stand for both.
    matmul_active_params: float = 0.0
    read_params: float = 0.0

    def __post_init__(self) -> None:
        if not self.matmul_active_params:
            object.__setattr__(self, "matmul_active_params", self.active_params)
        if not self.read_params:
            object.__setattr__(self, "read_params", self.params)

    # Memoised sub-results shared by every evaluation of this job (storage choices).
    cache: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_transformer(self) -> bool:
        return self.workload.model_type == "transformer"

    @property
    def is_moe(self) -> bool:
        return self.active_params < self.params

    @property
    def inference(self) -> bool:
        return self.task == "inference"


def efficiency_for(catalog: Catalog, scenario: str) -> dict[str, float]:
    values = {}
    for key, entry in catalog.efficiency.items():
        if scenario == "central":
            values[key] = entry.value
        elif scenario == "optimistic":
            values[key] = entry.high if key in _HIGHER_IS_FASTER else entry.low
        else:
            values[key] = entry.low if key in _HIGHER_IS_FASTER else entry.high
    return values


def _shown(key: str, value: Any) -> str:
    """A workload value as its flag would take it: 70.6B, 150.5KB, 8192, 15,10,5."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    units = (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3))
    if key == "bytes_per_sample":
        return next((f"{value / s:.4g}{u}B" for u, s in units if value >= s), f"{value:g}B")
    if key in ("params", "active_params", "flops_per_sample", "embedding_rows"):
        counts = (("T", 1e12), ("B", 1e9), ("M", 1e6)) if "params" in key else units[:3]
        return next((f"{value / s:.3g}{u}" for u, s in counts if value >= s), f"{value:g}")
    return f"{value:g}"


def _model_notes(w: Workload, catalog: Catalog, context: int) -> list[str]:
    """What a named model filled in, each explicit value that overrides it, and its KV cache."""
    model = catalog.find_model(w.model) if w.model else None
    if model is None:
        return []
    implied = model_values(model)
    filled = ", ".join(f"{k.replace('_', ' ')} {_shown(k, v)}" for k, v in implied.items())
    named = f" is {model.name}" if model.name.lower() != model.id else ""
    notes = [f"--model {model.id}{named} (catalog models.toml); it fills {filled}"]
    native = native_serving_precision(model)
    if w.task == "inference" and native is not None and w.precision == native:
        notes.append(
            f"{model.id} is published in {native.upper()}: served in it unless --precision "
            "says otherwise"
        )
    overridden = [key for key, value in implied.items() if getattr(w, key) != value]
    notes.extend(
        f"--{key.replace('_', '-')} {_shown(key, getattr(w, key))} overrides {model.id}'s "
        f"{_shown(key, implied[key])}"
        for key in overridden
    )
    if model.kind == "transformer" and not overridden and model.heads and w.task == "inference":
        from infra_advisor.model_params import kv_bytes_per_token

        kv = kv_bytes_per_token(model, 2, context)
        notes.append(
            f"{model.id}'s KV cache from its architecture: {kv:,.0f} bytes per token in bf16 "
            f"over {context:,} tokens (GQA, latent-KV and sliding-window layers counted)"
        )
    return notes


def build_job(workload: Workload, catalog: Catalog, scenario: str = "central") -> Job:
    w = workload
    notes: list[str] = []
    task = w.task
    method = _method(w, notes)
    params, active, shape = _size(w, notes)
    seq_len, batch, tokens = _volume(w, active, params, notes)
    prompt, output = _requests(w, notes)
    notes[:0] = _model_notes(w, catalog, prompt + output if task == "inference" else seq_len)
    notes.extend(inapplicable_notes(w))  # a flag the task or model type ignores is named
    model = _unchanged_model(w, catalog)
    matmul, read = _matmul_and_read_params(model, active, params)
    if model is not None and (model.head_dim or model.mla is not None):
        # e.g. gpt-oss: 64 heads of 64 over hidden 2880; DeepSeek's latent attention: 160 wide
        from infra_advisor.model_params import attention_head_widths

        shape = dataclasses.replace(shape, named_head_dim=attention_head_widths(model)[0])
    return Job(
        workload=w,
        task=task,
        method=method,
        params=params,
        active_params=active,
        shape=shape,
        seq_len=seq_len,
        batch_size=batch,
        tokens=tokens,
        prompt_tokens=prompt,
        output_tokens=output,
        eff=efficiency_for(catalog, scenario),
        scenario=scenario,
        assumptions=tuple(notes),
        model=model,
        matmul_active_params=matmul,
        read_params=read,
    )


def _method(w: Workload, notes: list[str]) -> str:
    if w.task != "finetune":
        return "full"
    if w.finetune_method is None:
        notes.append("fine-tuning method not given: LoRA (rank 16 on every linear layer) assumed")
    return w.finetune_method or "lora"


DEFAULT_SIZE_NOTES = {
    "transformer": "--params not given: an 8B-parameter transformer assumed",
    "vision": "--params not given: 25M parameters assumed (ResNet-50 size)",
    "recsys": "--params not given: dense layers of 25M parameters assumed beside the tables",
    "generic": "--params not given: 25M parameters assumed",
}


def _size(w: Workload, notes: list[str]) -> tuple[float, float, tf.Shape]:
    """Total and active parameters and the architecture (derived where not given).  A graph
    network's size follows from its layers and widths, so it gets no size note."""
    params = w.params
    if params is None:
        params = 8e9 if w.model_type == "transformer" else 25e6
        if w.model_type in DEFAULT_SIZE_NOTES:
            notes.append(DEFAULT_SIZE_NOTES[w.model_type])
    active = w.active_params or params
    shape = tf.derive_shape(params, w.layers, w.hidden, w.heads, w.kv_heads)
    if shape.derived and w.model_type == "transformer":
        notes.append(
            f"architecture derived from {params:.3g} parameters (P ≈ 12·L·h², h/L ≈ 128 as in Llama): "
            f"{shape.layers} layers, hidden {shape.hidden}, {shape.heads} heads, {shape.kv_heads} KV heads"
        )
    if w.active_params and w.active_params < params:
        notes.append(
            f"mixture of experts: compute follows {active:.3g} active parameters, "
            f"memory follows {params:.3g} total"
        )
    return params, active, shape


def _volume(w: Workload, active: float, params: float, notes: list[str]) -> tuple[int, int, float]:
    """Sequence length, global batch and training tokens, with the defaults said."""
    task, llm = w.task, w.model_type == "transformer"
    seq_len = w.seq_len or (4096 if task == "train" else 2048)
    if w.seq_len is None and task != "inference" and llm:
        notes.append(f"--seq-len not given: {seq_len} tokens assumed")
    batch = w.batch_size or (1024 if task == "train" else 64)
    if w.batch_size is None and task != "inference" and llm:
        notes.append(f"--batch-size not given: a global batch of {batch} sequences assumed")
    tokens = w.tokens
    if tokens is None and w.samples is not None and llm:
        tokens = w.samples * seq_len * (w.epochs or 1)
    if tokens is None:
        if task == "train":
            tokens = 20 * active if not w.active_params else 20 * params
            if llm:  # other model types count samples, not tokens: no tokens to assume
                notes.append(
                    f"--tokens not given: {tokens:.3g} tokens (≈20 per parameter, Chinchilla) "
                    "assumed"
                )
        else:
            tokens = 1e8
            if task == "finetune" and llm:
                notes.append("--tokens not given: 100M fine-tuning tokens assumed")
    elif w.epochs and w.tokens is not None:
        tokens = tokens * w.epochs
    return seq_len, batch, tokens


def _requests(w: Workload, notes: list[str]) -> tuple[int, int]:
    prompt = w.prompt_tokens or 1024
    output = w.output_tokens or 256
    missing = w.prompt_tokens is None or w.output_tokens is None
    if w.task == "inference" and w.model_type == "transformer" and missing:
        notes.append(f"requests assumed to carry {prompt} prompt tokens and {output} output tokens")
    return prompt, output


def _matmul_and_read_params(model: Any, active: float, params: float) -> tuple[float, float]:
    """(parameters a token multiplies by, parameters a step reads) of a named model: the input
    embedding is a lookup, not a matmul, and a step reads only the batch's rows of it; a tied
    LM head reuses the table as a matmul (Kaplan et al. 2020 count non-embedding parameters)."""
    if model is None:
        return active, params
    from infra_advisor.model_params import count_params

    try:
        count = count_params(model)
    except ValueError:
        return active, params
    head = model.vocab * model.hidden if model.tied_embeddings else 0.0
    lookup_only = count.embedding - head
    return max(active - lookup_only, 0.0) or active, max(params - lookup_only, 0.0) or params


def _unchanged_model(w: Workload, catalog: Catalog) -> Any:
    """The named transformer when no flag overrides what it fills (else its numbers are not
    the job's)."""
    model = catalog.find_model(w.model) if w.model else None
    if model is None or model.kind != "transformer" or not model.heads:
        return None
    implied = model_values(model)
    return model if all(getattr(w, key) == value for key, value in implied.items()) else None
