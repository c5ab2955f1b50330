"""Compare live counts with the reference, feature by feature, into verdicts.

A feature drifts when its change is material (the score is above the
threshold) and evident (its p-value is below the evidence level, 0.005 by
default; with --alpha, its p-value adjusted across features is at most
alpha). A material change that could be chance is `uncertain`; a window so
small that no live data of its size could be evidence is `insufficient`.
Then, across features, the dataset-level rule (--max-drift-share,
--fail-on) gives the verdict; a check in which no feature could be judged
has none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from driftcli.choices import Correction, Kind
from driftcli.columns.values import TypeClass
from driftcli.counting.counts import Counts, FeatureCounts
from driftcli.errors import SchemaError, UsageError
from driftcli.reference.buckets import Feature, Profile
from driftcli.results import ChunkResult, Decision, FeatureResult, Status, Verdict
from driftcli.scoring.explain import explained
from driftcli.scoring.metrics import FALLBACK_METRIC, METRICS, Metric, ks_test
from driftcli.scoring.metrics import wasserstein_normalised as _wasserstein
from driftcli.scoring.significance import (
    CHECK_MONTE_CARLO_DRAWS,
    MAX_MONTE_CARLO_DRAWS,
    MONTE_CARLO_DRAWS,
    Evidence,
    Method,
    adjust,
    log_choose,
    remembered_evidence,
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
    the features. `lazy_p_values`: no Monte Carlo p-value for a feature whose
    score is not material (it cannot change its status; without --alpha,
    which adjusts every p-value): its `p_value` is None. The many small
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
    unresolved = [i for i, r in enumerate(results) if r.material and _unresolved(r)]
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
    no Monte Carlo p-value when the score is not material (see `compare`).
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
    live_values, ref_values = samples
    skip_above = threshold if lazy else None
    score, test, sizes = _score(
        metric, live, reference, (live_values, ref_values), settings,
        (level, max_draws, skip_above), feature,
    )  # fmt: skip
    floor_factor = 2.0 if test.method is Method.KS else 1.0
    fewest = rows_for_evidence(sizes[1], level, floor_factor)
    if settings.min_rows is not None and fewest is not None:
        fewest = max(fewest, settings.min_rows)
    drawn = not math.isnan(test.p_value)
    result = replace(
        result,
        score=score,
        p_value=test.p_value if drawn else None,
        p_method=test.method.value if drawn else None,
        p_bound=test.bound and drawn,
        min_rows=fewest,
    )
    return explained(_judge(result, feature, live, test, settings), feature, settings.smoothing)


def _judge(
    result: FeatureResult,
    feature: Feature,
    live: FeatureCounts,
    test: Evidence,
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
    if test.floor >= level:
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
    """drift, uncertain or ok, from materiality and the p-value that counts."""
    if not result.material:
        return replace(result, status=Status.OK, reason=None)
    p_text = "—" if p is None else f"{p:.2g}"
    relation = "<=" if result.p_bound else "="
    if settings.alpha is None:
        level = result.evidence_level
        evident = p is not None and p < level
        rows = _rows(result.live_rows)
        why = f"p = {p_text} at {rows} could be chance (a drift needs p < {level:g})"
        if result.p_bound:
            why = f"p <= {p_text} at {rows} is a bound, not below {level:g}: " + _unresolved_why(
                result
            )
    else:
        evident = p is not None and p <= settings.alpha
        why = f"the adjusted p {relation} {p_text} is above --alpha {settings.alpha:g}"
        if result.p_bound:
            why += f" ({_unresolved_why(result)})"
    if evident:
        return replace(result, status=Status.DRIFT, reason=None)
    reason = f"score {result.score:.3g} is above {result.threshold:g}, but {why}"
    return replace(result, status=Status.UNCERTAIN, reason=reason)


def _rows(n: int) -> str:
    return f"{n:,} live row{'' if n == 1 else 's'}"


def _score(
    metric: Metric,
    live: FeatureCounts,
    reference: FeatureCounts,
    samples: tuple[Values | None, Values | None],
    settings: Settings,
    resolution: tuple[float, int | None, float | None],
    feature: Feature,
) -> tuple[float, Evidence, tuple[int, int]]:
    """The score, the evidence, and the (live, reference) sizes the evidence rests on.

    `resolution`: the evidence level, the feature's Monte Carlo draws at most,
    and a threshold the score must be above for a Monte Carlo p-value to be
    drawn (below it, the evidence's p-value is NaN), or None.
    """
    live_values, ref_values = samples
    level, max_draws, skip_above = resolution
    sizes = (live.rows, reference.rows)
    other = _other(feature)
    if metric.bucket_score is not None:
        score = metric.bucket_score(live.buckets, reference.buckets, settings.smoothing)
        drawing = skip_above is None or score > skip_above
        buckets = live.buckets, reference.buckets
        return score, remembered_evidence(*buckets, level, other, max_draws, drawing), sizes
    if live_values is None or ref_values is None or not len(ref_values):
        raise UsageError(
            f"metric {metric.name} needs raw reference values, and this reference has none",
            hint="rebuild it with a sample: driftcli reference DATA --sample-size 10000",
        )
    if metric.name == "ks":
        statistic, p = ks_test(live_values, ref_values)
        n, m = _finite_count(live_values), _finite_count(ref_values)
        floor = min(1.0, 2.0 * math.exp(-log_choose(n + m, n))) if n and m else 1.0
        return statistic, Evidence(max(p, floor), Method.KS, floor), (n, m)
    score = _wasserstein(live_values, ref_values)
    drawing = skip_above is None or score > skip_above
    buckets = live.buckets, reference.buckets
    return score, remembered_evidence(*buckets, level, other, max_draws, drawing), sizes


def _other(feature: Feature) -> int | None:
    return None if feature.edges is not None else feature.n_value_buckets - 1


def _finite_count(values: Values) -> int:
    return int(np.count_nonzero(np.isfinite(np.asarray(values, dtype=np.float64))))


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

    No verdict when no feature could be judged.
    """
    judged = [r for r in results if r.status.judged]
    if not judged:
        return Decision(
            Verdict.NO_VERDICT,
            "no feature could be judged: "
            + ("the only one has" if len(results) == 1 else f"all {len(results)} have")
            + " too few live rows",
        )
    drifted = [r for r in results if r.drift]
    watched = {name_key(n) for n in settings.fail_on}
    critical = [r.name for r in drifted if name_key(r.name) in watched]
    if critical:
        return Decision(Verdict.DRIFT, f"--fail-on feature drifted: {', '.join(critical)}")
    if settings.max_drift_share is not None:
        share = len(drifted) / len(judged)
        over = share > settings.max_drift_share
        verb = "above" if over else "within"
        return Decision(
            Verdict.DRIFT if over else Verdict.NO_DRIFT,
            f"{len(drifted)} of {len(judged)} feature{'' if len(judged) == 1 else 's'} drifted "
            f"({share:.0%}), "
            f"{verb} --max-drift-share {settings.max_drift_share:.0%}",
        )
    if drifted:
        return Decision(Verdict.DRIFT, "a feature drifted")
    return Decision(Verdict.NO_DRIFT, "no feature drifted")


def partial_chunks(rows: list[int], size: int | None = None) -> list[int | None]:
    """For each chunk: when it is partial, the rows a full one holds; else None.

    A chunk of --chunk-rows N is partial below N rows (only the last can be);
    a time chunk, below half the median rows of the other chunks with rows
    (the hour that just began). An empty chunk is not partial: it has no rows
    to judge at all.
    """
    if size is not None:
        return [size if 0 < n < size else None for n in rows]
    filled = [n for n in rows if n > 0]
    marks: list[int | None] = []
    for n in rows:
        others = list(filled)
        if n > 0:
            others.remove(n)
        typical = int(np.median(others)) if others else 0
        marks.append(typical if n > 0 and 2 * n < typical else None)
    return marks


def decide_over_chunks(
    chunks: list[ChunkResult], any_chunk: bool = False, short_of: list[int | None] | None = None
) -> tuple[Decision, int | None]:
    """The verdict of a chunked check, and the index of the chunk it rests on.

    The latest chunk with a verdict decides, unless it is partial (`short_of`,
    from `partial_chunks`) and did not drift: then the latest full chunk with
    a verdict (or a later partial one that drifted) does, so neither the hour
    that just began nor a chunk too small to judge hides the one before it.
    With `any_chunk`, any chunk that drifted is drift. No verdict when no
    chunk could be judged.
    """
    judged = [c for c in chunks if c.verdict is not Verdict.NO_VERDICT]
    if not judged:
        which = "the only chunk has" if len(chunks) == 1 else f"all {len(chunks)} have"
        return Decision(
            Verdict.NO_VERDICT, f"no chunk could be judged: {which} too few live rows"
        ), None
    short = short_of or [None] * len(chunks)
    counted = [c for c in judged if short[c.index] is None or c.drift]
    latest = counted[-1] if counted else judged[-1]
    if any_chunk:
        drifted = [c for c in chunks if c.drift]
        if drifted:
            return Decision(
                Verdict.DRIFT,
                f"{len(drifted)} of {len(chunks)} chunks drifted, the first {drifted[0].name} "
                "(--fail-on-any-chunk)",
            ), latest.index
        return Decision(Verdict.NO_DRIFT, "no chunk drifted (--fail-on-any-chunk)"), latest.index
    verdict = Verdict.DRIFT if latest.drift else Verdict.NO_DRIFT
    verb = "drifted" if latest.drift else "did not drift"
    later = chunks[latest.index + 1 :]
    if not later:
        return Decision(verdict, f"the latest chunk, {latest.name}, {verb}"), latest.index
    passed = [c for c in later if c.verdict is not Verdict.NO_VERDICT]
    which = "the latest full chunk" if passed else "the latest chunk with a verdict"
    return Decision(
        verdict, f"{which}, {latest.name}, {verb}; " + _later_chunks(later, passed, short)
    ), latest.index


def _later_chunks(
    later: list[ChunkResult], passed: list[ChunkResult], short: list[int | None]
) -> str:
    """Why the chunks after the deciding one do not decide."""
    parts = []
    if passed:
        last = passed[-1]
        rows, usual = last.check.live.rows, short[last.index] or 0
        size = f"{rows:,} row{'' if rows == 1 else 's'} against a usual {usual:,}"
        parts.append(
            f"1 later chunk is partial and did not drift ({last.name}, {size})"
            if len(passed) == 1
            else f"{len(passed)} later chunks are partial and did not drift "
            f"(the latest, {last.name}, {size})"
        )
    empty = sum(c.empty for c in later)
    if empty:
        parts.append(f"{empty} later chunk{'s have' if empty > 1 else ' has'} no rows")
    unjudged = len(later) - len(passed) - empty
    if unjudged:
        parts.append(
            f"{unjudged} later chunk{'s have' if unjudged > 1 else ' has'} too few rows "
            "for a verdict"
        )
    return "; ".join(parts)


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
