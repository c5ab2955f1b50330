"""The library API the CLI and the tests both call. Never prints, never exits.

`check("live.parquet", "ref.parquet")` returns a `CheckResult`; its `drift`
is the verdict behind the exit code. `build_reference`, `check_window` and
`ingest` work with the on-disk store (store.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from driftcli.clock import now_utc
from driftcli.compare import compare, decide, metric_for, new_columns
from driftcli.errors import InputError, UsageError
from driftcli.formats import InputFormat
from driftcli.metrics import METRICS, On
from driftcli.parallel import prefetch
from driftcli.profile import (
    Counts,
    Feature,
    Kind,
    Profile,
    build_profile,
    count_batches,
    count_chunks,
    name_key,
)
from driftcli.readers import STDIN, Chunk, Source, open_source
from driftcli.results import (
    DEFAULT_SETTINGS,
    CheckResult,
    ReferenceStatus,
    Settings,
    SourceInfo,
    StoreStatus,
    WindowStatus,
)
from driftcli.sample import DEFAULT_SAMPLE_ROWS, Reservoir
from driftcli.snapshot import Snapshot, read_snapshot, snapshot_document
from driftcli.text_formats import BadLines
from driftcli.values import TypeClass, concat_tables, read_numbers, read_texts, type_class

if TYPE_CHECKING:  # engines and the store are imported where used: a check of files
    # needs neither (start-up).
    from driftcli.engine import Engine
    from driftcli.store import Store, Window

Input = str | Sequence[str]
"""A path, `-` for stdin, a directory or glob, or a list of paths (see readers.open_source)."""


def _reads_stdin(spec: Input) -> bool:
    return spec == STDIN if isinstance(spec, str) else STDIN in spec


# --- references -------------------------------------------------------------


def build_reference(
    spec: Input,
    settings: Settings = DEFAULT_SETTINGS,
    input_format: InputFormat | None = None,
    *,
    sample_rows: int = 0,
    engine: Engine | None = None,
) -> Snapshot:
    """Read reference data and fix every selected feature's buckets.

    On a distributed engine, in two passes over the files (summary.py): the
    buckets from merged summaries, then exact counts over them.
    """
    _validate(settings)
    if engine is not None and engine.distributed:
        return _distributed_reference(spec, settings, input_format, sample_rows, engine)
    with open_source(spec, input_format, skip_bad_lines=settings.skip_bad_lines) as source:
        _hint_skipping(source)
        snapshot = _snapshot_of(
            (chunk for chunk in source.chunks() if chunk is not None),
            settings,
            SourceInfo(source.name, source.format.value, 0),
            sample_rows=sample_rows,
            reread=source.batches_again if source.rereadable else None,
            expected_rows=source.known_rows(),
        )
        return replace(snapshot, source=_with_skipped(snapshot.source, source))


def reference_from_window(
    window: Window, settings: Settings = DEFAULT_SETTINGS, *, sample_rows: int = DEFAULT_SAMPLE_ROWS
) -> Snapshot:
    """Profile a window's raw rows as a new reference (promotion)."""
    _validate(settings)
    if not window.exists():
        raise UsageError(f"no window named {window.name!r} in the store {window.store.root}")
    batches = (batch for table in window.tables() for batch in table.to_batches())
    source = SourceInfo(f"window {window.name}", "window", 0)
    # Rows stored from CSV are text: keep the kinds the current reference gave them.
    store = window.store
    kinds = (
        {f.name: f.kind for f in store.load_reference().profile.features}
        if store.has_reference()
        else {}
    )
    return _snapshot_of(batches, settings, source, sample_rows=sample_rows, kinds=kinds)


def _snapshot_of(
    batches: Iterable[pa.RecordBatch] | Iterable[Chunk],
    settings: Settings,
    source: SourceInfo,
    *,
    sample_rows: int,
    kinds: dict[str, Kind] | None = None,
    reread: Callable[[Sequence[str]], Iterable[pa.RecordBatch]] | None = None,
    expected_rows: int | None = None,
) -> Snapshot:
    reservoir = Reservoir(sample_rows)
    overrides = dict(settings.overrides)
    kinds = {**(kinds or {}), **{n: o.kind for n, o in overrides.items() if o.kind is not None}}
    profile = build_profile(
        reservoir.observe(batches),
        bins=settings.bins,
        max_categories=settings.max_categories,
        kinds=kinds,
        bins_for={n: o.bins for n, o in overrides.items() if o.bins is not None},
        columns=settings.features or None,
        exclude=settings.excluded(),
        reread=reread,
        expected_rows=expected_rows,
    )
    return _snapshot(
        profile, replace(source, rows=profile.counts.rows), settings, reservoir.table()
    )


def _snapshot(
    profile: Profile, source: SourceInfo, settings: Settings, sample: pa.Table
) -> Snapshot:
    """Check a freshly profiled reference and wrap it as a snapshot."""
    if profile.counts.rows == 0:
        raise InputError(f"{source.name}: no data rows in the reference")
    _check_selection(profile, settings, source.name)
    if not profile.features:
        reasons = "; ".join(f"{name}: {why}" for name, why in profile.skipped.items())
        detail = f" ({reasons})" if reasons else ""
        raise InputError(f"{source.name}: no column in the reference can be scored{detail}")
    if settings.excluded() and sample.num_columns:
        excluded = {name_key(c) for c in settings.excluded()}
        sample = sample.drop_columns([c for c in sample.column_names if name_key(c) in excluded])
    return Snapshot(
        profile=profile,
        source=source,
        created=now_utc(),
        bins=settings.bins,
        max_categories=settings.max_categories,
        sample=sample,
    )


def _distributed_reference(
    spec: Input,
    settings: Settings,
    input_format: InputFormat | None,
    sample_rows: int,
    engine: Engine,
) -> Snapshot:
    from driftcli.engine import count_with, fragments_of, summarize_with
    from driftcli.summary import features_from

    fragments = fragments_of(spec, input_format)
    summary = summarize_with(engine, fragments, sample_rows)
    overrides = dict(settings.overrides)
    features, skipped = features_from(
        summary,
        bins=settings.bins,
        max_categories=settings.max_categories,
        columns={name_key(c) for c in settings.features} or None,
        exclude=frozenset(name_key(c) for c in settings.excluded()),
        kinds={n: o.kind for n, o in overrides.items() if o.kind is not None},
        bins_for={name_key(n): o.bins for n, o in overrides.items() if o.bins is not None},
    )
    counts = (
        count_with(engine, fragments, features, set()) if features else Counts(summary.rows, {})
    )
    counts.columns = list(summary.columns)
    source = SourceInfo(_input_name(spec), fragments[0].format.value, summary.rows)
    return _snapshot(Profile(features, counts, skipped), source, settings, summary.sample.table())


def _hint_skipping(source: Source) -> None:
    source.bad_lines.hint = "pass --skip-bad-lines to count and skip such lines"


def _with_skipped(info: SourceInfo, source: Source) -> SourceInfo:
    bad = source.bad_lines
    return replace(info, skipped_lines=bad.count, first_skipped=tuple(sorted(bad.first)))


def _input_name(spec: Input) -> str:
    return spec if isinstance(spec, str) else f"{spec[0]} (+{len(spec) - 1} more)"


def load_reference(
    spec: Input,
    settings: Settings = DEFAULT_SETTINGS,
    input_format: InputFormat | None = None,
    engine: Engine | None = None,
) -> Snapshot:
    """A reference from raw data, or from a snapshot file without re-reading its data."""
    if isinstance(spec, str) and spec != STDIN and input_format in (None, InputFormat.PARQUET):
        path = Path(spec)
        if path.is_file() and snapshot_document(path) is not None:
            return restrict(read_snapshot(path), settings)
    sample_rows = DEFAULT_SAMPLE_ROWS if uses_samples(settings) else 0
    return build_reference(spec, settings, input_format, sample_rows=sample_rows, engine=engine)


def restrict(snapshot: Snapshot, settings: Settings) -> Snapshot:
    """Apply --features / --exclude to an already profiled reference."""
    profile = snapshot.profile
    _check_selection(profile, settings, snapshot.source.name)
    wanted = {name_key(n) for n in settings.features} or {
        name_key(f.name) for f in profile.features
    }
    excluded = {name_key(n) for n in settings.excluded()}
    kept = [
        f
        for f in profile.features
        if name_key(f.name) in wanted and name_key(f.name) not in excluded
    ]
    if not kept:
        raise UsageError("no feature left to check after --features / --exclude")
    if len(kept) == len(profile.features):
        return snapshot
    return replace(snapshot, profile=replace(profile, features=kept))


# --- checks -----------------------------------------------------------------


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
    if _reads_stdin(live) and _reads_stdin(ref):
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
        from driftcli.engine import count_with, fragments_of

        fragments = fragments_of(live, live_format)
        counts = count_with(engine, fragments, reference.profile.features, sampled)
        info = SourceInfo(_input_name(live), fragments[0].format.value, counts.rows)
    else:
        with open_source(live, live_format, skip_bad_lines=settings.skip_bad_lines) as source:
            _hint_skipping(source)
            counts = count_chunks(reference.profile.features, source.chunks(), sampled)
            info = _with_skipped(SourceInfo(source.name, source.format.value, counts.rows), source)
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
    _validate(settings)
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


def uses_samples(settings: Settings) -> bool:
    """Does any feature's metric need raw values (ks, wasserstein)?"""
    names = [settings.metric, *(o.metric for _, o in settings.overrides if o.metric)]
    return any(METRICS[n].on is On.SAMPLES for n in names if n in METRICS)


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


# --- ingest -----------------------------------------------------------------

DEFAULT_FLUSH_ROWS = 10_000
DEFAULT_FLUSH_SECONDS = 5.0


@dataclass
class IngestReport:
    """What an ingest did."""

    rows_read: int = 0
    rows_stored: int = 0
    window_rows: int = 0
    flushes: int = 0
    checks: int = 0
    bad_lines: BadLines = field(default_factory=BadLines)


@dataclass(frozen=True)
class IngestOptions:
    window: str = "live"
    max_rows: int | None = None
    """The window's bound; None keeps the window's own (default 10,000 rows)."""
    flush_rows: int = DEFAULT_FLUSH_ROWS
    flush_seconds: float = DEFAULT_FLUSH_SECONDS
    check_every: int | None = None
    skip_bad_lines: bool = False
    input_format: InputFormat | None = None


def ingest(
    spec: Input,
    store: Store,
    options: IngestOptions = IngestOptions(),
    settings: Settings = DEFAULT_SETTINGS,
    *,
    on_flush: Callable[[int, int], None] | None = None,
    on_check: Callable[[CheckResult], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> IngestReport:
    """Append rows to a window: flush every `flush_rows` rows or `flush_seconds`.

    A malformed line, or a value that does not read as its feature's type,
    stops the ingest with an `InputError` naming the line; rows not yet
    flushed are dropped, so the store holds only what earlier flushes
    reported. With `skip_bad_lines` such lines are counted and skipped.
    With `check_every`, the window is checked after every that many rows and
    `on_check` gets the result. An interrupt (Ctrl-C, SIGTERM turned into
    KeyboardInterrupt) flushes what was read, then re-raises.

    Rows that share no column with the stored reference are refused (an
    `InputError`, before they are stored); rows that lack some of its
    features are stored, and `on_warning` hears of each such feature once.
    """
    _validate_ingest(options)
    reference = store.load_reference() if store.has_reference() else None
    if options.check_every and reference is None:
        raise UsageError(
            "--check-every needs a reference in the store",
            hint="build one first with: driftcli reference DATA",
        )
    window = store.window(options.window)
    features = reference.profile.features if reference else None
    reference_id = reference.reference_id if reference else None
    report = IngestReport()
    pending: list[pa.Table] = []
    lacking: set[str] = set()
    pending_since = 0.0
    since_check = 0

    def flush() -> None:
        nonlocal pending
        if not pending:
            return
        # One chunk: a flush spanning two parsed chunks was counted as two
        # batches (10k rows x 25 columns: 13.8 ms, one batch 8.3 ms).
        table = concat_tables(pending).combine_chunks()
        pending = []
        report.window_rows = window.append(
            table, features=features, reference_id=reference_id, max_rows=options.max_rows
        )
        report.rows_stored += table.num_rows
        report.flushes += 1
        if on_flush:
            on_flush(table.num_rows, report.window_rows)

    # Rows reach the loop within half a second even when flushes are rare, so
    # an interrupt can flush them and a time-based flush is never late by much.
    latency = min(0.5, max(0.05, options.flush_seconds / 2))
    with open_source(spec, options.input_format, skip_bad_lines=options.skip_bad_lines) as source:
        source.bad_lines.hint = "pass --skip-bad-lines to count and skip such lines"
        report.bad_lines = source.bad_lines
        try:
            # Parse the next chunk in a thread while this one is checked and stored.
            for chunk in prefetch(source.chunks(max_latency=latency), depth=1):
                if chunk is not None:
                    if features is not None:
                        _check_columns(chunk, features, lacking, on_warning)
                    table = _valid_rows(chunk, features, source)
                    report.rows_read += chunk.table.num_rows
                    while table.num_rows:
                        # Cut at the next flush or check, so neither is late by a chunk.
                        take = min(table.num_rows, options.flush_rows - _rows(pending))
                        if options.check_every:
                            take = min(take, options.check_every - since_check)
                        if not pending:
                            pending_since = time.monotonic()
                        pending.append(table.slice(0, take))
                        table = table.slice(take)
                        since_check += take
                        if options.check_every and since_check >= options.check_every:
                            flush()
                            since_check = 0
                            assert reference is not None
                            report.checks += 1
                            if on_check:
                                on_check(check_window(window, reference, settings))
                        elif _rows(pending) >= options.flush_rows:
                            flush()
                if pending and time.monotonic() - pending_since >= options.flush_seconds:
                    flush()
        except KeyboardInterrupt:
            flush()
            raise
        flush()
    if report.rows_read == 0 and report.bad_lines.count == 0:
        raise InputError(f"{source.name}: no data rows to ingest")
    return report


def _rows(tables: list[pa.Table]) -> int:
    return sum(t.num_rows for t in tables)


def _validate_ingest(options: IngestOptions) -> None:
    if options.flush_rows < 1:
        raise UsageError(f"--flush-rows must be at least 1, not {options.flush_rows}")
    if not options.flush_seconds > 0:
        raise UsageError(f"--flush-seconds must be above 0, not {options.flush_seconds}")
    if options.max_rows is not None and options.max_rows < 1:
        raise UsageError(f"--window-size must be at least 1, not {options.max_rows}")
    if options.check_every is not None and options.check_every < 1:
        raise UsageError(f"--check-every must be at least 1, not {options.check_every}")


def _check_columns(
    chunk: Chunk,
    features: list[Feature],
    lacking: set[str],
    on_warning: Callable[[str], None] | None,
) -> None:
    """Refuse rows that share no column with the reference; warn once per feature they lack."""
    columns = set(chunk.table.column_names)
    if not chunk.table.num_rows:
        return
    where = f"{chunk.origin}: {chunk.unit} {int(chunk.row_lines()[0])}"
    if not any(f.name in columns for f in features):
        raise InputError(
            f"{where}: the rows share no column with the stored reference; nothing stored "
            "from here on",
            hint="reference features: "
            + ", ".join(f.name for f in features[:8])
            + (" ..." if len(features) > 8 else ""),
        )
    absent = [f.name for f in features if f.name not in columns and f.name not in lacking]
    if absent:
        lacking.update(absent)
        if on_warning is not None:
            on_warning(
                f"{where}: rows lack the reference feature{'s' if len(absent) > 1 else ''} "
                f"{', '.join(absent)} (stored as missing)"
            )


def _valid_rows(chunk: Chunk, features: list[Feature] | None, source: Source) -> pa.Table:
    """The chunk's rows whose values read as their features' types.

    A bad row is an error naming its line, or with --skip-bad-lines, a
    skipped line (counted with the malformed ones).
    """
    table = chunk.table
    if not features or not table.num_rows:
        return table
    masks: list[tuple[str, np.ndarray]] = []
    for feature in features:
        if feature.name in table.column_names:
            column = table.column(feature.name)
            family = type_class(column.type)
            # Only words, booleans (in a numeric feature) and nested values can
            # be of the wrong type; skip the pass over every other column.
            numeric = feature.kind is Kind.NUMERIC
            if family is not TypeClass.OTHER and not (
                numeric and family in (TypeClass.TEXT, TypeClass.BOOL)
            ):
                continue
            read = read_numbers if feature.kind is Kind.NUMERIC else read_texts
            invalid = read(column).invalid
            if invalid.any():
                masks.append((feature.name, invalid))
    if not masks:
        return table
    bad = np.logical_or.reduce([mask for _, mask in masks])
    first = int(np.argmax(bad))
    culprit = next(name for name, mask in masks if mask[first])
    source.bad_lines.report_many(
        chunk.origin,
        chunk.row_lines()[bad].tolist(),
        f"{culprit}: value is not of the reference's type",
        unit=chunk.unit,
    )
    return table.filter(pa.array(~bad))


# --- status -----------------------------------------------------------------


def store_status(store: Store) -> StoreStatus:
    """What the store holds: the reference, and each window's rows and time span."""
    reference = None
    if store.has_reference():
        snapshot = store.load_reference()
        reference = ReferenceStatus(
            source=snapshot.source,
            created=snapshot.created,
            features=len(snapshot.profile.features),
            sample_rows=snapshot.sample.num_rows,
            reference_id=snapshot.reference_id,
            tool_version=snapshot.tool_version,
        )
    windows = []
    for name in store.window_names():
        window = store.window(name)
        segments = window.segments()
        windows.append(
            WindowStatus(
                name=name,
                rows=sum(s.rows for s in segments),
                max_rows=window.max_rows(),
                segments=len(segments),
                first_ingested=segments[0].first_ingested if segments else None,
                last_ingested=segments[-1].last_ingested if segments else None,
            )
        )
    return StoreStatus(str(store.root), reference, windows)


# --- shared -----------------------------------------------------------------


def _validate(settings: Settings) -> None:
    if settings.bins < 2:
        raise UsageError(f"--bins must be at least 2, not {settings.bins}")
    if settings.max_categories < 1:
        raise UsageError(f"the category cap must be at least 1, not {settings.max_categories}")
    thresholds = [("--threshold", settings.threshold)] + [
        (f"features.{n}.threshold", o.threshold) for n, o in settings.overrides
    ]
    for option, value in thresholds:
        if value is not None and not (value >= 0 and math.isfinite(value)):
            raise UsageError(f"{option} must be a number of at least 0, not {value}")
    if not 0 < settings.evidence < 1:
        raise UsageError(f"--evidence must be between 0 and 1, not {settings.evidence}")
    for option, metric in [("--metric", settings.metric)] + [
        (f"features.{n}.metric", o.metric) for n, o in settings.overrides if o.metric
    ]:
        if metric not in METRICS:
            choices = ", ".join(METRICS)
            raise UsageError(
                f"{option}: unknown metric {metric!r}", hint=f"choose one of {choices}"
            )
    if settings.alpha is not None and not 0 < settings.alpha < 1:
        raise UsageError(f"--alpha must be between 0 and 1, not {settings.alpha}")
    share = settings.max_drift_share
    if share is not None and not 0 <= share < 1:
        raise UsageError(f"--max-drift-share must be at least 0 and below 1, not {share}")
    if settings.min_rows is not None and settings.min_rows < 1:
        raise UsageError(f"--min-rows must be at least 1, not {settings.min_rows}")
    for feature_name, override in settings.overrides:
        if override.bins is not None and override.bins < 2:
            raise UsageError(
                f"features.{feature_name}.bins must be at least 2, not {override.bins}"
            )
    overlap = set(settings.features) & set(settings.exclude)
    if overlap:
        raise UsageError(f"{sorted(overlap)[0]!r} is both selected and excluded")


def _check_selection(profile: Profile, settings: Settings, name: str) -> None:
    """Names the settings give that the reference cannot honour are usage errors.

    --features and --fail-on must name scored features (a skipped or excluded
    column would silently drop out of the check); --exclude and the config's
    per-feature sections must name columns of the reference.
    """
    known = {name_key(c) for c in profile.counts.columns}
    scored = {name_key(f.name) for f in profile.features}
    skipped = {name_key(c): why for c, why in profile.skipped.items()}
    for option, wanted in (("--features", settings.features), ("--fail-on", settings.fail_on)):
        for want in wanted:
            key = name_key(want)
            if key in known and key not in scored:
                why = skipped.get(key, "left out by --features/--exclude, now or in the reference")
                raise UsageError(f"{option}: {want!r} is not among the features checked ({why})")
    for feature_name, _ in settings.overrides:
        if name_key(feature_name) not in known:
            raise UsageError(
                f"config [features.{feature_name}]: {feature_name!r} is not a column of {name}",
                hint=f"its columns: {', '.join(profile.counts.columns[:12])}",
            )
    known = {name_key(c) for c in profile.counts.columns}
    selections = (
        ("--features", settings.features),
        ("--exclude", settings.exclude),
        ("--fail-on", settings.fail_on),
    )
    for option, wanted in selections:
        unknown = [w for w in wanted if name_key(w) not in known]
        if unknown:
            raise UsageError(
                f"{option}: {unknown[0]!r} is not a column of {name}",
                hint=f"its columns: {', '.join(profile.counts.columns[:12])}",
            )
