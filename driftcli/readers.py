"""One entry point from a path or `-` to a stream of Arrow record batches.

Every command reads through `open_source`. The format comes from
`--input-format`, else the file suffix, else the first bytes of the content;
gzip and zstd compression are detected the same way. Nothing downstream knows
which format the rows came from.

Memory stays bounded by the chunk size: CSV and JSON lines are parsed a chunk
at a time (see text_formats.py), Parquet a batch at a time. Parquet needs
random access, so Parquet arriving on stdin (or compressed) is spooled to a
temporary file first.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from driftcli.errors import InputError, UsageError
from driftcli.formats import InputFormat
from driftcli.progress import report
from driftcli.text_formats import (
    BadLines,
    Chunk,
    Cutter,
    Readable,
    Run,
    csv_cut,
    csv_header_end,
    cut_stream,
    cut_view,
    jsonl_cut,
    parse_csv,
    parse_jsonl,
    read_csv_header,
)

STDIN = "-"

PARQUET_BATCH_ROWS = 1 << 18
PARQUET_BUFFER_BYTES = 1 << 18
"""Column chunks are read through a buffer of this size, not whole (measured on 1M rows x
25 columns in one row group: read 90 -> 72 ms, Arrow's peak 272 -> 169 MiB)."""
_CAN_DROP_PAGES = hasattr(mmap, "MADV_DONTNEED") and hasattr(mmap.mmap, "madvise")
"""Not on Windows: mapped pages then stay until the file is closed."""
SNIFF_BYTES = 4
MAX_HEADER_BYTES = 1 << 24

_SUFFIX_FORMATS = {
    ".csv": InputFormat.CSV,
    ".parquet": InputFormat.PARQUET,
    ".pq": InputFormat.PARQUET,
    ".jsonl": InputFormat.JSONL,
    ".ndjson": InputFormat.JSONL,
    ".json": InputFormat.JSONL,
}
_SUFFIX_COMPRESSION = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
_MAGIC_COMPRESSION = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}
_UTF8_BOM = b"\xef\xbb\xbf"


class _FdReader:
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


class _PeekStream(io.RawIOBase):
    """A forward-only byte stream whose first bytes can be looked at first.

    Sniffing a format needs the first bytes of stdin, and the parser then needs
    them again; this keeps what was peeked and serves it before the rest.
    """

    def __init__(self, raw: Readable) -> None:
        super().__init__()
        self._raw = raw
        self._head = b""
        self._pos = 0

    def peek_until(self, enough: Callable[[bytes], bool], limit: int) -> bytes:
        """Read ahead until `enough(head)`, `limit` bytes, or the end; return the head."""
        reader = getattr(self._raw, "read1", self._raw.read)
        while not enough(self._head) and len(self._head) < limit:
            more = reader(max(limit - len(self._head), 1))
            if not more:
                break
            self._head += more
        return self._head

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


def _blank(raw: memoryview) -> bool:
    """Nothing but white space (checked cheaply: a run of records is rarely blank)."""
    return len(raw) < 1 << 16 and not bytes(raw).strip()


def _sniffable(head: bytes) -> bool:
    """Enough bytes to tell the compression and the format apart."""
    return len(head) >= SNIFF_BYTES and bool(head.removeprefix(_UTF8_BOM).strip())


@dataclass
class Source:
    """An input opened for reading: where it comes from and how to parse it."""

    name: str
    """What error messages call the input: the path as given, or `<stdin>`."""
    format: InputFormat
    compression: str | None
    bad_lines: BadLines = field(default_factory=BadLines)
    """Malformed lines: an error, or counted and skipped with `skip=True`."""
    columns: frozenset[str] | None = None
    """Read only these columns where the format allows it (Parquet); None: all."""
    _stream: _PeekStream | None = field(default=None, repr=False)
    _path: Path | None = field(default=None, repr=False)
    _view: memoryview | None = field(default=None, repr=False)
    _mapping: mmap.mmap | None = field(default=None, repr=False)
    _released: int = field(default=0, repr=False)
    _bytes_done: int = field(default=0, repr=False)
    _total_rows: int | None = field(default=None, repr=False)
    _spool: Any = field(default=None, repr=False)
    """Parquet from a stream (or compressed), copied to a temporary file to be read."""
    _cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    @property
    def rereadable(self) -> bool:
        """Can the same rows be read again? A regular file can; so can Parquet from a
        stream, which is spooled to a temporary file anyway; other streams cannot."""
        return self._path is not None or self.format is InputFormat.PARQUET

    def batches_again(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        """The rows once more (only if `rereadable`, after `batches`), reading just
        `columns` where the format allows it (Parquet). A file is opened afresh;
        Parquet from a stream is read from its spool."""
        if self._spool is not None:
            for chunk in self._parquet_chunks(None, frozenset(columns)):
                if chunk is not None:
                    yield from chunk.table.to_batches()
            return
        assert self._path is not None, "not rereadable"
        with open_one(str(self._path), self.format) as again:
            again.columns = frozenset(columns)
            yield from again.batches()

    def known_rows(self) -> int | None:
        """How many rows the input holds, when it says so before it is read (a
        Parquet file's footer); None for text formats and streams."""
        if self.format is not InputFormat.PARQUET or self._path is None or self.compression:
            return None
        return parquet_rows([self._path])

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield the rows as record batches; parse errors become `InputError`s."""
        for chunk in self.chunks():
            if chunk is not None:
                yield from chunk.table.to_batches()

    def chunks(self, max_latency: float | None = None) -> Iterator[Chunk | None]:
        """Yield the rows chunk by chunk, each with a way back to its input lines.

        With `max_latency` (seconds), rows waiting on a slow stream are yielded
        within about that delay, and None is yielded whenever that long passes
        without rows, so a caller can act on time (flush) while the stream idles.
        """
        readers: dict[InputFormat, Callable[[float | None], Iterator[Chunk | None]]] = {
            InputFormat.CSV: self._csv_chunks,
            InputFormat.JSONL: self._jsonl_chunks,
            InputFormat.PARQUET: lambda latency: self._parquet_chunks(latency, self.columns),
        }
        rows = 0
        try:
            for chunk in readers[self.format](max_latency):
                if chunk is not None:
                    rows += chunk.table.num_rows
                    report(self.name, rows, *self._progress(rows))
                yield chunk
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{self.name}: cannot read as {self._describe()}: {_reason(exc)}",
                hint="if the format was guessed wrong, pass --input-format csv|parquet|jsonl",
            ) from exc

    def close(self) -> None:
        self._cleanup.close()

    def _progress(self, rows: int) -> tuple[int, int | None]:
        """(done, in all) in bytes of a mapped file, rows of a Parquet file, else rows and None."""
        if self._total_rows is not None:
            return rows, self._total_rows
        if self._view is not None:
            return self._bytes_done, len(self._view)
        return rows, None

    def _describe(self) -> str:
        what = {InputFormat.CSV: "CSV", InputFormat.JSONL: "JSON lines"}.get(self.format, "Parquet")
        return f"{self.compression}-compressed {what}" if self.compression else what

    def _text_stream(self) -> _PeekStream:
        """The decompressed content as a forward-only stream that can be peeked."""
        if self._stream is not None:
            return self._stream
        assert self._path is not None
        raw: Readable
        if self.compression:
            raw = pa.input_stream(str(self._path), compression=self.compression)
        else:
            raw = open(self._path, "rb")  # noqa: SIM115 - closed by the exit stack below
        self._cleanup.callback(raw.close)  # type: ignore[attr-defined]
        self._stream = _PeekStream(raw)
        return self._stream

    def _runs(
        self, cutter: Cutter, max_latency: float | None, skip: int = 0
    ) -> Iterator[Run | None]:
        """Runs of whole records, `skip` leading bytes (a CSV header) left out.

        A regular uncompressed file is memory-mapped and cut without copying;
        anything else is read as a stream into a reused buffer.
        """
        if self._path is not None and not self.compression:
            runs: Iterator[Run | None] = cut_view(self._mapped(), cutter)
        else:
            runs = cut_stream(self._text_stream(), cutter, max_latency)
        for run in runs:
            if run is not None and self._view is not None:
                self._release_mapped(self._bytes_done)  # the runs before this one are parsed
                self._bytes_done += len(run.data)
            if run is not None and skip:
                taken = min(skip, len(run.data))
                header_lines = bytes(run.data[:taken]).count(b"\n")
                run = Run(run.data[taken:], run.first_line + header_lines, run.lines - header_lines)
                skip -= taken
            yield run

    def _mapped(self) -> memoryview:
        if self._view is not None:
            return self._view
        assert self._path is not None
        with open(self._path, "rb") as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(mapped)

        def release() -> None:
            view.release()
            with contextlib.suppress(BufferError):  # a caller still holds a slice
                mapped.close()

        self._cleanup.callback(release)
        self._view = view
        self._mapping = mapped
        return view

    def _release_mapped(self, done: int) -> None:
        """Drop the mapped pages before byte `done` from this process's memory.

        Pages of a mapped file count in its resident memory until unmapped, so
        a check of a 3 GB JSON-lines file showed a 3 GB peak. The pages stay
        in the page cache; a later touch maps them back, so this is only ever
        a hint. (A UTF-8 BOM skipped by the cutter makes `done` 3 bytes short:
        harmless.)
        """
        end = done - done % mmap.PAGESIZE
        if self._mapping is None or end <= self._released or not _CAN_DROP_PAGES:
            return
        with contextlib.suppress(OSError, ValueError):
            self._mapping.madvise(mmap.MADV_DONTNEED, self._released, end - self._released)
        self._released = end

    def _jsonl_chunks(self, max_latency: float | None) -> Iterator[Chunk | None]:
        rows = 0
        for run in self._runs(jsonl_cut, max_latency):
            if run is None:
                yield None
                continue
            if _blank(run.data):
                continue
            table, lines = parse_jsonl(run, self.name, self.bad_lines)
            yield Chunk(table.combine_chunks(), run.first_line, rows, lines, self.name)
            rows += table.num_rows

    def _csv_chunks(self, max_latency: float | None) -> Iterator[Chunk | None]:
        if self._path is not None and not self.compression:
            head = bytes(self._mapped()[:MAX_HEADER_BYTES])
        else:
            head = self._text_stream().peek_until(
                lambda h: csv_header_end(h.removeprefix(_UTF8_BOM)) > 0, MAX_HEADER_BYTES
            )
        header, skip = read_csv_header(head.removeprefix(_UTF8_BOM), self.name)
        rows = 0
        for run in self._runs(csv_cut, max_latency, skip):
            if run is None:
                yield None
                continue
            if _blank(run.data):
                continue
            table, lines = parse_csv(run, header, self.name, self.bad_lines)
            yield Chunk(table.combine_chunks(), run.first_line, rows, lines, self.name)
            rows += table.num_rows

    def _parquet_chunks(
        self, max_latency: float | None, columns: frozenset[str] | None
    ) -> Iterator[Chunk | None]:
        import pyarrow.parquet as pq

        # pre_buffer would cache every column chunk read so far: memory then
        # grows with the file instead of staying at one batch (measured).
        if self._path is not None and not self.compression:
            where: Any = str(self._path)
        else:
            where = self._spooled()
        # Text columns read as dictionaries: Parquet mostly stores them so, and
        # decoding to plain strings costs half the read (measured: 0.21 s ->
        # 0.11 s for 1M x 25); labels are then counted on the indices.
        schema = pq.read_schema(where)
        if not isinstance(where, str):
            where.seek(0)
        text = [
            f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        wanted = None if columns is None else [n for n in schema.names if n in columns]
        parquet = pq.ParquetFile(
            where, pre_buffer=False, read_dictionary=text, buffer_size=PARQUET_BUFFER_BYTES
        )
        self._total_rows = parquet.metadata.num_rows
        self._cleanup.callback(parquet.close)
        rows = 0
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted):
            yield Chunk(pa.Table.from_batches([batch]), None, rows, None, self.name)
            rows += batch.num_rows

    def _spooled(self) -> Any:
        """The stream copied to a temporary file (once), at its start."""
        if self._spool is None:
            import tempfile  # only Parquet from a stream needs a spool (3 ms of start-up)

            spool = self._cleanup.enter_context(tempfile.TemporaryFile(prefix="driftcli-"))  # noqa: SIM115
            shutil.copyfileobj(self._text_stream(), spool, 1 << 20)
            self._spool = spool
        self._spool.seek(0)
        return self._spool


def parquet_rows(paths: Sequence[str | Path]) -> int | None:
    """Rows in all of these Parquet files, from their footers (None if one cannot be read:
    the read itself then says why)."""
    import pyarrow.parquet as pq

    try:
        return sum(int(pq.read_metadata(path).num_rows) for path in paths)
    except (pa.ArrowException, OSError):
        return None


@contextlib.contextmanager
def open_source(
    spec: str | Sequence[str],
    input_format: InputFormat | None = None,
    *,
    skip_bad_lines: bool = False,
) -> Iterator[Source]:
    """Open an input: a path, `-` for stdin, or several files (a directory, a glob, a list).

    Settles the format and compression. Raises `UsageError` for `-` on a
    terminal and `InputError` for a path that cannot be read. The source is
    closed (and any spool file removed) on exit.
    """
    from driftcli.datasets import is_dataset, open_dataset

    if is_dataset(spec):
        source: Source = open_dataset(spec, input_format)
    else:
        only = spec if isinstance(spec, str) else spec[0]
        source = _open_stdin(input_format) if only == STDIN else _open_path(only, input_format)
    source.bad_lines.skip = skip_bad_lines
    try:
        yield source
    finally:
        source.close()


@contextlib.contextmanager
def open_one(spec: str, input_format: InputFormat | None) -> Iterator[Source]:
    """Open one file (or stdin); see `open_source`."""
    source = _open_stdin(input_format) if spec == STDIN else _open_path(spec, input_format)
    try:
        yield source
    finally:
        source.close()


def format_of_path(path: Path) -> InputFormat | None:
    """The format a file's suffix names (a compression suffix looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _SUFFIX_COMPRESSION:
        suffixes = suffixes[:-1]
    return _SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(spec: str) -> bool:
    """An fsspec URL (s3://, gs://, abfs://, http://, memory://...), not a local path."""
    return bool(_URL.match(spec))


def url_filesystem(spec: str) -> tuple[Any, str]:
    """The fsspec filesystem for a URL, and the path within it."""
    try:
        import fsspec
    except ImportError:
        raise UsageError(
            f"{spec}: reading URLs needs fsspec",
            hint="pip install fsspec (and e.g. s3fs for s3://)",
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(spec)
    except (ImportError, ValueError) as exc:
        raise UsageError(
            f"{spec}: no filesystem for this URL is installed ({exc})",
            hint="install the fsspec package for it, e.g. s3fs, gcsfs, adlfs",
        ) from None
    return fs, path


def _open_url(spec: str, input_format: InputFormat | None) -> Source:
    """A file behind an fsspec URL, read as a stream (Parquet is spooled, as from stdin)."""
    fs, path = url_filesystem(spec)
    try:
        file = fs.open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{spec}: no such file") from None
    except OSError as exc:
        raise InputError(f"{spec}: cannot open: {exc}") from exc
    suffixes = [s.lower() for s in Path(path).suffixes]
    compression = _SUFFIX_COMPRESSION.get(suffixes[-1]) if suffixes else None
    fmt = input_format or format_of_path(Path(path))
    try:
        source = _open_stream(file, spec, fmt, compression, empty="file is empty")
    except BaseException:
        file.close()
        raise
    source._cleanup.callback(file.close)
    return source


def _open_path(spec: str, input_format: InputFormat | None) -> Source:
    if is_url(spec):
        return _open_url(spec, input_format)
    path = Path(spec)
    if not path.exists():
        raise InputError(f"{spec}: no such file")
    if path.is_dir():
        raise InputError(f"{spec}: is a directory, not a data file")
    suffixes = [s.lower() for s in path.suffixes]
    suffix_compression = _SUFFIX_COMPRESSION.get(suffixes[-1]) if suffixes else None
    fmt = input_format or format_of_path(path)
    try:
        file = open(path, "rb")  # noqa: SIM115 - handed to the source, or closed below
    except OSError as exc:
        raise InputError(f"{spec}: cannot open: {exc.strerror or exc}") from exc
    if not path.is_file():
        # A named pipe or <(process substitution): its bytes can be read only
        # once, so it is read as a stream, like stdin.
        try:
            source = _open_stream(_FdReader(file.fileno()), spec, fmt, suffix_compression)
        except BaseException:
            file.close()
            raise
        source._cleanup.callback(file.close)
        return source
    with file:
        head = file.read(1 << 12)
    if not head:
        raise InputError(f"{spec}: file is empty")
    compression = suffix_compression or _sniff_compression(head)
    source = Source(name=spec, format=fmt or InputFormat.CSV, compression=compression, _path=path)
    if fmt is None:
        if compression:
            head = _peek_decompressed(source)
        source.format = _sniff_format(head, spec)
    return source


def _peek_decompressed(source: Source) -> bytes:
    try:
        return source._text_stream().peek_until(_sniffable, 1 << 12)
    except (pa.ArrowException, OSError) as exc:
        source.close()
        raise InputError(f"{source.name}: cannot decompress: {_reason(exc)}") from exc


def _open_stdin(input_format: InputFormat | None) -> Source:
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        raise UsageError(
            "'-' reads data from stdin, but stdin is a terminal",
            hint="pipe data in, e.g. cat live.jsonl | driftcli check - --ref ref.parquet",
        )
    try:
        raw: Readable = _FdReader(stdin.fileno())
    except (AttributeError, OSError, ValueError):
        raw = stdin.buffer  # not a real descriptor (tests): plain reads
    return _open_stream(raw, "<stdin>", input_format, None, empty="no data on stdin")


def _open_stream(
    raw: Readable,
    name: str,
    input_format: InputFormat | None,
    compression: str | None,
    empty: str = "no data",
) -> Source:
    """A source over bytes that can be read only once: sniff from a peeked head."""
    peek = _PeekStream(raw)
    head = peek.peek_until(_sniffable, 1 << 12)
    if not head:
        raise InputError(f"{name}: {empty}")
    compression = compression or _sniff_compression(head)
    source = Source(name=name, format=input_format or InputFormat.CSV, compression=compression)
    if compression:
        source._stream = _PeekStream(
            pa.CompressedInputStream(pa.PythonFile(peek, mode="r"), compression)
        )
        head = _peek_decompressed(source)
    else:
        source._stream = peek
    if input_format is None:
        source.format = _sniff_format(head, name)
    return source


def _sniff_compression(head: bytes) -> str | None:
    for magic, codec in _MAGIC_COMPRESSION.items():
        if head.startswith(magic):
            return codec
    return None


def _sniff_format(head: bytes, name: str) -> InputFormat:
    if head.startswith(b"PAR1"):
        return InputFormat.PARQUET
    text = head.removeprefix(_UTF8_BOM).lstrip()
    if text.startswith((b"{", b"[")):
        return InputFormat.JSONL  # the JSON lines reader explains that arrays are not read
    if not text:
        raise InputError(f"{name}: no data (only whitespace)")
    return InputFormat.CSV


def _reason(exc: BaseException) -> str:
    """A one-line reason that does not echo row contents into logs."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    message = message.removeprefix("CSV parse error: ").removeprefix("JSON parse error: ")
    cut = message.find(": ") if "Expected" in message and "columns" in message else -1
    return (message[:cut] if cut > 0 else message)[:200]


def read_all_batches(spec: str, input_format: InputFormat | None = None) -> list[pa.RecordBatch]:
    """Read a whole (small) input; for tests and tools, not for large data."""
    with open_source(spec, input_format) as source:
        return list(source.batches())


__all__ = ["STDIN", "Chunk", "InputFormat", "Source", "open_source", "read_all_batches"]
