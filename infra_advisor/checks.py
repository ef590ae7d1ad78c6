"""Plain dataclasses at run time, pydantic when checking and describing them.

The catalog entries, the workload and the report are frozen stdlib dataclasses: building and
reading them costs nothing at start-up.  Their constraints ride in ``Annotated`` metadata
(:class:`Check`) and their descriptions in ``dataclasses.field(metadata=...)``; pydantic reads
both, but only when something is validated (a catalog file not seen before) or a JSON Schema is
asked for, and only then is pydantic imported.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, dataclass_transform

_MISSING: Any = dataclasses.MISSING
_SET = object.__setattr__
T = TypeVar("T")


class Record:
    """Base of those dataclasses: one ``__init__``, ``__repr__`` and ``__eq__`` shared by all.

    ``dataclass`` writes and compiles these methods anew for every class at every start (its
    generated code is not kept in ``.pyc`` files): for the fifty-odd records of a run that was a
    quarter of the start-up.  Declared with :func:`record` (``init=False, eq=False,
    repr=False``), the classes inherit these instead: keyword-only arguments, defaults and
    default factories, ``__post_init__``, and the same TypeError for a missing or unknown
    argument; positional arguments, in field order, for a class declared ``kw_only=False``
    (the type checker holds the others to keywords).  Records are unhashable, like any
    dataclass with ``__eq__`` that is not frozen, and several hold lists.
    """

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, *args: Any, **values: Any) -> None:
        if not args:
            fast = _keyword_plan(type(self))
            names, defaults, factories, required = fast
            if values.keys() <= names and all(r in values for r in required):
                full = {**defaults, **values}
                for name, factory in factories:
                    if name not in values:
                        full[name] = factory()
                for name, value in full.items():
                    _SET(self, name, value)
                _set_late(self)
                post = getattr(type(self), "__post_init__", None)
                if post is not None:
                    post(self)
                return
        plan = _init_plan(type(self))
        if args:
            if len(args) > len(plan):
                raise TypeError(f"{type(self).__name__}() takes {len(plan)} arguments")
            for (name, _, _), value in zip(plan, args, strict=False):
                if name in values:
                    raise TypeError(f"{type(self).__name__}() got {name!r} twice")
                values[name] = value
        for name, default, factory in plan:
            value = values.pop(name, _MISSING)
            if value is _MISSING:
                if default is not _MISSING:
                    value = default
                elif factory is not _MISSING:
                    value = factory()
                else:
                    raise TypeError(f"{type(self).__name__}() missing keyword argument {name!r}")
            _SET(self, name, value)
        if values:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument {next(iter(values))!r}"
            )
        _set_late(self)
        post = getattr(type(self), "__post_init__", None)
        if post is not None:
            post(self)

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))  # type: ignore[arg-type]
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(
            getattr(self, f.name) == getattr(other, f.name)
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        )


class FrozenRecord(Record):
    """A record whose fields cannot be assigned after it is built (catalog entries, workloads):
    dataclass's ``frozen=True`` without a ``__setattr__`` and ``__delattr__`` compiled per class."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


_PLANS: dict[type, tuple[tuple[str, Any, Any], ...]] = {}


def _init_plan(cls: type) -> tuple[tuple[str, Any, Any], ...]:
    """(name, default, default factory) of each field a record's constructor takes."""
    plan = _PLANS.get(cls)
    if plan is None:
        fields = dataclasses.fields(cls)
        plan = _PLANS[cls] = tuple((f.name, f.default, f.default_factory) for f in fields if f.init)
    return plan


_LATE: dict[type, tuple[tuple[str, Any, Any], ...]] = {}


def _set_late(obj: Record) -> None:
    """Fields outside the constructor (``init=False``) that have a default or a factory."""
    cls = type(obj)
    late = _LATE.get(cls)
    if late is None:
        late = _LATE[cls] = tuple(
            (f.name, f.default, f.default_factory)
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if not f.init and (f.default is not _MISSING or f.default_factory is not _MISSING)
        )
    for name, default, factory in late:
        _SET(obj, name, default if default is not _MISSING else factory())


def _hash(self: Record) -> int:
    return hash(tuple(getattr(self, name) for name, _, _ in _init_plan(type(self))))


_KEYWORD_PLANS: dict[type, Any] = {}


def _keyword_plan(cls: type) -> Any:
    """For keyword-only construction: the field names, the plain defaults, the default
    factories and the required names (the common case, done with dict operations)."""
    fast = _KEYWORD_PLANS.get(cls)
    if fast is None:
        plan = _init_plan(cls)
        names = frozenset(name for name, _, _ in plan)
        defaults = {n: d for n, d, _ in plan if d is not _MISSING}
        factories = tuple((n, f) for n, d, f in plan if d is _MISSING and f is not _MISSING)
        required = tuple(n for n, d, f in plan if d is _MISSING and f is _MISSING)
        fast = _KEYWORD_PLANS[cls] = (names, defaults, factories, required)
    return fast


@dataclass_transform(kw_only_default=True, field_specifiers=(dataclasses.field,))
def record(
    *, frozen: bool = False, kw_only: bool = True, hashable: bool = False
) -> Callable[[type[T]], type[T]]:
    """Declare a Record dataclass: slots, keyword-only fields (``kw_only=False``: positional
    too), and Record's shared methods (``frozen``: the class must be a FrozenRecord, which
    refuses assignment; ``hashable``: a frozen record hashed on its constructor's fields, to
    serve as a dict key)."""

    def wrap(cls: type[T]) -> type[T]:
        if frozen != issubclass(cls, FrozenRecord):
            raise TypeError(
                f"{cls.__name__}: frozen={frozen} needs {'' if frozen else 'no '}FrozenRecord base"
            )
        if hashable and not frozen:
            raise TypeError(f"{cls.__name__}: only a frozen record can be hashable")
        made: type[T] = dataclasses.dataclass(
            slots=True, kw_only=kw_only, init=False, eq=False, repr=False
        )(cls)
        if hashable:
            made.__hash__ = _hash  # type: ignore[assignment]
        return made

    return wrap


class Check:
    """Constraint metadata (pydantic ``Field`` keywords) for an ``Annotated`` type.

    ``Annotated[float, Check(strict=True, gt=0)]`` is a plain ``float`` to Python and mypy; to
    pydantic it is ``Annotated[float, Field(strict=True, gt=0)]``, resolved only when a validator
    or a JSON Schema is built.
    """

    __slots__ = ("kwargs",)

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"Check({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from typing import Annotated

        from pydantic import Field

        return handler(Annotated[source, Field(**self.kwargs)])


def doc(text: str, **kwargs: Any) -> Any:
    """A dataclass field carrying a description for the JSON Schema (pydantic reads metadata)."""
    return dataclasses.field(metadata={"description": text}, **kwargs)


_ADAPTERS: dict[type, Any] = {}


def adapter(cls: type) -> Any:
    """The pydantic TypeAdapter of a dataclass, built once per process, on first use."""
    if cls not in _ADAPTERS:
        from pydantic import TypeAdapter

        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


def json_schema(cls: type) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a dataclass."""
    schema: dict[str, Any] = adapter(cls).json_schema()
    return schema


@cache
def _float_fields(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls) if f.type in ("float", "float | None"))


def to_data(value: Any) -> Any:
    """A dataclass (and what it holds) as JSON-ready data: dicts, lists, str, int, float, None.

    Fields annotated ``float`` come out as floats even when an int was stored, so the JSON of a
    number never changes form with how it happened to be computed.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        floats = _float_fields(type(value))
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name in floats and type(item) is int:
                item = float(item)
            out[f.name] = to_data(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value
