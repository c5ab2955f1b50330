"""Byte streams read once (files, stdin, pipes, URLs, decompressed files), and peeking at them."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftcli.errors import InputError
from driftcli.inputs.cutting import Readable


class FileShrank(InputError):
    """A file grew shorter while it was read: truncated in place by another process."""


def shrank(name: str, size: int, now: int) -> FileShrank:
    return FileShrank(
        f"{name}: shrank from {size:,} to {now:,} bytes while it was read (another process "
        "truncated it, as logrotate's copytruncate does); its rows were not all read",
        hint="check a copy of the file, or rotate logs by renaming them (logrotate's create) "
        "rather than with copytruncate",
    )


class FileReader(io.RawIOBase):
    """A regular file, read once from its start to its length when opened.

    Read, not memory-mapped: a mapped file that shrinks under its reader
    kills the process with SIGBUS at the next touch of a page past the new
    end, which no Python code can catch (a handler would run only after the
    faulting instruction, in C, had been retried forever). A file that
    shrinks while read is an error naming it, `FileShrank`; one whose
    length said more than it holds (a file in /sys) just ends.
    """

    def __init__(self, path: Path, name: str) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        self.name = name
        self.size = os.fstat(self._file.fileno()).st_size
        """The file's length when opened: bytes appended later are not read."""
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self.size - self.position)
        if wanted <= 0:
            return 0
        count = self._file.readinto(view[:wanted]) or 0
        now = os.fstat(self._file.fileno()).st_size
        if now < self.size:
            raise shrank(self.name, self.size, now)
        if not count:  # shorter than its length said, and not shrunk: a pseudo-file
            self.size = self.position
        self.position += count
        return count

    def read1(self, size: int = -1, /) -> bytes:
        return self.read(size if size > 0 else 1 << 20) or b""

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


class FdReader:
    """Unbuffered reads straight from a file descriptor (stdin).

    Python's buffered stdin could hold bytes that select() does not see;
    reading the descriptor directly keeps `--flush-seconds` honest.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def read(self, size: int = -1, /) -> bytes:
        return os.read(self._fd, size if size > 0 else 1 << 20)

    read1 = read

    def readinto(self, view: memoryview) -> int:
        return os.readv(self._fd, [view])

    def fileno(self) -> int:
        return self._fd


class PeekStream(io.RawIOBase):
    """A forward-only byte stream whose first bytes can be looked at first.

    Sniffing a format needs the first bytes of stdin, and the parser then needs
    them again; this keeps what was peeked and serves it before the rest.
    """

    def __init__(self, raw: Readable) -> None:
        super().__init__()
        self._raw = raw
        self._head = bytearray()
        self._pos = 0

    def peek_until(self, enough: Callable[[bytes], bool], limit: int) -> bytes:
        """Read ahead until `enough(head)`, `limit` bytes, or the end; return the head."""
        reader = getattr(self._raw, "read1", self._raw.read)
        # A bytearray grows in place: a long head read from a pipe 64 KiB at a
        # time is not copied once per read.
        while not enough(self._head) and len(self._head) < limit:  # type: ignore[arg-type]
            more = reader(max(limit - len(self._head), 1))
            if not more:
                break
            self._head += more
        return bytes(self._head)

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        fileno = getattr(self._raw, "fileno", None)
        if fileno is None:
            raise io.UnsupportedOperation("fileno")
        fd: int = fileno()
        return fd

    def has_buffered(self) -> bool:
        """Peeked bytes not yet read: a read will not block, whatever select() says."""
        return self._pos < len(self._head)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos < len(self._head):
            n = min(len(view), len(self._head) - self._pos)
            view[:n] = self._head[self._pos : self._pos + n]
            self._pos += n
            return n
        readinto = getattr(self._raw, "readinto", None)
        if readinto is not None:
            count: int = readinto(view)
            return count
        reader = getattr(self._raw, "read1", self._raw.read)
        data = reader(len(view))
        view[: len(data)] = data
        return len(data)

    def read1(self, size: int = -1, /) -> bytes:
        return self.read(size if size > 0 else 1 << 20) or b""
