"""A live window in the store: the last N rows ingested, as segment files.

    windows/NAME/window.json       the window's bound: {"max_rows": N}
    windows/NAME/seg-<n>.parquet   raw rows, oldest first; the footer holds the
                                   row count, ingest times, and the counts
                                   over the reference's buckets

Appending writes one new segment, and only the oldest segment is ever
rewritten (cut to keep exactly the last N rows). Every file is written
atomically (durable.py); a crash leaves whole files only.
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
from driftcli.store.codec import FORMAT_VERSION, decode_counts, encode_counts
from driftcli.store.durable import (
    atomic_write,
    atomic_write_bytes,
    clean_temp_files,
    no_symlink,
    remove_durably,
)
from driftcli.store.rows import read_rows, write_rows

if TYPE_CHECKING:
    from driftcli.store.root import Store

DEFAULT_WINDOW_ROWS = 10_000

SEGMENT_KEY = b"driftcli.segment"

_SEGMENT_NAME = re.compile(r"seg-(\d{12})\.parquet")


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


class Window:
    """A named, bounded window of the most recent live rows."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        self.path = store.root / "windows" / name

    def exists(self) -> bool:
        return self.path.is_dir()

    # --- reading (shared lock) ----------------------------------------------

    def segments(self) -> list[Segment]:
        """The window's segments, oldest first."""
        with self.store.locked(exclusive=False):
            return self._segments()

    def _segments(self) -> list[Segment]:
        no_symlink(self.path.parent)
        no_symlink(self.path)
        if not self.path.is_dir():
            return []
        found = []
        for entry in self.path.iterdir():
            match = _SEGMENT_NAME.fullmatch(entry.name)
            if match:
                no_symlink(entry)
                found.append(_read_segment_footer(entry, int(match.group(1))))
        return sorted(found, key=lambda s: s.number)

    def max_rows(self) -> int:
        settings = self.path / "window.json"
        no_symlink(settings)
        if not settings.exists():
            return DEFAULT_WINDOW_ROWS
        try:
            return int(json.loads(settings.read_text(encoding="utf-8"))["max_rows"])
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise StoreError(f"{settings}: corrupt window settings") from exc

    def counts(self, features: list[Feature], reference_id: str) -> Counts:
        """The window's counts over `features`' buckets: cached per segment, else recounted.

        A segment counted over other buckets (ingested before the reference
        changed) is counted again from its raw rows.
        """
        with self.store.locked(exclusive=False):
            total = _empty_counts(features)
            for segment in self._segments():
                if segment.counts is not None and segment.reference_id == reference_id:
                    part = segment.counts
                else:
                    part = count_batches(features, read_rows(segment.path).to_batches())
                total = total.merge(part)
            return total

    def tables(self) -> Iterator[pa.Table]:
        """The window's raw rows, oldest first, a segment at a time."""
        with self.store.locked(exclusive=False):
            paths = [s.path for s in self._segments()]
            tables = [read_rows(p) for p in paths]
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
        """
        store = self.store
        with store.locked(exclusive=True):
            no_symlink(self.path.parent)
            no_symlink(self.path)
            self.path.mkdir(parents=True, exist_ok=True)
            clean_temp_files(self.path)
            if max_rows is not None and max_rows != self.max_rows():
                body = json.dumps({"max_rows": max_rows}).encode() + b"\n"
                atomic_write_bytes(self.path / "window.json", body)
            limit = self.max_rows()
            existing = self._segments()
            if table.num_rows > limit:
                table = table.slice(table.num_rows - limit)
            now = now_utc()
            number = existing[-1].number + 1 if existing else 1
            self._write_segment(table, number, features, reference_id, first_ingested or now, now)
            return self._trim(existing, table.num_rows, limit, features, reference_id)

    def _trim(
        self,
        older: list[Segment],
        newest_rows: int,
        limit: int,
        features: list[Feature] | None,
        reference_id: str | None,
    ) -> int:
        """Drop and cut the oldest segments so that exactly `limit` rows remain.

        Returns the rows left. Runs after the newest segment is safely on
        disk, so a crash here leaves a window too long, never rows lost; the
        next append trims it.
        """
        excess = sum(s.rows for s in older) + newest_rows - limit
        doomed: list[Path] = []
        while older and excess >= older[0].rows:
            oldest = older.pop(0)
            excess -= oldest.rows
            doomed.append(oldest.path)
        if doomed:
            remove_durably(doomed)
        kept = sum(s.rows for s in older)
        if excess > 0 and older:
            oldest = older[0]
            rows = read_rows(oldest.path).slice(excess)
            self._write_segment(
                rows,
                oldest.number,
                features,
                reference_id,
                oldest.first_ingested,
                oldest.last_ingested,
            )
            kept -= excess
        return kept + newest_rows

    def _write_segment(
        self,
        table: pa.Table,
        number: int,
        features: list[Feature] | None,
        reference_id: str | None,
        first_ingested: str,
        last_ingested: str,
    ) -> None:
        counts = None
        if features is not None and reference_id is not None:
            counts = encode_counts(count_batches(features, table.to_batches()))
        footer = {
            "kind": "window-segment",
            "format_version": FORMAT_VERSION,
            "rows": table.num_rows,
            "first_ingested": first_ingested,
            "last_ingested": last_ingested,
            "reference_id": reference_id if counts is not None else None,
            "counts": counts,
        }
        document = json.dumps(footer, allow_nan=False).encode()
        stamped = table.replace_schema_metadata({SEGMENT_KEY: document})

        atomic_write(self.path / f"seg-{number:012d}.parquet", lambda out: write_rows(stamped, out))


def _empty_counts(features: list[Feature]) -> Counts:
    return Counts(
        0, {f.name: FeatureCounts(np.zeros(f.n_buckets, dtype=np.int64)) for f in features}, []
    )


def _read_segment_footer(path: Path, number: int) -> Segment:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(str(path))
        raw = (metadata.metadata or {}).get(SEGMENT_KEY)
        if raw is None:
            raise StoreError(f"{path}: not a driftcli window segment")
        doc: dict[str, Any] = json.loads(raw)
        if int(doc["format_version"]) > FORMAT_VERSION:
            raise StoreError(
                f"{path}: written by a newer driftcli (format {doc['format_version']})",
                hint="upgrade driftcli",
            )
        rows = int(doc["rows"])
        if rows != metadata.num_rows:
            raise ValueError("row count mismatch")
        counts = decode_counts(doc["counts"]) if doc.get("counts") else None
        return Segment(
            path=path,
            number=number,
            rows=rows,
            first_ingested=str(doc["first_ingested"]),
            last_ingested=str(doc["last_ingested"]),
            reference_id=doc.get("reference_id"),
            counts=counts,
        )
    except StoreError:
        raise
    except (pa.ArrowException, OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"{path}: corrupt window segment ({type(exc).__name__})",
            hint="remove the file to drop its rows from the window",
        ) from exc
