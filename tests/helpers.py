"""Helpers the tests share: a stack explained with its working, and one term of that working."""

from __future__ import annotations

from typing import Any

from infra_advisor.catalog import Catalog
from infra_advisor.search.engine import explain_stack
from infra_advisor.workload import build_workload


def served(catalog: Catalog, spec: str, **flags: Any) -> Any:
    """The stack ``spec`` for the workload ``flags``, explained (it must fit)."""
    report = explain_stack(build_workload(flags), catalog, spec)
    assert report.stacks, report.rejected
    return report.stacks[0]


def term(stack: Any, name: str) -> Any:
    """The named term of a stack's working."""
    return next(t for t in stack.terms if t.name == name)
