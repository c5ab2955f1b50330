"""JSON lines: one object per line, parsed by pyarrow a run at a time.

When pyarrow rejects a run, a slow path parses it line by line in Python:
it names the first bad line, or skips bad lines when asked, and builds the
table by hand when JSON types merely vary from line to line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar, NoReturn

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driftcli.choices import InputFormat
from driftcli.errors import InputError, option
from driftcli.inputs import cutting
from driftcli.inputs.cutting import NEWLINE, Run, SplitRun, jsonl_cut, line_map
from driftcli.inputs.json_objects import table_from_objects
from driftcli.inputs.jsonl_bounds import affordable, regular_parse
from driftcli.inputs.piece import BadLines, LineMap, Piece
from driftcli.inputs.source import TextSource
from driftcli.settings import DEFAULT_MAX_COLUMNS


class JsonlSource(TextSource):
    """JSON lines, from a file or a stream."""

    describe_as: ClassVar[str] = "JSON lines"
    text_format: ClassVar[InputFormat] = InputFormat.JSONL

    def _read(self, max_latency: float | None) -> Iterator[Piece | None]:
        self.refuse_other_encodings()
        rows = 0
        for run in self.content.runs(jsonl_cut, max_latency, self.line_limit()):
            if run is None:
                yield None
                continue
            if blank(run.data):
                continue
            try:
                for piece in self.parsed(run, rows, self._parse):
                    yield piece
                    rows += piece.table.num_rows
            except SplitRun as split:  # too many keys to parse whole (jsonl_bounds.py)
                for part in split.parts:
                    for piece in self.parsed(part, rows, self._parse_part):
                        yield piece
                        rows += piece.table.num_rows
                if split.then is not None:
                    raise split.then from None

    def _parse(self, run: Run) -> tuple[pa.Table, LineMap]:
        return parse_jsonl(run, self.name, self.bad_lines, self.max_columns)

    def _parse_part(self, run: Run) -> tuple[pa.Table, LineMap]:
        return parse_cleaned(run, self.name, self.bad_lines)


def blank(raw: memoryview) -> bool:
    """Nothing but white space (checked cheaply: a run of records is rarely blank)."""
    return len(raw) < 1 << 16 and not bytes(raw).strip()


def parse_jsonl(
    run: Run, name: str, bad: BadLines, max_keys: int = DEFAULT_MAX_COLUMNS
) -> tuple[pa.Table, LineMap]:
    """Parse a run of JSON lines; returns the table and a row-to-line mapper.

    A line that is not an object (`null`, which pyarrow would read as a row
    of missing values, a number, an array), or that holds more than
    `max_keys` keys, is a bad line. A run that may hold too many keys to
    parse whole raises `SplitRun` (jsonl_bounds.py).
    """
    run = _without_non_objects(run, name, bad, max_keys)
    if affordable(run):
        return parse_cleaned(run, name, bad)
    table = regular_parse(run, _read_known, _parsed_fast)
    return table, line_map(run, table.num_rows, _nonblank_lines)


def parse_cleaned(run: Run, name: str, bad: BadLines) -> tuple[pa.Table, LineMap]:
    """Parse a run whose bad lines were blanked (or none found), by Arrow where it can."""
    table = _parsed_fast(run)
    if table is None:
        return _parse_jsonl_slowly(run.data, run.first_line, name, bad)
    return table, line_map(run, table.num_rows, _nonblank_lines)


def _read_json(raw: memoryview, schema: pa.Schema | None, only: bool = False) -> pa.Table:
    """Arrow's parse of whole JSON lines (`only`: no key but the schema's, else an error)."""
    import pyarrow.json as pj

    def read(block_size: int, schema: pa.Schema | None) -> pa.Table:
        return pj.read_json(
            pa.py_buffer(raw),
            read_options=pj.ReadOptions(block_size=block_size, use_threads=True),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="error" if only else "infer"
            ),
        )

    try:
        return read(cutting.block_bytes(len(schema) if schema is not None else 0), schema)
    except pa.ArrowInvalid as exc:
        if "straddling" not in str(exc):
            raise
        return read(len(raw) + 1, schema)  # a line longer than a parse block


def _read_known(run: Run, schema: pa.Schema | None) -> pa.Table:
    return _read_json(run.data, schema, only=True)


def _parsed_fast(run: Run) -> pa.Table | None:
    """Arrow's parse, types inferred; None where Arrow refuses it (the slow path's work)."""
    raw = run.data
    try:
        table = _read_json(raw, None)
        # pyarrow reads date-like strings as timestamps; they are text here,
        # as they are in CSV, so every format types a column alike.
        stamped = [f.name for f in table.schema if pa.types.is_timestamp(f.type)]
        if stamped:
            # The explicit schema's columns come first: put them back in the file's order.
            order = table.column_names
            explicit = pa.schema([(n, pa.string()) for n in stamped])
            table = _read_json(raw, explicit).select(order)
        table.validate(full=True)  # the JSON parser does not check UTF-8
    except pa.ArrowInvalid:
        return None
    return table


_OPEN_BRACE = ord("{")
_OPEN_BRACKET = ord("[")

MAX_JSON_DEPTH = 100
"""Objects and arrays nested deeper than this make a bad line: Arrow's validation
recurses once per level, and crashes the process (SIGSEGV) some thousands deep."""

_JSON_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[][{}]')
"""A JSON string (skipped whole: brackets inside it are text) or a bracket."""


def _without_non_objects(run: Run, name: str, bad: BadLines, max_keys: int) -> Run:
    """The run with its lines that are not JSON objects, are nested too deep or hold
    more keys than `max_keys`, reported, and blanked when skipped.

    Only the first byte of each line is looked at in bulk; the few lines
    that do not start with `{` (blank or indented ones, and the bad ones)
    are then read one by one. Nesting is looked for only where the run holds
    more brackets than flat objects would (see `_deep_lines`).
    """
    data = np.frombuffer(run.data, np.uint8)
    if not len(data):
        return run
    breaks = run.breaks if run.breaks is not None else np.flatnonzero(data == NEWLINE)
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
    deep = f"nested deeper than {MAX_JSON_DEPTH} levels (the JSON nesting limit)"
    for i in _deep_lines(run.data, data, starts, ends, len(starts) - len(odd)):
        found.append((run.first_line + i, int(starts[i]), int(ends[i]), deep))
    flagged = {line for line, *_ in found}
    for i, keys in _wide_lines(run.data, starts, ends, max_keys):
        if run.first_line + i not in flagged:  # a line both deep and wide: said deep
            wide = (
                f"holds {keys:,} keys, more than the column limit of {max_keys:,} "
                f"({option('max_columns')})"
            )
            found.append((run.first_line + i, int(starts[i]), int(ends[i]), wide))
    if not found:
        return run
    found.sort()
    reason = found[0][3]
    if not reason.startswith(("nested deeper", "holds ")):
        reason = f"expected a JSON object, got {reason}"
    bad.report_many(name, [line for line, *_ in found], reason)
    blanked = bytearray(run.data)
    for _, start, end, _ in found:
        blanked[start:end] = b" " * (end - start)
    return Run(memoryview(blanked), run.first_line, run.lines, run.breaks)


def _deep_lines(
    raw: memoryview,
    data: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.intp],
    ends: npt.NDArray[np.intp],
    objects: int,
) -> list[int]:
    """The lines (by position in the run) nested deeper than `MAX_JSON_DEPTH`.

    Every object line holds at least one `{`, so a line deeper than the limit
    exists only if the run holds more than `limit + objects - 1` brackets:
    rows of flat objects cost two counts over the run. Otherwise each line's
    brackets are counted, and only lines with more than the limit are read.
    """
    opens = np.count_nonzero(data == _OPEN_BRACE) + np.count_nonzero(data == _OPEN_BRACKET)
    if opens - max(objects - 1, 0) <= MAX_JSON_DEPTH:
        return []
    positions = np.flatnonzero((data == _OPEN_BRACE) | (data == _OPEN_BRACKET))
    per_line = np.searchsorted(positions, ends) - np.searchsorted(positions, starts)
    candidates = np.flatnonzero(per_line > MAX_JSON_DEPTH).tolist()
    return [i for i in candidates if _too_deep(bytes(raw[int(starts[i]) : int(ends[i])]))]


_JSON_KEY = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"\s*:')
"""A JSON string followed by a colon: a key."""


def _wide_lines(
    raw: memoryview, starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp], max_keys: int
) -> list[tuple[int, int]]:
    """The lines (by position in the run) holding more than `max_keys` keys, at any depth,
    with their counts: found before Arrow parses them, which costs some KB per key.

    A key takes at least 4 bytes (`"":0,`), so only longer lines are looked at,
    and of those only the ones with more colons than keys allowed are read.
    """
    long = np.flatnonzero(ends - starts > 4 * max_keys).tolist()
    wide = []
    for i in long:
        line = bytes(raw[int(starts[i]) : int(ends[i])])
        if line.count(b":") > max_keys:
            keys = _JSON_KEY.subn(b"", line)[1]  # counts without keeping the matches
            if keys > max_keys:
                wide.append((i, keys))
    return wide


def _too_deep(line: bytes) -> bool:
    """Does this line open more than `MAX_JSON_DEPTH` objects or arrays at once?

    Brackets inside strings are text; an unclosed line counts as deep as it opens.
    """
    depth = 0
    for token in _JSON_TOKENS.finditer(line):
        bracket = token.group()
        if len(bracket) != 1:
            continue
        if bracket in b"{[":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        else:
            depth = max(depth - 1, 0)
    return False


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
        if _SURROGATE_ESCAPE.search(text) and not _is_unicode(value):
            bad.report(name, line, _LONE_SURROGATE)
            continue
        rows.append(value)
        lines.append(line)
    found = np.array(lines, np.int64)
    return table_from_objects(rows), lambda: found


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""The start of an escaped UTF-16 surrogate: a pair is one character, one alone is none
(JSON allows it, UTF-8 cannot hold it)."""
_LONE_SURROGATE = "holds a surrogate escape without its pair (\\ud800 to \\udfff), not a character"


def _is_unicode(value: Any) -> bool:
    """Does this decoded JSON value (keys included) hold only characters UTF-8 can encode?"""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a boolean" if isinstance(value, bool) else "a number"
