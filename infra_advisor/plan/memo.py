"""A memo keyed by the identity of the frozen catalog objects a value was worked out from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class ByIdentity(Generic[V]):
    """Values kept by the identity of the frozen objects they were worked out from (catalog
    entries, and chips as an offering runs them).  It holds the objects, so an id is never
    reused while its entry lives; past ``limit`` entries it starts afresh, a bound on memory for
    very large overlay catalogs."""

    def __init__(self, limit: int = 50000) -> None:
        self._entries: dict[tuple[int, ...], tuple[tuple[object, ...], V]] = {}
        self._limit = limit

    def get(self, objects: tuple[object, ...], make: Callable[[], V]) -> V:
        """The value for these very objects, made once."""
        key = tuple(id(o) for o in objects)
        hit = self._entries.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], objects, strict=True)):
            return hit[1]
        value = make()
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (objects, value)
        return value
