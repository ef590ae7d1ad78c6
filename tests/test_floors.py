"""The package's floors (DESIGN.md, "Engine architecture"): no module imports a higher floor.

interface → search → plan → physics → catalog, workload → units, errors, metrics.
"""

from __future__ import annotations

import ast
from pathlib import Path

import infra_advisor

PACKAGE = Path(infra_advisor.__file__).parent
FLOORS = {
    "units": 1, "errors": 1, "package_data": 1, "metrics": 1, "checks": 1, "tomlcompat": 1,
    "models": 2, "catalog": 2, "catalog_cache": 2, "catalog_checks": 2, "model_params": 2,
    "workload": 2, "job": 2, "presets": 2, "shape": 2, "report": 2,
    "physics": 3, "plan": 4, "search": 5, "interface": 6, "__main__": 7,
}  # fmt: skip


def _floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if parts[0] == "infra_advisor" and len(parts) > 1 else None


def test_every_module_has_a_floor() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if p.is_dir()}
    top -= {"__init__", "__pycache__", "presets", "data"}
    assert top <= set(FLOORS), sorted(top - set(FLOORS))


def test_no_module_imports_a_higher_floor() -> None:
    upward = []
    for path in PACKAGE.rglob("*.py"):
        here = _floor(".".join(("infra_advisor", *path.relative_to(PACKAGE).with_suffix("").parts)))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("infra_advisor"):
                targets = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                floors = [f for t in targets if (f := _floor(t)) is not None]
                if here is not None and floors and min(floors) > here:
                    upward.append(f"{path.relative_to(PACKAGE)} imports {node.module}")
    assert not upward, upward
