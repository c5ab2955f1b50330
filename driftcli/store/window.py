"""A live window in the store: the last N rows ingested, as segment files.

    windows/NAME/window.json       the window's bound: {"max_rows": N}
    windows/NAME/seg-<n>.parquet   raw rows, oldest first; the footer holds the
                                   row count, ingest times, and the counts
                                   over the reference's buckets

Appending writes one new segment; then only the oldest segment is ever cut
(to keep exactly the last N rows), and small neighbours are merged
(compaction.py), so a window holds a few dozen segments whatever the flush
size. Every file is written atomically (durable.py); a crash leaves whole
files only. Everything read back is checked (codec.py): a damaged file is an
error naming it, and nothing is deleted because of a value read from disk
that its writer could not have written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from driftcli.clock import now_utc
from driftcli.counting.buckets import Feature
from driftcli.counting.counter import count_batches
from driftcli.counting.counts import Counts, FeatureCounts
from driftcli.errors import StoreError, option, os_reason
from driftcli.store.codec import MAX_COUNT, Damaged, field, whole
from driftcli.store.durable import (
    atomic_write_bytes,
    clean_temp_files,
    is_directory,
    listed,
    read_small,
    regular_file,
    regular_stat,
    remove_durably,
)
from driftcli.store.positions import FilePosition, with_position
from driftcli.store.rows import read_rows
from driftcli.store.segments import (
    LAST_SEGMENT,
    SEGMENT_NAME,
    Segment,
    absorbed,
    check_counts,
    read_segment_footer,
    segment_name,
    write_segment,
)

if TYPE_CHECKING:
    from driftcli.store.access import StoreAccess

DEFAULT_WINDOW_ROWS = 10_000


class AppendUnfinished(StoreError):
    """An append stored its rows, then a later write failed (the bound, a trim, a merge).

    The store is whole (every step writes whole files), the window may hold
    more rows or segments than it should until the next append.
    """

    def __init__(self, message: str, hint: str | None = None, window_rows: int = 0) -> None:
        super().__init__(message, hint)
        self.window_rows = window_rows
        """The rows the window holds, the new ones among them."""


class Window:
    """A named, bounded window of the most recent live rows."""

    def __init__(self, store: StoreAccess, name: str) -> None:
        self.store = store
        self.name = name
        self.path = store.root / "windows" / name
        self._footers: dict[str, tuple[tuple[int, int, int], Segment]] = {}
        """Footers read, by file name and the file's (inode, size, mtime): a file
        replaced since (every write replaces) is read again."""

    def exists(self) -> bool:
        return is_directory(self.path.parent) and is_directory(self.path)

    # --- reading (shared lock) ----------------------------------------------

    def segments(self) -> list[Segment]:
        """The window's segments, oldest first."""
        with self.store.locked(exclusive=False):
            return self._segments()

    def _segments(self) -> list[Segment]:
        """The segments, without those a merge left behind (see `Segment.supersedes`)."""
        segments = self._segment_files()
        merged = absorbed(segments)
        return [s for s in segments if s.number not in merged]

    def _segment_files(self) -> list[Segment]:
        if not self.exists():
            return []
        found = []
        for entry in listed(self.path):
            match = SEGMENT_NAME.fullmatch(entry.name)
            if match is None:
                self._not_a_segment(entry)
                continue
            status = regular_stat(entry)
            if status is None:
                continue
            key = (status.st_ino, status.st_size, status.st_mtime_ns)
            known = self._footers.get(entry.name)
            if known is None or known[0] != key:
                known = key, read_segment_footer(entry, int(match.group(1)))
                self._footers[entry.name] = known
            found.append(known[1])
        return sorted(found, key=lambda s: s.number)

    def _not_a_segment(self, entry: Path) -> None:
        """An entry of the window that no segment list holds: named, never silently left out.

        A name like a segment's that is not one (`seg-1000000000000.parquet`)
        would be rows no command counts: an error. Anything else but the
        window's settings and hidden (temporary) files is a warning.
        """
        if entry.name == "window.json":
            regular_file(entry)
        elif entry.name.startswith("seg-"):
            raise StoreError(
                f"{entry}: not a segment name driftcli writes (seg-, 12 digits, .parquet), "
                "so its rows would be counted by no command",
                hint="rename it to the segment name it had, or remove it",
            )
        elif not entry.name.startswith("."):
            self.store.warn(f"{entry}: not a file of a window: ignored")

    def max_rows(self) -> int:
        """The window's bound, from window.json (checked), or the default."""
        settings = self.path / "window.json"
        if not regular_file(settings):
            return DEFAULT_WINDOW_ROWS
        try:
            doc = json.loads(read_small(settings))
            return whole(field(doc, "max_rows"), "max_rows", 1)
        except (ValueError, RecursionError) as exc:
            raise StoreError(
                f"{settings}: corrupt window settings ({_why(exc)})",
                hint=f"set the bound again: driftcli ingest DATA {option('window')} {self.name} "
                f"{option('window_size')} N",
            ) from None

    def counts(self, features: list[Feature], reference_id: str) -> Counts:
        """The window's counts over `features`' buckets: cached per segment, else recounted.

        A segment counted over other buckets (ingested before the reference
        changed) is counted again from its raw rows.
        """
        with self.store.locked(exclusive=False):
            total = _empty_counts(features)
            for segment in self._segments():
                if segment.counts is not None and segment.reference_id == reference_id:
                    check_counts([segment], features, reference_id)
                    part = segment.counts
                else:
                    rows = read_rows(segment.path, segment.sealed)
                    part = count_batches(features, rows.to_batches())
                total = total.merge(part)
            return total

    def position(self, source: str) -> FilePosition | None:
        """How far the followed file `source` is ingested (None: never), as the newest
        segment says."""
        if not self.exists():
            return None  # nothing ingested yet (perhaps no store yet, to lock)
        with self.store.locked(exclusive=False):
            segments = self._segments()
        found = segments[-1].positions if segments else ()
        return next((p for p in found if p.source == source), None)

    def tables(self) -> Iterator[pa.Table]:
        """The window's raw rows, oldest first, a segment at a time."""
        with self.store.locked(exclusive=False):
            tables = [read_rows(s.path, s.sealed) for s in self._segments()]
        yield from tables

    # --- writing (exclusive lock) -------------------------------------------

    def append(
        self,
        table: pa.Table,
        *,
        features: list[Feature] | None,
        reference_id: str | None,
        max_rows: int | None = None,
        first_ingested: str | None = None,
        position: FilePosition | None = None,
    ) -> int:
        """Store `table`'s rows durably, then cut the window to its last N rows.

        Returns the rows the window holds afterwards. When this returns, the
        rows are on disk: a crash later never loses them (until they age out).
        Everything is read and checked before anything is written, and the
        new bound (`max_rows`) is written only once the rows are safe.

        The rows are stored once their segment is renamed into place. A write
        that fails before that (a full disk, an I/O error) is a `StoreError`
        and stores none of them; one that fails after it, while the window
        is kept to its bound and its segments merged, is an `AppendUnfinished`
        that says the rows are stored and how many the window holds.

        `position` (a followed file's, past these rows) is written in the same
        segment, with the positions the newest segment held (positions.py).
        """
        from driftcli.store.compaction import keep_bound

        if max_rows is not None and not 1 <= max_rows <= MAX_COUNT:
            raise ValueError(f"max_rows must be from 1 to {MAX_COUNT}, not {max_rows}")
        store = self.store
        store.create_if_pending()
        with store.locked(exclusive=True):
            if not self.exists():
                try:
                    self.path.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"{self.path}: cannot write: {os_reason(exc)}") from None
            clean_temp_files(self.path)
            limit = max_rows if max_rows is not None else self.max_rows()
            existing = self._forget_merged()
            check_counts(existing, features, reference_id)
            if table.num_rows > limit:
                table = table.slice(table.num_rows - limit)
            now = now_utc()
            number = existing[-1].number + 1 if existing else 1
            if number > LAST_SEGMENT:
                raise StoreError(
                    f"{existing[-1].path}: the last segment number a window can have, so no "
                    "segment can follow it",
                    hint="rename the window's segments seg-000000000001.parquet and on, "
                    "oldest first",
                )
            positions = with_position(existing[-1].positions if existing else (), position)
            try:
                newest = self.write_segment(
                    table, number, features, reference_id, first_ingested or now, now,
                    positions=positions,
                )  # fmt: skip
            except StoreError as exc:
                if regular_stat(self.path / segment_name(number)) is None:
                    raise  # nothing stored
                # In place, though its directory could not be made durable: readers see it.
                raise self._unfinished(
                    exc, sum(s.rows for s in existing) + table.num_rows
                ) from None
            try:
                if max_rows is not None and max_rows != self._stored_bound():
                    body = json.dumps({"max_rows": max_rows}).encode() + b"\n"
                    atomic_write_bytes(self.path / "window.json", body)
                return keep_bound(self, existing, newest, limit, features, reference_id)
            except StoreError as exc:
                raise self._unfinished(exc, sum(s.rows for s in existing) + newest.rows) from None

    def _unfinished(self, exc: StoreError, known: int) -> AppendUnfinished:
        """The rows are stored, but a later step failed: say so, with the rows the window
        holds as its files now say (or as last known, if they cannot be read)."""
        try:
            held = sum(s.rows for s in self._segments())
        except StoreError:
            held = known
        return AppendUnfinished(
            exc.said,
            "the rows of this flush are stored; the window is cut to its bound and its "
            "segments merged by the next ingest",
            window_rows=held,
        )

    def _stored_bound(self) -> int | None:
        try:
            return self.max_rows() if regular_file(self.path / "window.json") else None
        except StoreError:
            return None  # being replaced by the bound the user gave

    def _forget_merged(self) -> list[Segment]:
        """The segments, once the left-overs of an interrupted merge are removed."""
        segments = self._segment_files()
        merged = absorbed(segments)
        left_over = [s.path for s in segments if s.number in merged]
        if left_over:
            remove_durably(left_over)
        return [s for s in segments if s.number not in merged]

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
        """Write one segment file of this window (see `segments.write_segment`)."""
        path = self.path / segment_name(number)
        ingested = (first_ingested, last_ingested)
        return write_segment(
            path,
            table,
            number,
            features,
            reference_id,
            ingested,
            counts=counts,
            supersedes=supersedes,
            positions=positions,
        )


def _why(exc: BaseException) -> str:
    if isinstance(exc, Damaged):
        return str(exc)
    return "not JSON" if isinstance(exc, ValueError | RecursionError) else type(exc).__name__


def _empty_counts(features: list[Feature]) -> Counts:
    return Counts(
        0, {f.name: FeatureCounts(np.zeros(f.n_buckets, dtype=np.int64)) for f in features}, []
    )
