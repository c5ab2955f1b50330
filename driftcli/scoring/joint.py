"""Joint drift: a classifier two-sample test on bounded samples of reference and live rows.

A classifier (scoring/joint_models.py) learns to tell reference rows from live
rows on one half of each sample; its scores on the other half are then ranked. For a classifier
trained apart from the held-out rows, the held-out AUC is the Mann-Whitney U
of the two sides' scores over n_ref x n_live: under no change the two sides'
scores are exchangeable, so the U test's null distribution holds exactly,
whatever the classifier learned. A relation between features that changed
while every marginal stayed (a correlation that flipped) is caught, and
permuting one feature at a time on the held-out half says which features
carry it. The AUC's bounds (DeLong's standard error) give the features' rule:
drift when evident and the AUC may be material, `ok` and small when evident but
not material, uncertain when material but not evident.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftcli.choices import JointMethod, Kind
from driftcli.columns.values import read_numbers, read_texts
from driftcli.counting.buckets import Feature
from driftcli.results import JointContributor, JointResult, Status
from driftcli.scoring import joint_models
from driftcli.scoring.joint_models import Model

JOINT_SAMPLE_ROWS = 10_000
"""Rows a side at most: the reference's stored sample holds this many."""
DEFAULT_THRESHOLDS = {JointMethod.QDA: 0.62, JointMethod.BOOSTING: 0.59}
"""Held-out AUC material from here: what each classifier reaches on a 0.45 sd mean shift
of one normal feature beside an unchanged one at 5,000 rows a side, the features'
materiality (docs/statistics.md, benchmarks/joint.py). The discriminant reaches nearly
the best possible AUC on a shift, Φ(0.45 / √2) = 0.625; the trees get less."""
METHODS = {
    JointMethod.QDA: "classifier (quadratic discriminant on normal scores), held-out AUC, "
    "Mann-Whitney U",
    JointMethod.BOOSTING: "classifier (gradient boosting), held-out AUC, Mann-Whitney U",
}
Z = 1.2816
"""Standard errors either side of the AUC for its bounds: one-sided 90% bounds, as the
features' change has (scoring/change.py)."""
MIN_ROWS = 20
"""Fewer held-out rows a side than this give no verdict."""
CONTRIBUTORS = 5
IMPORTANCE_ROWS = 1_000
"""Held-out rows a side the importances are measured on: a feature that carries the drift
loses the AUC by tenths, where 1,000 rows a side measure it within about 0.02."""
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Encoded:
    """Rows as a matrix; `groups[name]` are the matrix columns that hold feature `name`."""

    matrix: FloatArray
    groups: dict[str, list[int]]
    categorical: list[bool]


def encode(table: pa.Table, features: Sequence[Feature]) -> Encoded:
    """Numeric features as their values (NaN when missing or invalid) and a missing
    indicator; categorical ones as the index of the reference's category (`other` next,
    missing last), so both sides are encoded by the reference's buckets."""
    columns: list[FloatArray] = []
    groups: dict[str, list[int]] = {}
    categorical: list[bool] = []
    names = set(table.column_names)
    for feature in features:
        column = table.column(feature.name) if feature.name in names else None
        start = len(columns)
        if feature.kind is Kind.NUMERIC:
            if column is None:
                values = np.full(table.num_rows, np.nan)
                absent = np.ones(table.num_rows, dtype=bool)
            else:
                numbers = read_numbers(column)
                values = np.where(numbers.invalid, np.nan, numbers.values)
                absent = numbers.missing | numbers.invalid
            columns += [values.astype(np.float64), absent.astype(np.float64)]
            categorical += [False, False]
        else:
            columns.append(_category_codes(feature, column, table.num_rows))
            categorical.append(True)
        groups[feature.name] = list(range(start, len(columns)))
    matrix = np.column_stack(columns) if columns else np.empty((table.num_rows, 0))
    return Encoded(matrix, groups, categorical)


def _category_codes(feature: Feature, column: pa.ChunkedArray | None, rows: int) -> FloatArray:
    categories = feature.categories or ()
    missing_code = float(len(categories) + 1)
    if column is None:
        return np.full(rows, missing_code)
    texts = read_texts(column)
    found = pc.index_in(texts.values, value_set=pa.array(categories, pa.string()))
    codes = np.asarray(pc.fill_null(found, len(categories)).to_numpy(zero_copy_only=False))
    codes = codes.astype(np.float64)
    codes[texts.missing | texts.invalid] = missing_code
    return codes


SEED = 20261204


def joint_test(
    reference: pa.Table,
    live: pa.Table,
    features: Sequence[Feature],
    threshold: float | None = None,
    evidence: float = 0.005,
    method: JointMethod = JointMethod.QDA,
) -> JointResult:
    """The joint test of these samples over `features` (see the module's docstring);
    `threshold`: the method's default when None."""
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[method]
    ref, cur = encode(reference, features), encode(live, features)
    rng = np.random.default_rng(SEED)
    ref_train, ref_test = _halves(rng, ref.matrix.shape[0])
    cur_train, cur_test = _halves(rng, cur.matrix.shape[0])
    n_ref, n_live = len(ref_test), len(cur_test)
    if min(n_ref, n_live) < MIN_ROWS or not features:
        return JointResult(
            None, threshold, None, Status.INSUFFICIENT, METHODS[method], (), n_ref, n_live
        )
    x_train = np.vstack([ref.matrix[ref_train], cur.matrix[cur_train]])
    is_live = np.r_[np.zeros(len(ref_train), dtype=bool), np.ones(len(cur_train), dtype=bool)]
    model = joint_models.fit(method, x_train, is_live, ref.categorical)
    scores = model.score(model.inputs(np.vstack([ref.matrix[ref_test], cur.matrix[cur_test]])))
    found = auc_test(scores[:n_ref], scores[n_ref:])
    status, reason, small = verdict(found, threshold, evidence, n_ref, n_live)
    contributors: tuple[JointContributor, ...] = ()
    # When nothing material moved together there are no names to report.
    if status in (Status.DRIFT, Status.UNCERTAIN):
        ref_few = rng.permutation(ref_test)[:IMPORTANCE_ROWS]
        x_few = np.vstack(
            [ref.matrix[ref_few], cur.matrix[rng.permutation(cur_test)[:IMPORTANCE_ROWS]]]
        )
        contributors = _contributors(model, x_few, len(ref_few), ref.groups, rng)
    return JointResult(
        round(found.auc, 6),
        threshold,
        found.p_value,
        status,
        METHODS[method],
        contributors,
        n_ref,
        n_live,
        score_lower=round(found.lower, 6),
        score_upper=round(found.upper, 6),
        reason=reason,
        small=small,
    )


def _halves(rng: np.random.Generator, n: int) -> tuple[npt.NDArray[np.int64], ...]:
    order = rng.permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2 :])


@dataclass(frozen=True)
class AucTest:
    """The held-out AUC, its one-sided p-value, and its bounds."""

    auc: float
    p_value: float
    lower: float
    upper: float


def verdict(
    found: AucTest, threshold: float, evidence: float, n_ref: int, n_live: int
) -> tuple[Status, str | None, bool]:
    """The features' rule on the AUC: drift when evident (p below the evidence level) and
    its upper bound is above the threshold; `ok` and small when evident but even the
    upper bound is below; uncertain when the lower bound is above but not evident."""
    p = _p_text(found.p_value)
    rows = f"{n_ref:,} reference and {n_live:,} live rows held out"
    evident = found.p_value < evidence
    if evident and found.upper > threshold:
        if found.auc >= threshold:
            return Status.DRIFT, None, False
        return (
            Status.DRIFT,
            f"the joint change is evident ({p}); its AUC, {found.auc:.3f}, is below "
            f"{threshold:g}, but at {rows} it could be up to {found.upper:.3f}",
            False,
        )
    if evident:
        return (
            Status.OK,
            f"small: the joint change is evident ({p}), but its AUC is {found.auc:.3f}, at "
            f"most {found.upper:.3f}: below the threshold {threshold:g}",
            True,
        )
    if found.lower > threshold:
        return (
            Status.UNCERTAIN,
            f"the AUC, {found.auc:.3f} (at least {found.lower:.3f}), is above {threshold:g}, "
            f"but {p} at {rows} could be chance (a drift needs p < {evidence:g})",
            False,
        )
    return Status.OK, None, False


def _p_text(p: float) -> str:
    return "p < 1e-16" if p < 1e-16 else f"p = {p:.2g}"


def auc_test(ref_scores: FloatArray, live_scores: FloatArray) -> AucTest:
    """The AUC of live over reference scores, its one-sided p-value (live higher), and
    its one-sided 90% bounds.

    The p-value: the U statistic's normal approximation under the null (exchangeable
    scores) with the tie correction and a continuity correction; at the held-out sizes
    used (tens of rows a side at least) its error is far below the evidence levels.
    The bounds: DeLong's standard error, from each row's placement (the share of the
    other side's rows it outscores). It assumes nothing of the scores' distributions,
    where Hanley and McNeil's assumes exponential ones, which no classifier's scores
    follow; at these sizes it costs three rankings.
    """
    n1, n2 = len(ref_scores), len(live_scores)
    both = np.concatenate([ref_scores, live_scores])
    ranks, ties = _ranks(both)
    u = float(ranks[n1:].sum()) - n2 * (n2 + 1) / 2
    auc = u / (n1 * n2)
    n = n1 + n2
    tie_term = float(((ties**3) - ties).sum()) / (n * (n - 1))
    variance = n1 * n2 / 12 * ((n + 1) - tie_term)
    if variance <= 0:
        return AucTest(auc, 1.0, auc, auc)
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    p_value = 0.5 * math.erfc(z / math.sqrt(2))
    # A live row's placement: the share of reference rows below it (ties count half).
    live_placement = (ranks[n1:] - _ranks(live_scores)[0]) / n1
    ref_placement = 1 - (ranks[:n1] - _ranks(ref_scores)[0]) / n2
    se = math.sqrt(
        float(np.var(live_placement, ddof=1)) / n2 + float(np.var(ref_placement, ddof=1)) / n1
    )
    return AucTest(auc, p_value, max(auc - Z * se, 0.0), min(auc + Z * se, 1.0))


def _ranks(values: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Mid-ranks (1-based, ties averaged) and the sizes of the tied groups."""
    _, where, counts = np.unique(values, return_inverse=True, return_counts=True)
    before = np.cumsum(counts) - counts
    mid = before + (counts + 1) / 2
    return np.asarray(mid[where.reshape(-1)], dtype=np.float64), counts


def _contributors(
    model: Model,
    x_test: FloatArray,
    n_ref: int,
    groups: dict[str, list[int]],
    rng: np.random.Generator,
) -> tuple[JointContributor, ...]:
    """Permutation importance on (part of) the held-out half: the AUC lost when one
    feature's columns are shuffled across the held-out rows (both sides together)."""
    inputs = model.inputs(x_test)
    scores = model.score(inputs)
    auc = auc_test(scores[:n_ref], scores[n_ref:]).auc
    shuffled = model.shuffled(inputs)
    found = []
    for name, group in groups.items():
        scores = shuffled(model.columns(group), rng.permutation(len(inputs)))
        lost = auc - auc_test(scores[:n_ref], scores[n_ref:]).auc
        found.append(JointContributor(name, round(lost, 4)))
    found.sort(key=lambda c: -c.importance)
    return tuple(c for c in found[:CONTRIBUTORS] if c.importance > 0)
