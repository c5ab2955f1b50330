"""Tails of the null distributions the asymptotic p-values come from.

Written here rather than imported from scipy because importing scipy.special
costs about 0.25 s, which every CI call would pay; each is tested against
scipy (or numerical integration) to the accuracy its docstring states.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_EPS = 1e-16
_TINY = 1e-300


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for X ~ chi-square(df), df > 0 not necessarily whole: Q(df/2, x/2)."""
    if x <= 0.0:
        return 1.0
    return _gamma_q(df / 2.0, x / 2.0)


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


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def weighted_chi2_sf(x: float, weights: FloatArray) -> float:
    """P(sum_i w_i Z_i^2 > x) for independent standard normal Z_i and weights w_i > 0.

    By the saddlepoint approximation of Lugannani and Rice, which for such
    quadratic forms is within a few percent of the exact tail far into it
    (Kuonen 1999, Biometrika 86; tested against Imhof's integral). Near the
    mean, where that formula is 0/0, the tail comes from the first three
    cumulants instead.
    """
    w = np.asarray(weights, dtype=np.float64)
    w = w[w > 0]
    if x <= 0.0 or not w.size:
        return 1.0 if x <= 0.0 else 0.0
    mean = float(w.sum())
    variance = 2.0 * float(np.sum(w * w))
    if abs(x - mean) < 1e-3 * math.sqrt(variance):
        skew = 8.0 * float(np.sum(w**3)) / variance**1.5
        z = (x - mean) / math.sqrt(variance)
        density = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        return float(normal_sf(z) + skew / 6.0 * (z * z - 1.0) * density)
    t = _saddlepoint(x, w, mean)
    one_minus = 1.0 - 2.0 * t * w
    cgf = -0.5 * float(np.sum(np.log(one_minus)))
    curvature = float(np.sum(2.0 * w * w / one_minus**2))
    r = math.copysign(math.sqrt(max(2.0 * (t * x - cgf), 0.0)), t)
    u = t * math.sqrt(curvature)
    if r == 0.0 or u == 0.0:
        return normal_sf((x - mean) / math.sqrt(variance))
    density = math.exp(-r * r / 2) / math.sqrt(2 * math.pi)
    return min(1.0, max(0.0, normal_sf(r) + density * (1.0 / u - 1.0 / r)))


def _saddlepoint(x: float, w: FloatArray, mean: float) -> float:
    """The t at which the cumulant generating function's slope, sum w / (1 - 2 t w), is x.

    Safeguarded Newton steps inside a bracket: the slope rises from 0
    (t -> -inf) to +inf (t -> 1 / (2 max w)).
    """
    top = 1.0 / (2.0 * float(w.max()))
    if x > mean:
        low, high = 0.0, top
        t = min(top * 0.5, (x - mean) / (2.0 * float(np.sum(w * w))))
    else:
        low, high = -1.0, 0.0
        while float(np.sum(w / (1.0 - 2.0 * low * w))) > x:
            low *= 2.0
        t = low / 2.0
    for _ in range(200):
        one_minus = 1.0 - 2.0 * t * w
        slope = float(np.sum(w / one_minus)) - x
        if slope > 0:
            high = t
        else:
            low = t
        step = slope / float(np.sum(2.0 * w * w / one_minus**2))
        candidate = t - step
        if not low < candidate < high:
            candidate = (low + high) / 2.0
        if abs(candidate - t) <= 1e-15 * max(abs(t), top):
            return candidate
        t = candidate
    return t
