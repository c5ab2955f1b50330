"""The joint test's classifiers: a quadratic discriminant in numpy (the default) and
scikit-learn's gradient boosting (`--joint-method boosting`, the `driftcli[joint]` extra).

Each is fitted on the training halves of the encoded samples (scoring/joint.py's
`Encoded`) and scores rows so that live rows score higher; the test only ranks the
scores, so any monotone score will do. A model reads rows as its own input columns
once (`inputs`), so the importances shuffle those, not the rows, and score again.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from statistics import NormalDist
from typing import Protocol

import numpy as np
import numpy.typing as npt

from driftcli.choices import JointMethod
from driftcli.errors import UsageError, option

FloatArray = npt.NDArray[np.float64]


class Model(Protocol):
    """A fitted classifier of reference (low scores) against live rows (high)."""

    def inputs(self, rows: FloatArray) -> FloatArray:
        """Rows of the encoded matrix as the model's input columns."""

    def columns(self, group: list[int]) -> list[int]:
        """The input columns that encoded columns `group` (one feature's) become."""

    def score(self, inputs: FloatArray) -> FloatArray:
        """Input rows -> their scores (higher: more like live)."""

    def shuffled(self, inputs: FloatArray) -> Shuffled:
        """Scores of `inputs` with some columns' rows reordered, for the importances."""


Shuffled = Callable[[list[int], npt.NDArray[np.int64]], FloatArray]
"""(input columns, an order of the rows) -> the scores with those columns reordered."""

SEED = 20261204
TREES = 50
LEARNING_RATE = 0.2
"""50 trees at a step of 0.2 reach the held-out AUC of 100 at 0.1 within 0.005 on the
benchmark's cases, at half the fitting and scoring; 30 at 0.3 lose up to 0.025 on a weak
relation change (benchmarks/joint.py, part `classifier`)."""
SHRINK = 0.05
"""Each side's correlation matrix is shrunk this far towards the identity, which keeps it
invertible when a column is constant on one side (a missing indicator, a category). More
costs power on what the test is for: at 30%, beside 23 unchanged features, the flip's
AUC fell by 0.014 and a +0.8 to +0.5 change's by 0.034 (docs/statistics.md)."""
INSTALL_HINT = (
    f"install it with: pip install 'driftcli[joint]', or use {option('joint_method')} qda"
)


def require_sklearn() -> None:
    """`UsageError` when scikit-learn, the optional extra, is not installed (found, not
    imported: importing it costs a second, spent only once the rows are read)."""
    try:
        found = importlib.util.find_spec("sklearn") is not None
    except (ImportError, ValueError):  # a broken parent, or a module set to None
        found = False
    if not found:
        raise UsageError(
            f"{option('joint_method')} boosting needs scikit-learn, which is not installed",
            hint=INSTALL_HINT,
        )


def fit(
    method: JointMethod,
    x: FloatArray,
    live: npt.NDArray[np.bool_],
    categorical: list[bool],
) -> Model:
    """The method's classifier fitted on rows `x` (`live`: which rows are live)."""
    if method is JointMethod.BOOSTING:
        return _Boosting(_boosting(x, live, categorical))
    return Quadratic(x, live, categorical)


class _Boosting:
    """The trees read the encoded rows as they are."""

    def __init__(self, score: Callable[[FloatArray], FloatArray]) -> None:
        self.score = score

    def inputs(self, rows: FloatArray) -> FloatArray:
        return rows

    def columns(self, group: list[int]) -> list[int]:
        return group

    def shuffled(self, inputs: FloatArray) -> Shuffled:
        def scores(index: list[int], order: npt.NDArray[np.int64]) -> FloatArray:
            rows = inputs.copy()
            rows[:, index] = inputs[order][:, index]
            return self.score(rows)

        return scores


def _boosting(
    x: FloatArray, live: npt.NDArray[np.bool_], categorical: list[bool]
) -> Callable[[FloatArray], FloatArray]:
    # Imported before the limit is set: the limit reaches only the OpenMP runtimes loaded
    # by then, and scikit-learn's compiled modules are what load it.
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError as error:
        raise UsageError(
            f"{option('joint_method')} boosting needs scikit-learn, which does not import "
            f"({error})",
            hint=INSTALL_HINT,
        ) from None
    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingClassifier(
        max_iter=TREES,
        learning_rate=LEARNING_RATE,
        categorical_features=np.array(categorical) if any(categorical) else None,
        early_stopping=False,
        random_state=SEED,
    )
    # One thread: the sample is bounded, so a second buys little, and OpenMP threads
    # spinning on a busy machine (CI runners, shared hosts) cost many times the work.
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(x, live.astype(np.float64))

    def score(rows: FloatArray) -> FloatArray:
        with threadpool_limits(limits=1, user_api="openmp"):
            return np.asarray(model.predict_proba(rows)[:, 1], dtype=np.float64)

    return score


class Quadratic:
    """A Gaussian per side over the design columns, scored by its log-likelihood ratio.

    Design: a numeric value as the normal score of its rank among the reference's
    training values (`normal_scores`; raw, else), missing as the median; its missing
    indicator the same way (a 0/1 column stays two values); a categorical code one-hot.
    Normal scores make every numeric feature normal in the reference whatever its shape,
    so the Gaussians' correlations measure dependence (rank correlation), and a long tail
    cannot dominate them.
    """

    def __init__(
        self,
        x: FloatArray,
        live: npt.NDArray[np.bool_],
        categorical: list[bool],
        normal_scores: bool = True,
    ) -> None:
        self._categorical = categorical
        reference = x[~live]
        self._sorted = [
            np.sort(column[~np.isnan(column)]) if not is_category else np.empty(0)
            for column, is_category in zip(reference.T, categorical, strict=True)
        ]
        self._normal_scores = normal_scores
        self._codes = [
            np.unique(column) if is_category else np.empty(0)
            for column, is_category in zip(x.T, categorical, strict=True)
        ]
        widths = [
            len(codes) if is_category else 1
            for codes, is_category in zip(self._codes, categorical, strict=True)
        ]
        origin = np.repeat(np.arange(len(categorical)), widths)
        design = self._design(x)
        self._keep = design.std(axis=0) > 0
        self._origin = origin[self._keep]
        design = design[:, self._keep]
        self._mean = design.mean(axis=0)
        self._scale = design.std(axis=0)
        design = (design - self._mean) / self._scale
        self._sides = [_Gaussian(design[~live]), _Gaussian(design[live])]

    def _design(self, x: FloatArray) -> FloatArray:
        columns: list[FloatArray] = []
        for j, is_category in enumerate(self._categorical):
            column = x[:, j]
            if is_category:
                columns.append((column[:, None] == self._codes[j][None, :]).astype(np.float64))
            else:
                columns.append(self._numbers(column, self._sorted[j])[:, None])
        return np.hstack(columns) if columns else np.empty((len(x), 0))

    def inputs(self, rows: FloatArray) -> FloatArray:
        """The design columns the Gaussians were fitted on, standardized."""
        return np.asarray((self._design(rows)[:, self._keep] - self._mean) / self._scale)

    def columns(self, group: list[int]) -> list[int]:
        return [int(i) for i in np.flatnonzero(np.isin(self._origin, group))]

    def _numbers(self, column: FloatArray, reference: FloatArray) -> FloatArray:
        if len(reference) == 0:
            return np.zeros(len(column))
        present = ~np.isnan(column)
        if not self._normal_scores:
            return np.where(present, column, float(np.median(reference)))
        values = column[present]
        # below + upto is twice the value's mid-rank among the m reference values (from
        # 0); its normal score, of the share (below + upto + 1) / (2 (m + 1)), looked up.
        below = np.searchsorted(reference, values, side="left")
        upto = np.searchsorted(reference, values, side="right")
        out = np.zeros(len(column))
        out[present] = _normal_scores(len(reference))[below + upto]
        return out

    def score(self, inputs: FloatArray) -> FloatArray:
        """Log-likelihood of live over reference (up to a constant)."""
        reference, live = self._sides
        return reference.distance(reference.whitened(inputs)) - live.distance(live.whitened(inputs))

    def shuffled(self, inputs: FloatArray) -> Shuffled:
        """Reordering columns adds (reordered - original) @ whiten's rows for them to each
        side's whitened rows: a feature's importance costs its columns, not all of them."""
        reference, live = self._sides
        base = [reference.whitened(inputs), live.whitened(inputs)]

        def scores(index: list[int], order: npt.NDArray[np.int64]) -> FloatArray:
            change = inputs[order][:, index] - inputs[:, index]
            near, far = (
                side.distance(whitened + change @ side.whiten[index])
                for side, whitened in zip(self._sides, base, strict=True)
            )
            return np.asarray(near - far)

        return scores


class _Gaussian:
    """One side's mean and (shrunk) correlation, as the whitening that scores rows."""

    def __init__(self, rows: FloatArray) -> None:
        self.mean = rows.mean(axis=0)
        centred = rows - self.mean
        sd = np.sqrt((centred**2).mean(axis=0))
        sd[sd == 0] = 1.0
        correlation = (centred / sd).T @ (centred / sd) / max(len(rows) - 1, 1)
        shrunk = (1 - SHRINK) * correlation + SHRINK * np.eye(len(sd))
        lower = np.linalg.cholesky(shrunk)
        self.whiten = np.linalg.inv(lower).T / sd[:, None]
        self.half_log_det = float(np.log(np.diag(lower)).sum() + np.log(sd).sum())

    def whitened(self, rows: FloatArray) -> FloatArray:
        """Rows centred on this side's mean and whitened by its covariance."""
        return np.asarray((rows - self.mean) @ self.whiten)

    def distance(self, whitened: FloatArray) -> FloatArray:
        """Half the squared Mahalanobis distance plus half the log-determinant, of whitened
        rows: minus the log-density, up to a constant."""
        return np.asarray(0.5 * (whitened**2).sum(axis=1) + self.half_log_det)


@functools.cache
def _normal_scores(m: int) -> FloatArray:
    """Φ⁻¹((k + 1) / (2 (m + 1))) for k = 0 .. 2m: the normal scores of every mid-rank a
    value can have among m reference values."""
    standard = NormalDist()
    return np.array([standard.inv_cdf((k + 1) / (2 * (m + 1))) for k in range(2 * m + 1)])
