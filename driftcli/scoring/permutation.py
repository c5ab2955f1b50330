"""Exact p-values by seeded Monte Carlo: draws of the live counts given both sides' totals.

Shuffling the rows between the two sides leaves each bucket's pooled count
as it is, and draws the live counts from a multivariate hypergeometric:
that is what is drawn, in blocks. Every statistic of a test is scored on
the same draws, and each stops counting on its own (Besag and Clifford's
sequential p-value: at its h-th draw at least as large as the observed
statistic, p = h / draws, valid as it stands). A table is its own seed: the
same counts always get the same p-values, whatever else is in the check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from driftcli.scoring.draws import sampler

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

ENOUGH_EXCEEDANCES = 50
"""A statistic stops once this many draws score at least the observed one: p is then
50 / draws, within about 15%, and far above any evidence level."""


@dataclass(frozen=True)
class Drawn:
    """One statistic's Monte Carlo p-value."""

    p_value: float
    bound: bool
    """No draw reached the observed statistic: p is at most 1 / (draws + 1)."""


@dataclass(frozen=True)
class Scored:
    """A statistic to score on the draws, and when it may stop."""

    score: Callable[[IntArray], FloatArray]
    """The statistic of each row of live counts (a row per draw, a column per bucket)."""
    observed: float
    enough: int = ENOUGH_EXCEEDANCES
    """Exceedances at which it stops (fewer when only "is p below a level?" matters)."""


def enough_to_decide(level: float, draws: int) -> int:
    """Exceedances past which p can no longer be below `level` with `draws` draws.

    With h = ceil(level (draws + 1)): stopped at the h-th, p = h / L >= level;
    with fewer than h in all the draws, p = (k + 1) / (draws + 1), the same
    p a full count (ENOUGH_EXCEEDANCES) gets, so both say the same of the level.
    """
    return max(1, min(ENOUGH_EXCEEDANCES, math.ceil(level * (draws + 1))))


def monte_carlo(
    live: IntArray, pooled: IntArray, statistics: Sequence[Scored], draws: int
) -> list[Drawn]:
    """Each statistic's permutation p-value, from up to `draws` shared draws."""
    draw = sampler(live, pooled)
    exceeding = [0] * len(statistics)
    stopped: list[float | None] = [None] * len(statistics)
    tolerance = [1e-9 * max(abs(s.observed), 1.0) for s in statistics]
    done = 0
    block = 64
    while done < draws and any(p is None for p in stopped):
        size = min(block, draws - done)
        sample = draw(done, size)
        for i, statistic in enumerate(statistics):
            if stopped[i] is not None:
                continue
            hits = statistic.score(sample) >= statistic.observed - tolerance[i]
            found = int(np.count_nonzero(hits))
            if exceeding[i] + found >= statistic.enough:
                # Stop at the draw that brought the count to `enough`.
                at = int(np.flatnonzero(hits)[statistic.enough - exceeding[i] - 1]) + 1
                stopped[i] = statistic.enough / (done + at)
            exceeding[i] += found
        done += size
        block = min(block * 4, 4096)
    return [
        Drawn(p, False) if p is not None else Drawn((k + 1) / (draws + 1), k == 0)
        for p, k in zip(stopped, exceeding, strict=True)
    ]


def entropy_term(live: IntArray, pooled: IntArray, scored: BoolArray) -> FloatArray:
    """sum x ln x over each row of live counts and the matching reference counts,
    in the `scored` buckets.

    With both sides' totals fixed, G differs between tables only by this
    sum, so it is what the draws compare. The `other` bucket is not scored
    where the reference has no row in it: its categories are then only live
    ones, and which those are depends on the split itself (a small reference
    misses categories by chance), so a permutation that keeps it one fixed
    bucket is not the test's null. Over the true categories, G is a sum of
    one term per category; a category only live rows hold adds nothing to
    it, and a category's term is largest (nothing) when it holds one row. So
    taking `other`'s rows as that many categories of one row each (their term
    is then nothing, in every draw as in the data) can only raise the draws'
    G: the p-value is conservative whatever those categories really are.
    """
    live = np.atleast_2d(live)[:, scored]
    ref = pooled[None, scored] - live
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(live > 0, live * np.log(live), 0.0)
        terms += np.where(ref > 0, ref * np.log(ref), 0.0)
    return np.asarray(terms.sum(axis=1), dtype=np.float64)


TABLE_ROWS = 4_096
"""Live windows of at most this many rows score draws by looking up each bucket's term."""


def entropy_scorer(
    pooled: IntArray, scored: BoolArray, live_rows: int
) -> Callable[[IntArray], FloatArray]:
    """`entropy_term` of rows of live counts against these pooled counts, as a function.

    A bucket's term depends only on its live count, at most `live_rows`: for a small
    window each bucket's terms are tabled once, and a draw's sum is a lookup.
    """
    if live_rows > TABLE_ROWS:
        return lambda live: entropy_term(live, pooled, scored)
    kept = pooled[scored].astype(np.float64)
    x = np.arange(live_rows + 1, dtype=np.float64)[None, :]
    rest = np.maximum(kept[:, None] - x, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = np.where(x > 0, x * np.log(x), 0.0) + np.where(rest > 0, rest * np.log(rest), 0.0)
    flat = table.ravel()
    offsets = np.arange(kept.size) * (live_rows + 1)

    def score(live: IntArray) -> FloatArray:
        counts = np.atleast_2d(live)[:, scored]
        return np.asarray(flat[counts + offsets].sum(axis=1), dtype=np.float64)

    return score


def log_choose(n: int, k: int) -> float:
    """ln C(n, k)."""
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def types_bound(live: IntArray, pooled: IntArray, scored: BoolArray) -> float:
    """An upper bound on the exact permutation p-value of the G statistic, without draws.

    By the method of types: a live count vector l has probability
    prod C(P_b, l_b) / C(N, n) <= (N + 1) exp(-G(l) / 2) (from
    C(N, n) >= exp(N H(n/N)) / (N + 1) and C(P, l) <= exp(P H(l/P))), so
    P(G >= g) is at most the number of possible live vectors, times
    (N + 1) exp(-g / 2). The `other` bucket (not `scored`, see
    `entropy_term`) adds at most C(O, O // 2) to each one's probability.
    Loose (its factors can reach e^40), so used only where Monte Carlo
    cannot resolve the statistic at all: an overwhelming change.
    """
    n, total = int(live.sum()), int(pooled.sum())
    ref = pooled - live
    m = total - n
    kept_live, kept_ref, kept = live[scored], ref[scored], pooled[scored]
    half_g = _xlogx(kept_live) + _xlogx(kept_ref) - _xlogx(kept)
    half_g += _xlogx(np.array([total])) - _xlogx(np.array([n, m]))
    parts = int(kept.size) + (0 if scored.all() else 1)
    vectors = min(
        float(np.log(np.minimum(kept, n) + 1.0).sum()), log_choose(n + parts - 1, parts - 1)
    )
    unseen = int(pooled[~scored].sum())
    log_bound = math.log(total + 1) + vectors + log_choose(unseen, unseen // 2) - half_g
    return math.exp(min(log_bound, 0.0))


def _xlogx(counts: IntArray) -> float:
    x = counts[counts > 0].astype(np.float64)
    return float(np.sum(x * np.log(x)))
