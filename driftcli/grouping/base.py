"""What every grouping of live rows answers, so that results, renderers and the CLI ask
the grouping and never test which kind it is.

A grouping (time chunks, row chunks, slices by a column's value) cuts the live rows of
a check into groups, each checked as a whole check of its rows. Light: no numpy, no
counting; what a grouping counts with is its counter, found in `counting/`.
"""

from __future__ import annotations

import abc
from typing import ClassVar

from driftcli.choices import EngineName
from driftcli.errors import UsageError

Start = str | int
"""Where a group starts: an instant in ISO 8601 (time chunks), a row number (row chunks);
a slice is named by its value."""


class Grouping(abc.ABC):
    """How a check groups its live rows (a frozen dataclass per rule)."""

    json_keys: ClassVar[tuple[str, ...]] = ()
    """The keys `json_fields` gives (docs/json.md)."""

    @abc.abstractmethod
    def describe(self, groups: int) -> str:
        """`10 chunks of 1d by ts (UTC)`: the grouping and how many groups it made."""

    @abc.abstractmethod
    def json_fields(self) -> dict[str, object]:
        """The grouping's own fields of the JSON report (`json_keys`, in order)."""

    @abc.abstractmethod
    def label(self, index: int, start: Start, years: bool) -> str:
        """How a group is named in a line of text (`2024-03-05`, `#3`); `years`: the groups
        start in more than one year."""

    @abc.abstractmethod
    def header(self, index: int, start: Start, previous: Start | None, years: bool) -> str:
        """A group's column header in a matrix, on two or three lines; `previous`: where
        the group left of it starts, so that what did not change is left out."""

    def spans_years(self, first: Start, last: Start) -> bool:
        """Do groups starting at `first` and at `last` start in different years?"""
        return False

    @property
    def time_column(self) -> str | None:
        """The column whose time places a row in its group (never scored, and rows
        without a readable time are in no group); None when every row has a group."""
        return None

    @property
    def full_rows(self) -> int | None:
        """The rows of a full group, when groups have a fixed size (fewer: a partial one)."""
        return None

    def refusal(self, engine: EngineName) -> UsageError | None:
        """Why this grouping cannot run on `engine` (its workers read files apart), or None."""
        return None
