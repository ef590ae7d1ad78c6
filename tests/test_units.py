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


# ------------------------------------------------------------------ workload fields


def test_every_workload_field_has_a_parser() -> None:
    from infra_advisor.workload import CHOICES, FIELDS, INTEGERS, QUANTITIES, TEXT

    handled = [
        *QUANTITIES,
        *INTEGERS,
        *CHOICES,
        *TEXT,
        "include_legacy",
        "include_unpriced",
        "fixed_lengths",
        "fanout",
        "weight_sparsity",
    ]
    assert sorted(handled) == sorted(FIELDS)  # each field exactly once: none unchecked


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"fanout": "15, 10"}, "fanout", [15, 10]),
        ({"fanout": [25, 10.0]}, "fanout", [25, 10]),
        ({"weight_sparsity": "50%"}, "weight_sparsity", 0.5),
        ({"weight_sparsity": 0}, "weight_sparsity", 0.0),
        ({"include_legacy": "yes"}, "include_legacy", True),
        ({"include_legacy": False}, "include_legacy", False),
        ({"params": "70B", "layers": "80"}, "layers", 80),
        ({"task": "inference"}, "task", "inference"),
    ],
)
def test_workload_values_are_parsed(
    values: dict[str, object], field: str, expected: object
) -> None:
    from infra_advisor.workload import build_workload

    value = getattr(build_workload(values), field)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"fanout": "15,x"}, ["--fanout", "whole numbers"]),
        ({"fanout": [15, 0]}, ["--fanout", "at least 1"]),
        ({"fanout": [True]}, ["--fanout"]),
        ({"weight_sparsity": "half"}, ["--weight-sparsity", "'half'"]),
        ({"weight_sparsity": float("nan")}, ["--weight-sparsity"]),
        ({"include_legacy": "maybe"}, ["--include-legacy", "'maybe'"]),
        ({"description": 5}, ["--description", "text"]),
        ({"task": ["train"]}, ["--task", "'train', 'finetune' or 'inference'"]),
        ({"layers": "2.5"}, ["--layers", "whole number"]),
        ({"heads": 6, "hidden": 1000}, ["--hidden 1000", "--heads 6"]),
        ({"params": "0"}, ["--params", "greater than zero"]),
    ],
)
def test_bad_workload_values_name_the_flag(values: dict[str, object], words: list[str]) -> None:
    from infra_advisor.errors import WorkloadError
    from infra_advisor.workload import build_workload

    with pytest.raises(WorkloadError) as caught:
        build_workload(values)
    for word in words:
        assert word in caught.value.message, (word, caught.value.message)


def test_several_refusals_are_named_in_one_message() -> None:
    from infra_advisor.errors import WorkloadError
    from infra_advisor.workload import build_workload

    with pytest.raises(WorkloadError) as caught:
        build_workload({"task": "serve", "optimise": "cost", "deploy": "moon"}, "plan.toml: ")
    message = caught.value.message
    assert "plan.toml: --task: 'serve'" in message and "plan.toml: --deploy: 'moon'" in message
    assert "plan.toml: optimise: unknown key (did you mean 'optimize'?)" in message
