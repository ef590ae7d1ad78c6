"""Pydantic models for catalog entries.

Field names carry their unit.  Conventions (see catalog/README.md):

* ``*_gb`` is decimal gigabytes (10^9 bytes), ``*_gb_s`` decimal GB per second.
* Peak FLOPs are **dense** (no 2:4 structured sparsity) unless the field name
  says ``sparse``.  Integer precisions (int8, int4) are TOPS, stored in the same
  tables for uniformity.
* Link bandwidths are **per chip, per direction** unless a field says otherwise.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Precision = Literal["fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"]
PRECISIONS: tuple[str, ...] = ("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "fp4", "int8", "int4")

ChipType = Literal["gpu", "tpu", "cpu", "dpu", "fpga", "ipu", "npu"]
Segment = Literal["datacenter", "edge", "workstation"]
Status = Literal["available", "legacy", "discontinued", "announced"]
Scope = Literal["scale_up", "scale_out"]
StorageType = Literal["local_nvme", "block", "nfs", "parallel_fs", "object", "cache"]
Support = Literal["native", "bridge", "experimental"]
Parallelism = Literal["data", "tensor", "pipeline", "expert", "fsdp", "zero", "sequence"]
Task = Literal["train", "finetune", "inference"]
ModelType = Literal["transformer", "gnn", "recsys", "vision", "generic"]


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"a source must be a URL (http:// or https://), got {value!r}")
    return value


Url = Annotated[str, AfterValidator(_url)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)]
Sources = Annotated[list[Url], Field(min_length=1)]


class Entry(BaseModel):
    """Fields every catalog entry has."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: Slug
    name: Annotated[str, Field(min_length=1)]
    status: Status = "available"
    as_of: _dt.date
    sources: Sources
    notes: str = ""


class PeakTflops(BaseModel):
    """Peak throughput per precision, in TFLOPS (TOPS for integer types)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

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


class Chip(Entry):
    vendor: Slug
    type: ChipType
    segment: Segment
    released: Annotated[int, Field(ge=1990, le=2100)]
    memory_gb: PositiveFloat
    memory_bandwidth_gb_s: PositiveFloat
    sram_mb: PositiveFloat | None = None
    peak_tflops: PeakTflops
    sparse_peak_tflops: PeakTflops | None = None
    tdp_w: PositiveFloat
    idle_w: NonNegativeFloat | None = None
    scale_up_interconnect: Slug | None = None
    scale_up_bandwidth_gb_s: PositiveFloat | None = None
    scale_up_domain_size: PositiveInt = 1
    host_interconnect: Slug | None = None
    host_bandwidth_gb_s: PositiveFloat | None = None
    price_usd_per_hour: PositiveFloat | None = None
    price_source: Url | None = None
    price_note: str = ""
    clouds: list[Slug] = []
    features: list[Slug] = []
    runs_frameworks: list[Slug] = []  # when set, only these framework ids run on the chip


class Interconnect(Entry):
    scope: Scope
    bandwidth_gb_s: PositiveFloat
    latency_us: PositiveFloat
    rdma: bool
    serves_vendors: list[Slug] = []
    serves_types: list[ChipType] = []
    max_domain_size: PositiveInt | None = None
    multi_node: bool = False
    price_usd_per_chip_hour: NonNegativeFloat | None = None


class Storage(Entry):
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
    per_node: bool = False
    gpudirect_storage: bool = False
    tiering: str = ""
    price_usd_per_gb_month: NonNegativeFloat | None = None
    segments: list[Segment] = ["datacenter"]

    @model_validator(mode="after")
    def _read_bandwidth_given(self) -> Storage:
        if self.read_gb_s is None and self.read_gb_s_per_tib is None:
            raise ValueError("read_gb_s: give read_gb_s or read_gb_s_per_tib")
        return self


class RunsOn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    type: ChipType
    vendor: Slug | None = None
    support: Support


class Framework(Entry):
    runs_on: Annotated[list[RunsOn], Field(min_length=1)]
    tasks: Annotated[list[Task], Field(min_length=1)]
    model_types: Annotated[list[ModelType], Field(min_length=1)]
    parallelism: list[Parallelism] = []
    precisions: list[Precision] = []
    structured_sparsity: bool = False
    edge_features: bool | None = None


class Efficiency(Entry):
    """An achievable-efficiency factor (or overhead) with the measurement it comes from.

    ``value`` is the central estimate; ``low`` and ``high`` bound the spread seen
    in the sources and give each estimate its optimistic–pessimistic range.
    """

    value: Annotated[float, Field(allow_inf_nan=False)]
    low: Annotated[float, Field(allow_inf_nan=False)]
    high: Annotated[float, Field(allow_inf_nan=False)]
    unit: str = "fraction"

    @model_validator(mode="after")
    def _value_within_range(self) -> Efficiency:
        if not self.low <= self.value <= self.high:
            raise ValueError(
                f"value: {self.value} must lie within low {self.low} and high {self.high}"
            )
        return self
