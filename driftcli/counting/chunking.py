"""Cut live rows into chunks, by time or by rows, and count each chunk over the buckets.

One pass: the rows of each input piece are split by the chunk they fall in
(a slice per chunk when they come in time order, one `take` when not) and
counted into that chunk's `Counter`. Counts are additive, so a chunk's
counts are the sum over its parts, wherever in the input they were: a row
that arrives late still lands in the chunk of its own time. Memory is one
`Counter` per chunk (its bucket counts, and the samples of the sample
metrics), whatever the number of rows.

Time chunks are aligned to the calendar of a time zone: a chunk of a day
starts at local midnight, of an hour at the full hour, of a week on Monday,
however many hours daylight saving gives that day. A chunk is named by the
instant it starts at, in seconds since 1970 (UTC).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Self

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftcli.choices import TimeUnit
from driftcli.clock import iso_in_zone
from driftcli.columns.samples import SEED
from driftcli.columns.times import (
    EPOCH_PLAUSIBLE,
    FIRST_SECOND,
    LAST_SECOND,
    Times,
    read_as_epoch,
    read_times,
)
from driftcli.counting.buckets import Feature
from driftcli.counting.counter import Counter
from driftcli.counting.counts import LOCATIONS_KEPT, Counts
from driftcli.counting.grouped import GroupedCounts
from driftcli.errors import InputError, option
from driftcli.grouping import UTC, ByRows, ByTime, Chunking, Every, Grouping, Start
from driftcli.inputs.piece import Piece
from driftcli.results import Location, UntimedRows

IntArray = npt.NDArray[np.int64]

MAX_CHUNKS = 10_000
"""More chunks than this is an error: each holds its own counts (and the output one
column each); a longer --every, or --chunk-rows, says the same in fewer."""

_DAY = 86_400
_MONDAY = 4
"""1970-01-05, day 4 of the epoch, was a Monday: weeks start on Mondays."""
_HOUR = 3_600


def too_many_chunks(name: str) -> InputError:
    return InputError(
        f"{name}: more than {MAX_CHUNKS:,} chunks",
        hint=f"pass a longer {option('every')} (or a larger {option('chunk_rows')})",
    )


@dataclass(frozen=True)
class ChunkCounts:
    """One chunk's counts: time chunks by the instant they start at, row chunks by index."""

    key: int
    counts: Counts


@dataclass(frozen=True)
class Groups:
    """Every group a chunker found, in order, the groups without rows between included."""

    spans: list[tuple[Start, Start]]
    """Where each group starts and ends (ISO 8601 instants, or row numbers)."""
    counts: list[Counts | None]
    """Each group's counts; None for a group without rows (a gap in the input)."""


class Chunker(abc.ABC):
    """Counts rows into chunks: every chunk's part of an input piece at once
    (`GroupedCounts`), or, with samples to keep, one `Counter` per chunk."""

    def __init__(
        self, features: Sequence[Feature], sampled: Collection[str], name: str, seed: int = SEED
    ) -> None:
        self._features = list(features)
        self._sampled = list(sampled)
        self._name = name
        self._seed = seed
        self._grouped = GroupedCounts(features)
        self._counters: dict[int, Counter] = {}
        self.rows = 0
        """Rows seen, in a chunk or not."""

    @abc.abstractmethod
    def add(self, piece: Piece) -> None:
        """Count an input piece's rows into the chunks they fall in."""

    def chunks(self) -> list[ChunkCounts]:
        """Every chunk with rows, in order (of time, or of rows)."""
        if not self._sampled:
            return [ChunkCounts(key, counts) for key, counts in self._grouped.counts()]
        return [ChunkCounts(key, self._counters[key].result()) for key in sorted(self._counters)]

    @abc.abstractmethod
    def groups(self) -> Groups:
        """Every chunk, complete: its span, and its counts or None when it has no rows; an
        `InputError` when the rows fell in no chunk. Called once the input is read."""

    def untimed(self) -> UntimedRows:
        """The rows counted in no chunk (only time chunks leave rows out)."""
        return UntimedRows()

    def warnings(self) -> list[str]:
        """What the reading of the rows into chunks should say (time chunks: a time column
        that may be no time)."""
        return []

    def merge(self, other: Self) -> None:
        """Add the chunks `other` counted, as one chunker that read its input after this
        one's would have (an engine's files, counted apart; `other` drew its samples with
        another seed)."""
        self.rows += other.rows
        self._grouped.merge(other._grouped)
        for key, counter in other._counters.items():
            mine = self._counters.get(key)
            if mine is None:
                self._counters[key] = counter
            else:
                mine.merge(counter)
        if max(len(self._grouped), len(self._counters)) > MAX_CHUNKS:
            raise too_many_chunks(self._name)

    def _count(self, piece: Piece, keys: list[int], bounds: list[int]) -> None:
        """Count `piece`, whose rows bounds[i]:bounds[i + 1] fall in the chunk keys[i]."""
        known = len(self._counters) if self._sampled else len(self._grouped)
        new = sum(k not in self._counters for k in keys) if self._sampled else None
        if known + (self._grouped.new_keys(keys) if new is None else new) > MAX_CHUNKS:
            raise too_many_chunks(self._name)
        if not self._sampled:
            self._grouped.add(piece, keys, np.array(bounds, np.int64))
            return
        for key, start, end in zip(keys, bounds, bounds[1:], strict=False):
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = Counter(
                    self._features, self._sampled, seed=self._seed
                )
            part = piece.sliced(start, end - start)
            counter.add(part.table, part)


class RowChunker(Chunker):
    """Chunks of a fixed number of rows, in the order the input gives them."""

    def __init__(
        self,
        features: Sequence[Feature],
        sampled: Collection[str],
        name: str,
        by: ByRows,
        seed: int = SEED,
    ) -> None:
        super().__init__(features, sampled, name, seed)
        self._size = by.rows

    def add(self, piece: Piece) -> None:
        total, size = piece.table.num_rows, self._size
        if not total:
            return
        first, last = self.rows // size, (self.rows + total - 1) // size
        keys = list(range(first, last + 1))
        bounds = [0, *(k * size - self.rows for k in keys[1:]), total]
        self._count(piece, keys, bounds)
        self.rows += total

    def groups(self) -> Groups:
        """Chunk k holds rows k * size to (k + 1) * size; the last may hold fewer."""
        found, size = self.chunks(), self._size
        spans: list[tuple[Start, Start]] = [
            (p.key * size, min((p.key + 1) * size, self.rows)) for p in found
        ]
        return Groups(spans, [p.counts for p in found])


class TimeChunker(Chunker):
    """Chunks of a length of time, by a column's times, aligned to the calendar."""

    def __init__(
        self,
        features: Sequence[Feature],
        sampled: Collection[str],
        name: str,
        by: ByTime,
        seed: int = SEED,
    ) -> None:
        super().__init__(features, sampled, name, seed)
        self._by = by
        self.time_seen = False
        """Did any input piece have the time column?"""
        self._missing = 0
        self._unreadable = 0
        self._first: tuple[Location, ...] = ()
        self._epoch_only = True
        self._latest: int | None = None

    def add(self, piece: Piece) -> None:
        table = piece.table
        rows = table.num_rows
        self.rows += rows
        if not rows:
            return
        by = self._by
        if by.column in table.column_names:
            self.time_seen = True
            column = table.column(by.column)
            times = read_times(column)
            self._note_epoch(column, times)
        else:
            none = np.zeros(rows, bool)
            times = Times(np.zeros(rows, np.int64), none, np.ones(rows, bool), none)
        keys = chunk_starts(times, by.every, by.timezone)
        beyond = times.readable & ~on_the_calendar(keys, by.every, by.timezone)
        if beyond.any():
            times = replace(times, unreadable=times.unreadable | beyond)
        readable = times.readable
        if readable.all():
            self._split(piece, keys)
            return
        self._note_untimed(piece, times)
        positions = np.flatnonzero(readable)
        if len(positions):
            self._split(piece.taken(positions), keys[positions])

    def groups(self) -> Groups:
        """Every chunk from the first to the last with rows, each named by its start and
        end in ISO 8601 in the chunks' time zone; those without rows as None."""
        found = self.chunks()
        self._check_times_found(bool(found))
        by = self._by
        first, last = found[0].key, found[-1].key
        starts = calendar_starts(first, last, by.every, by.timezone, MAX_CHUNKS)
        if len(starts) > MAX_CHUNKS:
            raise too_many_chunks(self._name)
        counted = {p.key: p.counts for p in found}
        keys = sorted(set(starts.tolist()) | set(counted))
        ends = chunk_ends(np.array(keys, dtype=np.int64), by.every, by.timezone).tolist()
        spans: list[tuple[Start, Start]] = [
            (iso_in_zone(s, by.timezone), iso_in_zone(int(e), by.timezone))
            for s, e in zip(keys, ends, strict=True)
        ]
        return Groups(spans, [counted.get(key) for key in keys])

    def _check_times_found(self, any_chunk: bool) -> None:
        """An input without the time column, or without one readable time, is an input error."""
        column = self._by.column
        if not self.time_seen:
            raise InputError(
                f"{self._name}: no column {column!r} to cut by time ({option('by')})",
                hint="name the column that holds each row's time",
            )
        if not any_chunk:
            untimed = self.untimed()
            first = f" (first at {untimed.first[0]})" if untimed.first else ""
            raise InputError(
                f"{self._name}: no row has a readable time in column {column!r}: "
                f"{untimed.missing:,} missing, {untimed.unreadable:,} unreadable{first}",
                hint="times may be timestamps, dates, ISO 8601 text or epoch seconds",
            )

    def warnings(self) -> list[str]:
        """What the reading of the times should say: epoch seconds that look like no time."""
        if not self._epoch_only or self._latest is None or self._latest >= EPOCH_PLAUSIBLE:
            return []
        from datetime import UTC, datetime

        latest = datetime.fromtimestamp(self._latest, UTC).isoformat()
        return [
            f"{self._name}: {option('by')} {self._by.column!r}: its numbers were read as epoch "
            f"seconds, and every time falls before 1980 (the latest {latest}): is it a time column?"
        ]

    def _note_epoch(self, column: pa.Array | pa.ChunkedArray, times: Times) -> None:
        if not read_as_epoch(column):
            self._epoch_only = False
            return
        readable = times.seconds[times.readable]
        if len(readable):
            latest = int(readable.max())
            self._latest = latest if self._latest is None else max(self._latest, latest)

    def untimed(self) -> UntimedRows:
        """The rows counted in no chunk: their time was missing or could not be read."""
        return UntimedRows(self._missing, self._unreadable, self._first)

    def merge(self, other: Self) -> None:
        super().merge(other)
        self.time_seen |= other.time_seen
        self._missing += other._missing
        self._unreadable += other._unreadable
        self._first = (self._first + other._first)[:LOCATIONS_KEPT]
        self._epoch_only &= other._epoch_only
        if other._latest is not None:
            latest = self._latest
            self._latest = other._latest if latest is None else max(latest, other._latest)

    def _note_untimed(self, piece: Piece, times: Times) -> None:
        self._missing += int(np.count_nonzero(times.missing))
        self._unreadable += int(np.count_nonzero(times.unreadable))
        room = LOCATIONS_KEPT - len(self._first)
        if room > 0:
            rows = np.flatnonzero(~times.readable)[:room]
            self._first += piece.locate(rows)

    def _split(self, piece: Piece, keys: IntArray) -> None:
        """Count each run of rows of one piece; rows out of time order are gathered first."""
        if not len(keys):
            return
        if keys[0] == keys[-1] and not np.any(keys != keys[0]):
            self._count(piece, [int(keys[0])], [0, len(keys)])
            return
        in_order = bool(np.all(keys[1:] >= keys[:-1]))
        if not in_order:
            order = np.argsort(keys, kind="stable")
            piece, keys = piece.taken(order), keys[order]
        starts = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        bounds = [0, *starts.tolist(), len(keys)]
        self._count(piece, keys[bounds[:-1]].tolist(), bounds)


_CHUNKERS: dict[type[Grouping], Callable[..., Chunker]] = {
    ByTime: TimeChunker,
    ByRows: RowChunker,
}
"""Each chunk grouping's chunker: a line per rule."""


def chunker_of(
    by: Chunking,
    features: Sequence[Feature],
    sampled: Collection[str],
    name: str,
    seed: int = SEED,
) -> Chunker:
    """The chunker that counts rows into the chunks of `by`; `name`: the input's, for
    messages."""
    return _CHUNKERS[type(by)](features, sampled, name, by, seed=seed)


# --- the calendar ----------------------------------------------------------


def chunk_starts(times: Times, every: Every, zone: str) -> IntArray:
    """The instant (seconds since 1970, UTC) each row's chunk starts at.

    Wall-clock times are read in `zone`; an instant's chunk is the one its
    local time falls in.
    """
    if zone == UTC:
        return _floor(times.seconds, every)
    local = np.where(times.wall, times.seconds, _local(times.seconds, zone))
    return _instants(_floor(local, every), zone, times.seconds, times.wall)


def on_the_calendar(starts: IntArray, every: Every, zone: str) -> npt.NDArray[np.bool_]:
    """Whether each chunk starts and ends within years 1-9999 of the zone's calendar.

    A time near either end (9999-12-31 by day: its chunk ends in the year
    10000) is in no chunk that can be named, so it is as unreadable as a
    later time.
    """
    distinct, inverse = _distinct(starts)
    ends = chunk_ends(distinct, every, zone)
    if zone != UTC:
        distinct, ends = _local(distinct, zone), _local(ends, zone)
    fits = (distinct >= FIRST_SECOND) & (ends <= LAST_SECOND)
    fitting: npt.NDArray[np.bool_] = fits[inverse]
    return fitting


def calendar_starts(first: int, last: int, every: Every, zone: str, limit: int) -> IntArray:
    """Every chunk's start from `first` to `last` (both chunk starts), with or without rows;
    at most `limit` + 1 of them (more tells the caller there are too many)."""
    if zone == UTC:
        step = every.seconds  # weeks too: a whole number of days from a Monday
        count = min((last - first) // step + 1, limit + 1)
        return first + step * np.arange(count, dtype=np.int64)
    found = [first]
    while found[-1] < last and len(found) <= limit:
        found.append(int(chunk_ends(np.array(found[-1:], np.int64), every, zone)[0]))
    return np.array(found, np.int64)


def chunk_ends(starts: IntArray, every: Every, zone: str) -> IntArray:
    """Where the chunks that start at `starts` end: the next chunk's start."""
    if zone == UTC:
        return starts + every.seconds
    # A day of 25 hours has not ended 24 hours after its midnight: step on.
    ends = starts + every.seconds
    for _ in range(3):
        following = _floor_instants(ends, every, zone)
        short = following <= starts
        if not short.any():
            return following
        ends = np.where(short, ends + _HOUR, ends)
    return _floor_instants(ends, every, zone)


def _floor(seconds: IntArray, every: Every) -> IntArray:
    """Round (local) seconds down to the chunk's start: multiples of its length since
    1970-01-01, weeks from a Monday."""
    if every.unit is TimeUnit.WEEK:
        span = 7 * every.count
        days = seconds // _DAY
        return ((days - _MONDAY) // span * span + _MONDAY) * _DAY
    step = every.seconds
    return seconds // step * step


def _floor_instants(instants: IntArray, every: Every, zone: str) -> IntArray:
    no_wall = np.zeros(len(instants), bool)
    return _instants(_floor(_local(instants, zone), every), zone, instants, no_wall)


def _timestamps(seconds: IntArray, zone: str | None) -> pa.Array:
    ints = np.ascontiguousarray(seconds, dtype=np.int64)
    kind = pa.timestamp("s", zone) if zone else pa.timestamp("s")
    return pa.Array.from_buffers(kind, len(ints), [None, pa.py_buffer(ints)])


def _seconds(array: pa.Array) -> IntArray:
    return np.asarray(array.view(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _local(instants: IntArray, zone: str) -> IntArray:
    """The wall-clock time in `zone` at each instant, as seconds since a local 1970."""
    return _seconds(pc.local_timestamp(_timestamps(instants, zone)))


def _instants(
    local: IntArray, zone: str, moments: IntArray, wall: npt.NDArray[np.bool_]
) -> IntArray:
    """The instant each local chunk start is, in `zone`.

    A local time that happens twice (the hour the clocks go back) is the
    later of the two for a row at or after it, else the earlier; one that
    never happens (the hour they go forward) is the instant the clocks jump.
    Wall-clock rows, which cannot say which of two they meant, take the earlier.
    """
    distinct, inverse = _distinct(local)
    naive = _timestamps(distinct, None)

    def resolved(ambiguous: str) -> IntArray:
        zoned = pc.assume_timezone(naive, zone, ambiguous=ambiguous, nonexistent="latest")
        return _seconds(zoned)[inverse]

    early, late = resolved("earliest"), resolved("latest")
    return np.where(~wall & (late <= moments), late, early)


def _distinct(values: IntArray) -> tuple[IntArray, IntArray]:
    """The distinct values and each value's index among them (fast for sorted values)."""
    if len(values) and bool(np.all(values[1:] >= values[:-1])):
        first = np.empty(len(values), bool)
        first[0] = True
        first[1:] = values[1:] != values[:-1]
        return values[first], np.cumsum(first) - 1
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.reshape(-1).astype(np.int64)
