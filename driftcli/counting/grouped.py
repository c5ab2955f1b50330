"""Count one input piece's rows into many chunks at once: one pass per feature, whatever
the number of chunks.

Each row's bucket is found once for the whole input piece (the same buckets
`Feature.count` counts into), and one `bincount` over (chunk, bucket) pairs
counts every chunk's part together; the counts live in one matrix per
feature, a row per chunk. Counting each chunk's part on its own costs a few
array operations per feature and part, which thousands of small chunks
(`--every 2m`, `--chunk-rows 2`) turn into minutes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driftcli.columns.values import TypeClass, type_class
from driftcli.counting.buckets import Feature
from driftcli.counting.counter import locate_invalid
from driftcli.counting.counts import LOCATIONS_KEPT, Counts, FeatureCounts
from driftcli.inputs.piece import Piece
from driftcli.parallel import map_columns
from driftcli.results import Location

IntArray = npt.NDArray[np.int64]

FEW_PARTS = 4
"""Up to this many chunks in an input piece, each one's part is counted on its own: as fast,
and no bucket per row to hold."""


class GroupedCounts:
    """Counts of many chunks over the features' buckets, a matrix row per chunk."""

    def __init__(self, features: Sequence[Feature]) -> None:
        self._features = list(features)
        self._slot: dict[int, int] = {}
        self._rows = np.zeros(0, np.int64)
        self._buckets = {f.name: np.zeros((0, f.n_buckets), np.int64) for f in self._features}
        self._types = {f.name: np.zeros(0, np.int64) for f in self._features}
        self._invalid_at: dict[tuple[str, int], tuple[Location, ...]] = {}
        self._columns: list[dict[str, None]] = []

    def __len__(self) -> int:
        return len(self._slot)

    def new_keys(self, keys: Sequence[int]) -> int:
        """How many of `keys` no chunk has yet."""
        return sum(key not in self._slot for key in keys)

    def add(self, piece: Piece, keys: Sequence[int], bounds: IntArray) -> None:
        """Count `piece`, whose rows bounds[g]:bounds[g + 1] fall in the chunk keys[g]."""
        table = piece.table
        rows = table.num_rows
        sizes = np.diff(bounds)
        groups = np.repeat(np.arange(len(keys), dtype=np.int64), sizes)
        slots = self._taken(table, keys, sizes)
        present = set(table.schema.names)

        def count(feature: Feature) -> tuple[IntArray, IntArray | None]:
            column = table.column(feature.name) if feature.name in present else None
            if len(keys) <= FEW_PARTS:
                # A part or two (daily chunks): counted as a whole check counts them,
                # without a bucket per row.
                parts = [
                    feature.count(None if column is None else column.slice(a, b - a), b - a)
                    for a, b in itertools.pairwise(bounds.tolist())
                ]
                return np.stack(parts), None
            bucket = feature.place(column, rows)
            width = feature.n_buckets
            flat = np.bincount(groups * width + bucket, minlength=len(keys) * width)
            return flat.reshape(len(keys), width), bucket

        for feature, (counted, bucket) in zip(
            self._features, map_columns(count, self._features, rows=rows), strict=True
        ):
            self._buckets[feature.name][slots] += counted
            if feature.name not in present:
                continue
            column = table.column(feature.name)
            if column.null_count < rows:
                self._note_types(feature.name, column, slots, bounds)
            for g in np.flatnonzero(counted[:, feature.invalid_bucket]).tolist():
                self._locate(feature, int(slots[g]), piece, bucket, (bounds[g], bounds[g + 1]))

    def add_groups(self, piece: Piece, keys: Sequence[int], groups: IntArray) -> None:
        """Count `piece`, whose row i falls in the group keys[groups[i]], the rows of a group
        wherever they are (slices: a column's values, in no order)."""
        table = piece.table
        rows = table.num_rows
        slots = self._taken(table, keys, np.bincount(groups, minlength=len(keys)))
        present = set(table.schema.names)

        def count(feature: Feature) -> tuple[IntArray, IntArray]:
            column = table.column(feature.name) if feature.name in present else None
            bucket = feature.place(column, rows)
            width = feature.n_buckets
            flat = np.bincount(groups * width + bucket, minlength=len(keys) * width)
            return flat.reshape(len(keys), width), bucket

        for feature, (counted, bucket) in zip(
            self._features, map_columns(count, self._features, rows=rows), strict=True
        ):
            self._buckets[feature.name][slots] += counted
            if feature.name not in present:
                continue
            column = table.column(feature.name)
            family = int(type_class(column.type))
            if column.null_count == 0:
                self._types[feature.name][slots] |= family
            elif column.null_count < rows:
                # A group with a value: fewer missing than rows, read from the counts; a
                # group all missing may still hold a value that is not null (an empty
                # text, a NaN), which only the rows tell (a rare path).
                some = counted[:, feature.missing_bucket] < counted.sum(axis=1)
                if not some.all():
                    valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), bool)
                    some |= np.bincount(groups[valid], minlength=len(keys)) > 0
                self._types[feature.name][slots[some]] |= family
            for g in np.flatnonzero(counted[:, feature.invalid_bucket]).tolist():
                invalid = (bucket == feature.invalid_bucket) & (groups == g)
                self._locate_rows(feature, int(slots[g]), piece, invalid)

    def merge(self, other: GroupedCounts) -> None:
        """Add the chunks `other` counted (over the same features), key by key."""
        keys = list(other._slot)
        if not keys:
            return
        slots = self._slots(keys)
        theirs = np.array([other._slot[key] for key in keys], np.int64)
        self._rows[slots] += other._rows[theirs]
        for name in self._buckets:
            self._buckets[name][slots] += other._buckets[name][theirs]
            self._types[name][slots] |= other._types[name][theirs]
        for slot, their in zip(slots.tolist(), theirs.tolist(), strict=True):
            self._columns[slot].update(other._columns[their])
            for feature in self._features:
                found = other._invalid_at.get((feature.name, their), ())
                if found:
                    kept = self._invalid_at.get((feature.name, slot), ())
                    self._invalid_at[(feature.name, slot)] = (kept + found)[:LOCATIONS_KEPT]

    def counts(self) -> list[tuple[int, Counts]]:
        """Each chunk's key and counts, in the order of the keys."""
        found = []
        for key in sorted(self._slot):
            slot = self._slot[key]
            features = {
                f.name: FeatureCounts(
                    self._buckets[f.name][slot].copy(),
                    TypeClass(int(self._types[f.name][slot])),
                    self._invalid_at.get((f.name, slot), ()),
                )
                for f in self._features
            }
            columns = list(self._columns[slot])
            found.append((key, Counts(int(self._rows[slot]), features, columns)))
        return found

    def _taken(self, table: pa.Table, keys: Sequence[int], sizes: IntArray) -> IntArray:
        """The slots of `keys`' chunks, each given its rows of `table` and its columns."""
        slots = self._slots(keys)
        self._rows[slots] += sizes
        names = dict.fromkeys(table.schema.names)
        for slot in slots.tolist():
            self._columns[slot].update(names)
        return slots

    def _slots(self, keys: Sequence[int]) -> IntArray:
        for key in keys:
            if key not in self._slot:
                self._slot[key] = len(self._slot)
                self._columns.append({})
        size = len(self._slot)
        if size > len(self._rows):
            room = max(size, 2 * len(self._rows), 16)
            self._rows = _grown(self._rows, room)
            for name in self._buckets:
                self._buckets[name] = _grown(self._buckets[name], room)
                self._types[name] = _grown(self._types[name], room)
        return np.array([self._slot[key] for key in keys], np.int64)

    def _note_types(
        self, name: str, column: pa.Array | pa.ChunkedArray, slots: IntArray, bounds: IntArray
    ) -> None:
        """The column's type family, in every chunk where its part of the piece has a value."""
        family = int(type_class(column.type))
        if column.null_count == 0:
            self._types[name][slots] |= family
            return
        if len(slots) <= FEW_PARTS:
            # A few parts: their null counts, without a mask of every row.
            parts = itertools.pairwise(bounds.tolist())
            some = np.array([column.slice(a, b - a).null_count < b - a for a, b in parts])
        else:
            valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), np.int64)
            some = np.add.reduceat(valid, bounds[:-1]) > 0
        self._types[name][slots[some]] |= family

    def _locate(
        self,
        feature: Feature,
        slot: int,
        piece: Piece,
        bucket: IntArray | None,
        span: tuple[int, int],
    ) -> None:
        """Top up a chunk's first invalid values of `feature` from its part of `piece`, the
        rows `span` (a rare path)."""
        kept = self._invalid_at.get((feature.name, slot), ())
        room = LOCATIONS_KEPT - len(kept)
        if room <= 0:
            return
        start, end = span
        if bucket is None:
            part = piece.sliced(start, end - start)
            column = part.table.column(feature.name)
            self._invalid_at[(feature.name, slot)] = locate_invalid(
                kept, feature.kind, column, part
            )
            return
        rows = np.flatnonzero(bucket[start:end] == feature.invalid_bucket)[:room] + start
        self._invalid_at[(feature.name, slot)] = kept + piece.locate(rows)

    def _locate_rows(
        self, feature: Feature, slot: int, piece: Piece, invalid: npt.NDArray[np.bool_]
    ) -> None:
        """Top up a group's first invalid values of `feature` from the rows `invalid` marks."""
        kept = self._invalid_at.get((feature.name, slot), ())
        room = LOCATIONS_KEPT - len(kept)
        if room > 0:
            self._invalid_at[(feature.name, slot)] = kept + piece.locate(
                np.flatnonzero(invalid)[:room]
            )


def _grown(array: IntArray, rows: int) -> IntArray:
    grown = np.zeros((rows, *array.shape[1:]), np.int64)
    grown[: len(array)] = array
    return grown
