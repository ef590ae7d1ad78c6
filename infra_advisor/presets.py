"""Shipped workload presets: TOML files under infra_advisor/presets/, each sourced."""

from __future__ import annotations

import difflib
from importlib import resources
from typing import Any

from infra_advisor.errors import WorkloadError


def _files() -> dict[str, Any]:
    root = resources.files("infra_advisor").joinpath("presets")
    return {p.name[:-5]: p for p in root.iterdir() if p.name.endswith(".toml")}


def _read(name: str) -> dict[str, Any]:
    from infra_advisor.tomlcompat import tomllib

    files = _files()
    if name not in files:
        close = difflib.get_close_matches(name, list(files), n=1)
        raise WorkloadError(
            f"--preset: unknown preset {name!r}"
            + (f" (did you mean {close[0]!r}?)" if close else ""),
            hint="`infra-advisor presets` lists them",
        )
    data: dict[str, Any] = tomllib.loads(files[name].read_text(encoding="utf-8"))
    return data


def load_preset(name: str) -> dict[str, Any]:
    """The preset's workload keys (not yet validated), with its description."""
    data = _read(name)
    values = dict(data.get("workload", {}))
    values.setdefault("description", data.get("description", ""))
    return values


def list_presets() -> list[dict[str, Any]]:
    items = []
    for name in sorted(_files()):
        data = _read(name)
        items.append(
            {
                "id": name,
                "description": data.get("description", ""),
                "sources": data.get("sources", []),
                "notes": data.get("notes", ""),
                "workload": data.get("workload", {}),
            }
        )
    return items
