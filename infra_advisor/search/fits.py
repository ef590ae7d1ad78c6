"""What a given box can serve: each named generative model of the catalog on one chip count,
at the highest weight precision that fits, with its batch-1 decode speed.

Every verdict is the engine's own (search.engine.recommend with the chip, the count and the
precision pinned): this module only walks the precisions, heaviest first, and keeps the first
that fits, so ``models --fits`` and ``recommend`` cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra_advisor.catalog import Catalog
from infra_advisor.models import Model
from infra_advisor.physics.transformer import bytes_per_weight
from infra_advisor.search.engine import recommend
from infra_advisor.workload import build_workload, native_serving_precision

OUTPUT_TOKENS = 256  # one answer's worth of generated tokens in the asked context
LIGHTER = ("fp8", "int4")  # what to try, in turn, when the model does not fit as published


@dataclass(frozen=True)
class Fit:
    """One model on the box: the precision it fits at (None: none does) and what it reaches."""

    model: str
    name: str
    params: float
    precision: str | None
    context: int
    stack: str | None = None
    framework: str | None = None
    memory_per_chip_bytes: float | None = None
    capacity_per_chip_bytes: float | None = None
    decode_tokens_per_s: float | None = None
    ttft_s: float | None = None
    reason: str | None = None


def generates(model: Model) -> bool:
    """Whether the model decodes text token by token: a decoder-only model or an
    encoder-decoder, not an encoder such as BERT (learned positions, no decoder stack)."""
    return model.kind == "transformer" and (
        model.decoder_layers is not None or not model.learned_positions
    )


def precisions_to_try(model: Model) -> list[str]:
    """The published precision (16-bit where it is not below that), then the lighter ones."""
    first = native_serving_precision(model) or "bf16"
    return [first] + [p for p in LIGHTER if bytes_per_weight(p) < bytes_per_weight(first)]


def fit_on(catalog: Catalog, model: Model, chip: str, chips: int, context: int) -> Fit:
    """The model on ``chips`` × ``chip``: the heaviest precision whose stack fits."""
    context = min(context, model.max_context or context)
    output = min(OUTPUT_TOKENS, max(1, context // 2))
    reason = None
    for precision in precisions_to_try(model):
        w = build_workload(
            {"model": model.id, "task": "inference", "chip": chip, "chips": chips,
             "precision": precision, "prompt_tokens": context - output,
             "output_tokens": output, "deploy": "onprem", "include_unpriced": True},
            catalog=catalog,
        )  # fmt: skip
        report = recommend(w, catalog, top=1)
        if report.stacks:
            s = report.stacks[0]
            tpot = s.metrics.tpot_s
            return Fit(
                model.id, model.name, float(model.params or 0), precision, context,
                stack=s.id, framework=s.components.framework,
                memory_per_chip_bytes=s.metrics.memory_per_chip_bytes,
                capacity_per_chip_bytes=s.metrics.memory_capacity_per_chip_bytes,
                decode_tokens_per_s=1.0 / tpot if tpot else None, ttft_s=s.metrics.ttft_s,
            )  # fmt: skip
        rejected = report.rejected
        reason = rejected[0].reasons[0] if rejected and rejected[0].reasons else "no stack fits"
    return Fit(model.id, model.name, float(model.params or 0), None, context, reason=reason)


def what_fits(catalog: Catalog, chip: str, chips: int = 1, context: int = 4096) -> list[Fit]:
    """Every generative model of the catalog on the box, in catalog order."""
    return [
        fit_on(catalog, m, chip, chips, context) for m in catalog.models.values() if generates(m)
    ]
