"""Drift metrics: pure functions on two count vectors over the same buckets.

No I/O, no settings. Buckets that are empty on both sides carry no
information and are left out of every computation (they would otherwise add
a smoothing-only term that depends on nothing but the sample sizes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Counts = npt.NDArray[np.int64] | npt.NDArray[np.float64]

DEFAULT_SMOOTHING = 0.5
"""Jeffreys prior: half a count added to every bucket, so no probability is zero."""


def _shared(live: Counts, ref: Counts) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    live = np.asarray(live, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if live.shape != ref.shape:
        raise ValueError(f"count vectors differ in length: {live.shape} vs {ref.shape}")
    used = (live + ref) > 0
    return live[used], ref[used]


def kl_divergence(live: Counts, ref: Counts, smoothing: float = DEFAULT_SMOOTHING) -> float:
    """KL(live || ref) in nats, over the buckets non-empty on either side.

    Each side becomes a distribution p_i = (c_i + s) / (n + s * K), with s the
    additive smoothing and K the number of buckets used, so the score is
    finite for any counts. 0.0 when no bucket holds a count.
    """
    live, ref = _shared(live, ref)
    if live.size == 0:
        return 0.0
    p = (live + smoothing) / (live.sum() + smoothing * live.size)
    q = (ref + smoothing) / (ref.sum() + smoothing * ref.size)
    return max(float(np.sum(p * np.log(p / q))), 0.0)


@dataclass(frozen=True)
class GTest:
    """A G-test of homogeneity: could both count vectors come from one distribution?"""

    statistic: float
    df: int
    p_value: float


def g_test(live: Counts, ref: Counts) -> GTest:
    """The log-likelihood-ratio test of homogeneity on the 2 x K table of counts.

    G = 2 * sum O * ln(O / E) with E the counts expected if both rows shared
    one distribution; df = K - 1 over the K buckets used; p from chi-square.
    With a reference much larger than the live window, G approaches
    2 * n_live * KL(live || ref) on unsmoothed counts; unlike that shortcut,
    it also accounts for the reference being a sample.
    """
    live, ref = _shared(live, ref)
    n_live, n_ref = live.sum(), ref.sum()
    df = live.size - 1
    if df < 1 or n_live == 0 or n_ref == 0:
        return GTest(0.0, max(df, 0), 1.0)
    total = n_live + n_ref
    pooled = (live + ref) / total
    statistic = 2.0 * (_xlogy_ratio(live, n_live * pooled) + _xlogy_ratio(ref, n_ref * pooled))
    statistic = max(statistic, 0.0)
    return GTest(statistic, df, chi2_sf(statistic, df))


def _xlogy_ratio(observed: npt.NDArray[np.float64], expected: npt.NDArray[np.float64]) -> float:
    nonzero = observed > 0
    return float(np.sum(observed[nonzero] * np.log(observed[nonzero] / expected[nonzero])))


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for X ~ chi-square(df): the regularized upper incomplete gamma Q(df/2, x/2).

    Written here rather than imported from scipy because importing
    scipy.special costs about 0.25 s, which every CI call would pay; tested
    against scipy to 1e-12.
    """
    if x <= 0.0:
        return 1.0
    return _gamma_q(df / 2.0, x / 2.0)


def chi2_quantile(probability: float, df: int) -> float:
    """The x with P(X <= x) = probability for X ~ chi-square(df), by bisection."""
    target = 1.0 - probability
    lo, hi = 0.0, max(1.0, 2.0 * df)
    while chi2_sf(hi, df) > target:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if chi2_sf(mid, df) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return (lo + hi) / 2.0


_EPS = 1e-16
_TINY = 1e-300


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x): series below a + 1, continued fraction above."""
    log_prefactor = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        denominator = a
        for _ in range(10_000):
            denominator += 1.0
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefactor))
    # Modified Lentz evaluation of the continued fraction for Q.
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return min(1.0, math.exp(log_prefactor) * h)


FALSE_ALARM_RATE = 0.01
"""The chance of a false alarm the minimum live window is sized for."""


def min_live_rows(
    reference_buckets: int, threshold: float, reference_rows: int, rate: float = FALSE_ALARM_RATE
) -> int | None:
    """The smallest live window whose KL exceeds `threshold` by chance with probability < rate.

    Under no drift, 2 * n * KL(live || ref) is about chi-square with
    (buckets - 1) degrees of freedom, inflated by (1 + n / m) because the
    reference of m rows is a sample too. Solving (1 + n/m) * q / (2n) <= t
    for n, with q the chi-square quantile at 1 - rate, gives
    n >= q / (2t - q/m). Smoothing only lowers small-window scores, so this
    errs on the safe side. None when no window size is enough (the reference
    is too small for so low a threshold).
    """
    df = max(reference_buckets - 1, 1)
    q = chi2_quantile(1.0 - rate, df)
    room = 2.0 * threshold - q / max(reference_rows, 1)
    if room <= 0:
        return None
    return max(1, math.ceil(q / room))
