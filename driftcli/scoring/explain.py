"""What moved: the buckets behind a feature's score, and summary statistics of a numeric one.

Both come from the bucket counts a check already holds (and the reference's
bucket edges), so explaining costs no second pass over the data.

A bucket's contribution is its term of the metric's sum over the smoothed
distributions (metrics.py): p ln(p/q) for kl, (p - q) ln(p/q) for psi, the
two halves of js, (sqrt p - sqrt q)^2 / 2 for hellinger (whose squared
distance is their sum). The sample metrics (ks, wasserstein) have no
per-bucket terms; their moves are ranked by the change in share, |p - q|.
The shares reported are the raw ones, unsmoothed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from driftcli.reference.buckets import Feature
from driftcli.results import FeatureResult, Move, Stats, SummaryStats
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
    order = sorted(
        np.flatnonzero(used & (ref_share != live_share)), key=lambda i: (-terms[i], int(i))
    )
    return tuple(
        Move(labels[i], float(ref_share[i]), float(live_share[i]), float(terms[i]))
        for i in order[:MAX_MOVES]
    )


def _terms(live: Floats, ref: Floats, metric: str, s: float) -> Floats:
    """Each used bucket's term of the metric's sum (see the module's docstring), over the
    shares smoothed by `s` as the score's are."""
    p = (live + s) / (live.sum() + s * live.size)
    q = (ref + s) / (ref.sum() + s * ref.size)
    if metric == "kl":
        return np.asarray(p * np.log(p / q))
    if metric == "psi":
        return np.asarray((p - q) * np.log(p / q))
    if metric == "js":
        m = (p + q) / 2
        return np.asarray(0.5 * p * np.log(p / m) + 0.5 * q * np.log(q / m))
    if metric == "hellinger":
        return np.asarray((np.sqrt(p) - np.sqrt(q)) ** 2 / 2)
    return np.asarray(np.abs(live / live.sum() - ref / ref.sum()))


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
    total = counts.sum()
    if total == 0:
        return None
    # Bucket i spans bounds[i]..bounds[i+1]; the open ends get their neighbour's width.
    first = edges[1] - edges[0] if len(edges) > 1 else 0.0
    last = edges[-1] - edges[-2] if len(edges) > 1 else 0.0
    bounds = np.concatenate([[edges[0] - first], edges, [edges[-1] + last]])
    cumulative = np.concatenate([[0.0], np.cumsum(counts)]) / total
    keep = np.concatenate([[True], np.diff(cumulative) > 0])
    at = {key: float(np.interp(q, cumulative[keep], bounds[keep])) for key, q in _QUANTILES.items()}
    # A quantile in an open end bucket is known only to lie beyond the edge: say the edge.
    low, high = cumulative[1], cumulative[-2]
    at_most = tuple(key for key, q in _QUANTILES.items() if q < low)
    at_least = tuple(key for key, q in _QUANTILES.items() if q > high)
    at |= {key: float(edges[0]) for key in at_most} | {key: float(edges[-1]) for key in at_least}
    middles = (bounds[:-1] + bounds[1:]) / 2
    mean = float(np.dot(middles, counts) / total)
    return SummaryStats(
        mean, int(total), at["p05"], at["p50"], at["p95"], at_least=at_least, at_most=at_most
    )


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
