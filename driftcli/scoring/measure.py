"""What one feature's counts say: its score, the change behind it, and the evidence.

The drift view of the counts: a numeric feature's outer buckets that hold
values outside the reference's range (it has no row in them) count with
their neighbours, so the drift score and test see the buckets of the
reference's quantiles, and the rule on values outside the range
(quality.py) sees them apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from driftcli.choices import Kind
from driftcli.reference.buckets import Feature
from driftcli.scoring.change import Change, bucket_change, sample_change
from driftcli.scoring.metrics import Metric, ks_test, wasserstein_normalised
from driftcli.scoring.quality import outside_range
from driftcli.scoring.significance import (
    Evidence,
    Method,
    floor_factor,
    log_choose,
    ordered_test,
    permutation_floor,
    remembered_evidence,
)

IntArray = npt.NDArray[np.int64]
Values = np.ndarray


@dataclass(frozen=True)
class DriftView:
    """The counts the drift score and test use, and what their buckets are."""

    live: IntArray
    ref: IntArray
    ordered: int
    """The first `ordered` buckets are numbers in order (0: none)."""
    other: int | None
    """The index of `other` (categories or values the reference may not have)."""


def drift_view(feature: Feature, live: IntArray, ref: IntArray) -> DriftView:
    """The feature's counts as the drift score sees them (see the module)."""
    values = feature.n_value_buckets
    if feature.kind is Kind.CATEGORICAL:
        return DriftView(live, ref, 0, values - 1)
    if feature.values is not None:
        return DriftView(live, ref, values - 1, values - 1)
    below, above = outside_range(feature, ref)
    if not (below or above):
        return DriftView(live, ref, values, None)
    keep = np.ones(len(live), dtype=bool)
    live, ref = live.copy(), ref.copy()
    if below:
        live[1] += live[0]
        keep[0] = False
    if above:
        live[values - 2] += live[values - 1]
        keep[values - 1] = False
    return DriftView(live[keep], ref[keep], values - below - above, None)


@dataclass(frozen=True)
class Measured:
    """A feature's score and the change behind it."""

    score: float
    change: Change
    sizes: tuple[int, int]
    """The live and reference rows (or values, for a sample metric) the test rests on."""
    floor: float
    """The smallest p-value the test could give any live window of this size."""


def measure(
    metric: Metric,
    view: DriftView,
    samples: tuple[Values | None, Values | None],
    smoothing: float,
) -> Measured:
    """The score of the drift view (or of the raw samples) and the change behind it."""
    if metric.bucket_score is not None:
        score = metric.bucket_score(view.live, view.ref, smoothing)
        # A numeric feature's reference counts are its own quantiles': not a sample.
        sampled = view.ordered == 0 or view.other is not None
        change = bucket_change(metric, view.live, view.ref, smoothing, sampled)
        sizes = (int(view.live.sum()), int(view.ref.sum()))
        factor = floor_factor(_ordered(view))
        return Measured(score, change, sizes, min(1.0, factor * permutation_floor(*sizes)))
    live_values, ref_values = (np.asarray(v, dtype=np.float64) for v in samples)
    if metric.name == "ks":
        score = ks_test(live_values, ref_values)[0]
        n, m = _finite_count(live_values), _finite_count(ref_values)
        floor = min(1.0, 2.0 * math.exp(-log_choose(n + m, n))) if n and m else 1.0
        change = sample_change(metric, score, live_values, ref_values)
        return Measured(score, change, (n, m), floor)
    score = wasserstein_normalised(live_values, ref_values)
    sizes = (int(view.live.sum()), int(view.ref.sum()))
    factor = floor_factor(_ordered(view))
    change = sample_change(metric, score, live_values, ref_values)
    return Measured(score, change, sizes, min(1.0, factor * permutation_floor(*sizes)))


def test(
    metric: Metric,
    view: DriftView,
    samples: tuple[Values | None, Values | None],
    level: float,
    max_draws: int | None,
    decide: bool,
) -> Evidence:
    """The evidence: KS's own test for ks, else the buckets' test (significance.py)."""
    if metric.name == "ks":
        live_values, ref_values = (np.asarray(v, dtype=np.float64) for v in samples)
        _, p = ks_test(live_values, ref_values)
        n, m = _finite_count(live_values), _finite_count(ref_values)
        floor = min(1.0, 2.0 * math.exp(-log_choose(n + m, n))) if n and m else 1.0
        return Evidence(max(p, floor), Method.KS, floor)
    return remembered_evidence(
        view.live, view.ref, level, view.other, max_draws, ordered=view.ordered, decide=decide
    )


def _ordered(view: DriftView) -> bool:
    used = int(np.count_nonzero((view.live + view.ref)[: view.ordered]))
    return ordered_test(used, int(view.ref[: view.ordered].sum()))


def _finite_count(values: Values) -> int:
    return int(np.count_nonzero(np.isfinite(np.asarray(values, dtype=np.float64))))
