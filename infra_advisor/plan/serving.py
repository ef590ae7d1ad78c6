"""Transformer serving: the layouts that fit, the batch that serves the rate, and the outcome.

One owner for the serving layout: tensor × pipeline parallel groups and how many replicas of
them the chips hold (a chip left over is idle, never a reason to serve less), the KV-cache
precision, and the batch (at most what memory leaves for the KV cache, or --batch-size).  The
seconds come from physics.transformer_serving; what the framework runs (weight, compute and KV
precisions, batching, paged KV) from plan.frameworks.
"""

from __future__ import annotations

import math

from infra_advisor.checks import FrozenRecord, record
from infra_advisor.job import Job
from infra_advisor.models import Chip
from infra_advisor.physics import transformer as tf
from infra_advisor.physics import transformer_serving as ts
from infra_advisor.physics.cost import PhaseCost, StepCost, combine
from infra_advisor.plan.evaluate import weight_bytes_per_param
from infra_advisor.plan.frameworks import Capabilities, kv_precision_choices

GB = 1e9
KV_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
# Tokens an engine with chunked prefill or prompt batching runs in one forward pass: the default
# max_num_tokens of TensorRT-LLM and max_num_batched_tokens of vLLM's V1 scheduler.
PREFILL_CHUNK_TOKENS = 8192
# The time a request's decode waits while the replica runs other requests' prompts (chunked in
# between its steps) under load: compute the replica spends on others.
QUEUED_PHASE = "other requests' prefill between its steps"


@record(frozen=True, kw_only=False, hashable=True)
class Group(FrozenRecord):
    """One model replica: tensor × pipeline parallel chips, and how many replicas run."""

    tp: int
    pp: int
    replicas: int

    @property
    def chips(self) -> int:
        return self.tp * self.pp


@record(frozen=True, kw_only=False, hashable=True)
class Served(FrozenRecord):
    """A replica group at one batch: the request's phases, capacity, latency and load."""

    group: Group
    kv_precision: str
    batch: int
    max_batch: int
    capacity_rps: float  # all replicas, at this batch
    saturation_rps: float  # all replicas, at the largest batch
    served_rps: float
    ttft_s: float
    tpot_s: float
    step_s: float  # one decode step at this batch (its phases: served_step)
    latency_s: float  # TTFT + output tokens × TPOT
    load: float  # busy share of the active chips


@record(frozen=True)
class ServingInputs(FrozenRecord):
    """What one stack's serving evaluation holds fixed: model numbers, hardware, framework."""

    job: Job
    chip: Chip
    caps: Capabilities
    count: int
    flops: float  # achieved FLOP/s per chip at the compute precision
    weight_bytes: float
    capacity_bytes: float  # per chip, what the runtime can allocate
    usable_bytes: float  # per chip, for weights and KV cache at the catalog's usable share
    link_bytes_s: float
    link_latency_s: float
    hop_bytes_s: float
    hop_latency_s: float
    has_hop: bool


def model_for(inp: ServingInputs, kv_precision: str) -> ts.ServedModel:
    """The model's serving numbers at a KV precision (memoised per job)."""
    return served_model(inp.job, inp.weight_bytes, kv_precision)


def served_model(job: Job, weight_bytes: float, kv_precision: str) -> ts.ServedModel:
    """The model's serving numbers with its weights at ``weight_bytes`` (memoised per job)."""
    key = ("served-model", weight_bytes, kv_precision)
    cached: ts.ServedModel | None = job.cache.get(key)
    if cached is None:
        cached = job.cache[key] = _model_for(job, weight_bytes, kv_precision)
    return cached


def _model_for(job: Job, weight_bytes: float, kv_precision: str) -> ts.ServedModel:
    """A named model's own KV cache (GQA, latent KV, sliding-window layers at the request's
    length) and head width; else the derived shape's (F8)."""
    shape = job.shape
    width = decode_width = shape.heads * shape.head_dim
    kv = tf.kv_bytes_per_token(shape, KV_BYTES[kv_precision])
    if job.model is not None:
        from infra_advisor.model_params import attention_head_widths, kv_bytes_per_token

        kv = kv_bytes_per_token(
            job.model, KV_BYTES[kv_precision], job.prompt_tokens + job.output_tokens
        )
        prefill_head, decode_head = attention_head_widths(job.model)
        width, decode_width = job.model.heads * prefill_head, job.model.heads * decode_head
    experts = k = expert_width = 0
    dense = 0.0
    if job.model is not None and job.model.moe is not None:
        from infra_advisor.plan.training import moe_split

        dense, _, experts = moe_split(job)
        k, expert_width = job.model.moe.experts_per_token, job.model.moe.expert_ffn_hidden
    return ts.ServedModel(
        layers=shape.layers,
        hidden=shape.hidden,
        attention_width=width,
        decode_attention_width=decode_width,
        active_params=job.matmul_active_params,
        params=job.read_params,
        weight_bytes=weight_bytes * job.read_params / job.params,
        kv_bytes_per_token=kv,
        experts=experts,
        experts_per_token=k,
        dense_params=min(dense, job.read_params),
        expert_width=expert_width,
        kv_heads=1 if job.model is not None and job.model.mla is not None else shape.kv_heads,
    )


def hardware_for(inp: ServingInputs) -> ts.ServingHardware:
    """The chip as serving sees it (memoised per chip, framework and links)."""
    key = (
        "serving-hardware",
        inp.chip.id,
        inp.caps.id,
        inp.flops,
        inp.link_bytes_s,
        inp.hop_bytes_s,
    )
    cached: ts.ServingHardware | None = inp.job.cache.get(key)
    if cached is None:
        cached = inp.job.cache[key] = _hardware_for(inp)
    return cached


def achieved_bytes_s(job: Job, caps: Capabilities, chip: Chip) -> float:
    """Memory bytes/s a decode step reaches on the chip with this framework."""
    bytes_s = chip.memory_bandwidth_gb_s * GB * job.eff["memory-bandwidth"]
    return bytes_s * caps.efficiency("decode", job.is_moe)


def bandwidth_share(job: Job, caps: Capabilities, chip: Chip) -> float:
    """The share of the chip's memory bandwidth a decode step reaches with this framework."""
    return achieved_bytes_s(job, caps, chip) / (chip.memory_bandwidth_gb_s * GB)


def _hardware_for(inp: ServingInputs) -> ts.ServingHardware:
    eff = inp.job.eff
    return ts.ServingHardware(
        flops=inp.flops,
        memory_bytes_s=achieved_bytes_s(inp.job, inp.caps, inp.chip),
        link_bytes_s=inp.link_bytes_s * eff["network"],
        link_latency_s=inp.link_latency_s,
        hop_bytes_s=inp.hop_bytes_s * eff["network"],
        hop_latency_s=inp.hop_latency_s,
        matmul_tile=inp.chip.matmul_tile or 0,
        expert_block_tokens=inp.caps.moe_block_tokens,
    )


def groups(inp: ServingInputs) -> list[Group]:
    """Tensor × pipeline groups the chips, the heads and the framework allow (pins honoured).

    Tensor parallel stays inside the scale-up domain; pipeline stages span nodes only over a
    scale-out link.  Replicas are as many whole groups as the chips hold."""
    w, chip, n = inp.job.workload, inp.chip, inp.count
    par = inp.caps.parallelism
    tps = [
        t
        for t in (1, 2, 4, 8, 16, 32, 64)
        if t <= min(chip.scale_up_domain_size, n)
        and (inp.job.shape.heads % t == 0 or inp.caps.pads_heads)
        and (t == 1 or "tensor" in par)
        and w.tensor_parallel in (None, t)
    ]
    pps = [1] + (
        [p for p in (2, 4, 8, 16, 32) if p <= inp.job.shape.layers]
        if inp.has_hop and "pipeline" in par
        else []
    )
    found = [
        Group(t, p, n // (t * p))
        for t in tps
        for p in pps
        if t * p <= n and w.pipeline_parallel in (None, p)
    ]
    return found


def kv_per_chip_token(inp: ServingInputs, group: Group, kv_token: float) -> float:
    """KV bytes one token puts on each chip: KV heads split over TP (replicated past n_kv); a
    latent-KV (MLA) cache is one latent per token, which every tensor-parallel rank holds."""
    model = inp.job.model
    heads = 1 if model is not None and model.mla is not None else inp.job.shape.kv_heads
    return kv_token / ts.kv_split(heads, group.tp, group.pp)


def runtime_overhead(inp: ServingInputs) -> float:
    """Device bytes the runtime holds for itself: what the framework states, else the catalog's
    runtime-overhead."""
    stated = inp.caps.memory_overhead_bytes
    return inp.job.eff["runtime-overhead"] if stated is None else stated


def kv_space_bytes(inp: ServingInputs, group: Group) -> float:
    """Bytes per chip left for the KV cache once the weights are loaded: the framework's share of
    the total, or of what is free after the weights and the runtime's own memory; the catalog's
    usable share where the framework states none."""
    weights = inp.weight_bytes / group.chips
    fraction, of = inp.caps.memory_fraction, inp.caps.memory_fraction_of
    overhead = runtime_overhead(inp)
    if fraction is None:
        return inp.usable_bytes - weights
    if of == "free":
        return (inp.capacity_bytes - overhead - weights) * fraction
    return inp.capacity_bytes * fraction - overhead - weights


def compiled_length(inp: ServingInputs) -> int | None:
    """The sequence length a static-shape engine's graphs are compiled for (F11): --seq-len, at
    least the request's prompt + output; None for an engine that runs the request's own shapes.
    Each slot's KV buffer holds all of it, every prompt is encoded padded to it, and every
    decode step attends over all of it."""
    if not inp.caps.static_shapes:
        return None
    job = inp.job
    return max(job.workload.seq_len or 0, job.prompt_tokens + job.output_tokens)


def prefill_tokens(inp: ServingInputs) -> int:
    """Tokens a prompt's encoding computes: the prompt, or the compiled length it is padded to."""
    return compiled_length(inp) or inp.job.prompt_tokens


def kv_utilisation(inp: ServingInputs) -> float:
    """Share of KV memory holding token states (F9): near all of it in a paged cache; in a
    contiguous one, what requests of varying length leave of the maximum each reserves, or all
    of it when every request has the stated lengths (--fixed-lengths)."""
    if inp.caps.paged_kv:
        return inp.job.eff["kv-utilisation-paged"]
    if compiled_length(inp):
        return 1.0  # each slot reserves the compiled length, and reserved_context counts it
    return 1.0 if inp.job.workload.fixed_lengths else inp.job.eff["kv-utilisation-contiguous"]


def decode_context(inp: ServingInputs) -> float:
    """Tokens a decode step attends over, per request: all the compiled length of a static-shape
    engine, else the mean context over the request's output (prompt + output / 2)."""
    return compiled_length(inp) or inp.job.prompt_tokens + inp.job.output_tokens / 2


def reserved_context(inp: ServingInputs) -> int:
    """Tokens of KV cache a request's slot holds: the compiled length of a static-shape engine,
    else the request's prompt + output."""
    return compiled_length(inp) or inp.job.prompt_tokens + inp.job.output_tokens


def batch_occupancy(inp: ServingInputs) -> float:
    """Share of batch slots doing useful work (F11): all with continuous batching, or with a
    static batch whose requests all end together (--fixed-lengths); else static-batch-occupancy."""
    if inp.caps.batching == "continuous" or inp.job.workload.fixed_lengths:
        return 1.0
    return inp.job.eff["static-batch-occupancy"]


def memory_batch(inp: ServingInputs, group: Group, kv_precision: str) -> int:
    """Requests whose KV cache fits beside the weights (F9), at the framework's KV-memory
    utilisation (paged or contiguous)."""
    kv_token = model_for(inp, kv_precision).kv_bytes_per_token
    free = kv_space_bytes(inp, group)
    per_request = kv_per_chip_token(inp, group, kv_token) * reserved_context(inp)
    return int(free * kv_utilisation(inp) // per_request) if free > 0 else 0


def max_batch(inp: ServingInputs, group: Group, kv_precision: str) -> int:
    """The largest batch: what memory holds (memory_batch), capped by --batch-size."""
    batch = memory_batch(inp, group, kv_precision)
    stated = inp.job.workload.batch_size
    return batch if stated is None else min(batch, stated)


def batch_capped(inp: ServingInputs, s: Served) -> bool:
    """Whether --batch-size, not memory, sets the served layout's largest batch."""
    stated = inp.job.workload.batch_size
    return stated is not None and memory_batch(inp, s.group, s.kv_precision) > stated


def prefill_busy_s(inp: ServingInputs, g: Group, kv_precision: str) -> float:
    """Busy seconds a replica spends on one request's prompt (memoised per layout)."""
    key = (
        "prefill-busy",
        inp.chip.id,
        inp.caps.id,
        inp.flops,
        inp.hop_bytes_s,
        g.tp,
        g.pp,
        kv_precision,
    )
    cached: float | None = inp.job.cache.get(key)
    if cached is None:
        tokens = prefill_tokens(inp)
        together = inp.caps.batching == "continuous" and not inp.caps.static_shapes
        chunk = PREFILL_CHUNK_TOKENS if together else tokens
        m, hw = model_for(inp, kv_precision), hardware_for(inp)
        cached = inp.job.cache[key] = ts.prefill(m, hw, g.tp, g.pp, tokens, chunk).total_s
    return cached


def capacity(inp: ServingInputs, g: Group, kv_precision: str, batch: int) -> tuple[float, float]:
    """Requests/s all replicas sustain at a batch, and the decode step's seconds at that batch.

    A replica spends prefill(prompt) + output_tokens × step(batch) / batch of busy time on each
    request; static batching leaves a share of the slots idle (static-batch-occupancy).  One
    replica's figures are memoised per layout: every count of a chip asks for the same ones."""
    key = ("replica-capacity", inp.chip.id, inp.caps.id, inp.flops, inp.hop_bytes_s, g.tp, g.pp,
           kv_precision, batch)  # fmt: skip
    cached: tuple[float, float] | None = inp.job.cache.get(key)
    if cached is None:
        step = ts.decode_seconds(*_decode_args(inp, g, kv_precision, batch))
        busy = prefill_busy_s(inp, g, kv_precision) + inp.job.output_tokens * step / batch
        occupancy = batch_occupancy(inp)
        cached = inp.job.cache[key] = (occupancy / busy, step)
    return g.replicas * cached[0], cached[1]


def _decode_args(
    inp: ServingInputs, g: Group, kv_precision: str, batch: int
) -> tuple[ts.ServedModel, ts.ServingHardware, int, int, int, float]:
    context = decode_context(inp)
    if inp.caps.static_shapes:
        # The decode graph runs at its compiled batch whatever the slots hold (F11d).
        batch = max(batch, max_batch(inp, g, kv_precision))
    return model_for(inp, kv_precision), hardware_for(inp), g.tp, g.pp, batch, context


def decode_cost(inp: ServingInputs, g: Group, kv_precision: str, batch: int) -> StepCost:
    """The decode step at a batch, as phases."""
    return ts.decode_step(*_decode_args(inp, g, kv_precision, batch))


def batch_ladder(limit: int) -> list[int]:
    ladder, b = [], 1
    while b < limit:
        ladder.append(b)
        b *= 2
    ladder.append(limit)
    return ladder


def batch_for_rate(inp: ServingInputs, g: Group, kv: str, limit: int, rate: float) -> int:
    """The smallest batch on the ladder whose capacity serves the rate (capacity rises with the
    batch, so a bisection finds it); the largest when none does."""
    ladder = batch_ladder(limit)
    lo, hi = 0, len(ladder) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if capacity(inp, g, kv, ladder[mid])[0] >= rate:
            hi = mid
        else:
            lo = mid + 1
    return ladder[lo]


def serve(inp: ServingInputs, g: Group, kv: str) -> Served | None:
    """The group at the batch the rate needs (the largest batch at saturation; one request at a
    time with no rate), with its latency under that load."""
    job = inp.job
    limit = max_batch(inp, g, kv)
    if limit < 1:
        return None
    saturation, _ = capacity(inp, g, kv, limit)
    rate = job.workload.rate
    batch = 1 if rate is None else batch_for_rate(inp, g, kv, limit, rate)
    cap, step_s = capacity(inp, g, kv, batch)
    served = cap if rate is None else min(rate, cap)
    return _with_latency(inp, g, kv, batch, limit, cap, saturation, served, step_s)


def first_prefill(inp: ServingInputs, g: Group, kv: str) -> StepCost:
    """One prompt crossing the group on its own (its latency, memoised per layout)."""
    key = ("first-prefill", inp.chip.id, inp.caps.id, inp.flops, inp.hop_bytes_s, g.tp, g.pp, kv)
    cached: StepCost | None = inp.job.cache.get(key)
    if cached is None:
        m, hw, tokens = model_for(inp, kv), hardware_for(inp), prefill_tokens(inp)
        cached = ts.prefill(m, hw, g.tp, g.pp, tokens, tokens, pipelined=False)
        inp.job.cache[key] = cached
    return cached


def _with_latency(
    inp: ServingInputs,
    g: Group,
    kv: str,
    batch: int,
    limit: int,
    cap: float,
    saturation: float,
    served: float,
    step_s: float,
) -> Served:
    """TTFT and TPOT at a load (Little's law: a replica busy on prompts for a share λ·prefill of
    its time stretches every decode step by 1/(1 − λ·prefill))."""
    job = inp.job
    busy = prefill_busy_s(inp, g, kv)
    per_replica = served / g.replicas
    stretch = 1.0 / max(1e-3, 1.0 - per_replica * busy) if batch > 1 else 1.0
    first = first_prefill(inp, g, kv)
    wait = 0.0
    if inp.caps.batching == "static" and batch > 1:
        wait = job.output_tokens * step_s / 2  # arriving mid-batch: half a batch's run
    ttft = first.total_s + (step_s if batch > 1 else 0.0) + wait
    tpot = step_s * stretch
    load = min(1.0, served / cap) if cap > 0 else 0.0
    latency = ttft + job.output_tokens * tpot
    return Served(g, kv, batch, limit, cap, saturation, served, ttft, tpot, step_s, latency, load)


def served_step(inp: ServingInputs, s: Served) -> StepCost:
    """The decode step of a served layout, as phases (built only where they are read)."""
    return decode_cost(inp, s.group, s.kv_precision, s.batch)


def request_cost(inp: ServingInputs, s: Served) -> StepCost:
    """One request as phases: its prompt, its decode steps, and the time other requests' prompts
    and steps take between them (so the phases sum to TTFT + output tokens × TPOT)."""
    tokens = inp.job.output_tokens
    first = first_prefill(inp, s.group, s.kv_precision)
    decode = StepCost(tuple(p.repeated(tokens) for p in served_step(inp, s).phases))
    others = tokens * (s.tpot_s - s.step_s) + (s.ttft_s - first.total_s)
    if others <= 0:
        return combine(first, decode)
    queued = PhaseCost(QUEUED_PHASE, compute_s=others, overlapped=())
    return combine(first, decode, StepCost((queued,)))


def meets_targets(job: Job, s: Served) -> bool:
    w = job.workload
    return (w.latency_target is None or s.ttft_s <= w.latency_target) and (
        w.tpot_target is None or s.tpot_s <= w.tpot_target
    )


def best_serving(inp: ServingInputs, weights: str) -> Served | None:
    """The layout that serves most of the rate; then one meeting the TTFT and TPOT targets;
    then the lowest request latency; then the fewest active chips."""
    job = inp.job
    options = []
    for kv in kv_precision_choices(inp.caps, job.workload.kv_precision, weights):
        for g in groups(inp):
            s = serve(inp, g, kv)
            if s is not None:
                options.append(s)
    if not options:
        return None
    rate = job.workload.rate
    return min(
        options,
        key=lambda s: (
            -float(f"{min(s.served_rps, rate):.9g}") if rate else 0.0,
            not meets_targets(job, s),
            float(f"{s.latency_s:.9g}"),
            s.group.chips * s.group.replicas,
            s.group.pp,
        ),
    )


def smallest_fit_bytes(inp: ServingInputs, weights: str) -> tuple[float, Group | None]:
    """Bytes per chip one request needs in the widest group (for the rejection message)."""
    options = groups(inp)
    if not options:
        return math.inf, None
    g = max(options, key=lambda x: (x.chips, x.tp))
    kv = (kv_precision_choices(inp.caps, inp.job.workload.kv_precision, weights) or ["bf16"])[0]
    context = reserved_context(inp)
    kv_token = model_for(inp, kv).kv_bytes_per_token
    return inp.weight_bytes / g.chips + kv_per_chip_token(inp, g, kv_token) * context, g


@record(frozen=True)
class Floor(FrozenRecord):
    """What no serving layout of a chip beats, at the best achieved FLOP/s and bytes/s any
    framework reaches on it, whatever the chip count."""

    chips: int  # the fewest chips that hold the weights
    requests_per_chip_s: float  # the most requests/s one chip serves
    latency_s: float  # the shortest request latency

    def chips_for(self, rate: float) -> int:
        """The fewest chips that hold the weights and serve ``rate`` requests/s."""
        return max(self.chips, math.ceil(0.999 * rate / self.requests_per_chip_s - 1e-9))


def floor(
    job: Job,
    flops: float,
    bytes_s: float,
    chip_bytes: float,
    domain: int,
    limit: int,
    kv_precision: str,
) -> Floor:
    """The serving floor: F11's terms at their least, at any batch and layout.

    A request's prompt costs its chips at least its GEMM FLOPs and its attention roofline, and
    each output token its GEMM FLOPs and one read of its KV cache (or the attention FLOPs)
    (2·P_active, 4·L·c·d FLOPs, c·KV bytes a token at a context of c): divided by the chips,
    what a chip-second serves bounds the requests/s of a chip at any batch.  The weights need
    W / M chips.  A request waits at least its prompt's GEMMs and, for each output token, one
    read of the weights a token touches and of its KV cache, split over at most the scale-up
    domain's tensor-parallel ranks (pipeline stages run one after another and shorten neither).
    ``kv_precision``: the lightest KV cache any framework holds the job in."""
    weights = job.params * weight_bytes_per_param(job)
    m = served_model(job, weights, kv_precision)
    s, o = job.prompt_tokens, job.output_tokens
    context = s + o / 2
    prompt = 2 * m.active_params * s / flops + max(
        2 * m.layers * s**2 * m.attention_width / flops, m.kv_bytes_per_token * s / bytes_s
    )
    token = 2 * m.active_params / flops + max(
        4 * m.layers * context * m.decode_width / flops,
        m.kv_bytes_per_token * context / bytes_s,
    )
    tp = max(1, min(domain, limit, 64))
    wait = (
        2 * m.active_params * s / flops
        + o * (m.weight_bytes * m.touched(1.0) + m.kv_bytes_per_token * context) / bytes_s
    )
    return Floor(
        chips=max(1, math.ceil(weights / chip_bytes)),
        requests_per_chip_s=1.0 / (prompt + o * token),
        latency_s=wait / tp,
    )
