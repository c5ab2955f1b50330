"""A numeric reference column's values, kept exactly while they fit.

Bucket edges are quantiles of the reference, and the reference's counts over
them must be exact, so the reference pass keeps every value of a numeric
column, up to `HOLD_VALUES` values (when a batch would take them past it,
and at least half of it is held, the sketch goes on from those held; a
single larger batch is held whole; a column the input says has at most
twice as many rows, a Parquet footer, is held whole). Past that, memory
would grow with the data, and the sketch goes on in one of two ways.

When the reference can be read again (a file, a dataset), the buckets are
fixed from the values held so far (their exact quantiles) and every later
value is counted over them with one vectorised comparison per edge, the way
live data is counted. A uniform random sample of the whole column (each
value kept with a probability that halves as the column grows) is kept on
the side. At the end, if
the later values sat in those buckets as the first ones did (each edge's rank
moved by less than `REBIN_SHIFT` of a bucket), the buckets and their exact
counts stand: edges within sampling error (about 0.1% in rank) of the whole
column's quantiles. If not (a reference ordered by a trending feature), the
buckets are taken again from the sample's quantiles and the caller counts
that column exactly in a second pass.

When the reference can be read only once (CSV or JSON lines from stdin, a
pipe or a URL; Parquet from a stream is spooled to a file first), the sketch
switches to a fine grid: about 6,100 edges taken from the values held so far
(4,096 quantiles, plus a geometric extension on both sides for later values
beyond their range), over which every value is counted exactly; the final
edges are the grid edges closest in rank to the quantiles k/B. That costs a
sort of every later batch (measured: about twice the fixed buckets' time).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from driftcli.sample import ThinSample

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HOLD_VALUES = 1 << 18
"""Values per column kept exactly before the sketch goes on without them: 2 MB.

Memory is this times the numeric columns (200 columns: 400 MB; at 2^20 it was
1.6 GB; twice this for a reference known to fit in twice this), and a sort of
this many values per column is the reference's main cost (measured at 1M rows
x 20 numeric columns: CPU 1.88 -> 1.62 s with 2^18).
Edges from 262,144 values sit within about 0.1% in rank of the whole's."""
SAMPLE_VALUES = 1 << 16
"""Values per column in the random sample kept past `HOLD_VALUES`: quantiles of
65,536 values sit within about 0.2% in rank (one standard error), as the Dask
reference's do (summary.py); a larger sample cost more to draw than it gave.
Read when a sketch goes past `HOLD_VALUES`, so tests can lower it."""
SAMPLE_LOOKAHEAD = 4
"""The sample's first rate never assumes more than this many times the values seen
(see NumericSketch._values_expected)."""
REBIN_SHIFT = 0.25
"""How far an edge's rank may move, in shares of a bucket, before the buckets are redone."""
GRID_QUANTILES = 4096
GRID_EXTENSION = 1024
"""Geometric steps beyond each end of the held range, of ratio 2**(1/64), up to 2**16
times its span: the first ones 1.1% of the span, so a reference trending past its
first values still gets fine edges (a linear trend over 600k rows on stdin: bucket
shares within 0.33% of 5%; with 256 steps of 2**(1/16), 2.9%)."""
MANY_CUTS = 64
"""Past this many cut points, counting sorts the batch instead of comparing per cut point."""


@dataclass(frozen=True)
class Cuts:
    """A numeric feature's value buckets: exactly one of `edges` or `values` is set.

    - `edges`: interior bin edges, sorted and distinct; bucket i holds
      edges[i-1] <= x < edges[i], and the outer buckets are open.
    - `values`: distinct values, one bucket each, then `other`.
    """

    edges: FloatArray | None = None
    values: FloatArray | None = None

    def count(self, values: FloatArray, present: int) -> IntArray:
        """Counts of the value buckets of a batch.

        `values` holds NaN for absent values (they compare false with
        everything) and `present` other values. With the usual 20-odd cut
        points, one vectorised comparison per cut point is the fastest way
        (measured: 4x faster than sorting the batch, 8x faster than searching
        every value among the edges); with many, sort and search.
        """
        cuts = self.edges if self.edges is not None else self.values
        assert cuts is not None
        if len(cuts) > MANY_CUTS:
            return self.count_sorted(sorted_scratch(values)[:present])
        # np.array, not np.r_: its parsing cost 23 us a call, more than a
        # 10k-row batch's compares (an ingest flush counts hundreds of them).
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
        assert self.values is not None
        low = np.searchsorted(present, self.values, side="left")
        high = np.searchsorted(present, self.values, side="right")
        each = (high - low).astype(np.int64)
        return _int64(np.r_[each, len(present) - each.sum()])


def _int64(counts: npt.ArrayLike) -> IntArray:
    return np.asarray(counts, dtype=np.int64)


def cuts_of(sorted_values: FloatArray, bins: int) -> tuple[Cuts, IntArray]:
    """Buckets from sorted present values, and the values' counts over them.

    At most `bins` distinct values: one bucket per value (plus `other`, empty).
    Otherwise interior edges at the finite values' quantiles k/bins (numpy's
    default linear interpolation), duplicates merged, outer bins open.
    """
    n = len(sorted_values)
    if _few_distinct(sorted_values, bins):
        starts = _run_starts(sorted_values)
    else:
        starts = np.arange(bins + 1)  # more than `bins` distinct values: not discrete
    if len(starts) <= bins:
        runs = np.diff(np.r_[starts, n]).astype(np.int64)
        return Cuts(values=sorted_values[starts].copy()), np.r_[runs, 0].astype(np.int64)
    # Infinities sit at both ends of the sorted values: quantiles use the finite middle.
    lo = int(np.searchsorted(sorted_values, -np.inf, side="right"))
    hi = int(np.searchsorted(sorted_values, np.inf, side="left"))
    edges = _distinct(quantiles(sorted_values[lo:hi], np.arange(1, bins) / bins))
    below = np.searchsorted(sorted_values, edges, side="left")
    return Cuts(edges=edges), np.diff(np.r_[0, below, n]).astype(np.int64)


_Ordered = TypeVar("_Ordered", FloatArray, IntArray)


def _distinct(values: _Ordered) -> _Ordered:
    """np.unique of a few values (np.unique imports numpy.ma on first use: 10 ms of
    every start, measured with python -X importtime)."""
    ordered = np.sort(values)
    kept: _Ordered = ordered[_run_starts(ordered)]
    return kept


def _run_starts(ordered: FloatArray | IntArray) -> IntArray:
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


class NumericSketch:
    """Present (non-missing, valid) values of one numeric reference column.

    `rereadable` says whether the caller can read the column again, which
    decides how the sketch goes on past `hold` values (see the module's doc).
    `expected`: the rows the column will have, when the input says so up
    front (a Parquet footer). A column of at most twice the hold is then
    held whole (its edges exact quantiles, in one read), and the sample's
    first rate is set for the values still to come.
    """

    def __init__(
        self, hold: int | None = None, *, rereadable: bool = False, expected: int | None = None
    ) -> None:
        self._hold = HOLD_VALUES if hold is None else hold
        if expected is not None and expected <= 2 * self._hold:
            self._hold = max(self._hold, expected)
        self._rereadable = rereadable
        self._expected = expected
        self._rows = 0
        """Rows seen, the column's absent ones included (`skip`)."""
        self._held: list[FloatArray] = []
        self._held_count = 0
        self._held_absent = 0
        self.count = 0
        # Fixed buckets (rereadable):
        self._cuts: Cuts | None = None
        self._counts: IntArray | None = None
        self._first_counts: IntArray | None = None
        self._sample: ThinSample | None = None
        # Fine grid (read once):
        self._grid: FloatArray | None = None
        self._grid_counts: IntArray | None = None
        self._distinct: dict[float, int] | None = None
        self._limit_distinct = 0

    @property
    def exact(self) -> bool:
        """True while every value is held (edges will be exact quantiles)."""
        return self._grid is None and self._cuts is None

    def skip(self, rows: int) -> None:
        """Rows without the column, or with no value in it."""
        self._rows += rows

    def add(self, values: FloatArray, absent: int, bins: int) -> None:
        """Take a batch of values, in any order, where `absent` of them are NaN (not values).

        The NaNs are dropped when the values are sorted (NaN sorts last), so
        the batch is never copied just to remove them. `bins` is the
        feature's bucket count (and its limit of distinct values).
        """
        present = len(values) - absent
        if not present:
            self._rows += len(values)
            return
        held = self._held_count - self._held_absent
        if self.exact and held >= self._hold // 2 and held + present > self._hold:
            # This batch would take the held values past the hold: go on from
            # those held (at 1M rows in batches of 2^18 with a few NaN, the
            # sort of 2^18 values, not 2^19: reference CPU -0.4 s).
            self._past_hold(bins)
        self.count += present
        self._rows += len(values)
        if self._cuts is not None:
            assert self._counts is not None and self._sample is not None
            self._counts += self._cuts.count(values, present)
            self._sample.add(values, present)
        elif self._grid is not None:
            ordered = sorted_scratch(values)[:present]
            self._count_on_grid(ordered)
            self._track_distinct(ordered)
        else:
            self._held.append(values)
            self._held_count += len(values)
            self._held_absent += absent
            if self._held_count - self._held_absent > self._hold:
                self._past_hold(bins)

    def _past_hold(self, bins: int) -> None:
        if self._rereadable:
            self._fix_cuts(bins)
        else:
            self._start_grid(bins)

    def sorted_values(self) -> FloatArray:
        """All values, sorted (only while `exact`)."""
        assert self.exact
        if not self._held:
            return np.empty(0)
        # In place: a fresh 8 MB copy per column costs more in page faults
        # than the sort itself on this kind of machine (measured).
        merged = np.concatenate(self._held) if len(self._held) > 1 else self._held[0].copy()
        merged.sort()
        merged = merged[: self.count]
        self._held, self._held_count, self._held_absent = [merged], len(merged), 0
        return merged

    # --- fixed buckets ----------------------------------------------------------

    def _fix_cuts(self, bins: int) -> None:
        held = self.sorted_values()
        cuts, counts = cuts_of(held, bins)
        sample = ThinSample(SAMPLE_VALUES, expected=self._values_expected())
        sample.add(held, len(held))  # drawn at random: the order does not matter
        self._held, self._held_count = [], 0
        self._cuts, self._counts, self._first_counts = cuts, counts, counts.copy()
        self._sample = sample

    def _values_expected(self) -> int | None:
        """The column's values in all, as far as the input's row count tells, for the
        sample's first rate: those seen, plus the rows to come at the share of rows
        with a value so far. At most `SAMPLE_LOOKAHEAD` times those seen: a column
        that thins out later then leaves a sample at most twice that much smaller
        than it could be (rates are powers of two), and one that fills in is
        thinned by halves as usual."""
        if not self._expected:
            return None
        to_come = max(self._expected - self._rows, 0) * self.count / max(self._rows, 1)
        return min(self.count + round(to_come), SAMPLE_LOOKAHEAD * self.count)

    def fixed(self, bins: int) -> tuple[Cuts, IntArray] | None:
        """The fixed buckets and exact counts, or None if the column must be bucketed again.

        Each boundary's rank (the share of values below it) over the whole
        column is compared with its rank among the first values; a move of
        more than `REBIN_SHIFT` / bins (or, with few values held, more than
        their sampling error) means the later values are distributed otherwise
        (discrete features: that many values were new).
        """
        assert self._cuts is not None and self._counts is not None
        assert self._first_counts is not None
        held = int(self._first_counts.sum())
        whole = np.cumsum(self._counts)[:-1] / self._counts.sum()
        first = np.cumsum(self._first_counts)[:-1] / held
        # Ranks among `held` random values differ from the whole's by about
        # sqrt(p(1-p)/held): 0.001 for 2^18 values, far below the shift allowed.
        allowed = max(REBIN_SHIFT / bins, 5 * math.sqrt(0.25 / held))
        moved = bool(len(whole)) and float(np.abs(whole - first).max()) > allowed
        if moved and self._sample is not None and len(self._sample):
            return None
        return self._cuts, self._counts

    def sample_sorted(self) -> FloatArray:
        """The random sample's values, sorted (past `hold`, rereadable)."""
        assert self._sample is not None
        return np.sort(self._sample.values())

    # --- fine grid --------------------------------------------------------------

    @property
    def on_grid(self) -> bool:
        return self._grid is not None

    def _start_grid(self, max_distinct: int) -> None:
        ordered = self.sorted_values()
        self._held, self._held_count = [], 0
        finite = ordered[np.isfinite(ordered)]
        if len(finite):
            inner = quantiles(finite, np.linspace(0.0, 1.0, GRID_QUANTILES + 1))
            span = max(float(finite[-1] - finite[0]), abs(float(finite[-1])) * 1e-9, 1e-300)
            steps = span * (2.0 ** (np.arange(1, GRID_EXTENSION + 1) / 64.0) - 1.0)
            grid = _distinct(np.r_[finite[0] - steps[::-1], inner, finite[-1] + steps])
        else:
            grid = np.zeros(1)
        self._grid = grid
        self._grid_counts = np.zeros(len(grid) + 1, dtype=np.int64)
        self._limit_distinct = max_distinct
        self._distinct = {}
        self._count_on_grid(ordered)
        self._track_distinct(ordered)

    def _count_on_grid(self, ordered: FloatArray) -> None:
        assert self._grid is not None and self._grid_counts is not None
        below = np.searchsorted(ordered, self._grid, side="left")
        self._grid_counts += np.diff(np.r_[0, below, len(ordered)]).astype(np.int64)

    def _track_distinct(self, ordered: FloatArray) -> None:
        """Keep counts per distinct value while there are few enough for one bucket each."""
        if self._distinct is None:
            return
        starts = _run_starts(ordered)
        if len(starts) > self._limit_distinct:
            self._distinct = None
            return
        runs = np.diff(np.r_[starts, len(ordered)])
        for value, run in zip(ordered[starts].tolist(), runs.tolist(), strict=True):
            self._distinct[value] = self._distinct.get(value, 0) + run
        if len(self._distinct) > self._limit_distinct:
            self._distinct = None

    def grid_cuts(self, bins: int) -> tuple[Cuts, IntArray]:
        """On the grid: a bucket per value if there are few, else edges near the quantiles k/bins.

        Counts are exact either way.
        """
        assert self._grid is not None and self._grid_counts is not None
        if self._distinct is not None:
            values = np.array(sorted(self._distinct), dtype=np.float64)
            each = np.array([self._distinct[v] for v in values.tolist()], np.int64)
            return Cuts(values=values), np.r_[each, 0].astype(np.int64)
        below = np.cumsum(self._grid_counts)[:-1]  # values below each grid edge
        targets = np.arange(1, bins) / bins * self.count
        nearest = np.abs(below[None, :] - targets[:, None]).argmin(axis=1)
        chosen = _distinct(nearest)
        counts = np.diff(np.r_[0, below[chosen], self.count]).astype(np.int64)
        return Cuts(edges=self._grid[chosen]), counts


_SCRATCH = threading.local()


def sorted_scratch(values: FloatArray) -> FloatArray:
    """`values` sorted, in a buffer this thread reuses: valid until its next call.

    np.sort allocates a fresh array each time, and on this kind of machine
    the page faults of that fresh memory cost as much as the sort (measured:
    80 sorts of 256k values, 396 ms with np.sort, 194 ms in a reused buffer).
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
