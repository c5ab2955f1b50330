"""A numeric reference column's values, kept exactly while they fit.

Bucket edges are quantiles of the reference, and the reference's counts over
them must be exact, so the reference pass keeps every value of a numeric
column, up to `HOLD_VALUES` values. Past that, memory would grow with the
data, so the sketch switches to a fine grid: about 4,600 edges taken from the
values held so far (4,096 quantiles, plus a geometric extension on both sides
for later values beyond their range), over which every value, held or still
to come, is counted exactly. The final edges are then picked among the grid
edges, closest in rank to the quantiles k/B, and the counts over them are
exact sums of grid counts.

So below `HOLD_VALUES` values per column, the edges are the exact quantiles
(numpy's linear interpolation); above, each edge sits within about 1/4,096 of
the rank of its quantile when the later values follow the earlier ones'
distribution, and counts are exact either way.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HOLD_VALUES = 1 << 20
"""Values per column kept exactly before switching to the fine grid."""
GRID_QUANTILES = 4096
GRID_EXTENSION = 256
"""Geometric steps beyond each end of the held range, up to 2**16 times its span."""


class NumericSketch:
    """Present (non-missing, valid) values of one numeric reference column."""

    def __init__(self, hold: int = HOLD_VALUES) -> None:
        self._hold = hold
        self._held: list[FloatArray] = []
        self._held_count = 0
        self._held_absent = 0
        self._grid: FloatArray | None = None
        self._grid_counts: IntArray | None = None
        self._distinct: dict[float, int] | None = None
        self._limit_distinct = 0
        self.count = 0

    @property
    def exact(self) -> bool:
        """True while every value is held (edges will be exact quantiles)."""
        return self._grid is None

    def add(self, values: FloatArray, absent: int, max_distinct: int) -> None:
        """Take a batch of values, in any order, where `absent` of them are NaN (not values).

        The NaNs are dropped when the values are sorted (NaN sorts last), so
        the batch is never copied just to remove them.
        """
        present = len(values) - absent
        if not present:
            return
        self.count += present
        if self._grid is None:
            self._held.append(values)
            self._held_count += len(values)
            self._held_absent += absent
            if self._held_count - self._held_absent > self._hold:
                self._start_grid(max_distinct)
            return
        ordered = sorted_scratch(values)[:present]
        self._count_on_grid(ordered)
        self._track_distinct(ordered)

    def sorted_values(self) -> FloatArray:
        """All values, sorted (only while `exact`)."""
        assert self._grid is None
        if not self._held:
            return np.empty(0)
        # In place: a fresh 8 MB copy per column costs more in page faults
        # than the sort itself on this kind of machine (measured).
        merged = np.concatenate(self._held) if len(self._held) > 1 else self._held[0].copy()
        merged.sort()
        merged = merged[: self.count]
        self._held, self._held_count, self._held_absent = [merged], len(merged), 0
        return merged

    def _start_grid(self, max_distinct: int) -> None:
        ordered = self.sorted_values()
        self._held, self._held_count = [], 0
        finite = ordered[np.isfinite(ordered)]
        if len(finite):
            inner = quantiles(finite, np.linspace(0.0, 1.0, GRID_QUANTILES + 1))
            span = max(float(finite[-1] - finite[0]), abs(float(finite[-1])) * 1e-9, 1e-300)
            steps = span * (2.0 ** (np.arange(1, GRID_EXTENSION + 1) / 16.0) - 1.0)
            grid = np.unique(np.r_[finite[0] - steps[::-1], inner, finite[-1] + steps])
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
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        if len(starts) > self._limit_distinct:
            self._distinct = None
            return
        runs = np.diff(np.r_[starts, len(ordered)])
        for value, run in zip(ordered[starts].tolist(), runs.tolist(), strict=True):
            self._distinct[value] = self._distinct.get(value, 0) + run
        if len(self._distinct) > self._limit_distinct:
            self._distinct = None

    def distinct(self) -> tuple[FloatArray, IntArray] | None:
        """On the grid: the distinct values and their counts, if there are few."""
        if self._distinct is None:
            return None
        values = np.array(sorted(self._distinct), dtype=np.float64)
        return values, np.array([self._distinct[v] for v in values.tolist()], np.int64)

    def grid_edges(self, bins: int) -> tuple[FloatArray, IntArray]:
        """Interior edges near the quantiles k/bins, and exact counts over the buckets."""
        assert self._grid is not None and self._grid_counts is not None
        below = np.cumsum(self._grid_counts)[:-1]  # values below each grid edge
        targets = np.arange(1, bins) / bins * self.count
        nearest = np.abs(below[None, :] - targets[:, None]).argmin(axis=1)
        chosen = np.unique(nearest)
        edges = self._grid[chosen]
        counts = np.diff(np.r_[0, below[chosen], self.count]).astype(np.int64)
        return edges, counts


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
    return np.asarray(low + (high - low) * fraction, dtype=np.float64)
