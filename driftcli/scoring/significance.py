"""p-values: the most powerful valid test for the feature's kind; corrections across features.

Pure functions, no I/O. Every test asks whether the live and reference
counts could come from one distribution:

- **categorical** buckets (and numeric ones too few to have an order worth
  testing): the G-test of homogeneity (the log-likelihood ratio);
- **ordered** buckets (numeric): G, the Anderson-Darling statistic and
  Neyman's smooth statistic (ordered.py) together, by a weighted Bonferroni
  combination, p = min(1, min_i p_i / w_i) with weights summing to 1. Each
  p_i is a valid p-value, so the combination is one too, whatever the
  dependence between them; it keeps most of the power of the best of the
  three on each kind of change (location, spread, a far tail, one mode
  split into two), measured by benchmarks/calibration.py.

Each statistic's p-value comes from its asymptotic distribution where every
bucket it uses expects at least MIN_EXPECTED rows on both sides, and
otherwise from its exact (permutation) distribution by seeded Monte Carlo
(permutation.py), all statistics scored on the same draws.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from driftcli.choices import Correction
from driftcli.scoring.distributions import chi2_sf
from driftcli.scoring.ordered import (
    Layout,
    anderson_darling,
    anderson_darling_sf,
    smooth,
    smooth_sf,
)
from driftcli.scoring.permutation import (
    Scored,
    enough_to_decide,
    entropy_term,
    log_choose,
    monte_carlo,
    types_bound,
)
from driftcli.settings import DEFAULT_EVIDENCE

__all__ = ["chi2_sf", "log_choose"]

Counts = npt.NDArray[np.int64] | npt.NDArray[np.float64]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MIN_EXPECTED = 5.0
"""An asymptotic tail is used only when every bucket the statistic uses expects at
least this many rows on both sides (the textbook rule); otherwise Monte Carlo."""
MIN_ORDERED_BUCKETS = 3
"""Fewer ordered buckets than this (a flag): the order adds nothing to G."""
MIN_ORDERED_REFERENCE = 40
"""Reference rows with values the ordered statistics need. Their permutation null takes
the buckets as given, but a numeric feature's are cut at the reference's own quantiles:
with a few reference rows a bucket, the live shares vary more than it allows (measured,
the smooth statistic: 0.8% false alarms at level 0.5% with 20 reference rows and 100
live ones; at most 0.43% from 40 rows up)."""
WEIGHTS = {"g": 0.2, "anderson-darling": 0.3, "smooth": 0.5}
"""Each statistic's share of the evidence level in the combination of an ordered test
(measured: G catches a mode split, the smooth statistic a changed spread, a far tail
and a split, Anderson-Darling a shift; see docs/statistics.md)."""
MONTE_CARLO_DRAWS = 2_000
"""Permutation draws at most, for the default evidence level; more for smaller
levels (at least 10 / level), so the smallest reportable p-value, 1 / (draws + 1),
stays well below the level. A combined test's parts are compared with a share of
the level: measured, 10,000 draws instead of 2,000 changed no detection rate of
benchmarks/calibration.py's targets by more than a point, at four times the time."""
MAX_MONTE_CARLO_DRAWS = 100_000
CHECK_MONTE_CARLO_DRAWS = 2_000_000
"""Permutation draws a check spends at most over all its features (a few seconds):
past the default level's 2,000 a feature, each feature gets an equal share."""


class Method(StrEnum):
    """How a p-value was computed."""

    CHI_SQUARE = "chi-square"
    """The statistic's asymptotic chi-square tail (G: Williams-corrected; the smooth
    statistic: scaled to its exact variance)."""
    SADDLEPOINT = "saddlepoint"
    """Anderson-Darling's asymptotic tail (a weighted sum of chi-squares), by saddlepoint."""
    MONTE_CARLO = "monte-carlo"
    KS = "ks"
    """The two-sample Kolmogorov-Smirnov test (exact for small samples)."""
    BOUND = "bound"
    """An upper bound on the exact permutation p-value (`types_bound`), for a
    statistic beyond what Monte Carlo draws could resolve."""


@dataclass(frozen=True)
class Part:
    """One statistic's p-value within a combined test."""

    test: str
    p_value: float
    method: Method
    weight: float = 1.0
    bound: bool = False


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
    the observed statistic (p is then at most 1 / (draws + 1)), `Method.BOUND`, or
    a part of the test settled the level before the others were computed."""
    parts: tuple[Part, ...] = ()
    """The statistics the p-value combines (empty: one statistic, or none computed)."""

    @property
    def test(self) -> str:
        """What was tested: `g`, `g+anderson-darling+smooth`, `ks`."""
        if self.method is Method.KS:
            return "ks"
        return "+".join(p.test for p in self.parts) if self.parts else "g"


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


def ordered_test(buckets: int, reference_rows: int) -> bool:
    """Do ordered buckets (numbers) get the ordered statistics beside G?"""
    return buckets >= MIN_ORDERED_BUCKETS and reference_rows >= MIN_ORDERED_REFERENCE


def floor_factor(ordered: bool) -> float:
    """How far above the permutation floor the test's smallest p-value is: a combined
    test's p is at least its parts' smallest over its weight."""
    return 1.0 / max(WEIGHTS.values()) if ordered else 1.0


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
    The p-value is the chi-square tail of G / q, with Williams' (1976)
    correction q = 1 + (N (1/n + 1/m) - 1)(N sum_j 1/P_j - 1) / (6 N (K - 1)),
    which brings G's mean to the chi-square's at moderate counts (without
    it, G's tail at 0.001 was measured twice too heavy at 5 rows a bucket).
    """
    live_used, ref_used = _used(live, ref)
    n_live, n_ref = live_used.sum(), ref_used.sum()
    df = live_used.size - 1
    if df < 1 or n_live == 0 or n_ref == 0:
        return GTest(0.0, max(df, 0), 1.0)
    pooled = live_used + ref_used
    total = n_live + n_ref
    statistic = 2.0 * (
        _xlogy_ratio(live_used, n_live * pooled / total)
        + _xlogy_ratio(ref_used, n_ref * pooled / total)
    )
    statistic = max(statistic, 0.0)
    williams = 1.0 + (total * (1 / n_live + 1 / n_ref) - 1) * (
        total * float(np.sum(1.0 / pooled)) - 1
    ) / (6.0 * total * df)
    return GTest(statistic, df, chi2_sf(statistic / williams, df))


def _used(live: Counts, ref: Counts) -> tuple[FloatArray, FloatArray]:
    live_f = np.asarray(live, dtype=np.float64)
    ref_f = np.asarray(ref, dtype=np.float64)
    used = (live_f + ref_f) > 0
    return live_f[used], ref_f[used]


def _xlogy_ratio(observed: FloatArray, expected: FloatArray) -> float:
    nonzero = observed > 0
    return float(np.sum(observed[nonzero] * np.log(observed[nonzero] / expected[nonzero])))


def _expects_enough(live: FloatArray, pooled: FloatArray) -> bool:
    n, total = float(live.sum()), float(pooled.sum())
    smaller = min(n, total - n)
    return float(pooled.min()) * smaller / total >= MIN_EXPECTED


@dataclass(frozen=True)
class _Table:
    """The buckets a test uses (those with a row on either side), and what it needs of them."""

    live: IntArray
    pooled: IntArray
    scored: npt.NDArray[np.bool_]
    """The buckets G scores (all but a reference-less `other`, see `entropy_term`)."""
    ordered: IntArray
    """Indices of the ordered buckets among those used (empty: no ordered statistics)."""
    floor: float


def _table(live: Counts, ref: Counts, other: int | None, ordered: int) -> _Table | None:
    live_all = np.asarray(live, dtype=np.float64)
    ref_all = np.asarray(ref, dtype=np.float64)
    used = (live_all + ref_all) > 0
    live_used, ref_used = live_all[used].astype(np.int64), ref_all[used].astype(np.int64)
    n_live, n_ref = int(live_used.sum()), int(ref_used.sum())
    floor = permutation_floor(n_live, n_ref)
    if live_used.size < 2 or n_live == 0 or n_ref == 0:
        return None
    scored = np.ones(live_used.size, dtype=bool)
    if other is not None and used[other] and ref_all[other] == 0:
        # Only categories the reference never saw (see `entropy_term`): where the
        # reference has rows in `other` too (its tail past the categories kept), the
        # bucket is a fixed one, and left out it would favour drift.
        scored[int(np.count_nonzero(used[:other]))] = False
    kept = int(np.count_nonzero(used[:ordered]))
    tested = ordered_test(kept, int(ref_all[:ordered].sum()))
    indices = np.arange(kept) if tested else np.arange(0)
    return _Table(live_used, live_used + ref_used, scored, indices, floor)


def evidence(
    live: Counts,
    ref: Counts,
    level: float = DEFAULT_EVIDENCE,
    other: int | None = None,
    max_draws: int = MAX_MONTE_CARLO_DRAWS,
    *,
    ordered: int = 0,
    decide: bool = False,
) -> Evidence:
    """The test's p-value: asymptotic where valid, else exact by Monte Carlo.

    `level` is the evidence level the p-value will be compared with: Monte
    Carlo draws enough to resolve p-values well below it, up to `max_draws`
    (the feature's share of the check's draws). A G statistic beyond what
    those draws could resolve gets the bound of `types_bound` instead, when
    that bound is the smaller. `other` is the index of the feature's `other`
    bucket, if it has one (see `entropy_term`); the first `ordered` buckets
    are ordered values (numeric), tested with the ordered statistics too.
    With `decide`, only whether p is below `level` matters: Monte Carlo
    stops as soon as that is settled, and a part that settles it alone
    leaves the others uncomputed (p is then an upper bound).
    """
    table = _table(live, ref, other, ordered)
    if table is None:
        return Evidence(1.0, Method.CHI_SQUARE, permutation_floor(*_rows(live, ref)))
    weights = WEIGHTS if table.ordered.size else {"g": 1.0}
    draws = min(max_draws, MAX_MONTE_CARLO_DRAWS, max(MONTE_CARLO_DRAWS, math.ceil(10 / level)))
    parts, pending = _asymptotic_parts(table, weights, draws)
    if decide and any(p.p_value < level * p.weight for p in parts):
        return _combined(parts, table.floor, partial=bool(pending))
    if parts and pending:
        # No draw count could give a pending part a p / weight below what is known: an
        # overwhelming change, whose p the draws would not change.
        known = min(p.p_value / p.weight for p in parts)
        if all(known < 1.0 / ((draws + 1) * weights[name]) for name, _, _ in pending):
            return _combined(parts, table.floor)
    if pending:
        scored = [statistic for _, statistic, _ in pending]
        if decide:
            scored = [
                Scored(s.score, s.observed, enough_to_decide(level * weights[name], draws))
                for (name, _, _), s in zip(pending, scored, strict=True)
            ]
        drawn = monte_carlo(table.live, table.pooled, scored, draws)
        parts += [
            Part(name, max(d.p_value, table.floor), Method.MONTE_CARLO, weights[name], d.bound)
            for (name, _, _), d in zip(pending, drawn, strict=True)
        ]
    return _combined(parts, table.floor)


def _rows(live: Counts, ref: Counts) -> tuple[int, int]:
    return int(np.asarray(live).sum()), int(np.asarray(ref).sum())


Pending = tuple[str, Scored, float]


def _asymptotic_parts(
    table: _Table, weights: dict[str, float], draws: int
) -> tuple[list[Part], list[Pending]]:
    """The parts whose asymptotic tail is valid (or whose bound settles them), and the
    statistics left for Monte Carlo."""
    parts: list[Part] = []
    pending: list[Pending] = []
    live, pooled = table.live, table.pooled
    if _expects_enough(live.astype(np.float64), pooled.astype(np.float64)):
        g = g_test(live, pooled - live)
        parts.append(Part("g", max(g.p_value, table.floor), Method.CHI_SQUARE, weights["g"]))
    else:
        bound = types_bound(live, pooled, table.scored)
        if bound <= 1.0 / (draws + 1):
            parts.append(Part("g", max(bound, table.floor), Method.BOUND, weights["g"], True))
        else:
            scored = table.scored

            def g_score(sample: IntArray) -> FloatArray:
                return entropy_term(sample, pooled, scored)

            pending.append(("g", Scored(g_score, float(g_score(live)[0])), weights["g"]))
    if table.ordered.size:
        _ordered_parts(table, weights, parts, pending)
    return parts, pending


def _ordered_parts(
    table: _Table, weights: dict[str, float], parts: list[Part], pending: list[Pending]
) -> None:
    index = table.ordered
    live = table.live[index].astype(np.float64)
    layout = Layout.of(table.pooled[index])
    asymptotic = _expects_enough(live, layout.pooled)
    statistics: dict[str, Callable[[npt.ArrayLike, Layout], FloatArray]] = {
        "anderson-darling": anderson_darling,
        "smooth": smooth,
    }
    for name, statistic in statistics.items():
        observed = float(statistic(live, layout)[0])
        if asymptotic:
            if name == "smooth":
                p, method = smooth_sf(observed, layout, float(live.sum())), Method.CHI_SQUARE
            else:
                p, method = anderson_darling_sf(observed, layout), Method.SADDLEPOINT
            parts.append(Part(name, max(p, table.floor), method, weights[name]))
            continue

        def score(sample: IntArray, statistic: Callable[..., FloatArray] = statistic) -> FloatArray:
            return statistic(sample[:, index], layout)

        pending.append((name, Scored(score, observed), weights[name]))


def _combined(parts: list[Part], floor: float, partial: bool = False) -> Evidence:
    """min(1, min_i p_i / w_i), the method and boundness of the part that gives it."""
    parts = sorted(parts, key=lambda part: list(WEIGHTS).index(part.test))
    best = min(parts, key=lambda part: part.p_value / part.weight)
    p = min(1.0, best.p_value / best.weight)
    kept = tuple(parts) if len(parts) > 1 or best.weight < 1.0 else ()
    return Evidence(p, best.method, floor, bound=best.bound or partial, parts=kept)


def remembered_evidence(
    live: IntArray,
    ref: IntArray,
    level: float,
    other: int | None = None,
    max_draws: int | None = None,
    *,
    ordered: int = 0,
    decide: bool = False,
) -> Evidence:
    """`evidence`, remembered.

    The many small chunks of a chunked check meet the same tables again and
    again (two rows over twenty buckets have a few hundred), and a Monte
    Carlo p-value, seeded by its table, is the same each time.
    """
    draws = MAX_MONTE_CARLO_DRAWS if max_draws is None else max_draws
    key = (live.tobytes(), live.dtype.str), (ref.tobytes(), ref.dtype.str)
    return _remembered(*key, level, other, draws, ordered, decide)


@functools.lru_cache(maxsize=1 << 12)
def _remembered(
    live: tuple[bytes, str],
    ref: tuple[bytes, str],
    level: float,
    other: int | None,
    draws: int,
    ordered: int,
    decide: bool,
) -> Evidence:
    return evidence(
        np.frombuffer(live[0], live[1]),
        np.frombuffer(ref[0], ref[1]),
        level,
        other,
        draws,
        ordered=ordered,
        decide=decide,
    )


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
