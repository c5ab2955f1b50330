"""Buckets fixed by the reference, and bucket counts for any batch of rows.

The reference decides, per feature, how values are bucketed; live data is then
counted over the same buckets, so the two sides always line up (the bug of the
seed sketch was binning each side on its own range). Counts are additive: two
counts over the same buckets merge by adding.

Every feature's count vector ends with two special buckets, `missing` and
`invalid`; discrete numeric and categorical features also have an `other`
bucket, just before them, for values the reference did not have.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftcli.errors import InputError
from driftcli.parallel import map_columns, prefetch
from driftcli.sample import SEED, ValueReservoir
from driftcli.sketch import Cuts, NumericSketch, cuts_of
from driftcli.text_formats import Chunk, Location
from driftcli.values import (
    PARTITION_KEY,
    UNTYPED_KEY,
    Numbers,
    TypeClass,
    read_numbers,
    read_texts,
    share_numeric,
    tally_texts,
    type_class,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DEFAULT_BINS = 20
DEFAULT_MAX_CATEGORIES = 20
TEXT_NUMERIC_SHARE = 0.99
"""A CSV column is numeric when at least this share of its first values parse as numbers."""

ID_MIN_ROWS = 100
ID_DISTINCT_SHARE = 0.9
"""A text column with this share of distinct values is taken for an identifier, not scored."""

LIVE_SAMPLE_VALUES = 50_000
"""Raw live values kept per feature for the sample metrics."""

OTHER = "other"
MISSING = "missing"
INVALID = "invalid"


class Kind(str, Enum):
    """How a feature is bucketed."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class Feature:
    """One feature's buckets, fixed by the reference.

    Exactly one of `edges`, `values` or `categories` is set:

    - `edges`: interior bin edges, sorted and distinct; bucket i holds
      edges[i-1] <= x < edges[i], and the outer buckets are open.
    - `values`: a low-cardinality numeric feature's distinct reference values,
      one bucket each, then `other`.
    - `categories`: the reference's most frequent labels, one bucket each,
      then `other`.
    """

    name: str
    kind: Kind
    source_type: TypeClass
    """What the reference column arrived as; live data of another family is a type change."""
    edges: FloatArray | None = None
    values: FloatArray | None = None
    categories: tuple[str, ...] | None = None

    @property
    def n_value_buckets(self) -> int:
        """Buckets for values, `other` included, `missing` and `invalid` not."""
        if self.edges is not None:
            return len(self.edges) + 1
        if self.values is not None:
            return len(self.values) + 1
        assert self.categories is not None
        return len(self.categories) + 1

    @property
    def n_buckets(self) -> int:
        return self.n_value_buckets + 2

    @property
    def missing_bucket(self) -> int:
        return self.n_value_buckets

    @property
    def invalid_bucket(self) -> int:
        return self.n_value_buckets + 1

    def labels(self) -> list[str]:
        """A short label per bucket, in count-vector order."""
        if self.edges is not None:
            edges = [_number_label(e) for e in self.edges]
            inner = [f"[{lo}, {hi})" for lo, hi in itertools.pairwise(edges)]
            value_labels = [f"< {edges[0]}", *inner, f">= {edges[-1]}"] if edges else ["all"]
        elif self.values is not None:
            value_labels = [_number_label(v) for v in self.values] + [OTHER]
        else:
            assert self.categories is not None
            value_labels = [*self.categories, OTHER]
        return [*value_labels, MISSING, INVALID]

    def count(
        self, column: pa.Array | pa.ChunkedArray | None, n_rows: int, numbers: Numbers | None = None
    ) -> IntArray:
        """Count one batch's values of this feature over its buckets.

        `column` is None when the batch lacks the column: every row is missing.
        `numbers` is the column already read as numbers, when the caller has it.
        """
        counts = np.zeros(self.n_buckets, dtype=np.int64)
        if column is None:
            counts[self.missing_bucket] = n_rows
        elif self.kind is Kind.NUMERIC:
            numbers = numbers or read_numbers(column)
            counts[self.missing_bucket] = np.count_nonzero(numbers.missing)
            counts[self.invalid_bucket] = np.count_nonzero(numbers.invalid)
            present = (
                len(numbers.values) - counts[self.missing_bucket] - counts[self.invalid_bucket]
            )
            counts[: self.n_value_buckets] = self.count_values(numbers.values, int(present))
        else:
            tally = tally_texts(column)
            assert self.categories is not None
            found = pc.index_in(tally.labels, value_set=pa.array(self.categories, pa.string()))
            bucket = np.asarray(
                pc.fill_null(found, len(self.categories)).to_numpy(zero_copy_only=False), np.int64
            )
            counts[: self.n_value_buckets] = np.bincount(
                bucket, weights=tally.counts, minlength=self.n_value_buckets
            ).astype(np.int64)
            counts[self.missing_bucket] = tally.missing
            counts[self.invalid_bucket] = tally.invalid
        return counts

    @property
    def cuts(self) -> Cuts:
        """A numeric feature's value buckets."""
        return Cuts(edges=self.edges, values=self.values)

    def count_values(self, values: FloatArray, present: int) -> IntArray:
        """Counts of a numeric feature's value buckets (see `Cuts.count`)."""
        return self.cuts.count(values, present)


def _number_label(value: float) -> str:
    return f"{value:.4g}"


LOCATIONS_KEPT = 5
"""Where the first few invalid values of a feature are, kept to name them."""


@dataclass
class FeatureCounts:
    """Counts of one feature over its buckets, what types its values came as, and
    where its first invalid values are."""

    buckets: IntArray
    types: TypeClass = TypeClass.NONE
    invalid_at: tuple[Location, ...] = ()

    def merge(self, other: FeatureCounts) -> FeatureCounts:
        return FeatureCounts(
            self.buckets + other.buckets,
            self.types | other.types,
            (self.invalid_at + other.invalid_at)[:LOCATIONS_KEPT],
        )

    @property
    def rows(self) -> int:
        return int(self.buckets.sum())


@dataclass
class Counts:
    """Bucket counts of every feature over a set of rows."""

    rows: int
    features: dict[str, FeatureCounts]
    columns: list[str] = field(default_factory=list)
    """Every column name seen in the data, in order of first appearance."""
    samples: dict[str, FloatArray] = field(default_factory=dict)
    """Bounded random samples of raw values, for the features that asked for them."""

    def merge(self, other: Counts) -> Counts:
        """Counts of the union of both row sets (same features, same buckets)."""
        features = {
            name: counts.merge(other.features[name]) for name, counts in self.features.items()
        }
        columns = self.columns + [c for c in other.columns if c not in set(self.columns)]
        return Counts(self.rows + other.rows, features, columns)


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

    def add(self, batch: pa.RecordBatch | pa.Table, chunk: Chunk | None = None) -> None:
        """Count one batch; a feature absent from it is missing on every row.

        `chunk`, when the batch is one, says where its rows came from: the
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
            if column is not None and chunk is not None and buckets[feature.invalid_bucket]:
                counts.invalid_at = _located(counts.invalid_at, feature.kind, column, chunk)

    def result(self) -> Counts:
        samples = {name: reservoir.values() for name, reservoir in self._samples.items()}
        return Counts(self._rows, dict(self._counts), list(self._columns), samples)

    def reservoirs(self) -> dict[str, ValueReservoir]:
        """The live samples with their keys, to merge with other fragments' (engine.py)."""
        return dict(self._samples)


def _located(
    kept: tuple[Location, ...], kind: Kind, column: pa.Array | pa.ChunkedArray, chunk: Chunk
) -> tuple[Location, ...]:
    """The first invalid values' locations, topped up from this chunk's (a rare path)."""
    room = LOCATIONS_KEPT - len(kept)
    if room <= 0:
        return kept
    read = read_numbers if kind is Kind.NUMERIC else read_texts
    rows = np.flatnonzero(read(column).invalid)[:room]
    return kept + chunk.locate(rows)


def count_batches(
    features: Sequence[Feature], batches: Iterable[pa.RecordBatch], sampled: Collection[str] = ()
) -> Counts:
    """Count every batch over the features' buckets (and sample the `sampled` features)."""
    counter = Counter(features, sampled)
    for batch in prefetch(batches):
        counter.add(batch)
    return counter.result()


def count_chunks(
    features: Sequence[Feature], chunks: Iterable[Chunk | None], sampled: Collection[str] = ()
) -> Counts:
    """`count_batches` over an input's chunks, locating the first invalid values."""
    counter = Counter(features, sampled)
    for chunk in prefetch(c for c in chunks if c is not None):
        counter.add(chunk.table, chunk)
    return counter.result()


@dataclass
class Profile:
    """The reference: each feature's buckets and the reference's counts over them."""

    features: list[Feature]
    counts: Counts
    skipped: dict[str, str] = field(default_factory=dict)
    """Reference columns that cannot be scored, with the reason."""


class _ColumnAccumulator:
    """Everything the reference pass keeps of one column until buckets are fixed."""

    def __init__(
        self, kind: Kind | None = None, *, rereadable: bool = False, expected: int | None = None
    ) -> None:
        self.forced = kind
        self.kind: Kind | None = None
        self.source_type = TypeClass.NONE
        self.numbers = NumericSketch(rereadable=rereadable, expected=expected)
        self.recount = False
        """Set by `build`: the buckets came from a sample; the counts need a second pass."""
        self.labels: dict[str, int] = {}
        self.missing = 0
        self.invalid = 0
        self.invalid_at: tuple[Location, ...] = ()
        self.unsupported: str | None = None

    def add(
        self,
        column: pa.Array | pa.ChunkedArray | None,
        n_rows: int,
        untyped: bool,
        bins: int,
        chunk: Chunk | None = None,
    ) -> None:
        if column is None or column.null_count == len(column):
            self.missing += n_rows
            self.numbers.skip(n_rows)
            return
        family = type_class(column.type)
        if self.kind is None:
            self.kind = self._decide_kind(column, family, untyped)
            self.source_type = family | (TypeClass.UNTYPED if untyped else TypeClass.NONE)
            if self.kind is None:
                return
        if self.kind is Kind.NUMERIC:
            numbers = read_numbers(column)
            missing = int(np.count_nonzero(numbers.missing))
            invalid = int(np.count_nonzero(numbers.invalid))
            self.numbers.add(numbers.values, missing + invalid, bins)
            self.missing += missing
            self.invalid += invalid
        else:
            tally = tally_texts(column)
            invalid = tally.invalid
            self.missing += tally.missing
            self.invalid += invalid
            for label, n in zip(tally.labels.to_pylist(), tally.counts.tolist(), strict=True):
                self.labels[label] = self.labels.get(label, 0) + n
        if invalid and chunk is not None:
            self.invalid_at = _located(self.invalid_at, self.kind, column, chunk)

    def _decide_kind(
        self, column: pa.Array | pa.ChunkedArray, family: TypeClass, untyped: bool
    ) -> Kind | None:
        if self.forced is Kind.CATEGORICAL and family is not TypeClass.OTHER:
            return Kind.CATEGORICAL
        if self.forced is Kind.NUMERIC and family in (TypeClass.NUMBER, TypeClass.TEXT):
            return Kind.NUMERIC
        if family is TypeClass.NUMBER:
            return Kind.NUMERIC
        if family is TypeClass.TEXT:
            if untyped and share_numeric(column) >= TEXT_NUMERIC_SHARE:
                return Kind.NUMERIC
            return Kind.CATEGORICAL
        if family is TypeClass.BOOL:
            return Kind.CATEGORICAL
        self.unsupported = f"unsupported type {column.type}"
        return None

    def build(self, name: str, bins: int, max_categories: int) -> tuple[Feature, IntArray] | str:
        """The feature and its reference counts, or why it cannot be scored."""
        if self.unsupported:
            return self.unsupported
        if self.kind is None:
            return "no values in the reference"
        present = sum(self.labels.values())
        identifier_like = present >= ID_MIN_ROWS and len(self.labels) >= ID_DISTINCT_SHARE * present
        if self.kind is Kind.CATEGORICAL and identifier_like:
            return "nearly every value is distinct, like an identifier; --exclude it"
        if self.kind is Kind.NUMERIC:
            if not self.numbers.count:
                return "no values in the reference"
            feature, value_counts = self._numeric_buckets(name, bins)
        else:
            feature, value_counts = categorical_buckets(
                name, self.labels, max_categories, self.source_type
            )
        counts = np.concatenate([value_counts, [self.missing, self.invalid]]).astype(np.int64)
        return feature, counts

    def _numeric_buckets(self, name: str, bins: int) -> tuple[Feature, IntArray]:
        sketch = self.numbers
        if sketch.exact:
            return numeric_buckets(name, sketch.sorted_values(), bins, self.source_type)
        if sketch.on_grid:
            cuts, counts = sketch.grid_cuts(bins)
            return _numeric_feature(name, self.source_type, cuts), counts
        fixed = sketch.fixed(bins)
        if fixed is None:
            # The later values sat otherwise than the first ones: bucket the
            # column by its sample, and count it again (build_profile).
            self.recount = True
            fixed = cuts_of(sketch.sample_sorted(), bins)
        cuts, counts = fixed
        return _numeric_feature(name, self.source_type, cuts), counts


def numeric_buckets(
    name: str, sorted_values: FloatArray, bins: int, source_type: TypeClass = TypeClass.NUMBER
) -> tuple[Feature, IntArray]:
    """Buckets for a numeric feature from its sorted, non-missing reference values.

    At most `bins` distinct values: one bucket per value (plus `other`).
    Otherwise interior edges at the finite values' quantiles k/bins (numpy's
    default linear interpolation), duplicates merged, outer bins open.
    Returns the feature and the reference counts of its value buckets.
    """
    cuts, counts = cuts_of(sorted_values, bins)
    return _numeric_feature(name, source_type, cuts), counts


def _numeric_feature(name: str, source_type: TypeClass, cuts: Cuts) -> Feature:
    return Feature(name, Kind.NUMERIC, source_type, edges=cuts.edges, values=cuts.values)


def categorical_buckets(
    name: str, labels: dict[str, int], max_categories: int, source_type: TypeClass = TypeClass.TEXT
) -> tuple[Feature, IntArray]:
    """The most frequent labels (ties by label) get a bucket each; the rest go to `other`."""
    ranked = sorted(labels.items(), key=lambda item: (-item[1], item[0]))
    kept = ranked[:max_categories]
    rest = sum(n for _, n in ranked[max_categories:])
    feature = Feature(
        name, Kind.CATEGORICAL, source_type, categories=tuple(label for label, _ in kept)
    )
    return feature, np.array([n for _, n in kept] + [rest], dtype=np.int64)


def build_profile(
    batches: Iterable[pa.RecordBatch | Chunk],
    *,
    bins: int = DEFAULT_BINS,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    columns: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    kinds: dict[str, Kind] | None = None,
    bins_for: dict[str, int] | None = None,
    reread: Callable[[Sequence[str]], Iterable[pa.RecordBatch]] | None = None,
    expected_rows: int | None = None,
) -> Profile:
    """Fix every feature's buckets from the reference rows and count them.

    A text column marked untyped by the reader (CSV, or JSON of mixed types)
    is numeric when its values read as numbers. `kinds` fixes the kind of
    the columns it names. `columns` limits the features to those names and
    `exclude` leaves names out; every column is still listed in the counts'
    `columns`. `bins_for` sets the bins (and category cap) of the columns it
    names. `reread(names)` reads the rows again (at least the columns named),
    for columns whose buckets must be redone (sketch.py); `expected_rows` is
    how many rows there will be, when the input says so up front. Chunks,
    unlike plain batches, say where rows came from, to locate invalid values.
    """
    own_bins = {name_key(n): b for n, b in (bins_for or {}).items()}
    accumulators: dict[str, _ColumnAccumulator] = {}
    skipped: dict[str, str] = {}
    seen: dict[str, None] = {}
    wanted = None if columns is None else {name_key(c) for c in columns}
    unwanted = {name_key(c) for c in exclude}
    rows = 0
    for item in prefetch(batches):
        batch, chunk = (item.table, item) if isinstance(item, Chunk) else (item, None)
        seen.update(dict.fromkeys(batch.schema.names))
        names = set(batch.schema.names)
        schema = batch.schema
        for name in batch.schema.names:
            key = name_key(name)
            if name in accumulators or name in skipped or key in unwanted:
                continue
            if wanted is not None and key not in wanted:
                continue
            if wanted is None and _UNNAMED.fullmatch(name):
                skipped[name] = "an unnamed column (a saved row index?); name it in --features"
                continue
            if wanted is None and _is_partition(schema.field(name)):
                skipped[name] = "a hive partition directory; name it in --features to score it"
                continue
            accumulators[name] = _new_accumulator(
                rows, (kinds or {}).get(name), reread is not None, expected_rows
            )

        schema = batch.schema
        n_rows = batch.num_rows
        work = [
            (acc, batch.column(name), n_rows, _is_untyped(schema.field(name)), name, chunk)
            if name in names
            else (acc, None, n_rows, False, name, chunk)
            for name, acc in accumulators.items()
        ]
        map_columns(
            lambda job: job[0].add(
                job[1], job[2], job[3], own_bins.get(name_key(job[4]), bins), job[5]
            ),
            work,
            rows=n_rows,
        )
        rows += batch.num_rows
    features: list[Feature] = []
    counts: dict[str, FeatureCounts] = {}

    def build(item: tuple[str, _ColumnAccumulator]) -> tuple[Feature, IntArray] | str:
        name, acc = item
        own = own_bins.get(name_key(name))
        return acc.build(name, bins if own is None else own, max_categories if own is None else own)

    built_all = map_columns(build, list(accumulators.items()))
    for (name, acc), built in zip(accumulators.items(), built_all, strict=True):
        if isinstance(built, str):
            skipped[name] = built
            continue
        feature, feature_counts = built
        features.append(feature)
        counts[name] = FeatureCounts(feature_counts, acc.source_type, acc.invalid_at)
    again = [f for f in features if accumulators[f.name].recount]
    if again:
        assert reread is not None
        recounted = count_batches(again, reread([f.name for f in again]))
        if recounted.rows != rows:
            raise InputError(
                f"the reference changed while it was read ({rows:,} rows, then {recounted.rows:,})"
            )
        for feature in again:
            counts[feature.name] = FeatureCounts(
                recounted.features[feature.name].buckets, accumulators[feature.name].source_type
            )
    return Profile(features, Counts(rows, counts, list(seen)), skipped)


def _new_accumulator(
    rows_before: int, kind: Kind | None, rereadable: bool, expected_rows: int | None
) -> _ColumnAccumulator:
    """A column first seen after `rows_before` rows was missing on all of them."""
    acc = _ColumnAccumulator(kind, rereadable=rereadable, expected=expected_rows)
    acc.missing = rows_before
    acc.numbers.skip(rows_before)
    return acc


_UNNAMED = re.compile(r"\s*|Unnamed: \d+")
"""Names pandas gives an index column saved without a name."""


def name_key(name: str) -> str:
    """How a column name given on the command line is matched: surrounding spaces ignored."""
    return name.strip()


def _is_partition(field: pa.Field) -> bool:
    return bool(field.metadata and PARTITION_KEY in field.metadata)


def _is_untyped(field: pa.Field) -> bool:
    return bool(field.metadata and UNTYPED_KEY in field.metadata)
