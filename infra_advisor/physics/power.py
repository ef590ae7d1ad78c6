"""Power, energy and cost (F22, F17)."""

from __future__ import annotations


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


def compute_cost(price_usd_per_chip_hour: float, chips: int, seconds: float) -> float:
    """Cost = $/chip-hour × chips × hours (F17)."""
    return price_usd_per_chip_hour * chips * seconds / 3600.0
