"""Timestamps as driftcli records them (snapshots, store segments): UTC, to the second."""

from __future__ import annotations

from datetime import datetime, timezone


def now_utc() -> str:
    """Now, in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
