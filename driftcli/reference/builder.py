"""Build the reference on this machine: one pass over the rows fixes every feature's buckets.

Each column is kept in an accumulator until the end: labels and their
counts for a categorical column, a sketch of the values for a numeric one
(sketch.py), missing and invalid counts for both. The kinds and the skip
rules come from kinds.py, as on an engine (summary.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pyarrow as pa

from driftcli.choices import Kind
from driftcli.columns.values import TypeClass, read_numbers, tally_texts
from driftcli.counting.buckets import Feature, Profile, categorical_buckets, numeric_feature
from driftcli.counting.counter import count_batches, locate_invalid
from driftcli.counting.counts import Counts, FeatureCounts, IntArray
from driftcli.errors import InputError
from driftcli.inputs.piece import Piece
from driftcli.parallel import map_columns, prefetch
from driftcli.reference.kinds import (
    NO_VALUES,
    FirstValues,
    Selection,
    Unsupported,
    decide_kind,
    is_untyped,
    skipped_by_name,
    skipped_by_values,
)
from driftcli.reference.sketch import NumericSketch, hold_for
from driftcli.results import Location

Reread = Callable[[Sequence[str]], Iterable[pa.RecordBatch]]
"""`reread(names)` reads the reference's rows again, at least the columns named."""


class _ColumnAccumulator:
    """Everything the reference pass keeps of one column until buckets are fixed."""

    def __init__(self, forced: Kind | None, sketch: NumericSketch, rows_before: int) -> None:
        self.forced = forced
        self.kind: Kind | Unsupported | None = None
        """The kind, once the first values are seen, or why the column cannot be scored."""
        self.source_type = TypeClass.NONE
        self.numbers = sketch
        self.recount = False
        """Set by `build`: the buckets came from a sample; the counts need a second pass."""
        self.labels: dict[str, int] = {}
        self.missing = rows_before  # a column first seen late was missing before
        self.invalid = 0
        self.invalid_at: tuple[Location, ...] = ()
        sketch.skip(rows_before)

    def add(
        self,
        column: pa.Array | pa.ChunkedArray | None,
        n_rows: int,
        untyped: bool,
        bins: int,
        piece: Piece | None = None,
    ) -> None:
        if column is None or column.null_count == len(column):
            self.missing += n_rows
            self.numbers.skip(n_rows)
            return
        if self.kind is None:
            first = FirstValues.of(column, untyped)
            self.kind = decide_kind(first, self.forced)
            self.source_type = first.source_type
        if isinstance(self.kind, Unsupported):
            return
        if self.kind is Kind.NUMERIC:
            numbers = read_numbers(column)
            missing = int(np.count_nonzero(numbers.missing))
            invalid = int(np.count_nonzero(numbers.invalid))
            self.numbers.add(numbers.values, missing + invalid, bins)
        else:
            tally = tally_texts(column)
            missing, invalid = tally.missing, tally.invalid
            for label, n in zip(tally.labels.to_pylist(), tally.counts.tolist(), strict=True):
                self.labels[label] = self.labels.get(label, 0) + n
        self.missing += missing
        self.invalid += invalid
        if invalid and piece is not None:
            self.invalid_at = locate_invalid(self.invalid_at, self.kind, column, piece)

    def build(self, name: str, bins: int, max_categories: int) -> tuple[Feature, IntArray] | str:
        """The feature and its reference counts, or why it cannot be scored."""
        kind = self.kind
        if kind is None:
            return NO_VALUES
        if isinstance(kind, Unsupported):
            return kind.why(name)
        why = skipped_by_values(kind, self.numbers.count, self.labels, name)
        if why is not None:
            return why
        if kind is Kind.NUMERIC:
            sketched = self.numbers.result(bins)
            self.recount = sketched.recount
            feature = numeric_feature(name, self.source_type, sketched.cuts)
            value_counts = sketched.counts
        else:
            feature, value_counts = categorical_buckets(
                name, self.labels, max_categories, self.source_type
            )
        counts = np.concatenate([value_counts, [self.missing, self.invalid]]).astype(np.int64)
        return feature, counts


class _Builder:
    """The reference pass over the rows: the columns it keeps, and the rows seen."""

    def __init__(self, selection: Selection, rereadable: bool, expected_rows: int | None) -> None:
        self.selection = selection
        self.rereadable = rereadable
        self.expected_rows = expected_rows
        self.accumulators: dict[str, _ColumnAccumulator] = {}
        self.skipped: dict[str, str] = {}
        self.seen: dict[str, None] = {}
        self.rows = 0

    def add(self, batch: pa.RecordBatch | pa.Table, piece: Piece | None) -> None:
        schema = batch.schema
        self.seen.update(dict.fromkeys(schema.names))
        for name in schema.names:
            if name not in self.accumulators and name not in self.skipped:
                self._meet(name, schema.field(name))
        present = set(schema.names)
        selection = self.selection
        work = [
            (acc, batch.column(name) if name in present else None, name)
            for name, acc in self.accumulators.items()
        ]

        def add_column(job: tuple[_ColumnAccumulator, pa.Array | None, str]) -> None:
            acc, column, name = job
            untyped = column is not None and is_untyped(schema.field(name))
            acc.add(column, batch.num_rows, untyped, selection.bins_of(name), piece)

        map_columns(add_column, work, rows=batch.num_rows)
        self.rows += batch.num_rows

    def _meet(self, name: str, field: pa.Field) -> None:
        """A column seen for the first time: keep it, skip it, or leave it out."""
        selection = self.selection
        if not selection.wants(name):
            return
        why = skipped_by_name(name, field, selection.chosen(name))
        if why is not None:
            self.skipped[name] = why
            return
        # Each column holds its share of the values a reference may hold.
        hold = hold_for(len(self.seen))
        sketch = NumericSketch(
            hold, rereadable=self.rereadable, expected=self.expected_rows, shared=True
        )
        self.accumulators[name] = _ColumnAccumulator(selection.kind_of(name), sketch, self.rows)

    def finish(self, reread: Reread | None) -> Profile:
        """Fix the buckets; count again the columns whose buckets came from a sample."""
        selection = self.selection
        items = list(self.accumulators.items())
        built_all = map_columns(
            lambda item: item[1].build(
                item[0], selection.bins_of(item[0]), selection.categories_of(item[0])
            ),
            items,
        )
        features: list[Feature] = []
        counts: dict[str, FeatureCounts] = {}
        for (name, acc), built in zip(items, built_all, strict=True):
            if isinstance(built, str):
                self.skipped[name] = built
                continue
            feature, feature_counts = built
            features.append(feature)
            counts[name] = FeatureCounts(feature_counts, acc.source_type, acc.invalid_at)
        again = [f for f in features if self.accumulators[f.name].recount]
        if again:
            if reread is None:
                raise RuntimeError("a sample's buckets need the rows again")
            self._recount(again, reread, counts)
        return Profile(features, Counts(self.rows, counts, list(self.seen)), self.skipped)

    def _recount(
        self, features: list[Feature], reread: Reread, counts: dict[str, FeatureCounts]
    ) -> None:
        recounted = count_batches(features, reread([f.name for f in features]))
        if recounted.rows != self.rows:
            raise InputError(
                f"the reference changed while it was read ({self.rows:,} rows, "
                f"then {recounted.rows:,})"
            )
        for feature in features:
            counts[feature.name] = FeatureCounts(
                recounted.features[feature.name].buckets,
                self.accumulators[feature.name].source_type,
            )


def build_profile(
    batches: Iterable[pa.RecordBatch | pa.Table | Piece],
    selection: Selection | None = None,
    *,
    reread: Reread | None = None,
    expected_rows: int | None = None,
    bins: int | None = None,
) -> Profile:
    """Fix every feature's buckets from the reference rows and count them.

    `selection` says which columns to take, their kinds and bins (every
    column is still listed in the counts' `columns`). `reread` reads the
    rows again, for columns whose buckets must be redone (sketch.py);
    `expected_rows` is how many rows there will be, when the input says so
    up front. Pieces, unlike plain batches, say where rows came from, to
    locate invalid values. `bins` is a shorthand for a selection of all
    columns with that many bins.
    """
    if selection is None:
        selection = Selection() if bins is None else Selection(bins=bins)
    builder = _Builder(selection, reread is not None, expected_rows)
    for item in prefetch(batches):
        if isinstance(item, Piece):
            builder.add(item.table, item)
        else:
            builder.add(item, None)
    return builder.finish(reread)
