"""The store's history: one record per check of a stored window, the last N kept.

    history/checks.jsonl    one JSON object per check, oldest first
    history/history.json    how many checks to keep: {"keep": N} (default 1,000)

JSON lines, readable by any tool (`jq`, `pandas.read_json(lines=True)`).
A check appends its record in one write, made durable before the command
goes on; a crash mid-write can leave an unfinished last line, which readers
drop and the next writer cuts off, so a record is in the history whole or
not at all. Past the bound (plus a tenth, so that a rewrite is rare) the
file is rewritten atomically with its last N records. Writers hold the
store's lock exclusively, readers shared.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftcli.errors import StoreError, StoreNotWritable, UsageError, os_reason
from driftcli.results import CheckedBy, CheckRecord, RecordedFeature, Status, Verdict
from driftcli.store.codec import FORMAT_VERSION
from driftcli.store.durable import (
    CANNOT_WRITE,
    append_durably,
    atomic_write_bytes,
    clean_temp_files,
    no_symlink,
    read_small,
    regular_file,
)

if TYPE_CHECKING:
    from driftcli.store.root import Store

DEFAULT_KEEP = 1_000
"""Checks the history keeps unless `driftcli history --keep N` says otherwise."""


class History:
    """The store's record of checks."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.root / "history"
        self.checks_path = self.path / "checks.jsonl"
        self.settings_path = self.path / "history.json"

    def keep(self) -> int:
        """How many checks the history keeps (0: it records none)."""
        if not regular_file(self.settings_path):
            return DEFAULT_KEEP
        try:
            keep = json.loads(read_small(self.settings_path))["keep"]
            if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
                raise ValueError("keep")
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise StoreError(f"{self.settings_path}: corrupt history settings") from exc
        return keep

    def records(self) -> list[CheckRecord]:
        """The checks recorded, oldest first (at most `keep` of them)."""
        with self.store.locked(exclusive=False):
            no_symlink(self.path)
            if not regular_file(self.checks_path):
                return []
            data = _read(self.checks_path)
            keep = self.keep()
        lines = _whole(data).splitlines()
        first = max(len(lines) - keep, 0)
        records = []
        for number, line in enumerate(lines[first:], start=first + 1):
            try:
                records.append(_decode_line(self.checks_path, number, line))
            except CorruptRecord as exc:
                # A log: one damaged line must not make the others unreadable.
                self.store.warn(f"{exc.message}, skipped (the next rewrite drops it)")
        return records

    def append(self, record: CheckRecord) -> None:
        """Record one check, durably, and keep the history to its bound."""
        line = json.dumps(encode_record(record), allow_nan=False, ensure_ascii=False)
        with self.store.locked(exclusive=True):
            keep = self.keep()
            if keep == 0:
                return
            try:
                self._append(line.encode() + b"\n", keep)
            except OSError as exc:
                error = StoreNotWritable if exc.errno in CANNOT_WRITE else StoreError
                raise error(
                    f"{self.checks_path}: cannot record the check: {os_reason(exc)}",
                    hint="driftcli history --keep 0 stops recording checks",
                ) from exc

    def _append(self, line: bytes, keep: int) -> None:
        self._make_directory()
        data = _read(self.checks_path) if regular_file(self.checks_path) else b""
        whole = _whole(data)
        if whole != data or whole.count(b"\n") + 1 > keep + _slack(keep):
            lines = _sound(whole.splitlines(keepends=True))
            kept = lines[max(len(lines) - keep + 1, 0) :]
            atomic_write_bytes(self.checks_path, b"".join(kept) + line)
        else:
            append_durably(self.checks_path, line)

    def set_keep(self, keep: int) -> int:
        """Keep the last `keep` checks from now on (0: record none); returns how many went."""
        if keep < 0:
            raise UsageError(f"--keep must be at least 0, not {keep}")
        with self.store.locked(exclusive=True):
            self._make_directory()
            regular_file(self.settings_path)  # a named pipe there is refused, not replaced
            atomic_write_bytes(self.settings_path, json.dumps({"keep": keep}).encode() + b"\n")
            if not regular_file(self.checks_path):
                return 0
            lines = _whole(_read(self.checks_path)).splitlines(keepends=True)
            sound = _sound(lines)
            dropped = max(len(sound) - keep, 0)
            if dropped or len(sound) < len(lines):
                atomic_write_bytes(self.checks_path, b"".join(sound[dropped:]))
            return dropped

    def _make_directory(self) -> None:
        no_symlink(self.path)
        no_symlink(self.checks_path)
        self.path.mkdir(exist_ok=True)
        clean_temp_files(self.path)


class CorruptRecord(StoreError):
    """A line of the history that is not a record: skipped by readers, dropped by rewrites."""


def _sound(lines: list[bytes]) -> list[bytes]:
    """The lines that are records (or from a newer driftcli: not ours to drop)."""
    kept = []
    for number, line in enumerate(lines, start=1):
        try:
            _decode_line(Path(), number, line)
        except CorruptRecord:
            continue
        except StoreError:
            pass
        kept.append(line)
    return kept


def _slack(keep: int) -> int:
    return max(1, keep // 10)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the history: {os_reason(exc)}") from None


def _whole(data: bytes) -> bytes:
    """The complete lines: an unfinished last one (a crash mid-append) is no record."""
    return data[: data.rfind(b"\n") + 1]


def encode_record(record: CheckRecord) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "time": record.time,
        "window": record.window,
        "checked_by": record.checked_by.value,
        "rows": record.rows,
        "reference_id": record.reference_id,
        "verdict": record.verdict.value,
        "drift": record.drift,
        "features": [
            {
                "name": f.name,
                "status": f.status.value,
                "drift": f.drift,
                "score": _finite(f.score),
                "p_value": _finite(f.p_value),
                "threshold": f.threshold,
                "metric": f.metric,
            }
            for f in record.features
        ],
    }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def decode_record(doc: dict[str, Any]) -> CheckRecord:
    datetime.fromisoformat(str(doc["time"]))  # a time readers can order by, or corrupt
    return CheckRecord(
        time=str(doc["time"]),
        window=str(doc["window"]),
        rows=int(doc["rows"]),
        reference_id=str(doc["reference_id"]),
        checked_by=CheckedBy(doc["checked_by"]),
        verdict=Verdict(doc["verdict"]),
        features=tuple(
            RecordedFeature(
                name=str(f["name"]),
                status=Status(f["status"]),
                score=None if f["score"] is None else float(f["score"]),
                p_value=None if f["p_value"] is None else float(f["p_value"]),
                threshold=float(f["threshold"]),
                metric=str(f["metric"]),
            )
            for f in doc["features"]
        ),
    )


def _decode_line(path: Path, number: int, line: bytes) -> CheckRecord:
    try:
        doc = json.loads(line)
        version = int(doc["format_version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptRecord(f"{path}: line {number}: corrupt history record") from exc
    if version > FORMAT_VERSION:
        raise StoreError(
            f"{path}: line {number}: written by a newer driftcli (format {version})",
            hint="upgrade driftcli",
        )
    try:
        return decode_record(doc)
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptRecord(f"{path}: line {number}: corrupt history record") from exc
