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
sort of every later batch, about twice the fixed buckets' time.

The three ways are the sketch's states: `_Holding`, then `_Fixed` or `_Grid`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from driftcli.columns.samples import ThinSample
from driftcli.counting.buckets import (
    Cuts,
    cuts_of,
    discrete,
    distinct,
    quantiles,
    run_starts,
    sorted_scratch,
    with_range,
    without_range,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HOLD_VALUES = 1 << 18
"""Values per column kept exactly before the sketch goes on without them: 2 MB.

Memory is this times the numeric columns (twice this for a reference known
to fit in twice this), and a sort of this many values per column is the
reference's main cost. Edges from 262,144 values sit within about 0.1% in
rank of the whole column's."""
SAMPLE_VALUES = 1 << 16
"""Values per column in the random sample kept past `HOLD_VALUES`: quantiles of
65,536 values sit within about 0.2% in rank (one standard error), as the
summaries' do on an engine (summary.py). Read when a sketch goes past
`HOLD_VALUES`, so tests can lower it."""
HOLD_BUDGET = 1 << 24
"""Values held in all by a reference's columns (128 MB): with more than 64 columns each
holds its share (`hold_for`), at least `MIN_HOLD`, so that memory does not grow with
the columns; its edges are then a little less exact (from 16,384 values, about 0.4%
in rank), and its sample past the hold smaller in the same proportion."""
MIN_HOLD = 1 << 12


def hold_for(columns: int) -> int:
    """Values each numeric column holds, in a reference of this many columns."""
    return min(HOLD_VALUES, max(MIN_HOLD, HOLD_BUDGET // max(columns, 1)))


SAMPLE_LOOKAHEAD = 4
"""The sample's first rate never assumes more than this many times the values seen
(see NumericSketch._values_expected)."""
REBIN_SHIFT = 0.25
"""How far an edge's rank may move, in shares of a bucket, before the buckets are redone."""
GRID_QUANTILES = 4096
GRID_EXTENSION = 1024
"""Geometric steps beyond each end of the held range, of ratio 2**(1/64), up to 2**16
times its span: the first ones 1.1% of the span, so a reference trending past its
first values still gets fine edges."""


@dataclass(frozen=True)
class Sketched:
    """A numeric column's buckets and exact counts, as the sketch ends."""

    cuts: Cuts
    counts: IntArray
    recount: bool = False
    """The buckets came from the sample: count the column again (a second read)."""


class _Holding:
    """Every value so far, in the batches they came in."""

    def __init__(self) -> None:
        self.parts: list[FloatArray] = []
        self.size = 0
        self.absent = 0

    @property
    def present(self) -> int:
        return self.size - self.absent

    def add(self, values: FloatArray, absent: int) -> None:
        self.parts.append(values)
        self.size += len(values)
        self.absent += absent

    def sorted_values(self) -> FloatArray:
        """The present values, sorted, merged into one array kept for later calls."""
        if not self.parts:
            return np.empty(0)
        # In place: a fresh copy per column costs more in page faults than the sort.
        merged = np.concatenate(self.parts) if len(self.parts) > 1 else self.parts[0].copy()
        merged.sort()
        merged = merged[: self.present]
        self.parts, self.size, self.absent = [merged], len(merged), 0
        return merged


class _Fixed:
    """Buckets fixed from the values held; later values counted over them, a sample kept."""

    def __init__(self, held: FloatArray, bins: int, expected: int | None, sample: int) -> None:
        self.cuts, self.counts = without_range(*cuts_of(held, bins))
        self.first_counts = self.counts.copy()
        self.sample = ThinSample(sample, expected=expected)
        self.sample.add(held, len(held))  # drawn at random: the order does not matter
        self.low, self.high = (float(held[0]), float(held[-1])) if len(held) else (0.0, 0.0)

    def add(self, values: FloatArray, present: int) -> None:
        self.counts += self.cuts.count(values, present)
        self.sample.add(values, present)
        if present:
            self.low = min(self.low, float(np.nanmin(values)))
            self.high = max(self.high, float(np.nanmax(values)))

    def result(self, bins: int) -> Sketched:
        """The fixed buckets, or the sample's when the later values sat otherwise.

        Each boundary's rank (the share of values below it) over the whole
        column is compared with its rank among the first values; a move of
        more than `REBIN_SHIFT` / bins (or, with few values held, more than
        their sampling error) means the later values are distributed
        otherwise (discrete features: that many values were new).
        """
        if self.moved(bins) and len(self.sample):
            cuts, counts = without_range(*cuts_of(np.sort(self.sample.values()), bins))
            return Sketched(*with_range(cuts, counts, self.low, self.high), recount=True)
        return Sketched(*with_range(self.cuts, self.counts, self.low, self.high))

    def moved(self, bins: int) -> bool:
        held = int(self.first_counts.sum())
        whole = np.cumsum(self.counts)[:-1] / self.counts.sum()
        first = np.cumsum(self.first_counts)[:-1] / held
        # Ranks among `held` random values differ from the whole's by about
        # sqrt(p(1-p)/held): 0.001 for 2^18 values, far below the shift allowed.
        allowed = max(REBIN_SHIFT / bins, 5 * math.sqrt(0.25 / held))
        return bool(len(whole)) and float(np.abs(whole - first).max()) > allowed


class _Grid:
    """A fine grid of edges from the values held; every value counted over it exactly."""

    def __init__(self, held: FloatArray, max_distinct: int) -> None:
        finite = held[np.isfinite(held)]
        if len(finite):
            inner = quantiles(finite, np.linspace(0.0, 1.0, GRID_QUANTILES + 1))
            span = max(float(finite[-1] - finite[0]), abs(float(finite[-1])) * 1e-9, 1e-300)
            steps = span * (2.0 ** (np.arange(1, GRID_EXTENSION + 1) / 64.0) - 1.0)
            self.grid = distinct(np.r_[finite[0] - steps[::-1], inner, finite[-1] + steps])
        else:
            self.grid = np.zeros(1)
        self.counts = np.zeros(len(self.grid) + 1, dtype=np.int64)
        self.limit = max_distinct
        self.distinct: dict[float, int] | None = {}
        self.low, self.high = math.inf, -math.inf
        self.add(held)

    def add(self, ordered: FloatArray) -> None:
        """Count sorted present values over the grid (and per value, while few)."""
        if len(ordered):
            self.low = min(self.low, float(ordered[0]))
            self.high = max(self.high, float(ordered[-1]))
        below = np.searchsorted(ordered, self.grid, side="left")
        self.counts += np.diff(np.r_[0, below, len(ordered)]).astype(np.int64)
        if self.distinct is None:
            return
        starts = run_starts(ordered)
        if len(starts) > self.limit:
            self.distinct = None
            return
        runs = np.diff(np.r_[starts, len(ordered)])
        for value, run in zip(ordered[starts].tolist(), runs.tolist(), strict=True):
            self.distinct[value] = self.distinct.get(value, 0) + run
        if len(self.distinct) > self.limit:
            self.distinct = None

    def result(self, bins: int, count: int) -> Sketched:
        """A bucket per value if there are few, else grid edges near the quantiles k/bins.

        Counts are exact either way.
        """
        if self.distinct is not None and discrete(len(self.distinct), count, bins):
            values = np.array(sorted(self.distinct), dtype=np.float64)
            each = np.array([self.distinct[v] for v in values.tolist()], np.int64)
            return Sketched(Cuts(values=values), np.r_[each, 0].astype(np.int64))
        below = np.cumsum(self.counts)[:-1]  # values below each grid edge
        targets = np.arange(1, bins) / bins * count
        nearest = np.abs(below[None, :] - targets[:, None]).argmin(axis=1)
        chosen = distinct(nearest)
        counts = np.diff(np.r_[0, below[chosen], count]).astype(np.int64)
        return Sketched(*with_range(Cuts(edges=self.grid[chosen]), counts, self.low, self.high))


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
        self,
        hold: int | None = None,
        *,
        rereadable: bool = False,
        expected: int | None = None,
        shared: bool = False,
    ) -> None:
        self._hold = HOLD_VALUES if hold is None else hold
        self._shared = shared
        """The hold is a share of `HOLD_BUDGET`: the sample past it shrinks alike."""
        if expected is not None and expected <= 2 * self._hold:
            self._hold = max(self._hold, expected)
        self._rereadable = rereadable
        self._expected = expected
        self._rows = 0
        """Rows seen, the column's absent ones included (`skip`)."""
        self.count = 0
        self._state: _Holding | _Fixed | _Grid = _Holding()

    @property
    def exact(self) -> bool:
        """True while every value is held (edges will be exact quantiles)."""
        return isinstance(self._state, _Holding)

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
        state = self._state
        if isinstance(state, _Holding):
            held = state.present
            if held >= self._hold // 2 and held + present > self._hold:
                # This batch would take the held values past the hold: go on
                # from those held, rather than sort twice as many.
                state = self._past_hold(state, bins)
        self.count += present
        self._rows += len(values)
        if isinstance(state, _Fixed):
            state.add(values, present)
        elif isinstance(state, _Grid):
            state.add(sorted_scratch(values)[:present])
        else:
            state.add(values, absent)
            if state.present > self._hold:
                self._past_hold(state, bins)

    def _past_hold(self, holding: _Holding, bins: int) -> _Fixed | _Grid:
        held = holding.sorted_values()
        state: _Fixed | _Grid
        if self._rereadable:
            sample = SAMPLE_VALUES
            if self._shared:
                sample = max(MIN_HOLD // 4, SAMPLE_VALUES * self._hold // HOLD_VALUES)
            state = _Fixed(held, bins, self._values_expected(), sample)
        else:
            state = _Grid(held, bins)
        self._state = state
        return state

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

    def result(self, bins: int) -> Sketched:
        """The column's buckets and exact counts, whatever state the sketch is in."""
        state = self._state
        if isinstance(state, _Holding):
            cuts, counts = cuts_of(state.sorted_values(), bins)
            return Sketched(cuts, counts)
        if isinstance(state, _Grid):
            return state.result(bins, self.count)
        return state.result(bins)
