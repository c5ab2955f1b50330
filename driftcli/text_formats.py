"""CSV and JSON lines: cut a byte stream into whole records, parse each chunk.

Both formats are cut on record boundaries into chunks of about
`CHUNK_BYTES` and parsed by pyarrow, many threads per chunk. Cutting the
stream ourselves is what gives every error a line number (pyarrow's own
streaming readers do not know them), lets `--skip-bad-lines` drop a bad line
and keep its neighbours, and lets a slow stream (`tail -F | driftcli ingest
-`) deliver its rows within a bounded delay instead of waiting for a full
chunk.

When pyarrow rejects a chunk, a slow path parses it line by line in Python:
it names the first bad line, or skips bad lines when asked, and builds the
table by hand when JSON types merely vary from line to line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import select
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, NoReturn, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driftcli.errors import InputError
from driftcli.values import UNTYPED_KEY

CHUNK_BYTES = 1 << 24
"""Text is cut into chunks of about this many bytes, on record boundaries."""
PARSE_BLOCK_BYTES = 1 << 20
"""Within a chunk, pyarrow parses blocks of this size in parallel."""
_UTF8_BOM = b"\xef\xbb\xbf"

_QUOTE = ord('"')
_NEWLINE = ord("\n")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass
class BadLines:
    """Where malformed lines go: an error by default, or counted and skipped."""

    skip: bool = False
    hint: str | None = None
    """What to tell the user about skipping, where the command can skip."""
    count: int = 0
    first: list[int] = field(default_factory=list)
    keep_first: int = 10

    def report(self, name: str, line: int, reason: str) -> None:
        """Raise for a bad line, or note it when skipping."""
        self.report_many(name, [line], reason)

    def report_many(self, name: str, lines: list[int], reason: str, unit: str = "line") -> None:
        """Raise for the first of some bad lines (`reason` is the first's), or note them all."""
        if not lines:
            return
        if not self.skip:
            raise InputError(f"{name}: {unit} {lines[0]}: {reason}", hint=self.hint)
        self.count += len(lines)
        self.first = sorted(self.first + lines[: self.keep_first])[: self.keep_first]


@dataclass(frozen=True)
class Location:
    """Where a row came from: a line of a text input, or a row of a Parquet file."""

    source: str
    number: int
    unit: str = "line"
    """`line`, or `row` where the input has no lines (Parquet)."""

    def __str__(self) -> str:
        if self.unit == "line":
            return f"{self.source}:{self.number}"
        return f"{self.source} row {self.number}"


@dataclass
class Chunk:
    """Rows parsed from one run of whole lines, and where they came from."""

    table: pa.Table
    first_line: int | None
    """The input line the chunk starts at (None for Parquet, which has rows, not lines)."""
    first_row: int
    """How many rows of the input (the file, in a dataset) came before this chunk."""
    _line_numbers: Callable[[], npt.NDArray[np.int64]] | None = field(default=None, repr=False)
    origin: str = ""
    """The input's name (the file's, in a dataset), for locations."""

    @property
    def unit(self) -> str:
        return "line" if self.first_line is not None else "row"

    def row_lines(self) -> npt.NDArray[np.int64]:
        """The input line each row starts at, or its 1-based row number without lines."""
        if self._line_numbers is None:
            return np.arange(self.first_row + 1, self.first_row + 1 + self.table.num_rows)
        return self._line_numbers()

    def locate(self, rows: npt.NDArray[np.int64]) -> tuple[Location, ...]:
        """Where the chunk's rows at these positions came from."""
        numbers = self.row_lines()[rows].tolist()
        return tuple(Location(self.origin, int(n), self.unit) for n in numbers)


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
    newlines = int(np.count_nonzero(np.frombuffer(data, np.uint8) == _NEWLINE))
    ends_open = len(data) > 0 and data[-1] != _NEWLINE
    return Run(data, first_line, newlines + int(ends_open))


Cutter = Callable[[memoryview, bool], Cut]
"""`cutter(view, final)`: the longest prefix of whole records (Cut(0, 0) if none).
`final` says no more bytes will join this buffer soon (it is full, or the
stream ended), so an unbalanced CSV quote must not hold the cut back."""


def jsonl_cut(view: memoryview, final: bool = True) -> Cut:
    newlines = np.flatnonzero(np.frombuffer(view, np.uint8) == _NEWLINE)
    return Cut(int(newlines[-1]) + 1, len(newlines), newlines) if len(newlines) else Cut(0, 0)


def csv_cut(view: memoryview, final: bool = True) -> Cut:
    """The last newline outside quotes (RFC 4180: quotes pair up).

    A stray quote inside a field (`5" screen`, which pyarrow reads fine)
    would leave no balanced newline: when the buffer is full, cut at the
    last newline anyway rather than buffer the rest of the input.
    """
    data = np.frombuffer(view, np.uint8)
    newlines = np.flatnonzero(data == _NEWLINE)
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
    if bytes(view[:3]) == _UTF8_BOM:
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
    faults than parsing them (measured). So a run is a view into that
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
        if at_start and filled >= len(_UTF8_BOM):
            if buffer.startswith(_UTF8_BOM):
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


# --- JSON lines -------------------------------------------------------------


def parse_jsonl(run: Run, name: str, bad: BadLines) -> tuple[pa.Table, LineMap]:
    """Parse a run of JSON lines; returns the table and a row-to-line mapper.

    A line that is not an object (`null`, which pyarrow would read as a row
    of missing values, a number, an array) is a bad line.
    """
    import pyarrow.json as pj

    run = _without_non_objects(run, name, bad)
    raw, first_line = run.data, run.first_line

    def read(block_size: int, schema: pa.Schema | None = None) -> pa.Table:
        return pj.read_json(
            pa.py_buffer(raw),
            read_options=pj.ReadOptions(block_size=block_size, use_threads=True),
            parse_options=pj.ParseOptions(explicit_schema=schema),
        )

    try:
        try:
            table = read(PARSE_BLOCK_BYTES)
        except pa.ArrowInvalid as exc:
            if "straddling" not in str(exc):
                raise
            table = read(len(raw) + 1)  # a line longer than a parse block
        # pyarrow reads date-like strings as timestamps; they are text here,
        # as they are in CSV, so every format types a column alike.
        stamped = [f.name for f in table.schema if pa.types.is_timestamp(f.type)]
        if stamped:
            table = read(len(raw) + 1, pa.schema([(n, pa.string()) for n in stamped]))
        table.validate(full=True)  # the JSON parser does not check UTF-8
    except pa.ArrowInvalid:
        return _parse_jsonl_slowly(raw, first_line, name, bad)
    return table, _line_map(run, table.num_rows, _nonblank_lines)


LineMap = Callable[[], npt.NDArray[np.int64]]

_OPEN_BRACE = ord("{")


def _without_non_objects(run: Run, name: str, bad: BadLines) -> Run:
    """The run with its lines that are not JSON objects reported, and blanked when skipped.

    Only the first byte of each line is looked at in bulk; the few lines
    that do not start with `{` (blank or indented ones, and the bad ones)
    are then read one by one.
    """
    data = np.frombuffer(run.data, np.uint8)
    if not len(data):
        return run
    breaks = run.breaks if run.breaks is not None else np.flatnonzero(data == _NEWLINE)
    starts = np.r_[0, breaks + 1]
    starts = starts[starts < len(data)]
    ends = np.r_[breaks, len(data)][: len(starts)]
    odd = np.flatnonzero(data[starts] != _OPEN_BRACE)
    found: list[tuple[int, int, int, str]] = []
    for i in odd.tolist():
        start, end = int(starts[i]), int(ends[i])
        text = bytes(run.data[start:end]).strip()
        if text and not text.startswith(b"{"):
            if run.first_line + i == 1 and text.startswith(b"["):
                _refuse_array(name)
            found.append((run.first_line + i, start, end, _json_kind_of(text)))
    if not found:
        return run
    bad.report_many(
        name, [line for line, *_ in found], f"expected a JSON object, got {found[0][3]}"
    )
    blanked = bytearray(run.data)
    for _, start, end, _ in found:
        blanked[start:end] = b" " * (end - start)
    return Run(memoryview(blanked), run.first_line, run.lines, run.breaks)


def _refuse_array(name: str) -> NoReturn:
    raise InputError(
        f"{name}: holds a JSON array; driftcli reads JSON lines (one object per line)",
        hint="convert it with: jq -c '.[]' FILE",
    )


def _json_kind_of(text: bytes) -> str:
    """What a JSON value that is not an object is, from its text."""
    try:
        return _json_kind(json.loads(text))
    except (ValueError, UnicodeDecodeError):
        return "text that is not JSON"


def _line_map(run: Run, rows: int, scan: Callable[[bytes, int], npt.NDArray[np.int64]]) -> LineMap:
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


def _nonblank_lines(raw: bytes, first_line: int) -> npt.NDArray[np.int64]:
    lines = raw.split(b"\n")
    return np.array([first_line + i for i, line in enumerate(lines) if line.strip()], np.int64)


def _parse_jsonl_slowly(
    raw: bytes | memoryview, first_line: int, name: str, bad: BadLines
) -> tuple[pa.Table, Any]:
    raw = bytes(raw)
    if first_line == 1 and raw.lstrip().startswith(b"["):
        _refuse_array(name)
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for offset, text in enumerate(raw.split(b"\n")):
        if not text.strip():
            continue
        line = first_line + offset
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not valid UTF-8"
            bad.report(name, line, f"not valid JSON ({reason})")
            continue
        if not isinstance(value, dict):
            bad.report(name, line, f"expected a JSON object, got {_json_kind(value)}")
            continue
        rows.append(value)
        lines.append(line)
    keys = list(dict.fromkeys(key for row in rows for key in row))
    if keys:
        table = pa.table(
            [_column_from_python([row.get(k) for row in rows]) for k in keys], names=keys
        )
        table = _mark_untyped(table, [k for k in keys if _mixed(table.column(k).type, rows, k)])
    else:  # lines of `{}`: rows without columns still count (all missing)
        table = pa.table({"_": pa.nulls(len(rows))}).drop_columns(["_"])
    found = np.array(lines, np.int64)
    return table, lambda: found


def _mixed(arrow_type: pa.DataType, rows: list[dict[str, Any]], key: str) -> bool:
    """Did a text column come from values of several JSON types?"""
    if not pa.types.is_string(arrow_type):
        return False
    return any(not isinstance(row.get(key), str | None) for row in rows)


def _mark_untyped(table: pa.Table, names: list[str]) -> pa.Table:
    """Mark text columns whose type is unknown: the profile decides by their values."""
    if not names:
        return table
    fields = [
        field.with_metadata({UNTYPED_KEY: b"1"}) if field.name in names else field
        for field in table.schema
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _column_from_python(values: list[Any]) -> pa.Array:
    """An Arrow array from JSON values whose types may differ line to line.

    A column mixing numbers and strings becomes text; the profile then parses
    it and counts what does not read as a number as invalid.
    """
    bools = sum(isinstance(v, bool) for v in values)
    if 0 < bools < sum(v is not None for v in values):
        # pyarrow would read true as 1.0 among numbers; keep it a (wrong) word.
        return pa.array([_as_text(v) for v in values], type=pa.string())
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
    return "a boolean" if isinstance(value, bool) else "a number"


# --- CSV --------------------------------------------------------------------


def csv_header_end(raw: bytes) -> int:
    """The length of the first record (the header), or 0 if it is not complete yet."""
    start = quotes = 0
    while True:
        newline = raw.find(b"\n", start)
        if newline < 0:
            return 0
        quotes += raw.count(_QUOTE, start, newline)
        if quotes % 2 == 0:
            return newline + 1
        start = newline + 1


def read_csv_header(raw: bytes, name: str) -> tuple[list[str], int]:
    """The header row's names and its length in bytes, from the stream's first bytes.

    `raw` is the start of the stream without a byte-order mark; a stream that
    is all header and no newline is a header.
    """
    end = csv_header_end(raw) or len(raw)
    text = raw[:end].decode("utf-8", errors="replace")
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    if not header or all(not column.strip() for column in header):
        raise InputError(f"{name}: CSV has no header row")
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise InputError(f"{name}: CSV header names column {column!r} twice")
        seen.add(column)
    return header, end


_NULL_TOKENS: frozenset[str] | None = None


def _csv_null_tokens() -> frozenset[str]:
    global _NULL_TOKENS
    if _NULL_TOKENS is None:
        import pyarrow.csv as pcsv

        _NULL_TOKENS = frozenset(pcsv.ConvertOptions().null_values)
    return _NULL_TOKENS


def parse_csv(run: Run, header: list[str], name: str, bad: BadLines) -> tuple[pa.Table, LineMap]:
    """Parse a chunk of CSV records (no header) with every column as text.

    Every column is read as text and typed later, by the profile: pyarrow
    infers CSV types from the first block only, so one stray string deep in a
    numeric column would otherwise abort the read instead of being counted as
    an invalid value.
    """
    import pyarrow.csv as pcsv

    raw, first_line = run.data, run.first_line

    def read(block_size: int) -> pa.Table:
        return pcsv.read_csv(
            pa.py_buffer(raw),
            read_options=pcsv.ReadOptions(
                column_names=header, block_size=block_size, use_threads=True
            ),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
            ),
        )

    try:
        try:
            table = read(PARSE_BLOCK_BYTES)
        except pa.ArrowInvalid:
            table = read(len(raw) + 1)  # perhaps a row longer than a parse block
    except pa.ArrowInvalid:
        table, lines = _parse_csv_slowly(raw, first_line, header, name, bad)
        return _mark_untyped(table, header), lines
    return _mark_untyped(table, header), _line_map(run, table.num_rows, _csv_record_lines)


def _csv_records(raw: bytes, first_line: int) -> Iterator[tuple[int, list[str]]]:
    """Each non-empty record with the line it starts at."""
    # Python's csv module refuses fields over 128 KiB by default; pyarrow does not.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    reader = csv.reader(io.StringIO(raw.decode("utf-8", errors="replace"), newline=""))
    line = first_line
    for record in reader:
        start = line
        line = first_line + reader.line_num
        if record:
            yield start, record


def _csv_record_lines(raw: bytes, first_line: int) -> npt.NDArray[np.int64]:
    return np.array([start for start, _ in _csv_records(raw, first_line)], np.int64)


def _parse_csv_slowly(
    raw: bytes | memoryview, first_line: int, header: list[str], name: str, bad: BadLines
) -> tuple[pa.Table, Any]:
    raw = bytes(raw)
    physical = raw.split(b"\n")
    for offset, text in enumerate(physical):
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            bad.report(name, first_line + offset, "not valid UTF-8")
            physical[offset] = b""  # keeps the line numbers of the lines after it
    raw = b"\n".join(physical)
    nulls = _csv_null_tokens()
    columns: list[list[str | None]] = [[] for _ in header]
    lines: list[int] = []
    for line, record in _csv_records(raw, first_line):
        if len(record) != len(header):
            bad.report(name, line, f"row has {len(record)} fields, the header has {len(header)}")
            continue
        for values, value in zip(columns, record, strict=True):
            values.append(None if value in nulls else value)
        lines.append(line)
    table = pa.table(
        {
            column: pa.array(values, pa.string())
            for column, values in zip(header, columns, strict=True)
        }
    )
    found = np.array(lines, np.int64)
    return table, lambda: found
