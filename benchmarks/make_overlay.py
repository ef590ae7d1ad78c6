"""Write a synthetic overlay catalog N times the shipped one in every component kind.

Each shipped entry gets N−1 variations with new ids (`<id>-v2` …): prices, bandwidths,
capacities and peaks scaled by small factors, so the variants are real alternatives the
engine must consider (some better, some worse), not duplicates.

    python benchmarks/make_overlay.py OUT_DIR [--factor 20]
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path
from typing import Any

from infra_advisor.tomlcompat import tomllib

FILES = {
    "chips.toml": "chip",
    "interconnects.toml": "interconnect",
    "storage.toml": "storage",
    "frameworks.toml": "framework",
    "offerings.toml": "offering",
}
SCALED = (
    "memory_bandwidth_gb_s",
    "bandwidth_gb_s",
    "read_gb_s",
    "write_gb_s",
    "read_gb_s_per_tib",
    "price_usd_per_hour",
    "price_usd_per_gb_month",
    "purchase_usd",
    "read_iops",
    "tdp_w",
)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return str(value)  # dates


def vary(entry: dict[str, Any], index: int) -> dict[str, Any]:
    factor = 0.8 + 0.4 * ((index * 7) % 11) / 10  # 0.8 … 1.2, deterministic
    out = dict(entry)
    out["id"] = f"{entry['id']}-v{index}"
    out["name"] = f"{entry['name']} (variant {index})"
    for key in SCALED:
        if isinstance(out.get(key), (int, float)) and not isinstance(out.get(key), bool):
            out[key] = round(out[key] * factor, 6)
    for table in ("peak_tflops", "sparse_peak_tflops", "matmul_sustained_tflops"):
        if isinstance(out.get(table), dict):
            out[table] = {k: round(v * factor, 6) for k, v in out[table].items()}
    if "chips_per_unit" in out:  # an offering: of the chip variant with the same index
        out["chip"] = f"{entry['chip']}-v{index}"
        out["price"] = [
            {k: round(v * factor, 6) if k.startswith("usd_per") else v for k, v in p.items()}
            for p in out.get("price", [])
        ]
    if "tdp_w" in SCALED and out.get("power_modes"):  # the top mode's budget is the board's
        out["power_modes"] = [
            {**mode, "power_w": round(mode["power_w"] * factor, 6)} for mode in out["power_modes"]
        ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--factor", type=int, default=20)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    root = resources.files("infra_advisor.data")
    counts = {}
    for name, table in FILES.items():
        entries = tomllib.loads(root.joinpath(name).read_text(encoding="utf-8"))[table]
        lines = []
        total = 0
        for entry in entries:
            for index in range(2, args.factor + 1):
                lines.append(f"[[{table}]]")
                lines.extend(f"{k} = {toml_value(v)}" for k, v in vary(entry, index).items())
                lines.append("")
                total += 1
        (args.out / name).write_text("\n".join(lines), encoding="utf-8")
        counts[name] = total + len(entries)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
