"""An input's bytes: a regular file, or a stream read once.

The text formats read their records through `Content.runs`, from a file or
a stream alike, into one reused buffer. Files are read, never
memory-mapped: a mapped file that another process truncates (logrotate's
copytruncate) kills its reader with SIGBUS, and a read costs no more than
the pages a mapping faults in. Parquet needs random access: it reads a
regular file by its path, and copies a stream to a temporary file first.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from driftcli.inputs.cutting import Cutter, LineLimit, Run, cut_stream
from driftcli.inputs.streams import FileReader, FileShrank, PeekStream, shrank


class Content:
    """Where an input's bytes come from, opened for reading."""

    def __init__(
        self,
        *,
        path: Path | None = None,
        stream: PeekStream | None = None,
        compression: str | None = None,
        name: str = "",
    ) -> None:
        if (path is None) == (stream is None):
            raise ValueError("a path or a stream")
        self.path = path
        """A regular file (which can be read again); None for a stream."""
        self.compression = compression
        self.name = name or str(path or "")
        """What messages call the input."""
        self._cleanup = contextlib.ExitStack()
        self._stream = stream
        self._file: FileReader | None = None
        self._spool: IO[bytes] | None = None
        self._size_at_open: int | None = None
        if path is not None:
            with contextlib.suppress(OSError):  # opening it then says why
                self._size_at_open = path.stat().st_size

    def on_close(self, callback: Callable[[], object]) -> None:
        """Close something the content reads from (a pipe, a URL's file) with it."""
        self._cleanup.callback(callback)

    def close(self) -> None:
        self._cleanup.close()

    @property
    def is_file(self) -> bool:
        """A regular file read as it is (not compressed): Parquet reads it by its path."""
        return self.path is not None and not self.compression

    def stream(self) -> PeekStream:
        """The decompressed content as a forward-only stream that can be peeked."""
        if self._stream is not None:
            return self._stream
        if self.path is None:  # pragma: no cover - a stream is set when there is no path
            raise ValueError("no content")
        self._file = FileReader(self.path, self.name)
        self._cleanup.callback(self._file.close)
        raw: Any = self._file
        if self.compression:
            raw = pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), self.compression)
            self._cleanup.callback(raw.close)
        self._stream = PeekStream(raw)
        return self._stream

    def head(self, enough: Callable[[bytes], bool], limit: int) -> bytes:
        """The first bytes (decompressed): until `enough(head)`, `limit` bytes or the end."""
        return self.stream().peek_until(enough, limit)

    def runs(
        self, cutter: Cutter, max_latency: float | None, limit: LineLimit, skip: int = 0
    ) -> Iterator[Run | None]:
        """Runs of whole records, `skip` leading bytes (a CSV header) left out, and no
        line longer than `limit`."""
        for run in cut_stream(self.stream(), cutter, max_latency, limit):
            if run is not None and skip:
                taken = min(skip, len(run.data))
                header_lines = bytes(run.data[:taken]).count(b"\n")
                run = Run(run.data[taken:], run.first_line + header_lines, run.lines - header_lines)
                skip -= taken
            yield run

    def progress(self) -> tuple[int, int] | None:
        """(bytes read, bytes in all) of a file being read; None for anything else."""
        if self._file is None:
            return None
        return self._file.position, self._file.size

    def shrank(self) -> FileShrank | None:
        """The error to give if this file is shorter now than when it was opened (a
        reader that failed may have failed for that reason)."""
        if self.path is None or self._size_at_open is None:
            return None
        try:
            now = self.path.stat().st_size
        except OSError:
            return None
        return shrank(self.name, self._size_at_open, now) if now < self._size_at_open else None

    def seekable(self) -> str | IO[bytes]:
        """What Parquet reads: the file's path, or the stream copied to a temporary file."""
        if self.is_file and self.path is not None:
            return str(self.path)
        if self._spool is None:
            import tempfile  # only Parquet from a stream needs a spool

            spool = self._cleanup.enter_context(tempfile.TemporaryFile(prefix="driftcli-"))  # noqa: SIM115
            shutil.copyfileobj(self.stream(), spool, 1 << 20)
            self._spool = spool
        self._spool.seek(0)
        return self._spool
