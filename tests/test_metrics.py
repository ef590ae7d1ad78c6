"""The metric registry declares every metric once, and every renderer formats from it."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra_advisor import metrics
from infra_advisor.interface.cli import app
from infra_advisor.interface.render.values import FORMATTERS, format_quantity, format_value
from infra_advisor.report import Breakdown, Metrics
from infra_advisor.units import format_energy, format_power, format_rate

RENDER = Path(metrics.__file__).parent / "interface" / "render"
REPORTED = [f.name for cls in (Metrics, Breakdown) for f in dataclasses.fields(cls)]


@pytest.mark.parametrize("name", REPORTED)
def test_every_reported_field_is_registered(name: str) -> None:
    metric = metrics.get(name)
    assert metric.name == name
    assert metric.label and metric.description
    assert metric.better in ("lower", "higher", None)


def test_every_unit_has_a_formatter() -> None:
    assert set(typing.get_args(metrics.Unit)) == set(FORMATTERS)
    assert {m.unit for m in metrics.METRICS.values()} <= set(FORMATTERS)


def test_the_metrics_the_engine_adds_next_are_registered() -> None:
    for name in (
        "cost_per_thousand_requests_usd",
        "cost_per_million_samples_usd",
        "energy_per_million_tokens_kwh",
        "energy_per_thousand_requests_kwh",
        "energy_per_million_samples_kwh",
    ):
        assert metrics.get(name).unit in ("USD", "kWh")
        assert metrics.better_direction(name) == "lower"
    assert metrics.get("requests_asked_per_s").unit == "requests/s"
    assert metrics.get("served_fraction").unit == "fraction"
    assert metrics.better_direction("served_fraction") == "higher"


def test_metrics_module_imports_nothing_from_the_project() -> None:
    source = Path(metrics.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+infra_advisor", source, re.MULTILINE)


@pytest.mark.parametrize("path", sorted(RENDER.glob("*.py")), ids=lambda p: p.name)
def test_no_renderer_guesses_a_unit_from_a_name(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"""\.(endswith|startswith)\(\s*\(?\s*["']_""", source)
    assert "_unit_of" not in source


def test_an_unknown_metric_raises_naming_it() -> None:
    with pytest.raises(KeyError, match="no_such_metric_s"):
        metrics.get("no_such_metric_s")
    with pytest.raises(KeyError, match="not registered"):
        format_value("no_such_metric_s", 1.0)
    with pytest.raises(KeyError):
        metrics.better_direction("tokens_per_s_typo")


def test_rates_format_as_rates_not_durations() -> None:
    shown = format_value("tokens_per_s", 83.3)
    assert "tokens/s" in shown and "min" not in shown
    assert shown == "83.3 tokens/s"
    assert format_value("tokens_per_s", 1234.0) == "1.23k tokens/s"
    assert format_value("requests_per_s", 50.0) == "50 requests/s"
    assert format_value("requests_per_s", 50.0, bare=True) == "50"
    assert format_value("samples_per_s", 65_446_808.0) == "65.4M samples/s"
    assert format_rate(999.7, "tokens/s") == "1k tokens/s"


@pytest.mark.parametrize(
    ("name", "seconds", "shown"),
    [
        ("ttft_s", 0.0348, "34.8 ms"),
        ("tpot_s", 0.00667, "6.67 ms"),
        ("latency_s", 1.74, "1.74 s"),
        ("time_s", 3600.0, "60 min"),
        ("step_time_s", 1e-4, "100 µs"),
        ("compute_s", 0.5, "500 ms"),
    ],
)
def test_time_metrics_format_as_durations(name: str, seconds: float, shown: str) -> None:
    assert format_value(name, seconds) == shown


def test_energy_power_money_bytes_fractions_and_counts() -> None:
    assert format_value("energy_kwh", 0.761) == "0.761 kWh"
    assert format_value("energy_kwh", 2300.0) == "2.3 MWh"
    assert "MWh" in format_value("energy_kwh", 1001.0)
    assert format_value("energy_kwh", 15_025_993.0) == "15 GWh"
    assert format_energy(999.7) == "1 MWh"
    assert format_value("power_w", 761.0) == "761 W"
    assert format_value("power_w", 3402.0) == "3.4 kW"
    assert format_power(19_261_951.0) == "19.3 MW"
    assert format_value("cost_usd", 55.0) == "$55"
    assert format_value("cost_per_million_tokens_usd", 0.309) == "$0.309"
    assert format_value("memory_per_chip_bytes", 18.3e9) == "18.3 GB"
    assert format_value("mfu", 0.4123) == "41.2%"
    assert format_value("served_fraction", 1.0) == "100%"
    assert format_value("battery_hours", 5.2145) == "5.21 h"
    assert format_value("chips", 16384) == "16384"
    assert format_value("cost_usd", None) == "—"


def test_term_units_without_a_formatter_are_printed_after_the_number() -> None:
    assert format_quantity(295.3, "requests") == "295.3 requests"
    assert format_quantity(0.002, "s") == "2 ms"


def test_explain_shows_tokens_per_s_as_a_rate() -> None:
    result = CliRunner().invoke(
        app,
        [
            "explain",
            "h100-sxm:8/nvlink-4/-/local-nvme-gen5/vllm",
            "--task",
            "inference",
            "--params",
            "8B",
            "--rate",
            "10",
        ],
    )
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "tokens_per_s" in line)
    assert "tokens/s" in row and "min" not in row
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if line.count("│") > 2}
    assert "ms" in rows["ttft_s"] and "requests/s" in rows["requests_per_s"]


def test_the_markdown_path_loads_the_registry_without_rich() -> None:
    code = (
        "import sys; import infra_advisor.interface.render.markdown; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
