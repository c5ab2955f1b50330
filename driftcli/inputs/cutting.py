"""Cut CSV and JSON lines into runs of whole records, each with its first line number.

Cutting the stream here, rather than in pyarrow's streaming readers, is what
gives every error a line number (pyarrow's do not know them), lets
`--skip-bad-lines` drop a bad line and keep its neighbours, and lets a slow
stream (`tail -F | driftcli ingest -`) deliver its rows within a bounded
delay instead of waiting for a full run. It is also where the line limit
holds (`LineLimit`): a buffer grows to the limit and no further, so one
endless line costs no more memory than a run plus the limit.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from driftcli.errors import InputError
from driftcli.inputs.piece import BadLine, LineMap
from driftcli.inputs.sniff import UTF8_BOM
from driftcli.settings import DEFAULT_MAX_LINE_BYTES

RUN_BYTES = 1 << 24
"""Text is cut into runs of about this many bytes, on record boundaries."""

PARSE_BLOCK_BYTES = 1 << 20
"""Within a run, pyarrow parses blocks of this size in parallel."""

BLOCK_BYTES_PER_COLUMN = 2048
"""Arrow's parsers cost some KB per column in every block: a wide input is parsed in
fewer, larger blocks (`block_bytes`), so that cost stays that of a few thousand columns."""


def block_bytes(columns: int) -> int:
    """The parse block for rows of this many columns."""
    return max(PARSE_BLOCK_BYTES, columns * BLOCK_BYTES_PER_COLUMN)


_QUOTE = ord('"')

NEWLINE = ord("\n")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Cut(NamedTuple):
    """Where a run of whole records ends in a buffer, and how many lines it holds."""

    end: int
    newlines: int
    breaks: npt.NDArray[np.intp] | None = None
    """Where the newlines are, when the cutter found them anyway (JSON lines)."""


class Run(NamedTuple):
    """Whole records cut from the input: their bytes, first line, and line count."""

    data: memoryview
    first_line: int
    lines: int
    breaks: npt.NDArray[np.intp] | None = None
    """Where the run's newlines are, if known."""


def _tail_run(data: memoryview, first_line: int) -> Run:
    """The last run of an input, which need not end with a newline."""
    newlines = int(np.count_nonzero(np.frombuffer(data, np.uint8) == NEWLINE))
    ends_open = len(data) > 0 and data[-1] != NEWLINE
    return Run(data, first_line, newlines + int(ends_open))


class SplitRun(Exception):
    """A run too costly to parse whole: the reader parses `parts` instead, each a piece.

    `then`: a bad line found first, to raise once the parts before it are read.
    """

    def __init__(self, run: Run, parts: Iterator[Run]) -> None:
        super().__init__("split")
        self.run = run
        self.parts = parts
        self.then: BadLine | None = None


Cutter = Callable[[memoryview, bool], Cut]
"""`cutter(view, final)`: the longest prefix of whole records (Cut(0, 0) if none).
`final` says no more bytes will join this buffer soon (it is full, or the
stream ended), so an unbalanced CSV quote must not hold the cut back."""


def jsonl_cut(view: memoryview, final: bool = True) -> Cut:
    newlines = np.flatnonzero(np.frombuffer(view, np.uint8) == NEWLINE)
    return Cut(int(newlines[-1]) + 1, len(newlines), newlines) if len(newlines) else Cut(0, 0)


def csv_cut(view: memoryview, final: bool = True) -> Cut:
    """The last newline outside quotes (RFC 4180: quotes pair up).

    A stray quote inside a field (`5" screen`, which pyarrow reads fine)
    would leave no balanced newline: when the buffer is full, cut at the
    last newline anyway rather than buffer the rest of the input.
    """
    data = np.frombuffer(view, np.uint8)
    newlines = np.flatnonzero(data == NEWLINE)
    if not len(newlines):
        return Cut(0, 0)
    quotes = np.flatnonzero(data == _QUOTE)
    balanced = np.flatnonzero(np.searchsorted(quotes, newlines) % 2 == 0)
    if len(balanced):
        last = int(balanced[-1])
        return Cut(int(newlines[last]) + 1, last + 1)
    return Cut(int(newlines[-1]) + 1, len(newlines)) if final else Cut(0, 0)


class LineLimit(NamedTuple):
    """The longest line read, and what becomes of a longer one.

    A buffer never grows past the limit to find the end of a line, so a line
    over it costs no more than the run size plus the limit, whatever the
    input holds (one under it is parsed: docs/limits.md says what that costs).
    """

    max_bytes: int
    too_long: Callable[[list[int]], None]
    """Told the numbers of the lines over the limit: raises, or (skipping bad
    lines) counts them, and they are left out."""


def _refuse(lines: list[int]) -> None:
    raise InputError(f"line {lines[0]}: longer than the line limit")


NO_LONGER_THAN_DEFAULT = LineLimit(DEFAULT_MAX_LINE_BYTES, _refuse)


def within_limit(run: Run, limit: LineLimit) -> Run:
    """The run with its lines over the limit reported, and emptied when they are skipped.

    An emptied line keeps its newline, so the lines after it keep their numbers.
    Only a run longer than the limit can hold such a line, so most runs are
    returned at once.
    """
    if len(run.data) <= limit.max_bytes:
        return run
    data = np.frombuffer(run.data, np.uint8)
    breaks = run.breaks if run.breaks is not None else np.flatnonzero(data == NEWLINE)
    starts = np.r_[0, breaks + 1]
    ends = np.r_[breaks, len(data)]
    long = np.flatnonzero(ends - starts > limit.max_bytes).tolist()
    if not long:
        return run
    limit.too_long([run.first_line + i for i in long])
    kept = bytearray()
    position = 0
    for i in long:
        kept += run.data[position : int(starts[i])]
        position = int(ends[i])
    kept += run.data[position:]
    return Run(memoryview(kept), run.first_line, run.lines)


def limited(run: Run, limit: LineLimit) -> Iterator[Run]:
    """`within_limit`; when it refuses a line, the run's lines before it come first."""
    try:
        yield within_limit(run, limit)
    except BadLine as exc:
        before = run_before(run, exc.line)
        if before is not None:
            yield before
        raise


def run_before(run: Run, line: int) -> Run | None:
    """The run's lines before `line`, or None if it starts there (or the line is not in it)."""
    count = line - run.first_line
    if count <= 0:
        return None
    breaks = run.breaks
    if breaks is None:
        breaks = np.flatnonzero(np.frombuffer(run.data, np.uint8) == NEWLINE)
    if count > len(breaks):
        return None
    end = int(breaks[count - 1]) + 1
    return Run(run.data[:end], run.first_line, count, breaks[:count])


def cut_stream(
    stream: Readable,
    cutter: Cutter,
    max_latency: float | None = None,
    limit: LineLimit = NO_LONGER_THAN_DEFAULT,
) -> Iterator[Run | None]:
    """Cut a byte stream into (run, first line number) runs of whole records.

    Reads into one reused buffer: fresh 16 MB buffers cost more in page
    faults than parsing them. So a run is a view into that
    buffer, valid only until the next one is asked for.

    With `max_latency`, whole records waiting longer than that are yielded
    without waiting for a full buffer, and None is yielded whenever that
    long passes with nothing to give, so the caller gets control back
    (needs a stream with a real file descriptor).
    """
    return _StreamCutter(stream, cutter, max_latency, limit).runs()


class _StreamCutter:
    """The state of `cut_stream`: the buffer, what it holds, and the line it starts at."""

    def __init__(
        self, stream: Readable, cutter: Cutter, max_latency: float | None, limit: LineLimit
    ) -> None:
        self.readinto = getattr(stream, "readinto", None) or _reader_into(stream)
        self.fd = _file_descriptor(stream) if max_latency is not None else None
        self.max_latency = max_latency or 0.0
        self.buffered: Callable[[], bool] = getattr(stream, "has_buffered", lambda: False)
        self.cutter = cutter
        self.limit = limit
        self.longest = max(RUN_BYTES, limit.max_bytes + 1)
        self.buffer = bytearray(RUN_BYTES)
        self.filled = 0
        self.first_line = 1
        self.waiting_since: float | None = None
        self.discarding = False
        """Reading past a line over the limit, to its end."""

    def runs(self) -> Iterator[Run | None]:
        at_start = True
        while True:
            if self.fd is not None and not self.buffered() and not self._ready():
                view = memoryview(self.buffer)[: self.filled]
                cut = self.cutter(view, False) if self.filled else Cut(0, 0)
                if cut.end:
                    yield from limited(self._run(cut), self.limit)
                    self._consume(cut)
                else:
                    yield None
                self.waiting_since = time.monotonic() if self.filled else None
                continue
            if self.filled == len(self.buffer):
                full = self._full()
                if full is not None:
                    # A view into the buffer: its bytes move only once the
                    # caller asks for the next run.
                    yield from limited(self._run(full), self.limit)
                    self._consume(full)
                    self.waiting_since = time.monotonic() if self.filled else None
                continue
            read = self.readinto(memoryview(self.buffer)[self.filled :])
            if not read:
                break
            if self.discarding:
                self._discard(read)
                continue
            self.filled += read
            if at_start and self.filled >= len(UTF8_BOM):
                if self.buffer.startswith(UTF8_BOM):
                    self.buffer[: self.filled - 3] = self.buffer[3 : self.filled]
                    self.filled -= 3
                at_start = False
            if self.waiting_since is None:
                self.waiting_since = time.monotonic()
        if self.filled:
            tail = _tail_run(memoryview(self.buffer)[: self.filled], self.first_line)
            yield from limited(tail, self.limit)

    def _ready(self) -> bool:
        """Wait for bytes until the oldest waiting record is due; are there any?"""
        if self.fd is None:
            return True
        deadline = (self.waiting_since or time.monotonic()) + self.max_latency
        timeout = max(0.0, deadline - time.monotonic())
        return bool(select.select([self.fd], [], [], timeout)[0])

    def _full(self) -> Cut | None:
        """The whole records of a full buffer; None when it had to grow instead,
        or was dropped as the start of a line over the limit."""
        cut = self.cutter(memoryview(self.buffer), True)
        if cut.end:
            return cut
        if len(self.buffer) < self.longest:  # a record longer than the buffer: grow it
            grown = bytearray(min(2 * len(self.buffer), self.longest))
            grown[: self.filled] = self.buffer
            self.buffer = grown
            return None
        self.limit.too_long([self.first_line])
        self.discarding, self.filled = True, 0
        return None

    def _run(self, cut: Cut) -> Run:
        return Run(memoryview(self.buffer)[: cut.end], self.first_line, cut.newlines, cut.breaks)

    def _consume(self, cut: Cut) -> None:
        """The run up to `cut` was parsed: move the rest of the buffer to its start."""
        self.buffer[: self.filled - cut.end] = self.buffer[cut.end : self.filled]
        self.filled -= cut.end
        self.first_line += cut.newlines

    def _discard(self, read: int) -> None:
        """Drop what was read up to the end of the line over the limit; keep what follows."""
        newline = self.buffer.find(b"\n", 0, read)
        if newline < 0:
            return
        kept = read - newline - 1
        self.buffer[:kept] = self.buffer[newline + 1 : read]
        self.filled, self.discarding = kept, False
        self.first_line += 1
        self.waiting_since = time.monotonic() if kept else None


def _reader_into(stream: Readable) -> Callable[[memoryview], int]:
    read = getattr(stream, "read1", stream.read)

    def readinto(view: memoryview) -> int:
        data = read(len(view))
        view[: len(data)] = data
        return len(data)

    return readinto


def _file_descriptor(stream: Any) -> int | None:
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if isinstance(fd, int) and not os.isatty(fd) else None


def line_map(run: Run, rows: int, scan: Callable[[bytes, int], npt.NDArray[np.int64]]) -> LineMap:
    """Map rows to lines without keeping the run's bytes, which may be a reused buffer.

    When every line is one row (the usual case) the map is arithmetic;
    otherwise (blank lines, quoted newlines) the bytes are copied and
    scanned only if the map is ever asked for.
    """
    if rows == run.lines:
        first = run.first_line
        return lambda: np.arange(first, first + rows, dtype=np.int64)
    kept, first = bytes(run.data), run.first_line
    return lambda: scan(kept, first)
