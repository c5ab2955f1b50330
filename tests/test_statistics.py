"""Calibration: false alarms under no drift, detection of known shifts, every metric.

Each case checks 300 independent features at once through the real profile,
count and compare code: a reference of `n_ref` rows and a live window of
`n_live` rows per feature, seeded. A feature drifts only when its change is
material (above the threshold) and evident (p < 0.005), so chance alone may
flag at most about 0.5% of unchanged features, at any size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftcli.api import check
from driftcli.counting.counter import count_batches
from driftcli.reference.builder import build_profile
from driftcli.results import FeatureResult, Status
from driftcli.scoring.compare import compare
from driftcli.scoring.metrics import METRICS, On
from driftcli.settings import Settings

FEATURES = 300

Draw = Callable[[np.random.Generator, int], np.ndarray]


def normal(shift: float = 0.0, sd: float = 1.0) -> Draw:
    return lambda rng, n: rng.normal(shift, sd, n)


def far_tail(share: float = 0.15, at: float = 4.0) -> Draw:
    """A share of the rows moved to `at` sd, the rest unchanged."""

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        values = rng.normal(0, 1, n)
        moved = rng.random(n) < share
        values[moved] = rng.normal(at, 1, int(moved.sum()))
        return values

    return draw


def split_mode(apart: float = 0.95) -> Draw:
    """One mode split into two at -apart and +apart sd: the same mean, the same sd."""
    spread = math.sqrt(1 - apart * apart)

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.normal(0, spread, n) + np.where(rng.random(n) < 0.5, -apart, apart)

    return draw


def check_many(
    ref: Draw,
    live: Draw,
    n_ref: int,
    n_live: int,
    seed: int,
    features: int = FEATURES,
    **settings: object,
) -> list[FeatureResult]:
    """Compare independent (reference, live) pairs; one result per feature."""
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(features)]
    ref_columns = {name: ref(rng, n_ref) for name in names}
    live_columns = {name: live(rng, n_live) for name in names}
    config = Settings(**settings)  # type: ignore[arg-type]
    sampled = names if METRICS[config.metric].on is On.SAMPLES else []
    profile = build_profile([pa.record_batch(ref_columns)])
    counts = count_batches(profile.features, [pa.record_batch(live_columns)], sampled)
    ref_samples = {name: ref_columns[name] for name in sampled}
    return compare(profile, counts, config, samples=(counts.samples, ref_samples))


def share(results: list[FeatureResult], status: Status = Status.DRIFT) -> float:
    return sum(r.status is status for r in results) / len(results)


SMALL = [(50, 50), (100, 30), (67, 67), (2000, 20), (50, 20), (50, 35)]


@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize(("n_ref", "n_live"), SMALL)
def test_small_windows_raise_at_most_one_percent_false_alarms(
    metric: str, n_ref: int, n_live: int
) -> None:
    results = check_many(normal(), normal(), n_ref, n_live, seed=n_ref + n_live, metric=metric)
    assert share(results) <= 0.01
    assert share(results, Status.INSUFFICIENT) == 0  # every one was judged


@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize(("n_ref", "n_live"), [(50, 50), (100, 30), (2000, 20)])
def test_a_three_sd_shift_is_caught_in_small_windows(metric: str, n_ref: int, n_live: int) -> None:
    # The seed sketch, binning each side on its own min/max, scored this 0.03.
    results = check_many(normal(), normal(3.0), n_ref, n_live, seed=3 * n_live, metric=metric)
    assert share(results) >= 0.99


@pytest.mark.parametrize("metric", list(METRICS))
def test_a_one_and_a_half_sd_shift_is_caught_at_67_rows(metric: str) -> None:
    results = check_many(normal(), normal(1.5), 67, 67, seed=15, metric=metric)
    assert share(results) >= 0.90


@pytest.mark.parametrize("metric", list(METRICS))
def test_a_tiny_threshold_means_any_change_that_is_not_chance(metric: str) -> None:
    noise = check_many(normal(), normal(), 500, 500, seed=12, metric=metric, threshold=1e-12)
    assert share(noise) <= 0.01
    shifted = check_many(normal(), normal(1.0), 500, 500, seed=13, metric=metric, threshold=1e-12)
    assert share(shifted) >= 0.99


@pytest.mark.parametrize("n_live", [50, 100, 500, 5_000])
def test_large_windows_raise_no_false_alarms(n_live: int) -> None:
    results = check_many(normal(), normal(), 2000, n_live, seed=n_live)
    assert share(results) <= 0.01
    assert share(results, Status.INSUFFICIENT) == 0


def categories(weights: list[float], missing: float = 0.0) -> Draw:
    labels = np.array([f"c{i}" for i in range(len(weights))], dtype=object)
    p = np.array(weights) / sum(weights)

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        values = rng.choice(labels, n, p=p)
        values[rng.random(n) < missing] = None
        return values

    return draw


SMALL_REFERENCES = [(50, 50), (30, 30), (20, 100), (2000, 50), (2000, 500)]


@pytest.mark.parametrize("metric", ["kl", "psi"])
@pytest.mark.parametrize(("n_ref", "n_live"), SMALL_REFERENCES)
def test_twenty_skewed_categories_with_missing_values_raise_no_false_alarms(
    metric: str, n_ref: int, n_live: int
) -> None:
    # Skewed categories, including rare ones, and 10% missing: 22 buckets. A
    # small reference leaves rare categories unseen, and their live rows land
    # in `other`, which the reference's rows never can.
    draw = categories([2.0**-i for i in range(20)], missing=0.1)
    results = check_many(draw, draw, n_ref, n_live, seed=100 + n_live, features=1000, metric=metric)
    assert share(results) <= 0.01


@pytest.mark.parametrize("metric", ["kl", "psi"])
@pytest.mark.parametrize(("n_ref", "n_live"), SMALL_REFERENCES[:3])
def test_many_categories_against_a_small_reference_raise_no_false_alarms(
    metric: str, n_ref: int, n_live: int
) -> None:
    # 60 categories: 10 common ones hold 80% of the rows, 50 rare ones 20%.
    # A reference of 20-50 rows misses most rare ones and some common ones;
    # `other` as one fixed bucket of the permutation test is not the test's null.
    # At 50 rows the reference sees more categories than it keeps, so `other`
    # holds reference rows too and stays in the test (left out, a fixed tail
    # would favour drift): the unseen categories among its live rows then cost a
    # little above 1%, a known limit (docs/statistics.md).
    draw = categories([0.08] * 10 + [0.004] * 50)
    results = check_many(draw, draw, n_ref, n_live, seed=200 + n_live, features=1000, metric=metric)
    assert share(results) <= (0.015 if n_ref == 50 else 0.01)


@pytest.mark.parametrize("metric", ["kl", "psi"])
@pytest.mark.parametrize("n_live", [50, 100])
def test_fresh_numbers_against_a_twenty_row_reference_raise_no_false_alarms(
    metric: str, n_live: int
) -> None:
    # Twenty distinct values are not twenty categories: bucketed by value,
    # every live value landed in `other` and every feature drifted.
    results = check_many(normal(), normal(), 20, n_live, seed=n_live, features=1000, metric=metric)
    assert share(results) <= 0.01


@pytest.mark.parametrize("n_live", [50, 500])
def test_a_new_category_is_caught(n_live: int) -> None:
    """A category the 2,000-row reference never saw, in 20% of the live rows."""
    draw = categories([2.0**-i for i in range(20)], missing=0.1)

    def with_new(rng: np.random.Generator, n: int) -> np.ndarray:
        values = draw(rng, n)
        values[rng.random(n) < 0.2] = "new"
        return values

    assert share(check_many(draw, with_new, 2000, n_live, seed=n_live)) >= 0.99


def test_the_default_flags_a_half_sd_shift_at_large_n() -> None:
    """KL 0.1 is about a 0.45 sd mean shift over 20 quantile bins (docs/statistics.md)."""
    assert share(check_many(normal(), normal(0.3), 20_000, 20_000, seed=3)) <= 0.01
    assert share(check_many(normal(), normal(0.6), 20_000, 20_000, seed=6)) >= 0.99


def test_moderate_shifts_at_the_usual_sizes() -> None:
    assert share(check_many(normal(), normal(1.0), 2000, 200, seed=10)) >= 0.95
    assert share(check_many(normal(), normal(0.75), 2000, 1000, seed=75)) >= 0.99


def test_a_missing_rate_jump_is_drift() -> None:
    def with_missing(rate: float) -> Draw:
        def draw(rng: np.random.Generator, n: int) -> np.ndarray:
            values = rng.normal(0, 1, n)
            values[rng.random(n) < rate] = np.nan
            return values

        return draw

    results = check_many(with_missing(0.01), with_missing(0.2), 2000, 500, seed=4)
    assert share(results) >= 0.99


# Issue 19's detection targets: (change, reference rows, live rows, target). Each cell
# checks 200 features: the standard error of a rate near 90% is 2.1 points, so a cell
# asserts its target less 2.5 of them (benchmarks/calibration.py measures 1,000 a cell).
DETECTION = [
    ("mean +1 sd", normal(1.0), 50, 50, 0.90),
    ("mean +0.75 sd", normal(0.75), 2000, 50, 0.90),
    ("mean +0.5 sd", normal(0.5), 200, 200, 0.90),
    ("sd doubled", normal(0.0, 2.0), 100, 100, 0.85),
    ("15% of rows moved to +4 sd", far_tail(), 200, 200, 0.75),
    ("one mode split into two", split_mode(), 100, 100, 0.95),
]
DETECTION_FEATURES = 200


def slack(rate: float, trials: int = DETECTION_FEATURES) -> float:
    return 2.5 * math.sqrt(rate * (1 - rate) / trials)


@pytest.mark.parametrize("metric", [m for m in METRICS if m != "ks"])
def test_the_default_evidence_catches_what_the_best_two_sample_tests_catch(metric: str) -> None:
    """Numbers are tested by G, Anderson-Darling and the smooth statistic together: a
    shift, a wider spread, a far tail and a split mode are each caught at the sizes of
    live monitoring (G alone caught 34-73% of the first five)."""
    for i, (change, draw, n_ref, n_live, target) in enumerate(DETECTION):
        results = check_many(normal(), draw, n_ref, n_live, seed=40 + i, metric=metric,
                             features=DETECTION_FEATURES)  # fmt: skip
        assert share(results) >= target - slack(target), change


def test_the_ks_metric_keeps_the_power_of_its_own_test() -> None:
    """`--metric ks` is judged by the two-sample KS test (p_value_method `ks`): as strong
    as the others on a shift, blind to what KS cannot see (a wider spread at 100 / 100,
    31% for scipy's ks_2samp at p < 0.005; docs/statistics.md)."""
    for i, (change, draw, n_ref, n_live, _) in enumerate(DETECTION[:3]):
        results = check_many(normal(), draw, n_ref, n_live, seed=40 + i, metric="ks",
                             features=DETECTION_FEATURES)  # fmt: skip
        assert share(results) >= 0.85, change
        assert {r.p_method for r in results} == {"ks"}


@pytest.mark.parametrize("metric", list(METRICS))
def test_noise_reads_ok_at_the_sizes_of_live_monitoring(metric: str) -> None:
    """Under no change: ok for at least 90% of features at 50 / 50 and 2,000 / 50, 95% at
    200 / 200 and above; drift for at most 1% (0.5% expected) at every size."""
    for i, (n_ref, n_live, ok) in enumerate(
        [(50, 50, 0.90), (2000, 50, 0.90), (200, 200, 0.95), (2000, 500, 0.95)]
    ):
        results = check_many(normal(), normal(), n_ref, n_live, seed=60 + i, metric=metric)
        assert share(results, Status.OK) >= ok, (n_ref, n_live)
        assert share(results) <= 0.01, (n_ref, n_live)


def test_small_windows_with_noise_read_ok() -> None:
    """Under no change a 50 / 50 window reads `ok`: about 0.19 of its 20-bucket KL is noise
    (above the threshold, 0.1), and materiality is judged on the score less that noise."""
    results = check_many(normal(), normal(), 50, 50, seed=5)
    assert share(results, Status.OK) >= 0.95
    assert share(results) <= 0.01
    uncertain = [r for r in results if r.status is Status.UNCERTAIN]
    assert all(r.reason and "could be chance" in r.reason for r in uncertain)


def test_one_live_row_against_a_small_reference_is_insufficient() -> None:
    # C(51, 1) = 51 ways: no single row could give p < 0.005 against 50 rows.
    results = check_many(normal(), normal(3.0), 50, 1, seed=1)
    assert share(results, Status.INSUFFICIENT) == 1.0
    assert all(r.min_rows == 2 for r in results)


def test_p_values_are_valid_and_near_their_level_under_no_drift() -> None:
    """The combined test's p is min(p_i / w_i) over three valid p-values: valid at every
    level, and conservative mostly far above the levels that matter (docs/statistics.md)."""
    results = check_many(normal(), normal(), 2000, 1000, seed=99, features=1000)
    p_values = np.array([r.p_value for r in results])
    for level in (0.005, 0.05, 0.5):
        assert np.mean(p_values < level) <= level + 2 * np.sqrt(level / len(p_values))
    assert np.mean(p_values < 0.05) >= 0.025


UNIFORMITY_FEATURES = 1000
LEVELS = (0.005, 0.01, 0.05, 0.1)


def too_small(p: np.ndarray) -> float:
    """D+ = max(F(a) - a): how much more often than a uniform p-value it falls below a
    level, at the worst level (the side on which a p-value is not valid)."""
    ranked = np.sort(p)
    return float(np.max(np.arange(1, p.size + 1) / p.size - ranked))


def assert_valid(p: np.ndarray, what: str) -> None:
    """P(p < a) <= a within Monte Carlo error at every level: D+ below its 1% critical
    value for uniform p-values, sqrt(ln(100) / 2n), and each usual level within 3 of its
    standard errors."""
    assert too_small(p) <= math.sqrt(math.log(100) / (2 * p.size)), what
    for a in LEVELS:
        assert np.mean(p < a) <= a + 3 * math.sqrt(a * (1 - a) / p.size), (what, a)


def part(results: list[FeatureResult], test: str) -> np.ndarray:
    return np.array([next(x.p_value for x in r.p_parts if x.test == test) for r in results])


@pytest.mark.parametrize(
    ("n_ref", "n_live", "method"), [(2000, 50, "monte-carlo"), (200, 200, "chi-square")]
)
def test_the_combined_p_value_is_valid_under_no_change(
    n_ref: int, n_live: int, method: str
) -> None:
    """min(p_G / 0.2, p_AD / 0.3, p_smooth / 0.5) over valid p-values is valid: never
    below a level more often than a uniform p-value, within the Monte Carlo error of
    1,000 features, by Monte Carlo on shared draws (2,000 / 50) and asymptotically
    (200 / 200). It is conservative by construction (Bonferroni), so far from uniform
    on the other side; each part is the uniform one (docs/statistics.md)."""
    results = check_many(normal(), normal(), n_ref, n_live, seed=900 + n_live,
                         features=UNIFORMITY_FEATURES, threshold=0.0)  # fmt: skip
    assert {r.p_test for r in results} == {"g+anderson-darling+smooth"}
    p = np.array([r.p_value for r in results])
    assert_valid(p, "combined")
    assert np.mean(p < 0.1) >= 0.03  # conservative, not blind
    methods = {x.method for r in results for x in r.p_parts}
    assert method in methods
    if n_live == 200:  # the parts on their own: each valid too (2,000 / 50: see the docs)
        for test in ("g", "anderson-darling", "smooth"):
            assert_valid(part(results, test), test)
            assert abs(np.mean(part(results, test) < 0.1) - 0.1) <= 0.03, test


def test_the_g_test_of_categories_is_uniform_under_no_change() -> None:
    draw = categories([1.0] * 20)
    results = check_many(draw, draw, 2000, 50, seed=7, features=UNIFORMITY_FEATURES,
                         threshold=0.0)  # fmt: skip
    assert {r.p_test for r in results} == {"g"} and {r.p_method for r in results} == {"monte-carlo"}
    p = np.array([r.p_value for r in results])
    assert_valid(p, "g")
    assert abs(np.mean(p < 0.1) - 0.1) <= 0.03


def test_alpha_with_holm_keeps_the_family_wise_rate_near_one_percent() -> None:
    rng = np.random.default_rng(11)
    features, trials = 50, 150
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


def test_the_defaults_flag_exactly_the_planted_shifts_of_the_benchmark_data() -> None:
    """Five moderate shifts of five kinds (benchmarks/generate.py), 100k rows a side."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    reference = build_profile(generate.tables(100_000, "ref"))
    live = count_batches(reference.features, generate.tables(100_000, "live"))
    results = compare(reference, live, Settings())
    assert sorted(r.name for r in results if r.drift) == sorted(generate.PLANTED)
    scores = {r.name: r.score for r in results}
    assert all(0.1 < scores[name] < 0.3 for name in generate.PLANTED)  # moderate, every one


def shifted_pair(tmp_path: Path, shift: float, n: int = 20_000) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    pq.write_table(pa.table({"x": rng.normal(0, 1, n)}), tmp_path / "ref.parquet")
    pq.write_table(pa.table({"x": rng.normal(shift, 1, n)}), tmp_path / "live.parquet")
    return str(tmp_path / "live.parquet"), str(tmp_path / "ref.parquet")


@pytest.mark.parametrize("metric", ["kl", "ks"])
def test_a_p_value_of_exactly_zero_is_significant(tmp_path: Path, metric: str) -> None:
    live, ref = shifted_pair(tmp_path, 3.0)
    [x] = check(live, ref, Settings(metric=metric, alpha=0.01)).features
    assert x.p_value == 0.0 and x.p_adjusted == 0.0 and x.status.value == "drift"
    [gate] = check(live, ref, Settings(threshold=0.0, alpha=0.01)).features
    assert gate.status.value == "drift"


def test_draws_the_first_round_left_go_to_the_features_it_could_not_resolve() -> None:
    """400 categorical features, one squeezed into 8 of its 20 categories, with Holm at
    --alpha 0.05: its level, 1.25e-4, asks for more draws than an equal share of the
    check's budget gives; the unchanged ones stop early, and what they left settles it."""
    rng = np.random.default_rng(3)
    labels = np.array([f"k{i}" for i in range(20)])
    names = [f"f{i}" for i in range(400)]
    ref = {n: rng.choice(labels, 400) for n in names}
    live = {n: rng.choice(labels[:8] if n == "f0" else labels, 60) for n in names}
    profile = build_profile([pa.record_batch(ref)])
    counts = count_batches(profile.features, [pa.record_batch(live)])
    results = compare(profile, counts, Settings(alpha=0.05))
    f0 = next(r for r in results if r.name == "f0")
    assert f0.status is Status.DRIFT, f0.reason
    assert sum(r.status is Status.DRIFT for r in results) == 1


def test_a_tiny_numeric_reference_keeps_two_buckets() -> None:
    """Three rows of a flag, [0, 1, 1]: too few rows per value for a bucket each, yet
    one bucket for everything could never show a change."""
    profile = build_profile([pa.record_batch({"flag": np.array([0.0, 1.0, 1.0])})])
    assert profile.features[0].n_value_buckets >= 2
