"""Count any rows over the reference's buckets, batch by batch, on both cores."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

import numpy as np
import pyarrow as pa

from driftcli.choices import Kind
from driftcli.columns.samples import SEED, ValueReservoir
from driftcli.columns.values import read_numbers, read_texts, type_class
from driftcli.counting.buckets import Feature
from driftcli.counting.counts import LOCATIONS_KEPT, Counts, FeatureCounts, IntArray
from driftcli.counting.featureless import Featureless
from driftcli.inputs.piece import Piece
from driftcli.parallel import map_columns, prefetch
from driftcli.results import Location

LIVE_SAMPLE_VALUES = 50_000
"""Raw live values kept per feature for the sample metrics."""


class Counter:
    """Accumulates counts over the reference's buckets, batch by batch."""

    def __init__(
        self, features: Sequence[Feature], sampled: Collection[str] = (), seed: int = SEED
    ) -> None:
        self._features = list(features)
        self._counts = {
            f.name: FeatureCounts(np.zeros(f.n_buckets, dtype=np.int64)) for f in self._features
        }
        self._rows = 0
        self._columns: dict[str, None] = {}
        # Raw values kept for the sample metrics (ks, wasserstein), bounded.
        self._samples = {
            name: ValueReservoir(LIVE_SAMPLE_VALUES, seed + i) for i, name in enumerate(sampled)
        }

    def add(self, batch: pa.RecordBatch | pa.Table, piece: Piece | None = None) -> None:
        """Count one batch; a feature absent from it is missing on every row.

        `piece`, when the batch is one, says where its rows came from: the
        first invalid values of each feature are located by it.
        """
        self._rows += batch.num_rows
        names = set(batch.schema.names)
        self._columns.update(dict.fromkeys(batch.schema.names))
        columns = [batch.column(f.name) if f.name in names else None for f in self._features]

        def count(item: tuple[Feature, pa.Array | None]) -> IntArray:
            feature, column = item
            reservoir = self._samples.get(feature.name)
            if column is None or reservoir is None or feature.kind is not Kind.NUMERIC:
                return feature.count(column, batch.num_rows)
            # Sampled: read the numbers once, for the counts and the sample.
            numbers = read_numbers(column)
            reservoir.add(numbers.values[~(numbers.missing | numbers.invalid)])
            return feature.count(column, batch.num_rows, numbers)

        pairs = list(zip(self._features, columns, strict=True))
        counted = map_columns(count, pairs, rows=batch.num_rows)
        for (feature, column), buckets in zip(pairs, counted, strict=True):
            counts = self._counts[feature.name]
            counts.buckets += buckets
            if column is not None and column.null_count < len(column):
                counts.types |= type_class(column.type)
            if column is not None and piece is not None and buckets[feature.invalid_bucket]:
                counts.invalid_at = locate_invalid(counts.invalid_at, feature.kind, column, piece)

    def result(self) -> Counts:
        samples = {name: reservoir.values() for name, reservoir in self._samples.items()}
        return Counts(self._rows, dict(self._counts), list(self._columns), samples)

    def merge(self, other: Counter) -> None:
        """Add the rows `other` counted (over the same features, its samples drawn with
        another seed): as if this counter had seen them too."""
        self._rows += other._rows
        self._counts = {n: c.merge(other._counts[n]) for n, c in self._counts.items()}
        self._columns.update(other._columns)
        self._samples = {n: r.merge(other._samples[n]) for n, r in self._samples.items()}

    def reservoirs(self) -> dict[str, ValueReservoir]:
        """The live samples with their keys, to merge with other fragments' (engine/tasks.py)."""
        return dict(self._samples)


def locate_invalid(
    kept: tuple[Location, ...], kind: Kind, column: pa.Array | pa.ChunkedArray, piece: Piece
) -> tuple[Location, ...]:
    """The first invalid values' locations, topped up from this piece's (a rare path)."""
    room = LOCATIONS_KEPT - len(kept)
    if room <= 0:
        return kept
    read = read_numbers if kind is Kind.NUMERIC else read_texts
    rows = np.flatnonzero(read(column).invalid)[:room]
    return kept + piece.locate(rows)


def count_batches(
    features: Sequence[Feature], batches: Iterable[pa.RecordBatch], sampled: Collection[str] = ()
) -> Counts:
    """Count every batch over the features' buckets (and sample the `sampled` features)."""
    counter = Counter(features, sampled)
    for batch in prefetch(batches):
        counter.add(batch)
    return counter.result()


def count_pieces(
    features: Sequence[Feature], pieces: Iterable[Piece | None], sampled: Collection[str] = ()
) -> Counts:
    """`count_batches` over an input's pieces, locating the first invalid values; rows
    that hold none of the features are counted (as missing) and located apart."""
    counter = Counter(features, sampled)
    featureless = Featureless([f.name for f in features])
    for piece in prefetch(p for p in pieces if p is not None):
        featureless.note(piece)
        counter.add(piece.table, piece)
    return replace(
        counter.result(), featureless=featureless.count, featureless_at=featureless.first
    )
