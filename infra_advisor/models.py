"""Catalog entries: frozen dataclasses, validated by pydantic when a file is read.

Field names carry their unit.  Conventions (see catalog/README.md):

* ``*_gb`` is decimal gigabytes (10^9 bytes), ``*_gb_s`` decimal GB per second.
* Peak FLOPs are **dense** (no 2:4 structured sparsity) unless the field name
  says ``sparse``.  Integer precisions (int8, int4) are TOPS, stored in the same
  tables for uniformity.
* Link bandwidths are **per chip, per direction** unless a field says otherwise.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import field
from typing import Annotated, Any, Literal

from infra_advisor.checks import Check, FrozenRecord, record

Precision = Literal["fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"]
PRECISIONS: tuple[str, ...] = ("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "fp4", "int8", "int4")

ChipType = Literal["gpu", "tpu", "cpu", "dpu", "fpga", "ipu", "npu"]
Segment = Literal["datacenter", "edge", "workstation", "consumer"]
Status = Literal["available", "legacy", "discontinued", "announced"]
Scope = Literal["scale_up", "scale_out"]
StorageType = Literal["local_nvme", "block", "nfs", "parallel_fs", "object", "cache"]
Support = Literal["native", "bridge", "experimental"]
Parallelism = Literal[
    "data",
    "tensor",
    "pipeline",
    "interleaved_pipeline",
    "expert",
    "fsdp",
    "zero",
    "sequence",
    "context",
]
Task = Literal["train", "finetune", "inference"]
ModelType = Literal["transformer", "gnn", "recsys", "vision", "generic"]
Batching = Literal["continuous", "static"]
ServingFeature = Literal[
    "paged_kv", "chunked_prefill", "prefix_caching", "speculative_decoding", "disaggregated_serving"
]
PeftMethod = Literal["lora", "qlora"]
Maturity = Literal["reference", "production", "community"]
Phase = Literal["prefill", "decode", "training", "inference"]

# Strict types: TOML gives real numbers, strings and booleans, and a catalog that writes "80"
# for 80 is refused rather than guessed at.  An int is accepted where a float is asked.
Number = Annotated[float, Check(strict=True, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Check(strict=True, gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Check(strict=True, ge=0, allow_inf_nan=False)]
PositiveInt = Annotated[int, Check(strict=True, gt=0)]
Year = Annotated[int, Check(strict=True, ge=1990, le=2100)]
Text = Annotated[str, Check(strict=True)]
Name = Annotated[str, Check(strict=True, min_length=1)]
Flag = Annotated[bool, Check(strict=True)]
Date = Annotated[_dt.date, Check(strict=True)]
Slug = Annotated[str, Check(strict=True, pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)]
Url = Annotated[str, Check(strict=True, pattern=r"^https?://")]
Sources = Annotated[list[Url], Check(min_length=1)]

# Unknown keys are errors (a typo must not silently drop a number).
_FORBID: dict[str, Any] = {"extra": "forbid"}


@record(frozen=True)
class Entry(FrozenRecord):
    """Fields every catalog entry has."""

    __pydantic_config__ = _FORBID

    id: Slug
    name: Name
    status: Status = "available"
    as_of: Date
    sources: Sources
    notes: Text = ""


@record(frozen=True)
class PeakTflops(FrozenRecord):
    """Peak throughput per precision, in TFLOPS (TOPS for integer types)."""

    __pydantic_config__ = _FORBID

    fp64: PositiveFloat | None = None
    fp32: PositiveFloat | None = None
    tf32: PositiveFloat | None = None
    bf16: PositiveFloat | None = None
    fp16: PositiveFloat | None = None
    fp8: PositiveFloat | None = None
    fp4: PositiveFloat | None = None
    int8: PositiveFloat | None = None
    int4: PositiveFloat | None = None

    def get(self, precision: str) -> float | None:
        value: float | None = getattr(self, precision, None)
        return value

    def supported(self) -> list[str]:
        return [p for p in PRECISIONS if self.get(p) is not None]


@record(frozen=True)
class PowerMode(FrozenRecord):
    """A power mode the part can run in (Jetson nvpmodel modes): its power budget and the clocks
    it allows.  The mode with the highest budget is the reference the chip's peaks are quoted at;
    another mode keeps ``gpu_max_mhz × gpu_tpcs`` of its compute and ``emc_max_mhz`` of its
    memory bandwidth, in proportion."""

    __pydantic_config__ = _FORBID

    name: Name
    power_w: PositiveFloat
    gpu_max_mhz: PositiveFloat
    gpu_tpcs: PositiveInt | None = None
    emc_max_mhz: PositiveFloat
    cpu_cores: PositiveInt | None = None


@record(frozen=True)
class Chip(Entry):
    """A processor: memory, peak throughput per precision, links and power (where it is rented
    or bought, and for how much, is its offerings')."""

    vendor: Slug
    type: ChipType
    segment: Segment
    released: Year
    memory_gb: PositiveFloat
    # What CUDA / the runtime reports as total device memory (frameworks allocate from this), in
    # decimal GB, where the vendor documents it; at most memory_gb (checked when a file is read).
    memory_usable_gb: PositiveFloat | None = None
    memory_bandwidth_gb_s: PositiveFloat
    sram_mb: PositiveFloat | None = None
    peak_tflops: PeakTflops
    sparse_peak_tflops: PeakTflops | None = None
    # The highest dense matmul rate measured at the clocks the part holds under sustained load,
    # per precision (AMD's max-achievable FLOPs, Bekman's MAMF), in TFLOPS.  A part that throttles
    # under dense GEMMs keeps less of its peak.  Absent: it keeps as much as the chips the compute
    # efficiencies were calibrated on (efficiency.toml matmul-sustained-*).
    matmul_sustained_tflops: PeakTflops | None = None
    # The part of peak_tflops on deep-learning accelerators beside the GPU (a Jetson's DLAs), per
    # precision, dense TFLOPS.  They run batched streams in parallel to the GPU; a request served
    # alone (batch 1) runs on the GPU, without them.
    dla_peak_tflops: PeakTflops | None = None
    tdp_w: PositiveFloat
    idle_w: NonNegativeFloat | None = None
    power_modes: list[PowerMode] = field(default_factory=list)
    scale_up_interconnect: Slug | None = None
    scale_up_bandwidth_gb_s: PositiveFloat | None = None
    scale_up_domain_size: PositiveInt = 1
    # Width of a matmul dimension the chip's matrix units fill as a tensor-parallel shard: its
    # systolic arrays' side times the ranks it holds (Trainium2: 4 logical NeuronCores × 128).
    # Absent: never short of work (GPUs' tensor-core tiles are far narrower than any shard).
    matmul_tile: PositiveInt | None = None
    host_interconnect: Slug | None = None
    host_bandwidth_gb_s: PositiveFloat | None = None
    features: list[Slug] = field(default_factory=list)
    runs_frameworks: list[Slug] = field(default_factory=list)  # when set, only these run on it


@record(frozen=True)
class Interconnect(Entry):
    """A scale-up or scale-out link: bandwidth per chip per direction, latency, RDMA."""

    scope: Scope
    bandwidth_gb_s: PositiveFloat
    latency_us: PositiveFloat
    rdma: Flag
    serves_vendors: list[Slug] = field(default_factory=list)
    serves_types: list[ChipType] = field(default_factory=list)
    max_domain_size: PositiveInt | None = None
    multi_node: Flag = False
    price_usd_per_chip_hour: NonNegativeFloat | None = None
    # Share of the bandwidth ring collectives (all-reduce, all-gather, reduce-scatter) achieve
    # on this link, where a measurement is published; absent: the catalog's network efficiency.
    collective_efficiency: Annotated[float, Check(strict=True, gt=0, le=1)] | None = None
    # Where the fabric can be had: clouds, GPU clouds, "onprem".  Empty: anywhere (a link inside
    # the chip or its board, such as NVLink or PCIe).
    providers: list[Slug] = field(default_factory=list)


@record(frozen=True)
class Storage(Entry):
    """A storage system: throughput (absolute or per TiB), IOPS, metadata rate, latency."""

    type: StorageType
    read_gb_s: PositiveFloat | None = None
    write_gb_s: PositiveFloat | None = None
    read_gb_s_per_tib: PositiveFloat | None = None
    write_gb_s_per_tib: PositiveFloat | None = None
    read_max_gb_s: PositiveFloat | None = None
    write_max_gb_s: PositiveFloat | None = None
    read_iops: PositiveFloat | None = None
    metadata_ops_per_s: PositiveFloat | None = None
    latency_ms: PositiveFloat | None = None
    capacity_max_tb: PositiveFloat | None = None
    per_node: Flag = False
    gpudirect_storage: Flag = False
    tiering: Text = ""
    price_usd_per_gb_month: NonNegativeFloat | None = None
    segments: list[Segment] = field(default_factory=lambda: ["datacenter"])
    # Who offers it: a cloud's own service, or "onprem" for a system one buys.  Empty: anywhere
    # (local NVMe in the node, storage on the device).
    providers: list[Slug] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.read_gb_s is None and self.read_gb_s_per_tib is None:
            raise ValueError("read_gb_s: give read_gb_s or read_gb_s_per_tib")


PriceKind = Literal["on_demand", "spot", "commit_1y", "commit_3y"]
PRICE_KINDS: tuple[str, ...] = ("on_demand", "spot", "commit_1y", "commit_3y")


@record(frozen=True)
class OfferingPrice(FrozenRecord):
    """One public price of an offering: per unit (the whole instance) or per chip, per hour."""

    __pydantic_config__ = _FORBID

    kind: PriceKind = "on_demand"
    usd_per_unit_hour: PositiveFloat | None = None
    usd_per_chip_hour: PositiveFloat | None = None
    region: Text = ""
    as_of: Date
    source: Url

    def __post_init__(self) -> None:
        if (self.usd_per_unit_hour is None) == (self.usd_per_chip_hour is None):
            raise ValueError(
                "usd_per_unit_hour: give exactly one of usd_per_unit_hour (the whole unit) and "
                "usd_per_chip_hour (one chip)"
            )

    def unit_hour(self, chips_per_unit: int) -> float:
        """USD for one unit for one hour, whichever basis the price was published on."""
        if self.usd_per_unit_hour is not None:
            return self.usd_per_unit_hour
        assert self.usd_per_chip_hour is not None
        return self.usd_per_chip_hour * chips_per_unit


@record(frozen=True)
class Offering(Entry):
    """What one rents or buys: a cloud instance type, a TPU slice family, a GPU cloud's node or an
    on-prem system (a server, a rack, a workstation, a developer kit), with its prices."""

    provider: Slug
    chip: Slug
    chips_per_unit: PositiveInt
    # Slices (TPU): the chip counts of the shapes offered, smallest first.  Absent: whole units.
    unit_chips: list[PositiveInt] = field(default_factory=list)
    # Chips sharing one scale-up domain, where it is not min(the chip's domain, chips per unit):
    # a 4-GPU GB200 VM in a 72-GPU NVLink domain.
    scale_up_domain: PositiveInt | None = None
    scale_out: Slug | None = None  # the network between units
    nics_per_unit: PositiveInt | None = None
    nic_gbps: PositiveFloat | None = None  # per NIC, per direction
    host_vcpus: PositiveInt | None = None
    host_memory_gb: PositiveFloat | None = None
    local_nvme_tb: PositiveFloat | None = None
    storage: list[Slug] = field(
        default_factory=list
    )  # storage ids it mounts (empty: its provider's)
    price: list[OfferingPrice] = field(default_factory=list)
    # On-prem: bought, not rented.
    purchase_usd: PositiveFloat | None = None
    purchase_source: Url | None = None
    purchase_as_of: Date | None = None
    power_per_unit_w: PositiveFloat | None = None
    # The most units one stack can take (a card sold for a PC one has: the cards one desktop
    # holds).  Absent: as many as the workload needs.
    max_units: PositiveInt | None = None

    def __post_init__(self) -> None:
        if self.unit_chips and self.unit_chips != sorted(set(self.unit_chips)):
            raise ValueError("unit_chips: give the slice sizes once each, smallest first")
        if self.unit_chips and self.unit_chips[0] != self.chips_per_unit:
            raise ValueError(
                f"unit_chips: the smallest slice ({self.unit_chips[0]} chips) must equal "
                f"chips_per_unit ({self.chips_per_unit})"
            )
        if self.provider == "onprem" and self.price:
            raise ValueError("price: an on-prem system is bought (purchase_usd), not rented")
        if self.provider != "onprem" and self.purchase_usd is not None:
            raise ValueError(
                f"purchase_usd: only an on-prem system has one (provider is {self.provider!r})"
            )
        if (self.purchase_usd is None) != (self.purchase_source is None):
            raise ValueError("purchase_source: give purchase_usd and purchase_source together")
        kinds = [p.kind for p in self.price]
        if len(set(kinds)) != len(kinds):
            raise ValueError("price: one price per kind (on_demand, spot, commit_1y, commit_3y)")

    def price_of(self, kind: str) -> OfferingPrice | None:
        return next((p for p in self.price if p.kind == kind), None)


@record(frozen=True)
class RunsOn(FrozenRecord):
    """A kind of chip (and vendor) a framework runs on, and how maturely."""

    __pydantic_config__ = _FORBID

    type: ChipType
    vendor: Slug | None = None
    support: Support
    # Chip features the row needs (all of them), where type and vendor alone match parts it does
    # not run on: Vitis AI 6.x runs on AMD's AI Engine-ML devices, not on every AMD FPGA.
    requires_features: list[Slug] = field(default_factory=list)
    # How proven the framework is on this family (ties between frameworks go to it):
    # "reference" = the vendor's own or recommended stack there, "production" = widely deployed,
    # "community" = works, little published at scale.  Absent: production when native, else community.
    maturity: Maturity | None = None
    # The model types it runs on this family where fewer than its own (absent: all of them):
    # PyTorch reaches TPUs through XLA, which compiles static shapes only, so a sampled GNN's
    # subgraph, a new shape every step, recompiles every step.
    model_types: list[ModelType] | None = None
    # Overrides of the framework-wide precisions on this family (absent = the framework's lists).
    weight_precisions: list[Precision] | None = None
    activation_precisions: list[Precision] | None = None
    kv_precisions: list[Precision] | None = None


@record(frozen=True)
class PhaseEfficiency(FrozenRecord):
    """A framework's achieved efficiency in one phase on a chip family, relative to the catalog's
    central efficiency for that phase (1.0 = as efficient), with the measurement it comes from."""

    __pydantic_config__ = _FORBID

    phase: Phase
    type: ChipType | None = None
    vendor: Slug | None = None
    # Only for mixtures of experts, or only for dense models; absent: both.
    models: Literal["moe", "dense"] | None = None
    factor: PositiveFloat
    source: Url
    measurement: Name


@record(frozen=True)
class Framework(Entry):
    """A training, serving, graph or edge runtime: where it runs and what it supports."""

    runs_on: Annotated[list[RunsOn], Check(min_length=1)]
    tasks: Annotated[list[Task], Check(min_length=1)]
    model_types: Annotated[list[ModelType], Check(min_length=1)]
    parallelism: list[Parallelism] = field(default_factory=list)
    precisions: list[Precision] = field(default_factory=list)
    structured_sparsity: Flag = False
    # Runs the model as a compiled engine (fused kernels launched as one graph), so a layer
    # costs a kernel's launch, not an eager framework's per-operator dispatch.
    compiled: Flag = False
    # Dispatches each operator from Python in eager mode (PyTorch and the graph libraries on it),
    # so a layer costs Python's per-operator dispatch (launch-overhead-python), not a C++
    # runtime's (launch-overhead) or a compiled engine's launch.
    eager_python: Flag = False
    # Dropless MoE training: the token dispatch brings each local expert's token count to the
    # host (a device-to-host sync each MoE layer), then launches every local expert's kernels
    # from there, so that launch time is exposed (moe-expert-launch per local expert).
    moe_expert_launches: Flag = False
    # MoE token dispatch that sends a token once to each rank holding one of its experts, and
    # across scale-up domains once to each domain, forwarding inside it over the fast link
    # (DeepEP / HybridEP, Megatron-Core's flex dispatcher); absent: one copy per routed expert.
    dedup_dispatch: Flag = False
    # The precision gradients are reduced in across data-parallel ranks (Megatron Bridge's
    # grad_reduce_in_fp32, TorchTitan's mixed_precision_reduce).  Absent: 16-bit, as computed.
    gradient_reduce_precision: Literal["fp32", "bf16", "fp16"] | None = None
    edge_features: Flag | None = None
    # Samples neighbours on the accelerator (DGL's CUDA sampling and GraphBolt: the graph in
    # device memory, or pinned in host memory and read over the host link), in the training
    # process; otherwise sampling runs on host CPU cores.
    device_sampling: Flag = False
    # Serving on graphs compiled for fixed shapes (one context-encoding length, one decode batch):
    # every prompt runs padded to the compiled sequence length (--seq-len) and every decode step
    # attends over all of it for each batch slot.
    static_shapes: Flag = False
    # Dropless MoE serving by NxD's blockwise expert matmul: each expert's prompt tokens padded to
    # whole blocks of this many tokens (neuronx_distributed DEFAULT_BLOCK_SIZE).  Absent: each
    # routed token costs its own expert FLOPs.
    moe_block_tokens: PositiveInt | None = None
    # Pads the attention heads to a multiple of the tensor-parallel degree (NxD's
    # get_number_of_extra_heads), so tensor parallelism need not divide the heads.
    pads_heads: Flag = False
    # What it really runs (empty = derived from `precisions`: weights = precisions; activations =
    # the floating-point ones; KV cache = 16-bit).  A family row in `runs_on` may narrow them.
    weight_precisions: list[Precision] = field(default_factory=list)
    activation_precisions: list[Precision] = field(default_factory=list)
    kv_precisions: list[Precision] = field(default_factory=list)
    # Serving: how requests share a batch (continuous = iteration-level scheduling, Orca/vLLM;
    # static = a batch runs to completion), and the KV-cache and scheduling features it has.
    batching: Batching | None = None
    # How much device memory a serving engine takes for weights and KV cache: a share of the
    # total (vLLM's gpu_memory_utilization) or of what is free once the weights are loaded
    # (TensorRT-LLM's free_gpu_memory_fraction).  Absent: the catalog's memory-usable share.
    memory_fraction: Annotated[float, Check(strict=True, gt=0, le=1)] | None = None
    memory_fraction_of: Literal["total", "free"] | None = None
    # Fixed device memory the runtime itself holds beside weights and KV cache (its CUDA context
    # and buffers), in decimal GB.  Absent: the catalog's runtime-overhead (which includes NCCL
    # buffers a single-process runtime does not have).
    memory_overhead_gb: Annotated[float, Check(strict=True, ge=0)] | None = None
    serving_features: list[ServingFeature] = field(default_factory=list)
    peft: list[PeftMethod] = field(default_factory=list)
    # How mature each PEFT method is in it, where that differs from its maturity on the chip
    # (the QLoRA paper's own stack is PyTorch + PEFT + bitsandbytes; a method only a release
    # note announces is community-level).  Keys must be among `peft`.
    peft_maturity: dict[PeftMethod, Maturity] = field(default_factory=dict)
    efficiency: list[PhaseEfficiency] = field(default_factory=list)


@record(frozen=True)
class Efficiency(Entry):
    """An achievable-efficiency factor (or overhead) with the measurement it comes from.

    ``value`` is the central estimate; ``low`` and ``high`` bound the spread seen
    in the sources and give each estimate its optimistic–pessimistic range.
    """

    value: Number
    low: Number
    high: Number
    unit: Text = "fraction"

    def __post_init__(self) -> None:
        if not self.low <= self.value <= self.high:
            raise ValueError(
                f"value: {self.value} must lie within low {self.low} and high {self.high}"
            )


# --------------------------------------------------------------------------- models

ModelKind = Literal["transformer", "gnn", "recsys", "vision", "diffusion", "generic"]
NormKind = Literal["rms", "layer"]
Count = Annotated[float, Check(strict=True, gt=0, allow_inf_nan=False)]  # a large count (params)


@record(frozen=True)
class MoeArchitecture(FrozenRecord):
    """Mixture of experts: routed experts per MoE layer, how many a token uses, shared experts."""

    __pydantic_config__ = _FORBID

    experts: PositiveInt
    experts_per_token: PositiveInt
    expert_ffn_hidden: PositiveInt  # the intermediate width of one routed expert
    shared_experts: Annotated[int, Check(strict=True, ge=0)] = 0
    shared_expert_ffn_hidden: PositiveInt | None = None  # absent: expert_ffn_hidden
    # Layers whose FFN is dense (ffn_hidden wide) rather than MoE: DeepSeek-V3's first three,
    # Llama 4 Maverick's every other layer.
    dense_layers: Annotated[int, Check(strict=True, ge=0)] = 0


@record(frozen=True)
class LatentAttention(FrozenRecord):
    """Multi-head latent attention (DeepSeek-V2/V3): queries and keys/values through low-rank
    projections; the KV cache holds the compressed latent plus the decoupled RoPE key."""

    __pydantic_config__ = _FORBID

    kv_lora_rank: PositiveInt
    qk_rope_head_dim: PositiveInt
    qk_nope_head_dim: PositiveInt
    v_head_dim: PositiveInt
    q_lora_rank: PositiveInt | None = None  # absent: queries are projected at full rank


@record(frozen=True)
class Model(Entry):
    """A named model: its architecture from the published config, and its published sizes.

    Transformers carry the shape the parameter count is computed from (``model_params``;
    ``catalog validate`` rejects a count more than 2% from the published one).  Other kinds carry
    what their cost models take: FLOPs and bytes per sample (vision), per denoising step and the
    steps a run uses (diffusion), embedding tables (recommenders), layers and hidden width (GNN
    templates, whose graph the graph flags describe).
    """

    family: Slug
    kind: ModelKind
    aliases: list[Name] = field(default_factory=list)
    # Published sizes (counts).  active_params: per token, mixture of experts only.
    params: Count | None = None
    active_params: Count | None = None
    # Whether the published active count includes the input embedding table (most vendors count
    # it; OpenAI's gpt-oss card counts the unembedding only).
    active_params_count_embedding: Flag = True
    # Transformer architecture (Hugging Face config names in the comments).
    layers: PositiveInt | None = None  # num_hidden_layers (encoder layers for encoder-decoders)
    decoder_layers: PositiveInt | None = None  # encoder-decoder: decoder layers (cross-attention)
    hidden: PositiveInt | None = None  # hidden_size
    ffn_hidden: PositiveInt | None = None  # intermediate_size (dense FFN width)
    gated_ffn: Flag = True  # SwiGLU/GeGLU: 3 matrices; plain (GELU/ReLU) FFN: 2
    heads: PositiveInt | None = None  # num_attention_heads
    kv_heads: PositiveInt | None = None  # num_key_value_heads (absent: = heads)
    head_dim: PositiveInt | None = None  # absent: hidden / heads
    vocab: PositiveInt | None = None  # vocab_size
    max_context: PositiveInt | None = None  # tokens (max_position_embeddings or the model card)
    tied_embeddings: Flag = False  # tie_word_embeddings: the LM head reuses the embedding
    learned_positions: Flag = False  # absolute position table of max_context rows (BERT)
    attention_bias: Flag = False  # biases on the q, k, v and output projections
    mlp_bias: Flag = False
    norm: NormKind = "rms"
    moe: MoeArchitecture | None = None
    mla: LatentAttention | None = None
    # Sliding-window (local) attention: how many layers attend only to the last window tokens.
    sliding_window: PositiveInt | None = None  # tokens
    sliding_layers: Annotated[int, Check(strict=True, ge=0)] | None = None
    # Precisions: what the published weights are in, and the quantised forms published with them.
    native_precision: Precision | None = None
    quantizations: list[Precision] = field(default_factory=list)
    licence: Text = ""
    # Vision, diffusion and dense models: forward FLOPs per sample (per denoising step for
    # diffusion), the input bytes per sample, the resolution they are quoted at.
    flops_per_sample: Count | None = None
    flops_per_step: Count | None = None
    steps: PositiveInt | None = None  # denoising steps a run uses (the pipeline default)
    bytes_per_sample: Count | None = None
    resolution_px: PositiveInt | None = None
    # Recommenders (DLRM): sparse features (tables), rows in all, embedding width, lookups.
    embedding_tables: PositiveInt | None = None
    embedding_rows: Count | None = None
    embedding_dim: PositiveInt | None = None
    lookups_per_sample: Count | None = None
    # Graph neural network templates (layers, hidden and heads above; the graph comes from the
    # graph flags): whether message passing takes edge features, the sampling and its fanouts.
    uses_edge_features: Flag | None = None
    sampling: Literal["full", "neighbor"] | None = None
    fanout: list[PositiveInt] = field(default_factory=list)
