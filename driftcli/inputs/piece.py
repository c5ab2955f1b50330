"""What every input yields: pieces of rows that know where they came from, and bad lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driftcli.errors import InputError, option
from driftcli.results import Location

LineMap = Callable[[], npt.NDArray[np.int64]]
"""Gives the input line each row of a piece starts at."""


SKIP_HINT = f"pass {option('skip_bad_lines')} to count and skip such lines"
"""What a bad line's error tells, where the command can skip them."""


class BadLine(InputError):
    """A malformed line, when bad lines are not skipped: the rows before it are good."""

    def __init__(self, message: str, line: int, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.line = line
        """The bad line (or Parquet row) the message names."""

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.said, self.line, self.said_hint))


@dataclass
class BadLines:
    """Where malformed lines go: an error by default, or counted and skipped."""

    skip: bool = False
    hint: str | None = None
    """What to tell the user about skipping, where the command can skip."""
    count: int = 0
    first: list[int] = field(default_factory=list)
    keep_first: int = 10

    def report(self, name: str, line: int, reason: str) -> None:
        """Raise for a bad line, or note it when skipping."""
        self.report_many(name, [line], reason)

    def report_many(self, name: str, lines: list[int], reason: str, unit: str = "line") -> None:
        """Raise for the first of some bad lines (`reason` is the first's), or note them all."""
        if not lines:
            return
        if not self.skip:
            raise BadLine(f"{name}: {unit} {lines[0]}: {reason}", lines[0], hint=self.hint)
        self.count += len(lines)
        self.first = sorted(self.first + lines[: self.keep_first])[: self.keep_first]


@dataclass
class Piece:
    """Rows parsed from one run of whole lines, and where they came from."""

    table: pa.Table
    first_line: int | None
    """The input line the piece starts at (None for Parquet, which has rows, not lines)."""
    first_row: int
    """How many rows of the input (the file, in a dataset) came before this piece."""
    _line_numbers: LineMap | None = field(default=None, repr=False)
    origin: str = ""
    """The input's name (the file's, in a dataset), for locations."""
    marks: npt.NDArray[np.int64] | None = None
    """Per row, where its line ends, for an input a later run resumes (inputs/follow.py)."""

    @property
    def unit(self) -> str:
        return "line" if self.first_line is not None else "row"

    def row_lines(self) -> npt.NDArray[np.int64]:
        """The input line each row starts at, or its 1-based row number without lines."""
        if self._line_numbers is None:
            return np.arange(self.first_row + 1, self.first_row + 1 + self.table.num_rows)
        return self._line_numbers()

    def locate(self, rows: npt.NDArray[np.int64]) -> tuple[Location, ...]:
        """Where the piece's rows at these positions came from."""
        numbers = self.row_lines()[rows].tolist()
        return tuple(Location(self.origin, int(n), self.unit) for n in numbers)

    def sliced(self, start: int, length: int) -> Piece:
        """The piece's rows from `start` on, `length` of them, still knowing their lines."""
        if start == 0 and length == self.table.num_rows:
            return self
        table = self.table.slice(start, length)
        marks = None if self.marks is None else self.marks[start : start + length]
        if self._line_numbers is None:
            return Piece(table, self.first_line, self.first_row + start, None, self.origin, marks)
        lines = self.row_lines
        return Piece(
            table,
            self.first_line,
            self.first_row,
            lambda: lines()[start : start + length],
            self.origin,
            marks,
        )

    def taken(self, positions: npt.NDArray[np.int64]) -> Piece:
        """The piece's rows at these positions, in their order, still knowing their lines."""
        ints = np.ascontiguousarray(positions, dtype=np.int64)
        index = pa.Array.from_buffers(pa.int64(), len(ints), [None, pa.py_buffer(ints)])
        lines = self.row_lines
        return Piece(
            self.table.take(index),
            self.first_line,
            self.first_row,
            lambda: lines()[ints],
            self.origin,
            None if self.marks is None else self.marks[ints],
        )
