"""p-values: the G-test of homogeneity, exact at small counts; corrections across features.

Pure functions, no I/O. The G-test asks whether the live and reference
counts could come from one distribution. With large expected counts its
statistic follows the chi-square distribution; with small ones (a window of
a few dozen rows over twenty buckets) that approximation is not valid, and
the p-value comes from the test's exact (permutation) distribution instead,
by seeded Monte Carlo: draws of the live counts given both sides' totals
(a multivariate hypergeometric, which is what shuffling the rows between the
two sides gives), vectorised and stopped early once the answer is clear.

The chi-square tail is written here rather than imported from scipy because
importing scipy.special costs about 0.25 s, which every CI call would pay;
it is tested against scipy to 1e-12.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from driftcli.choices import Correction
from driftcli.settings import DEFAULT_EVIDENCE

Counts = npt.NDArray[np.int64] | npt.NDArray[np.float64]
FloatArray = npt.NDArray[np.float64]

MIN_EXPECTED = 5.0
"""The chi-square approximation is used only when every bucket expects at least
this many rows on both sides (the textbook rule); otherwise Monte Carlo."""
MONTE_CARLO_DRAWS = 2_000
"""Permutation draws at most, for the default evidence level; more for smaller
levels (at least 10 / level), so the smallest reportable p-value, 1 / (draws + 1),
stays well below the level."""
MAX_MONTE_CARLO_DRAWS = 100_000
CHECK_MONTE_CARLO_DRAWS = 2_000_000
"""Permutation draws a check spends at most over all its features (a few seconds):
past the default level's 2,000 a feature, each feature gets an equal share."""
ENOUGH_EXCEEDANCES = 50
"""Monte Carlo stops once this many draws score at least the observed statistic:
p is then 50 / draws, within about 15%, and far above any evidence level
(Besag and Clifford's sequential p-value, valid as it stands)."""
SEED = 20261201


class Method(StrEnum):
    """How a p-value was computed."""

    CHI_SQUARE = "chi-square"
    MONTE_CARLO = "monte-carlo"
    KS = "ks"
    """The two-sample Kolmogorov-Smirnov test (exact for small samples)."""
    BOUND = "bound"
    """An upper bound on the exact permutation p-value (`types_bound`), for a
    statistic beyond what Monte Carlo draws could resolve."""


@dataclass(frozen=True)
class Evidence:
    """A p-value, how it was computed, and the smallest one this test could give."""

    p_value: float
    method: Method
    floor: float
    """The smallest p-value any live window of this many rows could reach against
    this reference: above the evidence level, no window of this size can be judged."""
    bound: bool = False
    """`p_value` is an upper bound, not an estimate: no Monte Carlo draw reached
    the observed statistic (p is then at most 1 / (draws + 1)), or `Method.BOUND`."""


def _shared(live: Counts, ref: Counts) -> tuple[FloatArray, FloatArray]:
    live = np.asarray(live, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    used = (live + ref) > 0
    return live[used], ref[used]


def log_choose(n: int, k: int) -> float:
    """ln C(n, k)."""
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def permutation_floor(n_live: int, n_ref: int) -> float:
    """The smallest p-value a permutation test of n_live against n_ref rows can give.

    Any one split of the pooled rows has probability at least 1 / C(n+m, n),
    and a live window whose every row falls where the reference has none (a
    new category, all missing) reaches it; so this is what a maximally
    different window of this size would get.
    """
    if n_live <= 0 or n_ref <= 0:
        return 1.0
    return math.exp(-log_choose(n_live + n_ref, n_live))


def rows_for_evidence(n_ref: int, level: float, floor_factor: float = 1.0) -> int | None:
    """The fewest live rows whose most extreme window could reach a p-value below `level`."""
    if n_ref <= 0:
        return None
    target = math.log(floor_factor / level)
    n = 1
    while log_choose(n + n_ref, n) <= target:
        n += 1
    return n


@dataclass(frozen=True)
class GTest:
    """A G-test of homogeneity: could both count vectors come from one distribution?"""

    statistic: float
    df: int
    p_value: float


def g_test(live: Counts, ref: Counts) -> GTest:
    """The log-likelihood-ratio test of homogeneity on the 2 x K table, chi-square p-value.

    G = 2 * sum O * ln(O / E) with E the counts expected if both rows shared
    one distribution; df = K - 1 over the K buckets used. With a reference
    much larger than the live window, G approaches 2 * n_live * KL(live || ref)
    on unsmoothed counts; unlike that shortcut, it also accounts for the
    reference being a sample. Valid at large expected counts; see `evidence`.
    """
    live, ref = _shared(live, ref)
    n_live, n_ref = live.sum(), ref.sum()
    df = live.size - 1
    if df < 1 or n_live == 0 or n_ref == 0:
        return GTest(0.0, max(df, 0), 1.0)
    pooled = (live + ref) / (n_live + n_ref)
    statistic = 2.0 * (_xlogy_ratio(live, n_live * pooled) + _xlogy_ratio(ref, n_ref * pooled))
    statistic = max(statistic, 0.0)
    return GTest(statistic, df, chi2_sf(statistic, df))


def _xlogy_ratio(observed: FloatArray, expected: FloatArray) -> float:
    nonzero = observed > 0
    return float(np.sum(observed[nonzero] * np.log(observed[nonzero] / expected[nonzero])))


def evidence(
    live: Counts,
    ref: Counts,
    level: float = DEFAULT_EVIDENCE,
    other: int | None = None,
    max_draws: int = MAX_MONTE_CARLO_DRAWS,
    drawing: bool = True,
) -> Evidence:
    """The G-test's p-value, from chi-square where it is valid, else exact by Monte Carlo.

    `level` is the evidence level the p-value will be compared with: Monte
    Carlo draws enough to resolve p-values well below it, up to `max_draws`
    (the feature's share of the check's draws). A statistic beyond what
    those draws could resolve gets the bound of `types_bound` instead, when
    that bound is the smaller. `other` is the index of the feature's `other`
    bucket, if it has one (see `_monte_carlo_p`). Without `drawing`, a table
    that would need Monte Carlo gets a NaN p-value (with its floor).
    """
    live_all = np.asarray(live, dtype=np.float64)
    ref_all = np.asarray(ref, dtype=np.float64)
    used = (live_all + ref_all) > 0
    live_used, ref_used = live_all[used], ref_all[used]
    n_live, n_ref = int(live_used.sum()), int(ref_used.sum())
    floor = permutation_floor(n_live, n_ref)
    if live_used.size < 2 or n_live == 0 or n_ref == 0:
        return Evidence(1.0, Method.CHI_SQUARE, floor)
    pooled = live_used + ref_used
    smallest_side = min(n_live, n_ref)
    if float(pooled.min()) * smallest_side / (n_live + n_ref) >= MIN_EXPECTED:
        return Evidence(g_test(live_used, ref_used).p_value, Method.CHI_SQUARE, floor)
    if not drawing:
        return Evidence(math.nan, Method.MONTE_CARLO, floor)
    draws = min(max_draws, MAX_MONTE_CARLO_DRAWS, max(MONTE_CARLO_DRAWS, math.ceil(10 / level)))
    scored = np.ones(live_used.size, dtype=bool)
    if other is not None and used[other] and ref_all[other] == 0:
        # Only categories the reference never saw (see `_monte_carlo_p`): where the
        # reference has rows in `other` too (its tail past the categories kept), the
        # bucket is a fixed one, and left out it would favour drift.
        scored[int(np.count_nonzero(used[:other]))] = False
    live_int, pooled_int = live_used.astype(np.int64), pooled.astype(np.int64)
    bound = types_bound(live_int, pooled_int, scored)
    if bound <= 1.0 / (draws + 1):
        return Evidence(max(bound, floor), Method.BOUND, floor, bound=True)
    p = _monte_carlo_p(live_int, pooled_int, draws, scored)
    return Evidence(max(p, floor), Method.MONTE_CARLO, floor, bound=p <= 1.0 / (draws + 1))


def remembered_evidence(
    live: npt.NDArray[np.int64],
    ref: npt.NDArray[np.int64],
    level: float,
    other: int | None = None,
    max_draws: int | None = None,
    drawing: bool = True,
) -> Evidence:
    """`evidence`, remembered; with `drawing` False, no Monte Carlo.

    The many small chunks of a chunked check meet the same tables again and
    again (two rows over twenty buckets have a few hundred), and a Monte
    Carlo p-value, seeded by its table, is the same each time. Without
    `drawing` (a score that is not material: the caller has no use for a
    drawn p-value), nothing is drawn, so nothing is remembered.
    """
    draws = MAX_MONTE_CARLO_DRAWS if max_draws is None else max_draws
    if not drawing:
        return evidence(live, ref, level, other, draws, drawing=False)
    key = (live.tobytes(), live.dtype.str), (ref.tobytes(), ref.dtype.str)
    return _remembered(*key, level, other, draws)


@functools.lru_cache(maxsize=1 << 12)
def _remembered(
    live: tuple[bytes, str], ref: tuple[bytes, str], level: float, other: int | None, draws: int
) -> Evidence:
    return evidence(
        np.frombuffer(live[0], live[1]), np.frombuffer(ref[0], ref[1]), level, other, draws
    )


def types_bound(
    live: npt.NDArray[np.int64], pooled: npt.NDArray[np.int64], scored: npt.NDArray[np.bool_]
) -> float:
    """An upper bound on the exact permutation p-value of the G statistic, without draws.

    By the method of types: a live count vector l has probability
    prod C(P_b, l_b) / C(N, n) <= (N + 1) exp(-G(l) / 2) (from
    C(N, n) >= exp(N H(n/N)) / (N + 1) and C(P, l) <= exp(P H(l/P))), so
    P(G >= g) is at most the number of possible live vectors, times
    (N + 1) exp(-g / 2). The `other` bucket (not `scored`, see
    `_monte_carlo_p`) adds at most C(O, O // 2) to each one's probability.
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


def _xlogx(counts: npt.NDArray[np.int64]) -> float:
    x = counts[counts > 0].astype(np.float64)
    return float(np.sum(x * np.log(x)))


def _monte_carlo_p(
    live: npt.NDArray[np.int64],
    pooled: npt.NDArray[np.int64],
    draws: int,
    scored: npt.NDArray[np.bool_],
) -> float:
    """The permutation p-value of the G statistic, by sequential Monte Carlo.

    With both sides' totals fixed, G differs between tables only by
    sum x ln x over the live and reference counts, so that is what is
    compared. Seeded by the table itself: the same counts always give the
    same p-value, whatever else is in the check.

    The `other` bucket (not `scored`) is left out of that sum when the
    reference has no row in it (then its categories are only live ones). Which rows
    it holds depends on the split itself: its categories are those the
    reference happened not to see, so a permutation that keeps it one fixed
    bucket is not the test's null (with a small reference, fresh data drifts
    up to half the time). Over the true categories, G is a sum of one term
    per category; a category only live rows hold adds nothing to it, and a
    category's term is largest (nothing) when it holds one row. So taking
    `other`'s rows as that many categories of one row each (their term is
    then nothing, in every draw as in the data) can only raise the draws'
    G: the p-value is conservative whatever those categories really are.
    """
    n = int(live.sum())
    seed = zlib.crc32(live.tobytes() + pooled.tobytes()) ^ SEED
    rng = np.random.default_rng(seed)
    observed = _entropy_term(live[None, :], pooled, scored)[0]
    tolerance = 1e-9 * max(abs(observed), 1.0)
    done = exceeding = 0
    block = 64
    while done < draws:
        size = min(block, draws - done)
        sample = rng.multivariate_hypergeometric(pooled, n, size=size, method="marginals")
        hits = _entropy_term(sample, pooled, scored) >= observed - tolerance
        found = int(np.count_nonzero(hits))
        if exceeding + found >= ENOUGH_EXCEEDANCES:
            # Stop at the draw that brought the count to ENOUGH_EXCEEDANCES.
            at = int(np.flatnonzero(hits)[ENOUGH_EXCEEDANCES - exceeding - 1]) + 1
            return ENOUGH_EXCEEDANCES / (done + at)
        exceeding += found
        done += size
        block = min(block * 4, 4096)
    return (exceeding + 1) / (draws + 1)


def _entropy_term(
    live: npt.NDArray[np.int64], pooled: npt.NDArray[np.int64], scored: npt.NDArray[np.bool_]
) -> FloatArray:
    """sum x ln x over each row of live counts and the matching reference counts,
    in the `scored` buckets."""
    live = live[:, scored]
    ref = pooled[None, scored] - live
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(live > 0, live * np.log(live), 0.0)
        terms += np.where(ref > 0, ref * np.log(ref), 0.0)
    return np.asarray(terms.sum(axis=1), dtype=np.float64)


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for X ~ chi-square(df): the regularized upper incomplete gamma Q(df/2, x/2)."""
    if x <= 0.0:
        return 1.0
    return _gamma_q(df / 2.0, x / 2.0)


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
