"""Joint drift: a classifier two-sample test on bounded samples of reference and live rows.

A classifier learns to tell reference rows from live rows on one half of each
sample; its scores on the other half are then ranked. For a classifier
trained apart from the held-out rows, the held-out AUC is the Mann-Whitney U
of the two sides' scores over n_ref x n_live: under no change the two sides'
scores are exchangeable, so the U test's null distribution holds exactly,
whatever the classifier learned. A relation between features that changed
while every marginal stayed (a correlation that flipped) is caught, and
permuting one feature at a time on the held-out half says which features
carry it.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftcli.choices import Kind
from driftcli.columns.values import read_numbers, read_texts
from driftcli.counting.buckets import Feature
from driftcli.errors import UsageError
from driftcli.results import JointContributor, JointResult, Status

JOINT_SAMPLE_ROWS = 10_000
"""Rows a side at most: the reference's stored sample holds this many."""
DEFAULT_JOINT_THRESHOLD = 0.59
"""Held-out AUC material from here: what this classifier reaches on a 0.45 sd mean shift
of one normal feature at 5,000 rows a side (docs/statistics.md, benchmarks/joint.py)."""
METHOD = "classifier (gradient boosting), held-out AUC, Mann-Whitney U"
MIN_ROWS = 20
"""Fewer held-out rows a side than this give no verdict."""
CONTRIBUTORS = 5
IMPORTANCE_ROWS = 1_000
"""Held-out rows a side the importances are measured on: a feature that carries the drift
loses the AUC by tenths, where 1,000 rows a side measure it within about 0.02."""
SEED = 20261204
TREES = 50
LEARNING_RATE = 0.2
"""50 trees at a step of 0.2 reach the held-out AUC of 100 at 0.1 within 0.005 on the
benchmark's cases, at half the fitting and scoring; 30 at 0.3 lose up to 0.025 on a weak
relation change (benchmarks/joint.py, part `classifier`)."""
FloatArray = npt.NDArray[np.float64]

INSTALL_HINT = "install it with: pip install 'driftcli[joint]'"


def require_sklearn() -> None:
    """`UsageError` when scikit-learn, the optional extra, is not installed (found, not
    imported: importing it costs a second, spent only once the rows are read)."""
    try:
        found = importlib.util.find_spec("sklearn") is not None
    except (ImportError, ValueError):  # a broken parent, or a module set to None
        found = False
    if not found:
        raise UsageError("--joint needs scikit-learn, which is not installed", hint=INSTALL_HINT)


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


def joint_test(
    reference: pa.Table,
    live: pa.Table,
    features: Sequence[Feature],
    threshold: float = DEFAULT_JOINT_THRESHOLD,
    evidence: float = 0.005,
) -> JointResult:
    """The joint test of these samples over `features` (see the module's docstring)."""
    ref, cur = encode(reference, features), encode(live, features)
    rng = np.random.default_rng(SEED)
    ref_train, ref_test = _halves(rng, ref.matrix.shape[0])
    cur_train, cur_test = _halves(rng, cur.matrix.shape[0])
    names = [f.name for f in features]
    if min(len(ref_test), len(cur_test)) < MIN_ROWS or not names:
        return JointResult(
            None, threshold, None, Status.INSUFFICIENT, METHOD, (), len(ref_test), len(cur_test)
        )
    # Imported before the limit is set: the limit reaches only the OpenMP runtimes loaded
    # by then, and scikit-learn's compiled modules are what load it.
    try:
        import sklearn.ensemble  # noqa: F401
    except ImportError as error:
        raise UsageError(
            f"--joint needs scikit-learn, which does not import ({error})", hint=INSTALL_HINT
        ) from None
    from threadpoolctl import threadpool_limits

    # One thread: the sample is bounded, so a second buys little, and OpenMP threads
    # spinning on a busy machine (CI runners, shared hosts) cost many times the work.
    with threadpool_limits(limits=1, user_api="openmp"):
        x_train = np.vstack([ref.matrix[ref_train], cur.matrix[cur_train]])
        y_train = np.r_[np.zeros(len(ref_train)), np.ones(len(cur_train))]
        model = _fit(x_train, y_train, ref.categorical)
        x_test = np.vstack([ref.matrix[ref_test], cur.matrix[cur_test]])
        n_ref = len(ref_test)
        scores = model.predict_proba(x_test)[:, 1]
        auc, p_value = mann_whitney(scores[:n_ref], scores[n_ref:])
        auc = round(float(auc), 6)
        status = verdict(auc, p_value, threshold, evidence)
        contributors: tuple[JointContributor, ...] = ()
        # Below the threshold nothing moved together that matters: no names to report.
        if status is not Status.OK:
            ref_few = rng.permutation(ref_test)[:IMPORTANCE_ROWS]
            x_few = np.vstack(
                [ref.matrix[ref_few], cur.matrix[rng.permutation(cur_test)[:IMPORTANCE_ROWS]]]
            )
            contributors = _contributors(model, x_few, len(ref_few), ref.groups, rng)
    return JointResult(auc, threshold, p_value, status, METHOD, contributors, n_ref, len(cur_test))


def _halves(rng: np.random.Generator, n: int) -> tuple[npt.NDArray[np.int64], ...]:
    order = rng.permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2 :])


def _fit(x: FloatArray, y: FloatArray, categorical: list[bool]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=TREES,
        learning_rate=LEARNING_RATE,
        categorical_features=np.array(categorical) if any(categorical) else None,
        early_stopping=False,
        random_state=SEED,
    )
    model.fit(x, y)
    return model


def verdict(auc: float, p_value: float, threshold: float, evidence: float) -> Status:
    """The features' rule: drift when material (AUC at or above the threshold) and
    evident (p below the evidence level); material alone is uncertain."""
    if auc >= threshold:
        return Status.DRIFT if p_value < evidence else Status.UNCERTAIN
    return Status.OK


def mann_whitney(ref_scores: FloatArray, live_scores: FloatArray) -> tuple[float, float]:
    """The AUC of live over reference scores and its one-sided p-value (live higher).

    The U statistic's normal approximation with the tie correction and a
    continuity correction; at the held-out sizes used (tens of rows a side at
    least) its error is far below the evidence levels.
    """
    n1, n2 = len(ref_scores), len(live_scores)
    both = np.concatenate([ref_scores, live_scores])
    from scipy.stats import rankdata

    ranks = rankdata(both)
    u = float(ranks[n1:].sum()) - n2 * (n2 + 1) / 2
    auc = u / (n1 * n2)
    _, tie_counts = np.unique(both, return_counts=True)
    n = n1 + n2
    tie_term = float(((tie_counts**3) - tie_counts).sum()) / (n * (n - 1))
    variance = n1 * n2 / 12 * ((n + 1) - tie_term)
    if variance <= 0:
        return auc, 1.0
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    return auc, 0.5 * math.erfc(z / math.sqrt(2))


def _contributors(
    model: Any,
    x_test: FloatArray,
    n_ref: int,
    groups: dict[str, list[int]],
    rng: np.random.Generator,
) -> tuple[JointContributor, ...]:
    """Permutation importance on (part of) the held-out half: the AUC lost when one
    feature's columns are shuffled across the held-out rows (both sides together)."""
    scores = model.predict_proba(x_test)[:, 1]
    auc = mann_whitney(scores[:n_ref], scores[n_ref:])[0]
    found = []
    for name, index in groups.items():
        shuffled = x_test.copy()
        order = rng.permutation(len(x_test))
        shuffled[:, index] = x_test[order][:, index]
        scores = model.predict_proba(shuffled)[:, 1]
        lost = auc - mann_whitney(scores[:n_ref], scores[n_ref:])[0]
        found.append(JointContributor(name, round(lost, 4)))
    found.sort(key=lambda c: -c.importance)
    return tuple(c for c in found[:CONTRIBUTORS] if c.importance > 0)
