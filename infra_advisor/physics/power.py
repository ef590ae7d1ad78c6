"""Power, energy and cost (F22, F17)."""

from __future__ import annotations

HOURS_PER_YEAR = 8766.0  # 365.25 days × 24 h


def chip_power(tdp_w: float, idle_w: float, utilisation: float) -> float:
    """Power of one chip at a utilisation in [0, 1]: idle + (TDP − idle)·u.

    A linear interpolation between idle and board power, as used by
    mlco2/impact (TDP × utilisation) with an idle floor.
    """
    u = min(max(utilisation, 0.0), 1.0)
    return idle_w + (tdp_w - idle_w) * u


def energy_kwh(power_w: float, seconds: float) -> float:
    return power_w * seconds / 3.6e6


def battery_hours(battery_j: float, power_w: float) -> float:
    return battery_j / power_w / 3600.0


def rental_cost(price_usd_per_unit_hour: float, units: int, seconds: float) -> float:
    """Cost = $/unit-hour × units × hours (F17): a unit is what is rented whole (an instance,
    a slice's chips), so chips a stack leaves idle in it are paid for too."""
    return price_usd_per_unit_hour * units * seconds / 3600.0


def ownership_hourly(
    purchase_usd: float, service_years: float, operations_per_year: float
) -> float:
    """An owned system's cost per hour before power: its price spread over its service life
    (straight-line, F17b) plus operations (support, staff, space) as a share of the price per
    year (F17c)."""
    return (
        amortised_hourly(purchase_usd, service_years)
        + purchase_usd * operations_per_year / HOURS_PER_YEAR
    )


def facility_energy_cost(energy_kwh: float, pue: float, usd_per_kwh: float) -> float:
    """Electricity an owned system is billed for: IT energy × PUE × price (F17c)."""
    return energy_kwh * pue * usd_per_kwh


def amortised_hourly(purchase_usd: float, service_years: float) -> float:
    """A bought device's cost per hour: its price spread evenly over its service life
    (straight-line depreciation, F17b)."""
    return purchase_usd / (service_years * HOURS_PER_YEAR)


def mode_shares(
    gpu_mhz: float,
    emc_mhz: float,
    ref_gpu_mhz: float,
    ref_emc_mhz: float,
    tpcs: int | None = None,
    ref_tpcs: int | None = None,
) -> tuple[float, float]:
    """Shares of peak compute and memory bandwidth a capped power mode keeps (F22c).

    Peak throughput is clock × units (NVIDIA quotes Jetson TOPS at the MAXN GPU clock with every
    TPC on), and DRAM bandwidth is the memory (EMC) clock × bus width, so a mode keeps
    f_gpu/f_gpu,max × TPCs/TPCs_max of the compute and f_emc/f_emc,max of the bandwidth.
    """
    units = tpcs / ref_tpcs if tpcs and ref_tpcs else 1.0
    compute = min(1.0, gpu_mhz / ref_gpu_mhz * units)
    return compute, min(1.0, emc_mhz / ref_emc_mhz)
