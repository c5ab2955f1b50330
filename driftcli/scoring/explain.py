"""What moved: the buckets behind a feature's score, and summary statistics of a numeric one.

Both come from the bucket counts a check already holds (and the reference's
bucket edges), so explaining costs no second pass over the data.

A bucket's contribution is its term of the metric's sum over the smoothed
distributions, as metrics.py defines it (`Metric.terms`): p ln(p/q) for kl,
(p - q) ln(p/q) for psi, the two halves of js, (sqrt p - sqrt q)^2 / 2 for
hellinger (whose squared distance is their sum). The sample metrics (ks, wasserstein) have no
per-bucket terms; their moves are ranked by the change in share, |p - q|.
The shares reported are the raw ones, unsmoothed.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from driftcli.counting.buckets import Feature
from driftcli.findings import Move, Stats, SummaryStats
from driftcli.results import FeatureResult
from driftcli.scoring.metrics import METRICS
from driftcli.settings import DEFAULT_SMOOTHING

MAX_MOVES = 5
"""Moves kept per feature: the largest contributions to its score."""

_QUANTILES = {"p05": 0.05, "p50": 0.50, "p95": 0.95}

Floats = npt.NDArray[np.float64]


def explained(
    result: FeatureResult, feature: Feature, smoothing: float = DEFAULT_SMOOTHING
) -> FeatureResult:
    """The result with its moves and, for a numeric feature, its statistics."""
    return replace(
        result,
        moves=moves(result.labels, result.reference, result.live, result.metric, smoothing),
        stats=stats(feature, result.reference, result.live),
    )


def moves(
    labels: tuple[str, ...], reference: npt.NDArray[np.int64], live: npt.NDArray[np.int64],
    metric: str, smoothing: float = DEFAULT_SMOOTHING,
) -> tuple[Move, ...]:  # fmt: skip
    """The buckets whose share changed, largest contribution to the score first (at most
    MAX_MOVES). Under kl a shrinking bucket's term is negative: it comes after the growing ones."""
    ref = np.asarray(reference, dtype=np.float64)
    now = np.asarray(live, dtype=np.float64)
    if ref.sum() == 0 or now.sum() == 0:
        return ()
    used = (ref + now) > 0
    terms = np.zeros(len(ref))
    terms[used] = _terms(now[used], ref[used], metric, smoothing)
    ref_share, live_share = ref / ref.sum(), now / now.sum()
    moved = np.flatnonzero(used & (ref_share != live_share))
    order = moved[np.argsort(-terms[moved], kind="stable")][:MAX_MOVES].tolist()
    return tuple(
        Move(labels[i], float(ref_share[i]), float(live_share[i]), float(terms[i])) for i in order
    )


def _terms(live: Floats, ref: Floats, metric: str, s: float) -> Floats:
    """Each used bucket's term of the metric's sum (the metric's own `terms`), over the
    shares smoothed by `s` as the score's are; a sample metric's change in share."""
    found = METRICS.get(metric)
    if found is None or found.terms is None:
        return np.asarray(np.abs(live / live.sum() - ref / ref.sum()))
    p = (live + s) / (live.sum() + s * live.size)
    q = (ref + s) / (ref.sum() + s * ref.size)
    return np.asarray(found.terms(p, q)[0])


def stats(
    feature: Feature, reference: npt.NDArray[np.int64], live: npt.NDArray[np.int64]
) -> Stats | None:
    """Mean and quantiles of a numeric feature on each side, from its bucket counts.

    Over quantile buckets the values are taken as spread evenly within a
    bucket; a quantile that falls in an open end bucket is given as that
    bucket's edge and named in `at_least` or `at_most`; the mean takes the open end buckets
    as wide as their neighbour (an estimate). Over the
    distinct values of a low-cardinality feature they are exact (its `other`
    bucket left out). None for a categorical feature, or when a side holds no value.
    """
    ref_side = _summary(feature, reference)
    live_side = _summary(feature, live)
    if ref_side is None or live_side is None:
        return None
    return Stats(ref_side, live_side)


def _summary(feature: Feature, counts: npt.NDArray[np.int64]) -> SummaryStats | None:
    if feature.edges is not None and len(feature.edges):
        values = np.asarray(counts[: feature.n_value_buckets], dtype=np.float64)
        return _binned(np.asarray(feature.edges, dtype=np.float64), values)
    if feature.values is not None:
        values = np.asarray(counts[: len(feature.values)], dtype=np.float64)
        return _discrete(np.asarray(feature.values, dtype=np.float64), values)
    return None


def _binned(edges: Floats, counts: Floats) -> SummaryStats | None:
    # A few dozen buckets: plain floats are quicker than numpy's per-call cost, and a
    # chunked check explains every feature of every chunk.
    shares = counts.tolist()
    total = sum(shares)
    if total == 0:
        return None
    cuts = edges.tolist()
    # Bucket i spans bounds[i]..bounds[i+1]; the open ends get their neighbour's width.
    first = cuts[1] - cuts[0] if len(cuts) > 1 else 0.0
    last = cuts[-1] - cuts[-2] if len(cuts) > 1 else 0.0
    bounds = [cuts[0] - first, *cuts, cuts[-1] + last]
    cumulative = [0.0, *(c / total for c in itertools.accumulate(shares))]
    at = {key: _interpolated(q, cumulative, bounds) for key, q in _QUANTILES.items()}
    # A quantile in an open end bucket is known only to lie beyond the edge: say the edge.
    low, high = cumulative[1], cumulative[-2]
    at_most = tuple(key for key, q in _QUANTILES.items() if q < low)
    at_least = tuple(key for key, q in _QUANTILES.items() if q > high)
    at |= {key: cuts[0] for key in at_most} | {key: cuts[-1] for key in at_least}
    middles = [(lo + hi) / 2 for lo, hi in itertools.pairwise(bounds)]
    if len(cuts) >= 4:
        # The buckets at the reference's range ([p95, max], [min, p05]) reach its most
        # extreme values: their middle would put a long tail's mass far out, so the mean
        # takes them no wider than their inner neighbour, as it takes the open ends.
        middles[1] = max(middles[1], cuts[1] - (cuts[2] - cuts[1]) / 2)
        middles[-2] = min(middles[-2], cuts[-2] + (cuts[-2] - cuts[-3]) / 2)
    mean = sum(m * c for m, c in zip(middles, shares, strict=True)) / total
    return SummaryStats(
        mean, int(total), at["p05"], at["p50"], at["p95"], at_least=at_least, at_most=at_most
    )


def _interpolated(q: float, cumulative: list[float], bounds: list[float]) -> float:
    """The value below which a share q lies, linear within its bucket (an empty bucket
    holds no share: q lands in the first bucket that reaches it)."""
    i = max(1, bisect.bisect_left(cumulative, q))
    if i >= len(cumulative):
        return bounds[-1]
    below, above = cumulative[i - 1], cumulative[i]
    return bounds[i - 1] + (bounds[i] - bounds[i - 1]) * (q - below) / (above - below)


def _discrete(values: Floats, counts: Floats) -> SummaryStats | None:
    total = counts.sum()
    if total == 0:
        return None
    order = np.argsort(values)
    values, counts = values[order], counts[order]
    cumulative = np.cumsum(counts) / total
    at = {
        key: float(values[min(int(np.searchsorted(cumulative, q)), len(values) - 1)])
        for key, q in _QUANTILES.items()
    }
    mean = float(np.dot(values, counts) / total)
    return SummaryStats(mean, int(total), at["p05"], at["p50"], at["p95"])
