"""Parse quantities with units at the edge ("70B", "2TB", "15W", "30d"); SI inside.

Every parser takes the text a user typed and returns a float in SI units
(bytes, watts, joules, seconds, US dollars, plain counts), or raises
``UnitError`` naming what it could not read and what it expected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from infra_advisor.errors import UnitError

_NUMBER = r"[+-]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>[A-Za-z/$%]*)\s*$")

_COUNT = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_BYTES = {
    "": 1.0,
    "B": 1.0,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "PB": 1e15,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "KIB": 2.0**10,
    "MIB": 2.0**20,
    "GIB": 2.0**30,
    "TIB": 2.0**40,
    "PIB": 2.0**50,
}
_TIME = {
    "": 1.0,
    "s": 1.0,
    "sec": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "wk": 604800.0,
    "y": 31536000.0,
}
_MONEY = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9}
_RATE = {"": 1.0, "/s": 1.0, "/min": 1 / 60.0, "/h": 1 / 3600.0}


def _split(text: str, what: str, example: str) -> tuple[float, str]:
    if isinstance(text, bool):
        raise UnitError(f"{what}: expected a quantity such as {example}, got {text!r}")
    if isinstance(text, (int, float)):
        value, unit = float(text), ""
    else:
        match = _QUANTITY.match(str(text))
        if match is None:
            raise UnitError(f"{what}: cannot read {text!r} as a quantity (e.g. {example})")
        try:
            value, unit = float(match["num"].replace("_", "")), match["unit"]
        except ValueError:  # the pattern should make this unreachable; never let it escape
            raise UnitError(
                f"{what}: cannot read {text!r} as a quantity (e.g. {example})"
            ) from None
    if math.isnan(value) or math.isinf(value):
        raise UnitError(f"{what}: {text!r} is not a finite number")
    if value < 0:
        raise UnitError(f"{what}: {text!r} is negative; it must be zero or more")
    return value, unit


def _scale(text: str, what: str, example: str, table: dict[str, float], *, fold: bool) -> float:
    value, unit = _split(text, what, example)
    key = unit.upper() if fold else unit
    if key not in table:
        known = ", ".join(sorted(k for k in table if k)) or "none"
        raise UnitError(
            f"{what}: unknown unit {unit!r} in {text!r} (known: {known}; e.g. {example})"
        )
    result = value * table[key]
    if math.isinf(result):
        raise UnitError(f"{what}: {text!r} is too large")
    return result


def parse_count(text: str, what: str = "value") -> float:
    """A plain count with an SI suffix: ``70B`` -> 7e10, ``1.5T``, ``13M``, ``4.1G``."""
    return _scale(text, what, "70B", _COUNT, fold=False)


def parse_bytes(text: str, what: str = "value") -> float:
    """Bytes, decimal (KB, MB, GB, TB, PB) or binary (KiB … PiB): ``2TB``, ``512GiB``."""
    return _scale(text, what, "2TB", _BYTES, fold=True)


def parse_power(text: str, what: str = "value") -> float:
    """Watts: ``15W``, ``1.5kW``, ``500mW``."""
    value, unit = _split(text, what, "15W")
    table = {"": 1.0, "W": 1.0, "mW": 1e-3, "kW": 1e3, "KW": 1e3, "MW": 1e6}
    if unit not in table:
        raise UnitError(
            f"{what}: unknown power unit {unit!r} in {text!r} (use W, mW or kW; e.g. 15W)"
        )
    return value * table[unit]


def parse_energy(text: str, what: str = "value") -> float:
    """Energy in joules from ``50Wh``, ``1kWh``, ``500mWh``; a bare number is watt-hours."""
    value, unit = _split(text, what, "50Wh")
    table = {"": 3600.0, "Wh": 3600.0, "mWh": 3.6, "kWh": 3.6e6, "J": 1.0, "kJ": 1e3}
    if unit not in table:
        raise UnitError(
            f"{what}: unknown energy unit {unit!r} in {text!r} (use Wh, kWh or J; e.g. 50Wh)"
        )
    return value * table[unit]


def parse_duration(text: str, what: str = "value") -> float:
    """Seconds from ``30d``, ``12h``, ``200ms``, ``90s``, ``2w``; a bare number is seconds."""
    return _scale(text, what, "30d", _TIME, fold=False)


def parse_money(text: str, what: str = "value") -> float:
    """US dollars from ``$20k``, ``20000``, ``$1.5M``, ``20k USD``."""
    if isinstance(text, str):
        text = text.strip().removeprefix("$").removesuffix("USD").removesuffix("usd").strip()
    return _scale(text, what, "$20k", _MONEY, fold=False)


def parse_rate(text: str, what: str = "value") -> float:
    """Events per second from ``10``, ``10/s``, ``600/min``."""
    if isinstance(text, str):
        text = text.replace(" ", "")
    return _scale(text, what, "10/s", _RATE, fold=False)


PARSERS: dict[str, Callable[[str, str], float]] = {
    "count": parse_count,
    "bytes": parse_bytes,
    "power": parse_power,
    "energy": parse_energy,
    "duration": parse_duration,
    "money": parse_money,
    "rate": parse_rate,
}


def format_bytes(value: float) -> str:
    for unit, size in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"


def format_count(value: float) -> str:
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.3g}"


def format_duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} d"


def format_money(usd: float) -> str:
    if usd >= 1e6:
        return f"${usd / 1e6:.3g}M"
    if usd >= 1e3:
        return f"${usd / 1e3:.3g}k"
    return f"${usd:.3g}"


def _prefix(value: float, steps: tuple[tuple[str, float], ...], base: str = "") -> tuple[str, str]:
    """``value`` to three significant figures under the largest prefix it reaches, and the prefix.

    A value that rounds up to a prefix takes it: 999.7 kWh is "1 MWh", not "1e+03 kWh".
    """
    for prefix, size in steps:
        if abs(value) >= size * 0.9995:
            return f"{value / size:.3g}", prefix
    return f"{value:.3g}", base


def format_energy(kwh: float) -> str:
    """Energy from kWh: kWh below a thousand, then MWh and GWh ("2.3 MWh")."""
    number, prefix = _prefix(kwh, (("G", 1e6), ("M", 1e3)), base="k")
    return f"{number} {prefix}Wh"


def format_power(watts: float) -> str:
    """Power from watts: W below a thousand, then kW and MW ("3.4 kW")."""
    number, prefix = _prefix(watts, (("M", 1e6), ("k", 1e3)))
    return f"{number} {prefix}W"


def format_rate(per_s: float, unit: str = "") -> str:
    """A rate, k/M/B above a thousand, then its unit: "83.3 tokens/s", "1.2k tokens/s"."""
    number, prefix = _prefix(per_s, (("B", 1e9), ("M", 1e6), ("k", 1e3)))
    return f"{number}{prefix} {unit}" if unit else f"{number}{prefix}"
