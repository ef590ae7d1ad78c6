"""Transformer physics: shape, FLOPs, memory, KV cache, prefill and decode.

Every function is pure, takes SI inputs and returns SI outputs.  The
formula numbers (F1 …) refer to docs/methodology.md, which cites each source.
"""

from __future__ import annotations

from infra_advisor.shape import Shape

# Bytes per weight element by precision (F5).  int4 carries one fp16 scale
# per 128 weights (GPTQ/AWQ group size 128): 0.5 + 2/128 bytes.
BYTES_PER_WEIGHT = {
    "fp32": 4.0,
    "tf32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    # NVFP4: 4-bit values with one FP8 (E4M3) scale per 16 (NVIDIA, "Introducing NVFP4", 2025).
    "fp4": 0.5 + 1 / 16,
    "int8": 1.0,
    "int4": 0.5 + 2 / 128,
}


def bytes_per_weight(precision: str, bits: float | None = None) -> float:
    """Bytes a served weight is stored in (F5): ``bits`` / 8 where the checkpoint's format states
    its average bits per weight (a GGUF k-quant mix keeps some tensors at 6 bits: Q4_K_M is
    4.58 GiB for Llama 3 8B, 4.9 bits a weight, llama.cpp's quantize table), else the precision's."""
    return bits / 8 if bits else BYTES_PER_WEIGHT[precision]


# QLoRA stores the frozen base in 4-bit NF4 with double-quantised constants:
# 0.127 bits of constants per parameter (Dettmers et al. 2023, §2).
QLORA_BYTES_PER_PARAM = 0.5 + 0.127 / 8
# Mixed-precision AdamW (F6): bf16 weights 2 + bf16 grads 2 + fp32 master, m, v 12.
WEIGHT_BYTES, GRAD_BYTES, OPTIMIZER_BYTES = 2.0, 2.0, 12.0
LORA_RANK = 16


def training_flops_per_token(
    active_params: float, shape: Shape, seq_len: float, *, recompute: bool, lora: bool
) -> float:
    """FLOPs per trained token (F2): 6·P + 6·L·s·d_attn, attention included (Kaplan et al.
    2020; d_attn = heads × head_dim, the hidden size for most models).

    Full recomputation adds one forward pass (2·P + 2·L·s·h).  With LoRA the frozen weights
    need no weight gradients, so their backward is one pass (to the activations, 2·P); the
    attention products have no weights, and their backward still differentiates both operands
    (QKᵀ and the scores × V: twice the forward, 4·L·s·d), so LoRA trains at 4·P + 6·L·s·d.
    """
    weights = 2 * active_params
    attention = 2 * shape.layers * seq_len * shape.attention_width
    total = (2 if lora else 3) * weights + 3 * attention
    if recompute:
        total += weights + attention
    return total


def training_attention_flops_per_token(shape: Shape, seq_len: float, *, recompute: bool) -> float:
    """The part of F2 in attention's score and value products (6·L·s·d_attn, one more forward
    2·L·s·d_attn with full recomputation): FlashAttention runs these in 16-bit even when the
    weight matmuls run in FP8 (Transformer Engine's FP8 attention is off by default)."""
    attention = 2 * shape.layers * seq_len * shape.attention_width
    return (4 if recompute else 3) * attention


def elementwise_bytes_per_token_layer(
    shape: Shape,
    ffn_width: float,
    gated: bool,
    *,
    experts_per_token: int = 0,
    expert_width: float = 0.0,
    shared_width: float = 0.0,
) -> float:
    """Bytes the element-wise kernels of one layer move per trained token, forward and backward
    (F3e): the matmuls' own operands are not counted (they overlap the matmuls), these kernels
    run between them.  Forward, in 16-bit elements: two norms (read and write h each, 4·h),
    two residual adds (read 2·h, write h each, 6·h), rotary embedding of the queries and keys
    (read and write, 2·(d_attn + d_kv)), and the MLP's activation (SwiGLU reads the gate and up
    projections and writes one: 3·f; GELU reads and writes: 2·f).  A mixture-of-experts layer
    instead runs the activation on each of its k routed experts (3·k·f_e) and its shared
    experts, and moves each token's hidden state to its experts and back: the dispatch copy
    (read h, write k·h) and the weighted combine (read k·h, write h).  The backward pass reads
    the saved inputs and the incoming gradients and writes the outgoing ones, about twice the
    forward traffic (Korthikanti et al. 2022 count the same tensors for activation memory)."""
    h = shape.hidden
    kv = shape.kv_heads * shape.head_dim
    act = 3 if gated else 2
    elements: float = 10 * h + 2 * (shape.attention_width + kv)
    if experts_per_token:
        k = experts_per_token
        elements += act * (k * expert_width + shared_width) + (1 + k) * h + (k + 1) * h
    else:
        elements += act * ffn_width
    return 3 * 2 * elements


def model_flops_per_token(active_params: float, shape: Shape, seq_len: float) -> float:
    """Useful FLOPs per token for MFU (no recomputation): 6·P + 6·L·s·h."""
    return 3 * (2 * active_params + 2 * shape.layers * seq_len * shape.attention_width)


def lora_params(shape: Shape, rank: int = LORA_RANK) -> float:
    """Trainable LoRA parameters (F23): r·(d_in + d_out) on every linear layer.

    Attention q, k, v, o ≈ 4·r·2h; a gated MLP with f = 3.5h: 3·r·(h + f).
    """
    per_layer = 8 * rank * shape.hidden + 3 * rank * (shape.hidden + 3.5 * shape.hidden)
    return per_layer * shape.layers


def model_state_bytes_per_chip(
    params: float,
    trainable: float,
    *,
    method: str,
    tp: int,
    pp: int,
    dp: int,
    zero: int,
    expert_shard: float = 1.0,
) -> float:
    """Model states held per chip (F6, F23) under TP·PP and ZeRO stage ``zero`` over DP.

    ``expert_shard`` < 1 scales the share of parameters split over expert parallelism.
    """
    shard = tp * pp
    if method in ("lora", "qlora"):
        base = QLORA_BYTES_PER_PARAM if method == "qlora" else WEIGHT_BYTES
        frozen = params * base * expert_shard / shard
        states = trainable * (WEIGHT_BYTES + GRAD_BYTES + OPTIMIZER_BYTES) / shard
        return frozen + states
    per_param = params * expert_shard / shard
    weights = per_param * WEIGHT_BYTES
    grads = per_param * GRAD_BYTES
    optimizer = per_param * OPTIMIZER_BYTES
    if zero >= 1:
        optimizer /= dp
    if zero >= 2:
        grads /= dp
    if zero >= 3:
        weights /= dp
    return weights + grads + optimizer


def activation_bytes_per_layer(
    seq_len: int, micro_batch: int, hidden: int, tp: int, *, recompute: bool
) -> float:
    """Activation bytes per layer per micro-batch (F7, Korthikanti et al. 2022).

    Tensor + sequence parallel with FlashAttention (no s² term): 34·s·b·h/t;
    full recomputation keeps only the layer input: 2·s·b·h/t.
    """
    factor = 2.0 if recompute else 34.0
    return factor * seq_len * micro_batch * hidden / tp


def kv_bytes_per_token(shape: Shape, bytes_per_element: float) -> float:
    """KV cache per token (F8): 2 (K and V) · L · n_kv · d_head · bytes.

    Llama 3 8B in bf16: 2·32·8·128·2 = 131,072 bytes (128 KiB) per token.
    """
    return 2 * shape.layers * shape.kv_heads * shape.head_dim * bytes_per_element


def prefill_flops(active_params: float, shape: Shape, prompt_tokens: int) -> float:
    """Forward FLOPs of a prompt (F11): 2·P·s + 2·L·s²·h (causal attention, QKᵀ and AV)."""
    return 2 * active_params * prompt_tokens + 2 * shape.layers * prompt_tokens**2 * shape.hidden


def decode_flops_per_token(active_params: float, shape: Shape, context: float) -> float:
    """Forward FLOPs of one generated token at a context length: 2·P + 4·L·c·h."""
    return 2 * active_params + 4 * shape.layers * context * shape.hidden


def critical_batch(peak_flops: float, bandwidth_bytes_s: float, bytes_per_weight: float) -> float:
    """Batch where decode turns compute-bound (F11, llm-analysis "pivot"): F·by_w/(2·BW)."""
    return peak_flops * bytes_per_weight / (2 * bandwidth_bytes_s)


def pipeline_bubble_fraction(stages: int, micro_batches: int) -> float:
    """1F1B pipeline bubble (F14, Narayanan et al. 2021): (p − 1)/m."""
    if stages <= 1:
        return 0.0
    return (stages - 1) / max(micro_batches, 1)
