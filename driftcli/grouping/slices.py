"""Slices by a column's value (`--slice COLUMN [--max-slices N]`): a check per value.
Counted by `counting.slicing.SliceCounter`, checked by `api/slices.py`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from driftcli.choices import EngineName
from driftcli.errors import UsageError, option
from driftcli.grouping.base import Grouping, Start

DEFAULT_MAX_SLICES = 20
"""Slices checked apart by default: the reference's most frequent values of the slice
column; rows of its other values are checked together as one slice, `other`."""
MAX_SLICES = 1_000
"""The most slices --max-slices allows: each holds its own counts of every feature."""


@dataclass(frozen=True)
class BySlice(Grouping):
    """A check per value of `column` (a slice): the reference's `max_slices` most frequent
    values each, the rest together as `other`."""

    column: str
    max_slices: int = DEFAULT_MAX_SLICES

    json_keys: ClassVar[tuple[str, ...]] = ("column", "max_slices")

    @classmethod
    def parse(cls, column: str | None, max_slices: int | None = None) -> BySlice | None:
        """The slicing the options ask for (None: no slices), or a `UsageError`."""
        if column is None or not column.strip():
            if max_slices is not None:
                raise UsageError(
                    f"{option('max_slices')} needs {option('slice')} COLUMN, the column to slice by"
                )
            if column is not None:
                raise UsageError(f"{option('slice')}: give the name of the column to slice by")
            return None
        limit = DEFAULT_MAX_SLICES if max_slices is None else max_slices
        if not 1 <= limit <= MAX_SLICES:
            raise UsageError(
                f"{option('max_slices')} must be from 1 to {MAX_SLICES:,}, not {limit:,}"
            )
        return cls(column, limit)

    def describe(self, groups: int) -> str:
        slices = f"{groups} slice{'' if groups == 1 else 's'}"
        return f"{slices} by {self.column} (at most {self.max_slices}, the rest as other)"

    def json_fields(self) -> dict[str, object]:
        return {"column": self.column, "max_slices": self.max_slices}

    def label(self, index: int, start: Start, years: bool) -> str:
        """A slice is named by its value (`start`)."""
        return str(start)

    def header(self, index: int, start: Start, previous: Start | None, years: bool) -> str:
        return str(start)

    def refusal(self, engine: EngineName) -> UsageError | None:
        return None if engine is EngineName.LOCAL else self.refused_on(engine)

    @staticmethod
    def refused_on(engine: EngineName) -> UsageError:
        """Slices are counted on the local engine only (docs/slices.md); said also when
        the slices are a stored reference's."""
        return UsageError(
            f"slices ({option('slice')}) are counted on the local engine only, "
            f"not on {engine.value.capitalize()}",
            hint=f"leave out {option('engine')} {engine.value} (and {option('scheduler')})",
        )


def slicing_of(column: str | None, max_slices: int | None = None) -> BySlice | None:
    """The slicing the options ask for (None: no slices), or a `UsageError`."""
    return BySlice.parse(column, max_slices)
