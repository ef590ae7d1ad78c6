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

# Suffixes, per kind of quantity.  Case does not matter where it cannot change the meaning:
# counts and money have no milli, so ``m`` is mega there (``13m`` = 13M, ``$1.5m``); bytes fold
# to upper case (``2tb``, ``512gib``); durations fold to lower case, where ``m`` is minutes and
# ``ms`` milliseconds, and ``M`` (minutes or months?) is refused.  Power and energy keep ``mW``
# (milli) and ``MW`` (mega) apart: ``15w``, ``1.5kw``, ``50wh`` and ``1kwh`` are read, while
# ``500mw`` and ``5mwh`` are refused as ambiguous.
_COUNT = {"": 1.0, "k": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_BYTES = {
    "": 1.0,
    "B": 1.0,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "PB": 1e15,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "KiB": 2.0**10,
    "MiB": 2.0**20,
    "GiB": 2.0**30,
    "TiB": 2.0**40,
    "PiB": 2.0**50,
}
_TIME = {
    "": 1.0,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "wk": 604800.0,
    "y": 31536000.0,
    "yr": 31536000.0,
}
_POWER = {"": 1.0, "W": 1.0, "mW": 1e-3, "kW": 1e3, "MW": 1e6}
_ENERGY = {
    "": 3600.0,
    "Wh": 3600.0,
    "mWh": 3.6,
    "kWh": 3.6e6,
    "MWh": 3.6e9,
    "J": 1.0,
    "mJ": 1e-3,
    "kJ": 1e3,
    "MJ": 1e6,
}
_MONEY = {"": 1.0, "k": 1e3, "M": 1e6, "B": 1e9}
_RATE = {"": 1.0, "/s": 1.0, "/sec": 1.0, "/min": 1 / 60.0, "/m": 1 / 60.0, "/h": 1 / 3600.0}
_RATE |= {"/hr": 1 / 3600.0, "/d": 1 / 86400.0, "/day": 1 / 86400.0}
# Spellings whose case folds onto a unit they may not mean: refused, with what to write.
_REFUSED_TIME = {"M": "minutes or months? write 5min for minutes, 30d for about a month"}
_NAMES = {
    "mW": "milliwatts",
    "MW": "megawatts",
    "mWh": "milliwatt-hours",
    "MWh": "megawatt-hours",
    "mJ": "millijoules",
    "MJ": "megajoules",
}


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


def _unit_scale(
    unit: str,
    text: str,
    what: str,
    example: str,
    table: dict[str, float],
    refused: dict[str, str] | None = None,
) -> float:
    """The scale of ``unit``: its exact spelling first, then any case that means one unit only."""
    if unit in table:
        return table[unit]
    if refused and unit in refused:
        raise UnitError(f"{what}: {unit!r} in {text!r} is ambiguous ({refused[unit]})")
    same = [k for k in table if k.lower() == unit.lower()]
    if len({table[k] for k in same}) == 1:
        return table[same[0]]
    if same:
        options = " or ".join(f"{k} ({_NAMES.get(k, k)})" for k in same)
        raise UnitError(f"{what}: {unit!r} in {text!r} is ambiguous; write {options}")
    known = ", ".join(k for k in table if k) or "none"
    raise UnitError(f"{what}: unknown unit {unit!r} in {text!r} (known: {known}; e.g. {example})")


def _scale(
    text: str,
    what: str,
    example: str,
    table: dict[str, float],
    refused: dict[str, str] | None = None,
) -> float:
    value, unit = _split(text, what, example)
    result = value * _unit_scale(unit, str(text), what, example, table, refused)
    if math.isinf(result):
        raise UnitError(f"{what}: {text!r} is too large")
    return result


def has_unit(text: object) -> bool:
    """Whether ``text`` carries a unit or suffix ("70B", "200ms"), not just a number ("70")."""
    if isinstance(text, (int, float)):
        return False
    match = _QUANTITY.match(str(text).strip().removeprefix("$"))
    return match is None or bool(match["unit"])


def parse_count(text: str, what: str = "value") -> float:
    """A plain count with an SI suffix, any case: ``70B`` or ``70b`` -> 7e10, ``1.5T``, ``13M``,
    ``4.1G``, ``8k``.  ``m`` is mega (a count has no thousandths); ``B`` and ``G`` are both 1e9."""
    return _scale(text, what, "70B", _COUNT)


def parse_bytes(text: str, what: str = "value") -> float:
    """Bytes, decimal (KB, MB, GB, TB, PB) or binary (KiB … PiB), any case: ``2TB``, ``512gib``."""
    return _scale(text, what, "2TB", _BYTES)


def parse_power(text: str, what: str = "value") -> float:
    """Watts: ``15W``, ``15w``, ``1.5kW``, ``500mW``; a bare number is watts (``mw`` is refused:
    milliwatts or megawatts?)."""
    return _scale(text, what, "15W", _POWER)


def parse_energy(text: str, what: str = "value") -> float:
    """Energy in joules from ``50Wh``, ``50wh``, ``1kWh``, ``500mWh``, ``2MJ``; a bare number is
    watt-hours (``mwh`` is refused: milli- or megawatt-hours?)."""
    return _scale(text, what, "50Wh", _ENERGY)


def parse_duration(text: str, what: str = "value") -> float:
    """Seconds from ``30d``, ``12h``, ``200ms``, ``90s``, ``5m`` or ``5min``, ``2w``, any case
    but ``M``; a bare number is seconds."""
    return _scale(text, what, "30d", _TIME, _REFUSED_TIME)


def parse_money(text: str, what: str = "value") -> float:
    """US dollars from ``$20k``, ``20000``, ``$1.5M`` or ``$1.5m``, ``20k USD``."""
    if isinstance(text, str):
        text = text.strip().removeprefix("$").removesuffix("USD").removesuffix("usd").strip()
    return _scale(text, what, "$20k", _MONEY)


def parse_rate(text: str, what: str = "value") -> float:
    """Events per second from ``10``, ``10/s``, ``600/min``, ``1.2k/h``, ``5k``."""
    if isinstance(text, str):
        text = text.replace(" ", "")
    value, unit = _split(text, what, "10/s")
    per = {k.lower() for k in _RATE}
    thousands = unit[:1] in ("k", "K") and unit[1:].lower() in per  # 1.2k/h: thousands, per hour
    scale = _unit_scale(unit[1:] if thousands else unit, str(text), what, "10/s", _RATE)
    return value * scale * (1e3 if thousands else 1.0)


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
