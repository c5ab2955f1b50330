"""A store's JSON-lines file, read a line at a time, no line held past the line limit.

The history is a log anyone can append to (`echo >> checks.jsonl`), so a
line of it can be anything: hundreds of megabytes, or no newline at all.
Reading it whole would cost many times its size; here a line longer than
the limit is read on to its end without being kept, and only its number
is given, for the reader to skip it as damage. A last line with no newline
is no line (a crash cut its append short): it is never given.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

BLOCK = 1 << 20
"""How much is read at a time where a line is not kept or only counted."""


@dataclass(frozen=True)
class Line:
    """One complete line of the file: its number (from 1) and bytes, or None if too long."""

    number: int
    data: bytes | None


def read_lines(file: BinaryIO, limit: int, first: int = 1) -> Iterator[Line]:
    """The complete lines of `file` from line `first` on, each at most `limit` bytes long
    (its newline aside); a longer one is given with no bytes."""
    number = 0
    while True:
        data = file.readline(limit + 1)
        if not data:
            return
        if not data.endswith(b"\n") and len(data) <= limit:
            return  # unfinished: the last bytes of a cut-short append
        if not data.endswith(b"\n") and not _skip_rest(file):
            return
        number += 1
        if number >= first:
            yield Line(number, data if data.endswith(b"\n") else None)


def _skip_rest(file: BinaryIO) -> bool:
    """Read on past the end of the current line, keeping none of it; False at the
    end of the file (the line was never finished)."""
    while True:
        data = file.readline(BLOCK)
        if not data:
            return False
        if data.endswith(b"\n"):
            return True


@dataclass(frozen=True)
class Extent:
    """How many complete lines a file holds, and whether an unfinished one follows."""

    lines: int
    unfinished: bool


def measure(file: BinaryIO) -> Extent:
    """Count the complete lines of `file`, a block at a time."""
    lines = 0
    last = b"\n"
    while block := file.read(BLOCK):
        lines += block.count(b"\n")
        last = block[-1:]
    return Extent(lines, last != b"\n")
