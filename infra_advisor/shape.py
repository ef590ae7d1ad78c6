"""A transformer's shape: layers, hidden size, heads, key-value heads (floor 2: what the user
asked, derived where they did not say; the physics reads it)."""

from __future__ import annotations

import math

from infra_advisor.checks import FrozenRecord, record

HEAD_DIM = 128


@record(frozen=True)
class Shape(FrozenRecord):
    """A transformer's architecture: layers, hidden size, attention and key-value heads."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    derived: bool
    named_head_dim: int | None = None  # a named model's head width, where not hidden / heads

    @property
    def head_dim(self) -> int:
        return self.named_head_dim or self.hidden // self.heads

    @property
    def attention_width(self) -> int:
        """heads × head_dim: the width attention's QKᵀ and AV run over."""
        return self.heads * self.head_dim


def derive_shape(
    params: float, layers: int | None, hidden: int | None, heads: int | None, kv_heads: int | None
) -> Shape:
    """Fill missing architecture detail from the parameter count (F1, inverted).

    A decoder holds about 12·L·h² parameters; Llama-family models keep
    h/L ≈ 128 (Llama 3 8B: 4096/32; 70B: 8192/80; 405B: 16384/126), so
    h ≈ (128·P/12)^(1/3), rounded to a multiple of 128, with 128-wide heads
    and 8 KV heads (grouped-query attention) as in Llama 3.
    """
    derived = not (layers and hidden)
    if hidden is None and layers is not None:
        hidden = int(round(math.sqrt(params / (12 * layers)) / HEAD_DIM)) * HEAD_DIM
    if hidden is None:
        # Round to a multiple of 1024 so the head count (h/128) divides by 8 for tensor parallelism.
        hidden = int(round((128 * params / 12) ** (1 / 3) / 1024)) * 1024 or HEAD_DIM
    hidden = max(hidden, HEAD_DIM)
    if layers is None:
        layers = max(1, int(round(params / (12 * hidden * hidden))))
    if heads is None:
        heads = max(1, hidden // HEAD_DIM)
    if kv_heads is None:
        kv_heads = 8 if heads >= 8 and heads % 8 == 0 else heads
    return Shape(layers=layers, hidden=hidden, heads=heads, kv_heads=kv_heads, derived=derived)
