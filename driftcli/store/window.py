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
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from driftcli.clock import now_utc
from driftcli.counting.counter import count_batches
from driftcli.counting.counts import Counts, FeatureCounts
from driftcli.errors import StoreError
from driftcli.reference.buckets import Feature
from driftcli.store.codec import (
    FORMAT_VERSION,
    MAX_COUNT,
    Damaged,
    checked_document,
    checksum,
    decode_counts,
    encode_counts,
    field,
    matching,
    moment,
    text,
    whole,
)
from driftcli.store.durable import (
    atomic_write,
    atomic_write_bytes,
    clean_temp_files,
    is_directory,
    listed,
    read_small,
    regular_file,
    regular_stat,
    remove_durably,
)
from driftcli.store.rows import (
    FILE_CHECKSUM,
    REMOVE_HINT,
    read_failure,
    read_rows,
    sealed,
    write_rows,
)

if TYPE_CHECKING:
    from driftcli.store.root import Store

DEFAULT_WINDOW_ROWS = 10_000

SEGMENT_KEY = b"driftcli.segment"
CHECKSUM_KEY = b"driftcli.segment.sha256"
"""The SHA-256 of the footer document, beside it (segments before 0.2.0 have none)."""

_SEGMENT_NAME = re.compile(r"seg-(\d{12})\.parquet")
LAST_SEGMENT = 10**12 - 1
"""Segment numbers have 12 digits: none is written past this one."""


@dataclass(frozen=True)
class Segment:
    """One segment file of a window, as its footer describes it."""

    path: Path
    number: int
    rows: int
    first_ingested: str
    last_ingested: str
    reference_id: str | None
    counts: Counts | None
    supersedes: tuple[int, ...] = ()
    """Segments merged into this one (compaction.py): any still on disk are left-overs."""
    sealed: bool = False
    """The file carries a checksum of all its bytes (rows.py), checked when its rows are read."""


class Window:
    """A named, bounded window of the most recent live rows."""

    def __init__(self, store: Store, name: str) -> None:
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
        merged = _absorbed(segments)
        return [s for s in segments if s.number not in merged]

    def _segment_files(self) -> list[Segment]:
        if not self.exists():
            return []
        found = []
        for entry in listed(self.path):
            match = _SEGMENT_NAME.fullmatch(entry.name)
            if match is None:
                self._not_a_segment(entry)
                continue
            status = regular_stat(entry)
            if status is None:
                continue
            key = (status.st_ino, status.st_size, status.st_mtime_ns)
            known = self._footers.get(entry.name)
            if known is None or known[0] != key:
                known = key, _read_segment_footer(entry, int(match.group(1)))
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
                hint=f"set the bound again: driftcli ingest DATA --window {self.name} "
                "--window-size N",
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
                    _check_counts([segment], features, reference_id)
                    part = segment.counts
                else:
                    rows = read_rows(segment.path, segment.sealed)
                    part = count_batches(features, rows.to_batches())
                total = total.merge(part)
            return total

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
    ) -> int:
        """Store `table`'s rows durably, then cut the window to its last N rows.

        Returns the rows the window holds afterwards. When this returns, the
        rows are on disk: a crash later never loses them (until they age out).
        Everything is read and checked before anything is written, and the
        new bound (`max_rows`) is written only once the rows are safe.
        """
        from driftcli.store.compaction import compact

        if max_rows is not None and not 1 <= max_rows <= MAX_COUNT:
            raise ValueError(f"max_rows must be from 1 to {MAX_COUNT}, not {max_rows}")
        store = self.store
        store.create_if_pending()
        with store.locked(exclusive=True):
            if not self.exists():
                self.path.mkdir(parents=True, exist_ok=True)
            clean_temp_files(self.path)
            limit = max_rows if max_rows is not None else self.max_rows()
            existing = self._forget_merged()
            _check_counts(existing, features, reference_id)
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
            newest = self.write_segment(
                table, number, features, reference_id, first_ingested or now, now
            )
            if max_rows is not None and max_rows != self._stored_bound():
                body = json.dumps({"max_rows": max_rows}).encode() + b"\n"
                atomic_write_bytes(self.path / "window.json", body)
            kept = self._trim(existing, table.num_rows, limit, features, reference_id)
            compact(self, [*kept, newest], limit, features, reference_id)
            return sum(s.rows for s in kept) + newest.rows

    def _stored_bound(self) -> int | None:
        try:
            return self.max_rows() if regular_file(self.path / "window.json") else None
        except StoreError:
            return None  # being replaced by the bound the user gave

    def _forget_merged(self) -> list[Segment]:
        """The segments, once the left-overs of an interrupted merge are removed."""
        segments = self._segment_files()
        merged = _absorbed(segments)
        left_over = [s.path for s in segments if s.number in merged]
        if left_over:
            remove_durably(left_over)
        return [s for s in segments if s.number not in merged]

    def _trim(
        self,
        older: list[Segment],
        newest_rows: int,
        limit: int,
        features: list[Feature] | None,
        reference_id: str | None,
    ) -> list[Segment]:
        """Drop and cut the oldest segments so that exactly `limit` rows remain.

        Returns the older segments left. Runs after the newest segment is
        safely on disk, so a crash here leaves a window too long, never rows
        lost; the next append trims it.
        """
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
            older[0] = self.write_segment(
                rows,
                oldest.number,
                features,
                reference_id,
                oldest.first_ingested,
                oldest.last_ingested,
            )
        return older

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
    ) -> Segment:
        """Write one segment file (atomically), counted over `features` unless `counts`
        are given, with its footer and the footer's checksum."""
        if counts is None and features is not None and reference_id is not None:
            counts = count_batches(features, table.to_batches())
        footer: dict[str, Any] = {
            "kind": "window-segment",
            "format_version": FORMAT_VERSION,
            "rows": table.num_rows,
            "first_ingested": first_ingested,
            "last_ingested": last_ingested,
            "reference_id": reference_id if counts is not None else None,
            "counts": encode_counts(counts) if counts is not None else None,
            "file_checksum": FILE_CHECKSUM,
        }
        if supersedes:
            footer["supersedes"] = list(supersedes)
        document = json.dumps(footer, allow_nan=False).encode()
        stamp = {SEGMENT_KEY: document, CHECKSUM_KEY: checksum(document)}
        stamped = table.replace_schema_metadata(stamp)
        path = self.path / f"seg-{number:012d}.parquet"
        atomic_write(path, lambda out: write_rows(stamped, out))
        return Segment(
            path,
            number,
            table.num_rows,
            first_ingested,
            last_ingested,
            footer["reference_id"],
            counts,
            supersedes,
            sealed=True,
        )


def _check_counts(
    segments: list[Segment], features: list[Feature] | None, reference_id: str | None
) -> None:
    """Counts over the current buckets that do not fit them: damage, found before a write."""
    for segment in segments:
        if features and segment.counts is not None and segment.reference_id == reference_id:
            try:
                matching(segment.counts, features)
            except Damaged as exc:
                raise StoreError(
                    f"{segment.path}: corrupt window segment ({exc})", hint=REMOVE_HINT
                ) from None


def _absorbed(segments: list[Segment]) -> set[int]:
    """The numbers of the segments a merge absorbed, once every merge's claim checks out.

    A merged segment holds the rows of those it absorbed (compaction.py), and
    they stay on disk only until the next append: one that claims more rows
    than it holds is damaged, and nothing is removed on its word.
    """
    rows = {s.number: s.rows for s in segments}
    for segment in segments:
        claimed = sum(rows.get(n, 0) for n in segment.supersedes)
        if claimed > segment.rows:
            numbers = ", ".join(str(n) for n in segment.supersedes)
            raise StoreError(
                f"{segment.path}: corrupt window segment (it says it absorbed segments "
                f"{numbers}, which hold {claimed:,} rows, but it holds {segment.rows:,})",
                hint=REMOVE_HINT,
            )
    return {n for s in segments for n in s.supersedes}


def _empty_counts(features: list[Feature]) -> Counts:
    return Counts(
        0, {f.name: FeatureCounts(np.zeros(f.n_buckets, dtype=np.int64)) for f in features}, []
    )


def _why(exc: BaseException) -> str:
    if isinstance(exc, Damaged):
        return str(exc)
    return "not JSON" if isinstance(exc, ValueError | RecursionError) else type(exc).__name__


def _read_segment_footer(path: Path, number: int) -> Segment:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(str(path))
    except (pa.ArrowException, OSError) as exc:
        raise read_failure(path, exc, "window segment", REMOVE_HINT) from None
    stamp = metadata.metadata or {}
    if SEGMENT_KEY not in stamp:
        raise StoreError(f"{path}: not a driftcli window segment")
    try:
        return _decode_footer(path, number, stamp, metadata.num_rows)
    except Damaged as exc:
        raise StoreError(f"{path}: corrupt window segment ({exc})", hint=REMOVE_HINT) from None


def _decode_footer(path: Path, number: int, stamp: dict[bytes, bytes], file_rows: int) -> Segment:
    """A segment's footer, every value checked against the file it describes."""
    doc = checked_document(stamp[SEGMENT_KEY], stamp.get(CHECKSUM_KEY))
    if field(doc, "kind") != "window-segment":
        raise Damaged("kind must be window-segment")
    version = whole(field(doc, "format_version"), "format_version", 1)
    if version > FORMAT_VERSION:
        raise StoreError(
            f"{path}: written by a newer driftcli (format {version})", hint="upgrade driftcli"
        )
    rows = whole(field(doc, "rows"), "rows")
    if rows != file_rows:
        raise Damaged(f"rows says {rows:,}, but the file holds {file_rows:,}")
    counts = doc.get("counts")
    decoded = decode_counts(counts) if counts is not None else None
    if decoded is not None and decoded.rows != rows:
        raise Damaged(f"counts.rows says {decoded.rows:,}, not the {rows:,} rows")
    reference_id = doc.get("reference_id")
    supersedes = doc.get("supersedes", [])
    if not isinstance(supersedes, list):
        raise Damaged("supersedes must be a list")
    if supersedes and CHECKSUM_KEY not in stamp:
        # Segments are removed on its word: only a footer its checksum vouches for says so.
        raise Damaged("supersedes other segments without a checksum")
    return Segment(
        path=path,
        number=number,
        rows=rows,
        first_ingested=moment(field(doc, "first_ingested"), "first_ingested"),
        last_ingested=moment(field(doc, "last_ingested"), "last_ingested"),
        reference_id=None if reference_id is None else text(reference_id, "reference_id", 64),
        counts=decoded,
        supersedes=tuple(whole(n, "supersedes[]", 1, number - 1) for n in supersedes),
        sealed=sealed(doc),
    )
