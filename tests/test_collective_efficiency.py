"""Ring-collective efficiency by link (F13d): a link entry's measured collective_efficiency, else
the catalog-wide network efficiency, chosen for the link a group rides (group_link's choice), and
the check that rejects an impossible value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra_advisor.catalog import Catalog, load_catalog
from infra_advisor.job import build_job
from infra_advisor.physics import network
from infra_advisor.plan.evaluate import collective_efficiency, group_interconnect, group_link
from infra_advisor.workload import Workload
from tests.test_bad_input import run_main
from tests.test_catalog_checks import LINK, assert_named, line_of, validate


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_an_infiniband_ring_reaches_what_nccl_s_maintainers_quote(catalog: Catalog) -> None:
    # nccl-tests issue #119 (sjeaugey): 'We usually consider 24GB/s is the peak performance per
    # 200G NIC'; nccl issue #412: '24GB/s inter-node' for an HDR 200G node.  Two nodes, one NIC
    # a GPU, ring all-reduce of 8 GB: bus bandwidth = 2(n-1)/n * S / t.
    hdr = catalog.interconnects["ib-hdr"]
    assert hdr.collective_efficiency is not None
    size, n = 8e9, 16
    t = network.all_reduce_time(size, n, hdr.bandwidth_gb_s * 1e9, hdr.latency_us * 1e-6,
                                hdr.collective_efficiency)  # fmt: skip
    assert 2 * (n - 1) / n * size / t == pytest.approx(24e9, rel=0.02)


def test_the_group_s_link_sets_its_efficiency(catalog: Catalog) -> None:
    job = build_job(Workload(task="train", params=7e9), catalog)
    chip = catalog.chips["h100-sxm"]
    up, out = catalog.interconnects["nvlink-4"], catalog.interconnects["ib-ndr"]
    # Inside the 8-GPU NVLink domain: the catalog-wide figure (NVLink states none).
    assert group_interconnect(8, chip, up, out) is up
    assert collective_efficiency(job, 8, 8, chip, up, out) == job.eff["network"]
    # Across nodes: the NIC's measured share, on the link group_link costs the group on.
    assert group_link(64, 64, chip, up, out)[2] == "ib-ndr"
    assert collective_efficiency(job, 64, 64, chip, up, out) == out.collective_efficiency
    # One chip exchanges nothing; the figure is the catalog-wide one.
    assert collective_efficiency(job, 1, 1, chip, up, out) == job.eff["network"]


def _dp_sync(link: str, capsys: Any) -> float:
    args = ["recommend", "--model", "llama-3.1-8b", "--task", "train", "--tokens", "1B",
            "--chip", "h100-sxm", "--chips", "64", "--interconnect", link,
            "--framework", "megatron-lm", "--tensor-parallel", "1", "--pipeline-parallel", "1",
            "--micro-batch", "1", "--top", "1", "--json"]  # fmt: skip
    code, out, err = run_main(args, capsys)
    assert code == 0, err
    stack = json.loads(out)["stacks"][0]
    term = next(t for t in stack["terms"] if t["name"] == "data-parallel gradient sync per step")
    assert term["inputs"]["link"] == link
    return float(term["value"])


def test_a_data_parallel_exchange_over_infiniband_runs_at_the_nic_s_share(capsys: Any) -> None:
    # Same 50 GB/s per direction: InfiniBand NDR at its measured 0.96, RoCE 400G (no
    # published NCCL figure here) at the catalog-wide 0.75; the exchange is bandwidth-bound.
    ib, roce = _dp_sync("ib-ndr", capsys), _dp_sync("roce-400g", capsys)
    assert ib / roce == pytest.approx(0.75 / 0.96, rel=0.05)


def test_an_efficiency_above_one_is_rejected(tmp_path: Path, capsys: Any) -> None:
    text = LINK.format(id="test-link", scope="scale_out", bandwidth="50").replace(
        "rdma = true\n", "rdma = true\ncollective_efficiency = 1.2\n"
    )
    code, message = validate(tmp_path, {"interconnects.toml": text}, capsys)
    assert code == 2
    assert_named(message, f"{tmp_path}/interconnects.toml:{line_of(text, 'id =')}", "test-link",
                 "collective_efficiency")  # fmt: skip
    assert "less than or equal to 1" in message
