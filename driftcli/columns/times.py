"""Read an Arrow column as times: whole seconds since 1970, with missing and unreadable masks.

A time column may hold timestamps (with or without a zone), dates, ISO-8601
text or epoch seconds (numbers, or text that reads as numbers). A value with
a zone or an offset, and epoch seconds, is an instant; a value without (a
naive timestamp, a date, ISO text without an offset) is a wall-clock time,
which the chunking reads in its time zone. Missing means null, NaN or empty
text; unreadable, a value that is present but is not a time (a word, a
boolean, a year after 9999).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftcli.columns.values import BoolArray, arrow_array

IntArray = npt.NDArray[np.int64]

FIRST_SECOND = -62_135_596_800
"""0001-01-01T00:00:00: earlier times are unreadable."""
LAST_SECOND = 253_402_300_799
"""9999-12-31T23:59:59: later times (epoch milliseconds read as seconds) are unreadable."""

_UNIT_SECONDS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_EPOCH = datetime(1970, 1, 1)
_EMPTY = pa.scalar("", pa.string())
_NO_TEXT = pa.scalar(None, pa.string())
_TIME = r"\d{2}(:\d{2}(:\d{2}([.,]\d{1,9})?)?)?"
_NAIVE = rf"^\d{{4}}-\d{{2}}-\d{{2}}([T ]{_TIME})?$"
_ZONED = rf"^\d{{4}}-\d{{2}}-\d{{2}}[T ]{_TIME}(Z|z|[+-]\d{{2}}(:?\d{{2}})?)$"
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
ISO_TIME = re.compile(rf"\d{{4}}-\d{{2}}-\d{{2}}([T ]{_TIME}(Z|z|[+-]\d{{2}}(:?\d{{2}})?)?)?")
"""ISO 8601 text that reads as a time (a date, a time with or without an offset); fullmatch."""
_LOOKS_ZONED = re.compile(r".*\d(Z|z|[+-]\d{2}(:?\d{2})?)$")
_LOOKS_NUMERIC = re.compile(_NUMBER)


@dataclass(frozen=True)
class Times:
    """A column read as times. `seconds` is 0 wherever the time is missing or unreadable."""

    seconds: IntArray
    """Whole seconds since 1970-01-01T00:00:00 (UTC for an instant), rounded down."""
    wall: BoolArray
    """The value is a wall-clock time (no zone, no offset), not an instant."""
    missing: BoolArray
    unreadable: BoolArray

    @property
    def readable(self) -> BoolArray:
        return ~(self.missing | self.unreadable)


def read_times(column: pa.Array | pa.ChunkedArray) -> Times:
    """Read a column as times, whatever its type (see the module's docstring)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if pa.types.is_timestamp(kind):
        factor = _UNIT_SECONDS[kind.unit]
        return _in_range(_integers(column), column.is_null(), factor, wall=kind.tz is None)
    if pa.types.is_date32(kind):
        return _in_range(_integers(column) * 86_400, column.is_null(), 1, wall=True)
    if pa.types.is_date64(kind):
        return _in_range(_integers(column), column.is_null(), 1_000, wall=True)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return _epoch(column)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return _text(column.cast(pa.string()))
    nulls = _mask(column.is_null())
    return _times(np.zeros(len(column), np.int64), False, nulls, ~nulls)


EPOCH_PLAUSIBLE = 315_532_800
"""1980-01-01T00:00:00Z: epoch seconds all before it are more likely not times at all
(an amount, a count) than a log of the 1970s."""


def read_as_epoch(column: pa.Array | pa.ChunkedArray) -> bool:
    """Whether `read_times` reads this column as epoch seconds: numbers, or text of them."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return True
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return False
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    first = _first_value(array.cast(pa.string()))
    return first is not None and bool(_LOOKS_NUMERIC.match(first))


def _times(seconds: IntArray, wall: BoolArray | bool, missing: BoolArray, bad: BoolArray) -> Times:
    size = len(seconds)
    walls = np.full(size, wall) if isinstance(wall, bool) else wall
    seconds = np.where(missing | bad, 0, seconds)
    return Times(seconds.astype(np.int64, copy=False), walls, missing, bad)


def _mask(array: pa.Array) -> BoolArray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def _integers(column: pa.Array) -> IntArray:
    """The column's raw integer values (its unit's count for timestamps), 0 where null."""
    if pa.types.is_date32(column.type):
        column = column.view(pa.int32())
    elif pa.types.is_temporal(column.type):
        column = column.view(pa.int64())  # the same bits: no copy
    raw = column.cast(pa.int64()) if column.type != pa.int64() else column
    if raw.null_count:
        raw = pc.fill_null(raw, 0)
    return np.asarray(raw.to_numpy(zero_copy_only=False), dtype=np.int64)


def _in_range(values: IntArray, nulls: pa.Array, factor: int, *, wall: bool) -> Times:
    """Values in units of 1/`factor` second as whole seconds; out of 0001-9999 is unreadable."""
    seconds = values // factor if factor != 1 else values
    missing = _mask(nulls)
    bad = ~missing & ((seconds < FIRST_SECOND) | (seconds > LAST_SECOND))
    return _times(seconds, wall, missing, bad)


def _epoch(column: pa.Array) -> Times:
    """Numbers as epoch seconds: instants; NaN is missing, an infinity unreadable."""
    if pa.types.is_integer(column.type):
        return _in_range(_integers(column), column.is_null(), 1, wall=False)
    values = np.asarray(
        pc.fill_null(column.cast(pa.float64()), float("nan")).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )
    missing = np.isnan(values)
    with np.errstate(invalid="ignore"):
        bad = ~missing & ~((values >= FIRST_SECOND) & (values <= LAST_SECOND + 1))
    seconds = np.floor(np.where(missing | bad, 0.0, values)).astype(np.int64)
    return _times(seconds, False, missing, bad | (seconds > LAST_SECOND))


def _text(text: pa.Array) -> Times:
    """ISO-8601 text or epoch seconds as text: one cast when the column is uniform."""
    quick = _cast_whole(text)
    return quick if quick is not None else _by_form(text)


def _cast_whole(text: pa.Array) -> Times | None:
    """The column in one cast, in the form its first value has; None if any value differs."""
    first = _first_value(text)
    if first is None:
        nulls = _mask(text.is_null())
        return _times(np.zeros(len(text), np.int64), False, nulls, np.zeros(len(text), bool))
    try:
        if _LOOKS_NUMERIC.match(first):
            return _epoch(text.cast(pa.float64()))
        zoned = bool(_LOOKS_ZONED.match(first)) and ("T" in first or " " in first)
        cast = text.cast(pa.timestamp("ns", "UTC") if zoned else pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return _in_range(_integers(cast), cast.is_null(), 1_000_000_000, wall=not zoned)


def _first_value(text: pa.Array) -> str | None:
    if text.null_count == len(text):
        return None
    at = 0 if text.null_count == 0 else int(np.argmax(_mask(text.is_valid())))
    value: str = text[at].as_py()
    return value


def _by_form(text: pa.Array) -> Times:
    """Text of mixed forms: each form cast on its own, what no form matches parsed one by one."""
    size = len(text)
    trimmed = pc.utf8_trim_whitespace(text)
    missing = _mask(pc.fill_null(pc.equal(trimmed, _EMPTY), True))
    seconds = np.zeros(size, np.int64)
    wall = np.zeros(size, bool)
    bad = np.zeros(size, bool)
    left = ~missing
    for pattern, target in (
        (_ZONED, pa.timestamp("ns", "UTC")),
        (_NAIVE, pa.timestamp("ns")),
        (_NUMBER, pa.float64()),
    ):
        form = left & _mask(pc.fill_null(pc.match_substring_regex(trimmed, pattern), False))
        if form.any():
            _read_form(trimmed, np.flatnonzero(form), target, (seconds, wall, bad))
            left &= ~form
    if left.any():
        _read_one_by_one(trimmed, np.flatnonzero(left), (seconds, wall, bad))
    return _times(seconds, wall, missing, bad)


Into = tuple[IntArray, BoolArray, BoolArray]
"""Where the rows' seconds, wall-clock flags and unreadable flags are written."""


def _read_form(text: pa.Array, rows: IntArray, target: pa.DataType, into: Into) -> None:
    part = text.take(arrow_array(rows))
    try:
        if target == pa.float64():
            times = _epoch(part.cast(target))
        else:
            # pyarrow reads a decimal point, not a comma, before fractions of a second.
            dotted = pc.replace_substring(part, ",", ".")
            cast = dotted.cast(target)
            times = _in_range(
                _integers(cast), cast.is_null(), 1_000_000_000, wall=target.tz is None
            )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        _read_one_by_one(text, rows, into)  # a 30th of February: find it value by value
        return
    seconds, wall, bad = into
    seconds[rows], wall[rows], bad[rows] = times.seconds, times.wall, times.unreadable


def _read_one_by_one(text: pa.Array, rows: IntArray, into: Into) -> None:
    seconds, wall, bad = into
    for row, value in zip(rows.tolist(), text.take(arrow_array(rows)).to_pylist(), strict=True):
        parsed = parse_time(value)
        if parsed is None:
            bad[row] = True
        else:
            seconds[row], wall[row] = parsed


def parse_time(text: str) -> tuple[int, bool] | None:
    """One ISO-8601 time as (whole seconds, is wall-clock), or None if it is not one."""
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"  # Python 3.10 reads no Z
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return (moment - _EPOCH) // timedelta(seconds=1), True
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return (utc - _EPOCH) // timedelta(seconds=1), False
