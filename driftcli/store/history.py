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

The file is a log that anything may have appended to, so it is read a line
at a time (lines.py), no line kept past the line limit, and every record is
checked against what a writer could have written: a line that is not one
is skipped with a warning and dropped by the next rewrite, never a reason
for a check to fail.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from driftcli.errors import StoreError, StoreNotWritable, UsageError, option, os_reason
from driftcli.records import CheckedBy, CheckRecord, RecordedFeature
from driftcli.results import Status, Verdict
from driftcli.settings import size_text
from driftcli.store.codec import FORMAT_VERSION, Damaged, field, text, whole
from driftcli.store.durable import (
    CANNOT_WRITE,
    append_durably,
    atomic_write,
    atomic_write_bytes,
    clean_temp_files,
    is_directory,
    no_symlink,
    open_regular,
    read_small,
    regular_file,
)
from driftcli.store.lines import Line, measure, read_lines

if TYPE_CHECKING:
    from driftcli.store.access import StoreAccess

DEFAULT_KEEP = 1_000
"""Checks the history keeps unless `driftcli history --keep N` says otherwise."""

WARNED_LINES = 5
"""Damaged lines named one by one in a reader's warnings; the rest are counted."""


class History:
    """The store's record of checks."""

    def __init__(self, store: StoreAccess) -> None:
        self.store = store
        self.path = store.root / "history"
        self.checks_path = self.path / "checks.jsonl"
        self.settings_path = self.path / "history.json"

    def keep(self) -> int:
        """How many checks the history keeps (0: it records none)."""
        if not self._exists() or not regular_file(self.settings_path):
            return DEFAULT_KEEP
        try:
            return whole(field(json.loads(read_small(self.settings_path)), "keep"), "keep")
        except (ValueError, RecursionError) as exc:
            raise StoreError(
                f"{self.settings_path}: corrupt history settings ({_why(exc)})",
                hint=f"set the bound anew: driftcli history {option('keep')} N",
            ) from None

    def check_entries(self) -> None:
        """A `StoreError` naming the history's directory or a file of it that is not what
        it must be (a file for the directory, a named pipe, damaged settings)."""
        with self.store.locked(exclusive=False):
            no_symlink(self.path)
            if self._exists():
                regular_file(self.checks_path)
                self.keep()

    def records(self) -> list[CheckRecord]:
        """The checks recorded, oldest first (at most `keep` of them).

        A line that is not a record is skipped, with a warning naming it.
        """
        with self.store.locked(exclusive=False):
            keep = self.keep()
            if not self._exists() or not regular_file(self.checks_path):
                return []
            with self._open() as file:
                first = max(measure(file).lines - keep, 0) + 1
                file.seek(0)
                records = []
                warnings = _Warnings(self.checks_path, self.store.warn)
                for line in read_lines(file, self.store.line_limit, first):
                    try:
                        records.append(self._decode(line))
                    except CorruptRecord as exc:
                        warnings.add(line.number, exc.said)
                warnings.close()
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
                    hint=f"driftcli history {option('keep')} 0 stops recording checks",
                ) from exc

    def _append(self, line: bytes, keep: int) -> None:
        self._make_directory()
        if not regular_file(self.checks_path):
            append_durably(self.checks_path, line)
            return
        with self._open() as file:
            extent = measure(file)
            if not extent.unfinished and extent.lines + 1 <= keep + _slack(keep):
                file.close()
                append_durably(self.checks_path, line)
                return
            # An unfinished last line is cut off; past the bound, the oldest go.
            self._rewrite(file, keep - 1, line)

    def set_keep(self, keep: int) -> int:
        """Keep the last `keep` checks from now on (0: record none); returns how many went."""
        if keep < 0:
            raise UsageError(f"{option('keep')} must be at least 0, not {keep}")
        with self.store.locked(exclusive=True):
            self._make_directory()
            regular_file(self.settings_path)  # a named pipe there is refused, not replaced
            atomic_write_bytes(self.settings_path, json.dumps({"keep": keep}).encode() + b"\n")
            if not regular_file(self.checks_path):
                return 0
            with self._open() as file:
                return self._rewrite(file, keep)

    def _rewrite(self, file: BinaryIO, keep: int, then: bytes = b"") -> int:
        """Rewrite the file with its last `keep` sound lines, then `then`; returns how many
        records went. Damaged lines go too; lines of a newer driftcli are not ours to drop."""
        sound = [line.number for line in self._lines(file) if _sound(line)]
        kept = set(sound[max(len(sound) - keep, 0) :])
        file.seek(0)
        extent = measure(file)

        def write(out: BinaryIO) -> None:
            file.seek(0)
            for line in self._lines(file):
                if line.number in kept and line.data is not None:
                    out.write(line.data)
            out.write(then)

        if len(kept) < extent.lines or extent.unfinished or then:
            atomic_write(self.checks_path, write)
        return len(sound) - len(kept)

    def _lines(self, file: BinaryIO, first: int = 1) -> Iterator[Line]:
        file.seek(0)
        return read_lines(file, self.store.line_limit, first)

    def _decode(self, line: Line) -> CheckRecord:
        if line.data is None:
            limit = size_text(self.store.line_limit)
            raise CorruptRecord(f"longer than the line limit of {limit}")
        return decode_line(self.checks_path, line.number, line.data)

    def _open(self) -> BinaryIO:
        return open_regular(self.checks_path)

    def _exists(self) -> bool:
        return is_directory(self.path)

    def _make_directory(self) -> None:
        no_symlink(self.checks_path.parent)
        if not is_directory(self.path):
            self.path.mkdir()
        no_symlink(self.checks_path)
        clean_temp_files(self.path)


class CorruptRecord(StoreError):
    """A line of the history that is not a record: skipped by readers, dropped by rewrites."""


class _Warnings:
    """A reader's warnings about damaged lines: the first few by number, then a count."""

    def __init__(self, path: Path, warn: Callable[[str], None]) -> None:
        self.path = path
        self.warn = warn
        self.more = 0
        self.given = 0

    def add(self, number: int, why: str) -> None:
        if self.given < WARNED_LINES:
            self.given += 1
            self.warn(
                f"{self.path}: line {number}: corrupt history record ({why}), skipped "
                "(the next rewrite drops it)"
            )
        else:
            self.more += 1

    def close(self) -> None:
        if self.more:
            s = "s" if self.more > 1 else ""
            self.warn(f"{self.path}: {self.more:,} more corrupt line{s}, skipped as well")


def _sound(line: Line) -> bool:
    """Is the line a record (or one from a newer driftcli: not ours to drop)?"""
    if line.data is None:
        return False
    try:
        decode_line(Path(), line.number, line.data)
    except CorruptRecord:
        return False
    except StoreError:
        pass
    return True


def _slack(keep: int) -> int:
    return max(1, keep // 10)


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


def decode_record(doc: Any) -> CheckRecord:
    """A record, every value checked against what `encode_record` writes (`Damaged` if not)."""
    features = field(doc, "features")
    if not isinstance(features, list):
        raise Damaged("features must be a list")
    return CheckRecord(
        time=_instant(field(doc, "time"), "time"),
        window=text(field(doc, "window"), "window", 64),
        rows=whole(field(doc, "rows"), "rows"),
        reference_id=text(field(doc, "reference_id"), "reference_id", 64),
        checked_by=_member(CheckedBy, field(doc, "checked_by"), "checked_by"),
        verdict=_member(Verdict, field(doc, "verdict"), "verdict"),
        features=tuple(_decode_feature(f, f"features[{i}]") for i, f in enumerate(features)),
    )


def _decode_feature(doc: Any, where: str) -> RecordedFeature:
    score, p_value = field(doc, "score", where), field(doc, "p_value", where)
    return RecordedFeature(
        name=text(field(doc, "name", where), f"{where}.name"),
        status=_member(Status, field(doc, "status", where), f"{where}.status"),
        score=None if score is None else _number(score, f"{where}.score"),
        p_value=None if p_value is None else _number(p_value, f"{where}.p_value", 1.0),
        threshold=_number(field(doc, "threshold", where), f"{where}.threshold"),
        metric=text(field(doc, "metric", where), f"{where}.metric", 64),
    )


def _number(value: Any, what: str, at_most: float = math.inf) -> float:
    """A finite number from 0 to `at_most` (a score, a p-value, a threshold)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Damaged(f"{what} must be a number, not {type(value).__name__}")
    number = float(value)
    if not (math.isfinite(number) and 0 <= number <= at_most):
        raise Damaged(f"{what} must be a finite number from 0 to {at_most}, not {number!r}")
    return number


E = TypeVar("E", bound=StrEnum)


def _member(kind: type[E], value: Any, what: str) -> E:
    try:
        return kind(text(value, what, 64))
    except ValueError:
        raise Damaged(f"{what} must be one of {', '.join(kind)}") from None


def _instant(value: Any, what: str) -> str:
    """A time readers can order and show: ISO 8601, in a year that stays one in UTC."""
    written = text(value, what, 64)
    try:
        moment = datetime.fromisoformat(written)
        (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise Damaged(f"{what} must be a time in ISO 8601") from None
    return written


def _why(exc: ValueError | RecursionError) -> str:
    """What is wrong with a line or file of JSON, in a few words."""
    if isinstance(exc, Damaged):
        return str(exc)
    return "nested too deep" if isinstance(exc, RecursionError) else "not JSON"


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def decode_line(path: Path, number: int, line: bytes) -> CheckRecord:
    """One line of the history: a record, a `CorruptRecord` naming it, or a `StoreError`
    if a newer driftcli wrote it."""
    try:
        doc = json.loads(line, parse_constant=_refuse_constant)
        version = whole(field(doc, "format_version"), "format_version", 1)
    except (ValueError, RecursionError) as exc:
        raise CorruptRecord(_why(exc)) from None
    if version > FORMAT_VERSION:
        raise StoreError(
            f"{path}: line {number}: written by a newer driftcli (format {version})",
            hint="upgrade driftcli",
        )
    try:
        return decode_record(doc)
    except Damaged as exc:
        raise CorruptRecord(str(exc)) from None
