"""Timestamps as driftcli records them (snapshots, store segments, the history): UTC, to the
second; and the instants chunks start at, in their time zone."""

from __future__ import annotations

from datetime import UTC, datetime


def now_utc() -> str:
    """Now, in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def iso_in_zone(seconds: int, zone: str) -> str:
    """An instant (seconds since 1970) in ISO 8601, in the zone's local time with its offset."""
    import zoneinfo  # only chunked checks name instants in a zone

    moment = datetime.fromtimestamp(seconds, UTC).astimezone(zoneinfo.ZoneInfo(zone))
    return moment.isoformat(timespec="seconds")
