"""The notes under a check, worded once: what each feature's verdict leaves unsaid (why it
has none, a changed type, data quality, unreadable values) and the columns not scored;
under a sliced check's matrix, the slices not checked and the evidence rule.
Each format lays them out its own way (a list, a card per feature, code spans)."""

from __future__ import annotations

from dataclasses import dataclass

from driftcli.errors import flag_names
from driftcli.output.lines import invalid_notes
from driftcli.output.moves import MOVED_MARK, slice_moves
from driftcli.output.texts import plural, quality_notes
from driftcli.results import CheckResult, FeatureResult, Status
from driftcli.scoring.metrics import FALLBACK_METRIC
from driftcli.sliced import SlicedCheck, SliceState


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
        f"{f.status.value}: {flag_names(f.reason)}" if f.reason else None,
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
        [(name, flag_names(why)) for name, why in result.skipped.items()],
    )


def slice_notes(result: SlicedCheck) -> list[str]:
    """What every format says under the slices: those not checked, what moved in the cells
    that drifted, and the evidence rule."""
    notes = []
    absent = [s for s in result.slices if s.state is SliceState.ABSENT]
    new = [s for s in result.slices if s.state is SliceState.NEW]
    if absent:
        listed = ", ".join(f"{s.label} ({s.reference_rows:,} reference rows)" for s in absent)
        notes.append(f"absent from live (no live row): {listed}")
    if new:
        listed = ", ".join(f"{s.label} ({plural(s.rows, 'row')})" for s in new)
        more = result.new_values - len(new)
        extra = f" and {more:,} more" if more > 0 else ""
        notes.append(f"new in live (the reference has none, not checked): {listed}{extra}")
    notes += [f"{MOVED_MARK} {moved}" for moved in slice_moves(result)]
    checked = len(result.checked)
    features = len(result.feature_names)
    if result.settings.alpha is None:
        notes.append(
            f"evidence per slice and feature: p < {result.evidence_level:.2g}, the evidence "
            f"level {result.settings.evidence:g} shared out over {checked} slice"
            f"{'' if checked == 1 else 's'} x {plural(features, 'feature')}"
        )
    else:
        notes.append(
            f"evidence per slice: --alpha {result.settings.alpha:g} shared out over "
            f"{plural(checked, 'slice')}, adjusted across each slice's features"
        )
    return notes


def slice_cell(f: FeatureResult | None) -> str:
    """A slice's feature in a cell: its change, and its status where it is not ok."""
    if f is None:
        return "—"
    if f.change is None or f.status is Status.INSUFFICIENT:
        return f.status.value
    text = f"{f.change:.3f}"
    return text if f.status is Status.OK else f"{text} ({f.status.value})"
