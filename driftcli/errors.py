"""Exit codes and the error hierarchy shared by the core and the CLI."""

from __future__ import annotations

import errno
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

    def __reduce__(self) -> tuple[object, ...]:
        # Raised on a Dask worker, it travels pickled: with its hint.
        return (type(self), (self.message, self.hint))


class UsageError(DriftcliError):
    """The command line or settings ask for something impossible."""


class InputError(DriftcliError):
    """An input file or stream cannot be read, or holds data driftcli cannot use."""


class SchemaError(DriftcliError):
    """Reference and live data have nothing to compare."""


class StoreError(DriftcliError):
    """The store or a snapshot is missing, corrupt, from a newer version, or not driftcli's."""


class NothingStored(StoreError):
    """There is no store, or no reference in it, where a command looked for one."""


class StoreNotWritable(StoreError):
    """The store can be read but not written (a read-only mount, another user's store)."""


def did_you_mean(word: str, known: Iterable[str], listing: str = "choose one of") -> str:
    """A hint for a misspelt name: the closest known one, if any, then the known ones."""
    import difflib

    names = list(known)
    close = difflib.get_close_matches(word, names, n=1)
    choices = f"{listing} {listed(names)}"
    return f"did you mean {close[0]!r}? {choices}" if close else choices


def listed(names: Iterable[str], most: int = 12) -> str:
    """`a, b, c`; past `most` names, the first ones and `and N more`."""
    names = list(names)
    shown = ", ".join(names[:most])
    return f"{shown} and {len(names) - most:,} more" if len(names) > most else shown


_OS_REASONS = {
    errno.ENOENT: "no such file",
    errno.ELOOP: "too many levels of symbolic links (a symbolic link loop?)",
    errno.ENAMETOOLONG: "file name too long",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EIO: "input/output error (the device failed to read or write)",
    errno.EISDIR: "is a directory",
}


def os_reason(exc: OSError) -> str:
    """What a failed file operation means, in a few words (no traceback, no errno)."""
    return _OS_REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__


def path_shown(path: object, longest: int = 160) -> str:
    """A path for a message: whole, or its two ends if it is very long."""
    text = str(path)
    if len(text) <= longest:
        return text
    keep = longest // 2 - 2
    return f"{text[:keep]}...{text[-keep:]} ({len(text):,} characters)"
