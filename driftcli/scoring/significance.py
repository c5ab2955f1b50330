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
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from driftcli.choices import Correction
from driftcli.scoring.asymptotic import expects_enough, g_rows, ordered_rows
from driftcli.scoring.distributions import chi2_sf
from driftcli.scoring.ordered import Layout, anderson_darling, smooth
from driftcli.scoring.permutation import (
    Scored,
    enough_to_decide,
    entropy_scorer,
    log_choose,
    monte_carlo,
    types_bound,
)
from driftcli.settings import DEFAULT_EVIDENCE

__all__ = ["chi2_sf", "log_choose"]

Counts = npt.NDArray[np.int64] | npt.NDArray[np.float64]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

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


@functools.lru_cache(maxsize=1 << 14)
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
    reference being a sample. Valid at large expected counts (see `evidence`);
    the p-value is Williams-corrected (asymptotic.g_rows).
    """
    statistic, df, p = g_rows(np.asarray(live, dtype=np.float64), np.asarray(ref, np.float64))
    return GTest(float(statistic[0]), max(int(df[0]), 0), float(p[0]))


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
    live_row = np.atleast_2d(np.asarray(live, dtype=np.float64))
    return evidence_rows(live_row, ref, level, other, max_draws, ordered=ordered, decide=decide)[0]


def evidence_rows(
    live: Counts,
    ref: Counts,
    level: float = DEFAULT_EVIDENCE,
    other: int | None = None,
    max_draws: int = MAX_MONTE_CARLO_DRAWS,
    *,
    ordered: int = 0,
    decide: bool = False,
) -> list[Evidence]:
    """`evidence` for each row of live counts against the same reference counts: the
    asymptotic parts of every row at once, Monte Carlo row by row where needed."""
    x = np.atleast_2d(np.asarray(live, dtype=np.float64))
    y = np.asarray(ref, dtype=np.float64)
    draws = min(max_draws, MAX_MONTE_CARLO_DRAWS, max(MONTE_CARLO_DRAWS, math.ceil(10 / level)))
    index = _ordered_index(y, ordered)
    weights = WEIGHTS if index.size else _G_ONLY
    settled = level * weights.get("smooth", 0.0) if decide else None
    ordered_parts = ordered_rows(x[:, index], y[index], settled) if index.size else None
    # Numbers: `missing` and `invalid`, the last two buckets, may be sparse (SPARSE_EXPECTED).
    g_valid = expects_enough(x, x + y[None, :], sparse=2 if index.size else 0)
    if ordered_parts is not None and settled is not None:
        g_valid &= ~(ordered_parts.smooth_p < settled)  # settled: G is not needed
    g_p = g_rows(x, y, g_valid)[2]
    named: list[tuple[str, FloatArray, Method, npt.NDArray[np.bool_] | None]] = [
        ("g", g_p, Method.CHI_SQUARE, g_valid)
    ]
    if ordered_parts is not None:
        named += [
            ("anderson-darling", ordered_parts.anderson_darling_p, Method.SADDLEPOINT, None),
            ("smooth", ordered_parts.smooth_p, Method.CHI_SQUARE, None),
        ]
    columns = [
        (name, p.tolist(), method, (~np.isnan(p) if valid is None else valid).tolist())
        for name, p, method, valid in named
    ]
    m = int(y.sum())
    sizes = x.sum(axis=1).astype(np.int64).tolist()
    used = np.count_nonzero((x + y[None, :]) > 0, axis=1).tolist()
    found = []
    for row, n in enumerate(sizes):
        floor = permutation_floor(n, m)
        if n == 0 or m == 0 or used[row] < 2:
            found.append(Evidence(1.0, Method.CHI_SQUARE, floor))
            continue
        known = [
            Part(name, max(p[row], floor), method, weights[name])
            for name, p, method, valid in columns
            if valid[row]
        ]
        found.append(_finish(x[row], y, known, (level, draws, decide, floor), other, index))
    return found


def _ordered_index(ref: FloatArray, ordered: int) -> IntArray:
    """The ordered buckets the ordered statistics use: those the reference has rows in
    (every live row's buckets are then used), when enough of them and of its rows."""
    index = np.flatnonzero(ref[:ordered] > 0)
    if not ordered_test(index.size, int(ref[:ordered].sum())):
        return np.arange(0)
    return index


def _finish(
    live: FloatArray,
    ref: FloatArray,
    known: list[Part],
    how: tuple[float, int, bool, float],
    other: int | None,
    index: IntArray,
) -> Evidence:
    """One table's evidence from its asymptotic parts (none below `floor`, the smallest
    p-value any window of its size could reach), and Monte Carlo for the others."""
    level, draws, decide, floor = how
    weights = WEIGHTS if index.size else _G_ONLY
    if decide and any(part.p_value < level * part.weight for part in known):
        return _combined(known, floor, partial=len(known) < len(weights))
    if len(known) < len(weights):
        found = {part.test for part in known}
        missing = tuple(name for name in weights if name not in found)
        key = (live.astype(np.int64).tobytes(), ref.astype(np.int64).tobytes())
        drawn = _drawn(*key, missing, level, draws, decide, other, index.tobytes())
        known = known + [replace(part, p_value=max(part.p_value, floor)) for part in drawn]
    # A decision settled by one part leaves the others uncomputed: p is then a bound.
    return _combined(known, floor, partial=len(known) < len(weights))


_G_ONLY = {"g": 1.0}


@functools.lru_cache(maxsize=1 << 12)
def _drawn(
    live_bytes: bytes,
    ref_bytes: bytes,
    names: tuple[str, ...],
    level: float,
    draws: int,
    decide: bool,
    other: int | None,
    index_bytes: bytes,
) -> tuple[Part, ...]:
    """The parts asymptotics could not give, by Monte Carlo (G: or by its bound); the
    many small chunks of a chunked check meet the same tables again and again."""
    live_all = np.frombuffer(live_bytes, np.int64)
    ref_all = np.frombuffer(ref_bytes, np.int64)
    index = np.frombuffer(index_bytes, np.int64)
    used = (live_all + ref_all) > 0
    live, pooled = live_all[used], live_all[used] + ref_all[used]
    scored = np.ones(live.size, dtype=bool)
    if other is not None and used[other] and ref_all[other] == 0:
        # Only categories the reference never saw (see `entropy_term`): where the
        # reference has rows in `other` too (its tail past the categories kept), the
        # bucket is a fixed one, and left out it would favour drift.
        scored[int(np.count_nonzero(used[:other]))] = False
    weights = WEIGHTS if index.size else {"g": 1.0}
    parts: list[Part] = []
    pending: list[tuple[str, Scored]] = []
    if "g" in names:
        bound = types_bound(live, pooled, scored)
        if bound <= 1.0 / (draws + 1):
            parts.append(Part("g", bound, Method.BOUND, weights["g"], True))
        else:
            g_score = entropy_scorer(pooled, scored, int(live.sum()))
            pending.append(("g", Scored(g_score, float(g_score(live)[0]))))
    if index.size and ("anderson-darling" in names or "smooth" in names):
        # The ordered buckets hold reference rows, so they are among those used.
        ordered = np.searchsorted(np.flatnonzero(used), index)
        layout = Layout.of(pooled[ordered])
        for name, statistic in (("anderson-darling", anderson_darling), ("smooth", smooth)):
            if name not in names:
                continue

            def score(
                sample: IntArray, statistic: Callable[..., FloatArray] = statistic
            ) -> FloatArray:
                return statistic(sample[:, ordered], layout)

            pending.append((name, Scored(score, float(score(live[None, :])[0]))))
    if decide and any(part.p_value < level * part.weight for part in parts):
        return tuple(parts)
    if pending:
        scored_stats = [
            Scored(s.score, s.observed, enough_to_decide(level * weights[name], draws))
            if decide
            else s
            for name, s in pending
        ]
        for (name, _), d in zip(
            pending, monte_carlo(live, pooled, scored_stats, draws), strict=True
        ):
            parts.append(Part(name, d.p_value, Method.MONTE_CARLO, weights[name], d.bound))
    return tuple(parts)


_ORDER = {name: i for i, name in enumerate(WEIGHTS)}


def _combined(parts: list[Part], floor: float, partial: bool = False) -> Evidence:
    """min(1, min_i p_i / w_i), the method and boundness of the part that gives it."""
    parts = sorted(parts, key=lambda part: _ORDER[part.test])
    best = min(parts, key=lambda part: part.p_value / part.weight)
    p = min(1.0, best.p_value / best.weight)
    kept = tuple(parts) if len(parts) > 1 or best.weight < 1.0 else ()
    return Evidence(p, best.method, floor, bound=best.bound or partial, parts=kept)


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
