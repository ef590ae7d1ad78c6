"""Offerings: stacks are units of what can be rented or bought (issue 15).

No stack mixes providers' parts; --cloud and --deploy onprem keep to their provider's offerings;
a price's basis (per unit or per chip) is read as written; on-prem cost is the TCO formula (F17c)
checked by hand; slices and instances round to whole units; stack ids name the offering and
explain takes them back.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from infra_advisor import catalog_checks
from infra_advisor.catalog import Catalog, load_catalog
from infra_advisor.errors import WorkloadError
from infra_advisor.models import Offering, OfferingPrice
from infra_advisor.plan import offer
from infra_advisor.report import Report
from infra_advisor.search.engine import explain_stack, recommend
from infra_advisor.workload import build_workload, clouds
from tests.test_bad_input import run_main

CATALOG = load_catalog()
SERVE = {"task": "inference", "model": "llama-3.1-8b", "rate": "20", "prompt_tokens": "1000",
         "output_tokens": "200"}  # fmt: skip
TRAIN = {"task": "finetune", "finetune_method": "lora", "model": "llama-3.1-8b",
         "tokens": "200M", "seq_len": "4096"}  # fmt: skip


def _run(values: dict[str, Any], cat: Catalog = CATALOG, top: int = 8) -> Report:
    return recommend(build_workload(values, catalog=cat), cat, top=top)


def _parts_of(report: Report, cat: Catalog) -> list[tuple[str, str | None, str | None, str]]:
    """(offering provider, fabric, storage, stack id) of every ranked stack."""
    out = []
    for s in report.stacks:
        c = s.components
        assert c.offering is not None, f"{s.id}: a ranked stack without an offering"
        out.append((cat.offerings[c.offering.id].provider, c.scale_out, c.storage, s.id))
    return out


def _theirs(providers: list[str], provider: str) -> bool:
    return not providers or provider in providers


@pytest.mark.parametrize("provider", clouds(CATALOG))
@pytest.mark.parametrize("values", [SERVE, TRAIN], ids=["serve", "train"])
def test_cloud_keeps_to_that_providers_parts(provider: str, values: dict[str, Any]) -> None:
    report = _run({**values, "cloud": provider})
    for owner, link, store, sid in _parts_of(report, CATALOG):
        assert owner == provider, sid
        if link is not None:
            assert _theirs(CATALOG.interconnects[link].providers, provider), sid
        if store is not None:
            assert _theirs(CATALOG.storage[store].providers, provider), sid


def test_aws_no_longer_gets_google_storage_or_infiniband() -> None:
    """The issue's report: --cloud aws returned L4s on InfiniBand XDR with Hyperdisk ML."""
    report = _run({**TRAIN, "cloud": "aws", "model": "llama-3.1-70b", "tokens": "2B"})
    assert report.stacks
    for s in report.stacks:
        assert not (s.components.storage or "").startswith("gcp"), s.id
        assert s.components.scale_out in (None, *[i for i in CATALOG.interconnects
                                                    if i.startswith(("aws", "eth"))]), s.id  # fmt: skip


def test_onprem_ranks_systems_one_buys_at_their_tco() -> None:
    report = _run({**TRAIN, "deploy": "onprem"})
    assert report.stacks
    for owner, _, store, sid in _parts_of(report, CATALOG):
        assert owner == "onprem", sid
        if store is not None:
            assert _theirs(CATALOG.storage[store].providers, "onprem"), sid
    cost = next(t for t in report.stacks[0].terms if t.name == "cost")
    assert cost.source == "F17c"


def test_no_stack_of_the_full_search_mixes_providers() -> None:
    for values in (SERVE, TRAIN):
        for owner, link, store, sid in _parts_of(_run(values, top=20), CATALOG):
            if link is not None:
                assert _theirs(CATALOG.interconnects[link].providers, owner), sid
            if store is not None:
                assert _theirs(CATALOG.storage[store].providers, owner), sid


def test_every_offering_names_a_fabric_and_storage_of_its_provider() -> None:
    assert catalog_checks.offering_references(CATALOG) == []
    for off in CATALOG.offerings.values():
        assert off.chip in CATALOG.chips
        if off.scale_out is not None:
            assert CATALOG.interconnects[off.scale_out].scope == "scale_out"


def test_a_fabric_of_another_provider_fails_validation(tmp_path: Path, capsys: Any) -> None:
    text = (Path(__file__).parent / "data" / "offering.toml").read_text(encoding="utf-8")
    (tmp_path / "offerings.toml").write_text(
        text.replace('scale_out = "aws-efa-v2"', 'scale_out = "ib-ndr"'), encoding="utf-8"
    )
    code, _, err = run_main(["catalog", "validate", str(tmp_path)], capsys)
    assert code == 2
    assert "offerings.toml:" in err and "'test-p5'" in err and "field scale_out" in err
    assert "not aws" in err and "Traceback" not in err


# --------------------------------------------------------------------------- prices


def _priced(cat: Catalog, off_id: str, price: OfferingPrice) -> Catalog:
    table = dict(cat.offerings)
    table[off_id] = dataclasses.replace(table[off_id], price=[price])
    return dataclasses.replace(cat, offerings=table)


DAY = datetime.date(2026, 12, 1)


def test_a_unit_price_and_the_same_price_per_chip_cost_the_same() -> None:
    """$55.04 per p5.48xlarge-hour is $6.88 per H100-hour: stored either way, one cost."""
    per_unit = OfferingPrice(usd_per_unit_hour=55.04, as_of=DAY, source="https://x.test/p")
    per_chip = OfferingPrice(usd_per_chip_hour=6.88, as_of=DAY, source="https://x.test/p")
    values = {**TRAIN, "offering": "aws-p5-48xlarge", "chips": "8"}
    a = _run(values, _priced(CATALOG, "aws-p5-48xlarge", per_unit)).stacks[0]
    b = _run(values, _priced(CATALOG, "aws-p5-48xlarge", per_chip)).stacks[0]
    assert a.metrics.cost_usd == pytest.approx(b.metrics.cost_usd, rel=1e-9)
    hours = a.metrics.time_s / 3600
    assert a.metrics.cost_usd == pytest.approx(55.04 * 1 * hours, rel=1e-6)  # one unit, not 8


def test_chips_short_of_a_unit_still_pay_for_the_unit() -> None:
    """Two H100s of a p5.48xlarge rent the whole instance: 1 unit × $55.04/h."""
    s = _run({**TRAIN, "offering": "aws-p5-48xlarge", "chips": "2"}).stacks[0]
    assert s.components.offering is not None and s.components.offering.units == 1
    assert "2 used" in s.components.offering.label
    hours = s.metrics.time_s / 3600
    price = CATALOG.offerings["aws-p5-48xlarge"].price_of("on_demand")
    assert price is not None
    assert s.metrics.cost_usd == pytest.approx(price.unit_hour(8) * hours, rel=1e-6)


def test_tco_matches_a_hand_calculation() -> None:
    """F17c for one DGX B200 unit: price × (1/(5 × 8766) + 0.15/8766) × hours + kWh × 1.54 × $/kWh."""
    s = _run({**TRAIN, "deploy": "onprem", "offering": "onprem-dgx-b200"}).stacks[0]
    off = CATALOG.offerings["onprem-dgx-b200"]
    assert off.purchase_usd is not None
    eff = {k: e.value for k, e in CATALOG.efficiency.items()}
    hours = s.metrics.time_s / 3600
    units = s.components.offering.units if s.components.offering else 0
    capex = off.purchase_usd / (eff["device-service-life"] * 8766.0)
    ops = off.purchase_usd * eff["onprem-operations"] / 8766.0
    power = s.metrics.energy_kwh * eff["datacenter-pue"] * eff["electricity-price"]
    storage = sum(0.0 for _ in ())  # on-prem storage carries no $/GB-month
    expected = units * (capex + ops) * hours + power + storage
    assert s.metrics.cost_usd == pytest.approx(expected, rel=1e-6)


def test_a_device_pays_no_facility_overhead() -> None:
    """A developer kit is not in a data centre: PUE 1 and no operations share."""
    s = _run({**SERVE, "model": None, "model_type": "vision", "flops_per_sample": "0.6G",
              "bytes_per_sample": "150KB", "rate": "30", "deploy": "edge",
              "power_budget": "25W", "offering": "onprem-jetson-orin-nano-super-devkit"}).stacks[0]  # fmt: skip
    cost = next(t for t in s.terms if t.name == "cost")
    assert cost.inputs["pue"] == 1.0 and cost.inputs["operations_per_year"] == 0.0


def test_spot_pricing_is_asked_for_and_falls_back_to_on_demand_with_a_note() -> None:
    spot = _run({**TRAIN, "offering": "coreweave-gd-8xh100ib-i128", "pricing": "spot"}).stacks[0]
    on_demand = _run({**TRAIN, "offering": "coreweave-gd-8xh100ib-i128"}).stacks[0]
    assert spot.metrics.cost_usd < on_demand.metrics.cost_usd
    only = _run({**TRAIN, "offering": "aws-p5-48xlarge", "pricing": "commit_3y"}).stacks[0]
    assert any("no public commit-3y price" in n for n in only.notes)


def test_a_spot_only_offering_is_not_ranked_by_its_spot_price_on_demand() -> None:
    """Vultr publishes only preemptible rates: ranked under --pricing spot, not by default."""
    vultr = [o.id for o in CATALOG.offerings.values() if o.provider == "vultr"]
    assert vultr
    report = _run({**TRAIN, "vendor": "amd"}, top=20)
    assert not any(s.components.offering and s.components.offering.id in vultr
                   for s in report.stacks)  # fmt: skip
    spot = _run({**TRAIN, "vendor": "amd", "pricing": "spot"}, top=20)
    assert any(s.components.offering and s.components.offering.id in vultr for s in spot.stacks)


def test_unpriced_chips_rank_only_when_pinned_or_asked_for() -> None:
    base = _run({**SERVE, "vendor": "amd", "optimize": "cost"}, top=30)
    assert all(s.components.offering is not None for s in base.stacks)
    assert all(s.metrics.cost_usd is not None for s in base.stacks)
    rejected = {r.id: r.reasons for r in base.rejected}
    assert "mi250x" in rejected  # no offering prices it
    more = _run({**SERVE, "vendor": "amd", "include_unpriced": True}, top=30)
    bare = [s for s in more.stacks if s.components.offering is None]
    assert bare and all(s.metrics.cost_usd is None for s in bare)
    pinned = _run({**SERVE, "chip": "mi250x", "include_legacy": True})
    assert pinned.stacks and pinned.stacks[0].components.offering is None


def test_cost_ranking_no_longer_falls_back_to_ids() -> None:
    """--vendor amd --optimize cost ranked alphabetically when no AMD part had a price."""
    report = _run({**SERVE, "vendor": "amd", "optimize": "cost"})
    costs = [s.metrics.cost_per_million_tokens_usd for s in report.stacks]
    assert len(costs) >= 2 and all(c is not None for c in costs)
    assert costs == sorted(costs)


# --------------------------------------------------------------------------- units


def _slice() -> Offering:
    return CATALOG.offerings["gcp-tpu-v5p"]


def test_slices_round_to_their_shapes_then_whole_largest_slices() -> None:
    off = _slice()
    shapes = off.unit_chips
    assert offer.round_up(off, shapes[0]) == shapes[0]
    assert offer.round_up(off, shapes[0] + 1) == shapes[1]
    assert offer.round_up(off, shapes[-1] + 1) == 2 * shapes[-1]
    assert offer.ladder(off, shapes[-1])[: len(shapes)] == shapes


def test_instances_round_to_whole_units() -> None:
    off = CATALOG.offerings["aws-p5-48xlarge"]
    assert [offer.round_up(off, n) for n in (1, 8, 9, 17)] == [8, 8, 16, 24]
    assert offer.units(off, 9) == 2
    assert offer.ladder(off, 64) == [8, 16, 32, 64]


def test_a_vm_in_a_wider_nvlink_domain_keeps_the_domain() -> None:
    off = CATALOG.offerings["azure-nd128isr-ndr-gb200-v6"]
    chip = offer.unit_chip(CATALOG.chips[off.chip], off)
    assert off.chips_per_unit == 4 and chip.scale_up_domain_size == 72


def test_a_shared_nic_gives_each_chip_its_share() -> None:
    off = CATALOG.offerings["aws-g6-48xlarge"]
    link = offer.fabric(off, CATALOG.interconnects[str(off.scale_out)])
    assert off.nics_per_unit and off.nic_gbps
    assert link.bandwidth_gb_s == pytest.approx(off.nics_per_unit * off.nic_gbps / 8 / 8)


def test_recommend_sizes_in_whole_units() -> None:
    for s in _run(TRAIN, top=10).stacks:
        c = s.components
        assert c.offering is not None
        off = CATALOG.offerings[c.offering.id]
        assert offer.round_up(off, c.chip.count) == c.chip.count, s.id


# --------------------------------------------------------------------------- ids and pins


def test_the_stack_id_names_the_offering_and_explain_takes_it_back() -> None:
    report = _run({**SERVE, "cloud": "gcp"})
    top = report.stacks[0]
    assert top.id.split("/")[0].startswith("gcp-")
    again = explain_stack(build_workload({**SERVE, "cloud": "gcp"}, catalog=CATALOG), CATALOG,
                          top.id)  # fmt: skip
    assert again.stacks and again.stacks[0].id == top.id
    assert again.stacks[0].metrics.cost_usd == pytest.approx(top.metrics.cost_usd)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"chip": "b200"}, "holds h100-sxm"),
        ({"cloud": "gcp"}, "is on aws"),
        ({"deploy": "onprem"}, "rented"),
    ],
)
def test_an_offering_pin_that_contradicts_another_pin_is_refused(
    extra: dict[str, str], needle: str
) -> None:
    with pytest.raises(WorkloadError, match=needle):
        _run({**TRAIN, "offering": "aws-p5-48xlarge", **extra})


def test_cli_offering_flags_and_listing(capsys: Any) -> None:
    code, out, _ = run_main(["catalog", "list", "offerings"], capsys)
    assert code == 0 and f"offerings ({len(CATALOG.offerings)})" in out
    code, out, _ = run_main(["catalog", "list", "offering", "--json"], capsys)
    listed = {o["id"]: o for o in json.loads(out)["offerings"]}
    assert listed["aws-p5-48xlarge"]["price"][0]["usd_per_unit_hour"] == 55.04
    code, _, err = run_main(
        ["recommend", "--preset", "llama-8b-chat", "--offering", "aws-p5-48xlarg"], capsys
    )
    assert code == 2 and "--offering" in err and "did you mean" in err
    code, _, err = run_main(
        ["recommend", "--preset", "llama-8b-chat", "--pricing", "cheap"], capsys
    )
    assert code == 2 and "--pricing" in err


def test_a_chip_price_in_an_overlay_is_pointed_to_offerings(tmp_path: Path, capsys: Any) -> None:
    from tests.test_catalog import CHIP

    text = CHIP.format(id="my-chip", memory="80") + "price_usd_per_hour = 2.0\n"
    (tmp_path / "chips.toml").write_text(text, encoding="utf-8")
    code, _, err = run_main(["catalog", "validate", str(tmp_path)], capsys)
    assert code == 2 and "price_usd_per_hour" in err and "offerings.toml" in err


def test_unpriced_units_of_a_cloud_stay_on_that_cloud() -> None:
    """--cloud gcp --include-unpriced adds Google's unpriced units (A4, TPU7x), never a chip
    Google does not offer at all, and the rejection names the unit that has no price."""
    values = {**TRAIN, "model": "llama-3.1-405b", "tokens": "2T", "cloud": "gcp"}
    plain = {r.id: r.reasons for r in _run(values).rejected}
    assert "publishes no on-demand price" in plain["b200"][0]
    for owner, _, _, sid in _parts_of(_run({**values, "include_unpriced": True}), CATALOG):
        assert owner == "gcp", sid


def test_a_small_units_host_does_the_sampling_it_has_cores_for() -> None:
    """Neighbour sampling runs on the unit's own host: Lambda's 1x H100 instance has 26 vCPUs
    (13 cores), not the 96-core server of an 8-GPU node, so each step samples slower there."""
    values = {"model_type": "gnn", "task": "train", "nodes": "111M", "edges": "1.6B",
              "node_features": "128", "layers": "3", "hidden": "256", "sampling": "neighbor",
              "fanout": "15,10,5", "epochs": "1", "chips": "1"}  # fmt: skip

    def cores(offering: str) -> float:
        s = _run({**values, "offering": offering}).stacks[0]
        term = next(t for t in s.terms if t.name.startswith("neighbour sampling"))
        return float(term.inputs["cores"])

    small, big = cores("lambda-gpu-1x-h100-sxm5"), cores("aws-p5-48xlarge")
    assert small == CATALOG.offerings["lambda-gpu-1x-h100-sxm5"].host_vcpus / 2 == 13
    assert big == CATALOG.offerings["aws-p5-48xlarge"].host_vcpus / 2 == 96


def test_a_card_for_a_pc_one_has_is_never_a_fleet() -> None:
    """max_units: 70B serving on-prem is not 72 GeForce cards over TCP (the PCs they would sit in
    are not priced); a DGX B200 ranks first, and an id asking for more cards is refused."""
    w = build_workload(dict(model="llama-3.1-70b", task="inference", rate=20, prompt_tokens=1000,
                            output_tokens=500, deploy="onprem"), catalog=CATALOG)  # fmt: skip
    report = recommend(w, CATALOG)
    for s in report.stacks:
        off = CATALOG.offerings[s.components.offering.id]
        assert off.max_units is None or s.components.offering.units <= off.max_units
    assert report.stacks[0].components.offering.id == "onprem-dgx-b200"
    stack = "onprem-geforce-rtx-5090-card:8/pcie-gen5/eth-25g-tcp/-/vllm"
    refused = explain_stack(w, CATALOG, stack)
    assert not refused.stacks
    assert any("exceed the 4 one stack can take" in r for j in refused.rejected for r in j.reasons)
