"""Standard-library modules an answer never uses, loaded only when first used.

``dataclasses`` imports ``inspect`` at the top of the module, which pulls in ``ast``, ``dis``,
``tokenize`` and ``linecache``: about a tenth of a JSON answer's wall time.  It uses it only to
write a signature into the docstring of a class that has none, and every record here has one.
The console entry imports this module before anything imports ``dataclasses``; ``inspect`` is
then a stand-in module that imports the real one on first attribute access and hands it over
(``sys.modules`` then holds the real module, so later importers get it directly).  Python
3.11's ``importlib.util.LazyLoader`` cannot do this: an ``import`` statement reads the
module's ``__spec__``, which makes it load at once.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _Deferred(types.ModuleType):
    """A module that is imported for real on first use."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(real(self.__name__), attr)


def _inspect() -> types.ModuleType:
    sys.modules.pop("inspect", None)
    import inspect

    return inspect


# Each deferred module and the static import that brings in the real one (no dynamic imports).
DEFERRED: dict[str, Any] = {"inspect": _inspect}


def real(name: str) -> types.ModuleType:
    """The real module, imported now if only its stand-in was."""
    module = sys.modules.get(name)
    if module is None or isinstance(module, _Deferred):
        module = DEFERRED[name]()
    return module


def defer(name: str) -> None:
    """Make ``name`` load on first use, unless something has imported it already."""
    if name in sys.modules:
        return
    from importlib.machinery import ModuleSpec

    stand_in = _Deferred(name)
    stand_in.__spec__ = ModuleSpec(name, None)
    sys.modules[name] = stand_in


for _name in DEFERRED:
    defer(_name)
