"""Compare live counts with the reference, feature by feature, into verdicts.

Per feature: pick the metric and threshold (global settings, then the
config's per-feature overrides), score, test significance, decide; then,
across features, adjust p-values (with --alpha) and apply the dataset-level
rule (--max-drift-share, --fail-on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from driftcli.errors import SchemaError, UsageError
from driftcli.metrics import FALLBACK_METRIC, METRICS, Metric, On, ks_test, min_live_rows
from driftcli.metrics import wasserstein_normalised as _wasserstein
from driftcli.profile import Counts, Feature, FeatureCounts, Kind, Profile, name_key
from driftcli.results import Decision, FeatureResult, Settings, Status
from driftcli.significance import adjust, g_test
from driftcli.values import TypeClass

Values = np.ndarray

ALPHA_ONLY_ROWS_PER_BUCKET = 5
"""With --threshold 0 (gate on --alpha alone), a verdict needs 5 live rows per
reference bucket: the usual rule for the chi-square approximation."""


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


def compare(
    profile: Profile,
    live: Counts,
    settings: Settings,
    live_name: str = "the live data",
    samples: tuple[dict[str, Values], dict[str, Values]] | None = None,
) -> list[FeatureResult]:
    """Score every reference feature against the live counts.

    `samples` holds (live, reference) raw values per numeric feature, for
    the sample metrics. Raises `SchemaError` when the live data has none of
    the features.
    """
    present = set(live.columns)
    if profile.features and not any(f.name in present for f in profile.features):
        raise SchemaError(
            f"{live_name}: has none of the reference's features",
            hint="check that both inputs are the same kind of data; "
            f"reference features: {_names(f.name for f in profile.features)}",
        )
    live_samples, ref_samples = samples or ({}, {})
    results = [
        compare_feature(
            feature,
            profile.counts.features[feature.name],
            live.features[feature.name],
            present=feature.name in present,
            settings=settings,
            samples=(live_samples.get(feature.name), ref_samples.get(feature.name)),
        )
        for feature in profile.features
    ]
    return _gate_on_significance(results, settings)


def compare_feature(
    feature: Feature,
    reference: FeatureCounts,
    live: FeatureCounts,
    *,
    present: bool,
    settings: Settings,
    samples: tuple[Values | None, Values | None] = (None, None),
) -> FeatureResult:
    """The verdict on one feature (before any correction across features)."""
    metric, fallback = metric_for(feature, settings)
    threshold = threshold_for(feature, metric, fallback, settings)
    live_values, ref_values = samples
    min_rows = settings.min_rows
    if min_rows is None:
        min_rows = _derived_min_rows(metric, threshold, reference, ref_values)
    score: float | None = None
    p_value: float | None = None
    if not present:
        status = Status.MISSING
    else:
        score, p_value = _score(metric, live, reference, live_values, ref_values, settings)
        if _type_changed(feature, live):
            status = Status.TYPE_CHANGED
        elif min_rows is None or live.rows < min_rows:
            status = Status.INSUFFICIENT
        else:
            status = Status.DRIFT if score > threshold else Status.OK
    return FeatureResult(
        name=feature.name,
        kind=feature.kind,
        status=status,
        score=score,
        p_value=p_value,
        threshold=threshold,
        min_rows=min_rows,
        labels=tuple(feature.labels()),
        reference=reference.buckets,
        live=live.buckets,
        metric=metric.name,
        fallback=fallback,
    )


def _derived_min_rows(
    metric: Metric,
    threshold: float,
    reference: FeatureCounts,
    ref_values: Values | None,
) -> int | None:
    buckets = int(np.count_nonzero(reference.buckets))
    if threshold == 0:  # gating on --alpha alone
        return ALPHA_ONLY_ROWS_PER_BUCKET * buckets
    if metric.on is On.SAMPLES:
        sample = len(ref_values) if ref_values is not None else 0
        return min_live_rows(metric, threshold, buckets, sample)
    return min_live_rows(metric, threshold, buckets, reference.rows)


def _score(
    metric: Metric,
    live: FeatureCounts,
    reference: FeatureCounts,
    live_values: Values | None,
    ref_values: Values | None,
    settings: Settings,
) -> tuple[float, float]:
    if metric.on is On.BUCKETS:
        assert metric.bucket_score is not None
        score = metric.bucket_score(live.buckets, reference.buckets, settings.smoothing)
        return score, g_test(live.buckets, reference.buckets).p_value
    if live_values is None or ref_values is None or not len(ref_values):
        raise UsageError(
            f"metric {metric.name} needs raw reference values, and this reference has none",
            hint="rebuild it with a sample: driftcli reference DATA --sample-size 10000",
        )
    if metric.name == "ks":
        return ks_test(live_values, ref_values)
    score = _wasserstein(live_values, ref_values)
    return score, g_test(live.buckets, reference.buckets).p_value


def _gate_on_significance(results: list[FeatureResult], settings: Settings) -> list[FeatureResult]:
    """With --alpha, a drift must also be significant after the correction across features."""
    if settings.alpha is None:
        return results
    judged = [i for i, r in enumerate(results) if r.status in (Status.OK, Status.DRIFT)]
    p_values = [results[i].p_value for i in judged]
    adjusted = adjust([1.0 if p is None else p for p in p_values], settings.correction)
    out = list(results)
    for i, p in zip(judged, adjusted, strict=True):
        result = results[i]
        material = result.score is not None and result.score > result.threshold
        status = Status.DRIFT if material and p <= settings.alpha else Status.OK
        out[i] = replace(result, status=status, p_adjusted=p)
    return out


def decide(results: list[FeatureResult], settings: Settings) -> Decision:
    """The dataset-level verdict: --fail-on features first, then --max-drift-share, else any."""
    drifted = [r for r in results if r.drift]
    watched = {name_key(n) for n in settings.fail_on}
    critical = [r.name for r in drifted if name_key(r.name) in watched]
    if critical:
        return Decision(True, f"--fail-on feature drifted: {', '.join(critical)}")
    if settings.max_drift_share is not None:
        scored = [r for r in results if r.status is not Status.INSUFFICIENT]
        share = len(drifted) / len(scored) if scored else 0.0
        over = share > settings.max_drift_share
        verb = "above" if over else "within"
        return Decision(
            over,
            f"{len(drifted)} of {len(scored)} features drifted ({share:.0%}), "
            f"{verb} --max-drift-share {settings.max_drift_share:.0%}",
        )
    if drifted:
        return Decision(True, "a feature drifted")
    return Decision(False, "no feature drifted")


def _type_changed(feature: Feature, live: FeatureCounts) -> bool:
    """No live value could be read as the reference's type.

    Numeric: every present live value is invalid. Categorical: the values
    arrived only as another type family than the reference's; text is
    compatible with any type, and so is an untyped (CSV) reference.
    """
    present = live.rows - int(live.buckets[feature.missing_bucket])
    if present == 0:
        return False
    if feature.kind is Kind.NUMERIC:
        return int(live.buckets[feature.invalid_bucket]) == present
    if feature.source_type & TypeClass.UNTYPED:
        return False
    compatible = feature.source_type | TypeClass.TEXT
    return live.types is not TypeClass.NONE and not (live.types & compatible)


def new_columns(profile: Profile, live: Counts, ignored: tuple[str, ...] = ()) -> list[str]:
    """Live columns the reference does not have (and the user did not exclude)."""
    known = {name_key(c) for c in [*profile.counts.columns, *ignored]}
    return [c for c in live.columns if name_key(c) not in known]


def _names(names: Iterable[str]) -> str:
    listed = list(names)
    shown = ", ".join(listed[:8])
    return shown + (f" and {len(listed) - 8} more" if len(listed) > 8 else "")
