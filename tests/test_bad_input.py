"""A corpus of bad input: each gets one clear message naming the culprit, exit 2, no traceback.

Run through the real entry point (``infra_advisor.interface.entry.main``), as a user or CI job would meet it.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from infra_advisor.interface.entry import main
from tests.test_catalog import CHIP as CATALOG_CHIP

CHIP = CATALOG_CHIP.replace("{id}", "test-chip")  # the same test chip as test_catalog.py


def run_main(argv: list[str], capsys: Any) -> tuple[int, str, str]:
    old = sys.argv
    sys.argv = ["infra-advisor", *argv]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        sys.argv = old
    out = capsys.readouterr()
    code = exit_info.value.code
    return int(code) if code is not None else 0, out.out, out.err


BASE = ["recommend", "--preset", "llama-8b-chat", "--json"]

FLAG_CORPUS = [
    # (extra argv, words the message must contain)
    (["--params", "seventy"], ["--params", "'seventy'"]),
    (["--params", "-5"], ["--params", "negative"]),
    (["--params=-5"], ["--params", "negative"]),
    (["--params", "0.1.0"], ["--params", "'0.1.0'"]),
    (["--rate", "0"], ["--rate", "greater than zero"]),
    (["--hidden", "0"], ["--hidden", "at least 1"]),
    (["--params", "1e40"], ["--params", "absurdly large"]),
    (["--params", "1e400"], ["--params", "not a finite number"]),
    (["--params", "nan"], ["--params", "'nan'"]),
    (["--chips", "1e12"], ["--chips", "absurdly large"]),
    (["--dataset-size", "5 parsecs"], ["--dataset-size"]),
    (["--deadline", "1e30d"], ["--deadline", "absurdly large"]),
    (["--power-budget", "15 horses"], ["--power-budget", "'horses'"]),
    (["--task", "fly"], ["--task", "'fly'", "train"]),
    (["--precision", "fp7"], ["--precision", "'fp7'"]),
    (["--optimize", "fast"], ["--optimize", "'fast'"]),
    (["--model-type", "llm"], ["--model-type", "'llm'"]),
    (["--chip", "h900"], ["--chip", "'h900'", "catalog list chips"]),
    (["--interconnect", "ib-ultra"], ["--interconnect", "'ib-ultra'"]),
    (["--storage", "floppy"], ["--storage", "'floppy'"]),
    (["--framework", "caffe"], ["--framework", "'caffe'"]),
    (["--fanout", "10,x"], ["--fanout", "'10,x'"]),
    (["--weight-sparsity", "1.5"], ["--weight-sparsity"]),
    (["--bogus", "1"], ["--bogus", "recommend --help"]),
    (["--top", "0"], ["--top"]),
    (["--preset", "nope"], ["--preset", "'nope'"]),
]


@pytest.mark.parametrize(("extra", "words"), FLAG_CORPUS, ids=lambda v: str(v)[:40])
def test_bad_flag_names_the_culprit(extra: list[str], words: list[str], capsys: Any) -> None:
    code, out, err = run_main([*BASE, *extra], capsys)
    assert code == 2
    assert out == ""  # nothing on stdout: a script reading JSON gets nothing half-written
    assert err.startswith("infra-advisor: error: ") and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def test_bad_format_is_named(capsys: Any) -> None:
    code, out, err = run_main(
        ["recommend", "--preset", "llama-8b-chat", "--format", "yaml"], capsys
    )
    assert code == 2 and out == "" and "--format" in err and "'yaml'" in err


def test_bad_stack_ids_are_named(capsys: Any) -> None:
    for stack, word in [
        ("garbage", "'garbage'"),
        ("h100-sxm:0/-/-/gcs/vllm", "chip count '0'"),
        ("nochip:1/-/-/gcs/vllm", "'nochip'"),
        ("h100-sxm:1/-/-/gcs/vllm/dpu:x", "'x' is not a DPU"),
    ]:
        code, _, err = run_main(["explain", stack, "--preset", "llama-8b-chat"], capsys)
        assert code == 2 and word in err, err


WORKLOAD_CORPUS = [
    # (file bytes, words the message must contain, besides the file name)
    (b'task = "train"\nparams = \n', [":2:", "TOML syntax error"]),
    (b'task = "train"\nparms = "7B"\n', ["parms", "did you mean 'params'"]),
    (b'task = ["train"]\n', ["task"]),
    (b'params = "7B"\n[extra]\nx = 1\n', ["[extra]"]),
    (b"\xff\xfe\x00\x01binary", ["not UTF-8"]),
    (b'params = "1e40"\n', ["params", "absurdly large"]),
    (b"params = nan\n", ["params"]),
    (b"params = inf\n", ["params"]),
    (b'model_type = "quantum"\n', ["model", "'quantum'"]),
    (b"# " + b"x" * (2 * 1024 * 1024), ["over 1 MiB"]),
]


@pytest.mark.parametrize(("raw", "words"), WORKLOAD_CORPUS, ids=lambda v: str(v)[:30])
def test_bad_workload_file_names_file_and_key(
    raw: bytes, words: list[str], tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "w.toml"
    path.write_bytes(raw)
    code, out, err = run_main(["recommend", "--workload", str(path), "--json"], capsys)
    assert code == 2 and out == ""
    assert str(path) in err and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert path.read_bytes() == raw  # input files are never modified


def test_workload_paths_that_are_not_files(tmp_path: Path, capsys: Any) -> None:
    for path, word in [(tmp_path, "is a directory"), (tmp_path / "missing.toml", "no such file")]:
        code, _, err = run_main(["recommend", "--workload", str(path), "--json"], capsys)
        assert code == 2 and str(path) in err and word in err


CATALOG_CORPUS = [
    # (file name, text, words the message must contain)
    ("chips.toml", CHIP.format(memory="nan"), ["chips.toml:", "'test-chip'", "memory_gb"]),
    ("chips.toml", CHIP.format(memory="inf"), ["chips.toml:", "'test-chip'", "memory_gb"]),
    ("chips.toml", CHIP.format(memory="-80"), ["chips.toml:", "'test-chip'", "memory_gb"]),
    ("chips.toml", CHIP.format(memory="0"), ["chips.toml:", "'test-chip'", "memory_gb"]),
    ("chips.toml", CHIP.format(memory='"80GB"'), ["chips.toml:", "memory_gb"]),
    ("chips.toml", CHIP.format(memory="80") * 2, ["chips.toml:", "duplicate id 'test-chip'"]),
    ("chips.toml", CHIP.format(memory="80").replace('"gpu"', '"gpuu"'), ["type"]),
    ("chips.toml", CHIP.format(memory="80").replace("tdp_w", "tdp_watts"), ["tdp_watts", "unknown field"]),
    ("chips.toml", CHIP.format(memory="80 GB"), ["chips.toml:9:", "TOML syntax error"]),
    (
        "chips.toml",
        CHIP.format(memory="80") + 'scale_up_interconnect = "warp-link"\nscale_up_bandwidth_gb_s = 9\n',
        ["chips.toml", "'test-chip'", "'warp-link'"],
    ),
    ("storage.toml", '[[storage]]\nid = "s"\nname = "S"\ntype = "nfs"\nas_of = 2026-01-01\nsources = ["https://x.org"]\n', ["storage.toml:2:", "read_gb_s"]),
    ("chips.toml", CHIP.format(memory="80").replace("https://example.com/datasheet", "ftp://x"), ["sources", "URL"]),
    ("chips.toml", "# " + "x" * (9 * 1024 * 1024), ["chips.toml", "limit"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "words"), CATALOG_CORPUS, ids=lambda v: str(v)[:30])
def test_bad_catalog_names_file_entry_and_field(
    name: str, text: str, words: list[str], tmp_path: Path, capsys: Any
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    before = (tmp_path / name).read_bytes()
    code, out, err = run_main([*BASE, "--catalog", str(tmp_path)], capsys)
    assert code == 2 and out == "" and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert (tmp_path / name).read_bytes() == before
    code, _, err2 = run_main(["catalog", "validate", str(tmp_path)], capsys)
    assert code == 2 and all(word in err2 for word in words)


def test_catalog_paths_that_are_not_directories(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "file.toml").write_text("")
    for path, word in [(tmp_path / "missing", "no such directory"), (tmp_path / "file.toml", "")]:
        code, _, err = run_main([*BASE, "--catalog", str(path)], capsys)
        assert code == 2 and str(path) in err and word in err


def test_exports_refuse_missing_folders_and_files_in_the_way(tmp_path: Path, capsys: Any) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    for target, word in [
        (tmp_path / "no" / "such" / "x.svg", "does not exist"),
        (blocker / "x.svg", "cannot write"),
        (blocker, "already exists"),
        (tmp_path, "is a directory"),
    ]:
        argv = ["recommend", "--preset", "llama-8b-chat", "--export-svg", str(target)]
        code, _, err = run_main(argv, capsys)
        assert code == 2 and str(target) in err and word in err, err
    assert blocker.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # no stray temporary files


def test_no_network_is_used(monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("infra-advisor opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    (tmp_path / "chips.toml").write_text(CHIP.format(memory="80"), encoding="utf-8")
    for argv in (
        [*BASE, "--catalog", str(tmp_path)],
        ["recommend", "--preset", "edge-gnn-friendship", "--format", "markdown"],
        ["catalog", "validate", str(tmp_path)],
    ):
        code, out, err = run_main(argv, capsys)
        assert code in (0, 1) and out, err


def test_data_files_cannot_run_code() -> None:
    # Catalogs, presets and workloads are parsed with tomllib only: the package holds no eval, exec,
    # pickle, marshal, dynamic import, shell or network client that data could reach.
    import infra_advisor

    root = Path(infra_advisor.__file__).parent
    banned = ["eval(", "exec(", "import pickle", "import marshal", "__import__", "import_module(",
              "import subprocess", "os.system", "import urllib", "http.client", "import requests",
              "import socket", "shelve"]  # fmt: skip
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in banned:
            assert word not in text, f"{path.name} uses {word}"
