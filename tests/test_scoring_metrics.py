"""Metrics against independent computations, and their properties."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2, chi2_contingency, entropy

from driftcli.api import check
from driftcli.scoring.metrics import kl_divergence
from driftcli.scoring.significance import chi2_sf, g_test
from driftcli.settings import Settings

counts = st.lists(st.integers(0, 10_000), min_size=1, max_size=40)


def pair_of_counts() -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    return st.integers(1, 40).flatmap(
        lambda k: st.tuples(
            st.lists(st.integers(0, 5_000), min_size=k, max_size=k),
            st.lists(st.integers(0, 5_000), min_size=k, max_size=k),
        ).map(lambda pair: (np.array(pair[0]), np.array(pair[1])))
    )


def test_kl_matches_scipy_entropy_on_smoothed_counts() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        k = int(rng.integers(2, 30))
        live = rng.integers(0, 50, k) * (rng.random(k) < 0.8)
        ref = rng.integers(0, 500, k) * (rng.random(k) < 0.8)
        used = (live + ref) > 0
        expected = entropy(live[used] + 0.5, ref[used] + 0.5) if used.any() else 0.0
        assert kl_divergence(live, ref) == pytest.approx(expected, abs=1e-9)


def test_kl_direction_is_live_given_reference() -> None:
    live, ref = np.array([90, 10]), np.array([50, 50])
    assert kl_divergence(live, ref) == pytest.approx(entropy([90.5, 10.5], [50.5, 50.5]), abs=1e-12)
    assert kl_divergence(live, ref) != pytest.approx(kl_divergence(ref, live), abs=1e-3)


def test_buckets_empty_on_both_sides_do_not_change_the_score() -> None:
    live, ref = np.array([5, 3, 2]), np.array([50, 30, 20])
    padded = kl_divergence(np.r_[live, 0, 0], np.r_[ref, 0, 0])
    assert padded == kl_divergence(live, ref)


@given(pair_of_counts())
def test_kl_is_finite_and_non_negative(pair: tuple[np.ndarray, np.ndarray]) -> None:
    live, ref = pair
    score = kl_divergence(live, ref)
    assert math.isfinite(score)
    assert score >= 0.0


@given(counts, st.integers(1, 50))
def test_kl_of_same_distribution_is_zero(base: list[int], factor: int) -> None:
    ref = np.array(base)
    # The same proportions at another size: zero up to smoothing, which
    # pulls the smaller side towards uniform.
    assert kl_divergence(ref, ref) == pytest.approx(0.0, abs=1e-12)
    assert kl_divergence(ref * factor, ref * factor) == pytest.approx(0.0, abs=1e-12)


@given(pair_of_counts())
def test_kl_does_not_depend_on_bucket_order(pair: tuple[np.ndarray, np.ndarray]) -> None:
    live, ref = pair
    order = np.random.default_rng(len(live)).permutation(len(live))
    assert kl_divergence(live[order], ref[order]) == pytest.approx(
        kl_divergence(live, ref), abs=1e-12
    )


def test_g_test_matches_scipy_log_likelihood_contingency_with_williams_correction() -> None:
    """G as scipy computes it; its p-value is chi-square's at G / q, Williams' q."""
    rng = np.random.default_rng(2)
    for _ in range(100):
        k = int(rng.integers(2, 25))
        live = rng.integers(1, 80, k)
        ref = rng.integers(1, 800, k)
        stat, _, dof, _ = chi2_contingency(
            np.vstack([live, ref]), lambda_="log-likelihood", correction=False
        )
        result = g_test(live, ref)
        assert result.statistic == pytest.approx(stat, rel=1e-9)
        assert result.df == dof
        n, m, pooled = live.sum(), ref.sum(), live + ref
        total = n + m
        q = 1 + (total * (1 / n + 1 / m) - 1) * (total * np.sum(1 / pooled) - 1) / (
            6 * total * (k - 1)
        )
        assert q > 1
        assert result.p_value == pytest.approx(chi2.sf(stat / q, dof), rel=1e-9, abs=1e-300)


def test_g_test_with_one_bucket_or_empty_side_is_not_significant() -> None:
    assert g_test(np.array([5, 0]), np.array([7, 0])).p_value == 1.0
    assert g_test(np.array([0, 0]), np.array([7, 3])).p_value == 1.0


@pytest.mark.parametrize("df", [1, 2, 3, 7, 19, 20, 50, 200, 1000])
def test_chi2_sf_matches_scipy(df: int) -> None:
    for x in [1e-3, 0.1, 0.5, 1, 3, 10, 19, 30, 60, 100, 400, 1500, 5000]:
        expected = chi2.sf(x, df)
        got = chi2_sf(x, df)
        if expected > 1e-290:
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-300)
        else:
            assert got < 1e-280
    assert chi2_sf(0.0, df) == 1.0


# --- the other metrics ------------------------------------------------------

from scipy.spatial.distance import jensenshannon  # noqa: E402
from scipy.stats import ks_2samp, wasserstein_distance  # noqa: E402

from driftcli.scoring.metrics import (  # noqa: E402
    hellinger,
    js_divergence,
    ks_test,
    psi,
    smoothed,
    wasserstein_normalised,
)


def random_pairs(seed: int, trials: int = 100) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(trials):
        k = int(rng.integers(2, 30))
        pairs.append(
            (
                rng.integers(0, 60, k) * (rng.random(k) < 0.8),
                rng.integers(0, 600, k) * (rng.random(k) < 0.8),
            )
        )
    return pairs


def test_bucket_metrics_match_independent_computations() -> None:
    for live, ref in random_pairs(5):
        p, q = smoothed(live, ref)
        if not p.size:
            continue
        assert psi(live, ref) == pytest.approx(entropy(p, q) + entropy(q, p), abs=1e-9)
        assert js_divergence(live, ref) == pytest.approx(jensenshannon(p, q) ** 2, abs=1e-9)
        bhattacharyya = np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))
        assert hellinger(live, ref) == pytest.approx(bhattacharyya, abs=1e-9)


def test_sample_metrics_match_scipy() -> None:
    rng = np.random.default_rng(6)
    for _ in range(30):
        live = rng.normal(rng.normal(), 1, int(rng.integers(20, 400)))
        ref = rng.lognormal(0, 1, int(rng.integers(20, 400)))
        expected = ks_2samp(live, ref)
        statistic, p_value = ks_test(live, ref)
        assert statistic == pytest.approx(expected.statistic, abs=1e-9)
        assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        w = wasserstein_distance(live, ref) / np.std(ref)
        assert wasserstein_normalised(live, ref) == pytest.approx(w, abs=1e-9)


@given(pair_of_counts())
def test_bucket_metrics_are_finite_non_negative_and_symmetric(
    pair: tuple[np.ndarray, np.ndarray],
) -> None:
    live, ref = pair
    for metric in (psi, js_divergence, hellinger):
        score = metric(live, ref)
        assert math.isfinite(score) and score >= 0
    # Symmetric metrics, on equal-size sides (the smoothing depends on the size).
    assert psi(live, live[::-1]) == pytest.approx(psi(live[::-1], live), abs=1e-9)
    assert js_divergence(live, live[::-1]) == pytest.approx(
        js_divergence(live[::-1], live), abs=1e-9
    )
    assert hellinger(live, live[::-1]) == pytest.approx(hellinger(live[::-1], live), abs=1e-9)


@given(counts)
def test_every_bucket_metric_scores_identical_inputs_zero(base: list[int]) -> None:
    ref = np.array(base)
    for metric in (psi, js_divergence, hellinger):
        assert metric(ref, ref) == pytest.approx(0.0, abs=1e-7)


@settings(max_examples=40)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=200))
def test_sample_metrics_of_identical_samples_are_zero(values: list[float]) -> None:
    data = np.array(values)
    assert ks_test(data, data)[0] == 0.0
    assert wasserstein_normalised(data, data) == 0.0


def test_infinities_do_not_break_the_sample_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ref = np.r_[rng.normal(0, 1, 2000), np.inf]
    live = np.r_[rng.normal(5, 1, 500), -np.inf]
    pq.write_table(pa.table({"x": ref}), tmp_path / "ref.parquet")
    pq.write_table(pa.table({"x": live}), tmp_path / "live.parquet")
    for metric in ("wasserstein", "ks"):
        [x] = check(
            str(tmp_path / "live.parquet"), str(tmp_path / "ref.parquet"), Settings(metric=metric)
        ).features
        assert x.score is not None and np.isfinite(x.score) and x.status.value == "drift"
