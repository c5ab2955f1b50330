"""An input's bytes: a regular file (memory-mapped, unless compressed) or a stream read once.

The text formats read their records through `Content.runs`: a mapped file is
cut without copying, and its pages are let go once parsed (a mapped file's
pages count in the process's memory until unmapped); anything else is read
as a stream into a reused buffer. Parquet needs random access: it reads a
regular file by its path, and copies a stream to a temporary file first.
"""

from __future__ import annotations

import contextlib
import mmap
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from driftcli.inputs.cutting import Cutter, LineLimit, Run, cut_stream, cut_view
from driftcli.inputs.streams import PeekStream

CAN_DROP_PAGES = hasattr(mmap, "MADV_DONTNEED") and hasattr(mmap.mmap, "madvise")
"""Not on Windows: mapped pages then stay until the file is closed."""


class Content:
    """Where an input's bytes come from, opened for reading."""

    def __init__(
        self,
        *,
        path: Path | None = None,
        stream: PeekStream | None = None,
        compression: str | None = None,
    ) -> None:
        if (path is None) == (stream is None):
            raise ValueError("a path or a stream")
        self.path = path
        """A regular file (which can be read again); None for a stream."""
        self.compression = compression
        self._cleanup = contextlib.ExitStack()
        self._stream = stream
        self._view: memoryview | None = None
        self._mapping: mmap.mmap | None = None
        self._released = 0
        self.bytes_done = 0
        self._spool: IO[bytes] | None = None

    def on_close(self, callback: Callable[[], object]) -> None:
        """Close something the content reads from (a pipe, a URL's file) with it."""
        self._cleanup.callback(callback)

    def close(self) -> None:
        self._cleanup.close()

    @property
    def mappable(self) -> bool:
        return self.path is not None and not self.compression

    def stream(self) -> PeekStream:
        """The decompressed content as a forward-only stream that can be peeked."""
        if self._stream is not None:
            return self._stream
        if self.path is None:  # pragma: no cover - a stream is set when there is no path
            raise ValueError("no content")
        raw: Any
        if self.compression:
            raw = pa.input_stream(str(self.path), compression=self.compression)
        else:
            raw = open(self.path, "rb")  # noqa: SIM115 - closed by the exit stack
        self._cleanup.callback(raw.close)
        self._stream = PeekStream(raw)
        return self._stream

    def head(self, enough: Callable[[bytes], bool], limit: int) -> bytes:
        """The first bytes (decompressed): until `enough(head)`, `limit` bytes or the end."""
        if self.mappable:
            return bytes(self.mapped()[:limit])
        return self.stream().peek_until(enough, limit)

    def runs(
        self, cutter: Cutter, max_latency: float | None, limit: LineLimit, skip: int = 0
    ) -> Iterator[Run | None]:
        """Runs of whole records, `skip` leading bytes (a CSV header) left out, and no
        line longer than `limit`."""
        if self.mappable:
            runs: Iterator[Run | None] = cut_view(self.mapped(), cutter, limit)
        else:
            runs = cut_stream(self.stream(), cutter, max_latency, limit)
        for run in runs:
            if run is not None and self._view is not None:
                self._release_mapped(self.bytes_done)  # the runs before this one are parsed
                self.bytes_done += len(run.data)
            if run is not None and skip:
                taken = min(skip, len(run.data))
                header_lines = bytes(run.data[:taken]).count(b"\n")
                run = Run(run.data[taken:], run.first_line + header_lines, run.lines - header_lines)
                skip -= taken
            yield run

    def size(self) -> int | None:
        """The bytes in all, for a mapped file."""
        return len(self._view) if self._view is not None else None

    def mapped(self) -> memoryview:
        if self._view is not None:
            return self._view
        if self.path is None:  # pragma: no cover - only mappable content is mapped
            raise ValueError("a stream cannot be mapped")
        with open(self.path, "rb") as file:
            mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(mapping)

        def release() -> None:
            view.release()
            with contextlib.suppress(BufferError):  # a caller still holds a slice
                mapping.close()

        self._cleanup.callback(release)
        self._view, self._mapping = view, mapping
        return view

    def _release_mapped(self, done: int) -> None:
        """Drop the mapped pages before byte `done` from this process's memory.

        The pages stay in the page cache; a later touch maps them back, so
        this is only ever a hint. (A UTF-8 BOM skipped by the cutter makes
        `done` 3 bytes short: harmless.)
        """
        end = done - done % mmap.PAGESIZE
        if self._mapping is None or end <= self._released or not CAN_DROP_PAGES:
            return
        with contextlib.suppress(OSError, ValueError):
            self._mapping.madvise(mmap.MADV_DONTNEED, self._released, end - self._released)
        self._released = end

    def seekable(self) -> str | IO[bytes]:
        """What Parquet reads: the file's path, or the stream copied to a temporary file."""
        if self.mappable and self.path is not None:
            return str(self.path)
        if self._spool is None:
            import tempfile  # only Parquet from a stream needs a spool

            spool = self._cleanup.enter_context(tempfile.TemporaryFile(prefix="driftcli-"))  # noqa: SIM115
            shutil.copyfileobj(self.stream(), spool, 1 << 20)
            self._spool = spool
        self._spool.seek(0)
        return self._spool

    @property
    def spooled(self) -> bool:
        return self._spool is not None
