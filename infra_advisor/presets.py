"""Shipped workload presets: TOML files under infra_advisor/presets/, each sourced."""

from __future__ import annotations

from functools import cache
from typing import Any

from infra_advisor import package_data
from infra_advisor.errors import WorkloadError

# The presets parsed at build time (python -m infra_advisor.catalog_cache), keyed by name, each
# with the digest of the TOML it was parsed from: reading it keeps tomllib out of a preset run.
PARSED_FORM = "presets_parsed.json"


def _files() -> list[str]:
    return [n[:-5] for n in package_data.names("infra_advisor", "presets") if n.endswith(".toml")]


@cache
def _parsed() -> dict[str, Any]:
    """The parsed form, read once per process (every preset read consults it)."""
    import json

    raw = package_data.read_bytes("infra_advisor", PARSED_FORM)
    try:
        form: dict[str, Any] = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return form


def _read(name: str) -> dict[str, Any]:
    files = _files()
    if name not in files:
        import difflib

        close = difflib.get_close_matches(name, list(files), n=1)
        raise WorkloadError(
            f"--preset: unknown preset {name!r}"
            + (f" (did you mean {close[0]!r}?)" if close else ""),
            hint="`infra-advisor presets` lists them",
        )
    raw = package_data.read_bytes("infra_advisor", "presets", f"{name}.toml") or b""
    kept = _parsed().get(name)
    if isinstance(kept, dict) and kept.get("digest") == package_data.digest(raw):
        data: dict[str, Any] = kept["data"]
        return data
    from infra_advisor.tomlcompat import tomllib

    parsed: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    return parsed


def parsed_form() -> str:
    """Every shipped preset parsed, with the digest of its TOML (the build step writes it)."""
    import json

    from infra_advisor.tomlcompat import tomllib

    form = {}
    for name in sorted(_files()):
        raw = package_data.read_bytes("infra_advisor", "presets", f"{name}.toml") or b""
        form[name] = {"digest": package_data.digest(raw), "data": tomllib.loads(raw.decode())}
    return json.dumps(form, indent=1, sort_keys=True) + "\n"


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
