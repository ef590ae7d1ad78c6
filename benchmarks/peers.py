"""Peers: infra-advisor and NVIDIA's aiconfigurator side by side on the llm-serving cases.

Run from the repository root with the project installed:

    python benchmarks/peers.py                      # every llm-serving case of fidelity/cases.toml
    python benchmarks/peers.py --limit 6            # the first six of them
    python benchmarks/peers.py --case ID --case ID  # chosen cases
    python benchmarks/peers.py --markdown           # the table as benchmarks/README.md shows it
    python benchmarks/peers.py --venv PATH          # an environment that already has aiconfigurator
    python benchmarks/peers.py --no-aiconfigurator  # infra-advisor only (no environment needed)

aiconfigurator (PyPI ``aiconfigurator``, an estimator over measured kernel tables) is a peer used
only here: it lives in its own virtual environment, ``benchmarks/.venv-peers`` unless ``--venv``
says otherwise, which this script creates on first use (``python -m venv`` + ``pip install
aiconfigurator==VERSION``).  It is never imported into this interpreter and is no runtime or test
dependency of the project; each answer is one ``aiconfigurator cli exp`` subprocess, time-boxed
by ``--timeout``.

How a case is put to aiconfigurator: its aggregated (in-flight batching) search, on the case's GPU
(``--system``), with the TensorRT-LLM backend at the perf-database version the package calls
current, tensor parallelism pinned to the case's chip count (pp 1, dp 1, one worker), the case's
ISL/OSL, TTFT and TPOT limits of 1e8 ms (so the best point is the saturated one), the KV-cache
memory fraction the published run used (0.95), and FP8 as NVIDIA's FP8 checkpoints run in
TensorRT-LLM (static per-tensor FP8 GEMMs, FP8 KV cache, FP8 attention).  The model is one of the
Hugging Face configs aiconfigurator bundles, matched on the case's shape.  A case it cannot
express (no such GPU or model in its data, another precision) prints "n/a" with the reason.

infra-advisor answers through benchmarks/fidelity.py's own runner (same workload, same pinned
stack, framework and layout left to the planner), with the catalog loaded once.  Seconds per answer
are wall-clock: for aiconfigurator the whole subprocess (interpreter start and perf-database load
included), for infra-advisor one ``recommend`` call.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_VENV = HERE / ".venv-peers"
AIC_VERSION = "0.12.0"
UNBOUNDED_MS = 1e8
KV_MEMORY_FRACTION = 0.95  # the published runs: --kv_cache_free_gpu_mem_fraction 0.95

# Our chip ids -> aiconfigurator system names (its systems/ folder).
SYSTEMS = {
    "h100-sxm": "h100_sxm",
    "h200-sxm": "h200_sxm",
    "h100-pcie": "h100_pcie",
    "a100-80gb-sxm": "a100_sxm",
    "b200": "b200_sxm",
    "gb200": "gb200",
    "l40s": "l40s",
    "l4": "l4",
}
# Transformer shape (layers, hidden, heads, kv_heads) -> a model config aiconfigurator bundles.
MODELS = {
    (32, 4096, 32, 8): "meta-llama/Meta-Llama-3.1-8B",
    (80, 8192, 64, 8): "meta-llama/Meta-Llama-3.1-70B",
    (126, 16384, 128, 8): "meta-llama/Meta-Llama-3.1-405B",
}
# Our precision -> aiconfigurator's GEMM, KV-cache and attention quantisation modes.
QUANT = {
    "fp8": {"gemm_quant_mode": "fp8_static", "kvcache_quant_mode": "fp8", "fmha_quant_mode": "fp8"},
    "bf16": {
        "gemm_quant_mode": "bfloat16",
        "kvcache_quant_mode": "bfloat16",
        "fmha_quant_mode": "bfloat16",
    },
}


@dataclass
class Answer:
    value: float | None
    seconds: float
    note: str = ""


@dataclass
class Row:
    case: dict[str, Any]
    ours: Answer
    peer: Answer | None

    def ratio(self, answer: Answer | None) -> float | None:
        measured = float(self.case["measured"])
        if answer is None or answer.value is None or answer.value <= 0 or measured <= 0:
            return None
        return answer.value / measured


def fidelity() -> ModuleType:
    """benchmarks/fidelity.py, loaded by path (benchmarks/ is no package)."""
    spec = importlib.util.spec_from_file_location("fidelity", HERE / "fidelity.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fidelity", module)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- the environment


def venv_tool(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / "aiconfigurator"


def ensure_venv(venv: Path, version: str) -> Path:
    """The aiconfigurator console script in ``venv``; create the venv and install it if absent."""
    tool = venv_tool(venv)
    if tool.exists():
        return tool
    if not (venv / "pyvenv.cfg").exists():
        print(f"creating {venv} (benchmark-only environment for aiconfigurator)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    print(f"installing aiconfigurator=={version} into {venv}", file=sys.stderr)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"aiconfigurator=={version}"], check=True
    )
    if not tool.exists():
        raise SystemExit(f"{venv}: pip installed aiconfigurator but {tool} is missing")
    return tool


# --------------------------------------------------------------------------- aiconfigurator


def aic_experiment(case: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The `cli exp` task for a case, or None and why aiconfigurator cannot express it."""
    w = case.get("workload", {})
    stack = case.get("stack", {})
    if case.get("kind") != "engine" or case.get("metric") != "tokens_per_s":
        return None, "not a serving-throughput case"
    if w.get("task") != "inference" or w.get("model_type") != "transformer":
        return None, "not transformer inference"
    if not (w.get("prompt_tokens") and w.get("output_tokens")):
        return None, "no fixed ISL/OSL (prompt_tokens, output_tokens)"
    system = SYSTEMS.get(str(stack.get("chip")))
    if system is None:
        return None, f"no aiconfigurator system for chip {stack.get('chip')!r}"
    shape = tuple(int(w.get(k, 0)) for k in ("layers", "hidden", "heads", "kv_heads"))
    model = MODELS.get(shape)  # type: ignore[arg-type]
    if model is None:
        return None, f"no bundled model config of shape {shape}"
    quant = QUANT.get(str(w.get("precision")))
    if quant is None:
        return None, f"precision {w.get('precision')!r} not mapped"
    chips = int(stack.get("chips", 1))
    return {
        "serving_mode": "agg",
        "model_path": model,
        "system_name": system,
        "backend_name": "trtllm",
        "total_gpus": chips,
        "isl": int(w["prompt_tokens"]),
        "osl": int(w["output_tokens"]),
        "ttft": UNBOUNDED_MS,
        "tpot": UNBOUNDED_MS,
        "free_gpu_memory_fraction": KV_MEMORY_FRACTION,
        **quant,
        "agg_num_gpu_candidates": [chips],
        "agg_tp_candidates": [chips],
        "agg_pp_candidates": [1],
        "agg_dp_candidates": [1],
    }, ""


def _failure(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
    errors = [ln for ln in lines if "Error" in ln or "error:" in ln or "OOM" in ln]
    return (errors or lines or [f"exit status {proc.returncode}"])[-1][:150]


def _best_row(save_dir: Path) -> dict[str, str] | None:
    for path in sorted(save_dir.rglob("best_config_topn.csv")):
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        if rows:
            return rows[0]
    return None


def run_aic(tool: Path, case: dict[str, Any], timeout_s: float) -> Answer:
    """aiconfigurator's best saturated output tokens/s for the case, in one subprocess."""
    task, why = aic_experiment(case)
    if task is None:
        return Answer(None, 0.0, f"n/a: {why}")
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        spec = Path(tmp) / "exp.yaml"
        spec.write_text(json.dumps({"case": task}, indent=1))  # JSON is YAML
        cmd = [str(tool), "cli", "exp", "--yaml-path", str(spec), "--save-dir", tmp, "--no-color"]
        env = {**os.environ, "AICONFIGURATOR_LOG_LEVEL": "WARNING", "PYTHONWARNINGS": "ignore"}
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=tmp
            )
        except subprocess.TimeoutExpired:
            return Answer(
                None, time.perf_counter() - start, f"n/a: timed out after {timeout_s:g} s"
            )
        seconds = time.perf_counter() - start
        row = _best_row(Path(tmp))
        if row is None:
            return Answer(None, seconds, f"n/a: {_failure(proc)}")
    per_gpu = float(row["tokens/s/gpu"])
    value = per_gpu * int(task["total_gpus"])
    return Answer(value, seconds, f"bs {row.get('bs')} {row.get('parallel', '')}".strip())


# --------------------------------------------------------------------------- infra-advisor


def run_ours(harness: ModuleType, case: dict[str, Any], catalog: Any) -> Answer:
    start = time.perf_counter()
    result = harness.run_all([case], catalog)[0]
    seconds = time.perf_counter() - start
    value = result.estimate if isinstance(result.estimate, float) else None
    return Answer(value, seconds, "" if value is not None else f"none: {result.note}")


# --------------------------------------------------------------------------- report


def _ratio_text(r: float | None, answer: Answer | None) -> str:
    if answer is None:
        return "—"
    return f"{r:.2f}" if r is not None else "n/a"


def _value_text(answer: Answer | None) -> str:
    if answer is None:
        return "—"
    return f"{answer.value:.0f}" if answer.value is not None else "n/a"


def table(rows: list[Row], markdown: bool) -> str:
    head = ("case", "measured", "infra-advisor", "ratio", "s/answer", "aiconfigurator", "ratio",
            "s/answer", "aiconfigurator point")  # fmt: skip
    body = []
    for row in rows:
        peer = row.peer
        body.append(
            (
                str(row.case["id"]),
                f"{float(row.case['measured']):.0f}",
                _value_text(row.ours),
                _ratio_text(row.ratio(row.ours), row.ours),
                f"{row.ours.seconds:.3f}",
                _value_text(peer),
                _ratio_text(row.ratio(peer), peer),
                f"{peer.seconds:.1f}" if peer and peer.seconds else "—",
                (peer.note if peer else "not run")[:90],
            )
        )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])
    widths = [max(len(r[i]) for r in [*body, head]) for i in range(len(head))]
    fmt = "  ".join(f"{{:{'<' if i in (0, 8) else '>'}{w}}}" for i, w in enumerate(widths))
    return "\n".join(line.rstrip() for line in [fmt.format(*head), *(fmt.format(*r) for r in body)])


def _share(ratios: list[float | None], low: float, high: float) -> str:
    if not ratios:
        return "—"
    hits = sum(r is not None and low <= r <= high for r in ratios)
    return f"{hits}/{len(ratios)} ({hits / len(ratios):.0%})"


def _median_abs_log(ratios: list[float | None]) -> str:
    logs = sorted(abs(math.log(r)) if r is not None else math.inf for r in ratios)
    if not logs:
        return "—"
    mid = len(logs) // 2
    value = logs[mid] if len(logs) % 2 else (logs[mid - 1] + logs[mid]) / 2
    return f"{value:.3f}"


def summary(rows: list[Row]) -> str:
    lines = []
    tools: list[tuple[str, list[Answer | None]]] = [("infra-advisor", [r.ours for r in rows])]
    if any(r.peer is not None for r in rows):
        tools.append(("aiconfigurator", [r.peer for r in rows]))
    both = [r for r in rows if r.ratio(r.ours) is not None and r.ratio(r.peer) is not None]
    for name, answers in tools:
        ratios = [rows[i].ratio(a) for i, a in enumerate(answers) if a is not None]
        answered = [a for a in answers if a is not None and a.value is not None]
        secs = sorted(a.seconds for a in answered)
        speed = f"{secs[len(secs) // 2]:.3f} s" if secs else "—"
        on_both = [r.ratio(r.ours if name == "infra-advisor" else r.peer) for r in both]
        lines.append(
            f"{name}: within ±25% (0.75 ≤ ratio ≤ 1.25) {_share(ratios, 0.75, 1.25)}; "
            f"within ×1.25 {_share(ratios, 1 / 1.25, 1.25)}; within ×1.5 "
            f"{_share(ratios, 1 / 1.5, 1.5)}; median |ln r| {_median_abs_log(ratios)} "
            f"(no answer counts as a miss); on the {len(both)} cases both answered: within ±25% "
            f"{_share(on_both, 0.75, 1.25)}; median {speed} per answer"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", action="append", default=[], help="a case id (repeatable)")
    parser.add_argument("--category", default="llm-serving")
    parser.add_argument("--limit", type=int, help="only the first N chosen cases")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--aic-version", default=AIC_VERSION)
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds per aiconfigurator answer"
    )
    parser.add_argument("--no-aiconfigurator", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--cases", type=Path, default=HERE / "fidelity" / "cases.toml")
    args = parser.parse_args()

    harness = fidelity()
    cases = harness.load_cases(args.cases)
    if args.case:
        known = {c["id"]: c for c in cases}
        missing = [i for i in args.case if i not in known]
        if missing:
            raise SystemExit(f"unknown case id(s): {', '.join(missing)}")
        cases = [known[i] for i in args.case]
    else:
        cases = [c for c in cases if c["category"] == args.category]
    cases = cases[: args.limit] if args.limit else cases
    if not cases:
        raise SystemExit("no cases chosen")

    from infra_advisor.catalog import load_catalog

    catalog = load_catalog()
    tool = None if args.no_aiconfigurator else ensure_venv(args.venv, args.aic_version)
    rows = []
    for case in cases:
        ours = run_ours(harness, case, catalog)
        peer = run_aic(tool, case, args.timeout) if tool else None
        rows.append(Row(case, ours, peer))
        print(f"  {case['id']}: done", file=sys.stderr, flush=True)
    print(table(rows, args.markdown))
    print()
    print(summary(rows))
    for row in rows:
        if row.ours.note:
            print(f"infra-advisor, {row.case['id']}: {row.ours.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
