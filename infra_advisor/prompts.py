"""Guided Q&A (questionary) -> Workload.  Imported only when a terminal asks for it."""

from __future__ import annotations


def run_guided() -> int:
    from infra_advisor.errors import AdvisorError

    raise AdvisorError(
        "the guided Q&A is not built yet",
        hint="use `infra-advisor recommend --preset NAME` or workload flags (see `infra-advisor recommend --help`)",
    )
