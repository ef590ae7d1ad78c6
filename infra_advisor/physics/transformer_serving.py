"""Transformer serving: prefill and decode as phases of a StepCost (F11, F13).

Each phase is its own roofline: the GEMMs of a decode step read the weights once and do
2·P_active FLOPs per sequence in the batch; attention reads every sequence's KV cache and does
4·L·c·d FLOPs per sequence (QKᵀ and AV over a context of c tokens); the two run as separate
kernels, so their times add (as per-kernel estimators such as aiconfigurator and LLM-Viewer sum
operators).  Tensor parallelism adds two all-reduces of the activations per layer (Megatron-LM,
Shoeybi et al. 2019), pipeline stages add one activation hop per stage boundary.  Pure: numbers
in, StepCost out.
"""

from __future__ import annotations

import math

from infra_advisor.checks import FrozenRecord, record
from infra_advisor.physics import network as net
from infra_advisor.physics.cost import PhaseCost, StepCost

ACTIVATION_BYTES = 2.0  # activations exchanged between chips in 16-bit


@record(frozen=True)
class ServedModel(FrozenRecord):
    """The numbers of a transformer that serving physics needs."""

    layers: int
    hidden: int
    attention_width: int  # heads × head_dim: what prefill attention runs over
    active_params: float
    params: float
    weight_bytes: float  # all weights, at their stored precision
    kv_bytes_per_token: float
    experts: int = 0  # routing of a mixture of experts, where known
    experts_per_token: int = 0
    dense_params: float = 0.0  # parameters every token uses (attention, dense and shared FFNs)
    decode_attention_width: int = 0  # what a decode step's attention runs over (0: as prefill)
    expert_width: int = 0  # one routed expert's intermediate width, where known
    # KV heads the cache splits over across tensor-parallel ranks (1: a latent KV, every rank
    # holds all of it); 0: it splits over every rank.
    kv_heads: int = 0

    def weights_read(self, batch: int, tp: int, pp: int) -> float:
        """Weight bytes one chip reads in a decode stage step of ``batch`` sequences over ``pp``
        micro-batches: the share its tokens touch (all of a dense model)."""
        return self.weight_bytes * self.touched(max(1.0, batch / pp)) / (tp * pp)

    def kv_per_chip(self, tp: int, pp: int) -> float:
        """KV bytes one token puts on each chip (kv_split)."""
        return self.kv_bytes_per_token / kv_split(self.kv_heads, tp, pp)

    @property
    def decode_width(self) -> int:
        return self.decode_attention_width or self.attention_width

    def touched(self, tokens: float) -> float:
        return touched_weight_fraction(self.active_params, self.params, tokens, self.experts,
                                       self.experts_per_token, self.dense_params)  # fmt: skip


@record(frozen=True)
class ServingHardware(FrozenRecord):
    """One chip as serving sees it: achieved FLOP/s and bytes/s, and its links."""

    flops: float  # achieved FLOP/s per chip (peak at the compute precision × efficiency)
    memory_bytes_s: float  # achieved bytes/s per chip
    link_bytes_s: float = math.inf  # scale-up, per chip per direction (achieved)
    link_latency_s: float = 0.0
    hop_bytes_s: float = math.inf  # scale-out link between pipeline stages
    hop_latency_s: float = 0.0
    # Width of a matmul dimension one chip's matrix units fill (its systolic arrays' side times
    # the tensor-parallel ranks it holds); 0: never short of work.
    matmul_tile: int = 0
    # Tokens per block of a dropless blockwise expert matmul (NxD's forward_blockwise); 0: each
    # routed token costs its own expert FLOPs.
    expert_block_tokens: int = 0


def touched_weight_fraction(
    active_params: float,
    params: float,
    tokens: float,
    experts: int = 0,
    experts_per_token: int = 0,
    dense_params: float = 0.0,
) -> float:
    """Share of a mixture of experts' weights a step reads when ``tokens`` tokens route at once.

    With the routing known (E experts, top-k, D dense and shared parameters): D is always read,
    and each expert is touched by at least one of B tokens with probability 1 − (1 − k/E)^B, the
    expected distinct experts of top-k routing.  Without it, each token is taken to use a
    fraction r = P_active/P of the weights: 1 − (1 − r)^B."""
    if active_params >= params:
        return 1.0
    if experts and experts_per_token and dense_params < params:
        routed: float = 1.0 - (1.0 - experts_per_token / experts) ** max(tokens, 1.0)
        return min(1.0, (dense_params + (params - dense_params) * routed) / params)
    r = active_params / params
    touched: float = 1.0 - (1.0 - r) ** max(tokens, 1.0)
    return min(1.0, touched)


def kv_split(kv_heads: int, tp: int, pp: int) -> int:
    """The chips one token's KV cache is spread over (F8b): each pipeline stage holds its layers',
    and tensor parallelism splits it by KV head, so past the KV heads (GQA) ranks hold copies,
    and a latent KV (MLA: one latent a token, read by every head) is whole on every rank."""
    return (min(tp, kv_heads) if kv_heads else tp) * pp


def tile_utilisation(width: float, tile: int) -> float:
    """Share of a chip's matrix units a matmul keeps busy when its sharded dimension is ``width``
    wide per chip: whole tiles of ``tile``, the last one partly filled (a 128 × 128 systolic
    array given 24 columns computes at 24/128)."""
    if tile <= 0 or width <= 0:
        return 1.0
    tiles = math.ceil(width / tile)
    return width / (tiles * tile)


def expert_token_slots(tokens: float, experts: int, k: int, block: int) -> float:
    """Expert-token pairs a prompt of ``tokens`` tokens computes.  Plain top-k routing: tokens·k.
    A dropless blockwise matmul (NxD expert_mlps_v2.forward_blockwise) pads each expert's tokens
    to whole blocks, ⌈(T·k − (E − 1))/B⌉ + E − 1 blocks of B; a prompt with T·k < B runs every
    token through every expert (forward_all_experts), T·E."""
    routed = tokens * k
    if block <= 0 or not experts:
        return routed
    if routed < block:
        return tokens * experts
    return (math.ceil((routed - (experts - 1)) / block) + experts - 1) * block


def _prefill_gemm_flops(m: ServedModel, hw: ServingHardware, tokens: float, tp: int) -> float:
    """GEMM FLOPs of a prompt, in units of fully used matrix units: 2·P_active per token; for a
    mixture of experts with its routing known, the dense part plus the expert-token pairs the
    framework computes, over the share of the matrix units the expert's per-chip width fills."""
    if not (m.experts and m.experts_per_token and m.dense_params < m.params):
        return 2 * m.active_params * tokens
    per_expert = (m.params - m.dense_params) / m.experts
    slots = expert_token_slots(tokens, m.experts, m.experts_per_token, hw.expert_block_tokens)
    fill = tile_utilisation(m.expert_width / tp, hw.matmul_tile) if m.expert_width else 1.0
    dense = m.active_params - m.experts_per_token * per_expert
    return 2 * (dense * tokens + per_expert * slots / fill)


def _all_reduces(m: ServedModel, hw: ServingHardware, tp: int, pp: int, tokens: float) -> float:
    """Two all-reduces of the activations per layer of a stage (Megatron tensor parallel)."""
    if tp <= 1:
        return 0.0
    size = ACTIVATION_BYTES * m.hidden * tokens
    one = net.all_reduce_time(size, tp, hw.link_bytes_s, hw.link_latency_s, 1.0)
    return 2 * m.layers / pp * one


def _hops(m: ServedModel, hw: ServingHardware, tp: int, pp: int, tokens: float) -> float:
    if pp <= 1:
        return 0.0
    size = ACTIVATION_BYTES * m.hidden * tokens / tp
    return (pp - 1) * net.point_to_point_time(size, hw.hop_bytes_s, hw.hop_latency_s)


def _decode_parts(
    m: ServedModel, hw: ServingHardware, tp: int, pp: int, batch: int, context: float
) -> tuple[float, float, float, float, float, float]:
    """Seconds of one stage step: GEMM compute and memory, attention compute and memory, the
    tensor-parallel all-reduces; and the pipeline hops of the whole step."""
    group = tp * pp
    micro = max(1.0, batch / pp)
    return (
        2 * m.active_params * micro / group / hw.flops,
        m.weights_read(batch, tp, pp) / hw.memory_bytes_s,
        4 * m.layers * context * m.decode_width * micro / group / hw.flops,
        m.kv_per_chip(tp, pp) * context * micro / hw.memory_bytes_s,
        _all_reduces(m, hw, tp, pp, micro),
        _hops(m, hw, tp, pp, micro),
    )


def decode_step(
    m: ServedModel, hw: ServingHardware, tp: int, pp: int, batch: int, context: float
) -> StepCost:
    """One decode step of ``batch`` sequences at a mean context of ``context`` tokens.

    With ``pp`` stages the batch runs as ``pp`` micro-batches that keep every stage busy: a step
    is ``pp`` stage steps, each over 1/pp of the layers (Narayanan et al. 2021, §2.2).
    """
    gemm_c, gemm_m, attn_c, attn_m, reduce_s, hops_s = _decode_parts(m, hw, tp, pp, batch, context)
    phases = [
        PhaseCost("decode GEMMs", compute_s=gemm_c, memory_s=gemm_m, repeat=pp),
        PhaseCost("decode attention", compute_s=attn_c, memory_s=attn_m, repeat=pp),
    ]
    if tp > 1:
        phases.append(PhaseCost("tensor-parallel all-reduce", network_s=reduce_s, repeat=pp))
    if pp > 1:
        phases.append(PhaseCost("pipeline hops", network_s=hops_s))
    return StepCost(tuple(phases))


def decode_seconds(
    m: ServedModel, hw: ServingHardware, tp: int, pp: int, batch: int, context: float
) -> float:
    """decode_step(...).total_s without building its phases (the batch search asks often):
    the same parts, each GEMM and attention phase a roofline, the collectives added."""
    gemm_c, gemm_m, attn_c, attn_m, reduce_s, hops_s = _decode_parts(m, hw, tp, pp, batch, context)
    return pp * (max(gemm_c, gemm_m) + max(attn_c, attn_m) + reduce_s) + hops_s


def prefill(
    m: ServedModel,
    hw: ServingHardware,
    tp: int,
    pp: int,
    tokens: int,
    chunk_tokens: float,
    *,
    pipelined: bool = True,
) -> StepCost:
    """The prompt of one request: GEMMs (2·P_active FLOPs a token), causal attention
    (2·L·s²·d FLOPs), the tensor-parallel all-reduces and pipeline hops.

    Weights are read once per prefill batch of ``chunk_tokens`` tokens (an engine that batches
    prompts, or chunks them in with decode steps, shares one read among them).  ``pipelined``:
    other requests fill the other stages (the replica's busy time); otherwise the prompt crosses
    the stages one after another (its latency)."""
    group = tp * pp if pipelined else tp
    share = tokens / max(tokens, chunk_tokens)
    touched = m.touched(max(tokens, chunk_tokens))
    gemm = PhaseCost(
        "prefill GEMMs",
        compute_s=_prefill_gemm_flops(m, hw, tokens, tp) / group / hw.flops,
        memory_s=m.weight_bytes * touched * share / group / hw.memory_bytes_s,
    )
    attention = PhaseCost(
        "prefill attention",
        compute_s=2 * m.layers * tokens**2 * m.attention_width / group / hw.flops,
        memory_s=m.kv_per_chip(tp, pp if pipelined else 1) * tokens / hw.memory_bytes_s,
    )
    phases = [gemm, attention]
    if tp > 1:
        phases.append(
            PhaseCost(
                "tensor-parallel all-reduce (prefill)",
                network_s=_all_reduces(m, hw, tp, 1, tokens) / (pp if pipelined else 1),
            )
        )
    if pp > 1:
        phases.append(PhaseCost("pipeline hops (prefill)", network_s=_hops(m, hw, tp, pp, tokens)))
    return StepCost(tuple(phases))
