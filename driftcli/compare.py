"""Compare live counts with the reference, feature by feature, into verdicts."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from driftcli.errors import SchemaError
from driftcli.metrics import g_test, kl_divergence, min_live_rows
from driftcli.profile import Counts, Feature, FeatureCounts, Kind, Profile, name_key
from driftcli.results import FeatureResult, Settings, Status
from driftcli.values import TypeClass


def compare(
    profile: Profile, live: Counts, settings: Settings, live_name: str = "the live data"
) -> list[FeatureResult]:
    """Score every reference feature against the live counts.

    Raises `SchemaError` when the live data has none of the features.
    """
    present = set(live.columns)
    if profile.features and not any(f.name in present for f in profile.features):
        raise SchemaError(
            f"{live_name}: has none of the reference's features",
            hint="check that both inputs are the same kind of data; "
            f"reference features: {_names(f.name for f in profile.features)}",
        )
    return [
        compare_feature(
            feature,
            profile.counts.features[feature.name],
            live.features[feature.name],
            present=feature.name in present,
            settings=settings,
        )
        for feature in profile.features
    ]


def compare_feature(
    feature: Feature,
    reference: FeatureCounts,
    live: FeatureCounts,
    *,
    present: bool,
    settings: Settings,
) -> FeatureResult:
    """The verdict on one feature."""
    threshold = settings.threshold
    min_rows = settings.min_rows
    if min_rows is None:
        used = int(np.count_nonzero(reference.buckets))
        min_rows = min_live_rows(used, threshold, reference.rows)
    score: float | None = None
    p_value: float | None = None
    if not present:
        status = Status.MISSING
    else:
        score = kl_divergence(live.buckets, reference.buckets, settings.smoothing)
        p_value = g_test(live.buckets, reference.buckets).p_value
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
    )


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
