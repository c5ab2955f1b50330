"""What a check finds: the result dataclasses shared by the library API and the renderers.

No numpy at run time (the arrays are only annotated), so renderers and the
CLI can import these names cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from driftcli.choices import Kind
from driftcli.errors import option
from driftcli.findings import Move, PValuePart, QualityFinding, Stats
from driftcli.grouping import Grouping
from driftcli.settings import DEFAULT_EVIDENCE, DEFAULT_METRIC, Settings

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
        return self._value_ in _DRIFT_VALUES

    @property
    def judged(self) -> bool:
        """A verdict was reached on the feature (all but `insufficient`)."""
        return self is not Status.INSUFFICIENT


_DRIFT_VALUES = frozenset({"drift", "missing", "type changed"})
"""The statuses that count as drift (a set of strings: a check of many chunks asks often)."""


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
    score_lower: float | None = None
    """How small the AUC could be: one-sided 90% bound (DeLong's standard error)."""
    score_upper: float | None = None
    """How large the AUC could be: one-sided 90% bound."""
    reason: str | None = None
    """Why the status, where the AUC and its bounds alone do not say (as a feature's)."""
    small: bool = False
    """Evident, but even the upper bound is below the threshold (status `ok`)."""

    @property
    def drift(self) -> bool:
        return self.status is Status.DRIFT


@dataclass(frozen=True)
class Decision:
    """The verdict behind the exit code, and the rule that reached it."""

    verdict: Verdict
    rule: str
    """In a sentence; a setting it names is marked (`errors.option`): `errors.plain_names`
    reads it by its name, `errors.flag_names` by its flag, as the CLI's reports do."""

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
    """The test's p-value (scoring/significance.py: G for categories, G combined with
    Anderson-Darling and the smooth test for numbers; KS for ks); None when missing from
    live, or not computed (a chunk where it could not change the status)."""
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
    """Why the status is `uncertain` or `insufficient`, in a sentence; the settings it names
    are marked, as a `Decision.rule`'s."""
    invalid_at: tuple[Location, ...] = ()
    """Where the first invalid live values are."""
    reference_invalid_at: tuple[Location, ...] = ()
    """Where the first invalid reference values are (when known)."""
    noise: float | None = None
    """The score noise alone gives at these counts (expected under no change)."""
    change: float | None = None
    """The score less that noise: the estimated score of the change at large counts,
    what materiality is judged on."""
    change_lower: float | None = None
    """How small the change could be at these counts (a one-sided 90% bound)."""
    change_upper: float | None = None
    """How large the change could be at these counts (a one-sided 90% bound)."""
    p_test: str | None = None
    """What the p-value tested: `g`, `g+anderson-darling+smooth` or `ks`."""
    p_parts: tuple[PValuePart, ...] = ()
    """The statistics a combined p-value comes from (p = min of p / weight)."""
    small: bool = False
    """`ok`, but the change is evident: it is below the threshold, not absent."""
    quality: tuple[QualityFinding, ...] = ()
    moves: tuple[Move, ...] = ()
    """What moved: the buckets adding most to the score, largest first (scoring/explain.py)."""
    stats: Stats | None = None
    """A numeric feature's mean and quantiles on both sides; None for a categorical one."""

    @property
    def drift(self) -> bool:
        return self.status.is_drift

    @property
    def failed_quality(self) -> tuple[QualityFinding, ...]:
        return tuple(q for q in self.quality if q.failed)

    @property
    def fails(self) -> bool:
        """Drift, or a failed data-quality rule: what the check's verdict counts."""
        return self.drift or any(q.failed for q in self.quality)

    @property
    def material(self) -> bool:
        """The change is above the threshold, beyond its error (its lower bound is): without
        evidence, uncertain."""
        return self.change_lower is not None and self.change_lower > self.threshold

    @property
    def may_be_material(self) -> bool:
        """The change could be above the threshold (its upper bound is): with evidence,
        a drift."""
        return self.change_upper is not None and self.change_upper > self.threshold

    @property
    def reference_rows(self) -> int:
        return int(self.reference.sum())

    @property
    def live_rows(self) -> int:
        return int(self.live.sum())

    # The last two buckets are always `missing` and `invalid` (counting/buckets.py);
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


NUMBER_TEXT = (
    "looks numeric, but its values do not read as numbers (a decimal comma needs "
    f"{option('decimal')} ,; thousands separators and units are not read)"
)
"""Why the reference left out a column whose distinct values look like numbers: most
likely numbers written in a way driftcli does not read, which a check warns about."""


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
    """Reference columns that could not be scored, with the reason (settings marked, as a
    `Decision.rule`'s)."""
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

    @property
    def failed(self) -> list[FeatureResult]:
        """Features that drifted or failed a data-quality rule."""
        return [f for f in self.features if f.fails]

    @property
    def deciding_check(self) -> CheckResult:
        """The check the verdict rests on (a chunked or sliced check's differs)."""
        return self

    @property
    def labelled_checks(self) -> list[tuple[str | None, CheckResult]]:
        """The checks alerts and hooks look into, each with its slice's label (None: not
        a slice)."""
        return [(None, self)]


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


def _feature(chunk: ChunkResult, name: str, at: int) -> FeatureResult | None:
    """A feature of a chunk's check, by name; every chunk lists them in the same order,
    so its place `at` (in the first chunk) is tried first."""
    features = chunk.check.features
    if 0 <= at < len(features) and features[at].name == name:
        return features[at]
    return next((f for f in features if f.name == name), None)


@dataclass(frozen=True)
class Timeline:
    """A chunked check: each chunk's check, in order, and the verdict over them.

    The verdict rests on the latest chunk that has one (`deciding`) and is full or
    drifted (a partial chunk that did not drift does not hide the one before it), or, with
    `any_chunk` (--fail-on-any-chunk), is drift when any chunk drifted. The
    HTML report's heatmap reads `series`, its charts `thresholds`.
    """

    chunks: list[ChunkResult]
    chunking: Grouping
    """How the live rows were cut into chunks: renderers ask it how to name and describe
    them."""
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
    def deciding_check(self) -> CheckResult:
        """The latest chunk's check, which the verdict rests on."""
        return self.latest.check

    @property
    def labelled_checks(self) -> list[tuple[str | None, CheckResult]]:
        return [(None, self.latest.check)]

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.chunks[0].check.features] if self.chunks else []

    def _place(self, name: str) -> int:
        names = self.feature_names
        return names.index(name) if name in names else -1

    def series(self, name: str) -> list[float | None]:
        """The feature's change in each chunk, what its threshold is compared with (None
        where it has none)."""
        at = self._place(name)
        found = [_feature(chunk, name, at) for chunk in self.chunks]
        return [None if f is None else f.change for f in found]

    def first_drift(self, name: str) -> ChunkResult | None:
        """The first chunk in which the feature drifted."""
        at = self._place(name)
        for chunk in self.chunks:
            found = _feature(chunk, name, at)
            if found is not None and found.drift:
                return chunk
        return None

    def drifting_since(self, name: str) -> ChunkResult | None:
        """Where the feature's current drift began: the first chunk of the run of drifted
        chunks that reaches its latest verdict (chunks without a verdict on it neither
        break nor start the run); None when it did not drift in its latest verdict.

        Unlike `first_drift`, one chance drift cell days before a real shift (over
        hundreds of chunks, some cell is likely to be one) does not move it."""
        since: ChunkResult | None = None
        at = self._place(name)
        for chunk in reversed(self.chunks):
            found = _feature(chunk, name, at)
            if found is None or not found.status.judged:
                continue
            if not found.drift:
                break
            since = chunk
        return since

    def thresholds(self) -> dict[str, float]:
        """Each feature's threshold (the same in every chunk)."""
        return {f.name: f.threshold for f in self.chunks[0].check.features} if self.chunks else {}
