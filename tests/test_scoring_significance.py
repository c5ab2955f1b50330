"""p-values: exact at small counts (Monte Carlo against full enumeration), the floor."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from driftcli.scoring.significance import (
    Method,
    evidence,
    g_test,
    permutation_floor,
    rows_for_evidence,
)


def exact_g_p_value(live: list[int], ref: list[int]) -> float:
    """The permutation p-value of G by enumerating every 2 x K table with these margins."""
    live_a, ref_a = np.array(live), np.array(ref)
    pooled = live_a + ref_a
    n, total = int(live_a.sum()), int(pooled.sum())
    observed = g_test(live_a, ref_a).statistic
    p = 0.0
    ranges = [range(min(int(c), n) + 1) for c in pooled]
    for cells in itertools.product(*ranges):
        if sum(cells) != n:
            continue
        table = np.array(cells)
        # The multivariate hypergeometric probability of this table.
        log_p = sum(
            math.lgamma(c + 1) - math.lgamma(x + 1) - math.lgamma(c - x + 1)
            for c, x in zip(pooled.tolist(), cells, strict=True)
        )
        log_p -= math.lgamma(total + 1) - math.lgamma(n + 1) - math.lgamma(total - n + 1)
        if g_test(table, pooled - table).statistic >= observed - 1e-9:
            p += math.exp(log_p)
    return p


@pytest.mark.parametrize(
    ("live", "ref"),
    [
        ([3, 1, 0, 2], [2, 5, 6, 3]),
        ([0, 0, 4, 1], [6, 5, 1, 4]),
        ([2, 2, 2], [3, 3, 3]),
        ([5, 0, 0], [1, 4, 5]),
    ],
)
def test_monte_carlo_p_value_matches_the_exact_permutation_p_value(
    live: list[int], ref: list[int]
) -> None:
    got = evidence(np.array(live), np.array(ref))
    assert got.method is Method.MONTE_CARLO
    exact = exact_g_p_value(live, ref)
    # Sequential Monte Carlo: p is 50 / draws at the 50th exceedance (about 15%
    # off at most, one standard error), or (k + 1) / (2000 + 1).
    assert got.p_value == pytest.approx(exact, abs=max(0.45 * exact, 2e-3))


def test_monte_carlo_is_seeded_by_the_table() -> None:
    live, ref = np.array([3, 1, 0, 2, 0]), np.array([2, 5, 6, 3, 4])
    assert evidence(live, ref).p_value == evidence(live.copy(), ref.copy()).p_value


def test_large_expected_counts_use_the_chi_square_approximation() -> None:
    live, ref = np.array([300, 250, 450]), np.array([1000, 1100, 900])
    got = evidence(live, ref)
    assert got.method is Method.CHI_SQUARE
    assert got.p_value == g_test(live, ref).p_value


def test_a_two_by_two_table_matches_fishers_exact_tail() -> None:
    # All live rows where the reference has few: the one-sided hypergeometric tail.
    live, ref = np.array([6, 0]), np.array([2, 40])
    p = evidence(live, ref).p_value
    tail = hypergeom.sf(5, 48, 8, 6)  # P(X >= 6): all six live rows in the first bucket
    assert p <= max(10 * tail, 1 / 2001 + 1e-12)


def test_the_floor_is_what_the_most_different_window_gets() -> None:
    # Every live row where the reference has none: the exact p is 1 / C(n+m, n).
    assert permutation_floor(2, 50) == pytest.approx(1 / math.comb(52, 2))
    assert permutation_floor(1, 50) == pytest.approx(1 / 51)
    live, ref = np.array([0, 0, 1]), np.array([25, 25, 0])
    got = evidence(live, ref)
    assert got.p_value == pytest.approx(1 / 51, rel=0.45)
    assert got.floor == pytest.approx(1 / 51)


def test_rows_for_evidence() -> None:
    assert rows_for_evidence(50, 0.005) == 2  # C(51, 1) = 51 < 200 <= C(52, 2)
    assert rows_for_evidence(2000, 0.005) == 1
    assert rows_for_evidence(5, 0.005) == 5  # C(10, 5) = 252
    assert rows_for_evidence(0, 0.005) is None


@pytest.mark.parametrize(("n_live", "n_ref"), [(20, 50), (50, 50), (30, 100), (20, 2000)])
def test_p_values_are_valid_under_no_drift_at_small_counts(n_live: int, n_ref: int) -> None:
    """P(p < a) <= a for the levels that matter, with buckets of unequal sizes."""
    rng = np.random.default_rng(n_live * 7 + n_ref)
    shares = np.r_[np.full(20, 0.049), 0.02]
    p_values = []
    for _ in range(1500):
        live = rng.multinomial(n_live, shares)
        ref = rng.multinomial(n_ref, shares)
        p_values.append(evidence(np.r_[live, 0], np.r_[ref, 0]).p_value)
    p = np.array(p_values)
    for level in (0.005, 0.05):
        assert np.mean(p < level) <= 1.5 * level + 2 * math.sqrt(level / len(p))
    assert np.mean(p < 0.5) >= 0.35  # not absurdly conservative either


def test_the_other_bucket_counts_as_categories_of_one_row_in_the_permutation() -> None:
    # A 20-row reference of 60 categories (10 common ones hold 80% of the rows)
    # sees 7 of them; half the 100 live rows are of categories it did not see,
    # as happens by chance. Kept as one fixed bucket, `other` (live 50,
    # reference 0) looked like overwhelming evidence; as categories of one row
    # each, it is what a small reference of many categories gives.
    ref = np.array([6, 5, 4, 2, 1, 1, 1, 0, 0, 0])
    live = np.array([6, 4, 12, 10, 12, 0, 6, 50, 0, 0])
    assert evidence(live, ref).p_value < 0.005
    assert evidence(live, ref, other=7).p_value > 0.5
    # Live rows all in `other` against a large reference are still evidence.
    big = np.array([400, 300, 200, 100, 0, 0, 0])
    assert evidence(np.array([4, 3, 2, 1, 30, 0, 0]), big, other=4).p_value < 1e-3


def test_other_stays_in_the_test_where_the_reference_has_rows_in_it() -> None:
    """Where the reference saw more categories than it keeps, `other` holds its tail:
    a fixed bucket. Left out of G, fewer live rows in the kept buckets would look
    like drift (3.4% false alarms at level 0.005 with 60 Zipf categories, 200/30)."""
    rng = np.random.default_rng(1)
    k = 60
    weights = 1 / np.arange(1, k + 1) ** 0.7
    weights /= weights.sum()
    p_values = []
    for _ in range(400):
        ref_rows, live_rows = rng.choice(k, 200, p=weights), rng.choice(k, 30, p=weights)
        seen = np.bincount(ref_rows, minlength=k)
        kept = [c for c in sorted(range(k), key=lambda c: (-seen[c], c))[:20] if seen[c]]
        index = {c: i for i, c in enumerate(kept)}

        def buckets(rows: np.ndarray, index: dict[int, int] = index) -> np.ndarray:
            return np.bincount([index.get(v, len(index)) for v in rows], minlength=len(index) + 1)

        ref, live = buckets(ref_rows), buckets(live_rows)
        assert ref[-1] > 0  # the reference's tail is in `other`
        p_values.append(evidence(live, ref, 0.005, other=len(kept), max_draws=2000).p_value)
    assert np.mean(np.array(p_values) < 0.005) <= 0.01


@pytest.mark.parametrize("other", [False, True])
def test_the_types_bound_is_at_least_the_exact_permutation_p_value(other: bool) -> None:
    from driftcli.scoring.permutation import entropy_term, types_bound

    rng = np.random.default_rng(3)
    for _ in range(40):
        pooled = rng.integers(1, 6, size=4)
        n = int(rng.integers(1, pooled.sum()))
        scored = np.array([True, True, True, not other])
        tables = np.array(
            [t for t in itertools.product(*(range(p + 1) for p in pooled)) if sum(t) == n]
        )
        weights = np.array(
            [
                np.prod([math.comb(int(p), int(x)) for p, x in zip(pooled, t, strict=True)])
                for t in tables
            ]
        ) / math.comb(int(pooled.sum()), n)
        terms = entropy_term(tables, pooled, scored)
        for live, term in zip(tables, terms, strict=True):
            exact = float(weights[terms >= term - 1e-9].sum())
            assert types_bound(live, pooled, scored) >= exact * (1 - 1e-9)


def test_an_overwhelming_change_in_a_small_window_reaches_any_evidence_level() -> None:
    # 50 against 50 rows, no value in common: the exact p-value is 1 / C(100, 50),
    # about 1e-29; Monte Carlo alone could not go below 1 / (draws + 1).
    ref = np.r_[np.full(10, 5), np.zeros(10, np.int64), 0, 0]
    live = np.r_[np.zeros(10, np.int64), np.full(10, 5), 0, 0]
    got = evidence(live, ref, level=1e-6)
    assert got.bound and got.method.value == "bound" and got.p_value < 1e-10
