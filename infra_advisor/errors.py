"""The error hierarchy and the one exit-code table.

Only ``cli.main`` maps these to exit codes; the core raises, never exits.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    NO_FIT = 1  # the command ran, but no stack satisfies the workload and its limits
    BAD_INPUT = 2  # bad input, bad catalog or usage
    INTERRUPTED = 130


class AdvisorError(Exception):
    """An error the user can fix: a message naming the culprit and a hint."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class CatalogError(AdvisorError):
    """A catalog file is missing, malformed or inconsistent."""


class WorkloadError(AdvisorError):
    """A workload flag, file or preset is invalid."""


class UnitError(WorkloadError):
    """A quantity could not be parsed."""


class FileWriteError(AdvisorError):
    """A file the user asked for could not be written (or would be overwritten)."""


def format_error(message: str, hint: str = "") -> str:
    """The one shape of an error message on stderr: what is wrong, then how to fix it."""
    text = f"infra-advisor: error: {message}\n"
    if hint:
        text += f"  hint: {hint}\n"
    return text


def format_warning(message: str) -> str:
    """A warning on stderr: the run goes on (the exit code and stdout are unchanged)."""
    return f"infra-advisor: warning: {message}\n"
