"""What a framework really runs on a chip: one owner for framework capability.

Reads frameworks.toml: the family row of ``runs_on`` that matches the chip (its support, its
maturity, precision overrides), the framework-wide precisions, batching, KV-cache features, PEFT
methods and per-phase efficiency.  Every evaluator asks here; nothing else reads those fields.
"""

from __future__ import annotations

from infra_advisor.checks import FrozenRecord, record
from infra_advisor.models import Chip, Framework, RunsOn
from infra_advisor.physics.transformer import BYTES_PER_WEIGHT
from infra_advisor.plan.memo import ByIdentity

SUPPORT_RANK = {"native": 0, "bridge": 1, "experimental": 2}
MATURITY_RANK = {"reference": 0, "production": 1, "community": 2}
# A framework reached through a bridge or an experimental backend loses some efficiency.
BRIDGE_FACTOR = {"native": 1.0, "bridge": 0.9, "experimental": 0.75}
FLOAT_PRECISIONS = ("fp32", "tf32", "bf16", "fp16", "fp8", "fp4")
SIXTEEN_BIT = ("bf16", "fp16")


@record(frozen=True)
class Capabilities(FrozenRecord):
    """A framework on one chip family, as the planner may use it."""

    framework: Framework
    support: str
    maturity: str
    weights: frozenset[str]
    activations: frozenset[str]
    kv: frozenset[str]
    parallelism: frozenset[str]
    batching: str  # "continuous" or "static"
    paged_kv: bool
    chunked_prefill: bool
    peft: frozenset[str]
    phase_factors: tuple[tuple[str, float], ...]
    memory_fraction: float | None = None
    memory_fraction_of: str = "total"
    memory_overhead_bytes: float | None = None
    static_shapes: bool = False  # graphs compiled for one sequence length (--seq-len)
    pads_heads: bool = False  # tensor parallelism need not divide the attention heads
    moe_block_tokens: int = 0  # blockwise expert matmul's block (0: none)

    @property
    def id(self) -> str:
        return self.framework.id

    def efficiency(self, phase: str, moe: bool = False) -> float:
        """Multiplier on the catalog's central efficiency for a phase: the bridge penalty times
        the framework's measured factor on this family (1.0 where none is published); a factor
        stated for mixtures of experts (or dense models) alone applies to those."""
        factors = dict(self.phase_factors)
        kind = f"{phase}:{'moe' if moe else 'dense'}"
        factor = factors.get(kind, factors.get(phase, 1.0))
        return BRIDGE_FACTOR[self.support] * factor

    def preference(self, method: str | None = None) -> tuple[int, int]:
        """Maturity on this chip (for a fine-tuning method, the framework's maturity in that
        method where the catalog states one), then support: what breaks a tie between equal
        estimates."""
        stated = self.framework.peft_maturity
        maturity: str = self.maturity
        if method in stated:
            maturity = stated[method]
        return MATURITY_RANK[maturity], SUPPORT_RANK[self.support]


def row_matches(row: RunsOn, chip: Chip) -> bool:
    """Whether a ``runs_on`` row covers this chip: its type, its vendor (or any), and every
    feature the row requires."""
    return (
        row.type == chip.type
        and row.vendor in (None, chip.vendor)
        and all(f in chip.features for f in row.requires_features)
    )


def runs_model_type(fw: Framework, chip: Chip, model_type: str) -> bool:
    """Whether a row that covers this chip runs the model type (a row naming none runs all of
    the framework's)."""
    rows = [r for r in fw.runs_on if row_matches(r, chip)]
    return any(r.model_types is None or model_type in r.model_types for r in rows)


def gating_features(fw: Framework, chip: Chip) -> tuple[str, ...]:
    """The chip features that decide which of the framework's rows match (part of a memo key)."""
    return tuple(f for r in fw.runs_on for f in r.requires_features if f in chip.features)


def family_row(fw: Framework, chip: Chip) -> RunsOn | None:
    """The ``runs_on`` row for this chip: a vendor-specific row before a generic one, then the
    best support."""
    rows = [r for r in fw.runs_on if row_matches(r, chip)]
    if not rows:
        return None
    return min(rows, key=lambda r: (r.vendor is None, SUPPORT_RANK[r.support]))


def _phase_factors(fw: Framework, chip: Chip) -> tuple[tuple[str, float], ...]:
    factors: dict[str, float] = {}
    for row in fw.efficiency:
        if row.type not in (None, chip.type) or row.vendor not in (None, chip.vendor):
            continue
        factors[row.phase if row.models is None else f"{row.phase}:{row.models}"] = row.factor
    return tuple(sorted(factors.items()))


_MEMO: dict[tuple[object, ...], tuple[Framework, Capabilities | None]] = {}
_BY_PAIR: ByIdentity[Capabilities | None] = ByIdentity()
MEMO_LIMIT = 50000


def capabilities(fw: Framework, chip: Chip) -> Capabilities | None:
    """The framework on this chip, or None when it does not run there (memoised per pair, by
    identity)."""
    return _BY_PAIR.get((fw, chip), lambda: _family_capabilities(fw, chip))


def _family_capabilities(fw: Framework, chip: Chip) -> Capabilities | None:
    """What the framework runs depends on the chip only through its family (type, vendor) and
    its framework allow-list, so it is memoised per framework and family as well (by identity:
    catalog entries are frozen, and the memo holds them, so an identity is never reused)."""
    barred = bool(chip.runs_frameworks) and fw.id not in chip.runs_frameworks
    key = (id(fw), chip.type, chip.vendor, barred, gating_features(fw, chip))
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is fw:
        return hit[1]
    caps = None if barred else _capabilities(fw, chip)
    if len(_MEMO) >= MEMO_LIMIT:
        _MEMO.clear()  # a bound on memory for very large overlay catalogs
    _MEMO[key] = (fw, caps)
    return caps


def _capabilities(fw: Framework, chip: Chip) -> Capabilities | None:
    row = family_row(fw, chip)
    if row is None or (chip.runs_frameworks and fw.id not in chip.runs_frameworks):
        return None
    weights = row.weight_precisions or fw.weight_precisions or fw.precisions
    activations = (
        row.activation_precisions
        or fw.activation_precisions
        or [p for p in fw.precisions if p in FLOAT_PRECISIONS]
    )
    kv: list[str] = list(row.kv_precisions or fw.kv_precisions or ()) or [*SIXTEEN_BIT, "fp32"]
    maturity = row.maturity or ("production" if row.support == "native" else "community")
    return Capabilities(
        framework=fw,
        support=row.support,
        maturity=maturity,
        weights=frozenset(weights),
        activations=frozenset(activations),
        kv=frozenset(kv),
        parallelism=frozenset(fw.parallelism),
        batching=fw.batching or "static",
        paged_kv="paged_kv" in fw.serving_features,
        chunked_prefill="chunked_prefill" in fw.serving_features,
        peft=frozenset(fw.peft),
        phase_factors=_phase_factors(fw, chip),
        memory_fraction=fw.memory_fraction,
        memory_fraction_of=fw.memory_fraction_of or "total",
        memory_overhead_bytes=None
        if fw.memory_overhead_gb is None
        else fw.memory_overhead_gb * 1e9,
        static_shapes=fw.static_shapes,
        pads_heads=fw.pads_heads,
        moe_block_tokens=fw.moe_block_tokens or 0,
    )


def kv_precision_choices(caps: Capabilities, wanted: str | None, weights: str) -> list[str]:
    """KV-cache precisions to try: the one asked for, else 8-bit where the weights are 8-bit or
    smaller and the framework has an 8-bit float KV cache, else 16-bit."""
    if wanted is not None:
        return [wanted] if wanted in caps.kv else []
    small = weights in ("fp8", "fp4", "int8", "int4")
    if small and "fp8" in caps.kv:
        return ["fp8"]
    sixteen = [p for p in SIXTEEN_BIT if p in caps.kv]
    return sixteen[:1] or sorted(caps.kv)[:1]


def signature(
    caps: Capabilities,
    task: str,
    model_type: str,
    precision: str,
    kv: str | None = None,
    sparse: bool = False,
) -> tuple[object, ...]:
    """What of the framework can change an estimate for this job on this chip: the facts the
    evaluators read.  Two frameworks with the same signature give the same numbers, so only the
    more mature one is sized (a tie goes to maturity, never to the id)."""
    fw = caps.framework
    fallback = next((p for p in ("bf16", "fp16", "fp32") if p in caps.activations), None)
    integer = task == "inference" and model_type in ("vision", "generic") and "int8" in caps.weights
    common = (caps.support, caps.phase_factors, precision in caps.weights,
              precision in caps.activations, fallback, integer,
              sparse and fw.structured_sparsity)  # fmt: skip
    if task == "inference" and model_type == "transformer":
        serving = (caps.batching, caps.paged_kv, caps.chunked_prefill, caps.static_shapes,
                   caps.pads_heads, caps.moe_block_tokens, caps.memory_fraction,
                   caps.memory_fraction_of, caps.memory_overhead_bytes,
                   tuple(kv_precision_choices(caps, kv, precision)),
                   "tensor" in caps.parallelism, "pipeline" in caps.parallelism)  # fmt: skip
        return (*common, *serving)
    if task == "inference":
        return (*common, fw.compiled, fw.edge_features, tuple(sorted(fw.model_types)))
    return (*common, caps.parallelism, caps.peft, fw.edge_features, tuple(sorted(fw.model_types)))


def _kv_space_rank(caps: Capabilities, default_fraction: float) -> tuple[str, float]:
    return caps.memory_fraction_of, caps.memory_fraction or default_fraction


def _kv_space_at_least(a: Capabilities, b: Capabilities, default_fraction: float) -> bool:
    """Whether a always leaves at least as much memory for the KV cache as b: a share of what is
    free after the weights is never less than the same share of the total less the weights."""
    (of_a, f_a), (of_b, f_b) = (
        _kv_space_rank(a, default_fraction),
        _kv_space_rank(b, default_fraction),
    )
    overhead_a, overhead_b = a.memory_overhead_bytes, b.memory_overhead_bytes
    lighter = overhead_a == overhead_b or (
        overhead_a is not None and (overhead_b is None or overhead_a <= overhead_b)
    )  # a stated overhead is never above the catalog's default one
    return lighter and f_a >= f_b and (of_a == of_b or (of_a == "free" and of_b == "total"))


def _precision_at_least(
    a: Capabilities, b: Capabilities, task: str, model_type: str, precision: str, kv: str | None
) -> bool:
    """a computes this job's precision at least as fast as b: the same path, or a runs it
    natively where b falls back to a 16-bit or wider format (bf16 and fp16 cost the same bytes
    and FLOPs; a fallback is never narrower than an asked precision of 16 bits or fewer)."""
    sig_a, sig_b = (
        signature(a, task, model_type, precision, kv),
        signature(b, task, model_type, precision, kv),
    )
    if sig_a[3:6] == sig_b[3:6]:
        return not (precision in b.weights and precision not in a.weights)
    native = precision in a.weights and precision in a.activations
    return native and BYTES_PER_WEIGHT.get(precision, 4.0) <= 2 and bool(sig_a[5]) >= bool(sig_b[5])


def _kv_width_at_most(a: Capabilities, b: Capabilities, kv: str | None, weights: str) -> bool:
    """a's KV cache is no wider than b's: it holds at least as many tokens."""
    ka, kb = kv_precision_choices(a, kv, weights), kv_precision_choices(b, kv, weights)
    if not ka or not kb:
        return ka == kb
    return BYTES_PER_WEIGHT.get(ka[0], 2.0) <= BYTES_PER_WEIGHT.get(kb[0], 2.0)


def not_built_for(fw: Framework, task: str, model_type: str) -> tuple[int, int]:
    """Whether the framework is NOT built for the job's task alone and for its model type alone
    (0 where it is: TorchRec for recommenders, a serving engine for inference), the order a tie
    between frameworks falls in (search.rules.framework_preference); a library built for them
    is never dominated by a general one that matches it."""
    return int(fw.tasks != [task]), int(fw.model_types != [model_type])


def dominates(
    a: Capabilities,
    b: Capabilities,
    task: str,
    model_type: str,
    precision: str,
    kv: str | None,
    default_fraction: float,
    method: str = "full",
    sparse: bool = False,
) -> bool:
    """Whether a can run this job on this chip at least as fast as b in every layout b has, and
    is at least as mature there: then b can never win and need not be sized."""
    if (
        a.preference(method) > b.preference(method)
        or SUPPORT_RANK[a.support] > SUPPORT_RANK[b.support]
        or sum(not_built_for(a.framework, task, model_type))
        > sum(not_built_for(b.framework, task, model_type))
    ):
        return False
    factors_a, factors_b = dict(a.phase_factors), dict(b.phase_factors)
    if any(factors_a.get(k, 1.0) < factors_b.get(k, 1.0) for k in set(factors_a) | set(factors_b)):
        return False
    if not _precision_at_least(a, b, task, model_type, precision, kv):
        return False
    if sparse and a.framework.structured_sparsity < b.framework.structured_sparsity:
        return False
    dense = task == "inference" and model_type != "transformer"
    if dense and b.framework.compiled > a.framework.compiled:
        return False  # b's compiled engine dispatches faster (dense models; F18)
    if task == "inference" and model_type == "transformer":
        return (
            (a.batching == "continuous" or b.batching == "static")
            and a.paged_kv >= b.paged_kv
            and a.chunked_prefill >= b.chunked_prefill
            and a.static_shapes <= b.static_shapes  # padding to a compiled length only costs
            and a.pads_heads >= b.pads_heads  # more tensor-parallel layouts
            and a.moe_block_tokens <= b.moe_block_tokens  # block padding only costs
            and _kv_width_at_most(a, b, kv, precision)
            and _kv_space_at_least(a, b, default_fraction)
            and a.parallelism & SERVING_PARALLELISM >= b.parallelism & SERVING_PARALLELISM
        )
    same_graph = a.framework.edge_features == b.framework.edge_features
    peft = method not in ("lora", "qlora") or method in a.peft or method not in b.peft
    return same_graph and peft and a.parallelism >= b.parallelism


SERVING_PARALLELISM = frozenset({"tensor", "pipeline"})
