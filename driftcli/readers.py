"""One entry point from a path or `-` to a stream of Arrow record batches.

Every command reads through `open_source`. The format comes from
`--input-format`, else the file suffix, else the first bytes of the content;
gzip and zstd compression are detected the same way. Nothing downstream knows
which format the rows came from.

Memory stays bounded by the batch size: CSV and JSON lines are parsed a block
at a time, Parquet a row group slice at a time. Parquet needs random access,
so Parquet arriving on stdin (or compressed) is spooled to a temporary file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from driftcli.errors import InputError, UsageError
from driftcli.formats import InputFormat

STDIN = "-"

CSV_BLOCK_BYTES = 1 << 22
"""CSV is parsed in blocks of this many bytes."""
JSON_CHUNK_BYTES = 1 << 24
"""JSON lines are cut into chunks of about this many bytes, on line boundaries."""
JSON_BLOCK_BYTES = 1 << 20
"""Within a chunk, pyarrow parses blocks of this size in parallel."""
PARQUET_BATCH_ROWS = 1 << 16
SNIFF_BYTES = 1 << 12
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


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _PeekStream(io.RawIOBase):
    """A forward-only byte stream whose first bytes can be looked at first.

    Sniffing a format needs the first bytes of stdin, and the parser then needs
    them again; this keeps what was peeked and serves it before the rest.
    """

    def __init__(self, raw: _Readable) -> None:
        super().__init__()
        self._raw = raw
        self._head = b""
        self._pos = 0

    def peek_exact(self, size: int) -> bytes:
        """Return up to `size` leading bytes (fewer only at end of stream)."""
        while len(self._head) < size:
            more = self._raw.read(size - len(self._head))
            if not more:
                break
            self._head += more
        return self._head[:size]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos < len(self._head):
            n = min(len(view), len(self._head) - self._pos)
            view[:n] = self._head[self._pos : self._pos + n]
            self._pos += n
            if self._pos == len(self._head):
                self._head, self._pos = b"", 0
            return n
        reader = getattr(self._raw, "read1", self._raw.read)
        data = reader(len(view))
        view[: len(data)] = data
        return len(data)


@dataclass
class Source:
    """An input opened for reading: where it comes from and how to parse it."""

    name: str
    """What error messages call the input: the path as given, or `<stdin>`."""
    format: InputFormat
    compression: str | None
    _stream: _Readable | None = field(default=None, repr=False)
    _path: Path | None = field(default=None, repr=False)
    _cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield the rows as record batches; parse errors become `InputError`s."""
        readers: dict[InputFormat, Callable[[], Iterator[pa.RecordBatch]]] = {
            InputFormat.CSV: self._csv_batches,
            InputFormat.JSONL: self._jsonl_batches,
            InputFormat.PARQUET: self._parquet_batches,
        }
        try:
            yield from readers[self.format]()
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{self.name}: cannot read as {self._describe()}: {_reason(exc)}",
                hint=self._format_hint(),
            ) from exc

    def close(self) -> None:
        self._cleanup.close()

    def _describe(self) -> str:
        what = {InputFormat.CSV: "CSV", InputFormat.JSONL: "JSON lines"}.get(self.format, "Parquet")
        return f"{self.compression}-compressed {what}" if self.compression else what

    def _format_hint(self) -> str:
        return "if the format was guessed wrong, pass --input-format csv|parquet|jsonl"

    def _byte_stream(self) -> _Readable:
        """The decompressed content as a forward-only stream."""
        if self._stream is not None:
            return self._stream
        assert self._path is not None
        if self.compression:
            stream: _Readable = self._cleanup.enter_context(
                pa.input_stream(str(self._path), compression=self.compression)
            )
            return stream
        file: _Readable = self._cleanup.enter_context(open(self._path, "rb"))  # noqa: SIM115
        return file

    def _csv_batches(self) -> Iterator[pa.RecordBatch]:
        import pyarrow.csv as pcsv

        stream = self._byte_stream()
        if self._path is not None and not self.compression:
            source: Any = str(self._path)
            header = _read_csv_header(_PeekStream(stream), self.name)
        else:
            peek = stream if isinstance(stream, _PeekStream) else _PeekStream(stream)
            header = _read_csv_header(peek, self.name)
            source = peek
        # Every column is read as text and typed later, by the profile: pyarrow
        # infers CSV types from the first block only, so one stray string deep
        # in a numeric column would otherwise abort the read instead of being
        # counted as an invalid value.
        rows = 0
        try:
            reader = pcsv.open_csv(
                source,
                read_options=pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=True),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(header, pa.string()),
                    strings_can_be_null=True,
                ),
            )
            for batch in reader:
                rows += batch.num_rows
                yield batch
        except pa.ArrowInvalid as exc:
            located = self._locate_csv_error(len(header))
            if located:
                raise InputError(f"{self.name}: {located}") from exc
            if rows:
                raise InputError(
                    f"{self.name}: cannot read as CSV after row {rows:,}: {_reason(exc)}"
                ) from exc
            raise

    def _locate_csv_error(self, n_columns: int) -> str | None:
        """Name the first row whose field count is wrong (error path only)."""
        if self._path is None:
            return None
        with contextlib.ExitStack() as stack:
            if self.compression:
                raw: Any = stack.enter_context(
                    pa.input_stream(str(self._path), compression=self.compression)
                )
                text = stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            else:
                text = stack.enter_context(
                    open(self._path, encoding="utf-8-sig", errors="replace", newline="")
                )
            reader = csv.reader(text)
            next(reader, None)
            for record in reader:
                if record and len(record) != n_columns:
                    return (
                        f"line {reader.line_num}: row has {len(record)} fields, "
                        f"the header has {n_columns}"
                    )
        return None

    def _jsonl_batches(self) -> Iterator[pa.RecordBatch]:
        stream = self._byte_stream()
        # read1 returns what a pipe holds now instead of waiting for a full chunk.
        read = getattr(stream, "read1", stream.read)
        first_line = 1
        pending = bytearray()
        at_end = False
        while not at_end:
            block = read(JSON_CHUNK_BYTES)
            at_end = not block
            if not pending:
                block = block.removeprefix(_UTF8_BOM) if first_line == 1 else block
            pending += block
            if not at_end and len(pending) < JSON_CHUNK_BYTES:
                continue
            cut = len(pending) if at_end else pending.rfind(b"\n") + 1
            if cut == 0:
                continue  # one line longer than a chunk: keep reading
            chunk = bytes(pending[:cut])
            del pending[:cut]
            if chunk.strip():
                yield from _parse_json_chunk(chunk, self.name, first_line)
            first_line += chunk.count(b"\n")

    def _parquet_batches(self) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        # pre_buffer would cache every column chunk read so far: memory then
        # grows with the file instead of staying at one batch (measured).
        if self._path is not None and not self.compression:
            parquet = pq.ParquetFile(str(self._path), pre_buffer=False)
        else:
            spool = self._cleanup.enter_context(tempfile.TemporaryFile(prefix="driftcli-"))  # noqa: SIM115
            shutil.copyfileobj(self._byte_stream(), spool, 1 << 20)
            spool.seek(0)
            parquet = pq.ParquetFile(spool, pre_buffer=False)
        self._cleanup.callback(parquet.close)
        yield from parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS)


@contextlib.contextmanager
def open_source(spec: str, input_format: InputFormat | None = None) -> Iterator[Source]:
    """Open a path, or `-` for stdin, and settle its format and compression.

    Raises `UsageError` for `-` on a terminal and `InputError` for a path that
    cannot be read. The source is closed (and any spool file removed) on exit.
    """
    source = _open(spec, input_format)
    try:
        yield source
    finally:
        source.close()


def _open(spec: str, input_format: InputFormat | None) -> Source:
    if spec == STDIN:
        return _open_stdin(input_format)
    path = Path(spec)
    if not path.exists():
        raise InputError(f"{spec}: no such file")
    if path.is_dir():
        raise InputError(f"{spec}: is a directory, not a data file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{spec}: cannot open: {exc.strerror or exc}") from exc
    if not head:
        raise InputError(f"{spec}: file is empty")
    suffixes = [s.lower() for s in path.suffixes]
    compression = _SUFFIX_COMPRESSION.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    compression = compression or _sniff_compression(head)
    fmt = input_format or (_SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None)
    if fmt is None:
        if compression:
            with pa.input_stream(str(path), compression=compression) as stream:
                head = _safe_read(stream, SNIFF_BYTES, spec)
        fmt = _sniff_format(head, spec)
    return Source(name=spec, format=fmt, compression=compression, _path=path)


def _open_stdin(input_format: InputFormat | None) -> Source:
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        raise UsageError(
            "'-' reads data from stdin, but stdin is a terminal",
            hint="pipe data in, e.g. cat live.jsonl | driftcli check - --ref ref.parquet",
        )
    name = "<stdin>"
    peek = _PeekStream(stdin.buffer)
    head = peek.peek_exact(SNIFF_BYTES)
    if not head:
        raise InputError(f"{name}: no data on stdin")
    compression = _sniff_compression(head)
    stream: _Readable = peek
    if compression:
        decompressed = pa.CompressedInputStream(pa.PythonFile(peek, mode="r"), compression)
        stream = _PeekStream(decompressed)
        head = _safe_read(stream, SNIFF_BYTES, name)
    fmt = input_format or _sniff_format(head, name)
    return Source(name=name, format=fmt, compression=compression, _stream=stream)


def _safe_read(stream: Any, size: int, name: str) -> bytes:
    try:
        if isinstance(stream, _PeekStream):
            return stream.peek_exact(size)
        data: bytes = stream.read(size)
        return data
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{name}: cannot decompress: {_reason(exc)}") from exc


def _sniff_compression(head: bytes) -> str | None:
    for magic, codec in _MAGIC_COMPRESSION.items():
        if head.startswith(magic):
            return codec
    return None


def _sniff_format(head: bytes, name: str) -> InputFormat:
    if head.startswith(b"PAR1"):
        return InputFormat.PARQUET
    text = head.removeprefix(_UTF8_BOM).lstrip()
    if text.startswith(b"{"):
        return InputFormat.JSONL
    if text.startswith(b"["):
        return InputFormat.JSONL  # the JSON lines reader explains that arrays are not read
    if not text:
        raise InputError(f"{name}: no data (only whitespace)")
    return InputFormat.CSV


def _read_csv_header(stream: _PeekStream, name: str) -> list[str]:
    size = SNIFF_BYTES
    while True:
        head = stream.peek_exact(size)
        newline = head.find(b"\n")
        if newline >= 0 or len(head) < size or size >= MAX_HEADER_BYTES:
            break
        size *= 4
    line = head if newline < 0 else head[: newline + 1]
    text = line.removeprefix(_UTF8_BOM).decode("utf-8", errors="replace")
    header = next(csv.reader(io.StringIO(text)), [])
    if not header or all(not col.strip() for col in header):
        raise InputError(f"{name}: CSV has no header row")
    seen: set[str] = set()
    for col in header:
        if col in seen:
            raise InputError(f"{name}: CSV header names column {col!r} twice")
        seen.add(col)
    return header


def _parse_json_chunk(chunk: bytes, name: str, first_line: int) -> Iterator[pa.RecordBatch]:
    import pyarrow.json as pj

    try:
        table = pj.read_json(
            pa.py_buffer(chunk),
            read_options=pj.ReadOptions(block_size=JSON_BLOCK_BYTES, use_threads=True),
        )
    except pa.ArrowInvalid:
        # The fast parser only says something is wrong; find out what and
        # where, or build the table by hand when types merely vary by line.
        table = _parse_json_chunk_slowly(chunk, name, first_line)
    yield from table.to_batches()


def _parse_json_chunk_slowly(chunk: bytes, name: str, first_line: int) -> pa.Table:
    if first_line == 1 and chunk.lstrip().startswith(b"["):
        raise InputError(
            f"{name}: holds a JSON array; driftcli reads JSON lines (one object per line)",
            hint="convert it with: jq -c '.[]' FILE",
        )
    rows: list[dict[str, Any]] = []
    for offset, raw_line in enumerate(chunk.split(b"\n")):
        if not raw_line.strip():
            continue
        line_no = first_line + offset
        try:
            value = json.loads(raw_line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not valid UTF-8"
            raise InputError(f"{name}: line {line_no}: not valid JSON ({reason})") from exc
        if not isinstance(value, dict):
            raise InputError(
                f"{name}: line {line_no}: expected a JSON object, got {_json_kind(value)}"
            )
        rows.append(value)
    columns: dict[str, list[Any]] = {}
    for index, row in enumerate(rows):
        for key, value in row.items():
            columns.setdefault(key, [None] * index).append(value)
        for values in columns.values():
            if len(values) <= index:
                values.append(None)
    return pa.table({key: _column_from_python(values) for key, values in columns.items()})


def _column_from_python(values: list[Any]) -> pa.Array:
    """An Arrow array from JSON values whose types may differ line to line.

    A column mixing numbers and strings becomes text; the profile then parses
    it and counts what does not read as a number as invalid.
    """
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_as_text(v) for v in values], type=pa.string())


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a number" if not isinstance(value, bool) else "a boolean"


_COLUMN_COUNT = re.compile(r"Expected (\d+) columns, got (\d+)")


def _reason(exc: BaseException) -> str:
    """A one-line reason that does not echo row contents into logs."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    counted = _COLUMN_COUNT.search(message)
    if counted:
        return f"a row has {counted.group(2)} fields, the header has {counted.group(1)}"
    message = message.removeprefix("CSV parse error: ").removeprefix("JSON parse error: ")
    return message[:200]


def read_all_batches(spec: str, input_format: InputFormat | None = None) -> list[pa.RecordBatch]:
    """Read a whole (small) input; for tests and tools, not for large data."""
    with open_source(spec, input_format) as source:
        return list(source.batches())


__all__ = ["STDIN", "InputFormat", "Source", "open_source", "read_all_batches"]
