"""Transformer training layouts: the one place that decides which layouts fit in memory.

Enumerates tensor (inside the scale-up domain) × pipeline (with interleaved virtual stages
where the framework has them) × data parallel, expert parallel sized by the expert count, ZeRO
stages 0-3, full recomputation or none, and the micro-batch size; keeps the fastest layout
that fits.  Memory per chip follows F6/F7 with experts sharded over EP and their states over
the expert-data-parallel group (DP/EP), so the states summed over all chips are never below
the model's states.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra_advisor.job import Job
from infra_advisor.physics import network as net
from infra_advisor.physics import transformer as tf

GB = 1e9
DEFAULT_EXPERTS = 8  # Mixtral / GShard-style MoE when the expert count is not given
TOP_K = 2  # experts per token assumed when not given (Mixtral, GShard top-2)
# NF4 read + bf16 write per frozen parameter per pass (bitsandbytes Linear4bit dequantizes to
# bnb_4bit_compute_dtype before the matmul; Dettmers et al. 2023 §3).
QLORA_DEQUANT_BYTES = tf.QLORA_BYTES_PER_PARAM + 2.0


@dataclass(frozen=True)
class Candidate:
    """One training layout."""

    tp: int
    pp: int
    dp: int
    ep: int
    virtual: int  # interleaved virtual stages per pipeline rank (1 = plain 1F1B)
    micro_batch: int  # sequences per micro-batch
    zero: int
    recompute: bool
    cp: int = 1  # context parallel: ranks the sequence is split over (ring attention)

    @property
    def chips(self) -> int:
        return self.tp * self.cp * self.pp * self.dp

    @property
    def replicas(self) -> int:
        """Ranks holding the same weights: data and context parallel (gradients are reduced
        and ZeRO shards over both, as Megatron's distributed optimizer does)."""
        return self.dp * self.cp


@dataclass(frozen=True)
class Links:
    """Per-chip bandwidth (bytes/s per direction) and latency (s) of the links a group uses."""

    tp: tuple[float, float, str]
    dp: tuple[float, float, str]
    pp: tuple[float, float, str]
    ep: tuple[float, float, str]
    cp: tuple[float, float, str] = (math.inf, 0.0, "")
    # Ring-collective efficiency of the TP and DP links (collective_efficiency, F13d); None:
    # the catalog-wide network efficiency.
    tp_eff: float | None = None
    dp_eff: float | None = None
    domain: int = 1 << 30  # chips per scale-up domain (an expert group beyond it goes out)
    dedup_dispatch: bool = False  # the framework's MoE dispatch deduplicates (dispatch_copies)


def moe_split(job: Job) -> tuple[float, float, int]:
    """(dense parameters, routed-expert parameters, experts).  From P = D + E·x and
    A = D + k·x: x = (P − A)/(E − k), D = P − E·x (Mixtral 8x7B: D ≈ 1.6B, E·x ≈ 45B)."""
    cached: tuple[float, float, int] | None = job.cache.get("moe-split")
    if cached is None:
        cached = job.cache["moe-split"] = _moe_split(job)
    return cached


def _moe_split(job: Job) -> tuple[float, float, int]:
    if not job.is_moe:
        return job.params, 0.0, 1
    experts = job.workload.experts or DEFAULT_EXPERTS
    # A named model's experts per token (its shared experts are always used: the formula puts
    # them in D).
    k = min(experts_per_token(job), experts - 1)
    per_expert = (job.params - job.active_params) / max(experts - k, 1)
    experts_total = min(job.params, per_expert * experts)
    return job.params - experts_total, experts_total, experts


def experts_per_token(job: Job) -> int:
    """k of top-k routing: the named model's, else TOP_K."""
    moe = job.model.moe if job.model is not None else None
    return int(moe.experts_per_token) if moe is not None else TOP_K


def micro_batches(job: Job, c: Candidate) -> int:
    """Micro-batches each data-parallel replica runs per step: batch / (DP · micro-batch)."""
    return job.batch_size // (c.dp * c.micro_batch)


def moe_layers(job: Job) -> int:
    """Layers whose FFN is a routed MoE: all of them, less a named model's dense ones."""
    moe = job.model.moe if job.model is not None else None
    return job.shape.layers - (moe.dense_layers if moe is not None else 0)


def expert_launch_seconds(job: Job, c: Candidate, per_expert: float) -> float:
    """Host time a step exposes launching the local experts' kernels after each MoE layer's
    device-to-host sync (F12b): micro-batches × MoE layers per stage × experts per EP rank ×
    ``per_expert`` (forward and backward), a third more with recomputation (the forward runs
    again).  Zero for a dense model or a framework whose dispatch does not sync (per_expert 0)."""
    if not job.is_moe or per_expert <= 0:
        return 0.0
    _, _, experts = moe_split(job)
    m = micro_batches(job, c)
    passes = 4 / 3 if c.recompute else 1.0
    return m * moe_layers(job) / c.pp * (experts / c.ep) * per_expert * passes


def state_bytes(job: Job, c: Candidate, trainable: float) -> float:
    """Model states per chip: dense parameters over TP·PP with ZeRO over DP; routed experts also
    over EP, with ZeRO over the DP/EP replicas of each expert (F6, F23)."""
    dense, experts, _ = moe_split(job)
    shard = c.tp * c.pp
    if job.method in ("lora", "qlora"):
        base = tf.QLORA_BYTES_PER_PARAM if job.method == "qlora" else tf.WEIGHT_BYTES
        frozen = (dense / shard + expert_share(c, experts)) * base
        per = tf.WEIGHT_BYTES + tf.GRAD_BYTES + tf.OPTIMIZER_BYTES
        return frozen + trainable * per / shard
    return _zero_states(dense / shard, c.replicas, c.zero) + _zero_states(
        expert_share(c, experts), expert_replicas(c), c.zero
    )


def dispatch_copies(k: int, ep: int, domain: int, dedup: bool) -> float:
    """Copies of one token an MoE all-to-all sends over the expert group's slowest link (F12e),
    its k experts spread evenly over ``ep`` ranks.  Per routed expert: k·(ep − 1)/ep leave the
    rank.  Deduplicated (DeepEP): one copy to each other rank holding one of its experts,
    (ep − 1)·(1 − (1 − 1/ep)^k); a group wider than a ``domain`` sends one copy to each other
    domain holding one, (ep/domain − 1)·(1 − (1 − domain/ep)^k), and forwards inside it."""
    if ep <= 1:
        return 0.0
    if not dedup:
        return k * (ep - 1) / ep
    if ep <= domain:
        return (ep - 1) * (1 - (1 - 1 / ep) ** k)
    return (ep / domain - 1) * (1 - (1 - domain / ep) ** k)


def expert_share(c: Candidate, experts: float) -> float:
    """Routed-expert parameters on one chip under MoE parallel folding (F12d): the expert layers
    map the TP·CP·DP ranks of a stage as EP × EDP with expert tensor parallelism 1, so each
    expert is whole on its rank and only EP and the pipeline divide them."""
    return experts / (c.ep * c.pp)


def expert_replicas(c: Candidate) -> int:
    """Ranks holding the same experts (expert data parallel): TP·CP·DP / EP (F12d)."""
    return max(1, c.tp * c.replicas // c.ep)


def _zero_states(params: float, dp: int, zero: int) -> float:
    weights, grads, optimizer = (
        params * b for b in (tf.WEIGHT_BYTES, tf.GRAD_BYTES, tf.OPTIMIZER_BYTES)
    )
    if zero >= 1:
        optimizer /= dp
    if zero >= 2:
        grads /= dp
    if zero >= 3:
        weights /= dp
    return weights + grads + optimizer


def candidates(job: Job, n: int, domain: int, parallelism: frozenset[str]) -> list[Candidate]:
    """Every layout the chips, the model and the framework allow (pins honoured); kept in the
    job's memo, since every chip of a count and domain offers the same ones."""
    key = ("layout-candidates", n, domain, parallelism)
    if key not in job.cache:
        job.cache[key] = list(_candidates(job, n, domain, parallelism))
    found: list[Candidate] = job.cache[key]
    return found


def _candidates(job: Job, n: int, domain: int, parallelism: frozenset[str]) -> Iterator[Candidate]:
    w = job.workload
    par = parallelism
    tps = [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= min(domain, n) and job.shape.heads % t == 0
           and (t == 1 or "tensor" in par) and w.tensor_parallel in (None, t)]  # fmt: skip
    pps = [p for p in (1, 2, 4, 8, 16, 32) if p <= job.shape.layers
           and (p == 1 or "pipeline" in par) and w.pipeline_parallel in (None, p)]  # fmt: skip
    zeros = zero_stages(par)
    _, _, experts = moe_split(job)
    for t in tps:
        for cp in context_degrees(job, par):
            for p in pps:
                if n % (t * cp * p):
                    continue
                dp = n // (t * cp * p)
                if dp > 1 and "data" not in par and "fsdp" not in par:
                    continue
                yield from _inner(job, (t, cp, p, dp), experts, zeros, par)


# Context parallelism splits a sequence into chunks of at least this many tokens: below that a
# ring step's attention is too short to hide its KV exchange (Megatron-Core and the Llama 3
# team use it for sequences of 16K-128K; the chunk bound keeps the search from short ones).
CP_MIN_CHUNK = 4096


def context_degrees(job: Job, parallelism: frozenset[str]) -> list[int]:
    """Context-parallel degrees to try: 1, and where the framework has it, the powers of two
    that leave each rank a chunk of at least CP_MIN_CHUNK tokens of the sequence."""
    if "context" not in parallelism:
        return [1]
    return [c for c in (1, 2, 4, 8, 16, 32) if c == 1 or job.seq_len // c >= CP_MIN_CHUNK]


def _inner(
    job: Job,
    shape: tuple[int, int, int, int],
    experts: int,
    zeros: list[int],
    par: frozenset[str],
) -> Iterator[Candidate]:
    """The layouts of one TP × CP × PP × DP shape: expert-parallel degree, interleaving and
    micro-batch size, each with its lightest form (no recomputation, ZeRO 0) -- see ``forms``."""
    t, cp, p, dp = shape
    w = job.workload
    # MoE parallel folding (F12d): expert parallelism spans the TP·CP·DP ranks of a stage.
    ranks = t * cp * dp
    eps = [e for e in (1, 2, 4, 8, 16, 32, 64, 128, 256) if ranks % e == 0
           and experts % e == 0 and (e == 1 or "expert" in par) and w.expert_parallel in (None, e)]  # fmt: skip
    if not job.is_moe:
        eps = [1]
    elif not eps and w.expert_parallel is not None:
        return  # the pinned expert-parallel degree does not fit this shape
    virtuals = [1, 2] if p > 1 and "interleaved_pipeline" in par else [1]
    per_replica = job.batch_size // dp if dp else 0
    # Without a pipeline the largest micro-batch that fits is the fastest (fewer weight reads,
    # and the data-parallel exchange hides under a larger last micro-batch, F13c); with one,
    # more than 4 sequences a micro-batch leaves too few micro-batches to fill it.
    sizes = (w.micro_batch,) if w.micro_batch else (1, 2, 4) if p > 1 else (16, 8, 4, 2, 1)
    micro = [m for m in sizes if per_replica and per_replica % m == 0]
    for ep in eps or [1]:
        for v in virtuals:
            if v > 1 and job.shape.layers % (p * v):
                continue
            for mb in micro:
                yield Candidate(t, p, dp, ep, v, mb, 0, False, cp)


def fitting_layouts(
    job: Job, n: int, domain: int, parallelism: frozenset[str], trainable: float, free: float
) -> tuple[list[tuple[Candidate, float]], float]:
    """The layouts of n chips worth costing, in search order, each with the bytes per chip it
    needs, and the least any layout needs (math.inf when none has a shape).

    Each shape contributes the lightest form that fits in ``free`` bytes from each group of
    ``forms``; without a pipeline a larger micro-batch only saves weight reads and collective
    latency, so of a pipeline-free shape only the largest micro-batch that fits is kept, with
    recomputation and without it apart (a smaller micro-batch that needs no recomputation does
    a third less compute than a larger one that does).  What fits depends on the count,
    domain, parallelism and free memory only, not on the chip's speed: memoised per job on
    those."""
    key = ("fitting-layouts", n, domain, parallelism, trainable, free)
    found: tuple[list[tuple[Candidate, float]], float] | None = job.cache.get(key)
    if found is None:
        found = job.cache[key] = _fitting_layouts(job, n, domain, parallelism, trainable, free)
    return found


def _fitting_layouts(
    job: Job, n: int, domain: int, parallelism: frozenset[str], trainable: float, free: float
) -> tuple[list[tuple[Candidate, float]], float]:
    zeros = zero_stages(parallelism)
    settled: set[tuple[int, ...]] = set()
    fits: list[tuple[Candidate, float]] = []
    smallest = math.inf
    for shape in candidates(job, n, domain, parallelism):
        base = (shape.tp, shape.cp, shape.dp, shape.ep, shape.virtual)
        if shape.pp == 1 and all((*base, i, False) in settled for i in (0, 1)):
            continue
        for i, (c, need) in enumerate(fitting_forms(job, shape, zeros, trainable, free)):
            smallest = min(smallest, need)
            if c is None:
                continue
            if shape.pp == 1:
                if (*base, i, False) in settled or (*base, i, c.recompute) in settled:
                    continue  # a larger micro-batch of this form (or a lighter one) fits
                settled.add((*base, i, c.recompute))
            fits.append((c, need))
    return fits, smallest


def forms(c: Candidate, zeros: list[int]) -> tuple[list[Candidate], list[Candidate]]:
    """The memory-saving forms of a layout, lightest first, in two groups: ZeRO 0-2 (the same
    bytes moved, so the first that fits is the fastest of them) with and without recomputation,
    and ZeRO 3 (more traffic, less memory)."""
    light = [z for z in zeros if z < 3 and (z == 0 or c.replicas > 1)]
    heavy = [z for z in zeros if z >= 3 and c.replicas > 1]

    first = [_with(c, z, r) for r in (False, True) for z in light]
    second = [_with(c, z, r) for r in (False, True) for z in heavy]
    return first, second


def fitting_forms(
    job: Job, shape: Candidate, zeros: list[int], trainable: float, free: float
) -> list[tuple[Candidate | None, float]]:
    """For each group of ``forms`` (ZeRO 0-2, then ZeRO 3), the first form whose states and
    activations fit in ``free`` bytes, with its bytes (else None and the smallest need).  The
    same arithmetic as state_bytes + activation_bytes, worked out once per shape and free
    memory (chips of one capacity ask the same)."""
    key = ("fitting-forms", shape, tuple(zeros), trainable, free)
    found: list[tuple[Candidate | None, float]] | None = job.cache.get(key)
    if found is None:
        found = job.cache[key] = _fitting_forms(job, shape, zeros, trainable, free)
    return found


def _fitting_forms(
    job: Job, shape: Candidate, zeros: list[int], trainable: float, free: float
) -> list[tuple[Candidate | None, float]]:
    acts, states = _shape_bytes(job, shape, zeros, trainable)
    out: list[tuple[Candidate | None, float]] = []
    for group in ([z for z in zeros if z < 3 and (z == 0 or shape.replicas > 1)],
                  [z for z in zeros if z >= 3 and shape.replicas > 1]):  # fmt: skip
        best: tuple[Candidate | None, float] = (None, math.inf)
        for recompute in (False, True):
            for z in group:
                need = states[z] + acts[recompute]
                if need <= free:
                    best = (_with(shape, z, recompute), need)
                    break
                best = (None, min(best[1], need))
            if best[0] is not None:
                break
        out.append(best)
    return out


def _shape_bytes(
    job: Job, shape: Candidate, zeros: list[int], trainable: float
) -> tuple[dict[bool, float], dict[int, float]]:
    """Activations (without, with recomputation) and states by ZeRO stage of one shape; kept
    in the job's memo, since every chip with the same count and domain offers the same shapes."""
    key = ("shape_bytes", shape.tp, shape.cp, shape.pp, shape.dp, shape.ep, shape.virtual,
           shape.micro_batch, tuple(zeros), trainable)  # fmt: skip
    if key not in job.cache:
        acts = {r: activation_bytes(job, _with(shape, 0, r)) for r in (False, True)}
        job.cache[key] = acts, _states_by_zero(job, shape, zeros, trainable)
    found: tuple[dict[bool, float], dict[int, float]] = job.cache[key]
    return found


def _states_by_zero(job: Job, c: Candidate, zeros: list[int], trainable: float) -> dict[int, float]:
    """state_bytes for each ZeRO stage of one shape (the sharding worked out once)."""
    if job.method in ("lora", "qlora"):
        same = state_bytes(job, c, trainable)
        return dict.fromkeys(zeros, same)
    dense, experts, _ = moe_split(job)
    shard = c.tp * c.pp
    d, e, dp_e = dense / shard, expert_share(c, experts), expert_replicas(c)
    return {z: _zero_states(d, c.replicas, z) + _zero_states(e, dp_e, z) for z in zeros}


def _with(c: Candidate, zero: int, recompute: bool) -> Candidate:
    return Candidate(c.tp, c.pp, c.dp, c.ep, c.virtual, c.micro_batch, zero, recompute, c.cp)


def zero_stages(parallelism: frozenset[str]) -> list[int]:
    return [0, 1, 2, 3] if {"zero", "fsdp"} & parallelism else [0]


def lower_bound_bytes(job: Job, n: int, trainable: float) -> float:
    """Bytes per chip no layout of n chips can go below: the model's states fully sharded."""
    full = Candidate(1, 1, 1, 1, 1, 1, 0, False)
    if job.method in ("lora", "qlora"):
        return state_bytes(job, full, trainable) / n
    return _zero_states(job.params, 1, 0) / n


def activation_bytes(job: Job, c: Candidate) -> float:
    """Activations held per chip: per layer 34·s·b·h/t (2·s·b·h/t with recomputation), for the
    layers of a stage and the micro-batches in flight (1F1B keeps up to p; interleaving adds
    (p − 1)/(p·v) more, Narayanan et al. 2021 §2.2)."""
    per_layer = tf.activation_bytes_per_layer(
        job.seq_len // c.cp, c.micro_batch, job.shape.hidden, c.tp, recompute=c.recompute
    )
    m = micro_batches(job, c)
    in_flight = min(c.pp, m) * (1 + (c.pp - 1) / (c.pp * c.virtual) if c.virtual > 1 else 1)
    return per_layer * job.shape.layers / c.pp * in_flight


def compute_seconds(job: Job, c: Candidate, flops: float, attn_flops: float) -> float:
    """Compute of one step on each chip (compute_split, summed)."""
    return sum(compute_split(job, c, flops, attn_flops))


def compute_split(job: Job, c: Candidate, flops: float, attn_flops: float) -> tuple[float, float]:
    """Compute of one step on each chip: the weight matmuls at the compute rate ``flops``, and
    attention's score and value products at ``attn_flops`` (the 16-bit rate when the matmuls
    run in FP8; F3b), as (matmul seconds, attention seconds)."""
    tokens = job.batch_size * job.seq_len / c.chips
    attention = attention_flops_per_token(job, c.recompute)
    matmul = flops_per_token(job, c.recompute) - attention
    return tokens * matmul / flops, tokens * attention / attn_flops


def step_parts(
    job: Job,
    c: Candidate,
    trainable: float,
    flops: tuple[float, float],
    mem_bytes_s: float,
    links: Links,
    reduce_bytes: float = tf.GRAD_BYTES,
) -> dict[str, Any]:
    """Seconds of one step by part (compute, memory, bubble, TP / CP / DP / PP / EP
    communication), at the compute rates ``flops`` (matmuls, attention; compute_seconds).
    Context parallelism splits each sequence over c.cp ranks: activations and the activations
    exchanged shrink by it, and the ring passes KV chunks (_cp_comm).  ``reduce_bytes``: the
    bytes a gradient element takes in the data-parallel reduction (the framework's)."""
    h, s, L = job.shape.hidden, job.seq_len // c.cp, job.shape.layers
    lora = job.method in ("lora", "qlora")
    m = micro_batches(job, c)
    eff_net = job.eff["network"]
    flops_tok = flops_per_token(job, c.recompute)
    matmul_s, attention_s = compute_split(job, c, *flops)
    compute = matmul_s + attention_s
    dense, experts, _ = moe_split(job)
    local = dense / (c.tp * c.pp) + expert_share(c, experts)  # parameters on one chip
    weights = local * tf.WEIGHT_BYTES
    acts = activation_bytes(job, c)
    memory = (3 * weights * m + 2 * acts * m / max(min(c.pp, m), 1)) / mem_bytes_s
    elementwise = elementwise_seconds(job, c, mem_bytes_s)
    if job.method == "qlora":
        # bitsandbytes dequantizes the NF4 weights to the compute dtype before every matmul, a
        # kernel of its own (so it adds, as the element-wise kernels do, F3e): each pass over a
        # micro-batch reads 0.5 B and writes 2 B per frozen parameter more.
        passes = 3 if c.recompute else 2
        frozen = local
        elementwise += frozen * QLORA_DEQUANT_BYTES * passes * m / mem_bytes_s
    bubble = tf.pipeline_bubble_fraction(c.pp, m * c.virtual) * (max(compute, memory) + elementwise)
    bw, lat, _ = links.tp
    tp_comm = _tp_comm(job, c, m, bw, lat, links.tp_eff)
    synced = trainable / (c.tp * c.pp) if lora else local
    grads = synced * reduce_bytes
    dp_eff = eff_net if links.dp_eff is None else links.dp_eff
    dp_comm, window = _dp_comm(c, synced, reduce_bytes, m, links.dp, dp_eff)
    bw, lat, _ = links.pp
    pp_comm = (
        2 * m * c.virtual * net.point_to_point_time(2 * s * h * c.micro_batch, bw, lat)
        if c.pp > 1
        else 0.0
    )
    ep_comm, copies = 0.0, 0.0
    if job.is_moe and c.ep > 1:
        bw, lat, _ = links.ep
        # 2 all-to-alls forward + 2 backward per MoE layer, each token's hidden state to its
        # top-k; each rank dispatches its sequence-parallel share of the tokens, s/t (F12d).
        copies = dispatch_copies(experts_per_token(job), c.ep, links.domain, links.dedup_dispatch)
        sent = 2 * copies * s * h * c.micro_batch / c.tp
        ep_comm = m * (L / c.pp) * 4 * (sent / (bw * eff_net) + (c.ep - 1) * lat)
    # The ring's hops overlap the attention of the chunk already held (Megatron-Core's
    # context parallelism double-buffers them): only what attention does not cover is exposed.
    cp_comm = max(0.0, _cp_comm(job, c, m, links.cp) - attention_s)
    # The pipeline's idle time in the cool-down (a stage waiting on the gradients of the next)
    # also carries the exchange of the buckets already final.
    hidden = min(dp_comm * job.eff["dp-overlap"], compute * window + bubble)
    network = tp_comm + dp_comm - hidden + pp_comm + ep_comm + cp_comm
    return {
        "compute_s": compute, "memory_s": memory, "elementwise_s": elementwise,
        "network_s": network, "bubble_s": bubble,
        "overlap_s": hidden, "tp_comm_s": tp_comm, "dp_comm_s": dp_comm, "pp_comm_s": pp_comm,
        "ep_comm_s": ep_comm, "ep_copies": copies, "cp_comm_s": cp_comm, "grad_bytes": grads,
        "flops_per_token": flops_tok, "micro_batches": m, "activation_bytes": acts,
    }  # fmt: skip


def _dp_comm(
    c: Candidate, synced: float, reduce_bytes: float, m: int, link: Any, eff_net: float
) -> tuple[float, float]:
    """The data-parallel exchange of one step for ``synced`` parameters a chip (F13c), and the
    share of the step's compute that can hide it.  Gradients accumulate over the m micro-batches
    and are reduced once, bucket by bucket during the last micro-batch's backward (PyTorch DDP's
    no_sync, Megatron-Core's overlap_grad_reduce), at ``reduce_bytes`` an element: an all-reduce
    (ZeRO 0), hidden under at most that backward (2/3 of a micro-batch's compute); with the
    optimizer sharded (ZeRO 1-2, Megatron's distributed optimizer) a reduce-scatter and, once the
    shards are updated, an all-gather of the 16-bit weights under the next step's first forward
    (a whole micro-batch's compute).  ZeRO 3 (FSDP) gathers the weights for every micro-batch's
    forward and backward and reduce-scatters its gradients, m times a step, each under the
    compute of its own micro-batch (the whole step)."""
    bw, lat, _ = link
    n = c.replicas
    weights = synced * tf.WEIGHT_BYTES
    grads = synced * reduce_bytes
    if c.zero >= 3:
        per_micro = 2 * net.all_gather_time(weights, n, bw, lat, eff_net)
        return m * (per_micro + net.all_gather_time(grads, n, bw, lat, eff_net)), 1.0
    if c.zero >= 1:
        comm = net.all_gather_time(grads, n, bw, lat, eff_net)
        return comm + net.all_gather_time(weights, n, bw, lat, eff_net), 1.0 / m
    return net.all_reduce_time(grads, n, bw, lat, eff_net), 2.0 / 3.0 / m


def lower_bound_s(
    job: Job,
    c: Candidate,
    flops: tuple[float, float],
    tp_link: tuple[float, float, float] | None = None,
) -> float:
    """A step can take no less than its compute, the pipeline bubble on it and, given the
    tensor-parallel link (bytes/s, latency, ring efficiency), its tensor-parallel all-reduces,
    which nothing overlaps (step_parts); the search skips layouts whose bound is already slower
    than the best found."""
    compute = compute_seconds(job, c, *flops)
    m = micro_batches(job, c)
    bound = compute * (1 + tf.pipeline_bubble_fraction(c.pp, m * c.virtual))
    if tp_link is None or c.tp <= 1:
        return bound
    return bound + _tp_comm(job, c, m, *tp_link)


def _tp_comm(
    job: Job, c: Candidate, m: int, bandwidth: float, latency: float, eff: float | None = None
) -> float:
    """Tensor-parallel all-reduces of a step: per layer of a stage 4 (6 with recomputation) of
    the activations, each micro-batch (Megatron-LM, Shoeybi et al. 2019), at the link's ring
    efficiency ``eff`` (the catalog-wide network efficiency when None)."""
    size = 2 * job.seq_len // c.cp * job.shape.hidden * c.micro_batch
    n_ar = 6 if c.recompute else 4
    eff = job.eff["network"] if eff is None else eff
    one = net.all_reduce_time(size, c.tp, bandwidth, latency, eff)
    return m * (job.shape.layers / c.pp) * n_ar * one


def _cp_comm(job: Job, c: Candidate, m: int, link: tuple[float, float, str]) -> float:
    """Ring attention over the context-parallel ranks: each layer passes every rank's K and V
    chunk (s/cp tokens, its tensor-parallel share of the KV heads) around the ring, cp − 1
    hops forward and twice that backward (K, V and their gradients), per micro-batch
    (Liu et al. 2023, Ring Attention; Megatron-Core's context parallelism).  This is the
    ring's whole transfer; step_parts exposes only what the attention compute does not hide."""
    if c.cp <= 1:
        return 0.0
    kv_width = job.shape.kv_heads * job.shape.head_dim / min(c.tp, job.shape.kv_heads)
    chunk = 2 * (job.seq_len // c.cp) * c.micro_batch * kv_width * 2  # K and V, 16-bit
    bandwidth, latency, _ = link
    hop = net.point_to_point_time(chunk, bandwidth, latency)
    return m * (job.shape.layers / c.pp) * 3 * (c.cp - 1) * hop


def flops_per_token(job: Job, recompute: bool) -> float:
    """Training FLOPs per token (F2, with or without recomputation), once per job."""
    key = ("training-flops-per-token", recompute)
    if key not in job.cache:
        job.cache[key] = tf.training_flops_per_token(
            job.matmul_active_params, job.shape, attended_context(job), recompute=recompute,
            lora=job.method in ("lora", "qlora"),
        )  # fmt: skip
    value: float = job.cache[key]
    return value


def elementwise_bytes(job: Job) -> float:
    """Element-wise bytes per trained token per layer (F3e), averaged over the model's layers
    (a named model's dense FFN layers and MoE layers apart), once per job."""
    key = "elementwise-bytes"
    if key not in job.cache:
        job.cache[key] = _elementwise_bytes(job)
    value: float = job.cache[key]
    return value


def _elementwise_bytes(job: Job) -> float:
    shape, model = job.shape, job.model
    ffn = float(model.ffn_hidden or 3.5 * shape.hidden) if model is not None else 3.5 * shape.hidden
    gated = bool(model.gated_ffn) if model is not None else True
    dense = tf.elementwise_bytes_per_token_layer(shape, ffn, gated)
    if not job.is_moe:
        return dense
    moe = model.moe if model is not None else None
    k = experts_per_token(job)
    if moe is not None:
        width = float(moe.expert_ffn_hidden)
        shared = moe.shared_experts * float(moe.shared_expert_ffn_hidden or width)
        dense_layers = int(moe.dense_layers)
    else:  # an expert's width from its parameters: x = 3·f_e·h per layer (SwiGLU)
        _, experts_total, experts = moe_split(job)
        width = experts_total / experts / shape.layers / (3 * shape.hidden)
        shared, dense_layers = 0.0, 0
    routed = tf.elementwise_bytes_per_token_layer(
        shape, ffn, gated, experts_per_token=k, expert_width=width, shared_width=shared
    )
    layers = shape.layers
    return float(dense * dense_layers + routed * (layers - dense_layers)) / layers


def elementwise_seconds(job: Job, c: Candidate, mem_bytes_s: float) -> float:
    """The element-wise kernels of one step on each chip (F3e): every token's bytes over the
    model's layers, shared by the chips (tensor and sequence parallelism split the tokens'
    hidden states, pipelining the layers, data and context parallelism the tokens); full
    recomputation runs the forward's third again."""
    per_token = elementwise_bytes(job) * (4 / 3 if c.recompute else 1)
    return job.batch_size * job.seq_len * job.shape.layers * per_token / c.chips / mem_bytes_s


def attended_context(job: Job) -> float:
    """Tokens a layer's attention runs over, averaged over the layers (F2): the sequence, or
    its window on a named model's sliding-window layers (FlashAttention skips the blocks
    outside the window)."""
    m, s = job.model, job.seq_len
    if m is None or not m.sliding_window or not m.sliding_layers or not m.layers:
        return float(s)
    layers: int = m.layers
    local: int = min(m.sliding_layers, layers)
    window: int = min(s, m.sliding_window)
    return float(local * window + (layers - local) * s) / layers


def attention_flops_per_token(job: Job, recompute: bool) -> float:
    """The attention part of flops_per_token (F2), once per job."""
    key = ("training-attention-flops-per-token", recompute)
    if key not in job.cache:
        job.cache[key] = tf.training_attention_flops_per_token(
            job.shape, attended_context(job), recompute=recompute
        )
    value: float = job.cache[key]
    return value


def evaluations(job: Job) -> int:
    """Evaluation passes in the job (plan.evaluate.evaluation_passes over its sequences)."""
    from infra_advisor.plan.evaluate import evaluation_passes

    return evaluation_passes(job, job.tokens / job.seq_len)


def evaluation_pass_s(job: Job, c: Candidate, parts: dict[str, Any]) -> float:
    """One evaluation pass (F3d): ``eval_samples`` sequences forward only, in the training
    layout.  Compute, memory traffic and the bubble scale by forward FLOPs over training FLOPs
    (2·P + 2·L·s·d of the step's F2); the forward pass has half the tensor-, pipeline- and
    expert-parallel exchanges and a third of the ring-attention hops; no gradient sync."""
    w = job.workload
    if not w.eval_samples:
        return 0.0
    forward = 2 * job.matmul_active_params + 2 * job.shape.layers * job.seq_len * (
        job.shape.attention_width
    )
    ratio = forward / flops_per_token(job, c.recompute)
    step = ratio * (max(parts["compute_s"], parts["memory_s"]) + parts["bubble_s"])
    step += parts["elementwise_s"] / 3
    step += 0.5 * (parts["tp_comm_s"] + parts["pp_comm_s"] + parts["ep_comm_s"])
    step += parts["cp_comm_s"] / 3
    return float(w.eval_samples / job.batch_size * step)


def step_seconds(parts: dict[str, Any], host_s: float) -> float:
    return float(
        max(parts["compute_s"], parts["memory_s"])
        + parts["elementwise_s"]
        + parts["bubble_s"]
        + parts["network_s"]
        + host_s
    )


def smallest_state_fraction(job: Job, c: Candidate, trainable: float) -> float:
    """States over all chips ÷ the model's states (≥ 1: nothing is lost to double sharding)."""
    n = c.chips
    total = state_bytes(job, c, trainable) * n
    model = state_bytes(job, Candidate(1, 1, 1, 1, 1, 1, 0, False), trainable)
    return total / model if model > 0 else math.inf
