"""Reading a column as times (columns/times.py): every type a time may come as."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftcli.columns.times import LAST_SECOND, parse_time, read_times

NOON = int(datetime(2024, 3, 1, 12, tzinfo=UTC).timestamp())


def read(values: list[object], kind: pa.DataType | None = None) -> list[tuple[object, ...]]:
    """(seconds, wall clock) per value, or "missing" / "unreadable"."""
    times = read_times(pa.array(values, kind))
    out: list[tuple[object, ...]] = []
    for s, w, m, u in zip(times.seconds, times.wall, times.missing, times.unreadable, strict=True):
        out.append(("missing",) if m else ("unreadable",) if u else (int(s), bool(w)))
    return out


def test_zoned_timestamps_are_instants_and_naive_ones_wall_clock() -> None:
    zoned = pa.array([NOON * 1000, None], pa.timestamp("ms", "Europe/Berlin"))
    assert read(zoned.to_pylist(), zoned.type) == [(NOON, False), ("missing",)]
    assert read([NOON * 10**9], pa.timestamp("ns")) == [(NOON, True)]


def test_fractions_of_a_second_round_down() -> None:
    assert read([NOON * 10**6 + 999_999, -1], pa.timestamp("us")) == [(NOON, True), (-1, True)]


def test_dates_are_their_midnight() -> None:
    day = NOON - 12 * 3600
    assert read([datetime(2024, 3, 1).date(), None], pa.date32()) == [(day, True), ("missing",)]
    assert read([day * 1000], pa.date64()) == [(day, True)]


def test_numbers_are_epoch_seconds() -> None:
    assert read([NOON, None]) == [(NOON, False), ("missing",)]
    assert read([NOON + 0.75, float("nan"), float("inf")]) == [
        (NOON, False),
        ("missing",),
        ("unreadable",),
    ]


def test_epoch_milliseconds_are_unreadable_not_the_year_50000() -> None:
    assert read([NOON * 1000]) == [("unreadable",)]
    assert read([LAST_SECOND, LAST_SECOND + 1]) == [(LAST_SECOND, False), ("unreadable",)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T12:00:00Z", (NOON, False)),
        ("2024-03-01T13:00:00+01:00", (NOON, False)),
        ("2024-03-01 13:00:00+0100", (NOON, False)),
        ("2024-03-01T12:00:00.123456789Z", (NOON, False)),
        ("2024-03-01T12:00:00,5Z", (NOON, False)),
        ("2024-03-01T12:00:00", (NOON, True)),
        ("2024-03-01 12:00", (NOON, True)),
        ("2024-03-01", (NOON - 12 * 3600, True)),
        ("20240301T120000Z", (NOON, False)),
        (f"{NOON}", (NOON, False)),
        (f"{NOON}.5", (NOON, False)),
        ("", ("missing",)),
        ("noon", ("unreadable",)),
        ("2024-02-30T00:00:00Z", ("unreadable",)),
    ],
)
def test_text_in_every_iso_8601_form(text: str, expected: tuple[object, ...]) -> None:
    # Alone (one cast for the column) and among other forms (a cast per form).
    assert read([text]) == [expected]
    assert read(["2024-03-01T12:00:00Z", text, "x", None]) == [
        (NOON, False),
        expected,
        ("unreadable",),
        ("missing",),
    ]


def test_other_types_are_unreadable_where_present() -> None:
    assert read([True, None]) == [("unreadable",), ("missing",)]
    assert read([None, None]) == [("missing",), ("missing",)]
    dictionary = pa.array(["2024-03-01T12:00:00Z", "2024-03-01T12:00:00Z"]).dictionary_encode()
    assert read_times(dictionary).seconds.tolist() == [NOON, NOON]


def test_a_chunked_column_reads_as_one() -> None:
    column = pa.chunked_array([pa.array([NOON]), pa.array([NOON + 1])])
    assert read_times(column).seconds.tolist() == [NOON, NOON + 1]


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_any_iso_time_reads_back_to_its_second(moment: datetime) -> None:
    text = moment.isoformat()
    expected = int((moment.replace(microsecond=0) - datetime(1970, 1, 1)).total_seconds())
    assert parse_time(text) == (expected, True)
    assert read([text]) == [(expected, True)]
    assert read([text + "Z"]) == [(expected, False)]


def test_seconds_are_zero_where_there_is_no_time() -> None:
    times = read_times(pa.array(["x", None, "2024-03-01T12:00:00Z"]))
    assert times.seconds.tolist() == [0, 0, NOON]
    assert times.readable.tolist() == [False, False, True]
    assert times.seconds.dtype == np.int64
