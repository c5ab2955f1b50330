"""The rules settings obey (settings.py): chunk lengths, time zones, chunking options."""

from __future__ import annotations

import pytest

from driftcli.choices import TimeUnit
from driftcli.errors import UsageError
from driftcli.settings import ByRows, ByTime, Every, chunking_of, parse_every
from tests.conftest import raises_told


@pytest.mark.parametrize(
    ("text", "every", "seconds"),
    [
        ("30m", Every(30, TimeUnit.MINUTE), 1800),
        ("15min", Every(15, TimeUnit.MINUTE), 900),
        ("1h", Every(1, TimeUnit.HOUR), 3600),
        (" 6H ", Every(6, TimeUnit.HOUR), 21_600),
        ("1d", Every(1, TimeUnit.DAY), 86_400),
        ("3d", Every(3, TimeUnit.DAY), 259_200),
        ("1w", Every(1, TimeUnit.WEEK), 604_800),
    ],
)
def test_lengths_of_time(text: str, every: Every, seconds: int) -> None:
    assert parse_every(text) == every
    assert every.seconds == seconds
    assert parse_every(str(every)) == every


@pytest.mark.parametrize("text", ["", "1", "d", "1y", "1.5h", "-1d", "0d"])
def test_what_is_not_a_length_of_time(text: str) -> None:
    with raises_told(UsageError, match="--every"):
        parse_every(text)


def test_a_length_beyond_a_century_is_refused() -> None:
    assert parse_every("36500d").seconds == 36_500 * 86_400
    for text in ("36501d", "5215w", "99999999999999999999d"):
        with pytest.raises(UsageError, match="longer than 36,500d"):
            parse_every(text)


@pytest.mark.parametrize("text", ["7m", "5h", "25h", "90s"])
def test_lengths_under_a_day_must_divide_it(text: str) -> None:
    with pytest.raises(UsageError):
        parse_every(text)


def test_the_options_give_one_chunking() -> None:
    assert chunking_of(None, None, None, None) is None
    assert chunking_of("ts", "1d", None, None) == ByTime("ts", parse_every("1d"), "UTC")
    assert chunking_of("ts", "1h", "Europe/Berlin", None) == ByTime(
        "ts", parse_every("1h"), "Europe/Berlin"
    )
    assert chunking_of(None, None, None, 500) == ByRows(500)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("ts", None, None, None), "--by needs --every"),
        ((None, "1d", None, None), "--every needs --by"),
        ((None, None, "UTC", None), "--timezone needs --by"),
        (("ts", "1d", None, 10), "--chunk-rows cuts by rows"),
        ((None, None, None, 0), "--chunk-rows must be at least 1"),
        (("ts", "1d", "Mars/Olympus", None), "not a time zone"),
        (("ts", "1d", "../etc/passwd", None), "not a time zone"),
    ],
)
def test_options_that_do_not_go_together(options: tuple, message: str) -> None:
    with raises_told(UsageError, match=message):
        chunking_of(*options)


def test_m_is_a_minute_and_capital_m_is_refused_as_a_month() -> None:
    assert parse_every("30m") == Every(30, TimeUnit.MINUTE)
    assert parse_every("30MIN") == Every(30, TimeUnit.MINUTE)
    assert parse_every("1D") == Every(1, TimeUnit.DAY)
    with pytest.raises(UsageError, match="months are not supported") as caught:
        parse_every("1M")
    assert "did you mean '1m'" in (caught.value.hint or "")


def test_time_zones_are_found_whatever_their_case() -> None:
    from driftcli.settings import validate_timezone

    assert validate_timezone("utc") == "UTC"
    assert validate_timezone("europe/berlin") == "Europe/Berlin"
    assert chunking_of("ts", "1d", "utc", None) == ByTime("ts", parse_every("1d"), "UTC")
    with pytest.raises(UsageError, match="not a time zone") as caught:
        validate_timezone("Europe/Berln")
    assert "did you mean 'Europe/Berlin'" in (caught.value.hint or "")
