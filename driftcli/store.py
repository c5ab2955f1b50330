"""The store: the reference snapshot and named live windows, on disk.

Layout (default `.driftcli/`; `--store` or `DRIFTCLI_STORE` move it):

    driftcli-store.json            marks the directory as a driftcli store
    .lock                          writers hold it exclusively, readers shared
    reference.parquet              the reference snapshot (see snapshot.py)
    windows/NAME/window.json       the window's bound: {"max_rows": N}
    windows/NAME/seg-<n>.parquet   raw rows, oldest first; the footer holds the
                                   row count, ingest times, and the counts
                                   over the reference's buckets

A window is its segments: appending writes one new segment, and only the
oldest segment is ever rewritten (cut to keep exactly the last N rows). Every
file is written atomically (durable.py); a crash leaves whole files only.
"""

from __future__ import annotations

import contextlib
import json
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from driftcli.clock import now_utc
from driftcli.durable import (
    TEMP_PREFIX,
    atomic_write,
    atomic_write_bytes,
    clean_temp_files,
    locked,
)
from driftcli.durable import remove_durably as _remove
from driftcli.errors import StoreError, UsageError
from driftcli.profile import Counts, Feature, FeatureCounts, count_batches
from driftcli.snapshot import (
    FORMAT_VERSION,
    Snapshot,
    decode_counts,
    encode_counts,
    read_snapshot,
    write_rows,
    write_snapshot,
)

DEFAULT_STORE = ".driftcli"
DEFAULT_WINDOW_ROWS = 10_000
MARKER = "driftcli-store.json"
SEGMENT_KEY = b"driftcli.segment"
_WINDOW_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SEGMENT_NAME = re.compile(r"seg-(\d{12})\.parquet")


def validate_window_name(name: str) -> str:
    """A window name is a plain file name: it can never reach outside the store."""
    if not _WINDOW_NAME.fullmatch(name) or name in {".", ".."}:
        raise UsageError(
            f"invalid window name {name!r}",
            hint="use letters, digits, '.', '_' or '-' (up to 64, starting with a letter or digit)",
        )
    return name


def _foreign_files(root: Path) -> bool:
    """Files in `root` that a store being created right now would not have."""
    if not root.is_dir():
        return False
    ours = {".lock", MARKER}
    return any(p.name not in ours and not p.name.startswith(TEMP_PREFIX) for p in root.iterdir())


def _no_symlink(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise StoreError(
            f"{path}: is a symbolic link; driftcli does not follow links inside its store"
        )


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


class Store:
    """A store directory. Every method takes the lock it needs."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def open(cls, root: Path, *, create: bool) -> Store:
        """Open the store at `root`; with `create`, make it if it does not exist.

        A directory that holds files but no store marker is refused, so a
        mistyped --store never scatters files into an unrelated directory.
        """
        store = cls(root)
        marker = root / MARKER
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root}: is not a directory, so it cannot be a driftcli store")
        if marker.exists():
            store._check_marker()
            return store
        if _foreign_files(root):
            raise StoreError(
                f"{root}: is not a driftcli store (it has files but no {MARKER})",
                hint="pick an empty or new directory with --store",
            )
        if not create:
            raise StoreError(
                f"no driftcli store at {root}",
                hint="build one with: driftcli reference DATA (or pass --store DIR)",
            )
        root.mkdir(parents=True, exist_ok=True)
        # Two commands may create the store at once: one writes the marker,
        # the other waits on the lock and then finds it.
        with store._locked(exclusive=True):
            if not marker.exists():
                document = {"kind": "driftcli-store", "format_version": FORMAT_VERSION}
                atomic_write_bytes(marker, json.dumps(document).encode() + b"\n")
        store._check_marker()
        return store

    def _check_marker(self) -> None:
        marker = self.root / MARKER
        _no_symlink(marker)
        try:
            document = json.loads(marker.read_text(encoding="utf-8"))
            version = int(document["format_version"])
            assert document["kind"] == "driftcli-store"
        except (ValueError, KeyError, TypeError, AssertionError, OSError) as exc:
            raise StoreError(f"{marker}: corrupt or foreign store marker") from exc
        if version > FORMAT_VERSION:
            raise StoreError(
                f"{self.root}: written by a newer driftcli (store format {version})",
                hint="upgrade driftcli",
            )

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        lock = self.root / ".lock"
        _no_symlink(lock)
        with locked(lock, exclusive=exclusive):
            yield

    # --- the reference ------------------------------------------------------

    @property
    def reference_path(self) -> Path:
        return self.root / "reference.parquet"

    def has_reference(self) -> bool:
        return self.reference_path.exists()

    def load_reference(self) -> Snapshot:
        _no_symlink(self.reference_path)
        if not self.has_reference():
            raise StoreError(
                f"no reference in the store {self.root}",
                hint="build one with: driftcli reference DATA",
            )
        with self._locked(exclusive=False):
            return read_snapshot(self.reference_path)

    def save_reference(self, snapshot: Snapshot) -> None:
        _no_symlink(self.reference_path)
        with self._locked(exclusive=True):
            clean_temp_files(self.root)
            write_snapshot(snapshot, self.reference_path)

    # --- windows ------------------------------------------------------------

    def window(self, name: str) -> Window:
        return Window(self, validate_window_name(name))

    def window_names(self) -> list[str]:
        windows = self.root / "windows"
        if not windows.is_dir():
            return []
        return sorted(p.name for p in windows.iterdir() if _WINDOW_NAME.fullmatch(p.name))


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
        with self.store._locked(exclusive=False):
            return self._segments()

    def _segments(self) -> list[Segment]:
        _no_symlink(self.path.parent)
        _no_symlink(self.path)
        if not self.path.is_dir():
            return []
        found = []
        for entry in self.path.iterdir():
            match = _SEGMENT_NAME.fullmatch(entry.name)
            if match:
                _no_symlink(entry)
                found.append(_read_segment_footer(entry, int(match.group(1))))
        return sorted(found, key=lambda s: s.number)

    def max_rows(self) -> int:
        settings = self.path / "window.json"
        _no_symlink(settings)
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
        with self.store._locked(exclusive=False):
            total = _empty_counts(features)
            for segment in self._segments():
                if segment.counts is not None and segment.reference_id == reference_id:
                    part = segment.counts
                else:
                    part = count_batches(features, _read_rows(segment.path).to_batches())
                total = total.merge(part)
            return total

    def tables(self) -> Iterator[pa.Table]:
        """The window's raw rows, oldest first, a segment at a time."""
        with self.store._locked(exclusive=False):
            paths = [s.path for s in self._segments()]
            tables = [_read_rows(p) for p in paths]
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
        with store._locked(exclusive=True):
            _no_symlink(self.path.parent)
            _no_symlink(self.path)
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
            _remove(doomed)
        kept = sum(s.rows for s in older)
        if excess > 0 and older:
            oldest = older[0]
            rows = _read_rows(oldest.path).slice(excess)
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


def _read_rows(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(str(path)).replace_schema_metadata(None)
    except (pa.ArrowException, OSError) as exc:
        raise StoreError(f"{path}: corrupt window segment ({type(exc).__name__})") from exc
