"""Drift metrics: pure functions on two count vectors, or two samples of values.

No I/O, no settings. Bucket metrics compare the live and reference counts
over the reference's buckets; buckets empty on both sides carry no
information and are left out (they would otherwise add a smoothing-only
term that depends on nothing but the sample sizes). Every bucket metric sees
the same smoothed distributions

    p_i = (live_i + s) / (n_live + s K)      q_i = (ref_i + s) / (n_ref + s K)

over the K buckets used, with s = 0.5 (Jeffreys), so all are finite.

Sample metrics compare bounded random samples of raw numeric values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from driftcli.settings import DEFAULT_SMOOTHING

Counts = npt.NDArray[np.int64] | npt.NDArray[np.float64]
Values = npt.NDArray[np.float64]


def smoothed(
    live: Counts, ref: Counts, smoothing: float = DEFAULT_SMOOTHING
) -> tuple[Values, Values]:
    """Both sides as smoothed distributions over the buckets used by either."""
    live = np.asarray(live, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if live.shape != ref.shape:
        raise ValueError(f"count vectors differ in length: {live.shape} vs {ref.shape}")
    used = (live + ref) > 0
    live, ref = live[used], ref[used]
    if live.size == 0:
        return live, ref
    p = (live + smoothing) / (live.sum() + smoothing * live.size)
    q = (ref + smoothing) / (ref.sum() + smoothing * ref.size)
    return p, q


def kl_divergence(live: Counts, ref: Counts, smoothing: float = DEFAULT_SMOOTHING) -> float:
    """KL(live || ref) = sum p ln(p / q), in nats. 0.0 when no bucket holds a count."""
    p, q = smoothed(live, ref, smoothing)
    return max(float(np.sum(p * np.log(p / q))), 0.0) if p.size else 0.0


def psi(live: Counts, ref: Counts, smoothing: float = DEFAULT_SMOOTHING) -> float:
    """Population stability index: sum (p - q) ln(p / q), KL in both directions added."""
    p, q = smoothed(live, ref, smoothing)
    return max(float(np.sum((p - q) * np.log(p / q))), 0.0) if p.size else 0.0


def js_divergence(live: Counts, ref: Counts, smoothing: float = DEFAULT_SMOOTHING) -> float:
    """Jensen-Shannon divergence in nats: the mean KL of each side from their average (<= ln 2)."""
    p, q = smoothed(live, ref, smoothing)
    if not p.size:
        return 0.0
    m = (p + q) / 2
    return max(float(0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))), 0.0)


def hellinger(live: Counts, ref: Counts, smoothing: float = DEFAULT_SMOOTHING) -> float:
    """Hellinger distance: sqrt(1 - sum sqrt(p q)), between 0 and 1."""
    p, q = smoothed(live, ref, smoothing)
    if not p.size:
        return 0.0
    return math.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q)))))


def wasserstein_normalised(live: Values, ref: Values) -> float:
    """Earth mover's distance between the two samples, in reference standard deviations.

    W1 = integral |F_live(x) - F_ref(x)| dx over the empirical distribution
    functions of the finite values; divided by the reference sample's
    standard deviation (a constant reference scores 0 against itself and inf
    against anything else).
    """
    live, ref = np.sort(_finite(live)), np.sort(_finite(ref))
    if not len(live) or not len(ref):
        return 0.0
    points = np.sort(np.concatenate([live, ref]))
    widths = np.diff(points)
    f_live = np.searchsorted(live, points[:-1], side="right") / len(live)
    f_ref = np.searchsorted(ref, points[:-1], side="right") / len(ref)
    distance = float(np.sum(np.abs(f_live - f_ref) * widths))
    spread = float(np.std(ref))
    if spread == 0:
        return 0.0 if distance == 0 else math.inf
    return distance / spread


def ks_test(live: Values, ref: Values) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value (scipy's ks_2samp, imported here)."""
    from scipy.stats import ks_2samp

    live, ref = _finite(live), _finite(ref)
    if not len(live) or not len(ref):
        return 0.0, 1.0
    result = ks_2samp(live, ref)
    return float(result.statistic), float(result.pvalue)


def _finite(values: Values) -> Values:
    """Sample metrics compare finite values; infinities count only in the buckets."""
    values = np.asarray(values, dtype=np.float64)
    return values[np.isfinite(values)]


class On(StrEnum):
    BUCKETS = "buckets"
    SAMPLES = "samples"


Terms = tuple[Values, Values, Values, Values, Values]
"""Per bucket: a bucket metric's term f(p, q), its derivatives by p and by q, and its
second derivatives by p and by q (change.py expands the score in them)."""


def kl_terms(p: Values, q: Values) -> Terms:
    ratio = np.log(p / q)
    return p * ratio, ratio + 1.0, -p / q, 1.0 / p, p / (q * q)


def psi_terms(p: Values, q: Values) -> Terms:
    ratio = np.log(p / q)
    return (
        (p - q) * ratio,
        ratio + 1.0 - q / p,
        -ratio + 1.0 - p / q,
        1.0 / p + q / (p * p),
        1.0 / q + p / (q * q),
    )


def js_terms(p: Values, q: Values) -> Terms:
    both = p + q
    return (
        0.5 * p * np.log(2.0 * p / both) + 0.5 * q * np.log(2.0 * q / both),
        0.5 * np.log(2.0 * p / both),
        0.5 * np.log(2.0 * q / both),
        0.5 * q / (p * both),
        0.5 * p / (q * both),
    )


Moments = dict[str, Values]
"""Per bucket, E[p], E[p ln p], E[ln p], E[sqrt p] of one side's smoothed share."""


def kl_null_mean(p: Moments, q: Moments) -> float:
    """E[KL] with both sides drawn independently: sum E[p ln p] - E[p] E[ln q]."""
    return float(np.sum(p["plogp"] - p["p"] * q["logp"]))


def psi_null_mean(p: Moments, q: Moments) -> float:
    return kl_null_mean(p, q) + kl_null_mean(q, p)


def hellinger_null_mean(p: Moments, q: Moments) -> float:
    """Of the squared distance: 1 - sum E[sqrt p] E[sqrt q]."""
    return float(1.0 - np.sum(p["sqrtp"] * q["sqrtp"]))


def hellinger_terms(p: Values, q: Values) -> Terms:
    """Of the squared distance, sum (sqrt p - sqrt q)^2 / 2 (= 1 - sum sqrt(p q))."""
    root_p, root_q = np.sqrt(p), np.sqrt(q)
    return (
        0.5 * (root_p - root_q) ** 2,
        0.5 * (1.0 - root_q / root_p),
        0.5 * (1.0 - root_p / root_q),
        0.25 * root_q / (p * root_p),
        0.25 * root_p / (q * root_q),
    )


@dataclass(frozen=True)
class Metric:
    """A drift metric and its default threshold."""

    name: str
    on: On
    default_threshold: float
    """About the score of a 0.45 sd mean shift of a normal feature at large n, over
    20 quantile bins: every metric's default flags the same size of change."""
    formula: str
    numeric_only: bool = False
    bucket_score: Callable[[Counts, Counts, float], float] | None = None
    terms: Callable[[Values, Values], Terms] | None = None
    """A bucket metric's terms, whose sum is the score (or its square, with `root`)."""
    root: bool = False
    """The score is the square root of a sum of terms (a distance, not a divergence):
    noise adds to its square, not to it."""
    null_mean: Callable[[Moments, Moments], float] | None = None
    """The sum of terms expected when both sides are drawn from the same shares, from
    each side's moments (metrics whose terms separate into a function of p times one
    of q)."""


METRICS: dict[str, Metric] = {
    "kl": Metric(
        "kl", On.BUCKETS, 0.1, "KL(live || ref) = sum p ln(p/q), nats",
        bucket_score=kl_divergence, terms=kl_terms, null_mean=kl_null_mean,
    ),
    "psi": Metric(
        "psi", On.BUCKETS, 0.2, "sum (p - q) ln(p/q); by convention 0.1 moderate, 0.25 major",
        bucket_score=psi, terms=psi_terms, null_mean=psi_null_mean,
    ),
    "js": Metric(
        "js", On.BUCKETS, 0.025, "Jensen-Shannon divergence, nats (at most ln 2)",
        bucket_score=js_divergence, terms=js_terms,
    ),
    "hellinger": Metric(
        "hellinger", On.BUCKETS, 0.16, "sqrt(1 - sum sqrt(p q)), 0 to 1",
        bucket_score=hellinger, terms=hellinger_terms, root=True,
        null_mean=hellinger_null_mean,
    ),
    "ks": Metric(
        "ks", On.SAMPLES, 0.18, "max |F_live - F_ref| on raw samples, with its p-value",
        numeric_only=True, root=True,
    ),
    "wasserstein": Metric(
        "wasserstein", On.SAMPLES, 0.45, "W1(live, ref) / std(ref) on raw samples",
        numeric_only=True, root=True,
    ),
}  # fmt: skip
FALLBACK_METRIC = "kl"
"""What a categorical feature is scored with when the chosen metric is numeric-only."""
