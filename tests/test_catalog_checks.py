"""The cross-entry catalog checks (infra_advisor/catalog_checks.py).

Each check fails on a crafted bad overlay, run through the real CLI (`catalog validate DIR`), with
exit 2 and a message naming file:line, entry and field; the note markers that explain an
exception let the same overlay pass; and the shipped catalog passes every check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra_advisor import catalog_checks
from infra_advisor.catalog import shipped_files, validate_files
from tests.test_bad_input import run_main
from tests.test_catalog import CHIP

LINK = """
[[interconnect]]
id = "{id}"
name = "Test link"
scope = "{scope}"
bandwidth_gb_s = {bandwidth}
latency_us = 2.0
rdma = true
as_of = 2026-11-26
sources = ["https://example.com/link"]
"""


def chip(extra: str = "", chip_id: str = "test-chip") -> str:
    return CHIP.format(id=chip_id, memory="80") + extra


def validate(tmp_path: Path, files: dict[str, str], capsys: Any) -> tuple[int, str]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    code, out, err = run_main(["catalog", "validate", str(tmp_path)], capsys)
    assert "Traceback" not in err
    return code, out + err


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of ``text`` that starts with ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(needle):
            return number
    raise AssertionError(f"{needle!r} not in the overlay")


def assert_named(message: str, where: str, entry: str, field: str) -> None:
    assert f"{where}: entry '{entry}': field {field}: " in message, message


# --------------------------------------------------------------------------- the shipped catalog


def test_the_shipped_catalog_passes_every_check(capsys: Any) -> None:
    catalog = validate_files(list(shipped_files()))
    for check in catalog_checks.CHECKS:
        assert check(catalog) == [], check.__name__
    code, out, err = run_main(["catalog", "validate"], capsys)
    assert code == 0 and "catalog valid" in out, err


# --------------------------------------------------------------------------- link bandwidth


def test_a_chip_link_figure_must_equal_its_link_entry(tmp_path: Path, capsys: Any) -> None:
    text = chip('scale_up_interconnect = "nvlink-4"\nscale_up_bandwidth_gb_s = 400\n')
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'scale_up_bandwidth_gb_s')}"
    assert_named(message, where, "test-chip", "scale_up_bandwidth_gb_s")
    assert "'nvlink-4' carries 450 GB/s" in message


def test_a_host_link_figure_is_checked_too(tmp_path: Path, capsys: Any) -> None:
    text = chip('host_interconnect = "pcie-gen5"\nhost_bandwidth_gb_s = 128\n')
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'host_bandwidth_gb_s')}"
    assert_named(message, where, "test-chip", "host_bandwidth_gb_s")


def test_rounding_within_one_percent_passes(tmp_path: Path, capsys: Any) -> None:
    text = chip('host_interconnect = "pcie-gen5"\nhost_bandwidth_gb_s = 63.5\n')
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 0, message


def test_a_note_naming_the_link_and_saying_differs_explains_it(tmp_path: Path, capsys: Any) -> None:
    link = 'scale_up_interconnect = "nvlink-4"\nscale_up_bandwidth_gb_s = 400\n'
    explained = link + (
        'notes = "Two links are fused off. The 400 differs from nvlink-4\'s 450 because of it."\n'
    )
    code, message = validate(tmp_path, {"chips.toml": chip(explained)}, capsys)
    assert code == 0, message
    # The link id and the word must be in one sentence.
    split = link + 'notes = "It differs. See nvlink-4 for the nominal rate."\n'
    code, message = validate(tmp_path, {"chips.toml": chip(split)}, capsys)
    assert code == 2 and "field scale_up_bandwidth_gb_s" in message


def test_an_overlaid_link_is_checked_against_the_shipped_chips(tmp_path: Path, capsys: Any) -> None:
    """Replacing a link entry re-checks every shipped chip that names it."""
    text = LINK.format(id="usb-3", scope="scale_up", bandwidth="0.625")
    code, message = validate(tmp_path, {"interconnects.toml": text}, capsys)
    assert code == 2
    assert "<shipped>/chips.toml:" in message
    assert "entry 'coral-edge-tpu': field host_bandwidth_gb_s: " in message


# --------------------------------------------------------------------------- references


def test_an_unknown_link_names_file_line_entry_and_field(tmp_path: Path, capsys: Any) -> None:
    text = chip('scale_up_interconnect = "warp-link"\nscale_up_bandwidth_gb_s = 9\n')
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'scale_up_interconnect')}"
    assert_named(message, where, "test-chip", "scale_up_interconnect")
    assert "unknown interconnect id 'warp-link'" in message


def test_an_unknown_framework_in_runs_frameworks_is_rejected(tmp_path: Path, capsys: Any) -> None:
    text = chip('runs_frameworks = ["litert", "caffe9"]\n')
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'runs_frameworks')}"
    assert_named(message, where, "test-chip", "runs_frameworks")
    assert "unknown framework id 'caffe9'" in message and "'litert'" not in message


def test_a_chip_link_must_be_a_scale_up_link(tmp_path: Path, capsys: Any) -> None:
    text = chip('host_interconnect = "ib-ndr"\nhost_bandwidth_gb_s = 50\n')
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'host_interconnect')}"
    assert_named(message, where, "test-chip", "host_interconnect")
    assert "scale_out link" in message


# --------------------------------------------------------------------------- sources


def test_a_plain_http_source_is_rejected(tmp_path: Path, capsys: Any) -> None:
    text = CHIP.format(id="test-chip", memory="80").replace(
        "https://example.com/datasheet", "http://example.com/datasheet"
    )
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'sources')}"
    assert_named(message, where, "test-chip", "sources")
    assert "'http://example.com/datasheet' is not an https:// URL" in message


def test_http_sources_are_checked_in_every_kind(tmp_path: Path, capsys: Any) -> None:
    text = LINK.format(id="test-link", scope="scale_out", bandwidth="12.5").replace(
        "https://example.com/link", "http://example.com/link"
    )
    code, message = validate(tmp_path, {"interconnects.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/interconnects.toml:{line_of(text, 'sources')}"
    assert_named(message, where, "test-link", "sources")


OFFERING = (Path(__file__).parent / "data" / "offering.toml").read_text(encoding="utf-8")


def test_an_http_price_source_is_rejected(tmp_path: Path, capsys: Any) -> None:
    text = OFFERING.replace(
        'source = "https://aws.amazon.com/ec2/pricing/on-demand/"',
        'source = "http://aws.amazon.com/ec2/pricing/on-demand/"',
    )
    code, message = validate(tmp_path, {"offerings.toml": text}, capsys)
    assert code == 2
    assert "offerings.toml" in message and "'test-p5'" in message
    assert "field price.source" in message and "not an https:// URL" in message


def test_a_note_saying_there_is_no_https_page_allows_http(tmp_path: Path, capsys: Any) -> None:
    text = (
        CHIP.format(id="test-chip", memory="80").replace(
            "https://example.com/datasheet", "http://example.com/datasheet"
        )
        + 'notes = "The vendor serves this datasheet with no https version."\n'
    )
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 0, message


# --------------------------------------------------------------------------- prices


@pytest.mark.parametrize(
    ("price", "says"),
    [
        ("usd_per_unit_hour = 55.04\nusd_per_chip_hour = 6.88", "exactly one of"),
        ('region = "us-east-1"', "exactly one of"),
    ],
)
def test_a_price_gives_its_basis_once(price: str, says: str, tmp_path: Path, capsys: Any) -> None:
    """A price is per unit or per chip, named in the field: never both, never neither."""
    text = OFFERING.replace('usd_per_unit_hour = 55.04\nregion = "us-east-1"', price)
    code, message = validate(tmp_path, {"offerings.toml": text}, capsys)
    assert code == 2 and "'test-p5'" in message and says in message


def test_an_offering_of_an_unknown_chip_or_storage_is_named(tmp_path: Path, capsys: Any) -> None:
    text = OFFERING.replace('chip = "h100-sxm"', 'chip = "h900"').replace(
        'storage = ["aws-s3"]', 'storage = ["gcs"]'
    )
    code, message = validate(tmp_path, {"offerings.toml": text}, capsys)
    assert code == 2
    assert "field chip: unknown chip id 'h900'" in message
    assert "field storage: 'gcs' is offered by gcp, not aws" in message


def test_an_on_prem_system_is_bought_not_rented(tmp_path: Path, capsys: Any) -> None:
    text = OFFERING.replace('provider = "aws"', 'provider = "onprem"')
    code, message = validate(tmp_path, {"offerings.toml": text}, capsys)
    assert code == 2 and "bought (purchase_usd), not rented" in message


# --------------------------------------------------------------------------- memory and notes


def test_a_gib_capacity_stored_as_gb_is_rejected(tmp_path: Path, capsys: Any) -> None:
    text = CHIP.format(id="test-chip", memory="32") + 'notes = "32 GiB of HBM per chip."\n'
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'memory_gb')}"
    assert_named(message, where, "test-chip", "memory_gb")
    assert "34.360 GB" in message
    converted = CHIP.format(id="test-chip", memory="34.36") + 'notes = "32 GiB of HBM."\n'
    code, message = validate(tmp_path, {"chips.toml": converted}, capsys)
    assert code == 0, message


def test_notes_that_call_a_set_field_empty_are_rejected(tmp_path: Path, capsys: Any) -> None:
    text = chip(
        'scale_up_interconnect = "nvlink-4"\nscale_up_bandwidth_gb_s = 450\n'
        'notes = "AWS publishes no figure, so scale_up_bandwidth_gb_s is left empty."\n'
    )
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    where = f"{tmp_path}/chips.toml:{line_of(text, 'notes')}"
    assert_named(message, where, "test-chip", "notes")
    assert "scale_up_bandwidth_gb_s" in message


def test_every_problem_is_reported_at_once(tmp_path: Path, capsys: Any) -> None:
    text = chip(
        'scale_up_interconnect = "nvlink-4"\nscale_up_bandwidth_gb_s = 400\n'
        'runs_frameworks = ["caffe9"]\n'
    ) + chip('host_interconnect = "ib-ndr"\nhost_bandwidth_gb_s = 50\n', chip_id="other-chip")
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    assert "entry 'test-chip': field scale_up_bandwidth_gb_s" in message
    assert "entry 'test-chip': field runs_frameworks" in message
    assert "entry 'other-chip': field host_interconnect" in message


MODES = """power_modes = [
  {{ name = "15W", power_w = 15, gpu_max_mhz = 600, emc_max_mhz = 2000 }},
  {{ name = "MAXN", power_w = {top}, gpu_max_mhz = {clock}, emc_max_mhz = 3200 }},
]
"""


@pytest.mark.parametrize(
    ("top", "clock", "says"),
    [(250, 1300, "has power_w 250, but tdp_w is 300"), (300, 500, "run clocks above the top mode")],
)
def test_power_modes_must_agree_with_the_board(
    tmp_path: Path, capsys: Any, top: int, clock: int, says: str
) -> None:
    text = chip(MODES.format(top=top, clock=clock))
    code, message = validate(tmp_path, {"chips.toml": text}, capsys)
    assert code == 2
    assert_named(message, f"{tmp_path}/chips.toml:{line_of(text, 'power_modes')}", "test-chip",
                 "power_modes")  # fmt: skip
    assert says in message
    good = chip(MODES.format(top=300, clock=1300))
    assert validate(tmp_path, {"chips.toml": good}, capsys)[0] == 0


FRAMEWORK = """
[[framework]]
id = "tuner"
name = "A fine-tuner"
runs_on = [{ type = "gpu", vendor = "nvidia", support = "native" }]
tasks = ["finetune"]
model_types = ["transformer"]
precisions = ["bf16"]
peft = ["lora"]
peft_maturity = { qlora = "reference" }
as_of = 2026-12-01
sources = ["https://example.com/tuner"]
"""


def test_a_peft_maturity_for_a_method_it_lacks_is_rejected(tmp_path: Path, capsys: Any) -> None:
    code, message = validate(tmp_path, {"frameworks.toml": FRAMEWORK}, capsys)
    assert code == 2
    where = f"{tmp_path}/frameworks.toml:{line_of(FRAMEWORK, 'peft_maturity')}"
    assert_named(message, where, "tuner", "peft_maturity")
    assert "names qlora, which is not among its peft methods (lora)" in message
    fixed = FRAMEWORK.replace('peft = ["lora"]', 'peft = ["lora", "qlora"]')
    code, message = validate(tmp_path, {"frameworks.toml": fixed}, capsys)
    assert code == 0, message
