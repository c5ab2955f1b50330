"""Compare live counts with the reference, feature by feature, into verdicts.

A feature drifts when its change is evident (its p-value is below the
evidence level, 0.005 by default; with --alpha, its p-value adjusted across
features is at most alpha) and may be material: the change behind the score
(the score less what noise gives at these counts, change.py) could be above
the threshold. A change estimated above the threshold that could be chance
is `uncertain`; an evident change that cannot reach the threshold is `ok`,
and said to be small; a window so small that no live data of its size
could be evidence is `insufficient`. Data-quality rules (quality.py) are
judged beside. Then, across features, the dataset-level rule
(--max-drift-share, --fail-on) gives the verdict, from the features that
drifted or failed a rule; a check in which no feature could be judged has
none.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from driftcli.choices import Correction, Kind
from driftcli.counting.buckets import Feature, Profile
from driftcli.counting.counts import Counts, FeatureCounts
from driftcli.errors import SchemaError, UsageError, option
from driftcli.findings import PValuePart, QualityFinding
from driftcli.results import FeatureResult, Status
from driftcli.scoring.explain import explained
from driftcli.scoring.measure import Measured, drift_view, measure, ref_kind, test
from driftcli.scoring.metrics import FALLBACK_METRIC, METRICS, Metric, Reads
from driftcli.scoring.quality import assess_rows
from driftcli.scoring.significance import (
    CHECK_MONTE_CARLO_DRAWS,
    MAX_MONTE_CARLO_DRAWS,
    MONTE_CARLO_DRAWS,
    Evidence,
    Method,
    adjust,
    permutation_floor,
    rows_for_evidence,
)
from driftcli.scoring.verdict import decide_feature, judge, plain_statuses, type_changed
from driftcli.settings import Settings, name_key

Values = np.ndarray
IntArray = npt.NDArray[np.int64]


def metric_for(feature: Feature, settings: Settings) -> tuple[Metric, bool]:
    """The metric a feature is scored with, and whether it is the categorical fallback."""
    name = settings.for_feature(feature.name).metric or settings.metric
    if name not in METRICS:
        raise UsageError(f"unknown metric {name!r}", hint=f"choose one of {', '.join(METRICS)}")
    metric = METRICS[name]
    if metric.numeric_only and feature.kind is Kind.CATEGORICAL:
        return METRICS[FALLBACK_METRIC], True
    return metric, False


def threshold_for(feature: Feature, metric: Metric, fallback: bool, settings: Settings) -> float:
    """Per-feature override, else the global --threshold for the global metric, else the default."""
    override = settings.for_feature(feature.name)
    if override.threshold is not None:
        return override.threshold
    uses_global_metric = (override.metric or settings.metric) == metric.name and not fallback
    if settings.threshold is not None and uses_global_metric:
        return settings.threshold
    return metric.default_threshold


def evidence_level(settings: Settings, features: int) -> float:
    """What one feature's own p-value must be below to count as evidence.

    Without --alpha, the evidence level. With it, the best case of the
    correction: Holm multiplies the smallest p-value by the number of
    features; Benjamini-Hochberg and none can leave a p-value as it is.
    """
    if settings.alpha is None:
        return settings.evidence
    if settings.correction is Correction.HOLM:
        return settings.alpha / max(features, 1)
    return settings.alpha


Samples = tuple[dict[str, Values], dict[str, Values]]


def compare(
    profile: Profile,
    live: Counts,
    settings: Settings,
    live_name: str = "the live data",
    samples: Samples | None = None,
    *,
    lazy_p_values: bool = False,
) -> list[FeatureResult]:
    """Score every reference feature against the live counts.

    `samples` holds (live, reference) raw values per numeric feature, for
    the sample metrics. Raises `SchemaError` when the live data has none of
    the features. `lazy_p_values`: a p-value only where it could change the
    status (without --alpha, which adjusts every p-value): none for a
    feature whose change cannot be material (its `p_value` is None), and
    Monte Carlo stops once the level is settled either way. The many small
    chunks of a chunked check would otherwise spend most of their time there.
    """
    return compare_many(
        profile, [live], settings, [live_name], [samples], lazy_p_values=lazy_p_values
    )[0]


def compare_many(
    profile: Profile,
    lives: list[Counts],
    settings: Settings,
    live_names: list[str],
    samples: list[Samples | None],
    *,
    lazy_p_values: bool = False,
    references: list[Counts] | None = None,
) -> list[list[FeatureResult]]:
    """`compare` for many sets of live counts (the chunks of a chunked check) at once:
    each feature is scored over all of them in one pass of array operations.
    `references`: each set's own reference counts over the profile's buckets (the slices
    of a sliced check), instead of the profile's."""
    for live, name in zip(lives, live_names, strict=True):
        if profile.features and not any(f.name in live.columns for f in profile.features):
            raise SchemaError(
                f"{name}: has none of the reference's features",
                hint="check that both inputs are the same kind of data; "
                f"reference features: {_names(f.name for f in profile.features)}",
            )
    level = evidence_level(settings, len(profile.features))
    lazy = lazy_p_values and settings.alpha is None
    share = max(MONTE_CARLO_DRAWS, CHECK_MONTE_CARLO_DRAWS // max(len(profile.features), 1))
    refs = references or [profile.counts] * len(lives)
    by_feature = [
        compare_feature_rows(feature, refs, lives, samples, settings, (level, share, lazy))
        for feature in profile.features
    ]
    checks = []
    for i, live in enumerate(lives):
        results = [column[i] for column in by_feature]
        # Most features stop drawing early (a clear no, or a clear yes): the budget their
        # share left goes to the material ones whose p-value the share could not resolve.
        unresolved = [j for j, r in enumerate(results) if _unresolved(r, settings)]
        more = min(MAX_MONTE_CARLO_DRAWS, CHECK_MONTE_CARLO_DRAWS // max(len(unresolved), 1))
        if more > share:
            for j in unresolved:
                feature = profile.features[j]
                results[j] = compare_feature_rows(
                    feature, [refs[i]], [live], [samples[i]], settings, (level, more, lazy)
                )[0]
        checks.append(_correct_across_features(results, settings))
    return checks


def _unresolved(result: FeatureResult, settings: Settings) -> bool:
    """A change that may be material whose Monte Carlo p-value no draw reached, and whose
    bound does not settle the evidence: the draws, not the data, set its size."""
    if not (result.may_be_material and result.p_bound and result.p_value is not None):
        return False
    level = settings.alpha if settings.alpha is not None else result.evidence_level
    return result.p_method == Method.MONTE_CARLO.value and (
        settings.alpha is not None or result.p_value >= level
    )


def compare_feature_rows(
    feature: Feature,
    references: list[Counts],
    lives: list[Counts],
    samples: list[Samples | None],
    settings: Settings,
    how: tuple[float, int, bool],
) -> list[FeatureResult]:
    """The verdict on one feature in each set of live counts (before any correction across
    features), against the reference counts of the same place in `references` (the same
    object for every set but the slices'). `how`: the evidence level, the feature's share
    of the check's Monte Carlo draws, and whether only statuses matter (a p-value only
    where it could change one)."""
    metric, fallback = metric_for(feature, settings)
    common: dict[str, Any] = {
        "name": feature.name,
        "kind": feature.kind,
        "threshold": threshold_for(feature, metric, fallback, settings),
        "labels": tuple(feature.labels()),
        "metric": metric.name,
        "fallback": fallback,
        "evidence_level": how[0],
    }
    refs = [ref.features[feature.name] for ref in references]
    counts = [live.features[feature.name] for live in lives]
    present = [i for i, live in enumerate(lives) if feature.name in live.columns]
    results: list[FeatureResult | None] = [None] * len(lives)
    scoring, explain = (metric, common["threshold"]), (feature, how[2])
    shared = len({id(ref) for ref in references}) == 1
    for group in ([present] if present else []) if shared else _alike(feature, refs, present):
        pairs = [_samples_of(samples[i], feature.name) for i in group]
        table = [counts[i] for i in group]
        ref = refs[group[0]].buckets if shared else np.stack([refs[i].buckets for i in group])
        scored = _scored(feature, scoring, ref, table, pairs, settings, how)
        sides = [refs[i] for i in group]
        for i, found in zip(group, _results(common, sides, scored, settings, explain), strict=True):
            results[i] = found
    return [
        FeatureResult(
            **common, status=Status.MISSING, score=None, p_value=None, min_rows=None,
            reference=ref.buckets, reference_invalid_at=ref.invalid_at,
            live=c.buckets, invalid_at=c.invalid_at,
        )
        if found is None
        else found
        for found, c, ref in zip(results, counts, refs, strict=True)
    ]  # fmt: skip


def _alike(feature: Feature, refs: list[FeatureCounts], present: list[int]) -> list[list[int]]:
    """The sets of live counts with references of their own (slices) that are scored
    together: those whose references are alike (`ref_kind`)."""
    groups: dict[tuple[bool, ...], list[int]] = {}
    for i in present:
        groups.setdefault(ref_kind(feature, refs[i].buckets), []).append(i)
    return list(groups.values())


@dataclass(frozen=True)
class _Scored:
    """A feature's tables (a set of live counts each), scored."""

    counts: list[FeatureCounts]
    rows: list[int]
    measured: Measured
    quality: list[tuple[QualityFinding, ...]]
    tested: list[Evidence | None]
    fewest: list[int | None]
    changed: list[bool]
    """The live values are of another type than the reference's."""


def _scored(
    feature: Feature,
    scoring: tuple[Metric, float],
    ref: IntArray,
    counts: list[FeatureCounts],
    pairs: list[tuple[Values | None, Values | None]],
    settings: Settings,
    how: tuple[float, int, bool],
) -> _Scored:
    """Every table's score, change, quality findings and (where wanted) evidence: without
    a change that may be material, the p-value cannot make a drift, and where only the
    status matters (`lazy`, a chunk) it is not computed."""
    (metric, threshold), (level, max_draws, lazy) = scoring, how
    for pair in pairs:
        _needs_samples(metric, pair)
    table = np.stack([c.buckets for c in counts])
    rows = table.sum(axis=1).tolist()
    view = drift_view(feature, table, ref)
    measured = measure(metric, view, pairs, settings.smoothing)
    quality = assess_rows(feature, table, ref, settings, level, lazy=lazy)
    wanted = np.logical_or(not lazy, measured.changes.upper > threshold)
    tested = test(metric, view, pairs, wanted, (level, max_draws, lazy))
    sizes = zip(
        measured.sizes[0].tolist(), measured.sizes[1].tolist(), measured.floor.tolist(), strict=True
    )
    fewest = [_fewest(n, m, floor, level, settings.min_rows) for n, m, floor in sizes]
    changed = [type_changed(feature, c, n) for c, n in zip(counts, rows, strict=True)]
    return _Scored(counts, rows, measured, quality, tested, fewest, changed)


def _results(
    common: dict[str, Any],
    references: list[FeatureCounts],
    scored: _Scored,
    settings: Settings,
    explain: tuple[Feature, bool],
) -> list[FeatureResult]:
    """Each table's result, its status judged (at once where it needs no reason), and what
    moved, except in a chunk (`lazy`): the reports say what moved in the chunk the verdict
    rests on, which is checked again as a whole check, and explaining every drifted
    feature of thousands of chunks would cost seconds."""
    feature, lazy = explain
    measured, changes = scored.measured, scored.measured.changes
    level, threshold = common["evidence_level"], common["threshold"]
    fields = [_evidence_fields(found) for found in scored.tested]
    floor = measured.floor
    short = floor >= level
    if settings.min_rows is not None:
        short |= np.array(scored.rows) < settings.min_rows
    statuses = plain_statuses(
        scored.changed, short, [f["p_value"] for f in fields],
        (changes.change, changes.lower, changes.upper), threshold, settings, level,
    )  # fmt: skip
    score, noise, change = measured.score.tolist(), changes.noise.tolist(), changes.change.tolist()
    lower, upper = changes.lower.tolist(), changes.upper.tolist()
    out = []
    for row, (live, ref) in enumerate(zip(scored.counts, references, strict=True)):
        status = statuses[row]
        result = FeatureResult(
            **common, **fields[row], status=Status.OK if status is None else status,
            reference=ref.buckets, reference_invalid_at=ref.invalid_at,
            live=live.buckets, invalid_at=live.invalid_at, score=score[row], noise=noise[row],
            change=change[row], change_lower=lower[row], change_upper=upper[row],
            min_rows=scored.fewest[row], quality=scored.quality[row],
        )  # fmt: skip
        if status is None:
            judged = judge(
                result, scored.changed[row], scored.rows[row], float(floor[row]), settings
            )
            result = replace(result, status=judged[0], reason=judged[1], small=judged[2])
        if not lazy:
            result = explained(result, feature, settings.smoothing)
        out.append(result)
    return out


def _samples_of(samples: Samples | None, name: str) -> tuple[Values | None, Values | None]:
    live_samples, ref_samples = samples or ({}, {})
    return live_samples.get(name), ref_samples.get(name)


_UNTESTED: dict[str, Any] = {
    "p_value": None, "p_method": None, "p_bound": False, "p_test": None, "p_parts": (),
}  # fmt: skip


def _evidence_fields(found: Evidence | None) -> dict[str, Any]:
    """A result's fields of the evidence (none where it was not computed)."""
    if found is None:
        return _UNTESTED
    parts = tuple(
        PValuePart(p.test, p.p_value, p.method.value, p.weight, p.bound) for p in found.parts
    )
    return {
        "p_value": found.p_value, "p_method": found.method.value, "p_bound": found.bound,
        "p_test": found.test, "p_parts": parts,
    }  # fmt: skip


def _needs_samples(metric: Metric, samples: tuple[Values | None, Values | None]) -> None:
    live_values, ref_values = samples
    if metric.reads is Reads.SAMPLES and (
        live_values is None or ref_values is None or not len(ref_values)
    ):
        raise UsageError(
            f"metric {metric.name} needs raw reference values, and this reference has none",
            hint=f"rebuild it with a sample: driftcli reference DATA {option('sample_size')} 10000",
        )


@functools.lru_cache(maxsize=1 << 12)
def _fewest(n: int, m: int, floor: float, level: float, min_rows: int | None) -> int | None:
    """The fewest live rows that could get a verdict against this reference (n live and
    m reference rows now, the test's smallest p-value `floor`)."""
    factor = floor / max(permutation_floor(n, m), 1e-300)
    fewest = rows_for_evidence(m, level, max(factor, 1.0))
    if min_rows is not None and fewest is not None:
        fewest = max(fewest, min_rows)
    return fewest


def _correct_across_features(
    results: list[FeatureResult], settings: Settings
) -> list[FeatureResult]:
    """With --alpha, evidence is the p-value adjusted across the judged features."""
    if settings.alpha is None:
        return results
    judged = [
        i for i, r in enumerate(results) if r.status in (Status.OK, Status.DRIFT, Status.UNCERTAIN)
    ]
    p_values = [results[i].p_value for i in judged]
    adjusted = adjust([1.0 if p is None else p for p in p_values], settings.correction)
    out = list(results)
    for i, p in zip(judged, adjusted, strict=True):
        out[i] = decide_feature(replace(results[i], p_adjusted=p), p, settings)
    return out


def new_columns(profile: Profile, live: Counts, ignored: tuple[str, ...] = ()) -> list[str]:
    """Live columns the reference does not have (and the user did not exclude)."""
    known = {name_key(c) for c in [*profile.counts.columns, *ignored]}
    return [c for c in live.columns if name_key(c) not in known]


def _names(names: Iterable[str]) -> str:
    listed = list(names)
    shown = ", ".join(listed[:8])
    return shown + (f" and {len(listed) - 8} more" if len(listed) > 8 else "")
