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

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from driftcli.choices import Correction, Kind
from driftcli.columns.values import TypeClass
from driftcli.counting.counts import Counts, FeatureCounts
from driftcli.errors import SchemaError, UsageError
from driftcli.findings import PValuePart
from driftcli.reference.buckets import Feature, Profile
from driftcli.results import Decision, FeatureResult, Status, Verdict
from driftcli.scoring.measure import Measured, drift_view, measure, test
from driftcli.scoring.metrics import FALLBACK_METRIC, METRICS, Metric, On
from driftcli.scoring.quality import assess
from driftcli.scoring.significance import (
    CHECK_MONTE_CARLO_DRAWS,
    MAX_MONTE_CARLO_DRAWS,
    MONTE_CARLO_DRAWS,
    Method,
    adjust,
    permutation_floor,
    rows_for_evidence,
)
from driftcli.settings import Settings, name_key

Values = np.ndarray


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


def compare(
    profile: Profile,
    live: Counts,
    settings: Settings,
    live_name: str = "the live data",
    samples: tuple[dict[str, Values], dict[str, Values]] | None = None,
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
    present = set(live.columns)
    if profile.features and not any(f.name in present for f in profile.features):
        raise SchemaError(
            f"{live_name}: has none of the reference's features",
            hint="check that both inputs are the same kind of data; "
            f"reference features: {_names(f.name for f in profile.features)}",
        )
    live_samples, ref_samples = samples or ({}, {})
    level = evidence_level(settings, len(profile.features))
    lazy = lazy_p_values and settings.alpha is None

    def judged(feature: Feature, draws: int) -> FeatureResult:
        return compare_feature(
            feature,
            profile.counts.features[feature.name],
            live.features[feature.name],
            present=feature.name in present,
            settings=settings,
            samples=(live_samples.get(feature.name), ref_samples.get(feature.name)),
            level=level,
            max_draws=draws,
            lazy=lazy,
        )

    share = max(MONTE_CARLO_DRAWS, CHECK_MONTE_CARLO_DRAWS // max(len(profile.features), 1))
    results = [judged(feature, share) for feature in profile.features]
    # Most features stop drawing early (a clear no, or a clear yes): the budget their
    # share left goes to the material ones whose p-value the share could not resolve.
    unresolved = [i for i, r in enumerate(results) if r.may_be_material and _unresolved(r)]
    more = min(MAX_MONTE_CARLO_DRAWS, CHECK_MONTE_CARLO_DRAWS // max(len(unresolved), 1))
    if more > share:
        for i in unresolved:
            results[i] = judged(profile.features[i], more)
    return _correct_across_features(results, settings)


def _unresolved(result: FeatureResult) -> bool:
    """A Monte Carlo p-value no draw reached: the draws, not the data, set its size."""
    return bool(result.p_bound) and result.p_method == Method.MONTE_CARLO.value


def compare_feature(
    feature: Feature,
    reference: FeatureCounts,
    live: FeatureCounts,
    *,
    present: bool,
    settings: Settings,
    samples: tuple[Values | None, Values | None] = (None, None),
    level: float | None = None,
    max_draws: int | None = None,
    lazy: bool = False,
) -> FeatureResult:
    """The verdict on one feature (before any correction across features).

    `max_draws`: the feature's share of the check's Monte Carlo draws; `lazy`:
    a p-value only where it could change the status (see `compare`).
    """
    metric, fallback = metric_for(feature, settings)
    threshold = threshold_for(feature, metric, fallback, settings)
    level = settings.evidence if level is None else level
    result = FeatureResult(
        name=feature.name,
        kind=feature.kind,
        status=Status.MISSING,
        score=None,
        p_value=None,
        threshold=threshold,
        min_rows=None,
        labels=tuple(feature.labels()),
        reference=reference.buckets,
        live=live.buckets,
        metric=metric.name,
        fallback=fallback,
        evidence_level=level,
        invalid_at=live.invalid_at,
        reference_invalid_at=reference.invalid_at,
    )
    if not present:
        return result
    _needs_samples(metric, samples)
    view = drift_view(feature, live.buckets, reference.buckets)
    measured = measure(metric, view, samples, settings.smoothing)
    change = measured.change
    result = replace(
        result,
        score=measured.score,
        noise=change.noise,
        change=change.change,
        change_lower=change.lower,
        change_upper=change.upper,
        min_rows=_fewest(measured, level, settings),
        quality=assess(feature, live.buckets, reference.buckets, settings, level, lazy=lazy),
    )
    # Without a change that may be material, the p-value cannot make a drift: where only
    # the status matters (a chunk), it is not computed.
    if not lazy or change.upper > threshold:
        found = test(metric, view, samples, level, max_draws, decide=lazy)
        result = replace(
            result,
            p_value=found.p_value,
            p_method=found.method.value,
            p_bound=found.bound,
            p_test=found.test,
            p_parts=tuple(
                PValuePart(p.test, p.p_value, p.method.value, p.weight, p.bound)
                for p in found.parts
            ),
        )
    return _judge(result, feature, live, measured.floor, settings)


def _needs_samples(metric: Metric, samples: tuple[Values | None, Values | None]) -> None:
    live_values, ref_values = samples
    if metric.on is On.SAMPLES and (
        live_values is None or ref_values is None or not len(ref_values)
    ):
        raise UsageError(
            f"metric {metric.name} needs raw reference values, and this reference has none",
            hint="rebuild it with a sample: driftcli reference DATA --sample-size 10000",
        )


def _fewest(measured: Measured, level: float, settings: Settings) -> int | None:
    """The fewest live rows that could get a verdict against this reference."""
    factor = measured.floor / max(permutation_floor(*measured.sizes), 1e-300)
    fewest = rows_for_evidence(measured.sizes[1], level, max(factor, 1.0))
    if settings.min_rows is not None and fewest is not None:
        fewest = max(fewest, settings.min_rows)
    return fewest


def _judge(
    result: FeatureResult,
    feature: Feature,
    live: FeatureCounts,
    floor: float,
    settings: Settings,
) -> FeatureResult:
    """Status from the type, the window's size, the threshold and the evidence."""
    level = result.evidence_level
    rows = live.rows
    if _type_changed(feature, live):
        return replace(result, status=Status.TYPE_CHANGED)
    if settings.min_rows is not None and rows < settings.min_rows:
        reason = f"{_rows(rows)}, fewer than --min-rows {settings.min_rows:,}"
        return replace(result, status=Status.INSUFFICIENT, reason=reason)
    if floor >= level:
        need = (
            f"at least {result.min_rows:,} are needed"
            if result.min_rows is not None
            else "no window is enough"
        )
        reason = (
            f"{_rows(rows)}: even the most different window of that size could not reach "
            f"p < {level:.2g} against this reference; {need}"
        )
        return replace(result, status=Status.INSUFFICIENT, reason=reason)
    return _decide_feature(result, result.p_value, settings)


def _unresolved_why(result: FeatureResult) -> str:
    if result.p_method == Method.BOUND.value:
        return "p is below what Monte Carlo can measure, and its bound is not below the level"
    return (
        "no Monte Carlo draw reached the observed statistic, and the check's draws cannot "
        "resolve p below 1 / (draws + 1); more rows would let chi-square settle it"
    )


def _decide_feature(result: FeatureResult, p: float | None, settings: Settings) -> FeatureResult:
    """drift, uncertain or ok (small or not), from the change and the p-value that counts.

    drift: evident, and the change may be material (its upper bound is above the
    threshold); uncertain: not evident, though the change is material (its lower bound
    is above it); ok otherwise, `small` when the change is evident but cannot reach the
    threshold.
    """
    if settings.alpha is None:
        evident = p is not None and p < result.evidence_level
    else:
        evident = p is not None and p <= settings.alpha
    plain = replace(result, status=Status.OK, reason=None, small=False)
    if evident and result.may_be_material:
        reason = (
            None
            if result.change is not None and result.change > result.threshold
            else (_may_be_why(result, p))
        )
        return replace(plain, status=Status.DRIFT, reason=reason)
    if evident:
        return replace(plain, small=True, reason=_small_why(result, p))
    if result.material:
        return replace(plain, status=Status.UNCERTAIN, reason=_chance_why(result, p, settings))
    return plain


def _p_text(result: FeatureResult, p: float | None) -> str:
    if p is None:
        return "p —"
    relation = "<=" if result.p_bound else "="
    return "p < 1e-16" if p < 1e-16 else f"p {relation} {p:.2g}"


def _size(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def _may_be_why(result: FeatureResult, p: float | None) -> str:
    return (
        f"the change is evident ({_p_text(result, p)}); its estimate, {_size(result.change)}, "
        f"is below {result.threshold:g}, but at {_rows(result.live_rows)} it could be up to "
        f"{_size(result.change_upper)}"
    )


def _small_why(result: FeatureResult, p: float | None) -> str:
    return (
        f"small: the change is evident ({_p_text(result, p)}), but it is "
        f"{_size(result.change)}, at most {_size(result.change_upper)}: below the "
        f"threshold {result.threshold:g}"
    )


def _chance_why(result: FeatureResult, p: float | None, settings: Settings) -> str:
    p_text = "—" if p is None else f"{p:.2g}"
    relation = "<=" if result.p_bound else "="
    if settings.alpha is None:
        level = result.evidence_level
        rows = _rows(result.live_rows)
        why = f"p = {p_text} at {rows} could be chance (a drift needs p < {level:g})"
        if result.p_bound:
            why = f"p <= {p_text} at {rows} is a bound, not below {level:g}: " + _unresolved_why(
                result
            )
    else:
        why = f"the adjusted p {relation} {p_text} is above --alpha {settings.alpha:g}"
        if result.p_bound:
            why += f" ({_unresolved_why(result)})"
    return (
        f"the change, {_size(result.change)} (score {_size(result.score)} less "
        f"{_size(result.noise)} of noise; at least {_size(result.change_lower)}), is above "
        f"{result.threshold:g}, but {why}"
    )


def _rows(n: int) -> str:
    return f"{n:,} live row{'' if n == 1 else 's'}"


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
        out[i] = _decide_feature(replace(results[i], p_adjusted=p), p, settings)
    return out


def decide(results: list[FeatureResult], settings: Settings) -> Decision:
    """The dataset-level verdict: --fail-on features first, then --max-drift-share, else any.

    A feature fails the check when it drifted or failed a data-quality rule. No verdict
    when no feature could be judged.
    """
    judged = [r for r in results if r.status.judged]
    if not judged:
        return Decision(
            Verdict.NO_VERDICT,
            "no feature could be judged: "
            + ("the only one has" if len(results) == 1 else f"all {len(results)} have")
            + " too few live rows",
        )
    failed = [r for r in results if r.fails]
    watched = {name_key(n) for n in settings.fail_on}
    critical = [r.name for r in failed if name_key(r.name) in watched]
    if critical:
        return Decision(
            Verdict.DRIFT, f"--fail-on feature {_failure(failed)}: {', '.join(critical)}"
        )
    if settings.max_drift_share is not None:
        share = len(failed) / len(judged)
        over = share > settings.max_drift_share
        verb = "above" if over else "within"
        return Decision(
            Verdict.DRIFT if over else Verdict.NO_DRIFT,
            f"{len(failed)} of {len(judged)} feature{'' if len(judged) == 1 else 's'} "
            f"{_failure(failed) if failed else 'drifted'} ({share:.0%}), "
            f"{verb} --max-drift-share {settings.max_drift_share:.0%}",
        )
    if failed:
        return Decision(Verdict.DRIFT, f"a feature {_failure(failed)}")
    return Decision(Verdict.NO_DRIFT, "no feature drifted")


def _failure(failed: list[FeatureResult]) -> str:
    """`drifted`, `failed a data-quality rule`, or both, as the failed features did (a
    drifted feature that also failed a rule is said to have drifted)."""
    drifted = any(r.drift for r in failed)
    quality = any(not r.drift for r in failed)
    if drifted and quality:
        return "drifted or failed a data-quality rule"
    return "failed a data-quality rule" if quality else "drifted"


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
