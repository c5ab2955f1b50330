"""Check live data against a reference: files, stdin, a dataset, or a stored window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from driftcli.api.common import (
    Input,
    existing,
    input_name,
    no_shared_column,
    read_input,
    reads_stdin,
    validated,
    with_skipped,
)
from driftcli.api.history import record_check
from driftcli.api.joint import LiveRows, refuse_distributed, with_joint
from driftcli.api.references import load_reference, restrict
from driftcli.choices import InputFormat
from driftcli.columns.values import read_numbers
from driftcli.counting.counter import count_batches, count_pieces
from driftcli.counting.counts import Counts
from driftcli.errors import InputError, NothingStored, UsageError, option
from driftcli.records import CheckedBy
from driftcli.results import CheckResult, SourceInfo
from driftcli.scoring.compare import compare_many, metric_for, new_columns
from driftcli.scoring.metrics import Reads
from driftcli.scoring.verdict import decide
from driftcli.settings import DEFAULT_SETTINGS, Settings
from driftcli.store.snapshot import Snapshot

if TYPE_CHECKING:
    from driftcli.engine import Engine
    from driftcli.store import Store, Window

DEFAULT_WINDOW = "live"


def check_inputs(
    live: Input | None,
    ref: Input | None,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    store: Path,
    window: str | None = None,
    live_format: InputFormat | None = None,
    ref_format: InputFormat | None = None,
    engine: Engine | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> CheckResult:
    """The check the inputs ask for.

    LIVE and REF: files against a reference (raw data or a snapshot). LIVE
    alone: against the store's reference. Neither: the store's `window`
    (default `live`) against the store's reference (or REF); that check is
    recorded in the store's history. A window with LIVE files is a
    `UsageError`: the files would be checked, not the window. `on_warning`
    hears what the store has to say (that it is read without its lock).
    """
    window = window_of(live, window)
    if live and ref is not None:
        return check(
            live, ref, settings, live_format=live_format, ref_format=ref_format, engine=engine
        )
    from driftcli.store import Store  # a check of files never needs the store

    try:
        home = Store.open(
            store, create=False, on_warning=on_warning, line_limit=settings.max_line_bytes
        )
        reference = stored_reference(home, ref, settings, ref_format, engine)
    except NothingStored as exc:
        if not live:
            raise
        raise NothingStored(
            f"{exc.said}, and no {option('ref')} was given",
            hint=f"pass the reference first: driftcli check LIVE {option('ref')} REF (data or a "
            "snapshot); "
            "or keep one in the store: driftcli reference DATA",
        ) from None
    if live:
        return check_against(live, reference, settings, live_format=live_format, engine=engine)
    return check_window(home.window(window), reference, settings)


def window_of(live: Input | None, window: str | None) -> str:
    """The stored window a check names (`live` by default); with LIVE files, none may be
    named: the files would be checked, not the window."""
    if live and window is not None:
        raise UsageError(
            f"{option('window')} {window} checks a stored window: it cannot go with LIVE files",
            hint=f"check the window with: driftcli check {option('window')} {window}",
        )
    return window or DEFAULT_WINDOW


def stored_reference(
    home: Store,
    ref: Input | None,
    settings: Settings,
    ref_format: InputFormat | None = None,
    engine: Engine | None = None,
) -> Snapshot:
    """REF when it is given, else the store's reference."""
    if ref is not None:
        return load_reference(ref, settings, ref_format, engine)
    return restrict(home.load_reference(), settings)


def check(
    live: Input,
    ref: Input,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    live_format: InputFormat | None = None,
    ref_format: InputFormat | None = None,
    engine: Engine | None = None,
) -> CheckResult:
    """Compare live data with reference data (raw or a snapshot), feature by feature."""
    if reads_stdin(live) and reads_stdin(ref):
        raise UsageError("only one input can come from stdin ('-')")
    reference = load_reference(ref, settings, ref_format, engine)
    return check_against(live, reference, settings, live_format=live_format, engine=engine)


def check_against(
    live: Input,
    reference: Snapshot,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    live_format: InputFormat | None = None,
    engine: Engine | None = None,
) -> CheckResult:
    """Compare live data with an already profiled reference (counted on `engine`)."""
    sampled = sampled_features(reference, settings)
    rows = LiveRows(reference, settings.joint_method) if settings.joint else None
    if engine is not None and engine.distributed:
        if rows is not None:
            refuse_distributed("dask")
        from driftcli.engine.tasks import count_with, fragments_of

        fragments = fragments_of(live, live_format, settings)
        counts, skipped = count_with(engine, fragments, reference.profile.features, sampled)
        info = SourceInfo(
            input_name(live),
            fragments[0].format.value,
            counts.rows,
            skipped_lines=skipped.count,
            first_skipped=skipped.first,
        )
    else:
        example = f"cat live.jsonl | driftcli check - {option('ref')} ref.parquet"
        with read_input(live, live_format, settings, example) as source:
            pieces = source.pieces() if rows is None else rows.through(source.pieces())
            counts = count_pieces(reference.profile.features, pieces, sampled)
            info = with_skipped(SourceInfo(source.name, source.format.value, counts.rows), source)
    features = reference.profile.features
    if counts.rows == 0:
        raise InputError(f"{info.name}: no data rows in the live data")
    if counts.featureless == counts.rows and set(counts.columns) & {f.name for f in features}:
        # (With none of the features' columns at all, scoring says so, as for a window.)
        raise no_shared_column(info.name, counts.featureless, features)
    info = replace(info, featureless=counts.featureless, first_featureless=counts.featureless_at)
    result = check_counts(reference, counts, info, settings)
    return result if rows is None else with_joint(result, reference, rows.table())


def check_window(
    window: Window,
    reference: Snapshot,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    record: CheckedBy | None = CheckedBy.CHECK,
) -> CheckResult:
    """Compare a stored window with a reference, and record the check in the store's
    history (as made by `record`; None records nothing)."""
    existing(window)
    counts = window.counts(reference.profile.features, reference.reference_id)
    if counts.rows == 0:
        raise InputError(f"window {window.name!r} holds no rows yet")
    sampled = sampled_features(reference, settings)
    if sampled:  # the window keeps its raw rows: sample them
        rows = (b for table in window.tables() for b in table.to_batches())
        only = [f for f in reference.profile.features if f.name in sampled]
        counts.samples = count_batches(only, rows, sampled).samples
    info = SourceInfo(f"window {window.name}", "window", counts.rows)
    result = check_counts(reference, counts, info, settings)
    if settings.joint:
        live_rows = LiveRows(reference, settings.joint_method)
        for table in window.tables():
            live_rows.add(table)
        result = with_joint(result, reference, live_rows.table())
    if record is not None:
        record_check(window, reference, result, record)
    return result


def check_counts(
    reference: Snapshot,
    counts: Counts,
    live: SourceInfo,
    settings: Settings,
    ignored: tuple[str, ...] = (),
    *,
    lazy_p_values: bool = False,
) -> CheckResult:
    """The check of these live counts against the reference (`ignored`: live columns that
    are not data, never listed as new; `lazy_p_values`: see `compare`)."""
    return check_count_sets(
        reference, [counts], [live], settings, ignored, lazy_p_values=lazy_p_values
    )[0]


def check_count_sets(
    reference: Snapshot,
    counts: list[Counts],
    live: list[SourceInfo],
    settings: Settings,
    ignored: tuple[str, ...] = (),
    *,
    lazy_p_values: bool = False,
    references: list[Counts] | None = None,
) -> list[CheckResult]:
    """`check_counts` for many sets of live counts (a chunked check's chunks), each feature
    scored over all of them at once; `references`: each set's own reference counts over
    the reference's buckets (a sliced check's slices)."""
    validated(settings)
    settings = replace(settings, bins=reference.bins, max_categories=reference.max_categories)
    profile = reference.profile
    names = {name for part in counts for name in part.samples}
    ref_samples = _reference_samples(reference, names)
    samples = [(part.samples, ref_samples) for part in counts]
    every = compare_many(
        profile, counts, settings, [info.name for info in live], list(samples),
        lazy_p_values=lazy_p_values, references=references,
    )  # fmt: skip
    return [
        CheckResult(
            features=features,
            reference=reference.source,
            live=info,
            settings=settings,
            new_columns=new_columns(profile, part, settings.excluded() + ignored),
            skipped=dict(profile.skipped),
            decision=decide(features, settings),
        )
        for features, part, info in zip(every, counts, live, strict=True)
    ]


def sampled_features(reference: Snapshot, settings: Settings) -> set[str]:
    """The features whose metric compares raw values."""
    return {
        f.name
        for f in reference.profile.features
        if metric_for(f, settings)[0].reads is Reads.SAMPLES
    }


def _reference_samples(reference: Snapshot, names: set[str]) -> dict[str, np.ndarray]:
    sample = reference.sample
    out = {}
    for name in names:
        if name in sample.column_names:
            numbers = read_numbers(sample.column(name))
            out[name] = np.asarray(numbers.values[~(numbers.missing | numbers.invalid)])
    return out
