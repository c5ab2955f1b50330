"""A feature's status from its change and evidence, and the check's verdict over features.

Pure functions on results. A feature drifts when its change is evident (its
p-value is below the evidence level; with --alpha, its adjusted p-value is at
most alpha) and may be material (the upper bound of the change is above the
threshold); a change that is material (its lower bound is above the threshold)
without the evidence is `uncertain`; an evident change that cannot reach the
threshold is `ok` and `small`, with the reason; a window so small that no live
data of its size could be evidence is `insufficient`. Across features, the
dataset-level rule (--fail-on, --max-drift-share) gives the verdict from the
features that drifted or failed a data-quality rule.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from driftcli.choices import Kind
from driftcli.columns.values import TypeClass
from driftcli.counting.buckets import Feature
from driftcli.counting.counts import FeatureCounts
from driftcli.errors import option
from driftcli.results import Decision, FeatureResult, Status, Verdict
from driftcli.scoring.significance import Method
from driftcli.settings import Settings, name_key

Judged = tuple[Status, str | None, bool]
"""A feature's status, the reason for it, and whether it is `small`."""


def judge(
    result: FeatureResult, changed: bool, rows: int, floor: float, settings: Settings
) -> Judged:
    """Status from the type (`changed`: the live values are of another type), the window's
    size (`rows`; `floor`: the smallest p-value a window of this size could reach), the
    threshold and the evidence."""
    level = result.evidence_level
    if changed:
        return Status.TYPE_CHANGED, None, False
    if settings.min_rows is not None and rows < settings.min_rows:
        reason = f"{rows_text(rows)}, fewer than {option('min_rows')} {settings.min_rows:,}"
        return Status.INSUFFICIENT, reason, False
    if floor >= level:
        need = (
            f"at least {result.min_rows:,} are needed"
            if result.min_rows is not None
            else "no window is enough"
        )
        reason = (
            f"{rows_text(rows)}: even the most different window of that size could not reach "
            f"p < {level:.2g} against this reference; {need}"
        )
        return Status.INSUFFICIENT, reason, False
    return verdict(result, result.p_value, settings)


def plain_statuses(
    changed: list[bool],
    short: npt.NDArray[np.bool_],
    p_values: list[float | None],
    changes: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]],
    threshold: float,
    settings: Settings,
    level: float,
) -> list[Status | None]:
    """The statuses `judge` gives without a reason, found for many tables at once (None
    where `judge` must say why: insufficient, uncertain, small, or a drift whose estimate
    is below the threshold). `short`: too few rows for a verdict (--min-rows, or no window
    of this size could reach the level); `changes`: each table's change, its lower and its
    upper bound."""
    change, lower, upper = changes
    p = np.array([np.nan if v is None else v for v in p_values], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        evident = p < level if settings.alpha is None else p <= settings.alpha
    drift = evident & (change > threshold) & (upper > threshold)
    ok = ~evident & ~(lower > threshold)
    out: list[Status | None] = []
    for gone, few, is_drift, is_ok in zip(
        changed, short.tolist(), drift.tolist(), ok.tolist(), strict=True
    ):
        if gone:
            out.append(Status.TYPE_CHANGED)
        elif few:
            out.append(None)
        else:
            out.append(Status.DRIFT if is_drift else Status.OK if is_ok else None)
    return out


def _unresolved_why(result: FeatureResult) -> str:
    if result.p_method == Method.BOUND.value:
        return "p is below what Monte Carlo can measure, and its bound is not below the level"
    return (
        "no Monte Carlo draw reached the observed statistic, and the check's draws cannot "
        "resolve p below 1 / (draws + 1); more rows would let chi-square settle it"
    )


def decide_feature(result: FeatureResult, p: float | None, settings: Settings) -> FeatureResult:
    """The result with the status the change and the p-value that counts give it."""
    status, reason, small = verdict(result, p, settings)
    if (status, reason, small) == (result.status, result.reason, result.small):
        return result
    return replace(result, status=status, reason=reason, small=small)


def verdict(result: FeatureResult, p: float | None, settings: Settings) -> Judged:
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
    if evident and result.may_be_material:
        above = result.change is not None and result.change > result.threshold
        return Status.DRIFT, None if above else _may_be_why(result, p), False
    if evident:
        return Status.OK, _small_why(result, p), True
    if result.material:
        return Status.UNCERTAIN, _chance_why(result, p, settings), False
    return Status.OK, None, False


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
        f"is below {result.threshold:g}, but at {rows_text(result.live_rows)} it could be up to "
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
        rows = rows_text(result.live_rows)
        why = f"p = {p_text} at {rows} could be chance (a drift needs p < {level:g})"
        if result.p_bound:
            why = f"p <= {p_text} at {rows} is a bound, not below {level:g}: " + _unresolved_why(
                result
            )
    else:
        why = f"the adjusted p {relation} {p_text} is above {option('alpha')} {settings.alpha:g}"
        if result.p_bound:
            why += f" ({_unresolved_why(result)})"
    return (
        f"the change, {_size(result.change)} (score {_size(result.score)} less "
        f"{_size(result.noise)} of noise; at least {_size(result.change_lower)}), is above "
        f"{result.threshold:g}, but {why}"
    )


def rows_text(n: int) -> str:
    return f"{n:,} live row{'' if n == 1 else 's'}"


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
            Verdict.DRIFT, f"{option('fail_on')} feature {_failure(failed)}: {', '.join(critical)}"
        )
    if settings.max_drift_share is not None:
        share = len(failed) / len(judged)
        over = share > settings.max_drift_share
        verb = "above" if over else "within"
        return Decision(
            Verdict.DRIFT if over else Verdict.NO_DRIFT,
            f"{len(failed)} of {len(judged)} feature{'' if len(judged) == 1 else 's'} "
            f"{_failure(failed) if failed else 'drifted'} ({share:.0%}), "
            f"{verb} {option('max_drift_share')} {settings.max_drift_share:.0%}",
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


def type_changed(feature: Feature, live: FeatureCounts, rows: int) -> bool:
    """No live value could be read as the reference's type.

    Numeric: every present live value is invalid. Categorical: the values
    arrived only as another type family than the reference's; text is
    compatible with any type, and so is an untyped (CSV) reference.
    """
    present = rows - int(live.buckets[feature.missing_bucket])
    if present == 0:
        return False
    if feature.kind is Kind.NUMERIC:
        return int(live.buckets[feature.invalid_bucket]) == present
    if feature.source_type & TypeClass.UNTYPED:
        return False
    compatible = feature.source_type | TypeClass.TEXT
    return live.types is not TypeClass.NONE and not (live.types & compatible)
