"""Rows grouped by the value of a column (slices), counted over the features' buckets.

The reference's values of the slice column are tallied as it is read; its
most frequent values (up to a limit) are the slices, and every other value
is one more slice, `other`. Each slice is counted over the buckets of the
whole reference (docs/slices.md says why), so live rows are placed once and
every slice is counted in the same pass (`GroupedCounts.add_groups`), in
whatever order its rows come. A live value the reference never had is a
slice of its own, counted but never checked (there is nothing to compare it
with); the rows of all of them form one group, so the whole check still
counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftcli.columns.values import read_texts
from driftcli.counting.buckets import Feature
from driftcli.counting.counts import LOCATIONS_KEPT, Counts, FeatureCounts
from driftcli.counting.featureless import Featureless
from driftcli.counting.grouped import GroupedCounts
from driftcli.grouping import BySlice
from driftcli.inputs.piece import Piece
from driftcli.settings import name_key
from driftcli.sliced import SliceKind

IntArray = npt.NDArray[np.int64]

MAX_KNOWN_VALUES = 10_000
"""The reference's distinct values of the slice column kept, to tell a live value it
never had (a new slice) from one of `other`'s. Past it, every value outside the
slices is counted in `other`: whether it is new cannot be told."""
NEW_VALUES_LISTED = 20
"""New live values listed each with its rows; the others are only counted."""

Value = str | None
"""A slice column's value as text (None: missing)."""


def values_of(table: pa.Table | pa.RecordBatch, column: str) -> tuple[list[Value], IntArray]:
    """The distinct values of `column` in `table` and each row's index among them.

    Values are read as a categorical feature reads its labels (text; an empty string
    is missing, None), on the distinct values only: two of them may read alike (`True`
    and `true`). A table without the column has every row missing.
    """
    names = table.schema.names
    if column not in names:
        # Named on the command line with spaces around it, as columns are matched.
        key = name_key(column)
        column = next((n for n in names if name_key(n) == key), column)
        if column not in names:
            return [None], np.zeros(table.num_rows, np.int64)
    found = table.column(column)
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks() if found.num_chunks != 1 else found.chunk(0)
    if not pa.types.is_dictionary(found.type):
        found = pc.dictionary_encode(found, null_encoding="encode")
    indices = found.indices
    distinct = pa.concat_arrays([found.dictionary, pa.nulls(1, found.dictionary.type)])
    if indices.null_count:  # a null index: the missing value, the last entry
        indices = pc.fill_null(indices.cast(pa.int64()), len(distinct) - 1)
    index = np.asarray(indices.to_numpy(zero_copy_only=False), np.int64)
    return read_texts(distinct).values.to_pylist(), index


def _rows_of(values: list[Value], index: IntArray) -> dict[Value, int]:
    """Rows per value (values that read alike added together)."""
    rows: dict[Value, int] = {}
    for value, n in zip(values, np.bincount(index, minlength=len(values)).tolist(), strict=True):
        if n:
            rows[value] = rows.get(value, 0) + n
    return rows


class SliceTally:
    """The rows of each value of the slice column, as the reference is read."""

    def __init__(self, column: str) -> None:
        self.column = column
        self.rows: dict[Value, int] = {}

    def add(self, table: pa.Table | pa.RecordBatch) -> None:
        distinct, index = values_of(table, self.column)
        for value, n in _rows_of(distinct, index).items():
            self.rows[value] = self.rows.get(value, 0) + n

    def slices(self, by: BySlice) -> SliceValues:
        """The most frequent values (ties: in the order of their text), and all it knew."""
        ranked = sorted(self.rows, key=lambda v: (-self.rows[v], v is not None, v or ""))
        known = frozenset(self.rows) if len(self.rows) <= MAX_KNOWN_VALUES else None
        named = tuple(ranked[: by.max_slices])
        return SliceValues(by.column, named, len(ranked) > len(named), known)


@dataclass(frozen=True)
class SliceValues:
    """Which values are slices: the groups every side is counted into."""

    column: str
    named: tuple[Value, ...]
    """The slices, most frequent first: group i holds the rows of named[i]."""
    has_other: bool
    """The reference has more values than slices: the rest are `other` (group len(named))."""
    known: frozenset[Value] | None
    """Every value the reference has; None when it has more than MAX_KNOWN_VALUES."""

    @property
    def other(self) -> int:
        """The group of `other`."""
        return len(self.named)

    @property
    def new(self) -> int:
        """The group of the values the reference never had."""
        return len(self.named) + 1

    def identity(self, group: int) -> tuple[Value, SliceKind]:
        """A checked group's value (None: the missing value, or `other`) and kind."""
        if group >= len(self.named):
            return None, SliceKind.OTHER
        value = self.named[group]
        return value, SliceKind.VALUE if value is not None else SliceKind.MISSING

    def groups(self, distinct: list[Value]) -> tuple[IntArray, list[Value]]:
        """Each distinct value's group, and the distinct values that are new."""
        slot = {v: i for i, v in enumerate(self.named)}
        group, new = [], []
        for value in distinct:
            if value in slot:
                group.append(slot[value])
            elif self.known is None or value in self.known:
                group.append(self.other)
            else:
                group.append(self.new)
                new.append(value)
        return np.array(group, np.int64), new


@dataclass(frozen=True)
class SlicedCounts:
    """Counts of each group of a sliced pass (by group: `SliceValues.named`, other, new),
    and the rows of each new value."""

    groups: dict[int, Counts]
    new_rows: dict[Value, int]
    featureless: Featureless

    def whole(self) -> Counts:
        """The counts of every row, as an unsliced pass counts them."""
        parts = [self.groups[g] for g in sorted(self.groups)]
        total = parts[0]
        for part in parts[1:]:
            total = total.merge(part)
        # Each group kept its first invalid values: the earliest of them are the input's.
        for counts in total.features.values():
            counts.invalid_at = tuple(sorted(counts.invalid_at, key=lambda at: at.number))[
                :LOCATIONS_KEPT
            ]
        total.featureless = self.featureless.count
        total.featureless_at = self.featureless.first
        return total

    def of(self, group: int, features: Sequence[Feature], columns: list[str]) -> Counts:
        """A group's counts; no rows when none fell in it."""
        found = self.groups.get(group)
        if found is not None:
            return found
        empty = {f.name: FeatureCounts(np.zeros(f.n_buckets, np.int64)) for f in features}
        return Counts(0, empty, list(columns))


@dataclass(frozen=True)
class SliceProfile:
    """The reference per slice: which values are slices, and each group's counts (over the
    whole reference's buckets; a group without rows is absent)."""

    values: SliceValues
    counts: dict[int, Counts]
    max_slices: int

    @property
    def column(self) -> str:
        return self.values.column

    def of(self, group: int) -> Counts | None:
        return self.counts.get(group)


class SliceCounter:
    """Counts rows into their slices' groups, every feature in one pass per input piece."""

    def __init__(self, features: Sequence[Feature], values: SliceValues) -> None:
        self._values = values
        self._grouped = GroupedCounts(features)
        self._featureless = Featureless([f.name for f in features])
        self._new_rows: dict[Value, int] = {}
        self.rows = 0

    def add(self, piece: Piece) -> None:
        table = piece.table
        if not table.num_rows:
            return
        self.rows += table.num_rows
        self._featureless.note(piece)
        distinct, index = values_of(table, self._values.column)
        group_of, new = self._values.groups(distinct)
        # The groups present, numbered from 0 (a lookup, not a sort of every row).
        present = np.flatnonzero(np.bincount(group_of[index], minlength=self._values.new + 1))
        renumber = np.zeros(self._values.new + 1, np.int64)
        renumber[present] = np.arange(len(present))
        self._grouped.add_groups(piece, present.tolist(), renumber[group_of][index])
        if new:
            rows = _rows_of(distinct, index)
            for value in set(new) & set(rows):  # the missing entry may have no row
                self._new_rows[value] = self._new_rows.get(value, 0) + rows[value]

    def result(self) -> SlicedCounts:
        groups = dict(self._grouped.counts())
        return SlicedCounts(groups, dict(self._new_rows), self._featureless)


def count_slices(
    features: Sequence[Feature], values: SliceValues, pieces: Iterable[Piece]
) -> SlicedCounts:
    """Every piece's rows counted into their slices."""
    from driftcli.parallel import prefetch

    counter = SliceCounter(features, values)
    for piece in prefetch(pieces):
        counter.add(piece)
    return counter.result()
