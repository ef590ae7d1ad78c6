"""Writing files the user asked for: never overwrite without consent, always atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from infra_advisor.errors import FileWriteError


def write_text_atomic(path: str | Path, text: str, *, overwrite: bool) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename.

    Without ``overwrite`` an existing file is never replaced, even if one appears
    while writing (the final step is a hard link, which fails on an existing name).
    """
    target = Path(path)
    flag = f"{target}"
    if target.is_dir():
        raise FileWriteError(f"{flag}: is a directory; give a file name")
    if target.exists() and not overwrite:
        raise FileWriteError(
            f"{flag}: already exists; not overwritten", hint="pass --force to replace it"
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.exists():
        raise FileWriteError(f"{flag}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise FileWriteError(f"{flag}: cannot write in {folder}: {exc.strerror}") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual mode
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise FileWriteError(
                    f"{flag}: already exists; not overwritten", hint="pass --force"
                ) from None
            except OSError:
                # File systems without hard links: fall back to an exclusive create.
                with open(target, "x", encoding="utf-8") as out:
                    out.write(text)
    except OSError as exc:
        raise FileWriteError(f"{flag}: cannot write: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target
