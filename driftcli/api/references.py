"""Build a reference (from data, on either engine, or by promoting a window) or load one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from driftcli.api.common import (
    Input,
    input_name,
    read_input,
    stdin_example,
    validated,
    with_skipped,
)
from driftcli.choices import EngineName, InputFormat
from driftcli.clock import now_utc
from driftcli.columns.samples import DEFAULT_SAMPLE_ROWS, Reservoir
from driftcli.counting.buckets import Profile
from driftcli.counting.counts import Counts
from driftcli.counting.slicing import SliceProfile, SliceTally, count_slices
from driftcli.errors import InputError, UsageError, did_you_mean, option
from driftcli.grouping import BySlice
from driftcli.inputs import STDIN, Piece
from driftcli.reference.builder import Reread, build_profile
from driftcli.reference.kinds import Selection
from driftcli.results import SourceInfo
from driftcli.scoring.metrics import METRICS, Reads
from driftcli.settings import DEFAULT_SETTINGS, Settings, name_key
from driftcli.store.snapshot import Snapshot, read_snapshot, snapshot_document

if TYPE_CHECKING:  # engines and the store are imported where used: a check of files
    # needs neither
    from driftcli.engine import Engine
    from driftcli.store import Store


def build_reference(
    spec: Input,
    settings: Settings = DEFAULT_SETTINGS,
    input_format: InputFormat | None = None,
    *,
    sample_rows: int = 0,
    sample_all_columns: bool = False,
    engine: Engine | None = None,
    slicing: BySlice | None = None,
) -> Snapshot:
    """Read reference data and fix every selected feature's buckets.

    On a distributed engine, in two passes over the files (reference/summary.py):
    the buckets from merged summaries, then exact counts over them. The sample
    of `sample_rows` rows holds the features' columns only, unless
    `sample_all_columns` (see `_sample_columns`). With `slicing`, the reference is
    also counted per slice (a second pass: the buckets must be fixed first).
    """
    validated(settings)
    if engine is not None and engine.distributed:
        if slicing is not None:
            raise slices_need_local_engine()
        snapshot = _distributed_reference(spec, settings, input_format, sample_rows, engine)
    else:
        snapshot = _local_reference(spec, settings, input_format, sample_rows, slicing)
    return _sample_columns(snapshot, settings, sample_all_columns)


def slices_need_local_engine() -> UsageError:
    """Slices on a distributed engine: refused (docs/slices.md)."""
    return BySlice.refused_on(EngineName.DASK)


def _local_reference(
    spec: Input,
    settings: Settings,
    input_format: InputFormat | None,
    sample_rows: int,
    slicing: BySlice | None = None,
) -> Snapshot:
    with read_input(spec, input_format, settings, "cat ref.csv | driftcli reference -") as source:
        if slicing is not None and not source.rereadable:
            raise UsageError(
                f"{source.name}: {option('slice')} reads the reference twice, and it can be "
                "read once",
                hint="save it to a file first, or build a snapshot from a file: driftcli "
                f"reference DATA {option('slice')} COLUMN {option('output')} ref.parquet",
            )
        tally = SliceTally(slicing.column) if slicing is not None else None
        snapshot = _snapshot_of(
            (piece for piece in source.pieces() if piece is not None),
            settings,
            SourceInfo(source.name, source.format.value, 0),
            Selection.of(settings),
            sample_rows=sample_rows,
            reread=source.batches_again if source.rereadable else None,
            expected_rows=source.known_rows(),
            watch=tally.add if tally is not None else None,
        )
        if slicing is not None and tally is not None:
            snapshot = _with_slices(snapshot, slicing, tally, source.batches_again)
        return replace(snapshot, source=with_skipped(snapshot.source, source))


def _with_slices(
    snapshot: Snapshot, slicing: BySlice, tally: SliceTally, reread: Reread
) -> Snapshot:
    """The snapshot with the reference counted per slice (its rows read again)."""
    profile = snapshot.profile
    if name_key(slicing.column) not in {name_key(c) for c in profile.counts.columns}:
        raise UsageError(
            f"{option('slice')} {slicing.column}: not a column of {snapshot.source.name}",
            hint=did_you_mean(slicing.column, profile.counts.columns, "its columns:"),
        )
    column = next(c for c in profile.counts.columns if name_key(c) == name_key(slicing.column))
    values = tally.slices(BySlice(column, slicing.max_slices))
    names = [*(f.name for f in profile.features), column]
    name = snapshot.source.name
    pieces = _as_pieces(reread(list(dict.fromkeys(names))), name)
    counted = count_slices(profile.features, values, pieces)
    if counted.whole().rows != profile.counts.rows:
        raise InputError(
            f"the reference changed while it was read ({profile.counts.rows:,} rows, "
            f"then {counted.whole().rows:,})"
        )
    slices = SliceProfile(values, counted.groups, slicing.max_slices)
    return replace(snapshot, slices=slices)


def _as_pieces(batches: Iterable[pa.RecordBatch], name: str) -> Iterator[Piece]:
    rows = 0
    for batch in batches:
        yield Piece(pa.Table.from_batches([batch]), None, rows, None, name)
        rows += batch.num_rows


def reference_from_window(
    store: Store,
    name: str,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    sample_all_columns: bool = False,
    slicing: BySlice | None = None,
) -> Snapshot:
    """Profile the raw rows of the store's window `name` as a new reference (promotion;
    `slicing`: counted per slice too)."""
    validated(settings)
    window = store.window(name)
    if not window.exists():
        raise UsageError(f"no window named {window.name!r} in the store {window.store.root}")
    batches = (batch for table in window.tables() for batch in table.to_batches())
    source = SourceInfo(f"window {window.name}", "window", 0)
    # Rows stored from CSV are text: keep the kinds the current reference gave them.
    kept = (
        {f.name: f.kind for f in store.load_reference().profile.features}
        if store.has_reference()
        else {}
    )
    selection = Selection.of(settings)
    selection = replace(selection, kinds={**kept, **selection.kinds})
    tally = SliceTally(slicing.column) if slicing is not None else None
    snapshot = _snapshot_of(
        batches,
        settings,
        source,
        selection,
        sample_rows=sample_rows,
        watch=tally.add if tally is not None else None,
    )
    if slicing is not None and tally is not None:

        def again(names: Sequence[str]) -> Iterator[pa.RecordBatch]:
            return (batch for table in window.tables() for batch in table.to_batches())

        snapshot = _with_slices(snapshot, slicing, tally, again)
    return _sample_columns(snapshot, settings, sample_all_columns)


def _sample_columns(snapshot: Snapshot, settings: Settings, all_columns: bool) -> Snapshot:
    """The snapshot with its sample rows cut down to the features' columns.

    Only the features' raw values are ever read back (raw-sample metrics);
    the columns the reference does not score (identifiers, names, free text,
    times, columns --features leaves out) would only carry personal data
    into a file that gets copied around. `all_columns` keeps every column but
    the --exclude'd ones (--sample-all-columns).
    """
    sample = snapshot.sample
    if all_columns:
        excluded = {name_key(c) for c in settings.excluded()}
        dropped = [c for c in sample.column_names if name_key(c) in excluded]
    else:
        kept = {f.name for f in snapshot.profile.features}
        dropped = [c for c in sample.column_names if c not in kept]
    return replace(snapshot, sample=sample.drop_columns(dropped)) if dropped else snapshot


def _snapshot_of(
    batches: Iterable[pa.RecordBatch] | Iterable[Piece],
    settings: Settings,
    source: SourceInfo,
    selection: Selection,
    *,
    sample_rows: int,
    reread: Reread | None = None,
    expected_rows: int | None = None,
    watch: Callable[[pa.Table | pa.RecordBatch], None] | None = None,
) -> Snapshot:
    reservoir = Reservoir(sample_rows)

    def sampled() -> Iterator[pa.RecordBatch | Piece]:
        for item in batches:
            table = item.table if isinstance(item, Piece) else item
            reservoir.add(table)
            if watch is not None:
                watch(table)
            yield item

    profile = build_profile(sampled(), selection, reread=reread, expected_rows=expected_rows)
    return _snapshot(
        profile, replace(source, rows=profile.counts.rows), settings, reservoir.table()
    )


def _snapshot(
    profile: Profile, source: SourceInfo, settings: Settings, sample: pa.Table
) -> Snapshot:
    """Check a freshly profiled reference and wrap it as a snapshot."""
    if profile.counts.rows == 0:
        raise InputError(f"{source.name}: no data rows in the reference")
    check_selection(profile, settings, source.name)
    if not profile.features:
        reasons = "; ".join(f"{name}: {why}" for name, why in profile.skipped.items())
        detail = f" ({reasons})" if reasons else ""
        raise InputError(f"{source.name}: no column in the reference can be scored{detail}")
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
    from driftcli.engine.tasks import count_with, fragments_of, summarize_with
    from driftcli.reference.summary import features_from

    fragments = fragments_of(spec, input_format, settings)
    selection = Selection.of(settings)
    summary, bad = summarize_with(engine, fragments, sample_rows, dict(selection.kinds))
    features, skipped = features_from(summary, selection)
    # Its bad lines were counted by the first pass; a second would count them again.
    counts = (
        count_with(engine, fragments, features, set())[0] if features else Counts(summary.rows, {})
    )
    counts.columns = list(summary.columns)
    source = SourceInfo(
        input_name(spec),
        fragments[0].format.value,
        summary.rows,
        skipped_lines=bad.count,
        first_skipped=bad.first,
    )
    return _snapshot(Profile(features, counts, skipped), source, settings, summary.sample.table())


def load_reference(
    spec: Input,
    settings: Settings = DEFAULT_SETTINGS,
    input_format: InputFormat | None = None,
    engine: Engine | None = None,
    slicing: BySlice | None = None,
) -> Snapshot:
    """A reference from raw data, or from a snapshot file without re-reading its data
    (`slicing`: counted per slice too; a snapshot holds its slices, or none)."""
    parquet = input_format in (None, InputFormat.PARQUET)
    if isinstance(spec, str) and spec != STDIN and parquet and is_snapshot(Path(spec)):
        return restrict(read_snapshot(Path(spec)), settings)
    sample_rows = DEFAULT_SAMPLE_ROWS if uses_samples(settings) else 0
    with stdin_example(f"cat ref.parquet | driftcli check LIVE {option('ref')} -"):
        return build_reference(
            spec, settings, input_format, sample_rows=sample_rows, engine=engine, slicing=slicing
        )


def is_snapshot(path: Path) -> bool:
    try:
        return path.is_file() and snapshot_document(path) is not None
    except OSError:  # a path too long, a link loop: said as for any input, when it is read
        return False


def uses_samples(settings: Settings) -> bool:
    """Does any feature's metric need raw values (ks, wasserstein), or the joint test rows?"""
    if settings.joint:
        return True
    names = [settings.metric, *(o.metric for _, o in settings.overrides if o.metric)]
    return any(METRICS[n].reads is Reads.SAMPLES for n in names if n in METRICS)


def restrict(snapshot: Snapshot, settings: Settings) -> Snapshot:
    """Apply --features / --exclude to an already profiled reference."""
    profile = snapshot.profile
    check_selection(profile, settings, snapshot.source.name)
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
        raise UsageError(
            f"no feature left to check after {option('features')} / {option('exclude')}"
        )
    if len(kept) == len(profile.features):
        return snapshot
    return replace(
        snapshot,
        profile=replace(profile, features=kept),
        restricted_from=snapshot.whole_reference_id,
    )


def check_selection(profile: Profile, settings: Settings, name: str) -> None:
    """Names the settings give that the reference cannot honour are usage errors.

    --features and --fail-on must name scored features (a skipped or excluded
    column would silently drop out of the check); --exclude and the config's
    per-feature sections must name columns of the reference.
    """
    known = {name_key(c) for c in profile.counts.columns}
    scored = {name_key(f.name) for f in profile.features}
    skipped = {name_key(c): why for c, why in profile.skipped.items()}
    for named, wanted in (
        (option("features"), settings.features),
        (option("fail_on"), settings.fail_on),
    ):
        for want in wanted:
            key = name_key(want)
            if key in known and key not in scored:
                why = skipped.get(
                    key,
                    f"left out by {option('features')}/{option('exclude')}, "
                    "now or in the reference",
                )
                raise UsageError(f"{named}: {want!r} is not among the features checked ({why})")
    for feature_name, _ in settings.overrides:
        if name_key(feature_name) not in known:
            raise UsageError(
                f"config [features.{feature_name}]: {feature_name!r} is not a column of {name}",
                hint=did_you_mean(feature_name, profile.counts.columns, "its columns:"),
            )
    known = {name_key(c) for c in profile.counts.columns}
    selections = (
        (option("features"), settings.features),
        (option("exclude"), settings.exclude),
        (option("fail_on"), settings.fail_on),
    )
    for named, wanted in selections:
        unknown = [w for w in wanted if name_key(w) not in known]
        if unknown:
            raise UsageError(
                f"{named}: {unknown[0]!r} is not a column of {name}",
                hint=did_you_mean(unknown[0], profile.counts.columns, "its columns:"),
            )
