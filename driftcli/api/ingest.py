"""Append rows to a live window: flush every N rows or T seconds, check every M rows."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driftcli.api.checks import check_window, sampled_features
from driftcli.api.common import Input, no_shared_column, read_input
from driftcli.api.follow import followed, position_of
from driftcli.api.slices import check_window_slices, no_samples_per_slice, refuse_joint
from driftcli.choices import InputFormat, Kind
from driftcli.columns.values import TypeClass, concat_tables, read_numbers, read_texts, type_class
from driftcli.counting.buckets import Feature
from driftcli.counting.featureless import Featureless
from driftcli.errors import InputError, StoreError, UsageError, option
from driftcli.inputs import Piece, Source
from driftcli.inputs.follow import FollowSource
from driftcli.inputs.piece import BadLine
from driftcli.interrupts import deferred, stop_if_asked
from driftcli.parallel import prefetch
from driftcli.records import CheckedBy, IngestReport
from driftcli.results import CheckResult
from driftcli.settings import DEFAULT_SETTINGS, Settings
from driftcli.sliced import SlicedCheck
from driftcli.store import Store, Window
from driftcli.store.positions import FilePosition
from driftcli.store.snapshot import Snapshot
from driftcli.store.window import AppendUnfinished

DEFAULT_FLUSH_ROWS = 10_000
DEFAULT_FLUSH_SECONDS = 5.0


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
    follow: bool = False
    """Follow the input, a file of JSON lines, like `tail -F`, from where the window's last
    ingest of it stopped (api/follow.py)."""


@dataclass(frozen=True)
class IngestHooks:
    """What the caller hears as the ingest goes: each flush, each check, each warning."""

    on_flush: Callable[[int, int], None] | None = None
    """(rows stored by this flush, rows the window holds)"""
    on_check: Callable[[CheckResult | SlicedCheck, IngestReport], None] | None = None
    """(the check's result, the ingest so far); a sliced check against a reference
    stored with slices"""
    on_warning: Callable[[str], None] | None = None


def ingest(
    spec: Input,
    store: Store,
    options: IngestOptions = IngestOptions(),
    settings: Settings = DEFAULT_SETTINGS,
    hooks: IngestHooks = IngestHooks(),
) -> IngestReport:
    """Append rows to a window: flush every `flush_rows` rows or `flush_seconds`.

    A malformed line, or a value that does not read as its feature's type,
    stops the ingest with an `InputError` naming the line. The rows before it
    are flushed as they would have been had the input ended there, except
    for the last, partial flush: the store holds exactly what the flushes
    before the bad line reported. With `skip_bad_lines` such lines are
    counted and skipped.
    With `check_every`, the window is checked after every that many rows,
    each check is recorded in the store's history, and `hooks.on_check` gets
    the result. An interrupt (Ctrl-C, SIGTERM turned into KeyboardInterrupt)
    flushes what was read, then raises `IngestInterrupted`, a
    KeyboardInterrupt that carries the report.

    Rows that hold none of the stored reference's features (each absent or
    null) are not stored: the report counts them, with the first few
    locations. When no row holds any, that is an `InputError` and nothing is
    stored. The report also names the features no stored row holds. Both
    are decided row by row over the whole input, so they do not depend on
    how the input arrived.
    """
    _validate_ingest(options)
    reference = store.load_reference() if store.has_reference() else None
    if options.check_every and reference is None:
        raise UsageError(
            f"{option('check_every')} needs a reference in the store",
            hint="build one first with: driftcli reference DATA",
        )
    if options.check_every and reference is not None and reference.slices is not None:
        _before_sliced_checks(reference, settings)
    if options.check_every and settings.joint:
        from driftcli.api.joint import require

        require(settings.joint_method)  # before a row is stored, not at the first check
    session = _Session(store.window(options.window), reference, options, settings, hooks)
    # Rows reach the loop within half a second even when flushes are rare, so
    # an interrupt can flush them and a time-based flush is never late by much.
    latency = min(0.5, max(0.05, options.flush_seconds / 2))
    with _opened(spec, session, options, settings) as source:
        try:
            _read_all(session, source, latency)
        except StoreError as exc:
            raise IngestFailed(exc.said, exc.said_hint, _finished(session, source)) from exc
    report = _finished(session, source)
    if report.rows_read == 0 and report.skipped_lines == 0:
        raise InputError(f"{source.name}: no data rows to ingest")
    if session.features and report.featureless and not session.rows_with_features:
        raise no_shared_column(
            source.name, report.featureless, session.features, "; nothing stored"
        )
    return report


def _read_all(session: _Session, source: Source, latency: float) -> None:
    """Take every piece, flushing as due, then the rest; on a stop, flush what was read.

    Rows are taken and flushed with stops deferred (interrupts.py), so a
    stop never falls between a flush's write and its count: the summary
    says exactly what the store holds.
    """
    try:
        # Parse the next piece in a thread while this one is checked and stored.
        for piece in prefetch(source.pieces(max_latency=latency), depth=1):
            with deferred():
                if piece is not None:
                    session.take(piece, source)
                session.flush_if_due()
        with deferred():
            session.flush()
    except KeyboardInterrupt:
        with contextlib.suppress(KeyboardInterrupt), deferred():
            session.flush()  # a second stop gives up the rows still waiting
        raise IngestInterrupted(_finished(session, source)) from None


@contextlib.contextmanager
def _opened(
    spec: Input, session: _Session, options: IngestOptions, settings: Settings
) -> Iterator[Source]:
    """The input, read once, or followed from where the window's last ingest of it stopped."""
    if options.follow:
        with followed(
            spec,
            session.window,
            options.input_format,
            options.skip_bad_lines,
            settings,
            session.hooks.on_warning,
        ) as log:
            session.follow = log
            # A follow restarted with nothing new to read still tells what the window holds.
            if session.window.exists():
                session.report.window_rows = sum(s.rows for s in session.window.segments())
            yield log
        return
    example = "tail -F app.log | driftcli ingest -"
    skip = options.skip_bad_lines
    with read_input(spec, options.input_format, settings, example, skip_bad_lines=skip) as source:
        yield source


def _after_missing_rows(table: pa.Table, rows: int) -> pa.Table:
    """`rows` rows missing every column, then the table."""
    nulls = pa.table([pa.nulls(rows, field.type) for field in table.schema], schema=table.schema)
    return pa.concat_tables([nulls, table])


class IngestFailed(StoreError):
    """A write to the store failed mid-ingest; `report` says what the flushes before stored."""

    def __init__(self, message: str, hint: str | None = None, report: IngestReport | None = None):
        super().__init__(message, hint)
        self.report = report or IngestReport()


class IngestInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped an ingest; the rows read were stored, as `report` says."""

    def __init__(self, report: IngestReport) -> None:
        super().__init__()
        self.report = report


def _finished(session: _Session, source: Source) -> IngestReport:
    report = session.report
    report.source = source.name
    report.skipped_lines = source.bad_lines.count
    report.first_skipped = tuple(sorted(source.bad_lines.first))
    featureless = session.featureless
    if featureless is not None:
        report.featureless = featureless.count
        report.first_featureless = featureless.first
        if report.rows_stored:
            report.lacking = tuple(n for n in featureless.names if n not in featureless.seen)
    return report


class _Session:
    """One ingest: the window, the rows waiting for a flush, and the rows since a check."""

    def __init__(
        self,
        window: Window,
        reference: Snapshot | None,
        options: IngestOptions,
        settings: Settings,
        hooks: IngestHooks,
    ) -> None:
        self.window = window
        self.reference = reference
        self.features = reference.profile.features if reference else None
        self.options = options
        self.settings = settings
        self.hooks = hooks
        self.report = IngestReport()
        self.pending: list[_Rows] = []
        self.follow: FollowSource | None = None
        """A followed file: each flush stores how far it is read (api/follow.py)."""
        self.pending_since = 0.0
        self.since_check = 0
        self.featureless = Featureless([f.name for f in self.features]) if self.features else None
        self.rows_with_features = 0
        self.held = 0
        """Rows before the input's first row holding a feature: stored (as rows missing every
        feature) once one comes, so that an input with none stores nothing."""
        self.held_marks: list[npt.NDArray[np.int64]] = []

    def take(self, piece: Piece, source: Source) -> None:
        """A parsed piece: its valid rows queued, cut at the next flush or check."""
        self.report.rows_read += piece.table.num_rows
        self.report.skipped_lines = source.bad_lines.count
        if self.featureless is not None:
            first = self.featureless.note(piece)
            if not self.rows_with_features:
                self.held += first
                if piece.marks is not None:
                    self.held_marks.append(piece.marks[:first])
                piece = piece.sliced(first, piece.table.num_rows - first)
            self.rows_with_features += piece.table.num_rows
        valid, bad_row = _valid_rows(piece, self.features, source)
        table, marks = valid.table, valid.marks
        if self.held and table.num_rows:
            table = _after_missing_rows(table, self.held)
            if marks is not None:
                marks = np.concatenate([*self.held_marks, marks])
            self.held, self.held_marks = 0, []
        if table.num_rows:
            # Every row of the piece is queued before any is flushed: a stop at a
            # flush finds them all waiting, to be flushed on the way out.
            if not self.pending:
                self.pending_since = time.monotonic()
            self.pending.append(_Rows(table, marks))
        self._flush_due()
        if bad_row is not None:
            raise bad_row  # after the rows before it, as at a malformed line

    def _flush_due(self) -> None:
        """Flush (and check) as the rows waiting call for: cut at the next flush or check,
        so neither is late by a piece."""
        options = self.options
        while True:
            size = options.flush_rows
            if options.check_every:
                size = min(size, options.check_every - self.since_check)
            if self.pending_rows < size:
                return
            self.flush(size)
            if options.check_every and self.since_check >= options.check_every:
                self.check()
            stop_if_asked()  # the flush is counted, the rest waits: a stop need not wait too

    @property
    def pending_rows(self) -> int:
        return sum(rows.table.num_rows for rows in self.pending)

    def flush_if_due(self) -> None:
        if self.pending and time.monotonic() - self.pending_since >= self.options.flush_seconds:
            self.flush()

    def flush(self, rows: int | None = None) -> None:
        """Store the first `rows` waiting rows (all by default) durably, as one segment.

        They stop waiting only once stored: a flush that fails before its
        rows are on disk leaves them waiting, and one that stores them and
        then fails (an `AppendUnfinished`) counts them before its error goes on.
        """
        if not self.pending:
            return
        taken, rest = _split(self.pending, self.pending_rows if rows is None else rows)
        # One piece: a flush spanning two parsed pieces is then counted as one batch.
        table = concat_tables([t.table for t in taken]).combine_chunks()
        reference_id = self.reference.reference_id if self.reference else None
        try:
            held = self.window.append(
                table, features=self.features, reference_id=reference_id,
                max_rows=self.options.max_rows, position=self._position_after(taken),
            )  # fmt: skip
        except AppendUnfinished as exc:
            self._stored(table.num_rows, exc.window_rows, rest)
            raise
        self._stored(table.num_rows, held, rest)

    def _position_after(self, taken: list[_Rows]) -> FilePosition | None:
        """How far the followed file is read once these rows are stored."""
        marks = taken[-1].marks if taken else None
        if self.follow is None or marks is None or not len(marks):
            return None
        return position_of(self.follow.spot_at(int(marks[-1])))

    def _stored(self, rows: int, held: int, rest: list[_Rows]) -> None:
        self.pending = rest
        if rest:
            self.pending_since = time.monotonic()
        self.since_check += rows
        self.report.window_rows = held
        self.report.rows_stored += rows
        self.report.flushes += 1
        if self.hooks.on_flush:
            self.hooks.on_flush(rows, held)

    def check(self) -> None:
        """Check the window (recorded in the store's history) and tell the caller."""
        self.since_check = 0
        self.report.checks += 1
        if self.reference is None:
            return
        started = time.monotonic()
        result: CheckResult | SlicedCheck
        if self.reference.slices is not None:
            result = check_window_slices(
                self.window, self.reference, self.settings, record=CheckedBy.INGEST
            )
        else:
            result = check_window(
                self.window, self.reference, self.settings, record=CheckedBy.INGEST
            )
        self.report.check_seconds = time.monotonic() - started
        if self.hooks.on_check:
            self.hooks.on_check(result, self.report)


class _Rows(NamedTuple):
    """Rows waiting for a flush, and where each one's line ends in a followed file."""

    table: pa.Table
    marks: npt.NDArray[np.int64] | None

    def sliced(self, start: int, stop: int | None = None) -> _Rows:
        end = self.table.num_rows if stop is None else stop
        marks = None if self.marks is None else self.marks[start:end]
        return _Rows(self.table.slice(start, end - start), marks)


def _split(pending: list[_Rows], rows: int) -> tuple[list[_Rows], list[_Rows]]:
    """The first `rows` rows waiting, and the rest (slices: nothing is copied)."""
    taken: list[_Rows] = []
    rest: list[_Rows] = []
    for part in pending:
        if rows >= part.table.num_rows:
            taken.append(part)
            rows -= part.table.num_rows
        elif rows > 0:
            taken.append(part.sliced(0, rows))
            rest.append(part.sliced(rows))
            rows = 0
        else:
            rest.append(part)
    return taken, rest


def _before_sliced_checks(reference: Snapshot, settings: Settings) -> None:
    """What a sliced check would refuse, refused before a row is stored."""
    refuse_joint(settings)
    if sampled_features(reference, settings):
        raise no_samples_per_slice(settings)


def _validate_ingest(options: IngestOptions) -> None:
    if options.flush_rows < 1:
        raise UsageError(f"{option('flush_rows')} must be at least 1, not {options.flush_rows}")
    if not options.flush_seconds > 0:
        raise UsageError(f"{option('flush_seconds')} must be above 0, not {options.flush_seconds}")
    if options.max_rows is not None and options.max_rows < 1:
        raise UsageError(f"{option('window_size')} must be at least 1, not {options.max_rows}")
    if options.check_every is not None and options.check_every < 1:
        raise UsageError(f"{option('check_every')} must be at least 1, not {options.check_every}")


def _valid_rows(
    piece: Piece, features: list[Feature] | None, source: Source
) -> tuple[Piece, BadLine | None]:
    """The piece's rows whose values read as their features' types.

    A bad row is a skipped line with --skip-bad-lines (counted with the
    malformed ones); else an error naming its line, returned with the rows
    before it.
    """
    table = piece.table
    if not features or not table.num_rows:
        return piece, None
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
        return piece, None
    bad = np.logical_or.reduce([mask for _, mask in masks])
    first = int(np.argmax(bad))
    culprit = next(name for name, mask in masks if mask[first])
    try:
        source.bad_lines.report_many(
            piece.origin,
            piece.row_lines()[bad].tolist(),
            f"{culprit}: value is not of the reference's type",
            unit=piece.unit,
        )
    except BadLine as exc:
        return piece.sliced(0, first), exc
    if piece.marks is None:
        return replace(piece, table=table.filter(pa.array(~bad))), None
    return piece.taken(np.flatnonzero(~bad)), None
