"""`ingest --follow FILE`: a log of JSON lines read as `tail -F` reads it, resumable.

It reads what the file holds, then waits for more; it waits for a file
that does not exist yet, and survives both kinds of rotation: a file
renamed away and created anew (the renamed one is read to its end first),
and a file copied then truncated in place (read again from its start).

Each row carries a mark (`Piece.marks`): the file it came from and the
offset just past its line. Whoever stores rows stores the mark of the last
one with them (ingest writes it in the segment that holds them), and hands
it back as `start` on the next run, which resumes at the first line not
yet stored. A file is known by its device and inode, and a checksum of its
first bytes (an inode reused by a new file does not pass for the old one).
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driftcli.choices import InputFormat
from driftcli.errors import InputError, option, os_reason
from driftcli.inputs.cutting import NEWLINE, RUN_BYTES, Run, SplitRun
from driftcli.inputs.jsonl_format import blank, parse_cleaned, parse_jsonl
from driftcli.inputs.piece import LineMap, Piece
from driftcli.inputs.sniff import compression_of_path
from driftcli.inputs.source import Source
from driftcli.settings import size_text

FINGERPRINT_BYTES = 1024
"""A file's identity includes a checksum of up to this many of its first bytes."""

OFFSET_BITS = 44
"""A mark is a file's number (in this run) above, and an offset (up to 16 TiB) below."""

POLL_SECONDS = 0.2
"""How often a file at its end is looked at again (size, rotation)."""


@dataclass(frozen=True)
class Spot:
    """Where a follow stands: a file (by identity) and the offset past the last line taken."""

    path: str
    """The followed path, absolute: the key a window keeps this spot under."""
    device: int
    inode: int
    fingerprint: str
    """SHA-256 (hex) of the file's first `fingerprint_bytes` bytes."""
    fingerprint_bytes: int
    offset: int


@dataclass
class _Open:
    """A file being read: its descriptor, identity and how far it is read."""

    fd: int
    number: int
    """Its number in this run, the high bits of its rows' marks."""
    device: int
    inode: int
    head: bytes
    """Its first bytes, up to FINGERPRINT_BYTES, as read."""
    offset: int = 0
    """Where the next read starts (the bytes before are in `partial` or parsed)."""
    line: int = 1
    """The number (in this file) of the line `partial` starts."""
    partial: bytes = b""
    """Bytes read after the last newline: the start of a line not yet whole."""
    discarding: bool = False
    """Within a line over the line limit, skipped: its bytes are dropped up to its end."""


class FollowSource(Source):
    """A file of JSON lines followed across rotation, from `start` (None: its first line)."""

    describe_as: ClassVar[str] = "JSON lines"

    def __init__(
        self, path: str, start: Spot | None, on_warning: Callable[[str], None] | None = None
    ) -> None:
        super().__init__(path, InputFormat.JSONL)
        self.path = Path(path)
        self.key = str(Path(path).absolute())
        self.start = start
        self.warn = on_warning or (lambda _: None)
        self._files: list[tuple[int, int, bytes]] = []
        """By number: each file's device, inode and first bytes."""
        self._current: _Open | None = None
        self._finished: set[tuple[int, int]] = set()
        """The files (device, inode) read to their end once renamed away."""
        self.on_close(self._close_current)

    def spot_at(self, mark: int) -> Spot:
        """The spot just past the row whose mark this is."""
        number, offset = mark >> OFFSET_BITS, mark & ((1 << OFFSET_BITS) - 1)
        device, inode, head = self._files[number]
        kept = head[: min(len(head), offset)]
        fingerprint = hashlib.sha256(kept).hexdigest()
        return Spot(self.key, device, inode, fingerprint, len(kept), offset)

    def _read(self, max_latency: float | None) -> Iterator[Piece | None]:
        latency = max_latency if max_latency is not None else POLL_SECONDS
        current = yield from self._first_file(latency)
        idle_since = time.monotonic()
        while True:
            data = os.read(current.fd, RUN_BYTES)
            if data and not _same_start(current):
                self._read_again(current, "truncated and written again")
                continue
            if data:
                self._grow_head(current, data)
                yield from self._lines(current, data, final=False)
                idle_since = time.monotonic()
                continue
            if self._truncated(current):
                continue
            successor = self._renamed(current)
            if successor is not None:
                # Renamed away: what its writer added before the rename, then its last
                # line (which may lack its newline), then the new file.
                while data := os.read(current.fd, RUN_BYTES):
                    yield from self._lines(current, data, final=False)
                yield from self._lines(current, b"", final=True)
                self._switch(successor)
                current = successor
                continue
            if time.monotonic() - idle_since >= latency:
                yield None  # nothing new: the caller may act on time
                idle_since = time.monotonic()
            time.sleep(min(POLL_SECONDS, latency))

    def _first_file(self, latency: float) -> Generator[None, None, _Open]:
        """The file to read first (waiting for the path to exist), at the start's offset."""
        if self.start is not None:
            found = self._resume(self.start)
            if found is not None:
                self._switch(found)
                return found
        while True:
            opened = self._open(self.path)
            if opened is not None:
                self._switch(opened)
                return opened
            yield None
            time.sleep(min(POLL_SECONDS, latency))

    def _resume(self, start: Spot) -> _Open | None:
        """The file `start` names, at its offset: the path, or its renamed self beside it."""
        for candidate in [self.path, *_siblings(self.path)]:
            try:
                status = candidate.stat()
            except OSError:
                continue
            if (status.st_dev, status.st_ino) != (start.device, start.inode):
                continue
            opened = self._open(candidate)
            if opened is None:
                continue
            if (opened.device, opened.inode) != (start.device, start.inode):
                os.close(opened.fd)  # replaced since it was looked at
                continue
            if not _same_head(opened, start):
                os.close(opened.fd)
                break  # the same inode, other bytes: another file now; read the path's
            if os.fstat(opened.fd).st_size < start.offset:
                self.warn(f"{self.name}: shorter than when last read: read from its start")
                return opened
            os.lseek(opened.fd, start.offset, os.SEEK_SET)
            opened.offset = start.offset
            opened.line = 1 + _newlines_before(opened.fd, start.offset)
            return opened
        self.warn(
            f"{self.name}: the file last read is no longer there (rotated away and removed?): "
            "read from the start of the file the path names"
        )
        return None

    def _open(self, path: Path) -> _Open | None:
        """`path` opened for reading (None if it does not exist)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {os_reason(exc)}") from None
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            os.close(fd)
            raise InputError(f"{path}: not a regular file; {option('follow')} reads a log file")
        os.set_blocking(fd, True)
        return self._known(fd, status.st_dev, status.st_ino)

    def _known(self, fd: int, device: int, inode: int) -> _Open:
        """A file (or a truncated one, again) given the next number."""
        head = os.pread(fd, FINGERPRINT_BYTES, 0)
        self._files.append((device, inode, head))
        return _Open(fd, len(self._files) - 1, device, inode, head)

    def _truncated(self, current: _Open) -> bool:
        """Was the file cut shorter than what was read (copy-truncate)? Then read it again
        from its start, as a new file."""
        if os.fstat(current.fd).st_size >= current.offset:
            return False
        self._read_again(current, "truncated")
        return True

    def _grow_head(self, current: _Open, data: bytes) -> None:
        """Keep the file's first bytes as they are read, up to `FINGERPRINT_BYTES`: a file
        opened nearly empty gets a full fingerprint and start to compare."""
        if len(current.head) >= FINGERPRINT_BYTES or len(current.head) != current.offset:
            return
        current.head += data[: FINGERPRINT_BYTES - len(current.head)]
        self._files[current.number] = (current.device, current.inode, current.head)

    def _read_again(self, current: _Open, what: str) -> None:
        """The file (copy-truncated) read again from its start, as a new file."""
        self.warn(f"{self.name}: {what} (copy-truncate rotation?): read from its start")
        os.lseek(current.fd, 0, os.SEEK_SET)
        fresh = self._known(current.fd, current.device, current.inode)
        current.number, current.head = fresh.number, fresh.head
        current.offset, current.line, current.partial = 0, 1, b""
        current.discarding = False

    def _renamed(self, current: _Open) -> _Open | None:
        """The file to read after `current`, if it was renamed away (and the path names
        another file); None while the path names it, or nothing yet."""
        try:
            status = self.path.stat()
        except OSError:
            return None  # renamed or removed, and not yet created again: keep waiting
        if (status.st_dev, status.st_ino) == (current.device, current.inode):
            return None
        self._finished.add((current.device, current.inode))
        return self._open(_written_next(self.path, current, self._finished))

    def _switch(self, opened: _Open) -> None:
        self._close_current()
        self._current = opened

    def _close_current(self) -> None:
        if self._current is not None and self._current.fd >= 0:
            os.close(self._current.fd)
            self._current = None

    def _lines(self, current: _Open, data: bytes, *, final: bool) -> Iterator[Piece]:
        """The whole lines among the bytes read (all of them if `final`), as a piece."""
        base = current.offset - len(current.partial)  # where the buffer starts in the file
        buffer = current.partial + data
        current.offset += len(data)
        if current.discarding:  # the rest of a line over the limit, up to its newline
            cut = buffer.find(b"\n")
            current.partial = b""
            if cut < 0:
                return
            buffer, base = buffer[cut + 1 :], base + cut + 1
            current.discarding, current.line = False, current.line + 1
        end = len(buffer) if final else buffer.rfind(b"\n") + 1
        if end <= 0 and len(buffer) > self.max_line_bytes:
            # Raises, or (skipping bad lines) the line is dropped, up to its end.
            self._too_long([current.line])
            current.partial, current.discarding = b"", True
            return
        whole, current.partial = buffer[:end], buffer[end:]
        if not whole:
            return
        breaks = np.flatnonzero(np.frombuffer(whole, np.uint8) == NEWLINE)
        ends = breaks + 1 if whole.endswith(b"\n") else np.r_[breaks + 1, len(whole)]
        first_line = current.line
        current.line += len(ends)
        whole = self._without_long_lines(whole, ends, first_line)
        run = Run(memoryview(whole), first_line, len(ends), breaks)
        if blank(run.data):
            return
        for table, lines in self._parsed(run):
            row_ends = ends[lines() - first_line].astype(np.int64) + base
            marks = (np.int64(current.number) << np.int64(OFFSET_BITS)) | row_ends
            yield Piece(table.combine_chunks(), first_line, 0, lines, self.name, marks=marks)

    def _parsed(self, run: Run) -> Iterator[tuple[pa.Table, LineMap]]:
        """The run parsed whole, or in parts where its keys could cost too much
        (jsonl_bounds.py), as the JSON-lines reader parses a file."""
        try:
            yield parse_jsonl(run, self.name, self.bad_lines, self.max_columns)
        except SplitRun as split:
            for part in split.parts:
                yield parse_cleaned(part, self.name, self.bad_lines)

    def _without_long_lines(self, whole: bytes, ends: npt.NDArray[np.intp], first: int) -> bytes:
        """The lines, those over the line limit reported (skipped: blanked)."""
        starts = np.r_[0, ends[:-1]]
        longer = np.flatnonzero(ends - starts > self.max_line_bytes + 1)  # + its newline
        if not len(longer):
            return whole
        self._too_long([first + int(i) for i in longer])
        blanked = bytearray(whole)
        for i in longer.tolist():
            start, stop = int(starts[i]), int(ends[i])
            stop -= whole[stop - 1] == NEWLINE  # the newline stays: the lines keep their numbers
            blanked[start:stop] = b" " * (stop - start)
        return bytes(blanked)

    def _too_long(self, lines: list[int]) -> None:
        limit = size_text(self.max_line_bytes)
        reason = f"longer than the line limit of {limit} ({option('max_line_bytes')})"
        self.bad_lines.report_many(self.name, lines, reason)


def _written_next(path: Path, current: _Open, finished: set[tuple[int, int]]) -> Path:
    """The file written next after `current`, among `path` and the files beside it
    (renamed since; `finished`: those read to their end): the first, in time of last
    write, not older than `current`.

    Several rotations may have happened since `current` was last read (while
    driftcli was down, or slow): each file between is read in turn, not
    skipped for the newest. A compressed file is not read (its lines are
    in the file it was compressed from, read before, or gone).
    """
    written = os.fstat(current.fd).st_mtime_ns
    found: list[tuple[int, bool, Path]] = []
    for candidate in [*_siblings(path), path]:
        try:
            status = candidate.stat()
        except OSError:
            continue
        identity = (status.st_dev, status.st_ino)
        if (
            not stat.S_ISREG(status.st_mode)
            or identity in finished
            or status.st_mtime_ns < written
            or compression_of_path(candidate) is not None
        ):
            continue
        found.append((status.st_mtime_ns, candidate == path, candidate))
    return min(found)[2] if found else path


def _same_start(current: _Open) -> bool:
    """Does the file still start with the bytes first read from it? A file truncated
    and written again past where it was read, before the size was looked at, does
    not (unless its new lines start alike)."""
    head = current.head
    return not head or os.pread(current.fd, len(head), 0) == head


def _newlines_before(fd: int, offset: int) -> int:
    """The lines a file holds before `offset`, so a resumed follow names lines as they are."""
    count, done = 0, 0
    while done < offset:
        block = os.pread(fd, min(RUN_BYTES, offset - done), done)
        if not block:
            break
        count += block.count(b"\n")
        done += len(block)
    return count


def _same_head(opened: _Open, start: Spot) -> bool:
    """Do the file's first bytes match the spot's checksum of them?"""
    head = opened.head[: start.fingerprint_bytes]
    return len(head) == start.fingerprint_bytes and (
        hashlib.sha256(head).hexdigest() == start.fingerprint
    )


def _siblings(path: Path) -> list[Path]:
    """Files beside `path` whose names start with its name (app.log.1, app.log-20240101):
    where a rotation renames it to."""
    try:
        entries = sorted(path.parent.iterdir())
    except OSError:
        return []
    return [p for p in entries if p.name.startswith(path.name) and p != path]
