"""The joint test's statistics: the AUC's bounds cover, its p-value is uniform under no
change, and the features' rule (material and evident) decides its status; the numpy
discriminant reads categorical and missing values as the trees do."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from driftcli.choices import Kind
from driftcli.columns.values import TypeClass
from driftcli.counting.buckets import Cuts, Feature, categorical_buckets, numeric_feature
from driftcli.results import Status
from driftcli.scoring.joint import AucTest, Z, auc_test, joint_test, verdict

CUTS = Cuts(edges=np.array([0.0]), values=None)


def numeric(*names: str) -> list[Feature]:
    return [numeric_feature(n, TypeClass.NUMBER, CUTS) for n in names]


def correlated(rows: int, rho: float, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(rows)
    return pa.table({"x": x, "y": rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(rows)})


def test_the_auc_and_its_standard_error_are_the_pairwise_ones_with_ties() -> None:
    rng = np.random.default_rng(5)
    ref, live = rng.integers(0, 6, 300).astype(float), rng.integers(1, 7, 200).astype(float)
    pairs = (live[None, :] > ref[:, None]) + 0.5 * (live[None, :] == ref[:, None])
    found = auc_test(ref, live)
    assert found.auc == pytest.approx(pairs.mean())
    # DeLong: the variance of each side's placements over its count.
    live_placement, ref_placement = pairs.mean(axis=0), pairs.mean(axis=1)
    se = np.sqrt(live_placement.var(ddof=1) / 200 + ref_placement.var(ddof=1) / 300)
    assert found.upper == pytest.approx(found.auc + Z * se)
    assert found.lower == pytest.approx(found.auc - Z * se)


@pytest.mark.parametrize("shift", [0.0, 0.5, 1.5])
def test_each_bound_covers_the_true_auc_nine_times_in_ten(shift: float) -> None:
    # Scores N(0, 1) and N(shift, 1): the true AUC is Φ(shift / √2).
    from statistics import NormalDist

    true = NormalDist().cdf(shift / np.sqrt(2))
    rng = np.random.default_rng(17)
    tries = 1000
    below = above = 0
    for _ in range(tries):
        found = auc_test(rng.standard_normal(400), rng.standard_normal(300) + shift)
        below += found.upper < true
        above += found.lower > true
    # One-sided 90% bounds: each misses 10% of tries; over 1,000 the sd is 0.95 points.
    assert 0.07 <= below / tries <= 0.13
    assert 0.07 <= above / tries <= 0.13


def test_the_p_value_is_uniform_under_no_change() -> None:
    rng = np.random.default_rng(3)
    p = np.array([auc_test(rng.random(200), rng.random(150)).p_value for _ in range(2000)])
    for level in (0.01, 0.05, 0.1, 0.5):
        assert abs(np.mean(p < level) - level) < 3 * np.sqrt(level * (1 - level) / 2000) + 0.005


def test_the_rule_is_the_features_rule() -> None:
    def judge(auc: float, p: float, lower: float, upper: float) -> tuple[Status, str | None, bool]:
        return verdict(AucTest(auc, p, lower, upper), 0.62, 0.005, 2500, 2500)

    assert judge(0.9, 1e-20, 0.89, 0.91) == (Status.DRIFT, None, False)
    status, reason, small = judge(0.61, 1e-6, 0.60, 0.625)
    assert status is Status.DRIFT and not small
    assert reason == (
        "the joint change is evident (p = 1e-06); its AUC, 0.610, is below 0.62, but at "
        "2,500 reference and 2,500 live rows held out it could be up to 0.625"
    )
    status, reason, small = judge(0.55, 1e-20, 0.54, 0.56)
    assert status is Status.OK and small
    assert reason == (
        "small: the joint change is evident (p < 1e-16), but its AUC is 0.550, at most "
        "0.560: below the threshold 0.62"
    )
    status, reason, small = judge(0.7, 0.01, 0.65, 0.75)
    assert status is Status.UNCERTAIN and not small
    assert reason == (
        "the AUC, 0.700 (at least 0.650), is above 0.62, but p = 0.01 at 2,500 reference and "
        "2,500 live rows held out could be chance (a drift needs p < 0.005)"
    )
    assert judge(0.6, 0.01, 0.55, 0.65) == (Status.OK, None, False)


def test_the_flip_is_drift_and_no_change_is_ok_by_the_rule() -> None:
    flip = joint_test(correlated(5000, 0.8, 1), correlated(5000, -0.8, 2), numeric("x", "y"))
    assert flip.status is Status.DRIFT and flip.reason is None
    assert flip.score_lower is not None and flip.score_lower > 0.85
    assert {c.feature for c in flip.contributors} == {"x", "y"}
    same = joint_test(correlated(5000, 0.8, 1), correlated(5000, 0.8, 3), numeric("x", "y"))
    assert same.status is Status.OK and not same.contributors
    assert same.score_upper is not None and same.score_upper < 0.62


def mixed(rows: int, seed: int, moved: bool) -> pa.Table:
    """A plan, an income whose mean follows the plan (when `moved`, only), and an age
    that goes missing when income is high (when `moved`) or at random: every feature's
    own distribution is nearly the same either way."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(np.array(["free", "pro", "team"]), rows)
    effect = np.select([plan == "free", plan == "pro"], [-0.8, 0.8], 0.0)
    income = rng.standard_normal(rows) + (effect if moved else rng.permutation(effect))
    age = rng.normal(40, 10, rows)
    gone = income > np.quantile(income, 0.8) if moved else rng.random(rows) < 0.2
    return pa.table({"plan": plan, "income": income, "age": pa.array(np.where(gone, np.nan, age))})


def mixed_features() -> list[Feature]:
    plan, _ = categorical_buckets("plan", {"free": 3, "pro": 2, "team": 1}, 20)
    assert plan.kind is Kind.CATEGORICAL
    return [plan, *numeric("income", "age")]


def test_categorical_and_missing_values_enter_the_discriminant() -> None:
    ref, live = mixed(5000, 1, moved=False), mixed(5000, 2, moved=True)
    result = joint_test(ref, live, mixed_features())
    assert result.status is Status.DRIFT
    assert {c.feature for c in result.contributors} == {"plan", "income", "age"}


def test_no_false_alarms_under_no_change_with_categories_and_missing_values() -> None:
    tries = 200
    results = [
        joint_test(mixed(500, 2 * i, False), mixed(500, 2 * i + 1, False), mixed_features())
        for i in range(tries)
    ]
    p = np.array([r.p_value for r in results], dtype=float)
    assert sum(r.drift for r in results) <= 2  # at most 1%
    assert 0.05 <= np.mean(p < 0.1) <= 0.15
    assert 0.4 <= np.mean(p < 0.5) <= 0.6


def test_the_discriminants_shuffled_scores_are_those_of_the_shuffled_rows() -> None:
    from driftcli.scoring.joint import encode
    from driftcli.scoring.joint_models import Quadratic

    ref, live = mixed(2000, 1, moved=False), mixed(2000, 2, moved=True)
    encoded = [encode(t, mixed_features()) for t in (ref, live)]
    x = np.vstack([e.matrix for e in encoded])
    model = Quadratic(x, np.r_[np.zeros(2000, bool), np.ones(2000, bool)], encoded[0].categorical)
    inputs = model.inputs(x)
    order = np.random.default_rng(2).permutation(len(inputs))
    for group in encoded[0].groups.values():
        index = model.columns(group)
        rows = inputs.copy()
        rows[:, index] = inputs[order][:, index]
        assert np.allclose(model.shuffled(inputs)(index, order), model.score(rows))
