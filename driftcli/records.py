"""What the store's commands report: the checks its history records, an ingest, and
what a store holds (`driftcli status`).

No numpy, so renderers and the CLI can import these names cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from driftcli.results import Location, SourceInfo, Status, Verdict


class CheckedBy(StrEnum):
    """Which command made a check the store's history records."""

    CHECK = "check"
    INGEST = "ingest"


@dataclass(frozen=True)
class RecordedFeature:
    """One feature of a recorded check."""

    name: str
    status: Status
    score: float | None
    p_value: float | None
    threshold: float
    metric: str

    @property
    def drift(self) -> bool:
        return self.status.is_drift


@dataclass(frozen=True)
class CheckRecord:
    """One check of a stored window, as the store's history keeps it."""

    time: str
    """When it ran, ISO 8601 in UTC."""
    window: str
    rows: int
    reference_id: str
    """The stored reference's fingerprint: it changes when the reference does."""
    checked_by: CheckedBy
    verdict: Verdict
    features: tuple[RecordedFeature, ...]

    @property
    def drift(self) -> bool:
        return self.verdict is Verdict.DRIFT


@dataclass(frozen=True)
class CheckHistory:
    """The checks the store's history holds (those asked for), oldest first."""

    store: str
    checks: list[CheckRecord]
    keep: int
    """How many checks the history keeps."""


@dataclass
class IngestReport:
    """What an ingest did."""

    rows_read: int = 0
    rows_stored: int = 0
    window_rows: int = 0
    flushes: int = 0
    checks: int = 0
    skipped_lines: int = 0
    """Bad lines skipped (with --skip-bad-lines)."""
    first_skipped: tuple[int, ...] = ()
    source: str = ""
    """The input's name."""
    featureless: int = 0
    """Rows not stored: they held none of the reference's features."""
    first_featureless: tuple[Location, ...] = ()
    lacking: tuple[str, ...] = ()
    """Reference features no stored row held a value of (stored as missing)."""
    check_seconds: float = 0.0
    """How long the latest --check-every check took."""


@dataclass(frozen=True)
class WindowStatus:
    """One live window, as `driftcli status` shows it."""

    name: str
    rows: int
    max_rows: int
    segments: int
    first_ingested: str | None
    last_ingested: str | None


@dataclass(frozen=True)
class ReferenceStatus:
    """The stored reference, as `driftcli status` shows it."""

    source: SourceInfo
    created: str
    features: int
    sample_rows: int
    reference_id: str
    tool_version: str


@dataclass(frozen=True)
class StoreStatus:
    """What a store holds."""

    root: str
    reference: ReferenceStatus | None
    windows: list[WindowStatus]
