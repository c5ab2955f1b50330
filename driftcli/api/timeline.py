"""A chunked check: live data cut by time (`--by ts --every 1d`) or by rows (`--chunk-rows`),
each chunk checked against the reference as a whole check of its rows would be."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from driftcli.api.checks import (
    check_count_sets,
    check_counts,
    sampled_features,
    stored_reference,
    window_of,
)
from driftcli.api.common import (
    Input,
    existing,
    input_name,
    read_input,
    reads_stdin,
    validated,
    window_pieces,
    with_skipped,
)
from driftcli.api.references import load_reference
from driftcli.choices import EngineName, InputFormat
from driftcli.counting.chunking import Chunker, chunker_of
from driftcli.counting.counts import Counts
from driftcli.errors import InputError, UsageError, option
from driftcli.grouping import Chunking
from driftcli.inputs import Piece
from driftcli.parallel import prefetch
from driftcli.reference.kinds import BY_TIME
from driftcli.results import (
    CheckResult,
    ChunkResult,
    Decision,
    SourceInfo,
    Status,
    Timeline,
    Verdict,
)
from driftcli.scoring.chunks import decide_over_chunks, partial_chunks
from driftcli.settings import DEFAULT_SETTINGS, Settings, name_key
from driftcli.store.snapshot import Snapshot

if TYPE_CHECKING:
    from driftcli.engine import Engine
    from driftcli.store import Window
    from driftcli.store.root import Warn


def check_timeline(
    live: Input | None,
    ref: Input | None,
    chunking: Chunking,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    store: Path,
    window: str | None = None,
    live_format: InputFormat | None = None,
    ref_format: InputFormat | None = None,
    engine: Engine | None = None,
    any_chunk: bool = False,
    on_warning: Warn | None = None,
) -> Timeline:
    """The chunked check the inputs ask for; the inputs are read as `check_inputs` reads them.

    Without LIVE, the store's window is cut into chunks (a chunked check is
    not recorded in the store's history). `any_chunk`: drift when any chunk
    drifted, not only the latest with a verdict. On a distributed `engine`, files
    are cut on its workers, if the chunking allows (by rows needs the input's order:
    refused); a window is read here.
    """
    refused = chunking.refusal(EngineName.DASK) if engine and engine.distributed else None
    if refused is not None:
        raise refused
    if settings.joint:
        raise UsageError(
            f"{option('joint')} tests a whole check, not chunks: it cannot go with "
            f"{option('by')} or {option('chunk_rows')}",
            hint=f"check the joint distribution without {option('by')}/{option('chunk_rows')}",
        )
    validated(settings)
    window = window_of(live, window)
    if live and ref is not None:
        if reads_stdin(live) and reads_stdin(ref):
            raise UsageError("only one input can come from stdin ('-')")
        reference = load_reference(ref, settings, ref_format, engine=engine)
        return check_timeline_of(
            live, reference, chunking, settings, live_format, any_chunk, engine=engine
        )
    from driftcli.store import Store  # a check of files never needs the store

    home = Store.open(
        store, create=False, on_warning=on_warning, line_limit=settings.max_line_bytes
    )
    reference = stored_reference(home, ref, settings, ref_format)
    if live:
        return check_timeline_of(
            live, reference, chunking, settings, live_format, any_chunk, engine=engine
        )
    reference = without_time_column(reference, chunking)
    return _window_timeline(home.window(window), reference, chunking, settings, any_chunk)


def check_timeline_of(
    live: Input,
    reference: Snapshot,
    chunking: Chunking,
    settings: Settings = DEFAULT_SETTINGS,
    live_format: InputFormat | None = None,
    any_chunk: bool = False,
    *,
    engine: Engine | None = None,
) -> Timeline:
    """Cut live data into chunks and check each against an already profiled reference."""
    reference = without_time_column(reference, chunking)
    if engine is not None and engine.distributed:
        chunker, info = _cut_on(engine, live, reference, chunking, settings, live_format)
        return _timeline(reference, chunker, chunking, info, settings, any_chunk)
    example = (
        f"cat log.jsonl | driftcli check - {option('ref')} ref.parquet {option('by')} ts "
        f"{option('every')} 1d"
    )
    with read_input(live, live_format, settings, example) as source:
        chunker = _chunker(reference, settings, chunking, source.name)
        _feed(chunker, (p for p in source.pieces() if p is not None))
        info = with_skipped(SourceInfo(source.name, source.format.value, chunker.rows), source)
    return _timeline(reference, chunker, chunking, info, settings, any_chunk)


def _cut_on(
    engine: Engine,
    live: Input,
    reference: Snapshot,
    by: Chunking,
    settings: Settings,
    live_format: InputFormat | None,
) -> tuple[Chunker, SourceInfo]:
    """The live files cut into chunks and counted on the engine's workers."""
    from driftcli.engine.tasks import chunk_with, fragments_of

    fragments = fragments_of(live, live_format, settings)
    name = input_name(live)
    sampled = sampled_features(reference, settings)
    features = reference.profile.features
    chunker, skipped = chunk_with(engine, fragments, features, sampled, by, name)
    info = SourceInfo(
        name,
        fragments[0].format.value,
        chunker.rows,
        skipped_lines=skipped.count,
        first_skipped=skipped.first,
    )
    return chunker, info


def without_time_column(reference: Snapshot, chunking: Chunking) -> Snapshot:
    """The reference without the time column as a feature: it is never scored."""
    column = chunking.time_column
    if column is None:
        return reference
    key = name_key(column)
    features = reference.profile.features
    kept = [f for f in features if name_key(f.name) != key]
    profile = reference.profile
    # Said once, as the time column, not as a column the reference could not score.
    named = [c for c in profile.counts.columns if name_key(c) == key] or [column]
    skipped = {n: why for n, why in profile.skipped.items() if name_key(n) != key}
    skipped[named[0]] = BY_TIME
    if len(kept) == len(features):
        return replace(reference, profile=replace(profile, skipped=skipped))
    if not kept:
        raise UsageError(f"{option('by')} {column}: the reference has no feature besides it")
    return replace(
        reference,
        profile=replace(profile, features=kept, skipped=skipped),
        restricted_from=reference.whole_reference_id,
    )


def _window_timeline(
    window: Window, reference: Snapshot, chunking: Chunking, settings: Settings, any_chunk: bool
) -> Timeline:
    existing(window)
    name = f"window {window.name}"
    chunker = _chunker(reference, settings, chunking, name)
    _feed(chunker, window_pieces(window, name))
    return _timeline(
        reference, chunker, chunking, SourceInfo(name, "window", chunker.rows), settings, any_chunk
    )


def _chunker(reference: Snapshot, settings: Settings, chunking: Chunking, name: str) -> Chunker:
    sampled = sampled_features(reference, settings)
    return chunker_of(chunking, reference.profile.features, sampled, name)


def _feed(chunker: Chunker, pieces: Iterable[Piece]) -> None:
    # The next piece is parsed in a thread while this one is counted.
    for piece in prefetch(pieces):
        chunker.add(piece)


def _timeline(
    reference: Snapshot,
    chunker: Chunker,
    chunking: Chunking,
    info: SourceInfo,
    settings: Settings,
    any_chunk: bool,
) -> Timeline:
    """Check every chunk, and reach the verdict over them."""
    if chunker.rows == 0:
        raise InputError(f"{info.name}: no data rows in the live data")
    groups = chunker.groups()
    parts, spans = groups.counts, groups.spans
    ignored = () if chunking.time_column is None else (chunking.time_column,)
    short_of = partial_chunks([0 if p is None else p.rows for p in parts], chunking.full_rows)
    chunks = _checked(reference, parts, spans, info, settings, ignored)
    chunks = [replace(c, partial=short_of[c.index] is not None) for c in chunks]
    decision, deciding = decide_over_chunks(chunks, any_chunk, short_of)
    counts = parts[deciding] if deciding is not None else None
    if deciding is not None and counts is not None:
        # The chunk the verdict rests on is reported as a whole check: every p-value.
        chosen = chunks[deciding]
        full = check_counts(reference, counts, chosen.check.live, settings, ignored)
        chunks[deciding] = replace(chosen, check=full)
    timeline = Timeline(
        chunks=chunks,
        chunking=chunking,
        reference=reference.source,
        live=info,
        settings=chunks[0].check.settings,
        decision=decision,
        deciding=deciding,
        any_chunk=any_chunk,
        untimed=chunker.untimed(),
        warnings=tuple(chunker.warnings()),
    )
    return _first_drifts_explained(timeline, reference, settings)


def _first_drifts_explained(
    timeline: Timeline, reference: Snapshot, settings: Settings
) -> Timeline:
    """Each feature's first drifted chunk (`Timeline.first_drift`) with what moved in it:
    the HTML report draws that chunk against the reference. The chunks are scored without
    it, as explaining every drifted feature of thousands of chunks would cost seconds."""
    from driftcli.scoring.explain import explained

    features = {f.name: f for f in reference.profile.features}
    chunks = list(timeline.chunks)
    for name in timeline.feature_names:
        first = timeline.first_drift(name)
        if first is None or name not in features:
            continue
        results = list(chunks[first.index].check.features)
        at = next(i for i, f in enumerate(results) if f.name == name)
        if not results[at].moves:
            results[at] = explained(results[at], features[name], settings.smoothing)
            check = replace(first.check, features=results)
            chunks[first.index] = replace(first, check=check)
    return replace(timeline, chunks=chunks)


def _checked(
    reference: Snapshot,
    parts: list[Counts | None],
    spans: list[tuple[str | int, str | int]],
    info: SourceInfo,
    settings: Settings,
    ignored: tuple[str, ...],
) -> list[ChunkResult]:
    """Each chunk checked as a whole check of its rows (every chunk's features scored at
    once); a chunk without rows, unjudged."""
    filled = [(i, counts) for i, counts in enumerate(parts) if counts is not None]
    infos = [
        SourceInfo(f"{info.name} [{spans[i][0]}]", info.format, counts.rows) for i, counts in filled
    ]
    results = check_count_sets(
        reference, [counts for _, counts in filled], infos, settings, ignored, lazy_p_values=True
    )
    checks: list[CheckResult | None] = [None] * len(parts)
    for (i, _), result in zip(filled, results, strict=True):
        checks[i] = result
    template = next(c for c in checks if c is not None)
    return [
        ChunkResult(
            index,
            start,
            end,
            check if check is not None else _without_rows(template, f"{info.name} [{start}]"),
        )
        for index, (check, (start, end)) in enumerate(zip(checks, spans, strict=True))
    ]


def _without_rows(like: CheckResult, name: str) -> CheckResult:
    """The check of a chunk without rows (a gap in the input): no feature can be judged."""
    why = "no rows in this chunk"
    features = [
        replace(
            f,
            status=Status.INSUFFICIENT,
            score=None,
            p_value=None,
            p_adjusted=None,
            p_method=None,
            live=np.zeros_like(f.live),
            reason=why,
            invalid_at=(),
        )
        for f in like.features
    ]
    return replace(
        like,
        features=features,
        live=replace(like.live, name=name, rows=0),
        new_columns=[],
        decision=Decision(Verdict.NO_VERDICT, why),
    )
