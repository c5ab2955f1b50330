"""The order-aware statistics and their null tails, against scipy and exact moments."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2
from scipy.stats._morestats import _anderson_ksamp_midrank

from driftcli.scoring.change import bucket_change
from driftcli.scoring.distributions import chi2_sf, weighted_chi2_sf
from driftcli.scoring.metrics import METRICS
from driftcli.scoring.ordered import (
    Layout,
    anderson_darling,
    anderson_darling_sf,
    smooth,
    smooth_sf,
    smooth_variance,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_anderson_darling_is_scholz_and_stephens_midrank_statistic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    live, ref = rng.integers(0, 8, 40), rng.integers(1, 9, 70)
    pooled = np.sort(np.r_[live, ref])
    values = np.unique(pooled)
    expected = _anderson_ksamp_midrank([live, ref], pooled, values, 2, np.array([40, 70]), 110)
    live_counts = np.array([np.sum(live == v) for v in values])
    ref_counts = np.array([np.sum(ref == v) for v in values])
    layout = Layout.of(live_counts + ref_counts)
    assert anderson_darling(live_counts, layout)[0] == pytest.approx(expected, rel=1e-12)


def test_the_statistics_score_many_tables_at_once_and_nothing_without_two_sides() -> None:
    layout = Layout.of(np.array([5, 5, 5, 5]))
    tables = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [5, 5, 5, 5], [0, 0, 0, 0]])
    ad, sm = anderson_darling(tables, layout), smooth(tables, layout)
    assert ad[0] == pytest.approx(ad[1]) and sm[0] == pytest.approx(sm[1])  # mirror images
    assert ad[2] == sm[2] == ad[3] == sm[3] == 0.0  # one side empty: no evidence
    for i in range(4):
        assert ad[i] == pytest.approx(anderson_darling(tables[i], layout)[0])


@pytest.mark.parametrize("weights", [[1.0, 1.0, 1.0], [0.54, 0.19, 0.1, 0.06, 0.04], [2.0]])
def test_the_weighted_chi_square_tail_is_within_a_few_percent_in_the_tail(
    weights: list[float],
) -> None:
    w = np.array(weights)
    rng = np.random.default_rng(len(weights))
    draws = np.zeros(4_000_000)
    for weight in w:
        draws += weight * rng.standard_normal(len(draws)) ** 2
    for level in (0.05, 0.005, 0.0005):
        cut = float(np.quantile(draws, 1 - level))
        # Within 10%, and on the side of a larger p-value.
        assert level * 0.97 < weighted_chi2_sf(cut, w) < level * 1.12
    if np.all(w == w[0]):
        assert weighted_chi2_sf(9.0, w) == pytest.approx(chi2.sf(9.0 / w[0], len(w)), rel=0.05)


def test_the_chi_square_tail_takes_any_degrees_of_freedom() -> None:
    for df in (0.7, 2.5, 3.44, 19.0, 150.5):
        for x in (0.1, 1.0, 5.0, 30.0, 300.0):
            assert chi2_sf(x, df) == pytest.approx(chi2.sf(x, df), rel=1e-10, abs=1e-300)


def test_the_anderson_darling_tail_has_mean_one_and_matches_the_draws_at_large_counts() -> None:
    """Its weights (the eigenvalues) sum to 1 (k - 1, as for the continuous statistic), and
    at large counts its tail is the permutation's."""
    rng = np.random.default_rng(4)
    pooled = np.full(20, 200)
    layout = Layout.of(pooled)
    draws = rng.multivariate_hypergeometric(pooled, 1000, size=20_000)
    statistics = anderson_darling(draws, layout)
    assert np.mean(statistics) == pytest.approx(1.0, abs=0.03)
    for level in (0.05, 0.01):
        cut = np.quantile(statistics, 1 - level)
        assert anderson_darling_sf(cut, layout) == pytest.approx(level, rel=0.2)


@pytest.mark.parametrize(
    ("pooled", "n"), [([5, 9, 2, 7, 11, 3], 12), ([20] * 20, 140), ([3, 1, 4], 4)]
)
def test_the_smooth_statistic_variance_is_exact(pooled: list[int], n: int) -> None:
    rng = np.random.default_rng(sum(pooled) + n)
    layout = Layout.of(np.array(pooled))
    draws = rng.multivariate_hypergeometric(np.array(pooled), n, size=200_000)
    statistics = smooth(draws, layout)
    assert np.mean(statistics) == pytest.approx(layout.components, rel=0.01)
    assert np.var(statistics) == pytest.approx(smooth_variance(layout, n), rel=0.03)
    assert 0 <= smooth_sf(float(np.quantile(statistics, 0.99)), layout, n) <= 0.03


@pytest.mark.parametrize("metric", ["kl", "psi", "js", "hellinger"])
@pytest.mark.parametrize(("n_ref", "n_live"), [(2000, 50), (50, 50), (200, 200)])
def test_the_noise_is_what_unchanged_counts_score(metric: str, n_ref: int, n_live: int) -> None:
    """The score expected under no change, from its expansion, within 15% of the mean
    score of unchanged data; and the change behind it about nothing."""
    rng = np.random.default_rng(n_ref + n_live)
    shares = np.r_[np.full(20, 0.049), 0.02]
    spec = METRICS[metric]
    assert spec.bucket_score is not None
    scores, noises, lowest = [], [], []
    for _ in range(2000):
        live, ref = rng.multinomial(n_live, shares), rng.multinomial(n_ref, shares)
        found = bucket_change(spec, live, ref, 0.5, sampled=True)
        scores.append(spec.bucket_score(live, ref, 0.5))
        noises.append(found.noise)
        lowest.append(found.lower)
    assert np.mean(noises) == pytest.approx(np.mean(scores), rel=0.15)
    # A change material beyond its error (uncertain, without evidence) is rare when
    # nothing changed.
    assert np.mean(np.array(lowest) > spec.default_threshold) < 0.05


@pytest.mark.parametrize("metric", ["kl", "psi", "js", "hellinger"])
def test_the_change_is_the_score_at_large_counts(metric: str) -> None:
    """The thresholds keep their meaning: at 10^6 rows a side the noise is negligible."""
    spec = METRICS[metric]
    assert spec.bucket_score is not None
    shares = np.full(20, 0.05)
    moved = shares * np.linspace(0.6, 1.4, 20)
    moved /= moved.sum()
    live, ref = np.round(moved * 1e6).astype(np.int64), np.round(shares * 1e6).astype(np.int64)
    found = bucket_change(spec, live, ref, 0.5)
    score = spec.bucket_score(live, ref, 0.5)
    assert found.change == pytest.approx(score, rel=1e-3)
    assert score < found.upper < score * 1.05
