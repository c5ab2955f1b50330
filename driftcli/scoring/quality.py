"""Data-quality rules beside drift: missing values, values the reference never had, invalid values.

A drift score weighs a rise in missing values as one bucket among twenty:
at 50,000 rows a side, a missing share going from 2% to 10% scores KL 0.085,
below the threshold. Each rule here judges one such share on its own: it
fails when the live share is evidently higher than the reference's (a
one-sided p-value below the evidence level) and past both of its limits,
at least `ratio` times the reference's share and `points` percentage points
above it (defaults 2x and 1 point, settings.py); an evident rise short of
them is `small`, reported and not failed. Shares are of all rows.

- **missing**: the `missing` bucket;
- **invalid**: the `invalid` bucket (values that do not read as the type);
- **unseen**: categories (or discrete numbers) the reference did not have,
  in `other` (where the reference kept every category it had: else `other`
  holds its rarer ones too, and the rule does not apply); numbers below the
  reference's smallest or above its largest, in the outer buckets the
  reference has no row in.

The p-values: a fixed bucket's live count is hypergeometric under no change
(Fisher's one-sided exact test). Values outside the reference's range are
not a fixed bucket (the range is the reference's own): a live value is
above every reference value with chance 1 / (m + 1), and k live values
outside it with chance at most (k + 1) n!/(n-k)! (N-k)!/N!. Categories the
reference never had are counted, in Monte Carlo draws, as categories of
one row each, the most likely to fall on the live side alone; so the
p-value is conservative whatever those categories are.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from driftcli.choices import Kind
from driftcli.counting.buckets import Feature
from driftcli.findings import QualityFinding, QualityRule, QualityStatus
from driftcli.scoring.permutation import Scored, log_choose, monte_carlo
from driftcli.settings import Settings

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DRAWS = 2_000
"""Monte Carlo draws at most for the unseen-categories p-value (at least 10 / level)."""


def outside_range(feature: Feature, reference: IntArray) -> tuple[bool, bool]:
    """Are a quantile feature's outer buckets below and above the reference's range?

    The reference builder puts edges at its smallest value and just above its
    largest, so those buckets hold no reference row; an older reference whose
    outer bucket is empty (ties at its smallest value) means the same.
    """
    values = feature.n_value_buckets
    if feature.edges is None or values < 3:
        return False, False
    return bool(reference[0] == 0), bool(reference[values - 1] == 0)


def assess(
    feature: Feature,
    live: IntArray,
    reference: IntArray,
    settings: Settings,
    level: float,
    lazy: bool = False,
) -> tuple[QualityFinding, ...]:
    """Every rule that applies to the feature; with `lazy`, a p-value only where it could
    fail the check."""
    return assess_rows(feature, np.atleast_2d(live), reference, settings, level, lazy)[0]


def assess_rows(
    feature: Feature,
    live: IntArray,
    reference: IntArray,
    settings: Settings,
    level: float,
    lazy: bool = False,
) -> list[tuple[QualityFinding, ...]]:
    """`assess` for each row of live counts (a chunk each) against the same reference, or
    against a reference row each (slices: rows whose references share `ref_kind`)."""
    rows = np.atleast_2d(live)
    refs = np.broadcast_to(reference, rows.shape)
    n, m = rows.sum(axis=1), refs.sum(axis=1)
    findings: list[list[QualityFinding]] = [[] for _ in range(len(rows))]
    for rule, buckets in _rule_buckets(feature, refs[0]):
        if not buckets:
            continue
        x = rows[:, buckets].sum(axis=1)
        y = refs[:, buckets].sum(axis=1)
        ratio, points = settings.quality_limits(rule.value, feature.name)
        ref_share = y / np.maximum(m, 1)
        share = np.where(n > 0, x / np.maximum(n, 1), 0.0)
        past = (share >= ratio * ref_share) & (100.0 * (share - ref_share) >= points)
        wanted = (n > 0) & (m > 0) & (share > ref_share) & np.logical_or(past, not lazy)
        # A chunk (lazy) keeps only the rules that did not come out ok: the many rows of
        # a chunked check would otherwise hold a finding per rule each.
        for i in np.flatnonzero(wanted) if lazy else np.flatnonzero((n > 0) & (m > 0)):
            p = None
            if wanted[i]:
                p = _p_value(rule, feature, rows[i], refs[i], buckets, level)
            limits, sides = (ratio, points), (int(y[i]), int(x[i]))
            found = _finding(rule, sides, (float(ref_share[i]), float(share[i])), p, limits, level)
            if not lazy or found.status is not QualityStatus.OK:
                findings[i].append(found)
    return [tuple(found) for found in findings]


def _rule_buckets(feature: Feature, reference: IntArray) -> list[tuple[QualityRule, list[int]]]:
    unseen: list[int] = []
    if feature.kind is Kind.CATEGORICAL or feature.values is not None:
        # Only where the reference kept every category it had: else `other` holds its
        # rarer ones too, and the live share there is higher by the choice of those kept.
        other = feature.n_value_buckets - 1
        unseen = [other] if reference[other] == 0 else []
    else:
        below, above = outside_range(feature, reference)
        unseen = [0] * below + [feature.n_value_buckets - 1] * above
    return [
        (QualityRule.MISSING, [feature.missing_bucket]),
        (QualityRule.UNSEEN, unseen),
        (QualityRule.INVALID, [feature.invalid_bucket]),
    ]


def _finding(
    rule: QualityRule,
    rows: tuple[int, int],
    shares: tuple[float, float],
    tested: tuple[float, bool] | None,
    limits: tuple[float, float],
    level: float,
) -> QualityFinding:
    (ref_rows, live_rows), (ref_share, share), (ratio, points) = rows, shares, limits
    past = share >= ratio * ref_share and 100.0 * (share - ref_share) >= points
    p, bound = tested if tested is not None else (None, False)
    evident = p is not None and p < level
    status = QualityStatus.OK
    if evident:
        status = QualityStatus.FAIL if past else QualityStatus.SMALL
    finding = QualityFinding(
        rule, status, ref_rows, live_rows, ref_share, share, p, bound, ratio, points
    )
    if status is QualityStatus.OK:
        return finding
    return replace(finding, reason=describe(finding, level))


_WHAT = {
    QualityRule.MISSING: "missing values",
    QualityRule.UNSEEN: "values the reference did not have",
    QualityRule.INVALID: "invalid values",
}


def describe(finding: QualityFinding, level: float) -> str | None:
    """`missing values rose from 2.0% to 10.0% of the rows (5.0x, +8.0 points, p < 1e-16):
    past the rule's 2x and +1 point`; None for an `ok` with no rise worth a word."""
    if finding.status is QualityStatus.OK:
        return None
    rise = _rise(finding.reference_share, finding.live_share)
    p = _p_text(finding.p_value, finding.p_bound)
    what = _WHAT[finding.rule]
    limits = f"the rule's {finding.ratio:g}x and +{finding.points:g} point"
    limits += "" if finding.points == 1 else "s"
    if not (math.isfinite(finding.ratio) and math.isfinite(finding.points)):
        limits = "the rule, which is off (an infinite limit)"
    head = (
        f"{what} rose from {_share(finding.reference_share)} to "
        f"{_share(finding.live_share)} of the rows ({rise}, {p})"
    )
    if finding.status is QualityStatus.FAIL:
        return f"{head}: past {limits}"
    return f"{head}: evident (p < {level:g}), but within {limits}"


def _share(share: float) -> str:
    if share == 0:
        return "0%"
    return f"{100 * share:.1f}%" if share >= 0.001 else f"{100 * share:.2g}%"


def _rise(ref_share: float, share: float) -> str:
    points = f"+{100 * (share - ref_share):.2g} points"
    if ref_share == 0:
        return f"none before, {points}"
    return f"{share / ref_share:.2g}x, {points}"


def _p_text(p: float | None, bound: bool) -> str:
    if p is None:
        return "p not computed"
    if p < 1e-16:
        return "p < 1e-16"
    return f"p <= {p:.2g}" if bound else f"p = {p:.2g}"


def _p_value(
    rule: QualityRule,
    feature: Feature,
    live: IntArray,
    reference: IntArray,
    buckets: list[int],
    level: float,
) -> tuple[float, bool]:
    """Could chance give a live share this much higher? One-sided, valid (see the module);
    and whether it is a bound (no Monte Carlo draw reached the count)."""
    x = int(live[buckets].sum())
    n, total = int(live.sum()), int(live.sum() + reference.sum())
    pooled = int(live[buckets].sum() + reference[buckets].sum())
    if rule is QualityRule.UNSEEN:
        if feature.edges is not None:
            return outside_range_p(x, n, total), False
        return _unseen_categories_p(live, reference, buckets[0], level)
    return hypergeometric_sf(x, total, pooled, n), False


@functools.lru_cache(maxsize=1 << 12)
def hypergeometric_sf(x: int, total: int, good: int, draws: int) -> float:
    """P(X >= x) for X the good ones among `draws` drawn from `total` without replacement."""
    low, high = max(0, draws - (total - good)), min(good, draws)
    if x <= low:
        return 1.0
    if x > high:
        return 0.0
    log_first = log_choose(good, x) + log_choose(total - good, draws - x) - log_choose(total, draws)
    # Past the mode the terms shrink at least geometrically: a window whose last term is
    # negligible holds the sum; else the window doubles, up to the whole tail.
    width = 64
    while True:
        end = min(high, x + width)
        k = np.arange(x, end, dtype=np.float64)
        ratios = (good - k) * (draws - k) / ((k + 1) * (total - good - draws + k + 1))
        log_terms = np.concatenate([[0.0], np.cumsum(np.log(ratios))])
        peak = float(log_terms.max())
        if end == high or (log_terms[-1] < peak - 50.0 and ratios[-1] < 0.5):
            break
        width *= 4
    return min(1.0, math.exp(log_first + peak) * float(np.sum(np.exp(log_terms - peak))))


def outside_range_p(outside: int, live_rows: int, total: int) -> float:
    """P(at least `outside` live values fall outside the reference's range) under no change,
    at most (k + 1) times the chance that k given pooled values are all live ones."""
    if outside <= 0:
        return 1.0
    if outside > live_rows:
        return 0.0
    # The sum of log((live_rows - i) / (total - i)) over i < outside, in closed form.
    log_all_live = (
        math.lgamma(live_rows + 1)
        - math.lgamma(live_rows - outside + 1)
        - math.lgamma(total + 1)
        + math.lgamma(total - outside + 1)
    )
    return min(1.0, (outside + 1) * math.exp(log_all_live))


def _unseen_categories_p(
    live: IntArray, reference: IntArray, other: int, level: float
) -> tuple[float, bool]:
    """P(as many live rows in categories the reference lacks) by Monte Carlo, `other`'s rows
    taken as categories of one row each: each one drawn live counts, and a known
    category counts when all its rows are drawn live."""
    pooled = (live + reference).astype(np.int64)
    known = np.flatnonzero(pooled[:other] > 0)
    sizes = pooled[known]

    def unseen(sample: IntArray) -> FloatArray:
        whole = (sample[:, known] == sizes[None, :]) * sizes[None, :]
        return np.asarray(sample[:, other] + whole.sum(axis=1), dtype=np.float64)

    observed = float(unseen(live[None, :].astype(np.int64))[0])
    draws = max(DRAWS, math.ceil(10 / level))
    [drawn] = monte_carlo(live.astype(np.int64), pooled, [Scored(unseen, observed)], draws)
    return drawn.p_value, drawn.bound
