"""A window's upkeep after an append: cut to its bound, its small segments merged.

Only the oldest segments are ever dropped or cut, to keep exactly the last
N rows; this runs after the newest segment is safely on disk, so a crash
here leaves a window too long, never rows lost, and the next append trims
it.

Merging keeps a flush costing the same however long an ingest runs.

Every flush writes one segment, and every append and check reads every
segment's footer: without merging, a window filled 100 rows at a time holds
100 segments per 10,000 rows, and each flush pays for all of them. Here
neighbours are merged in binary tiers (two of about the same size into one,
like a binary counter) up to a target of a sixteenth of the window, so a
window holds a few dozen segments, each row is rewritten a few times at
most, and trimming the oldest segment never rewrites more than the target.

A merge writes the merged rows under the newer segment's number, saying in
its footer which segment it absorbed, then removes that one. A crash in
between leaves the absorbed file on disk, which readers skip and the next
append removes: rows are never counted twice, nor lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from driftcli.columns.values import type_class
from driftcli.counting.buckets import Feature
from driftcli.store.codec import Damaged, matching
from driftcli.store.durable import remove_durably
from driftcli.store.rows import read_rows

if TYPE_CHECKING:
    from driftcli.counting.counts import Counts
    from driftcli.store.positions import FilePosition
    from driftcli.store.segments import Segment

TIERS = 16
"""A window of N rows merges segments up to N / TIERS rows."""

MAX_SEGMENTS = 64
"""Past this many segments, the smallest neighbours merge whatever their sizes."""


class Window(Protocol):
    """What upkeep needs of a window (window.py's `Window`): to write one of its segments."""

    def write_segment(
        self,
        table: pa.Table,
        number: int,
        features: list[Feature] | None,
        reference_id: str | None,
        first_ingested: str,
        last_ingested: str,
        *,
        counts: Counts | None = None,
        supersedes: tuple[int, ...] = (),
        positions: tuple[FilePosition, ...] = (),
    ) -> Segment:
        """Write one segment file of the window, atomically."""
        ...


def keep_bound(
    window: Window,
    older: list[Segment],
    newest: Segment,
    limit: int,
    features: list[Feature] | None,
    reference_id: str | None,
) -> int:
    """Once the newest segment is stored: the window cut to `limit` rows, small segments
    merged. Returns the rows the window holds."""
    kept = _trim(window, older, newest.rows, limit, features, reference_id)
    compact(window, [*kept, newest], limit, features, reference_id)
    return sum(s.rows for s in kept) + newest.rows


def _trim(
    window: Window,
    older: list[Segment],
    newest_rows: int,
    limit: int,
    features: list[Feature] | None,
    reference_id: str | None,
) -> list[Segment]:
    """Drop and cut the oldest segments so that exactly `limit` rows remain; returns the
    older segments left."""
    older = list(older)
    excess = sum(s.rows for s in older) + newest_rows - limit
    doomed: list[Path] = []
    while older and excess >= older[0].rows:
        oldest = older.pop(0)
        excess -= oldest.rows
        doomed.append(oldest.path)
    if doomed:
        remove_durably(doomed)
    if excess > 0 and older:
        oldest = older[0]
        rows = read_rows(oldest.path, oldest.sealed).slice(excess)
        ingested = (oldest.first_ingested, oldest.last_ingested)
        older[0] = window.write_segment(
            rows, oldest.number, features, reference_id, *ingested, positions=oldest.positions
        )
    return older


def compact(
    window: Window,
    segments: list[Segment],
    limit: int,
    features: list[Feature] | None,
    reference_id: str | None,
) -> list[Segment]:
    """Merge neighbours among `segments` (oldest first, all on disk); the segments after."""
    target = max(1, limit // TIERS)
    segments = list(segments)
    refused: set[tuple[int, int]] = set()
    while (pair := _next_pair(segments, target, refused)) is not None:
        merged = _merge(window, segments[pair], segments[pair + 1], features, reference_id)
        if merged is None:
            refused.add((segments[pair].number, segments[pair + 1].number))
            continue
        segments[pair : pair + 2] = [merged]
    return segments


def _next_pair(segments: list[Segment], target: int, refused: set[tuple[int, int]]) -> int | None:
    """The position of the older of two neighbours to merge next, or None."""
    pairs = [
        i
        for i in range(len(segments) - 1)
        if (segments[i].number, segments[i + 1].number) not in refused
    ]
    if pairs and len(segments) > MAX_SEGMENTS:
        return min(pairs, key=lambda i: segments[i].rows + segments[i + 1].rows)
    last = len(segments) - 2
    if last in pairs:
        older, newer = segments[last], segments[last + 1]
        if older.rows <= newer.rows and older.rows + newer.rows <= target:
            return last
    return None


def _merge(
    window: Window,
    older: Segment,
    newer: Segment,
    features: list[Feature] | None,
    reference_id: str | None,
) -> Segment | None:
    """One segment of both; None if their rows cannot be stacked without changing a value."""
    tables = [read_rows(older.path, older.sealed), read_rows(newer.path, newer.sealed)]
    merged = _stacked(tables)
    if merged is None:
        return None
    counts = None
    if (
        features is not None
        and older.counts is not None
        and newer.counts is not None
        and older.reference_id == newer.reference_id == reference_id
    ):
        try:
            counts = matching(older.counts, features).merge(matching(newer.counts, features))
        except Damaged:
            counts = None  # counted again from the rows

    segment = window.write_segment(
        merged,
        newer.number,
        features,
        reference_id,
        older.first_ingested,
        newer.last_ingested,
        counts=counts,
        supersedes=(older.number,),
        positions=newer.positions,  # the newer's: how far the files were read after both
    )
    remove_durably([older.path])
    return segment


def _stacked(tables: list[pa.Table]) -> pa.Table | None:
    """The tables one above the other, if no column changes its family of type to get
    there (numbers stay numbers: a stored value is never rewritten as text)."""
    try:
        merged = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    for table in tables:
        for column in table.schema:
            if pa.types.is_null(column.type):
                continue
            if type_class(merged.schema.field(column.name).type) != type_class(column.type):
                return None
    return merged.combine_chunks()
