"""The notes under a check, worded once: what each feature's verdict leaves unsaid (why it
has none, a changed type, data quality, unreadable values) and the columns not scored.
Each format lays them out its own way (a list, a card per feature, code spans)."""

from __future__ import annotations

from dataclasses import dataclass

from driftcli.output.lines import invalid_notes
from driftcli.output.texts import quality_notes
from driftcli.results import CheckResult, FeatureResult, Status
from driftcli.scoring.metrics import FALLBACK_METRIC


@dataclass(frozen=True)
class FeatureNotes:
    """A feature's notes, each without the feature's name unless it says so."""

    name: str
    reason: str | None
    """Why its status is what it is (`insufficient: 12 live rows ...`)."""
    type_changed: str | None
    quality: list[str]
    """Its data-quality rules that did not come out ok, each naming the feature."""
    invalid: list[str]
    """Values that do not read as its type, per side, each naming the feature."""

    def named(self) -> list[str]:
        """Its reason, changed type and data quality, each beginning with its name."""
        said = [self.reason, self.type_changed]
        return [f"{self.name}: {note}" for note in said if note] + self.quality


@dataclass(frozen=True)
class CheckNotes:
    """Every note under a check."""

    features: list[FeatureNotes]
    scored_apart: str | None
    """`categorical, scored with psi (kl needs numbers): country`."""
    new_columns: list[str]
    skipped: list[tuple[str, str]]
    """Reference columns not scored, and why."""

    def columns(self) -> list[str]:
        """The columns not scored, one line for the new ones and one per skipped."""
        new = ["new in live, not scored: " + ", ".join(self.new_columns)]
        skipped = [f"not scored: {name}: {why}" for name, why in self.skipped]
        return (new if self.new_columns else []) + skipped


def feature_notes(f: FeatureResult) -> FeatureNotes:
    return FeatureNotes(
        f.name,
        f"{f.status.value}: {f.reason}" if f.reason else None,
        "the live values are not of the reference's type"
        if f.status is Status.TYPE_CHANGED
        else None,
        quality_notes(f),
        invalid_notes(f),
    )


def check_notes(result: CheckResult) -> CheckNotes:
    fallbacks = [f.name for f in result.features if f.fallback]
    apart = (
        f"categorical, scored with {FALLBACK_METRIC} ({result.settings.metric} needs "
        "numbers): " + ", ".join(fallbacks)
        if fallbacks
        else None
    )
    return CheckNotes(
        [feature_notes(f) for f in result.features],
        apart,
        list(result.new_columns),
        list(result.skipped.items()),
    )
