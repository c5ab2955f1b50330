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
from driftcli.counting.buckets import Feature
from driftcli.scoring.change import Change, Changes, bucket_changes, bucket_scores, sample_change
from driftcli.scoring.metrics import Metric, ks_test, wasserstein_normalised
from driftcli.scoring.quality import outside_range
from driftcli.scoring.significance import (
    MAX_MONTE_CARLO_DRAWS,
    Evidence,
    Method,
    evidence_rows,
    floor_factor,
    log_choose,
    ordered_test,
    permutation_floor,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Values = np.ndarray


@dataclass(frozen=True)
class DriftView:
    """The counts the drift score and test use (a row of live counts per table), and
    what their buckets are."""

    live: IntArray
    ref: IntArray
    ordered: int
    """The first `ordered` buckets are numbers in order (0: none)."""
    other: int | None
    """The index of `other` (categories or values the reference may not have)."""


def drift_view(feature: Feature, live: IntArray, ref: IntArray) -> DriftView:
    """The feature's counts as the drift score sees them (see the module); `live` holds a
    row per table (or is one table), `ref` the reference's counts, or a row of them per
    table whose buckets the reference's range leaves empty alike (`ref_kind`)."""
    rows = np.atleast_2d(live)
    values = feature.n_value_buckets
    if feature.kind is Kind.CATEGORICAL:
        return DriftView(rows, ref, 0, values - 1)
    if feature.values is not None:
        return DriftView(rows, ref, values - 1, values - 1)
    below, above = outside_range(feature, first_row(ref))
    if not (below or above):
        return DriftView(rows, ref, values, None)
    keep = np.ones(rows.shape[1], dtype=bool)
    rows, ref = rows.copy(), ref.copy()
    if below:
        rows[:, 1] += rows[:, 0]
        keep[0] = False
    if above:
        rows[:, values - 2] += rows[:, values - 1]
        keep[values - 1] = False
    return DriftView(rows[:, keep], ref[..., keep], values - below - above, None)


def first_row(ref: IntArray) -> IntArray:
    """The reference counts, or the first of a row of them per table."""
    return ref if ref.ndim == 1 else ref[0]


def ref_kind(feature: Feature, ref: IntArray) -> tuple[bool, ...]:
    """What of the reference's counts shapes how a table is scored beside their sizes:
    the range buckets it leaves empty, whether it has `other`, whether its numbers get
    the ordered tests. Tables whose references share it are scored together."""
    view = drift_view(feature, ref, ref)
    other = bool(view.other is not None and ref[view.other] == 0)
    return (*outside_range(feature, ref), other, _ordered(view))


@dataclass(frozen=True)
class Measured:
    """Each table's score and the change behind it."""

    score: FloatArray
    changes: Changes
    sizes: tuple[IntArray, IntArray]
    """The live and reference rows (or values, for a sample metric) the test rests on."""
    floor: FloatArray
    """The smallest p-value the test could give any live window of this size."""


Samples = tuple[Values | None, Values | None]


def measure(metric: Metric, view: DriftView, samples: list[Samples], smoothing: float) -> Measured:
    """The score of each table of the drift view (or of its raw samples, a pair a table)
    and the change behind it."""
    if metric.bucket_score is not None:
        score = bucket_scores(metric, view.live, view.ref, smoothing)
        # A numeric feature's reference counts are its own quantiles': not a sample.
        sampled = view.ordered == 0 or view.other is not None
        changes = bucket_changes(metric, view.live, view.ref, smoothing, sampled)
        n = view.live.sum(axis=1).astype(np.int64)
        m = np.broadcast_to(view.ref.sum(axis=-1), n.shape).astype(np.int64)
        factor = floor_factor(_ordered(view))
        floor = np.array(
            [
                min(1.0, factor * permutation_floor(int(a), int(b)))
                for a, b in zip(n, m, strict=True)
            ]
        )
        return Measured(score, changes, (n, m), floor)
    found = [_measure_samples(metric, view, pair) for pair in samples]
    each = [change for _, change, _, _ in found]
    return Measured(
        np.array([score for score, _, _, _ in found]),
        Changes(
            np.array([c.noise for c in each]),
            np.array([c.change for c in each]),
            np.array([c.lower for c in each]),
            np.array([c.upper for c in each]),
        ),
        (np.array([s[0] for _, _, s, _ in found]), np.array([s[1] for _, _, s, _ in found])),
        np.array([floor for _, _, _, floor in found]),
    )


def _measure_samples(
    metric: Metric, view: DriftView, samples: Samples
) -> tuple[float, Change, tuple[int, int], float]:
    live_values, ref_values = (np.asarray(v, dtype=np.float64) for v in samples)
    if metric.name == "ks":
        score = ks_test(live_values, ref_values)[0]
        n, m = _finite_count(live_values), _finite_count(ref_values)
        floor = min(1.0, 2.0 * math.exp(-log_choose(n + m, n))) if n and m else 1.0
        return score, sample_change(metric, score, live_values, ref_values), (n, m), floor
    score = wasserstein_normalised(live_values, ref_values)
    sizes = (int(view.live.sum()), int(view.ref.sum()))
    floor = min(1.0, floor_factor(_ordered(view)) * permutation_floor(*sizes))
    return score, sample_change(metric, score, live_values, ref_values), sizes, floor


def test(
    metric: Metric,
    view: DriftView,
    samples: list[Samples],
    wanted: BoolArray,
    how: tuple[float, int | None, bool],
) -> list[Evidence | None]:
    """The evidence of each table `wanted` (None for the others): KS's own test for ks,
    else the buckets' test (significance.py). `how`: the evidence level, the Monte Carlo
    draws at most, and whether only "is p below the level?" matters."""
    level, max_draws, decide = how
    found: list[Evidence | None] = [None] * len(view.live)
    rows = np.flatnonzero(wanted)
    if not rows.size:
        return found
    if metric.name == "ks":
        for row in rows:
            live_values, ref_values = (np.asarray(v, dtype=np.float64) for v in samples[row])
            _, p = ks_test(live_values, ref_values)
            n, m = _finite_count(live_values), _finite_count(ref_values)
            floor = min(1.0, 2.0 * math.exp(-log_choose(n + m, n))) if n and m else 1.0
            found[row] = Evidence(max(p, floor), Method.KS, floor)
        return found
    draws = MAX_MONTE_CARLO_DRAWS if max_draws is None else max_draws
    if view.ref.ndim == 2:  # a reference per table: each tested against its own
        tested = [
            evidence_rows(
                view.live[[row]], view.ref[row], level, view.other, draws,
                ordered=view.ordered, decide=decide,
            )[0]
            for row in rows
        ]  # fmt: skip
    else:
        tested = evidence_rows(
            view.live[rows], view.ref, level, view.other, draws, ordered=view.ordered,
            decide=decide,
        )  # fmt: skip
    for row, evidence in zip(rows, tested, strict=True):
        found[row] = evidence
    return found


def _ordered(view: DriftView) -> bool:
    ref = first_row(view.ref)
    used = int(np.count_nonzero((ref > 0)[: view.ordered]))
    return ordered_test(used, int(ref[: view.ordered].sum()))


def _finite_count(values: Values) -> int:
    return int(np.count_nonzero(np.isfinite(np.asarray(values, dtype=np.float64))))
