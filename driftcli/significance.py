"""p-values: the G-test of homogeneity, the chi-square tail, corrections across features.

Pure functions, no I/O. The chi-square tail is written here rather than
imported from scipy because importing scipy.special costs about 0.25 s,
which every CI call would pay; it is tested against scipy to 1e-12.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from driftcli.formats import Correction

Counts = npt.NDArray[np.int64] | npt.NDArray[np.float64]


def _shared(live: Counts, ref: Counts) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    live = np.asarray(live, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    used = (live + ref) > 0
    return live[used], ref[used]


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


def adjust(p_values: list[float], correction: Correction) -> list[float]:
    """Adjusted p-values, in the input order (monotone, capped at 1)."""
    n = len(p_values)
    if n == 0 or correction is Correction.NONE:
        return list(p_values)
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if correction is Correction.HOLM:
        scaled = np.maximum.accumulate(ranked * (n - np.arange(n)))
    else:
        scaled = np.minimum.accumulate((ranked * n / np.arange(1, n + 1))[::-1])[::-1]
    adjusted = np.empty(n)
    adjusted[order] = np.minimum(scaled, 1.0)
    return [float(x) for x in adjusted]
