"""Parameter counts and KV-cache bytes of a transformer, from its architecture (floor 1-2).

Pure functions over a catalog ``Model`` entry: no I/O, nothing above ``models.py`` imported.
The counts follow the shapes of the Hugging Face implementations the configs belong to:

* embeddings: ``vocab · hidden`` (plus a learned position table of ``max_context · hidden`` where
  the model has one); the LM head adds another ``vocab · hidden`` unless it is tied;
* attention, grouped-query (GQA/MQA): q and o are ``hidden · heads · head_dim``, k and v are
  ``hidden · kv_heads · head_dim`` (``head_dim`` need not be ``hidden / heads``); multi-head latent
  attention (DeepSeek-V2/V3) projects queries through ``q_lora_rank`` and keys/values through
  ``kv_lora_rank + qk_rope_head_dim`` (Liu et al. 2024, arXiv 2405.04434 §2.1);
* FFN: a gated FFN (SwiGLU/GeGLU) has three ``hidden · ffn`` matrices, a plain one two;
* mixture of experts: every routed and shared expert is one FFN of its own width, plus a router
  of ``hidden · experts``; ``dense_layers`` keep a dense FFN;
* norms: one vector (RMSNorm) or two (LayerNorm) of ``hidden`` before attention and FFN.

Small terms some models add (QK-norm vectors, attention sinks, relative-position tables, BERT's
pooler) are left out: each is far under the 2% the catalog check allows.
"""

from __future__ import annotations

from infra_advisor.checks import FrozenRecord, record
from infra_advisor.models import Model

# catalog validate rejects a model whose computed count is further than this from the published.
PARAMS_TOLERANCE = 0.02


@record(frozen=True)
class ParamCount(FrozenRecord):
    """Parameters of a transformer: all of them, those a token uses, and the input embedding."""

    total: float
    active: float  # per token: routed experts beyond experts_per_token left out
    embedding: float  # the input embedding table (and learned positions), counted in both


def _head_dim(model: Model) -> int:
    assert model.hidden is not None and model.heads is not None
    return model.head_dim or model.hidden // model.heads


def attention_head_widths(model: Model) -> tuple[int, int]:
    """The per-head width attention's QKᵀ and AV run over, as (prefill and training, decode):
    the mean of the key and value widths, since the FLOPs are 2·(d_qk + d_v) a head and context
    token.  A multi-head latent attention layer computes prefill over its expanded heads
    (qk_nope + qk_rope keys, v_head values) and decode over the latent it caches, with the up-
    projections absorbed into the query and output (kv_lora + qk_rope keys, kv_lora values;
    DeepSeek-V2, arXiv 2405.04434 §2.1.2 and App. C; FlashMLA); other layers over head_dim."""
    if model.mla is None:
        return _head_dim(model), _head_dim(model)
    mla = model.mla
    prefill = (mla.qk_nope_head_dim + mla.qk_rope_head_dim + mla.v_head_dim) // 2
    decode = (2 * mla.kv_lora_rank + mla.qk_rope_head_dim) // 2
    return prefill, decode


def _attention_params(model: Model) -> float:
    """One self-attention block: projections and their biases."""
    assert model.hidden is not None and model.heads is not None
    h, heads = model.hidden, model.heads
    mla = model.mla
    if mla is not None:
        qk_dim = mla.qk_nope_head_dim + mla.qk_rope_head_dim
        if mla.q_lora_rank is None:
            q = h * heads * qk_dim
        else:  # down-projection, its RMSNorm, up-projection
            q = h * mla.q_lora_rank + mla.q_lora_rank + mla.q_lora_rank * heads * qk_dim
        kv = (
            h * (mla.kv_lora_rank + mla.qk_rope_head_dim)
            + mla.kv_lora_rank
            + mla.kv_lora_rank * heads * (mla.qk_nope_head_dim + mla.v_head_dim)
        )
        return float(q + kv + heads * mla.v_head_dim * h)
    head_dim = _head_dim(model)
    kv_heads = model.kv_heads or heads
    q_width, kv_width = heads * head_dim, kv_heads * head_dim
    weights = 2 * h * q_width + 2 * h * kv_width  # q and o, k and v
    bias = (q_width + 2 * kv_width + h) if model.attention_bias else 0
    return float(weights + bias)


def _ffn_params(model: Model, width: int) -> float:
    """One FFN (or one expert) of the given intermediate width."""
    assert model.hidden is not None
    matrices = 3 if model.gated_ffn else 2
    bias = ((matrices - 1) * width + model.hidden) if model.mlp_bias else 0
    return float(matrices * model.hidden * width + bias)


def _norm_params(model: Model) -> float:
    assert model.hidden is not None
    return float(model.hidden * (2 if model.norm == "layer" else 1))


def _ffn_totals(model: Model, layers: int) -> tuple[float, float]:
    """All FFN parameters of the decoder (or encoder) stack, and those one token uses."""
    moe = model.moe
    if moe is None:
        assert model.ffn_hidden is not None
        dense = layers * _ffn_params(model, model.ffn_hidden)
        return dense, dense
    assert model.hidden is not None
    dense = 0.0
    if moe.dense_layers:
        assert model.ffn_hidden is not None  # count_params checks it first
        dense = moe.dense_layers * _ffn_params(model, model.ffn_hidden)
    moe_layers = layers - moe.dense_layers
    expert = _ffn_params(model, moe.expert_ffn_hidden)
    shared = moe.shared_experts * _ffn_params(
        model, moe.shared_expert_ffn_hidden or moe.expert_ffn_hidden
    )
    router = model.hidden * moe.experts
    total = dense + moe_layers * (moe.experts * expert + shared + router)
    active = dense + moe_layers * (moe.experts_per_token * expert + shared + router)
    return total, active


def count_params(model: Model) -> ParamCount:
    """Total and active parameters of a transformer entry, computed from its architecture.

    Raises ValueError when the entry lacks the fields a count needs.
    """
    missing = [f for f in ("layers", "hidden", "heads", "vocab") if getattr(model, f) is None]
    if model.moe is None and model.ffn_hidden is None:
        missing.append("ffn_hidden")
    if model.moe is not None and model.moe.dense_layers and model.ffn_hidden is None:
        missing.append("ffn_hidden")
    if missing:
        raise ValueError(f"{', '.join(missing)}: needed to count the parameters")
    assert model.layers is not None and model.hidden is not None and model.vocab is not None
    embedding = float(model.vocab * model.hidden)
    if model.learned_positions:
        assert model.max_context is not None
        embedding += model.max_context * model.hidden
    head = 0.0 if model.tied_embeddings else float(model.vocab * model.hidden)
    norm = _norm_params(model)
    attention = _attention_params(model)
    ffn_total, ffn_active = _ffn_totals(model, model.layers)
    blocks = model.layers * (attention + 2 * norm)
    if model.decoder_layers:  # encoder-decoder: self- and cross-attention, FFN, three norms
        assert model.ffn_hidden is not None
        decoder_ffn = _ffn_params(model, model.ffn_hidden)
        blocks += model.decoder_layers * (2 * attention + 3 * norm) + norm
        ffn_total += model.decoder_layers * decoder_ffn
        ffn_active += model.decoder_layers * decoder_ffn
    total = embedding + head + blocks + ffn_total + norm
    active = embedding + head + blocks + ffn_active + norm
    return ParamCount(total=total, active=active, embedding=embedding)


def published_active(model: Model, count: ParamCount) -> float:
    """The computed active count as the entry's publisher counts it (with or without embedding)."""
    return count.active if model.active_params_count_embedding else count.active - count.embedding


def kv_bytes_per_token(model: Model, bytes_per_element: float, context: int) -> float:
    """KV-cache bytes per token of a sequence ``context`` tokens long, over all layers.

    GQA/MQA layers hold a key and a value of ``kv_heads · head_dim`` each; an MLA layer holds one
    latent of ``kv_lora_rank`` plus the shared RoPE key of ``qk_rope_head_dim``.  A sliding-window
    layer holds at most ``sliding_window`` tokens, so over a longer sequence its share per token
    falls to ``window / context``.  An encoder-decoder's cache is its decoder's self-attention.
    """
    if context < 1:
        raise ValueError(f"context: {context} must be at least one token")
    assert model.layers is not None and model.hidden is not None and model.heads is not None
    if model.mla is not None:
        per_layer = float(model.mla.kv_lora_rank + model.mla.qk_rope_head_dim)
    else:
        per_layer = float(2 * (model.kv_heads or model.heads) * _head_dim(model))
    layers = model.decoder_layers or model.layers
    local = min(model.sliding_layers or 0, layers) if model.sliding_window else 0
    share = min(model.sliding_window or context, context) / context
    return per_layer * bytes_per_element * ((layers - local) + local * share)
