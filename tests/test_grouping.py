"""Each grouping answers for itself (grouping/): its description, its groups' names and
headers, its JSON fields and the engines it runs on, whatever kind it is."""

from __future__ import annotations

import pytest

from driftcli.choices import EngineName
from driftcli.errors import UsageError, plain_names
from driftcli.grouping import (
    CHUNKING_KEYS,
    CHUNKINGS,
    ByRows,
    BySlice,
    ByTime,
    Grouping,
    chunking_of,
    parse_every,
)

DAY = ByTime("ts", parse_every("1d"))
HOURS = ByTime("ts", parse_every("6h"), "Europe/Berlin")
ROWS = ByRows(10_000)
SLICES = BySlice("country", 5)


def test_each_grouping_describes_itself_with_its_groups() -> None:
    assert DAY.describe(10) == "10 chunks of 1d by ts (UTC)"
    assert HOURS.describe(1) == "1 chunk of 6h by ts (Europe/Berlin)"
    assert ROWS.describe(4) == "4 chunks of 10,000 rows"
    assert SLICES.describe(3) == "3 slices by country (at most 5, the rest as other)"


def test_a_chunked_reports_json_has_every_chunk_groupings_fields_in_order() -> None:
    """The JSON report lists each rule's fields (docs/json.md), null for other rules'."""
    assert CHUNKING_KEYS == ("by", "every", "timezone", "chunk_rows")
    for rule, example in zip(CHUNKINGS, (HOURS, ROWS), strict=True):
        assert type(example) is rule
        assert tuple(example.json_fields()) == rule.json_keys
    assert HOURS.json_fields() == {"by": "ts", "every": "6h", "timezone": "Europe/Berlin"}
    assert ROWS.json_fields() == {"chunk_rows": 10_000}
    assert SLICES.json_fields() == {"column": "country", "max_slices": 5}


def test_groups_are_named_by_their_grouping() -> None:
    start = "2024-03-05T06:00:00+01:00"
    assert DAY.label(2, start, years=False) == "2024-03-05"
    assert HOURS.label(2, start, years=False) == "03-05 06:00"
    assert HOURS.label(2, start, years=True) == "2024-03-05 06:00"
    assert ROWS.label(2, 20_000, years=False) == "#3"
    assert SLICES.label(0, "DE", years=False) == "DE"


def test_matrix_headers_leave_out_what_did_not_change() -> None:
    first, second = "2024-03-05T00:00:00+01:00", "2024-03-05T06:00:00+01:00"
    assert HOURS.header(0, first, None, years=False) == "03-05\n00:00"
    assert HOURS.header(1, second, first, years=False) == "\n06:00"
    assert HOURS.header(1, second, first, years=True) == "\n\n06:00"
    assert DAY.header(0, first, None, years=True) == "2024\n03-05"
    assert ROWS.header(2, 20_000, 10_000, years=False) == "#3\n20k"


def test_only_time_groupings_start_in_years() -> None:
    assert DAY.spans_years("2023-12-31T00:00:00+00:00", "2024-01-01T00:00:00+00:00")
    assert not DAY.spans_years("2024-01-01T00:00:00+00:00", "2024-12-31T00:00:00+00:00")
    assert not ROWS.spans_years(0, 10_000_000)


def test_what_a_grouping_says_of_its_rows() -> None:
    assert (DAY.time_column, ROWS.time_column, SLICES.time_column) == ("ts", None, None)
    assert (DAY.full_rows, ROWS.full_rows, SLICES.full_rows) == (None, 10_000, None)


@pytest.mark.parametrize("grouping", [DAY, ROWS, SLICES])
def test_every_grouping_runs_on_the_local_engine(grouping: Grouping) -> None:
    assert grouping.refusal(EngineName.LOCAL) is None


def test_the_groupings_that_dask_cannot_run_say_so_naming_it() -> None:
    assert DAY.refusal(EngineName.DASK) is None  # each file's rows are cut by their times
    rows = ROWS.refusal(EngineName.DASK)
    slices = SLICES.refusal(EngineName.DASK)
    assert isinstance(rows, UsageError) and isinstance(slices, UsageError)
    assert "Dask's workers, reading its files apart" in plain_names(rows.message)
    assert plain_names(slices.message).endswith("local engine only, not on Dask")
    assert "engine dask" in plain_names(rows.hint or "")


def test_the_options_of_one_rule_parse_into_it() -> None:
    assert chunking_of("ts", "1d", None, None) == DAY
    assert chunking_of(None, None, None, 10_000) == ROWS
    assert chunking_of(None, None, None, None) is None
    assert BySlice.parse("country", 5) == SLICES
    assert BySlice.parse(None) is None
