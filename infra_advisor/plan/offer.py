"""Offerings: the units a stack's chips are rented or bought in.

One place decides what a unit means for a stack: the scale-up domain its chips share, the chip
counts it comes in (whole instances, or a TPU family's slice shapes), how many units a chip
count rents, the price of one unit-hour, the storage it can mount and how a stack names it.
"""

from __future__ import annotations

import dataclasses
import math

from infra_advisor.catalog import Catalog
from infra_advisor.models import Chip, Interconnect, Offering, OfferingPrice, Storage
from infra_advisor.physics.power import HOURS_PER_YEAR
from infra_advisor.plan.memo import ByIdentity


def domain(chip: Chip, off: Offering) -> int:
    """Chips sharing one scale-up domain in this offering: its own figure (a 4-GPU VM in a
    72-GPU NVLink domain), else the slice's largest shape or the unit, within the chip's own."""
    if off.scale_up_domain is not None:
        return off.scale_up_domain
    widest = off.unit_chips[-1] if off.unit_chips else off.chips_per_unit
    return max(1, min(chip.scale_up_domain_size, widest))


_UNIT_CHIPS: ByIdentity[Chip] = ByIdentity()


def unit_chip(chip: Chip, off: Offering) -> Chip:
    """The chip as this offering runs it: its scale-up domain is the offering's (memoised by
    identity: entries are frozen)."""
    return _UNIT_CHIPS.get((chip, off), lambda: _unit_chip(chip, off))


def _unit_chip(chip: Chip, off: Offering) -> Chip:
    size = domain(chip, off)
    if size == chip.scale_up_domain_size:
        return chip
    return dataclasses.replace(chip, scale_up_domain_size=size)


def fabric(off: Offering, link: Interconnect) -> Interconnect:
    """The scale-out link as this unit has it: where the offering gives its NICs, each chip's
    share is NICs × Gb/s / 8 / chips (a 100 Gb/s NIC shared by four GPUs is 3.125 GB/s each)."""
    if off.nics_per_unit is None or off.nic_gbps is None or link.id != off.scale_out:
        return link
    share = off.nics_per_unit * off.nic_gbps / 8 / off.chips_per_unit
    if abs(share - link.bandwidth_gb_s) <= 1e-9 * link.bandwidth_gb_s:
        return link
    return dataclasses.replace(link, bandwidth_gb_s=share)


def round_up(off: Offering, count: int) -> int:
    """The fewest chips of whole units (or of one slice shape, or whole largest slices) that
    hold ``count`` chips."""
    if off.unit_chips:
        for size in off.unit_chips:
            if size >= count:
                return size
        widest = off.unit_chips[-1]
        return math.ceil(count / widest) * widest
    return math.ceil(count / off.chips_per_unit) * off.chips_per_unit


def chip_limit(off: Offering) -> int | None:
    """The most chips one stack can take of the offering (max_units whole units), or None."""
    return None if off.max_units is None else off.max_units * off.chips_per_unit


def ladder(off: Offering, limit: int) -> list[int]:
    """Chip counts the sizing solver tries: one unit, then doubling units (every slice shape,
    then doubling multi-slice), up to ``limit`` and the offering's own limit (at least one
    unit)."""
    cap = chip_limit(off)
    limit = limit if cap is None else min(limit, cap)
    counts = list(off.unit_chips) if off.unit_chips else [off.chips_per_unit]
    while counts[-1] * 2 <= limit:
        counts.append(counts[-1] * 2)
    kept = [c for c in counts if c <= limit]
    return kept or counts[:1]


def units(off: Offering, count: int) -> int:
    """Units rented for ``count`` chips (chips past the count in the last unit are paid for)."""
    return round_up(off, count) // off.chips_per_unit


def price(off: Offering, kind: str) -> OfferingPrice | None:
    """The price of the asked kind, else the on-demand one (what spot or a commitment costs at
    most); None when it has neither: a spot-only offering is priced for --pricing spot only, so
    no stack is ranked by a cheaper kind of price than the others."""
    return off.price_of(kind) or off.price_of("on_demand")


def chip_hour_usd(off: Offering, kind: str) -> float:
    """A unit's price per chip-hour for ordering and comparing units: its price of the kind
    asked (else on-demand), or for one bought, its price over a year of hours; infinite when
    it has neither."""
    found = price(off, kind)
    if found is not None:
        return found.unit_hour(off.chips_per_unit) / off.chips_per_unit
    if off.purchase_usd is not None:
        return off.purchase_usd / off.chips_per_unit / HOURS_PER_YEAR
    return math.inf


def storage_allowed(off: Offering | None, provider: str | None, store: Storage) -> bool:
    """Whether a stack on this unit (or of this provider) can use the storage: its provider's
    services (those the offering lists, where it lists them), and local NVMe only where the
    unit has local drives."""
    if off is not None:
        if store.id in off.storage:
            return True
        if store.per_node and store.type == "local_nvme" and "edge" not in store.segments:
            return bool(off.local_nvme_tb)  # the unit's own drives, where it has them
        if off.storage:
            return False
        provider = off.provider
    return not store.providers or provider is None or provider in store.providers


def storage_key(off: Offering | None, provider: str | None) -> tuple[object, ...]:
    """What decides the storage a stack on this unit (or of this provider) can use
    (storage_allowed): units alike in it share one storage choice."""
    if off is None:
        return (None, provider)
    return (off.provider, tuple(off.storage), off.local_nvme_tb)


def mountable(cat: Catalog, off: Offering) -> list[Storage]:
    """The catalog's storage a stack on this unit can use (memoised per storage_key)."""
    key = ("mountable", storage_key(off, None))
    if key not in cat.memo:
        cat.memo[key] = [s for s in cat.storage.values() if storage_allowed(off, off.provider, s)]
    found: list[Storage] = cat.memo[key]
    return found


def capacity_tb(cat: Catalog, off_id: str | None, store: Storage) -> float | None:
    """What the storage holds, in decimal TB (per node for local drives): an offering's own
    local drives where it has them, else the storage entry's limit."""
    off = cat.offerings.get(off_id or "")
    if off is not None and store.per_node and store.type == "local_nvme" and off.local_nvme_tb:
        return off.local_nvme_tb
    return store.capacity_max_tb


def provider_of(cat: Catalog, off_id: str | None, cloud: str | None, deploy: str) -> str | None:
    """The provider a stack's parts must come from: its offering's, else the one asked for."""
    if off_id is not None:
        return cat.offerings[off_id].provider
    if deploy in ("onprem", "edge"):
        return "onprem"
    return cloud


def label(off: Offering, chip: Chip, count: int) -> str:
    """How a stack names its hardware: '4 × p5.48xlarge (32 × H100 SXM)', 'TPU v5p slice of 64
    chips', with the chips used where fewer than the units hold."""
    billed = round_up(off, count)
    used = f", {count} used" if count < billed else ""
    if off.unit_chips:
        slices = "" if billed <= off.unit_chips[-1] else f"{billed // off.unit_chips[-1]} × "
        shape = min(billed, off.unit_chips[-1])
        return f"{slices}{off.name} {shape}-chip slice ({billed} × {chip.id}{used})"
    return f"{units(off, count)} × {off.name} ({billed} × {chip.id}{used})"
