"""Cut CSV and JSON lines into runs of whole records, each with its first line number.

Cutting the stream here, rather than in pyarrow's streaming readers, is what
gives every error a line number (pyarrow's do not know them), lets
`--skip-bad-lines` drop a bad line and keep its neighbours, and lets a slow
stream (`tail -F | driftcli ingest -`) deliver its rows within a bounded
delay instead of waiting for a full chunk.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from driftcli.inputs.chunk import LineMap
from driftcli.inputs.sniff import UTF8_BOM

CHUNK_BYTES = 1 << 24
"""Text is cut into chunks of about this many bytes, on record boundaries."""

PARSE_BLOCK_BYTES = 1 << 20
"""Within a chunk, pyarrow parses blocks of this size in parallel."""


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


def cut_view(view: memoryview, cutter: Cutter) -> Iterator[Run]:
    """Cut a whole input already in memory (a mapped file) into runs of whole records.

    The runs are views: nothing is copied.
    """
    if bytes(view[:3]) == UTF8_BOM:
        view = view[3:]
    position, first_line = 0, 1
    while position < len(view):
        window = CHUNK_BYTES
        while True:
            end = min(position + window, len(view))
            cut = cutter(view[position:end], True)
            if cut.end or end == len(view):
                break
            window *= 2  # a record longer than a chunk
        if cut.end:
            yield Run(view[position : position + cut.end], first_line, cut.newlines, cut.breaks)
        else:
            yield _tail_run(view[position:end], first_line)
        first_line += cut.newlines
        position += cut.end or end - position


def cut_stream(
    stream: Readable, cutter: Cutter, max_latency: float | None = None
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
    readinto = getattr(stream, "readinto", None) or _reader_into(stream)
    fd = _file_descriptor(stream) if max_latency is not None else None
    buffered = getattr(stream, "has_buffered", lambda: False)
    buffer = bytearray(CHUNK_BYTES)
    filled = 0
    first_line = 1
    waiting_since: float | None = None
    at_start = True

    def emit(cut: Cut) -> Run:
        return Run(memoryview(buffer)[: cut.end], first_line, cut.newlines, cut.breaks)

    while True:
        if fd is not None and max_latency is not None and not buffered():
            deadline = (waiting_since or time.monotonic()) + max_latency
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                cut = cutter(memoryview(buffer)[:filled], False) if filled else Cut(0, 0)
                if cut.end:
                    yield emit(cut)
                    buffer[: filled - cut.end] = buffer[cut.end : filled]
                    filled -= cut.end
                    first_line += cut.newlines
                else:
                    yield None
                waiting_since = time.monotonic() if filled else None
                continue
        if filled == len(buffer):
            cut = cutter(memoryview(buffer), True)
            if not cut.end:  # a record longer than the buffer: grow it
                buffer = buffer + bytearray(len(buffer))
                continue
            yield emit(cut)
            buffer[: filled - cut.end] = buffer[cut.end : filled]
            filled -= cut.end
            first_line += cut.newlines
            waiting_since = time.monotonic() if filled else None
        read = readinto(memoryview(buffer)[filled:])
        if not read:
            break
        filled += read
        if at_start and filled >= len(UTF8_BOM):
            if buffer.startswith(UTF8_BOM):
                buffer[: filled - 3] = buffer[3:filled]
                filled -= 3
            at_start = False
        if waiting_since is None:
            waiting_since = time.monotonic()
    if filled:
        yield _tail_run(memoryview(buffer)[:filled], first_line)


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
