"""How a check groups its live rows: one module per rule, registered here.

Each rule is a `Grouping` (`base.py`): it parses its options, describes itself, names
its groups, gives its JSON fields and says which engines it runs on; its counter in
`counting/` assigns rows to groups in the check's one pass and returns every group.
Renderers and the CLI ask the grouping, never which kind it is.
"""

from __future__ import annotations

from driftcli.grouping.base import Grouping, Start
from driftcli.grouping.rows import ByRows
from driftcli.grouping.slices import DEFAULT_MAX_SLICES, MAX_SLICES, BySlice, slicing_of
from driftcli.grouping.time import (
    MAX_EVERY_DAYS,
    UTC,
    ByTime,
    Every,
    parse_every,
    validate_timezone,
)

Chunking = ByTime | ByRows
"""How a chunked check cuts its live data: by time, or by rows (a line per rule)."""

CHUNKINGS: tuple[type[Grouping], ...] = (ByTime, ByRows)
"""The chunk groupings, in the order the JSON report lists their fields."""

CHUNKING_KEYS = tuple(key for rule in CHUNKINGS for key in rule.json_keys)
"""Every chunk grouping's JSON fields: a chunked check's report has them all, those of
other rules null, so a reader finds the same keys whichever rule cut the chunks."""


def chunking_of(
    by: str | None, every: str | None, timezone: str | None, chunk_rows: int | None
) -> Chunking | None:
    """The chunking the options ask for (None: a whole check), or a `UsageError`."""
    if chunk_rows is not None:
        return ByRows.parse(chunk_rows, by, every, timezone)
    return ByTime.parse(by, every, timezone)


__all__ = [
    "CHUNKINGS",
    "CHUNKING_KEYS",
    "DEFAULT_MAX_SLICES",
    "MAX_EVERY_DAYS",
    "MAX_SLICES",
    "UTC",
    "ByRows",
    "BySlice",
    "ByTime",
    "Chunking",
    "Every",
    "Grouping",
    "Start",
    "chunking_of",
    "parse_every",
    "slicing_of",
    "validate_timezone",
]
