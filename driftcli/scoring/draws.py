"""Permutation draws of a table's live counts, shared where many tables have one reference.

Under no change the rows of both sides are exchangeable: a permutation draw
takes n of the N = n + m pooled rows at random as the live ones. A check of
many small chunks draws thousands of times against one reference, and each
draw of a table is mostly a draw of reference rows. So a draw is made in
two steps, each exact:

1. k, how many of the n drawn rows are live ones, is hypergeometric (n
   live rows among N, n drawn); with m much larger than n it is mostly 0;
2. n - k rows from the reference and k from the live rows, each a uniform
   draw without replacement from its side.

The reference's part of draw d is the d-th draw of n reference rows in a
pool seeded by the reference's counts and n alone (so every table of n
rows against this reference shares it), thinned at random to n - k rows:
a uniform subset of a uniform subset is a uniform subset. Draws stay
independent of each other (draw d uses only the pool's d-th), so each
table's Monte Carlo p-value is exactly what independent draws give; only
tables of one check share draws, which no single p-value sees.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

SEED = 20261201
POOL_ROWS = 5_000
"""Live windows of at most this many rows (and no more than the reference's) draw from a
pool; larger ones, rarely met more than once, draw directly."""
POOL_LIVE = 2.0
"""A pool serves a table only where its draws hold at most this many live rows on average
(n^2 / N): each is taken one at a time."""
POOL_BYTES = 64 << 20
"""Memory the pools may hold at once (the oldest blocks are dropped first)."""

Sampler = Callable[[int, int], IntArray]
"""(first draw, how many) -> live counts, a row per draw, a column per bucket."""


def sampler(live: IntArray, pooled: IntArray) -> Sampler:
    """Draws of this table's live counts (given both sides' totals), seeded by the table:
    the same counts always get the same draws, in blocks asked for in the same order."""
    n = int(live.sum())
    m = int(pooled.sum()) - n
    rng = np.random.default_rng(zlib.crc32(live.tobytes() + pooled.tobytes()) ^ SEED)
    if not pools(n, m):

        def direct(start: int, size: int) -> IntArray:
            return rng.multivariate_hypergeometric(pooled, n, size=size, method="marginals")

        return direct
    ref = pooled - live
    inside = np.flatnonzero(ref > 0)
    key = ref[inside].tobytes()
    every = inside.size == len(live)

    def pooled_draws(start: int, size: int) -> IntArray:
        from_live = rng.hypergeometric(n, m, n, size=size)
        base = _pool(key, ref[inside], n, start, size)
        if every:
            out = base.copy()
        else:
            out = np.zeros((size, len(live)), dtype=np.int64)
            out[:, inside] = base
        moved = np.flatnonzero(from_live > 0)
        if moved.size:
            # Draw d keeps n - k of its pool's n reference rows, and takes k live ones.
            out[moved] -= take(rng, out[moved], from_live[moved])
            colours = np.broadcast_to(live, (moved.size, len(live)))
            out[moved] += take(rng, colours, from_live[moved])
        return out

    return pooled_draws


def pools(n: int, m: int) -> bool:
    """Does a table of n live rows against m reference rows draw from a pool? Where few
    of a draw's rows are live ones (at most POOL_LIVE on average), and it is not large."""
    return 0 < n <= min(POOL_ROWS, m) and n * n <= POOL_LIVE * (n + m)


def take(rng: np.random.Generator, colours: npt.ArrayLike, drawn: npt.ArrayLike) -> IntArray:
    """For each row of counts, `drawn` of its items taken without replacement, one at a
    time (each a uniform pick among those left): how many of each colour."""
    left = np.array(colours, dtype=np.int64, copy=True)
    wanted = np.asarray(drawn, dtype=np.int64)
    remaining = left.sum(axis=1)
    for step in range(int(wanted.max(initial=0))):
        rows = np.flatnonzero(wanted > step)
        pick = rng.integers(0, remaining[rows])
        colour = np.sum(np.cumsum(left[rows], axis=1) <= pick[:, None], axis=1)
        left[rows, colour] -= 1
        remaining[rows] -= 1
    return np.asarray(colours, dtype=np.int64) - left


_POOLS: OrderedDict[tuple[bytes, int, int, int], IntArray] = OrderedDict()
_held = [0]


def _pool(key: bytes, ref: IntArray, n: int, start: int, size: int) -> IntArray:
    """Draws start ... start + size - 1 of n rows from the reference's rows (its buckets
    with rows only), seeded by the reference, n and the block."""
    name = (key, n, start, size)
    found = _POOLS.get(name)
    if found is not None:
        _POOLS.move_to_end(name)
        return found
    seed = zlib.crc32(key + n.to_bytes(8, "little") + start.to_bytes(8, "little")) ^ SEED
    block = np.random.default_rng(seed).multivariate_hypergeometric(
        ref, n, size=size, method="marginals"
    )
    _POOLS[name] = block
    _held[0] += block.nbytes
    while _held[0] > POOL_BYTES and len(_POOLS) > 1:
        _, dropped = _POOLS.popitem(last=False)
        _held[0] -= dropped.nbytes
    return block
