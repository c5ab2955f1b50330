"""Calibration: no false alarms under no drift, detection of known shifts.

Each case runs a few hundred seeded trials through the real profile, count
and compare code, with a fresh 2,000-row reference per trial (the reference
is a sample too, and its noise belongs in the false-alarm rate).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from driftcli.compare import compare
from driftcli.profile import build_profile, count_batches
from driftcli.results import FeatureResult, Settings, Status

REFERENCE_ROWS = 2_000
TRIALS = 300

Draw = Callable[[np.random.Generator, int], pa.Array]


def normal(shift: float = 0.0) -> Draw:
    return lambda rng, n: pa.array(rng.normal(shift, 1.0, n))


def trial_results(ref: Draw, live: Draw, n_live: int, seed: int) -> list[FeatureResult]:
    rng = np.random.default_rng(seed)
    results = []
    for _ in range(TRIALS):
        profile = build_profile([pa.record_batch({"x": ref(rng, REFERENCE_ROWS)})])
        counts = count_batches(profile.features, [pa.record_batch({"x": live(rng, n_live)})])
        results.append(compare(profile, counts, Settings())[0])
    return results


def alarm_rate(results: list[FeatureResult]) -> float:
    return sum(r.status is Status.DRIFT for r in results) / len(results)


@pytest.mark.parametrize("n_live", [50, 100, 500, 5_000])
def test_no_false_alarms_under_no_drift_numeric(n_live: int) -> None:
    results = trial_results(normal(), normal(), n_live, seed=n_live)
    assert all(r.status is not Status.INSUFFICIENT for r in results)
    assert alarm_rate(results) <= 0.01


def categories(weights: list[float], missing: float = 0.0) -> Draw:
    labels = np.array([f"c{i}" for i in range(len(weights))], dtype=object)
    p = np.array(weights) / sum(weights)

    def draw(rng: np.random.Generator, n: int) -> pa.Array:
        values = rng.choice(labels, n, p=p)
        return pa.array(values.tolist(), mask=rng.random(n) < missing)

    return draw


@pytest.mark.parametrize("n_live", [50, 100, 500])
def test_no_false_alarms_with_twenty_categories_and_missing_values(n_live: int) -> None:
    # Skewed categories, including rare ones, and 10% missing: 22 buckets.
    weights = [2.0**-i for i in range(20)]
    draw = categories(weights, missing=0.1)
    results = trial_results(draw, draw, n_live, seed=100 + n_live)
    assert alarm_rate(results) <= 0.01


def test_small_windows_are_insufficient_not_alarms() -> None:
    results = trial_results(normal(), normal(3.0), 20, seed=7)
    assert {r.status for r in results} == {Status.INSUFFICIENT}
    assert all(r.min_rows is not None and r.min_rows > 20 for r in results)


def test_one_and_a_half_sd_shift_is_detected_at_500_rows() -> None:
    assert alarm_rate(trial_results(normal(), normal(1.5), 500, seed=15)) >= 0.99


def test_three_sd_shift_is_detected_at_50_rows() -> None:
    # The seed sketch, binning each side on its own min/max, scored this 0.03.
    assert alarm_rate(trial_results(normal(), normal(3.0), 50, seed=30)) >= 0.99


def test_shift_sizes_the_default_threshold_catches() -> None:
    """The README's table: ~1 sd is the edge, 1.3 sd is caught at 100+ rows."""
    assert alarm_rate(trial_results(normal(), normal(0.8), 500, seed=8)) <= 0.02
    assert alarm_rate(trial_results(normal(), normal(1.3), 100, seed=13)) >= 0.95
    assert alarm_rate(trial_results(normal(), normal(1.2), 500, seed=12)) >= 0.99


def test_missing_rate_jump_is_drift() -> None:
    def with_missing(share: float) -> Draw:
        return lambda rng, n: pa.array(rng.normal(0, 1, n), mask=rng.random(n) < share)

    assert alarm_rate(trial_results(with_missing(0.01), with_missing(0.4), 200, seed=4)) >= 0.99


def test_p_values_are_calibrated_under_no_drift() -> None:
    results = trial_results(normal(), normal(), 1_000, seed=99)
    p_values = np.array([r.p_value for r in results])
    assert 0.02 <= np.mean(p_values < 0.05) <= 0.09
    assert 0.35 <= np.mean(p_values < 0.5) <= 0.65
