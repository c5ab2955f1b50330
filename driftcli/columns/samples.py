"""Bounded, uniform random samples from a stream of batches.

Rows (Reservoir) and numeric values (ValueReservoir): every item gets a
random key, and the sample is the items with the smallest keys seen so far
(bottom-k sampling, equivalent to a reservoir sample). Only items whose key
beats the current k-th smallest are looked at, so late in a long stream
almost every batch is dismissed with one vectorised comparison. ThinSample
keeps each value with a halving probability instead, without keys, for the
large reference columns of sketch.py.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from driftcli.columns.values import concat_tables

DEFAULT_SAMPLE_ROWS = 10_000
SEED = 20261126
DENSE_RATE = 0.125
"""From this rate up, `chosen` draws a number per position instead of the gaps between them
(the two cost the same near 1/8)."""


def chosen(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Positions among n, each chosen with probability `rate`, independently; sorted.

    At low rates, drawn as cumulative geometric gaps: about rate x n draws,
    not n (and faster than choosing a binomial number of distinct positions).
    From `DENSE_RATE` up, one uniform draw per position is faster.
    """
    if rate <= 0.0 or n == 0:
        return np.empty(0, np.int64)
    if rate >= DENSE_RATE:
        return np.flatnonzero(rng.random(n) < rate)
    parts: list[np.ndarray] = []
    last = -1
    while True:
        gaps = rng.geometric(min(rate, 1.0), size=int(n * rate * 1.1) + 16)
        positions = last + np.cumsum(gaps)
        parts.append(positions[positions < n])
        if positions[-1] >= n:
            return np.concatenate(parts)
        last = int(positions[-1])


def _keys_below(rng: np.random.Generator, n: int, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Which of n new items draw a key below `limit`, and those keys, without drawing n keys.

    Each key is uniform on [0, 1): each item's key falls below the limit with
    probability `limit`, independently, and those keys are uniform below it.
    Late in a long stream that is a handful of draws, not one per value.
    """
    index = chosen(rng, n, limit)
    return index, rng.random(len(index)) * limit


class Reservoir:
    """Keeps a uniform random sample of at most `size` rows, in arrival order."""

    def __init__(self, size: int = DEFAULT_SAMPLE_ROWS, seed: int = SEED) -> None:
        self.size = size
        self._rng = np.random.default_rng(seed)
        self._keys = np.empty(0)
        self._order = np.empty(0, dtype=np.int64)
        self._rows: pa.Table | None = None
        self._seen = 0

    def add(self, batch: pa.RecordBatch | pa.Table) -> None:
        n = batch.num_rows
        keys = self._rng.random(n) if len(self._keys) < self.size else np.empty(0)
        order = np.arange(self._seen, self._seen + n)
        self._seen += n
        if self.size <= 0 or n == 0:
            return
        if len(self._keys) >= self.size:
            index, keys = _keys_below(self._rng, n, float(self._keys.max()))
            if not len(index):
                return
            batch, order = batch.take(pa.array(index)), order[index]
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        rows = table if self._rows is None else concat_tables([self._rows, table])
        keys = np.concatenate([self._keys, keys])
        order = np.concatenate([self._order, order])
        if len(keys) > self.size:
            keep = np.sort(np.argpartition(keys, self.size - 1)[: self.size])
            keep = keep[np.argsort(order[keep], kind="stable")]
            rows, keys, order = rows.take(pa.array(keep)), keys[keep], order[keep]
        self._rows, self._keys, self._order = rows, keys, order

    def table(self) -> pa.Table:
        """The sample so far (an empty table when nothing was kept)."""
        return self._rows.combine_chunks() if self._rows is not None else pa.table({})

    def merge(self, other: Reservoir) -> Reservoir:
        """The sample of both streams (this one first), as if one reservoir had seen them all.

        Bottom-k samples merge exactly: the union's k smallest keys. The two
        must draw keys from different random streams (different seeds).
        """
        if other._rows is None:
            return self
        if self._rows is None:
            other._order = other._order + self._seen
            other._seen += self._seen
            return other
        rows = concat_tables([self._rows, other._rows])
        keys = np.concatenate([self._keys, other._keys])
        order = np.concatenate([self._order, other._order + self._seen])
        merged = Reservoir(self.size)
        merged._seen = self._seen + other._seen
        if len(keys) > self.size:
            keep = np.sort(np.argpartition(keys, self.size - 1)[: self.size])
            keep = keep[np.argsort(order[keep], kind="stable")]
            rows, keys, order = rows.take(pa.array(keep)), keys[keep], order[keep]
        merged._rows, merged._keys, merged._order = rows, keys, order
        return merged


class ValueReservoir:
    """A uniform random sample of at most `size` numeric values from a stream."""

    def __init__(self, size: int = DEFAULT_SAMPLE_ROWS, seed: int = SEED) -> None:
        self.size = size
        self._rng = np.random.default_rng(seed)
        self._keys = np.empty(0)
        self._values = np.empty(0)

    def add(self, values: np.ndarray) -> None:
        """Take present values (no NaN)."""
        if not len(values) or self.size <= 0:
            return
        if len(self._keys) >= self.size:
            chosen, keys = _keys_below(self._rng, len(values), float(self._keys.max()))
            values = values[chosen]
        else:
            keys = self._rng.random(len(values))
        keys = np.concatenate([self._keys, keys])
        values = np.concatenate([self._values, values])
        if len(keys) > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            keys, values = keys[keep], values[keep]
        self._keys, self._values = keys, values

    def values(self) -> np.ndarray:
        return self._values

    def merge(self, other: ValueReservoir) -> ValueReservoir:
        """The sample of both streams: the union's `size` smallest keys (see Reservoir.merge)."""
        merged = ValueReservoir(self.size)
        keys = np.concatenate([self._keys, other._keys])
        values = np.concatenate([self._values, other._values])
        if len(keys) > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            keys, values = keys[keep], values[keep]
        merged._keys, merged._values = keys, values
        return merged


class ThinSample:
    """A uniform random sample of a stream's present values, at most `size` of them.

    Each value is kept with probability `rate`, independently of the others
    (so no pattern in the rows, such as values present only on every other
    row or a daily cycle, can line up with it); when the sample fills, each
    kept value stays with probability 1/2 and the rate halves. The positions
    kept in a batch are drawn by `chosen`, so a batch costs about rate x
    its length. NaN (absent) values are dropped after the draw.
    """

    def __init__(self, size: int, seed: int = SEED, *, expected: int | None = None) -> None:
        """`expected`: how many values the stream will bring, when known; the first
        rate is then the one they fit at (1M values: 1/16 from the start, so
        every batch is drawn sparsely instead of densely and halved later)."""
        self.size = max(size, 1)
        self.rate = 1.0
        while expected and self.rate * expected > self.size:
            self.rate /= 2
        self._rng = np.random.default_rng(seed)
        self._parts: list[np.ndarray] = []
        self._kept = 0

    def add(self, values: np.ndarray, present: int | None = None) -> None:
        """Take a batch of which `present` values are not NaN (counted if not given)."""
        if present is None:
            present = len(values) - int(np.count_nonzero(np.isnan(values)))
        # Halve first while this batch alone would overfill the sample: the
        # same Bernoulli sample as taking the batch and halving after, without
        # drawing for values about to be thinned away.
        while self.rate * present > self.size:
            self._halve()
        picked = values if self.rate >= 1.0 else values[chosen(self._rng, len(values), self.rate)]
        picked = picked[~np.isnan(picked)]  # a copy: never keeps the batch alive
        self._parts.append(picked)
        self._kept += len(picked)
        while self._kept > self.size:
            self._halve()

    def _halve(self) -> None:
        """Keep each value with probability 1/2, and halve the rate."""
        merged = np.concatenate(self._parts) if self._parts else np.empty(0)
        merged = merged[chosen(self._rng, len(merged), 0.5)]
        self._parts, self._kept, self.rate = [merged], len(merged), self.rate / 2

    def __len__(self) -> int:
        return self._kept

    def values(self) -> np.ndarray:
        return np.concatenate(self._parts) if self._parts else np.empty(0)
