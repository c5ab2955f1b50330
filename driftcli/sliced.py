"""What a sliced check finds (`--slice COLUMN`): the whole check, and a check per slice.

Light like `results.py` (no numpy at run time), so renderers and the CLI import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from driftcli.grouping import BySlice
from driftcli.results import CheckResult, Decision, FeatureResult, SourceInfo, Verdict
from driftcli.settings import Settings


class SliceKind(StrEnum):
    """What rows a slice holds."""

    VALUE = "value"
    """The rows of one of the reference's most frequent values of the slice column."""
    MISSING = "missing"
    """The rows without a value in the slice column (among the most frequent)."""
    OTHER = "other"
    """The rows of every other value the reference has (past --max-slices)."""
    NEW = "new"
    """The rows of a value the reference never had: counted, not checked."""


class SliceState(StrEnum):
    """Whether a slice could be checked."""

    CHECKED = "checked"
    """Rows on both sides: checked as a whole check of its rows."""
    NEW = "new in live"
    """Live rows only: the reference has no rows to compare them with."""
    ABSENT = "absent from live"
    """Reference rows only: no live row fell in it."""


@dataclass(frozen=True)
class SliceResult:
    """One slice of a sliced check."""

    value: str | None
    """The slice column's value (None: the missing value, `other`)."""
    kind: SliceKind
    rows: int
    """Live rows in it."""
    reference_rows: int
    check: CheckResult | None = None
    """Its check (features scored against the reference's rows of the slice); None when it
    has rows on one side only."""

    @property
    def state(self) -> SliceState:
        if self.check is not None:
            return SliceState.CHECKED
        return SliceState.NEW if self.reference_rows == 0 else SliceState.ABSENT

    @property
    def label(self) -> str:
        """How outputs name it: the value, or `(missing)`, `(other)`."""
        if self.kind in (SliceKind.VALUE, SliceKind.NEW) and self.value is not None:
            return self.value
        return "(missing)" if self.kind in (SliceKind.MISSING, SliceKind.NEW) else "(other)"

    @property
    def drift(self) -> bool:
        return self.check is not None and self.check.drift

    @property
    def verdict(self) -> Verdict | None:
        """Its check's verdict; None when it could not be checked."""
        return None if self.check is None else self.check.verdict

    def feature(self, name: str) -> FeatureResult | None:
        if self.check is None:
            return None
        return next((f for f in self.check.features if f.name == name), None)


@dataclass(frozen=True)
class SlicedCheck:
    """A check of the whole live data, and of each slice of it, with the verdict over both.

    The verdict is drift when the whole check drifted or any slice did (a slice's
    features judged at `evidence_level`, the evidence level shared out over every
    slice and feature checked: docs/slices.md).
    """

    whole: CheckResult
    slicing: BySlice
    slices: list[SliceResult]
    decision: Decision
    evidence_level: float
    """What a p-value of a slice's feature had to be below (without --alpha)."""
    new_values: int = 0
    """Distinct live values the reference never had (each a slice `new in live`; only
    the first few are listed in `slices`)."""

    @property
    def drift(self) -> bool:
        return self.decision.drift

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict

    @property
    def live(self) -> SourceInfo:
        return self.whole.live

    @property
    def reference(self) -> SourceInfo:
        return self.whole.reference

    @property
    def settings(self) -> Settings:
        return self.whole.settings

    @property
    def checked(self) -> list[SliceResult]:
        return [s for s in self.slices if s.check is not None]

    @property
    def drifted(self) -> list[SliceResult]:
        return [s for s in self.slices if s.drift]

    @property
    def deciding_check(self) -> CheckResult:
        """The whole check: what the metrics report as the check."""
        return self.whole

    @property
    def labelled_checks(self) -> list[tuple[str | None, CheckResult]]:
        """The whole check, then each checked slice's, labelled as outputs name it."""
        return [(None, self.whole), *((s.label, s.check) for s in self.checked if s.check)]

    @property
    def feature_names(self) -> list[str]:
        """The features a slice is checked on (the slice column is not one)."""
        for s in self.checked:
            return [f.name for f in s.check.features] if s.check else []
        return [f.name for f in self.whole.features if f.name != self.slicing.column]
