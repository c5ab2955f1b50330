"""Chunks of a length of time, by a column's times, aligned to the calendar of a time zone
(`--by COLUMN --every 1d [--timezone ZONE]`). Counted by `counting.chunking.TimeChunker`,
which also finds the chunks without rows between the first and the last."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from driftcli.choices import TimeUnit
from driftcli.errors import UsageError, option
from driftcli.grouping.base import Grouping, Start

UTC = "UTC"
_EVERY = re.compile(r"\s*(\d+)\s*(m|(?i:min|h|d|w))\s*")
"""Units in any case, but `m`: `M` is a month to many (and months are no fixed length)."""
_DAY_SECONDS = 86_400
MAX_EVERY_DAYS = 36_500
"""The longest --every: a chunk of a century already holds any log whole."""


@dataclass(frozen=True)
class Every:
    """How long a time chunk is: `count` units (`--every 30m`, `1h`, `1d`, `2w`)."""

    count: int
    unit: TimeUnit

    @property
    def seconds(self) -> int:
        return self.count * self.unit.seconds

    def __str__(self) -> str:
        return f"{self.count}{self.unit.value}"


def parse_every(text: str) -> Every:
    """`30m`, `1h`, `1d`, `1w` as an `Every`; a `UsageError` for anything else.

    A length under a day must divide a day, and one over a day be whole
    days, so that every chunk starts at a local midnight or at the same times
    every day (chunks are aligned to the calendar).
    """
    match = _EVERY.fullmatch(text)
    if not match and re.fullmatch(r"\s*\d+\s*M\s*", text):
        raise UsageError(
            f"{option('every')} {text!r}: months are not supported (they differ in length)",
            hint=f"did you mean {text.strip().replace('M', 'm')!r}, minutes? Or give days: 30d",
        )
    if not match:
        raise UsageError(
            f"{option('every')} {text!r}: not a length of time",
            hint="give a number and a unit: 30m, 1h, 6h, 1d or 1w",
        )
    count, unit = int(match.group(1)), TimeUnit(match.group(2).lower()[0])
    every = Every(count, unit)
    if count < 1:
        raise UsageError(f"{option('every')} {text!r}: must be at least 1{unit.value}")
    if every.seconds > MAX_EVERY_DAYS * _DAY_SECONDS:
        raise UsageError(
            f"{option('every')} {text!r}: longer than {MAX_EVERY_DAYS:,}d (about a century)",
            hint=f"a chunk that long holds the whole input: leave out {option('by')} "
            "for a whole check",
        )
    if every.seconds < _DAY_SECONDS and _DAY_SECONDS % every.seconds:
        raise UsageError(
            f"{option('every')} {text!r}: a length under a day must divide a day, "
            "so that chunks start at the same times every day",
            hint="for example 5m, 10m, 15m, 20m, 30m, 1h, 2h, 3h, 4h, 6h, 8h or 12h",
        )
    if every.seconds > _DAY_SECONDS and every.seconds % _DAY_SECONDS:
        raise UsageError(
            f"{option('every')} {text!r}: a length over a day must be whole days",
            hint="for example 2d, 3d or 1w",
        )
    return every


@dataclass(frozen=True)
class ByTime(Grouping):
    """Chunks of `every` by the time in `column`, aligned to the calendar in `timezone`."""

    column: str
    every: Every
    timezone: str = UTC

    json_keys: ClassVar[tuple[str, ...]] = ("by", "every", "timezone")

    @classmethod
    def parse(cls, by: str | None, every: str | None, timezone: str | None) -> ByTime | None:
        """`--by COLUMN --every 1d [--timezone ZONE]` (None: none of them), or a `UsageError`."""
        if by is None:
            if every is not None or timezone is not None:
                given = option("every") if every is not None else option("timezone")
                raise UsageError(
                    f"{given} needs {option('by')} COLUMN, the column that holds the time"
                )
            return None
        if every is None:
            raise UsageError(
                f"{option('by')} needs {option('every')}, the length of a chunk",
                hint=f"for example {option('every')} 1d",
            )
        return cls(by, parse_every(every), validate_timezone(timezone or UTC))

    def describe(self, groups: int) -> str:
        chunks = f"{groups} chunk{'' if groups == 1 else 's'}"
        return f"{chunks} of {self.every} by {self.column} ({self.timezone})"

    def json_fields(self) -> dict[str, object]:
        return {"by": self.column, "every": str(self.every), "timezone": self.timezone}

    def label(self, index: int, start: Start, years: bool) -> str:
        """The chunk's start: its date, and its time for chunks shorter than a day."""
        begins = datetime.fromisoformat(str(start))
        if self.every.unit.seconds < _DAY_SECONDS:
            return f"{begins:%Y-%m-%d %H:%M}" if years else f"{begins:%m-%d %H:%M}"
        return f"{begins:%Y-%m-%d}"

    def header(self, index: int, start: Start, previous: Start | None, years: bool) -> str:
        """The date (when it changes) over the time, or the year over the date."""
        begins = datetime.fromisoformat(str(start))
        before = datetime.fromisoformat(str(previous)) if previous is not None else None
        year = str(begins.year) if before is None or before.year != begins.year else ""
        if self.every.unit.seconds < _DAY_SECONDS:
            same_day = before is not None and before.date() == begins.date()
            day = "" if same_day else begins.strftime("%m-%d")
            return f"{year}\n{day}\n{begins:%H:%M}" if years else f"{day}\n{begins:%H:%M}"
        return f"{year}\n{begins:%m-%d}"

    def spans_years(self, first: Start, last: Start) -> bool:
        return str(first)[:4] != str(last)[:4]

    @property
    def time_column(self) -> str:
        return self.column


def validate_timezone(name: str) -> str:
    """An IANA time zone name (`Europe/Berlin`, `UTC`), in its own spelling (`utc` is
    `UTC`), or a `UsageError` with the closest names."""
    import zoneinfo  # the standard library's; here, as most checks need no zone

    try:
        zoneinfo.ZoneInfo(name)
        return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    known = sorted(zoneinfo.available_timezones())
    spelt = {zone.casefold(): zone for zone in known}
    if name.strip().casefold() in spelt:
        return spelt[name.strip().casefold()]
    import difflib

    close = difflib.get_close_matches(name.strip().casefold(), list(spelt), n=3)
    guess = f"did you mean {' or '.join(repr(spelt[c]) for c in close)}? " if close else ""
    raise UsageError(
        f"{option('timezone')} {name!r}: not a time zone this machine knows",
        hint=f"{guess}give an IANA name such as UTC, Europe/Berlin or America/New_York",
    )
