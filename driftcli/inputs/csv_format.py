"""CSV with a header row: every column read as text, typed later by its values.

pyarrow infers CSV types from the first block only, so one stray string deep
in a numeric column would otherwise abort the read instead of being counted
as an invalid value. When pyarrow rejects a run, a slow path parses it
record by record in Python: it names the first bad line, or skips bad lines
when asked. The field separator is given (`--delimiter`) or sniffed from
the header and the first lines: `,` `;` tab or `|`. So is the decimal mark:
a file whose numbers are written `1234,5` (European spreadsheets, pandas'
`decimal=","`) has them read as `1234.5`, or their column would be text.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driftcli.choices import InputFormat
from driftcli.columns.values import mark_untyped
from driftcli.errors import InputError, option
from driftcli.inputs import cutting
from driftcli.inputs.cutting import Run, csv_cut, line_map
from driftcli.inputs.jsonl_format import blank
from driftcli.inputs.piece import BadLines, LineMap, Piece
from driftcli.inputs.sniff import UTF8_BOM
from driftcli.inputs.source import TextSource
from driftcli.settings import size_text

MAX_HEADER_BYTES = 1 << 24
"""The longest header row read (or the line limit, if it is lower)."""
_QUOTE = ord('"')
DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
"""The separators sniffed, in the order that breaks ties, with their names."""
_SNIFF_BYTES = 1 << 16
"""How much after the header the sniffers read to confirm a separator or a decimal mark."""
_DECIMAL_COMMA = r"^(\s*[+-]?\d*),(\d+(?:[eE][+-]?\d+)?\s*)$"
"""A number written with a decimal comma (`-1234,5`, `,5`, `1,5e3`); groups around the comma."""
_COMMA_NUMBER = re.compile(r"\s*[+-]?\d+,\d+(?:[eE][+-]?\d+)?\s*")
_WHOLE_NUMBER = re.compile(r"\s*[+-]?\d+\s*")


class CsvSource(TextSource):
    """CSV with a header row, from a file or a stream."""

    describe_as: ClassVar[str] = "CSV"
    text_format: ClassVar[InputFormat] = InputFormat.CSV

    def _read(self, max_latency: float | None) -> Iterator[Piece | None]:
        self.refuse_other_encodings()
        limit = self.line_limit()
        longest = min(MAX_HEADER_BYTES, limit.max_bytes)
        head = self.content.head(
            lambda h: csv_header_end(h.removeprefix(UTF8_BOM)) > 0, longest + len(UTF8_BOM) + 1
        )
        head = head.removeprefix(UTF8_BOM)
        refuse_wide_header(head, self.name, self.delimiter, self.max_columns)
        delimiter = self.delimiter or sniff_delimiter(head)
        header, skip = read_csv_header(head, self.name, delimiter, longest)
        decimal = self.decimal or self._sniffed_decimal(skip, delimiter, max_latency)
        rows = 0
        parse = functools.partial(
            parse_csv,
            header=header,
            name=self.name,
            bad=self.bad_lines,
            delimiter=delimiter,
            max_field=limit.max_bytes,
            decimal=decimal,
        )
        for run in self.content.runs(csv_cut, max_latency, limit, skip):
            if run is None:
                yield None
                continue
            if blank(run.data):
                continue
            for piece in self.parsed(run, rows, parse):
                yield piece
                rows += piece.table.num_rows

    def _sniffed_decimal(self, header_end: int, delimiter: str, max_latency: float | None) -> str:
        """The decimal mark of the first lines after the header (see `sniff_decimal`).

        A stream read with a bound on latency (ingest) is sniffed as soon as its
        first record is complete, since no row may wait on the rows after it;
        any other input, on up to 64 KiB of lines.
        """
        if delimiter == ",":
            return "."  # see sniff_decimal
        end = header_end + len(UTF8_BOM) + _SNIFF_BYTES
        if max_latency is None:
            head = self.content.head(lambda h: len(h) >= end, end)
        else:
            head = self.content.head(
                lambda h: h.removeprefix(UTF8_BOM).find(b"\n", header_end) >= 0, end
            )
        return sniff_decimal(head.removeprefix(UTF8_BOM)[header_end:], delimiter)


def sniff_decimal(lines: bytes, delimiter: str) -> str:
    """`,` if some column of these CSV lines (after the header) holds numbers written with
    a decimal comma and nothing else but whole numbers; else `.`.

    Text such as `Smith, J.` or `12,5 kg` does not count; a file in which
    one column has decimal commas and another decimal points is read with
    the comma, and the points still read as numbers. A comma-separated file
    is never sniffed: its quoted `"1,234"` is more often a thousands separator.
    """
    if delimiter == ",":
        return "."
    text = lines[: lines.rfind(b"\n") + 1].decode("utf-8", errors="replace")
    records = [r for r in _fields(text, delimiter) if r]
    width = max((len(r) for r in records), default=0)
    for column in range(width):
        values = [r[column] for r in records if len(r) > column and r[column].strip()]
        commas = sum(1 for v in values if _COMMA_NUMBER.fullmatch(v))
        if commas and all(_COMMA_NUMBER.fullmatch(v) or _WHOLE_NUMBER.fullmatch(v) for v in values):
            return ","
    return "."


def with_decimal_points(table: pa.Table) -> pa.Table:
    """Numbers written with a decimal comma rewritten with a point (`1234,5` -> `1234.5`),
    in every column (all text here); other values are left as they are."""
    import pyarrow.compute as pc

    return pa.table(
        [
            pc.replace_substring_regex(column, pattern=_DECIMAL_COMMA, replacement=r"\1.\2")
            for column in table.columns
        ],
        names=table.column_names,
    )


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


def _fields(text: str, delimiter: str) -> list[list[str]]:
    """The records of some CSV text; none where the csv module cannot read it (a NUL byte:
    read_csv_header then says what the file is not)."""
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        return []


def sniff_delimiter(raw: bytes) -> str:
    """The separator of a CSV stream, from its first bytes (no byte-order mark).

    The one that splits the header into the most fields, among those that
    split the lines after it into as many; a header that no separator splits
    is one column, and `,` is as good as any.
    """
    end = csv_header_end(raw) or len(raw)
    header = raw[:end].decode("utf-8", errors="replace")
    after = raw[end : end + _SNIFF_BYTES]
    # Whole lines only, and not the last record: it may be cut inside quotes.
    text = after[: after.rfind(b"\n") + 1].decode("utf-8", errors="replace")
    widths = {d: len(next(iter(_fields(header, d)), [])) for d in DELIMITERS}
    splitting = [d for d in DELIMITERS if widths[d] > 1]
    consistent = [
        d for d in splitting if all(len(r) == widths[d] for r in _fields(text, d)[:-1] if r)
    ]
    chosen = consistent or splitting
    return max(chosen, key=lambda d: widths[d]) if chosen else ","


def refuse_wide_header(raw: bytes, name: str, delimiter: str | None, max_columns: int) -> None:
    """A header of more fields than the column limit is an error before any parser reads it
    (Arrow's CSV parser costs about 12 KB per column; a header of 16 MiB holds millions).

    Fields are counted by separators outside quotes; without `delimiter`, by the
    candidate that splits it most, as the sniffer would choose it (or a wider one).
    """
    data = np.frombuffer(raw[: csv_header_end(raw) or len(raw)], np.uint8)
    outside = np.cumsum(data == _QUOTE, dtype=np.uint8) % 2 == 0  # parity survives overflow
    candidates = [delimiter] if delimiter else list(DELIMITERS)
    fields, widest = max(
        (int(np.count_nonzero((data == ord(d)) & outside)) + 1, d) for d in candidates
    )
    if fields > max_columns:
        separated = DELIMITERS.get(widest, repr(widest))
        raise InputError(
            f"{name}: line 1: the CSV header holds {fields:,} fields (by {separated}), more "
            f"than the column limit of {max_columns:,} ({option('max_columns')})",
            hint="if the data really has that many columns, raise the limit: "
            f"{option('max_columns')} N (each costs memory: see docs/limits.md)",
        )


def read_csv_header(
    raw: bytes, name: str, delimiter: str = ",", longest: int = MAX_HEADER_BYTES
) -> tuple[list[str], int]:
    """The header row's names and its length in bytes, from the stream's first bytes.

    `raw` is the start of the stream without a byte-order mark, at most
    `longest + 1` bytes of it; a stream that is all header and no newline is
    a header. A header that reads as one column but that another separator
    would split is an error: the file was read with the wrong separator.
    """
    end = csv_header_end(raw) or len(raw)
    _refuse_odd_header(raw[:end], name, longest)
    text = raw[:end].decode("utf-8", errors="replace")
    _allow_fields(len(text) + 1)
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error as exc:
        raise InputError(f"{name}: line 1: cannot read the CSV header ({exc})") from None
    if not header or all(not column.strip() for column in header):
        raise InputError(f"{name}: CSV has no header row")
    if len(header) == 1:
        _refuse_merged(name, header[0], text, delimiter)
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise InputError(f"{name}: CSV header names column {column!r} twice")
        seen.add(column)
    return header, end


def _refuse_odd_header(raw: bytes, name: str, longest: int) -> None:
    """A first line that is binary, or longer than any header: not a CSV header."""
    if b"\x00" in raw:
        raise InputError(
            f"{name}: line 1 holds NUL bytes, so it is not UTF-8 text "
            "(UTF-16 without a byte-order mark, or a binary file?)",
            hint="driftcli reads UTF-8 CSV and JSON lines, and Parquet",
        )
    if len(raw) - raw.endswith(b"\n") > longest:
        what = "the line limit" if longest < MAX_HEADER_BYTES else "the header limit"
        raise InputError(
            f"{name}: line 1 (the CSV header) is longer than {what} of {size_text(longest)}",
            hint="a header longer than that is not a CSV header: is this the right file?"
            if what == "the header limit"
            else f"raise it with {option('max_line_bytes')}",
        )


def _refuse_merged(name: str, column: str, text: str, delimiter: str) -> None:
    """A one-column header that another separator splits: say so, not "no feature in common"."""
    for other, word in DELIMITERS.items():
        if other != delimiter and len(next(iter(_fields(text, other)), [])) > 1:
            shown = column if len(column) <= 60 else column[:57] + "..."
            given = DELIMITERS.get(delimiter, repr(delimiter))
            raise InputError(
                f"{name}: the CSV header reads as one column, {shown!r}, with the separator "
                f"{given}; its fields look separated by {word}s",
                hint=f"pass {option('delimiter')} {word}",
            )


_NULL_TOKENS: frozenset[str] | None = None


def _csv_null_tokens() -> frozenset[str]:
    global _NULL_TOKENS
    if _NULL_TOKENS is None:
        import pyarrow.csv as pcsv

        _NULL_TOKENS = frozenset(pcsv.ConvertOptions().null_values)
    return _NULL_TOKENS


def parse_csv(
    run: Run,
    header: list[str],
    name: str,
    bad: BadLines,
    delimiter: str = ",",
    max_field: int = 1 << 30,
    decimal: str = ".",
) -> tuple[pa.Table, LineMap]:
    """Parse a run of CSV records (no header) with every column as text.

    Every column is read as text and typed later, by the profile: pyarrow
    infers CSV types from the first block only, so one stray string deep in a
    numeric column would otherwise abort the read instead of being counted as
    an invalid value. With the `decimal` mark `,`, numbers written with a
    decimal comma are rewritten with a point.
    """
    import pyarrow.csv as pcsv

    raw, first_line = run.data, run.first_line
    # In a one-column CSV an empty line is an empty field, a missing value (what
    # its writer meant); with more columns it is no record at all.
    keep_empty = len(header) == 1

    def read(block_size: int) -> pa.Table:
        return pcsv.read_csv(
            pa.py_buffer(raw),
            read_options=pcsv.ReadOptions(
                column_names=header, block_size=block_size, use_threads=True
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=not keep_empty
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
            ),
        )

    try:
        try:
            table = read(cutting.block_bytes(len(header)))
        except pa.ArrowInvalid:
            table = read(len(raw) + 1)  # perhaps a row longer than a parse block
    except pa.ArrowInvalid:
        table, lines = _parse_csv_slowly(raw, first_line, header, name, bad, delimiter, max_field)
    else:
        record_lines = functools.partial(
            _csv_record_lines, delimiter=delimiter, keep_empty=keep_empty
        )
        lines = line_map(run, table.num_rows, record_lines)
    if decimal == ",":
        table = with_decimal_points(table)
    return mark_untyped(table, header), lines


def _allow_fields(size: int) -> None:
    """Let Python's csv module read fields up to `size` characters (128 KiB by default;
    pyarrow has no such limit, and the line limit bounds them already)."""
    csv.field_size_limit(max(size, 1 << 17))


def _csv_records(
    raw: bytes,
    first_line: int,
    max_field: int,
    delimiter: str = ",",
    bad: BadLines | None = None,
    name: str = "",
    keep_empty: bool = False,
) -> Iterator[tuple[int, list[str]]]:
    """Each non-empty record with the line it starts at; a record the csv module
    refuses (a field over `max_field`) is a bad line. `keep_empty`: an empty
    line is a record of one empty field (a one-column CSV)."""
    _allow_fields(max_field)
    text = io.StringIO(raw.decode("utf-8", errors="replace"), newline="")
    reader = csv.reader(text, delimiter=delimiter)
    line = first_line
    while True:
        start = line
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = first_line + reader.line_num
            if bad is None:
                raise InputError(f"{name}: line {start}: {exc}") from None
            bad.report(name, start, f"cannot read the record ({exc})")
            continue
        line = first_line + reader.line_num
        if record:
            yield start, record
        elif keep_empty:
            yield start, [""]


def _csv_record_lines(
    raw: bytes, first_line: int, delimiter: str = ",", keep_empty: bool = False
) -> npt.NDArray[np.int64]:
    # pyarrow read these records: none of their fields is refused here.
    records = _csv_records(raw, first_line, len(raw) + 1, delimiter, keep_empty=keep_empty)
    return np.array([start for start, _ in records], np.int64)


def _parse_csv_slowly(
    raw: bytes | memoryview,
    first_line: int,
    header: list[str],
    name: str,
    bad: BadLines,
    delimiter: str,
    max_field: int,
) -> tuple[pa.Table, Any]:
    raw = bytes(raw)
    physical = raw.split(b"\n")
    blanked = set()
    for offset, text in enumerate(physical):
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            bad.report(name, first_line + offset, "not valid UTF-8")
            physical[offset] = b""  # keeps the line numbers of the lines after it
            blanked.add(first_line + offset)
    raw = b"\n".join(physical)
    nulls = _csv_null_tokens()
    columns: list[list[str | None]] = [[] for _ in header]
    lines: list[int] = []
    records = _csv_records(raw, first_line, max_field, delimiter, bad, name, len(header) == 1)
    for line, record in records:
        if line in blanked:
            continue
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
