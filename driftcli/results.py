"""What a check finds: the result dataclasses shared by the core and the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt

from driftcli.formats import Correction
from driftcli.metrics import DEFAULT_SMOOTHING
from driftcli.profile import DEFAULT_BINS, DEFAULT_MAX_CATEGORIES, Kind
from driftcli.significance import DEFAULT_EVIDENCE
from driftcli.text_formats import Location

DEFAULT_METRIC = "kl"


class Status(str, Enum):
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


@dataclass(frozen=True)
class FeatureSettings:
    """Per-feature overrides from the config file; None keeps the global setting."""

    threshold: float | None = None
    metric: str | None = None
    kind: Kind | None = None
    bins: int | None = None
    exclude: bool = False


@dataclass(frozen=True)
class Settings:
    """The settings a check ran with; reported beside its results."""

    threshold: float | None = None
    """None: each metric's own default threshold."""
    bins: int = DEFAULT_BINS
    max_categories: int = DEFAULT_MAX_CATEGORIES
    min_rows: int | None = None
    """Fixed minimum live rows for a verdict; None: any window that could give evidence."""
    evidence: float = DEFAULT_EVIDENCE
    """A drift needs a p-value below this (without --alpha)."""
    smoothing: float = DEFAULT_SMOOTHING
    features: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    metric: str = DEFAULT_METRIC
    alpha: float | None = None
    """Evidence across features instead: adjusted p-value at or below alpha."""
    correction: Correction = Correction.HOLM
    max_drift_share: float | None = None
    """Fail only when more than this share of the scored features drift."""
    fail_on: tuple[str, ...] = ()
    """Features whose drift always fails the check."""
    overrides: tuple[tuple[str, FeatureSettings], ...] = ()
    skip_bad_lines: bool = False
    """Count and skip malformed input lines instead of stopping at the first."""

    def for_feature(self, name: str) -> FeatureSettings:
        for key, value in self.overrides:
            if key == name:
                return value
        return FeatureSettings()

    def excluded(self) -> tuple[str, ...]:
        """--exclude plus the features the config excludes."""
        return self.exclude + tuple(name for name, o in self.overrides if o.exclude)


DEFAULT_SETTINGS = Settings()


class Verdict(str, Enum):
    """The check's answer, behind the exit code."""

    NO_DRIFT = "no drift"
    DRIFT = "drift"
    NO_VERDICT = "no verdict"
    """No feature could be judged: not "no drift"."""


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
    """How the p-value was computed: chi-square, monte-carlo or ks."""
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

    # The last two buckets are always `missing` and `invalid` (see profile.py);
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
