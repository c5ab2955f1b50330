"""Exit codes and the error hierarchy shared by the core and the CLI."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, in the diff/cmp/grep convention."""

    OK = 0
    """No feature drifted."""
    DRIFT = 1
    """At least one feature drifted."""
    ERROR = 2
    """Trouble: bad usage, unreadable input, corrupt store or an internal error."""


class DriftcliError(Exception):
    """An error the user can act on; the CLI prints it on one line and exits 2.

    `hint` is an optional second sentence telling the user what to try.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(DriftcliError):
    """The command line or settings ask for something impossible."""


class InputError(DriftcliError):
    """An input file or stream cannot be read, or holds data driftcli cannot use."""


class SchemaError(DriftcliError):
    """Reference and live data have nothing to compare."""


class StoreError(DriftcliError):
    """The store or a snapshot is missing, corrupt, from a newer version, or not driftcli's."""


def did_you_mean(word: str, known: Iterable[str], listing: str = "choose one of") -> str:
    """A hint for a misspelt name: the closest known one, if any, then all of them."""
    import difflib

    names = list(known)
    close = difflib.get_close_matches(word, names, n=1)
    choices = f"{listing} {', '.join(names)}"
    return f"did you mean {close[0]!r}? {choices}" if close else choices
