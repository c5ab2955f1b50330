"""Check live data against a reference: files, stdin, a dataset, or a stored window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from driftcli.api.common import (
    Input,
    hint_skipping,
    input_name,
    reads_stdin,
    validated,
    with_skipped,
)
from driftcli.api.references import load_reference, restrict
from driftcli.choices import InputFormat
from driftcli.columns.values import read_numbers
from driftcli.counting.counter import count_batches, count_chunks
from driftcli.counting.counts import Counts
from driftcli.errors import InputError, UsageError
from driftcli.inputs import open_source
from driftcli.results import CheckResult, SourceInfo
from driftcli.scoring.compare import compare, decide, metric_for, new_columns
from driftcli.scoring.metrics import On
from driftcli.settings import DEFAULT_SETTINGS, Settings
from driftcli.store.snapshot import Snapshot

if TYPE_CHECKING:
    from driftcli.engine import Engine
    from driftcli.store import Window


def check_inputs(
    live: Input | None,
    ref: Input | None,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    store: Path,
    window: str = "live",
    live_format: InputFormat | None = None,
    ref_format: InputFormat | None = None,
    engine: Engine | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> CheckResult:
    """The check the inputs ask for.

    LIVE and REF: files against a reference (raw data or a snapshot). LIVE
    alone: against the store's reference. Neither: the store's `window`
    against the store's reference (or REF). `on_warning` hears what the
    store has to say (that it is read without its lock).
    """
    if live and ref is not None:
        return check(
            live, ref, settings, live_format=live_format, ref_format=ref_format, engine=engine
        )
    from driftcli.store import Store  # a check of files never needs the store

    home = Store.open(store, create=False, on_warning=on_warning)
    if ref is not None:
        reference = load_reference(ref, settings, ref_format, engine)
    else:
        reference = restrict(home.load_reference(), settings)
    if live:
        return check_against(live, reference, settings, live_format=live_format, engine=engine)
    return check_window(home.window(window), reference, settings)


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
    sampled = _sampled(reference, settings)
    if engine is not None and engine.distributed:
        from driftcli.engine.tasks import count_with, fragments_of

        fragments = fragments_of(live, live_format, settings.max_line_bytes)
        counts = count_with(engine, fragments, reference.profile.features, sampled)
        info = SourceInfo(input_name(live), fragments[0].format.value, counts.rows)
    else:
        with open_source(
            live,
            live_format,
            skip_bad_lines=settings.skip_bad_lines,
            max_line_bytes=settings.max_line_bytes,
        ) as source:
            hint_skipping(source)
            counts = count_chunks(reference.profile.features, source.chunks(), sampled)
            info = with_skipped(SourceInfo(source.name, source.format.value, counts.rows), source)
    if counts.rows == 0:
        raise InputError(f"{info.name}: no data rows in the live data")
    return _result(reference, counts, info, settings)


def check_window(
    window: Window, reference: Snapshot, settings: Settings = DEFAULT_SETTINGS
) -> CheckResult:
    """Compare a stored window with a reference."""
    if not window.exists():
        raise UsageError(
            f"no window named {window.name!r} in the store {window.store.root}",
            hint="fill it with: driftcli ingest DATA --window " + window.name,
        )
    counts = window.counts(reference.profile.features, reference.reference_id)
    if counts.rows == 0:
        raise InputError(f"window {window.name!r} holds no rows yet")
    sampled = _sampled(reference, settings)
    if sampled:  # the window keeps its raw rows: sample them
        rows = (b for table in window.tables() for b in table.to_batches())
        only = [f for f in reference.profile.features if f.name in sampled]
        counts.samples = count_batches(only, rows, sampled).samples
    return _result(
        reference, counts, SourceInfo(f"window {window.name}", "window", counts.rows), settings
    )


def _result(
    reference: Snapshot, counts: Counts, live: SourceInfo, settings: Settings
) -> CheckResult:
    validated(settings)
    settings = replace(settings, bins=reference.bins, max_categories=reference.max_categories)
    profile = reference.profile
    samples = (counts.samples, _reference_samples(reference, set(counts.samples)))
    features = compare(profile, counts, settings, live.name, samples)
    return CheckResult(
        features=features,
        reference=reference.source,
        live=live,
        settings=settings,
        new_columns=new_columns(profile, counts, settings.excluded()),
        skipped=dict(profile.skipped),
        decision=decide(features, settings),
    )


def _sampled(reference: Snapshot, settings: Settings) -> set[str]:
    """The features whose metric compares raw values."""
    return {
        f.name for f in reference.profile.features if metric_for(f, settings)[0].on is On.SAMPLES
    }


def _reference_samples(reference: Snapshot, names: set[str]) -> dict[str, np.ndarray]:
    sample = reference.sample
    out = {}
    for name in names:
        if name in sample.column_names:
            numbers = read_numbers(sample.column(name))
            out[name] = np.asarray(numbers.values[~(numbers.missing | numbers.invalid)])
    return out
