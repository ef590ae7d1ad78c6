"""Calibration on real hardware: four short measurements, written as fidelity cases.

Needs a CUDA (or ROCm) build of PyTorch; PyTorch Geometric is optional.  Nothing in the test suite
runs this.  Usage, on the machine with the accelerator:

    python benchmarks/gpu_calibration.py --chip h100-sxm --out calibration.toml

It measures, with CUDA events after warm-up, the median of several repetitions:
1. bf16 matrix-multiply throughput (8192³ GEMM)            -> achieved / catalog peak (compute-*)
2. device memory bandwidth (a 4 GiB device-to-device copy)  -> achieved / catalog bandwidth
3. a memory-bound decode loop of a randomly initialised transformer (batch 1, bf16 weights)
                                                            -> time per token, a `tpot_s` case
4. a GINEConv layer (edge features) on a random graph, if torch_geometric is importable
and writes them as [[case]] tables (category "calibration", split "calibrate", the device name,
driver and date in `original` and `as_of`) ready to append to benchmarks/fidelity/cases.toml.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from collections.abc import Callable
from pathlib import Path


def timed(fn: Callable[[], object], reps: int = 10, warmup: int = 3) -> float:
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times)


def gemm_tflops(n: int = 8192) -> float:
    import torch

    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    return 2 * n**3 / timed(lambda: a @ b) / 1e12


def copy_gb_s(size: int = 4 << 30) -> float:
    import torch

    src = torch.empty(size, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    return 2 * size / timed(lambda: dst.copy_(src)) / 1e9  # read + write


def decode_tpot(layers: int = 16, hidden: int = 4096, tokens: int = 32) -> tuple[float, float]:
    """Seconds per token of a batch-1 decode over random bf16 weights; returns (tpot, params)."""
    import torch

    blocks = [
        (
            torch.randn(hidden, 3 * hidden, device="cuda", dtype=torch.bfloat16) * 0.01,
            torch.randn(hidden, hidden, device="cuda", dtype=torch.bfloat16) * 0.01,
            torch.randn(hidden, 4 * hidden, device="cuda", dtype=torch.bfloat16) * 0.01,
            torch.randn(4 * hidden, hidden, device="cuda", dtype=torch.bfloat16) * 0.01,
        )
        for _ in range(layers)
    ]
    params = layers * 12 * hidden * hidden

    def run() -> None:
        x = torch.randn(1, hidden, device="cuda", dtype=torch.bfloat16)
        for _ in range(tokens):
            for qkv, out, up, down in blocks:
                q = x @ qkv
                x = x + q[:, :hidden] @ out
                x = x + torch.nn.functional.gelu(x @ up) @ down

    return timed(run, reps=5) / tokens, float(params)


def gine_step(nodes: int = 1_000_000, edges: int = 10_000_000, dim: int = 64) -> float | None:
    try:
        import torch
        from torch_geometric.nn import GINEConv
    except ImportError:
        return None
    x = torch.randn(nodes, dim, device="cuda")
    index = torch.randint(0, nodes, (2, edges), device="cuda")
    attr = torch.randn(edges, dim, device="cuda")
    conv = GINEConv(torch.nn.Linear(dim, dim), edge_dim=dim).cuda()
    return timed(lambda: conv(x, index, attr))


def main() -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chip", required=True, help="catalog id of the device, e.g. h100-sxm")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing measured", file=sys.stderr)
        return 2
    if args.out.exists():
        print(f"{args.out}: already exists; not overwritten", file=sys.stderr)
        return 2
    device = torch.cuda.get_device_name()
    today = dt.date.today().isoformat()
    where = f"measured on {device}, torch {torch.__version__}, CUDA {torch.version.cuda}, {today}"
    tflops, gbs = gemm_tflops(), copy_gb_s()
    tpot, params = decode_tpot()
    gine = gine_step()
    cases = [
        ("gemm-bf16", "tflops_bf16", tflops, "8192³ bf16 GEMM"),
        ("copy", "memory_gb_s", gbs, "4 GiB device-to-device copy (read+write)"),
        ("decode", "tpot_s", tpot, f"batch-1 decode, {params / 1e9:.2f}B random bf16 weights"),
    ]
    if gine is not None:
        cases.append(
            ("gine", "step_time_s", gine, "GINEConv 1M nodes, 10M edges, 64-d edge features")
        )
    lines = []
    for name, metric, value, what in cases:
        lines += [
            "[[case]]",
            f'id = "calib-{args.chip}-{name}-{today}"',
            'split = "calibrate"',
            'category = "calibration"',
            'kind = "device"',  # a device figure, recorded beside the cases; not an engine run
            f'metric = "{metric}"',
            f"measured = {value!r}",
            f'original = "{what}: {value:.4g} ({where})"',
            'source = "local measurement with benchmarks/gpu_calibration.py"',
            f'where = "{where}"',
            f'as_of = "{today}"',
            f'[case.stack]\nchip = "{args.chip}"\nchips = 1',
            "",
        ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    for _, metric, value, what in cases:
        print(f"{what:55} {metric:12} {value:.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
