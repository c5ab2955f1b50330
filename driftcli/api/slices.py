"""A sliced check (`--slice COLUMN`): the whole live data checked, and each slice of it
(the rows of one value of the column) checked against the reference's rows of that value,
from one counting pass."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from driftcli.api.checks import check_count_sets, check_counts, sampled_features, window_of
from driftcli.api.common import (
    Input,
    existing,
    no_shared_column,
    read_input,
    reads_stdin,
    window_pieces,
    with_skipped,
)
from driftcli.api.history import record_check
from driftcli.api.references import load_reference, restrict, slices_need_local_engine
from driftcli.choices import BUCKET_METRIC_NAMES, InputFormat
from driftcli.counting.buckets import Feature
from driftcli.counting.counts import Counts
from driftcli.counting.slicing import (
    NEW_VALUES_LISTED,
    SlicedCounts,
    SliceProfile,
    SliceValues,
    count_slices,
)
from driftcli.errors import DriftcliError, InputError, UsageError, option
from driftcli.grouping import BySlice
from driftcli.records import CheckedBy
from driftcli.results import CheckResult, Decision, SourceInfo, Status, Verdict
from driftcli.settings import DEFAULT_SETTINGS, Settings, name_key
from driftcli.sliced import SlicedCheck, SliceKind, SliceResult
from driftcli.store.snapshot import Snapshot

if TYPE_CHECKING:
    from driftcli.engine import Engine
    from driftcli.store import Window
    from driftcli.store.root import Warn


def check_slices(
    live: Input | None,
    ref: Input | None,
    slicing: BySlice | None,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    store: Path,
    window: str | None = None,
    live_format: InputFormat | None = None,
    ref_format: InputFormat | None = None,
    engine: Engine | None = None,
    on_warning: Warn | None = None,
) -> SlicedCheck:
    """The sliced check the inputs ask for, read as `check_inputs` reads them.

    `slicing` None: the slices the stored reference (or the snapshot REF) holds. A
    sliced check of the store's window records its whole check in the history.
    """
    if engine is not None and engine.distributed:
        raise slices_need_local_engine()
    refuse_joint(settings)
    window = window_of(live, window)
    if live and ref is not None:
        if reads_stdin(live) and reads_stdin(ref):
            raise UsageError("only one input can come from stdin ('-')")
        reference = load_reference(ref, settings, ref_format, slicing=slicing)
        return check_slices_of(live, sliced(reference, slicing), settings, live_format)
    from driftcli.store import Store  # a check of files never needs the store

    home = Store.open(
        store, create=False, on_warning=on_warning, line_limit=settings.max_line_bytes
    )
    if ref is not None:
        reference = load_reference(ref, settings, ref_format, slicing=slicing)
    else:
        reference = restrict(home.load_reference(), settings)
    reference = sliced(reference, slicing)
    if live:
        return check_slices_of(live, reference, settings, live_format)
    return check_window_slices(home.window(window), reference, settings)


def holds_slices(ref: Input | None, store: Path, ref_format: InputFormat | None = None) -> bool:
    """Does the reference a check would use hold slices: REF when it is a snapshot file,
    else the store's reference? (Whatever cannot be read here says so when it is loaded.)"""
    from driftcli.api.references import is_snapshot
    from driftcli.store.snapshot import snapshot_document

    if ref is None:
        path = store / "reference.parquet"
    elif isinstance(ref, str) and ref != "-" and ref_format in (None, InputFormat.PARQUET):
        path = Path(ref)
    else:
        return False
    try:
        if not is_snapshot(path):
            return False
        document = snapshot_document(path)
    except DriftcliError:
        return False
    return document is not None and "slices" in document


def sliced(reference: Snapshot, slicing: BySlice | None) -> Snapshot:
    """The reference, if it holds the slices asked for (any, when `slicing` is None)."""
    slices = reference.slices
    name = reference.source.name
    if slices is None:
        raise UsageError(
            f"the reference {name} holds no slices",
            hint=f"build it per slice: driftcli reference DATA {option('slice')} COLUMN",
        )
    if slicing is not None and (
        name_key(slicing.column) != name_key(slices.column)
        or slicing.max_slices != slices.max_slices
    ):
        raise UsageError(
            f"the reference {name} is sliced by {slices.column!r} "
            f"(at most {slices.max_slices} slices), not as asked",
            hint=f"leave out {option('slice')} to use its slices, or build it again with yours",
        )
    return reference


def check_slices_of(
    live: Input,
    reference: Snapshot,
    settings: Settings = DEFAULT_SETTINGS,
    live_format: InputFormat | None = None,
) -> SlicedCheck:
    """Count the live data per slice in one pass, and check the whole and every slice."""
    slices = _slices(reference)
    _no_samples(reference, settings)
    example = (
        f"cat log.jsonl | driftcli check - {option('ref')} ref.parquet {option('slice')} country"
    )
    with read_input(live, live_format, settings, example) as source:
        features = reference.profile.features
        counted = count_slices(features, slices.values, (p for p in source.pieces() if p))
        info = with_skipped(SourceInfo(source.name, source.format.value, 0), source)
    return _checked(reference, slices, counted, info, settings)


def check_window_slices(
    window: Window,
    reference: Snapshot,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    record: CheckedBy = CheckedBy.CHECK,
) -> SlicedCheck:
    """A sliced check of a stored window (its rows read again: the window stores whole
    counts), its whole check recorded in the history as made by `record`."""
    existing(window)
    slices = _slices(reference)
    _no_samples(reference, settings)
    name = f"window {window.name}"
    counted = count_slices(reference.profile.features, slices.values, window_pieces(window, name))
    result = _checked(reference, slices, counted, SourceInfo(name, "window", 0), settings)
    # The history keeps whole checks of the window: the whole check is one.
    record_check(window, reference, result.whole, record)
    return result


def refuse_joint(settings: Settings) -> None:
    if settings.joint:
        raise UsageError(
            "the joint test checks a whole check, not slices: it cannot go with a sliced "
            f"check ({option('slice')}, or a reference stored with slices)",
            hint=f"check the joint distribution without {option('slice')}, against a reference "
            "without slices",
        )


def _slices(reference: Snapshot) -> SliceProfile:
    if reference.slices is None:
        raise UsageError(f"the reference {reference.source.name} holds no slices")
    return reference.slices


def _no_samples(reference: Snapshot, settings: Settings) -> None:
    """The sample metrics compare raw values, which a reference does not keep per slice."""
    if sampled_features(reference, settings):
        raise no_samples_per_slice(settings)


def no_samples_per_slice(settings: Settings) -> UsageError:
    return UsageError(
        f"{option('slice')}: metric {settings.metric} compares raw values, which the reference "
        "does not keep per slice",
        hint=f"use a bucket metric with slices: {BUCKET_METRIC_NAMES[0]} (the default), "
        f"{', '.join(BUCKET_METRIC_NAMES[1:-1])} or {BUCKET_METRIC_NAMES[-1]}",
    )


def _checked(
    reference: Snapshot,
    slices: SliceProfile,
    counted: SlicedCounts,
    info: SourceInfo,
    settings: Settings,
) -> SlicedCheck:
    """The whole check, each slice's, and the verdict over them."""
    whole_counts = counted.whole()
    features = reference.profile.features
    if whole_counts.rows == 0:
        raise InputError(f"{info.name}: no data rows in the live data")
    if whole_counts.featureless == whole_counts.rows and set(whole_counts.columns) & {
        f.name for f in features
    }:
        raise no_shared_column(info.name, whole_counts.featureless, features)
    info = replace(
        info,
        rows=whole_counts.rows,
        featureless=whole_counts.featureless,
        first_featureless=whole_counts.featureless_at,
    )
    whole = check_counts(reference, whole_counts, info, settings)
    results, level = _slice_results(reference, slices, counted, info, settings)
    return SlicedCheck(
        whole=whole,
        slicing=BySlice(slices.column, slices.max_slices),
        slices=results,
        decision=_decision(whole, results),
        evidence_level=level,
        new_values=len(counted.new_rows),
    )


def _slice_results(
    reference: Snapshot,
    slices: SliceProfile,
    counted: SlicedCounts,
    info: SourceInfo,
    settings: Settings,
) -> tuple[list[SliceResult], float]:
    """Each slice checked at the evidence level shared out over the slices x features
    checked (with --alpha: alpha shared out over the slices, each corrected across its
    features); then the new values, listed."""
    values = slices.values
    column = values.column
    features = [f for f in reference.profile.features if name_key(f.name) != name_key(column)]
    if not features:
        raise UsageError(f"{option('slice')} {column}: the reference has no feature besides it")
    groups = list(range(len(values.named))) + ([values.other] if values.has_other else [])
    pairs = [(g, slices.of(g), counted.groups.get(g)) for g in groups]
    both = [(g, ref, live) for g, ref, live in pairs if ref is not None and live is not None]
    share = max(len(both), 1)
    level = settings.evidence / (share * len(features))
    at = replace(
        settings,
        evidence=level,
        alpha=None if settings.alpha is None else settings.alpha / share,
    )
    found = _slice_checks(reference, features, both, info, at, values)
    checked = {g: check for (g, _, _), check in zip(both, found, strict=True)}
    results = []
    for g, ref, live in pairs:
        value, kind = values.identity(g)
        results.append(
            SliceResult(
                value,
                kind,
                rows=0 if live is None else live.rows,
                reference_rows=0 if ref is None else ref.rows,
                check=checked.get(g),
            )
        )
    listed = sorted(
        counted.new_rows.items(), key=lambda item: (-item[1], item[0] is not None, item[0] or "")
    )
    for value, rows in listed[:NEW_VALUES_LISTED]:
        results.append(SliceResult(value, SliceKind.NEW, rows=rows, reference_rows=0))
    return results, level


def _slice_checks(
    reference: Snapshot,
    features: list[Feature],
    both: list[tuple[int, Counts, Counts]],
    info: SourceInfo,
    settings: Settings,
    values: SliceValues,
) -> list[CheckResult]:
    """Each slice checked as a whole check of its rows against the reference's rows of it,
    each feature scored over all the slices at once."""
    if not both:
        return []
    part = replace(reference, profile=replace(reference.profile, features=features))
    column = values.column
    lives, refs, sources = [], [], []
    for group, ref, live in both:
        value, kind = values.identity(group)
        label = value if value is not None else f"({kind.value})"
        lives.append(live)
        refs.append(ref)
        sources.append(SourceInfo(f"{info.name} [{column}={label}]", info.format, live.rows))
    results = check_count_sets(
        part, lives, sources, settings, (column,), lazy_p_values=True, references=refs
    )
    return [
        replace(
            _explained(result, features, settings),
            new_columns=[],
            reference=replace(reference.source, rows=ref.rows),
        )
        for result, ref in zip(results, refs, strict=True)
    ]


_WORTH_EXPLAINING = frozenset({Status.DRIFT, Status.UNCERTAIN, Status.TYPE_CHANGED})


def _explained(result: CheckResult, features: list[Feature], settings: Settings) -> CheckResult:
    """What moved in each cell a report shows (drifted, uncertain, type changed): the slices
    are scored without it, as the cells that are fine need none."""
    from driftcli.scoring.explain import explained

    by_name = {f.name: f for f in features}
    cells = [
        explained(f, by_name[f.name], settings.smoothing)
        if f.status in _WORTH_EXPLAINING and not f.moves and f.name in by_name
        else f
        for f in result.features
    ]
    return replace(result, features=cells)


def _decision(whole: CheckResult, slices: list[SliceResult]) -> Decision:
    """Drift when the whole check or any slice drifted; the whole check's verdict else."""
    drifted = [s for s in slices if s.drift]
    if not drifted:
        return whole.decision
    named = ", ".join(
        f"{s.label} ({', '.join(f.name for f in s.check.failed)})" for s in drifted[:5] if s.check
    )
    more = f" and {len(drifted) - 5} more" if len(drifted) > 5 else ""
    count = f"{len(drifted)} slice{'s' if len(drifted) > 1 else ''}"
    if whole.drift:
        return Decision(Verdict.DRIFT, f"{whole.decision.rule}; {count} drifted: {named}{more}")
    return Decision(Verdict.DRIFT, f"{count} drifted: {named}{more}")
