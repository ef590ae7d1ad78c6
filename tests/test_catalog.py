"""Catalog loading, overlays, coverage and every class of bad input (issue 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra_advisor.catalog import Catalog, load_catalog
from infra_advisor.errors import CatalogError

CHIP = """
[[chip]]
id = "{id}"
name = "Test chip"
vendor = "acme"
type = "gpu"
segment = "datacenter"
released = 2025
memory_gb = {memory}
memory_bandwidth_gb_s = 1000
peak_tflops = {{ bf16 = 100 }}
tdp_w = 300
as_of = 2026-11-26
sources = ["https://example.com/datasheet"]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_shipped_catalog_validates_and_meets_coverage(catalog: Catalog) -> None:
    assert len(catalog.chips) >= 60
    assert len(catalog.interconnects) >= 42
    assert len(catalog.storage) >= 12
    assert len(catalog.frameworks) >= 12
    assert {"gpu", "tpu", "cpu", "dpu", "fpga", "ipu", "npu"} <= {
        c.type for c in catalog.chips.values()
    }
    for needed in (
        "h100-sxm",
        "h200-sxm",
        "b200",
        "mi300x",
        "gaudi3",
        "tpu-v5e",
        "tpu-v5p",
        "tpu-v6e",
        "trainium2",
        "inferentia2",
        "bluefield-3",
        "graphcore-bow",
        "jetson-agx-orin-64gb",
        "coral-edge-tpu",
        "apple-m4-max",
        "snapdragon-8-elite",
        "xeon-6980p",
        "grace",
        # issue 16: the hardware of late 2026
        "b300",
        "gb300",
        "h100-nvl",
        "gh200",
        "rtx-pro-6000-blackwell",
        "a10g",
        "dgx-spark",
        "jetson-agx-thor",
        "rtx-5090",
        "rtx-4090",
        "rtx-4080",
        "rtx-4000-ada",
        "rtx-6000-ada",
        "apple-m2-ultra",
        "apple-m3-max",
        "apple-m4-pro",
        "mi350x",
        "epyc-9965",
        "ryzen-ai-max-395",
        "trainium3",
        "intel-lunar-lake-npu",
        "snapdragon-x-elite",
    ):
        assert needed in catalog.chips, needed
    segments = {c.segment for c in catalog.chips.values()}
    assert {"datacenter", "edge", "workstation", "consumer"} <= segments
    # Offerings (issue 15): the three clouds' accelerators, GPU clouds and on-prem systems.
    offered = {(o.provider, o.chip) for o in catalog.offerings.values()}
    for provider, chip in (
        ("aws", "h100-sxm"), ("aws", "h200-sxm"), ("aws", "b200"), ("aws", "gb200"),
        ("aws", "a100-40gb-sxm"), ("aws", "a10g"), ("aws", "l4"), ("aws", "l40s"),
        ("aws", "trainium1"), ("aws", "trainium2"), ("aws", "inferentia2"),
        ("gcp", "h100-sxm"), ("gcp", "tpu-v5e"), ("gcp", "tpu-v5p"), ("gcp", "tpu-v6e"),
        ("gcp", "tpu-v7"), ("gcp", "l4"), ("azure", "h100-sxm"), ("azure", "mi300x"),
        ("azure", "gb200"), ("oci", "mi300x"), ("coreweave", "h100-sxm"), ("lambda", "h100-sxm"),
        ("ibm-cloud", "gaudi3"), ("onprem", "h100-sxm"), ("onprem", "h200-sxm"),
        ("onprem", "b200"), ("onprem", "gb200"), ("onprem", "mi300x"),
    ):  # fmt: skip
        assert (provider, chip) in offered, (provider, chip)
    for off in catalog.offerings.values():
        assert all(p.source.startswith("https://") for p in off.price), off.id
        assert (off.purchase_usd is None) == (off.purchase_source is None), off.id
    for needed in (
        "nvlink-4",
        "nvlink-5-nvl72",
        "pcie-gen5",
        "ib-hdr",
        "ib-ndr",
        "ib-xdr",
        "roce-400g",
        "tpu-ici-v5p",
        "aws-efa-v3",
        "aws-efa-v4",
        "roce-800g",
        "nvlink-c2c",
        "ualink-1",
    ):
        assert needed in catalog.interconnects, needed
    assert catalog.interconnects["nvlink-5-nvl72"].max_domain_size == 72
    storage_types = {s.type for s in catalog.storage.values()}
    assert {"local_nvme", "block", "nfs", "parallel_fs", "object", "cache"} <= storage_types
    assert any(s.gpudirect_storage for s in catalog.storage.values())
    for needed in (
        "jax",
        "pytorch",
        "pytorch-xla",
        "tensorflow",
        "pyg",
        "dgl",
        "deepspeed",
        "megatron-lm",
        "vllm",
        "tensorrt-llm",
        "onnxruntime",
        "litert",
        "openvino",
        "mlx",
        "llama-cpp",
        # issue 16: frameworks of late 2026
        "vitis-ai",
        "dynamo",
        "torchtitan",
        "maxtext",
        "jetstream",
        "unsloth",
        "torchtune",
        "executorch",
        "mlc-llm",
        "coreml",
        "hailo",
    ):
        assert needed in catalog.frameworks, needed
    assert catalog.frameworks["pyg"].edge_features is True


def test_every_entry_is_sourced_and_dated(catalog: Catalog) -> None:
    for kind in ("chips", "interconnects", "storage", "frameworks", "efficiency"):
        for entry in getattr(catalog, kind).values():
            assert entry.sources and all(s.startswith("http") for s in entry.sources), entry.id
            assert entry.as_of.year >= 2024, entry.id


def test_h100_peak_is_dense_not_the_datasheet_sparse_figure(catalog: Catalog) -> None:
    # NVIDIA H100 SXM datasheet prints 1,979 TFLOPS BF16 with sparsity; dense is half.
    h100 = catalog.chips["h100-sxm"]
    assert h100.peak_tflops.bf16 == pytest.approx(989.4, rel=0.01)
    assert h100.scale_up_bandwidth_gb_s == pytest.approx(450)  # 900 GB/s bidirectional NVLink 4


def test_overlay_adds_and_replaces_by_id(tmp_path: Path) -> None:
    write(
        tmp_path,
        "chips.toml",
        CHIP.format(id="acme-x1", memory=64) + CHIP.format(id="h100-sxm", memory=96),
    )
    merged = load_catalog([tmp_path])
    assert "acme-x1" in merged.chips
    assert merged.chips["h100-sxm"].memory_gb == 96
    assert f"{tmp_path}/chips.toml" in merged.files


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, "chips.toml", '[[chip]]\nid = "x"\nname = \n')
    with pytest.raises(CatalogError) as err:
        load_catalog([tmp_path])
    assert f"{tmp_path}/chips.toml:3:" in str(err.value)


@pytest.mark.parametrize(
    ("memory", "field"),
    [("-4", "memory_gb"), ("0", "memory_gb"), ("nan", "memory_gb"), ("inf", "memory_gb")],
)
def test_bad_numbers_name_entry_and_field(tmp_path: Path, memory: str, field: str) -> None:
    write(tmp_path, "chips.toml", CHIP.format(id="bad-chip", memory=memory))
    with pytest.raises(CatalogError) as err:
        load_catalog([tmp_path])
    message = str(err.value)
    assert "chips.toml" in message and "'bad-chip'" in message and field in message


def test_unknown_field_and_enum_are_rejected(tmp_path: Path) -> None:
    write(
        tmp_path,
        "chips.toml",
        CHIP.format(id="c", memory=8).replace('type = "gpu"', 'type = "gpx"'),
    )
    with pytest.raises(CatalogError, match="field type"):
        load_catalog([tmp_path])
    write(tmp_path, "chips.toml", CHIP.format(id="c", memory=8) + "memory_gib = 3\n")
    with pytest.raises(CatalogError, match="memory_gib: unknown field"):
        load_catalog([tmp_path])


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("memory = 8", "memory_gb"), ("tdp = 300", "tdp_w"), ("peak_tflops.bf17 = 3", "bf16")],
)
def test_unknown_catalog_fields_get_did_you_mean(tmp_path: Path, typo: str, meant: str) -> None:
    text = CHIP.format(id="c", memory=8)
    if typo.startswith("peak_tflops"):
        text = text.replace("{ bf16 = 100 }", "{ bf16 = 100, bf17 = 3 }")
        assert "bf17" in text, "the fixture's peak table moved"
    else:
        text += typo + "\n"
    write(tmp_path, "chips.toml", text)
    with pytest.raises(CatalogError) as err:
        load_catalog([tmp_path])
    message = str(err.value)
    assert f"did you mean {meant}?" in message
    # The rules the message points to are a file an installed user has, not a repository path.
    where = message.rsplit("the field list is in ", 1)[1].split(";")[0].strip()
    assert Path(where).is_file() and "Consistency checks" in Path(where).read_text()


def test_duplicate_ids_in_one_file_are_rejected(tmp_path: Path) -> None:
    write(
        tmp_path, "chips.toml", CHIP.format(id="twin", memory=8) + CHIP.format(id="twin", memory=8)
    )
    with pytest.raises(CatalogError, match="duplicate id 'twin'"):
        load_catalog([tmp_path])


def test_unknown_interconnect_reference_is_rejected(tmp_path: Path) -> None:
    text = (
        CHIP.format(id="linked", memory=8)
        + 'scale_up_interconnect = "warp-link"\nscale_up_bandwidth_gb_s = 10\n'
    )
    write(tmp_path, "chips.toml", text)
    with pytest.raises(CatalogError, match="unknown interconnect id 'warp-link'"):
        load_catalog([tmp_path])


def test_missing_source_is_a_defect(tmp_path: Path) -> None:
    write(
        tmp_path,
        "chips.toml",
        CHIP.format(id="c", memory=8).replace(
            'sources = ["https://example.com/datasheet"]', "sources = []"
        ),
    )
    with pytest.raises(CatalogError, match="sources"):
        load_catalog([tmp_path])


def test_non_utf8_and_directories_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "chips.toml").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_catalog([tmp_path])
    other = tmp_path / "d"
    (other / "chips.toml").mkdir(parents=True)
    with pytest.raises(CatalogError, match="is a directory"):
        load_catalog([other])
    with pytest.raises(CatalogError, match="no such directory"):
        load_catalog([tmp_path / "nope"])
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "chip.toml").write_text("")
    with pytest.raises(CatalogError, match="holds none of"):
        load_catalog([empty])


def test_wrong_table_name_is_named(tmp_path: Path) -> None:
    write(tmp_path, "chips.toml", CHIP.format(id="c", memory=8).replace("[[chip]]", "[[chips]]"))
    with pytest.raises(CatalogError, match="unknown table 'chips'"):
        load_catalog([tmp_path])


def test_loading_never_modifies_the_overlay(tmp_path: Path) -> None:
    write(tmp_path, "chips.toml", CHIP.format(id="keep", memory=8))
    before = (tmp_path / "chips.toml").read_bytes()
    load_catalog([tmp_path])
    assert (tmp_path / "chips.toml").read_bytes() == before


def test_catalog_validate_names_the_typo_and_its_fix(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from infra_advisor.interface.cli import app

    write(tmp_path, "chips.toml", CHIP.format(id="c", memory=8).replace("tdp_w", "tdp"))
    result = CliRunner().invoke(app, ["catalog", "validate", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "chips.toml:" in result.stderr and "'c'" in result.stderr
    assert "tdp: unknown field (did you mean tdp_w?)" in result.stderr
