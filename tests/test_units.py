from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra_advisor.errors import UnitError
from infra_advisor.units import (
    parse_bytes,
    parse_count,
    parse_duration,
    parse_energy,
    parse_money,
    parse_power,
    parse_rate,
)


@pytest.mark.parametrize(
    ("parser", "text", "expected"),
    [
        (parse_count, "70B", 70e9),
        (parse_count, "1.5T", 1.5e12),
        (parse_count, "13M", 13e6),
        (parse_count, "4.1G", 4.1e9),
        (parse_count, "1e3", 1e3),
        (parse_bytes, "2TB", 2e12),
        (parse_bytes, "512GiB", 512 * 2**30),
        (parse_bytes, "150KB", 150e3),
        (parse_power, "15W", 15.0),
        (parse_power, "1.5kW", 1500.0),
        (parse_energy, "50Wh", 50 * 3600.0),
        (parse_duration, "30d", 30 * 86400.0),
        (parse_duration, "200ms", 0.2),
        (parse_duration, "12h", 12 * 3600.0),
        (parse_money, "$20k", 20e3),
        (parse_money, "20000", 20e3),
        (parse_rate, "600/min", 10.0),
    ],
)
def test_quantities_parse_to_si(parser, text, expected):  # type: ignore[no-untyped-def]
    assert parser(text, "--x") == pytest.approx(expected)


@pytest.mark.parametrize("text", ["7x", "", "B70", "nan", "inf", "-3B", "1..2", "70 B B"])
def test_bad_quantities_name_the_flag(text: str) -> None:
    with pytest.raises(UnitError) as err:
        parse_count(text, "--params")
    assert "--params" in str(err.value)


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False), st.sampled_from(["k", "M", "B", "T"])
)
def test_count_suffixes_scale_exactly(value: float, suffix: str) -> None:
    scale = {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[suffix]
    assert math.isclose(parse_count(f"{value!r}{suffix}"), value * scale, rel_tol=1e-12)


@given(st.text(max_size=20))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    for parser in (
        parse_count,
        parse_bytes,
        parse_duration,
        parse_power,
        parse_energy,
        parse_money,
        parse_rate,
    ):
        try:
            value = parser(text, "--x")
        except UnitError:
            continue
        assert math.isfinite(value) and value >= 0
