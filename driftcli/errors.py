"""Exit codes and the error hierarchy shared by the core and the CLI."""

from __future__ import annotations

import errno
import re
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
        self.said = message
        """The message with the settings it names marked (`option`), for the CLI to show
        each by its flag."""
        self.said_hint = hint

    @property
    def message(self) -> str:
        """The message, each setting by its name."""
        return plain_names(self.said)

    @property
    def hint(self) -> str | None:
        return None if self.said_hint is None else plain_names(self.said_hint)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Raised on a Dask worker, it travels pickled: with its hint.
        return (type(self), (self.said, self.said_hint))


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


SETTING_MARK = "\x1f"
"""Brackets a setting's name in a message (`option`); a control character, so
never one a message's own words hold."""
NAMED = re.compile(f"{SETTING_MARK}([a-z_]+){SETTING_MARK}")


def option(name: str) -> str:
    """A setting or option named in a message (`bins`, `config`): the library reads it as
    its name, the CLI as the flag that sets it (`--bins`, cli/runtime.py `note`)."""
    return f"{SETTING_MARK}{name}{SETTING_MARK}"


def plain_names(text: str) -> str:
    """A message as the library says it: each setting by its name."""
    return NAMED.sub(r"\1", text)


def flag_of(name: str) -> str:
    """The flag that sets a setting or option: `max_line_bytes` is `--max-line-bytes`."""
    return "--" + name.replace("_", "-")


def flag_names(text: str) -> str:
    """A library's message as the command line says it: each setting it names (`option`)
    by the flag that sets it. The CLI's stderr and its reports read messages so."""
    if SETTING_MARK not in text:  # most texts name none: a chunked check's JSON asks ~100k
        return text
    return NAMED.sub(lambda found: flag_of(found.group(1)), text)


_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z-]*[a-z])")


def named_flags(text: str) -> str:
    """`flag_names` undone: a text kept in a file as the command line said it (a stored
    reference's skip reasons) read back with its settings named (`option`)."""
    return _FLAG.sub(lambda found: option(found.group(1).replace("-", "_")), text)


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
