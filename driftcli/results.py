"""What a check finds: the result dataclasses shared by the library API and the renderers.

No numpy at run time (the arrays are only annotated), so renderers and the
CLI can import these names cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from driftcli.choices import Kind
from driftcli.settings import DEFAULT_EVIDENCE, DEFAULT_METRIC, Chunking, Settings

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


@dataclass(frozen=True)
class Location:
    """Where a row came from: a line of a text input, or a row of a Parquet file."""

    source: str
    number: int
    unit: str = "line"
    """`line`, or `row` where the input has no lines (Parquet)."""

    def __str__(self) -> str:
        if self.unit == "line":
            return f"{self.source}:{self.number}"
        return f"{self.source} row {self.number}"


class Status(StrEnum):
    """A feature's verdict."""

    OK = "ok"
    """The change is below the threshold (or nothing changed)."""
    DRIFT = "drift"
    """The change is above the threshold, and chance cannot explain it."""
    UNCERTAIN = "uncertain"
    """The score is above the threshold, but at these counts it could be chance."""
    INSUFFICIENT = "insufficient"
    """No live window of this size could give evidence (or fewer rows than --min-rows)."""
    MISSING = "missing"
    """The reference column is absent from the live data (counts as drift)."""
    TYPE_CHANGED = "type changed"
    """The live values are of another type than the reference's (counts as drift)."""

    @property
    def is_drift(self) -> bool:
        return self in (Status.DRIFT, Status.MISSING, Status.TYPE_CHANGED)

    @property
    def judged(self) -> bool:
        """A verdict was reached on the feature (all but `insufficient`)."""
        return self is not Status.INSUFFICIENT


class Verdict(StrEnum):
    """The check's answer, behind the exit code."""

    NO_DRIFT = "no drift"
    DRIFT = "drift"
    NO_VERDICT = "no verdict"
    """No feature could be judged: not "no drift"."""


@dataclass(frozen=True)
class JointContributor:
    """A feature that carries the joint drift: the held-out AUC lost when it is shuffled."""

    feature: str
    importance: float


@dataclass(frozen=True)
class JointResult:
    """The joint test of the scored features (scoring/joint.py)."""

    score: float | None
    """The classifier's held-out AUC (0.5: it cannot tell the two apart)."""
    threshold: float
    p_value: float | None
    status: Status
    method: str
    contributors: tuple[JointContributor, ...]
    reference_rows: int
    """Held-out rows a side the AUC was measured on."""
    live_rows: int

    @property
    def drift(self) -> bool:
        return self.status is Status.DRIFT


@dataclass(frozen=True)
class Decision:
    """The verdict behind the exit code, and the rule that reached it."""

    verdict: Verdict
    rule: str

    @property
    def drift(self) -> bool:
        return self.verdict is Verdict.DRIFT


@dataclass(frozen=True)
class FeatureResult:
    """One feature compared: its counts on both sides and the verdict."""

    name: str
    kind: Kind
    status: Status
    score: float | None
    """The metric's score; None when the feature is missing from live."""
    p_value: float | None
    """G-test of homogeneity p-value (KS p-value for ks); None when missing from live."""
    threshold: float
    min_rows: int | None
    """The fewest live rows that could get a verdict; None when no window is enough."""
    labels: tuple[str, ...]
    reference: npt.NDArray[np.int64]
    live: npt.NDArray[np.int64]
    metric: str = DEFAULT_METRIC
    fallback: bool = False
    """Scored with the fallback bucket metric (a numeric-only metric on a categorical feature)."""
    p_adjusted: float | None = None
    """The p-value adjusted across features (with --alpha)."""
    p_method: str | None = None
    """How the p-value was computed: chi-square, monte-carlo, bound or ks."""
    p_bound: bool = False
    """The p-value is an upper bound (Monte Carlo's floor, or the `bound` method)."""
    evidence_level: float = DEFAULT_EVIDENCE
    """What the p-value (adjusted, with --alpha) had to be below."""
    reason: str | None = None
    """Why the status is `uncertain` or `insufficient`, in a sentence."""
    invalid_at: tuple[Location, ...] = ()
    """Where the first invalid live values are."""
    reference_invalid_at: tuple[Location, ...] = ()
    """Where the first invalid reference values are (when known)."""

    @property
    def drift(self) -> bool:
        return self.status.is_drift

    @property
    def material(self) -> bool:
        """The score is above the threshold."""
        return self.score is not None and self.score > self.threshold

    @property
    def reference_rows(self) -> int:
        return int(self.reference.sum())

    @property
    def live_rows(self) -> int:
        return int(self.live.sum())

    # The last two buckets are always `missing` and `invalid` (reference/buckets.py);
    # found by position because a category may itself be called "missing".
    @property
    def reference_missing(self) -> int:
        return int(self.reference[-2])

    @property
    def live_missing(self) -> int:
        return int(self.live[-2])

    @property
    def reference_invalid(self) -> int:
        return int(self.reference[-1])

    @property
    def live_invalid(self) -> int:
        return int(self.live[-1])

    @property
    def value_buckets(self) -> int:
        """Buckets that hold values: all but `missing` and `invalid`."""
        return len(self.labels) - 2


@dataclass(frozen=True)
class SourceInfo:
    """Where one side of a check came from."""

    name: str
    format: str
    rows: int
    skipped_lines: int = 0
    """Malformed lines skipped (with --skip-bad-lines)."""
    first_skipped: tuple[int, ...] = ()
    featureless: int = 0
    """Rows not counted in `rows`: they held none of the reference's features."""
    first_featureless: tuple[Location, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """Everything a check found; renderers turn it into text, the CLI into an exit code."""

    features: list[FeatureResult]
    reference: SourceInfo
    live: SourceInfo
    settings: Settings
    new_columns: list[str] = field(default_factory=list)
    """Live columns the reference does not have: listed, not scored."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Reference columns that could not be scored, with the reason."""
    decision: Decision = Decision(Verdict.NO_DRIFT, "no feature drifted")
    joint: JointResult | None = None
    """The joint test's finding, when asked for (`--joint`)."""

    @property
    def drift(self) -> bool:
        """The verdict behind the exit code."""
        return self.decision.drift

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict

    @property
    def drifted(self) -> list[FeatureResult]:
        return [f for f in self.features if f.drift]


@dataclass(frozen=True)
class UntimedRows:
    """Rows of a chunked check that are in no chunk: their time is missing or unreadable."""

    missing: int = 0
    unreadable: int = 0
    first: tuple[Location, ...] = ()
    """Where the first few of them are."""

    @property
    def count(self) -> int:
        return self.missing + self.unreadable


@dataclass(frozen=True)
class ChunkResult:
    """One chunk of a chunked check, checked as a whole check of its rows would be."""

    index: int
    """Its place among the chunks, from 0, in time (or row) order."""
    start: str | int
    """A time chunk's first instant (ISO 8601, with the time zone's offset), or a row
    chunk's first row (its offset in the input, from 0)."""
    end: str | int
    """Where it ends, exclusive: the next chunk's start, or the offset after its last row."""
    check: CheckResult
    partial: bool = False
    """It holds far fewer rows than its peers (the hour that just began, the last rows of
    a --chunk-rows input): it decides the verdict only if it drifted."""

    @property
    def drift(self) -> bool:
        return self.check.drift

    @property
    def verdict(self) -> Verdict:
        return self.check.verdict

    @property
    def empty(self) -> bool:
        """No row fell in it: a gap in the input between the first chunk and the last."""
        return self.check.live.rows == 0

    @property
    def name(self) -> str:
        """How messages name it: its start, or its rows."""
        if isinstance(self.start, int) and isinstance(self.end, int):
            return f"rows {self.start:,}-{self.end - 1:,}"
        return str(self.start)


@dataclass(frozen=True)
class Timeline:
    """A chunked check: each chunk's check, in order, and the verdict over them.

    The verdict rests on the latest chunk that has one (`deciding`) and is full or
    drifted (a partial chunk that did not drift does not hide the one before it), or, with
    `any_chunk` (--fail-on-any-chunk), is drift when any chunk drifted. The
    HTML report's chart reads `series` and `thresholds`.
    """

    chunks: list[ChunkResult]
    chunking: Chunking
    reference: SourceInfo
    live: SourceInfo
    """The whole live input: every row read, in a chunk or not."""
    settings: Settings
    decision: Decision
    deciding: int | None
    """The index of the chunk the verdict rests on; None when no chunk has a verdict."""
    any_chunk: bool = False
    untimed: UntimedRows = UntimedRows()
    warnings: tuple[str, ...] = ()
    """What the reading of the chunks should tell (a time column that may be no time)."""

    @property
    def drift(self) -> bool:
        return self.decision.drift

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict

    @property
    def latest(self) -> ChunkResult:
        """The chunk the verdict rests on: the latest with a verdict, else the last."""
        return self.chunks[self.deciding if self.deciding is not None else -1]

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.chunks[0].check.features] if self.chunks else []

    def first_drift(self, name: str) -> ChunkResult | None:
        """The first chunk in which the feature drifted."""
        for chunk in self.chunks:
            if any(f.name == name and f.drift for f in chunk.check.features):
                return chunk
        return None

    def drifting_since(self, name: str) -> ChunkResult | None:
        """Where the feature's current drift began: the first chunk of the run of drifted
        chunks that reaches its latest verdict (chunks without a verdict on it neither
        break nor start the run); None when it did not drift in its latest verdict.

        Unlike `first_drift`, one chance drift cell days before a real shift (over
        hundreds of chunks, some cell is likely to be one) does not move it."""
        since: ChunkResult | None = None
        for chunk in reversed(self.chunks):
            found = next((f for f in chunk.check.features if f.name == name), None)
            if found is None or not found.status.judged:
                continue
            if not found.drift:
                break
            since = chunk
        return since

    def series(self, name: str) -> list[float | None]:
        """The feature's score in each chunk (None where it has none)."""
        return [
            next((f.score for f in chunk.check.features if f.name == name), None)
            for chunk in self.chunks
        ]

    def thresholds(self) -> dict[str, float]:
        """Each feature's threshold (the same in every chunk)."""
        return {f.name: f.threshold for f in self.chunks[0].check.features} if self.chunks else {}


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
