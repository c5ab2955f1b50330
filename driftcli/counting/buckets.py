"""The buckets a reference fixes for each feature, and the one rule that puts a value in
one: `Feature.count` totals a batch's rows per bucket, `Feature.place` gives each row's
bucket (for counting many groups of rows at once).

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
import math
import threading
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftcli.choices import Kind
from driftcli.columns.values import (
    Numbers,
    TypeClass,
    read_numbers,
    read_texts,
    tally_texts,
    type_class,
)
from driftcli.counting.counts import Counts
from driftcli.numbers import readable

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

OTHER = "other"
MISSING = "missing"
INVALID = "invalid"
ROWS_PER_BUCKET = 2
"""A numeric reference column has at least this many rows per bucket, on average."""
MANY_CUTS = 64
"""Past this many cut points, counting sorts the batch instead of comparing per cut point."""

__all__ = ["INVALID", "MISSING", "OTHER", "Cuts", "Feature", "Kind", "Profile"]


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

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.edges, self.values, self.categories)]
        if sum(given) != 1:
            raise ValueError(f"{self.name}: exactly one of edges, values, categories")
        if (self.categories is not None) != (self.kind is Kind.CATEGORICAL):
            raise ValueError(f"{self.name}: categories go with a categorical kind")

    @property
    def n_value_buckets(self) -> int:
        """Buckets for values, `other` included, `missing` and `invalid` not."""
        if self.edges is not None:
            return len(self.edges) + 1
        return len(self.values if self.values is not None else self._categories()) + 1

    def _categories(self) -> tuple[str, ...]:
        """The categories of a categorical feature (set, by __post_init__)."""
        return self.categories or ()

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
            value_labels = [*self._categories(), OTHER]
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
            categories = self._categories()
            found = pc.index_in(tally.labels, value_set=pa.array(categories, pa.string()))
            bucket = np.asarray(
                pc.fill_null(found, len(categories)).to_numpy(zero_copy_only=False), np.int64
            )
            counts[: self.n_value_buckets] = np.bincount(
                bucket, weights=tally.counts, minlength=self.n_value_buckets
            ).astype(np.int64)
            counts[self.missing_bucket] = tally.missing
            counts[self.invalid_bucket] = tally.invalid
        return counts

    def place(self, column: pa.Array | pa.ChunkedArray | None, rows: int) -> IntArray:
        """Each row's bucket, by the rule `count` counts with (a test holds them equal):
        `count` only totals the buckets, which is faster where no row's bucket is needed."""
        if column is None:
            return np.full(rows, self.missing_bucket, np.int64)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        if self.kind is Kind.NUMERIC:
            return _place_numbers(self, column)
        return _place_texts(self, column)

    @property
    def cuts(self) -> Cuts:
        """A numeric feature's value buckets."""
        return Cuts(edges=self.edges, values=self.values)

    def count_values(self, values: FloatArray, present: int) -> IntArray:
        """Counts of a numeric feature's value buckets (see `Cuts.count`)."""
        return self.cuts.count(values, present)


def _number_label(value: float) -> str:
    return readable(value)


@dataclass(frozen=True)
class Cuts:
    """A numeric feature's value buckets: exactly one of `edges` or `values` is set.

    - `edges`: interior bin edges, sorted and distinct; bucket i holds
      edges[i-1] <= x < edges[i], and the outer buckets are open.
    - `values`: distinct values, one bucket each, then `other`.
    """

    edges: FloatArray | None = None
    values: FloatArray | None = None

    @property
    def points(self) -> FloatArray:
        """The edges, or the values: what a value is compared with."""
        if self.edges is not None:
            return self.edges
        return self.values if self.values is not None else np.empty(0)

    def count(self, values: FloatArray, present: int) -> IntArray:
        """Counts of the value buckets of a batch.

        `values` holds NaN for absent values (they compare false with
        everything) and `present` other values. With the usual 20-odd cut
        points, one vectorised comparison per cut point is the fastest way
        (faster than sorting the batch or searching every value among the
        edges); with many, sort and search.
        """
        cuts = self.points
        if len(cuts) > MANY_CUTS:
            return self.count_sorted(sorted_scratch(values)[:present])
        # np.array, not np.r_: parsing np.r_'s arguments costs more than a small
        # batch's compares, and an ingest flush counts hundreds of them.
        if self.edges is not None:
            below = [np.count_nonzero(values < edge) for edge in self.edges]
            return _int64(np.diff(np.array([0, *below, present], dtype=np.int64)))
        each = [np.count_nonzero(values == v) for v in cuts]
        return np.array([*each, present - sum(each)], dtype=np.int64)

    def count_sorted(self, present: FloatArray) -> IntArray:
        """Counts of the value buckets from sorted present values."""
        if self.edges is not None:
            below = np.searchsorted(present, self.edges, side="left")
            return _int64(np.diff(np.r_[0, below, len(present)]))
        low = np.searchsorted(present, self.points, side="left")
        high = np.searchsorted(present, self.points, side="right")
        each = (high - low).astype(np.int64)
        return _int64(np.r_[each, len(present) - each.sum()])


def _place_numbers(feature: Feature, column: pa.Array) -> IntArray:
    numbers = read_numbers(column)
    values, cuts = numbers.values, feature.cuts
    if cuts.edges is not None and len(cuts.edges) <= MANY_CUTS:
        # Bucket i holds edges[i-1] <= x < edges[i]: the number of edges at or below x,
        # counted by one vectorised comparison per edge (as `Cuts.count` does, and for the
        # same reason: faster than searching every value among the edges).
        small = np.zeros(len(values), np.int8)
        for edge in cuts.edges.tolist():
            small += values >= edge
        bucket = small.astype(np.int64)
    elif cuts.edges is not None:
        bucket = np.searchsorted(cuts.edges, values, side="right").astype(np.int64)
    else:
        points = cuts.points
        at = np.searchsorted(points, values, side="left").astype(np.int64)
        inside = at < len(points)
        hit = np.zeros(len(values), bool)
        hit[inside] = points[at[inside]] == values[inside]
        bucket = np.where(hit, at, len(points))  # not one of the values: `other`
    bucket[numbers.missing] = feature.missing_bucket
    bucket[numbers.invalid] = feature.invalid_bucket
    return bucket


def _place_texts(feature: Feature, column: pa.Array) -> IntArray:
    """Labels found per distinct value (as tally_texts reads them), then spread to the rows."""
    family = type_class(column.type)
    if family not in (TypeClass.TEXT, TypeClass.NUMBER, TypeClass.BOOL):
        nulls = np.asarray(column.is_null().to_numpy(zero_copy_only=False), bool)
        present = feature.invalid_bucket if family is not TypeClass.NONE else feature.missing_bucket
        return np.where(nulls, feature.missing_bucket, present).astype(np.int64)
    encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    dictionary = encoded.dictionary
    indices = encoded.indices
    if indices.null_count:  # nulls as a last, null entry
        indices = pc.fill_null(indices.cast(pa.int64()), len(dictionary))
    values = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
    texts = read_texts(values)
    categories = pa.array(feature.categories or (), pa.string())
    found = pc.fill_null(pc.index_in(texts.values, value_set=categories), len(categories))
    per_value = np.asarray(found.to_numpy(zero_copy_only=False), np.int64)
    per_value[texts.missing] = feature.missing_bucket
    return per_value[np.asarray(indices.to_numpy(zero_copy_only=False), np.int64)]


def _int64(counts: npt.ArrayLike) -> IntArray:
    return np.asarray(counts, dtype=np.int64)


def cuts_of(sorted_values: FloatArray, bins: int) -> tuple[Cuts, IntArray]:
    """Buckets from sorted present values, and the values' counts over them.

    Values that repeat (`discrete`): one bucket per value (plus `other`, empty).
    Otherwise interior edges at the finite values' quantiles k/B, with B
    `quantile_bins` (`bins`, fewer for a reference of under 2 * bins values;
    numpy's default linear interpolation), duplicates merged, outer bins open.
    """
    n = len(sorted_values)
    if _few_distinct(sorted_values, bins):
        starts = run_starts(sorted_values)
    else:
        starts = np.arange(bins + 1)  # more than `bins` distinct values: not discrete
    # Infinities sit at both ends of the sorted values: quantiles use the finite middle.
    lo = int(np.searchsorted(sorted_values, -np.inf, side="right"))
    hi = int(np.searchsorted(sorted_values, np.inf, side="left"))
    if discrete(len(starts), n, bins) or lo == hi:
        runs = np.diff(np.r_[starts, n]).astype(np.int64)
        return Cuts(values=sorted_values[starts].copy()), np.r_[runs, 0].astype(np.int64)
    supported = quantile_bins(n, bins)
    edges = distinct(quantiles(sorted_values[lo:hi], np.arange(1, supported) / supported))
    below = np.searchsorted(sorted_values, edges, side="left")
    cuts, counts = Cuts(edges=edges), np.diff(np.r_[0, below, n]).astype(np.int64)
    return with_range(cuts, counts, float(sorted_values[0]), float(sorted_values[-1]))


def with_range(cuts: Cuts, counts: IntArray, low: float, high: float) -> tuple[Cuts, IntArray]:
    """Quantile buckets with a bucket below the reference's smallest value and one above
    its largest, both empty in the reference: live values outside its range then show
    apart (a data-quality rule), and the drift score counts them with their neighbours.

    `low` and `high` are the reference's smallest and largest values (an infinite one
    has nothing beyond it). The edges become `low` and the next float above `high`.
    """
    if cuts.edges is None or not len(cuts.edges):
        return cuts, counts
    edges = cuts.edges
    if math.isfinite(low) and low < edges[0]:
        edges, counts = np.r_[low, edges], np.r_[0, counts].astype(np.int64)
    above = float(np.nextafter(high, math.inf)) if math.isfinite(high) else math.inf
    if math.isfinite(above) and above > edges[-1]:
        edges, counts = np.r_[edges, above], np.r_[counts, 0].astype(np.int64)
    return Cuts(edges=np.asarray(edges, dtype=np.float64)), counts


def without_range(cuts: Cuts, counts: IntArray) -> tuple[Cuts, IntArray]:
    """Quantile buckets without the empty outer buckets `with_range` adds: the range is
    taken again, over every value, once they have all been seen."""
    if cuts.edges is None or len(cuts.edges) < 3:
        return cuts, counts
    first, last = int(counts[0] == 0), int(counts[-1] == 0)
    edges = cuts.edges[first : len(cuts.edges) - last]
    return Cuts(edges=edges), counts[first : len(counts) - last]


def discrete(n_distinct: int, n_values: int, bins: int) -> bool:
    """Does a numeric column get one bucket per value? Only if its values repeat.

    At most `bins` distinct values, each held by at least two rows on average:
    a flag or a small integer. Twenty rows of a continuous feature also have
    at most twenty distinct values, but only because none has repeated yet;
    bucketed by value, every live value would land in `other`, where the
    reference has no row, and fresh data of the same distribution would drift.
    """
    return n_distinct <= bins and ROWS_PER_BUCKET * n_distinct <= n_values


def quantile_bins(n_values: int, bins: int) -> int:
    """Quantile buckets for `n_values` values: `bins`, but no more than the rows fill.

    With fewer than two reference rows per bucket, the buckets are mostly
    interpolation between neighbouring values, and their noise drowns a change.
    Two at least (of two rows or more): one bucket holds every value, and no
    change could ever show.
    """
    return max(min(2, n_values, bins), min(bins, n_values // ROWS_PER_BUCKET))


_Ordered = TypeVar("_Ordered", FloatArray, IntArray)


def distinct(values: _Ordered) -> _Ordered:
    """np.unique of a few values, without np.unique: it imports numpy.ma on first use,
    which every start would pay."""
    ordered = np.sort(values)
    kept: _Ordered = ordered[run_starts(ordered)]
    return kept


def run_starts(ordered: FloatArray | IntArray) -> IntArray:
    """Where each run of equal values starts in values in order."""
    return np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]][: len(ordered)])


def _few_distinct(sorted_values: FloatArray, limit: int) -> bool:
    """Could the sorted values hold at most `limit` distinct values? (Cheap check first.)

    Evenly spaced samples of sorted data with more than `limit` distinct
    values prove the whole has more, without a pass over a million values.
    """
    if len(sorted_values) <= 64 * (limit + 1):
        return True
    probe = sorted_values[:: len(sorted_values) // (16 * (limit + 1))]
    return int(np.count_nonzero(probe[1:] != probe[:-1])) + 1 <= limit


def numeric_buckets(
    name: str, sorted_values: FloatArray, bins: int, source_type: TypeClass = TypeClass.NUMBER
) -> tuple[Feature, IntArray]:
    """Buckets for a numeric feature from its sorted, non-missing reference values.

    Buckets as `cuts_of` fixes them.
    Returns the feature and the reference counts of its value buckets.
    """
    cuts, counts = cuts_of(sorted_values, bins)
    return numeric_feature(name, source_type, cuts), counts


def numeric_feature(name: str, source_type: TypeClass, cuts: Cuts) -> Feature:
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


@dataclass
class Profile:
    """The reference: each feature's buckets and the reference's counts over them."""

    features: list[Feature]
    counts: Counts
    skipped: dict[str, str] = field(default_factory=dict)
    """Reference columns that cannot be scored, with the reason."""


_SCRATCH = threading.local()


def sorted_scratch(values: FloatArray) -> FloatArray:
    """`values` sorted, in a buffer this thread reuses: valid until its next call.

    np.sort allocates a fresh array each time, and the page faults of that
    fresh memory can cost as much as the sort itself.
    """
    buffer: FloatArray | None = getattr(_SCRATCH, "buffer", None)
    if buffer is None or len(buffer) < len(values):
        buffer = np.empty(max(len(values), 1 << 18))
        _SCRATCH.buffer = buffer
    out = buffer[: len(values)]
    np.copyto(out, values)
    out.sort()
    return out


def quantiles(sorted_values: FloatArray, q: FloatArray) -> FloatArray:
    """np.quantile(..., method="linear") on data that is already sorted."""
    position = q * (len(sorted_values) - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, len(sorted_values) - 1)
    fraction = position - below
    low, high = sorted_values[below], sorted_values[above]
    with np.errstate(over="ignore"):  # neighbours either side of zero near the float limit
        result = np.asarray(low + (high - low) * fraction, dtype=np.float64)
    overflowed = ~np.isfinite(result) & np.isfinite(low) & np.isfinite(high)
    if overflowed.any():
        f = fraction[overflowed]
        result[overflowed] = low[overflowed] * (1 - f) + high[overflowed] * f
    return result
