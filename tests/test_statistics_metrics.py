"""Calibration of every metric at its own minimum window, and of --alpha with Holm."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from driftcli.compare import compare
from driftcli.metrics import METRICS
from driftcli.profile import build_profile, count_batches
from driftcli.results import Settings, Status
from driftcli.sample import ValueReservoir

TRIALS = 250


def false_alarm_rate(
    metric: str, n_live: int | None, seed: int, n_ref: int = 2000
) -> tuple[float, int]:
    """Share of no-drift trials that drift, and the window size used (the metric's minimum)."""
    rng = np.random.default_rng(seed)
    settings = Settings(metric=metric)
    alarms = 0
    size = n_live
    for _ in range(TRIALS):
        ref_values = rng.normal(size=n_ref)
        profile = build_profile([pa.record_batch({"x": ref_values})])
        if size is None:  # the smallest window that gets a verdict
            few = count_batches(profile.features, [pa.record_batch({"x": ref_values[:5]})], ["x"])
            samples = ({"x": ref_values[:5]}, {"x": ref_values})
            probe = compare(profile, few, settings, samples=samples)[0]
            assert probe.min_rows is not None
            size = probe.min_rows
        live_values = rng.normal(size=size)
        counts = count_batches(profile.features, [pa.record_batch({"x": live_values})], ["x"])
        reservoir = ValueReservoir()
        reservoir.add(ref_values)
        result = compare(
            profile, counts, settings, samples=(counts.samples, {"x": reservoir.values()})
        )[0]
        assert result.status in (Status.OK, Status.DRIFT)
        alarms += result.status is Status.DRIFT
    assert size is not None
    return alarms / TRIALS, size


@pytest.mark.parametrize("metric", list(METRICS))
def test_no_false_alarms_at_each_metrics_minimum_window(metric: str) -> None:
    rate, size = false_alarm_rate(metric, None, seed=len(metric))
    assert rate <= 0.01, (metric, size)
    bigger, _ = false_alarm_rate(metric, size * 4, seed=7 * len(metric))
    assert bigger <= 0.01


def test_kl_minimum_window_stays_at_most_50_rows() -> None:
    _, size = false_alarm_rate("kl", None, seed=1)
    assert size <= 50


def test_alpha_with_holm_keeps_the_family_wise_rate_near_one_percent() -> None:
    rng = np.random.default_rng(11)
    features = 50
    trials = 150
    settings = Settings(threshold=0.0, alpha=0.01)  # gate on significance alone
    families_with_alarm = 0
    for _ in range(trials):
        ref = pa.record_batch({f"x{i}": rng.normal(size=2000) for i in range(features)})
        live = pa.record_batch({f"x{i}": rng.normal(size=500) for i in range(features)})
        profile = build_profile([ref])
        results = compare(profile, count_batches(profile.features, [live]), settings)
        families_with_alarm += any(r.status is Status.DRIFT for r in results)
    assert families_with_alarm / trials <= 0.03  # 1% expected; 3% allows for 150 trials


def test_alpha_detects_a_real_shift_among_many_features() -> None:
    rng = np.random.default_rng(12)
    ref = pa.record_batch({f"x{i}": rng.normal(size=2000) for i in range(50)})
    live_columns = {f"x{i}": rng.normal(size=500) for i in range(50)}
    live_columns["x7"] = rng.normal(1.5, 1, 500)
    profile = build_profile([ref])
    results = compare(
        profile,
        count_batches(profile.features, [pa.record_batch(live_columns)]),
        Settings(alpha=0.01),
    )
    assert [r.name for r in results if r.status is Status.DRIFT] == ["x7"]
    assert all(r.p_adjusted is not None for r in results)
