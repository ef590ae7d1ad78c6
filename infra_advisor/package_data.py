"""Files shipped inside the package: the catalog (``infra_advisor.data``), its validated form and
the presets.

Read straight from the package's folder, as any installed wheel (or editable checkout) has them;
through ``importlib.resources`` only where the package is not on disk (a zip import).  The
direct read keeps ``importlib.resources`` and what it imports (zipfile, tempfile, shutil) out
of every run's start-up.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any


@cache
def _folder(package: str) -> str | None:
    """The folder of one of the two packages that ship files (the tool and its catalog), where
    it is on disk."""
    if package == "infra_advisor":
        import infra_advisor

        paths = list(infra_advisor.__path__)
    elif package == "infra_advisor.data":
        from importlib.util import find_spec

        spec = find_spec(package)  # an editable checkout maps it to the repository's catalog/
        paths = list(spec.submodule_search_locations or []) if spec is not None else []
    else:
        raise ValueError(f"{package!r} ships no files")
    return paths[0] if paths and os.path.isdir(paths[0]) else None


def read_bytes(package: str, *parts: str) -> bytes | None:
    """The bytes of a file shipped in ``package`` (``parts``: its path there), or None when it
    has no such file."""
    folder = _folder(package)
    if folder is not None:
        try:
            with open(os.path.join(folder, *parts), "rb") as handle:
                return handle.read()
        except (FileNotFoundError, IsADirectoryError):
            return None
    from importlib import resources

    res = resources.files(package).joinpath(*parts)
    return res.read_bytes() if res.is_file() else None


def names(package: str, *parts: str) -> list[str]:
    """The names of the files shipped in a folder of ``package``, sorted."""
    folder = _folder(package)
    if folder is not None:
        where = os.path.join(folder, *parts)
        return sorted(n for n in os.listdir(where) if os.path.isfile(os.path.join(where, n)))
    from importlib import resources

    return sorted(
        p.name for p in resources.files(package).joinpath(*parts).iterdir() if p.is_file()
    )


def path_of(package: str, name: str) -> str | None:
    """Where a shipped file is on disk, for a message pointing the user to it."""
    folder = _folder(package)
    if folder is None or not os.path.isfile(os.path.join(folder, name)):
        return None
    return os.path.join(folder, name)


def hasher(data: bytes = b"", digest_size: int = 32) -> Any:
    """A blake2b hasher, taken from ``_blake2`` itself: hashlib loads OpenSSL first (3 ms of
    every start)."""
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - CPython always builds _blake2
        from hashlib import blake2b
    return blake2b(data, digest_size=digest_size)


def digest(data: bytes) -> str:
    """A short content digest of shipped bytes."""
    return str(hasher(data, 16).hexdigest())
