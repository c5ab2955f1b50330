"""Cutting rows into chunks (counting/chunking.py): the calendar, time zones, daylight
saving, rows out of order, and counts that add up to a whole count of each chunk."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftcli.columns.times import read_times
from driftcli.counting.buckets import Feature
from driftcli.counting.chunking import (
    RowChunker,
    TimeChunker,
    chunk_ends,
    chunk_starts,
    chunker_of,
)
from driftcli.counting.counter import count_batches
from driftcli.errors import InputError
from driftcli.inputs import Piece
from driftcli.reference.builder import build_profile
from driftcli.reference.kinds import Selection
from driftcli.settings import ByRows, ByTime, parse_every

BERLIN = "Europe/Berlin"


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def starts(instants: list[str], every: str, zone: str = "UTC") -> list[str]:
    """Each instant's chunk start, in the zone's local time with its offset."""
    times = read_times(pa.array([utc(t) for t in instants]))
    keys = chunk_starts(times, parse_every(every), zone)
    return [datetime.fromtimestamp(int(k), ZoneInfo(zone)).isoformat() for k in keys]


def ends(local_starts: list[str], every: str, zone: str) -> list[str]:
    keys = np.array([int(datetime.fromisoformat(s).timestamp()) for s in local_starts])
    return [
        datetime.fromtimestamp(int(k), ZoneInfo(zone)).isoformat()
        for k in chunk_ends(keys, parse_every(every), zone)
    ]


# --- the calendar -----------------------------------------------------------


def test_chunks_start_on_the_calendars_boundaries() -> None:
    at = ["2024-03-06T17:47:11"]  # a Wednesday
    assert starts(at, "30m") == ["2024-03-06T17:30:00+00:00"]
    assert starts(at, "1h") == ["2024-03-06T17:00:00+00:00"]
    assert starts(at, "6h") == ["2024-03-06T12:00:00+00:00"]
    assert starts(at, "1d") == ["2024-03-06T00:00:00+00:00"]
    assert starts(at, "1w") == ["2024-03-04T00:00:00+00:00"]  # the Monday
    assert starts(["2024-03-04T00:00:00", "2024-03-03T23:59:59"], "1w") == [
        "2024-03-04T00:00:00+00:00",
        "2024-02-26T00:00:00+00:00",
    ]


def test_times_before_1970_fall_in_their_own_day() -> None:
    assert starts(["1969-12-31T23:59:59"], "1d") == ["1969-12-31T00:00:00+00:00"]


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["15m", "1h", "4h", "1d", "2d", "1w"]),
    st.sampled_from(["UTC", BERLIN, "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]),
)
def test_every_instant_is_in_the_chunk_that_holds_it(
    moment: datetime, every: str, zone: str
) -> None:
    instant = int(moment.replace(tzinfo=UTC).timestamp())
    times = read_times(pa.array([instant]))
    start = chunk_starts(times, parse_every(every), zone)
    end = chunk_ends(start, parse_every(every), zone)
    assert start[0] <= instant < end[0]
    # The next chunk starts where this one ends.
    following = chunk_starts(read_times(pa.array([int(end[0])])), parse_every(every), zone)
    assert following[0] == end[0]


# --- time zones and daylight saving -----------------------------------------


def test_days_start_at_local_midnight() -> None:
    assert starts(["2024-03-01T22:59:59", "2024-03-01T23:00:00"], "1d", BERLIN) == [
        "2024-03-01T00:00:00+01:00",
        "2024-03-02T00:00:00+01:00",
    ]


def test_the_days_the_clocks_change_have_23_and_25_hours() -> None:
    spring, autumn = "2024-03-31T00:00:00+01:00", "2024-10-27T00:00:00+02:00"
    assert ends([spring, autumn], "1d", BERLIN) == [
        "2024-04-01T00:00:00+02:00",
        "2024-10-28T00:00:00+01:00",
    ]
    assert starts(["2024-10-27T22:59:59"], "1d", BERLIN) == [autumn]  # hour 25


def test_the_hour_that_happens_twice_is_two_chunks() -> None:
    # 02:00-03:00 in Berlin on 2024-10-27 happens at 00:00Z (summer time) and 01:00Z.
    first, second = starts(["2024-10-27T00:30:00", "2024-10-27T01:30:00"], "1h", BERLIN)
    assert (first, second) == ("2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00")
    assert ends([first], "1h", BERLIN) == [second]


def test_the_hour_that_never_happens_has_no_chunk() -> None:
    # At 01:00Z on 2024-03-31, Berlin's clocks jump from 02:00 to 03:00.
    assert starts(["2024-03-31T00:59:59", "2024-03-31T01:00:00"], "1h", BERLIN) == [
        "2024-03-31T01:00:00+01:00",
        "2024-03-31T03:00:00+02:00",
    ]


def test_wall_clock_times_are_read_in_the_zone() -> None:
    texts = pa.array(["2024-03-01T23:30:00", "2024-03-01T23:30:00Z"])
    keys = chunk_starts(read_times(texts), parse_every("1d"), BERLIN)
    assert [datetime.fromtimestamp(int(k), ZoneInfo(BERLIN)).isoformat() for k in keys] == [
        "2024-03-01T00:00:00+01:00",  # 23:30 on the clock in Berlin
        "2024-03-02T00:00:00+01:00",  # 00:30 in Berlin
    ]


# --- counting into chunks ---------------------------------------------------


@pytest.fixture(scope="module")
def features() -> list[Feature]:
    rng = np.random.default_rng(0)
    table = pa.table({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    return build_profile(iter([table]), Selection()).features


def logged(seconds: list[int]) -> pa.Table:
    rng = np.random.default_rng(len(seconds))
    n = len(seconds)
    return pa.table({"t": seconds, "x": rng.normal(size=n), "c": rng.choice(["a", "b", "z"], n)})


def piece_of(table: pa.Table, first_line: int | None = None) -> Piece:
    lines = None if first_line is None else (lambda: np.arange(table.num_rows) + first_line)
    return Piece(table, first_line, 0, lines, "log")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 10 * 86_400), min_size=1, max_size=300), st.integers(1, 50))
def test_a_chunks_counts_are_the_count_of_its_rows(
    features: list[Feature], seconds: list[int], batch: int
) -> None:
    table = logged(seconds)
    chunker = TimeChunker(features, (), "log", ByTime("t", parse_every("1d")))
    for start in range(0, table.num_rows, batch):
        chunker.add(piece_of(table.slice(start, batch)))
    days = np.array(seconds) // 86_400
    found = chunker.chunks()
    assert [c.key for c in found] == sorted({int(d) * 86_400 for d in days})
    for part in found:
        rows = table.filter(pa.array(days == part.key // 86_400))
        whole = count_batches(features, rows.to_batches())
        assert part.counts.rows == whole.rows
        for name, counts in whole.features.items():
            assert part.counts.features[name].buckets.tolist() == counts.buckets.tolist()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(-1, 10 * 86_400), min_size=2, max_size=300),
    st.integers(1, 50),
    st.booleans(),
)
def test_chunkers_of_parts_merge_into_the_chunker_of_the_whole(
    features: list[Feature], seconds: list[int], batch: int, sampled: bool
) -> None:
    """An engine cuts each file apart and merges: the same chunks, counts, samples'
    sizes, untimed rows and row count as one chunker that read them all."""
    table = logged(seconds)
    t = pa.array([None if s < 0 else s for s in seconds], pa.int64())
    table = table.set_column(0, "t", t)
    by = ByTime("t", parse_every("1d"))
    kept = ("x",) if sampled else ()
    whole = TimeChunker(features, kept, "log", by)
    half = table.num_rows // 2
    parts = [TimeChunker(features, kept, "log", by, seed=i + 1) for i in range(2)]
    for start in range(0, table.num_rows, batch):
        piece = table.slice(start, min(batch, table.num_rows - start))
        whole.add(piece_of(piece, first_line=start + 1))
    for part, (lo, hi) in zip(parts, [(0, half), (half, table.num_rows)], strict=True):
        for start in range(lo, hi, batch):
            piece = table.slice(start, min(batch, hi - start))
            part.add(piece_of(piece, first_line=start + 1))
    merged = parts[0]
    merged.merge(parts[1])
    assert merged.rows == whole.rows and merged.untimed() == whole.untimed()
    expected = whole.chunks()
    assert [c.key for c in merged.chunks()] == [c.key for c in expected]
    for mine, theirs in zip(merged.chunks(), expected, strict=True):
        assert mine.counts.rows == theirs.counts.rows
        assert mine.counts.columns == theirs.counts.columns
        for name, counts in theirs.counts.features.items():
            ours = mine.counts.features[name]
            assert ours.buckets.tolist() == counts.buckets.tolist()
            assert ours.types == counts.types and ours.invalid_at == counts.invalid_at
        assert {n: len(v) for n, v in mine.counts.samples.items()} == {
            n: len(v) for n, v in theirs.counts.samples.items()
        }


def test_invalid_values_are_located_in_the_chunk_they_fall_in(features: list[Feature]) -> None:
    table = pa.table({"t": [86_400, 0, 86_400], "x": ["1.0", "2.0", "oops"], "c": ["a"] * 3})
    chunker = TimeChunker(features, (), "log", ByTime("t", parse_every("1d")))
    chunker.add(piece_of(table, first_line=10))
    second = chunker.chunks()[1].counts.features["x"]
    assert [str(at) for at in second.invalid_at] == ["log:12"]


def test_rows_without_a_time_are_counted_apart(features: list[Feature]) -> None:
    table = pa.table({"t": ["1970-01-02T00:00:00Z", None, "later", ""], "x": [1.0] * 4})
    chunker = TimeChunker(features, (), "log", ByTime("t", parse_every("1d")))
    chunker.add(piece_of(table, first_line=2))
    chunker.add(piece_of(pa.table({"x": [1.0]}), first_line=6))  # no time column at all
    untimed = chunker.untimed()
    assert (untimed.missing, untimed.unreadable) == (3, 1)
    assert [str(at) for at in untimed.first] == ["log:3", "log:4", "log:5", "log:6"]
    assert [c.counts.rows for c in chunker.chunks()] == [1]
    assert chunker.rows == 5


def test_row_chunks_cut_across_input_pieces(features: list[Feature]) -> None:
    chunker = RowChunker(features, (), "log", ByRows(4))
    for size in (3, 3, 5):
        chunker.add(piece_of(logged([0] * size)))
    assert [(c.key, c.counts.rows) for c in chunker.chunks()] == [(0, 4), (1, 4), (2, 3)]
    assert chunker.rows == 11


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("9999-12-31T23:59:59Z", "UTC"),  # its day ends in the year 10000
        ("0001-01-01T00:00:00Z", "America/New_York"),  # its local day is in the year 0
        ("9999-12-31T20:00:00Z", "Asia/Tokyo"),  # already 10000-01-01 in Tokyo
    ],
)
def test_times_whose_chunk_leaves_the_calendar_are_unreadable(
    features: list[Feature], text: str, zone: str
) -> None:
    table = pa.table({"t": [text, "2024-03-07T12:00:00Z"], "x": [1.0, 2.0]})
    chunker = TimeChunker(features, (), "log", ByTime("t", parse_every("1d"), zone))
    chunker.add(piece_of(table, first_line=2))
    untimed = chunker.untimed()
    assert (untimed.missing, untimed.unreadable) == (0, 1)
    assert [str(at) for at in untimed.first] == ["log:2"]
    assert [c.counts.rows for c in chunker.chunks()] == [1]


# --- complete groups ----------------------------------------------------------


def test_row_chunks_are_spanned_by_their_rows_and_the_last_may_be_partial(
    features: list[Feature],
) -> None:
    chunker = chunker_of(ByRows(4), features, (), "log")
    chunker.add(piece_of(logged([0] * 11)))
    groups = chunker.groups()
    assert groups.spans == [(0, 4), (4, 8), (8, 11)]
    assert [c.rows if c else None for c in groups.counts] == [4, 4, 3]
    assert chunker.warnings() == [] and chunker.untimed().count == 0


def test_time_chunks_without_rows_between_the_first_and_last_are_groups_too(
    features: list[Feature],
) -> None:
    chunker = chunker_of(ByTime("t", parse_every("1d"), BERLIN), features, (), "log")
    assert isinstance(chunker, TimeChunker)
    chunker.add(piece_of(logged([0, 2 * 86_400 + 3_600])))
    groups = chunker.groups()
    assert groups.spans == [
        ("1970-01-01T00:00:00+01:00", "1970-01-02T00:00:00+01:00"),
        ("1970-01-02T00:00:00+01:00", "1970-01-03T00:00:00+01:00"),
        ("1970-01-03T00:00:00+01:00", "1970-01-04T00:00:00+01:00"),
    ]
    assert [c.rows if c else None for c in groups.counts] == [1, None, 1]


def test_a_time_chunker_that_found_no_time_says_so(features: list[Feature]) -> None:
    chunker = chunker_of(ByTime("t", parse_every("1d")), features, (), "log")
    chunker.add(piece_of(pa.table({"x": [1.0, 2.0]})))
    with pytest.raises(InputError, match="log: no column 't' to cut by time"):
        chunker.groups()
    chunker.add(piece_of(pa.table({"t": [None, "soon"], "x": [1.0, 2.0]})))
    with pytest.raises(InputError, match="no row has a readable time in column 't'"):
        chunker.groups()


def test_a_time_column_of_small_numbers_is_warned_of(features: list[Feature]) -> None:
    chunker = chunker_of(ByTime("t", parse_every("1d")), features, (), "log")
    chunker.add(piece_of(logged([5, 86_400])))
    (warning,) = chunker.warnings()
    assert "read as epoch seconds, and every time falls before 1980" in warning
