"""The check as a rich table for people: a row per feature, a summary line, notes.

Renderers return a rich renderable; they never print and never decide the
exit code.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from driftcli.output.joint import joint_line
from driftcli.output.sparklines import sparklines
from driftcli.output.texts import format_p_value, percent, plural, shown
from driftcli.results import CheckResult, FeatureResult, Status, Verdict
from driftcli.scoring.metrics import FALLBACK_METRIC

STATUS_STYLE = {
    Status.OK: "green",
    Status.DRIFT: "bold red",
    Status.UNCERTAIN: "yellow",
    Status.INSUFFICIENT: "yellow",
    Status.MISSING: "bold red",
    Status.TYPE_CHANGED: "bold red",
}


_NAME_ROOM = 24
"""A name longer than this may wrap before any more columns are left out."""

_OPTIONAL = ("histogram", "p-value", "kind", "missing", "rows")
"""The columns a narrow terminal leaves out, first to go first."""


def render_table(result: CheckResult) -> RenderableType:
    """A table with one row per feature, a summary line, and notes, fitted to the width
    it is printed at: the feature name is never cut (a long one wraps); the histogram,
    then the p-value, then the other optional columns are left out where they do not fit."""
    joint = [] if result.joint is None else [Text(joint_line(result.joint))]
    return Group(_title(result), _FittedTable(result), *joint, _summary(result), *_notes(result))


class _FittedTable:
    """The features' table, laid out for the console's width when it is printed."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        names = [cell_len(shown(f.name)) for f in result.features]
        self.longest = max([len("feature"), *names])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        need = min(self.longest, _NAME_ROOM)
        left_out: list[str] = []
        for count in range(len(_OPTIONAL) + 1):
            left_out = list(_OPTIONAL[:count])
            spare = width - _measure(console, options, self._table(left_out, need))
            if spare >= 0:
                break
        # Whatever room is left goes to the names, up to the longest.
        name_width = max(1, min(self.longest, need + spare))
        yield self._table(left_out, name_width)
        if left_out:
            yield Text(f"left out to fit {width} columns: {', '.join(left_out)}", style="dim")

    def _table(self, left_out: list[str], name_width: int) -> Table:
        result = self.result
        table = Table(show_lines=True, expand=False)
        adjusted = result.settings.alpha is not None
        columns: dict[str, tuple[str, Callable[[FeatureResult], RenderableType]]] = {
            "kind": ("kind", lambda f: f.kind.value),
            "rows": ("rows\nref → live", lambda f: f"{f.reference_rows:,}\n{f.live_rows:,}"),
            "missing": ("missing\nref → live", _missing_cell),
            "score": ("score\nmetric > limit", _score_cell),
            "p-value": ("p-value\n(adjusted)" if adjusted else "p-value", _p_cell),
            "status": ("status", lambda f: Text(f.status.value, style=STATUS_STYLE[f.status])),
            "histogram": ("histogram\nref / live", _histograms),
        }
        kept = {key: column for key, column in columns.items() if key not in left_out}
        table.add_column("feature", width=name_width, overflow="fold")
        for key, (header, _) in kept.items():
            table.add_column(header, justify="right" if key in _RIGHT else "left", no_wrap=True)
        for f in result.features:
            name = Text(shown(f.name), overflow="fold")
            table.add_row(name, *(cell(f) for _, cell in kept.values()))
        return table


_RIGHT = frozenset({"rows", "missing", "score", "p-value"})


def _measure(console: Console, options: ConsoleOptions, table: Table) -> int:
    return Measurement.get(console, options.update(max_width=1 << 16), table).maximum


def _missing_cell(f: FeatureResult) -> str:
    ref, live = (f.reference_missing, f.reference_rows), (f.live_missing, f.live_rows)
    return f"{percent(*ref)}\n{percent(*live)}"


def _score_cell(f: FeatureResult) -> Text:
    text = Text("—" if f.score is None else f"{f.score:.3f}")
    text.append(f"\n{f.metric}{'*' if f.fallback else ''} > {f.threshold:g}", style="dim")
    return text


def _p_cell(f: FeatureResult) -> str:
    if f.p_value is None:
        return "—"
    if f.p_adjusted is None:
        return format_p_value(f.p_value, f.p_bound)
    return f"{format_p_value(f.p_value, f.p_bound)}\n({format_p_value(f.p_adjusted, f.p_bound)})"


def _title(result: CheckResult) -> Text:
    # Text, not str: rich would read "[...]" in a path or name as markup.
    live, ref = result.live, result.reference
    return Text(
        f"driftcli: {shown(live.name)} ({plural(live.rows, 'row')}) vs reference "
        f"{shown(ref.name)} ({plural(ref.rows, 'row')})"
    )


def _histograms(f: FeatureResult) -> Text:
    """Ref and live shares of each value bucket, drawn on one scale."""
    if f.status is Status.MISSING:
        return Text("(not in live)", style="dim")
    ref, live = sparklines(f)
    text = Text()
    text.append(ref, style="cyan")
    text.append("\n")
    text.append(live, style="magenta")
    return text


def _summary(result: CheckResult) -> Text:
    drifted = result.drifted
    checked = len(result.features)
    tail = _unjudged(result)
    names = ", ".join(f"{shown(f.name)} ({f.status.value})" for f in drifted)
    counted = f"{len(drifted)} of {plural(checked, 'feature')} drifted" + (
        f": {names}" if names else ""
    )
    rule = f" [{shown(result.decision.rule)}]" if _rule_worth_saying(result) else ""
    if result.verdict is Verdict.NO_VERDICT:
        return Text.assemble(("NO VERDICT", "bold yellow"), f": {shown(result.decision.rule)}")
    if result.drift:
        return Text.assemble(("DRIFT", "bold red"), f": {counted}{tail}{rule}")
    if drifted:
        return Text.assemble(("no drift", "bold green"), f" by the rule: {counted}{tail}{rule}")
    return Text.assemble(
        ("no drift", "bold green"), f": {plural(checked, 'feature')} checked{tail}"
    )


def _unjudged(result: CheckResult) -> str:
    """ " (2 uncertain, 1 with too few live rows)", or nothing."""
    uncertain = sum(f.status is Status.UNCERTAIN for f in result.features)
    insufficient = sum(f.status is Status.INSUFFICIENT for f in result.features)
    parts = [f"{uncertain} uncertain"] if uncertain else []
    if insufficient:
        parts.append(f"{insufficient} with too few live rows for a verdict")
    return f" ({', '.join(parts)})" if parts else ""


def _rule_worth_saying(result: CheckResult) -> bool:
    settings = result.settings
    return bool(settings.fail_on) or settings.max_drift_share is not None


def _notes(result: CheckResult) -> list[Text]:
    notes: list[str] = []
    for f in result.features:
        if f.status in (Status.UNCERTAIN, Status.INSUFFICIENT) and f.reason:
            notes.append(f"{f.name}: {f.status.value}: {f.reason}")
        if f.status is Status.TYPE_CHANGED:
            notes.append(f"{f.name}: the live values are not of the reference's type")
    fallbacks = [f.name for f in result.features if f.fallback]
    if fallbacks:
        notes.append(
            f"* categorical, scored with {FALLBACK_METRIC} ({result.settings.metric} needs "
            "numbers): " + ", ".join(fallbacks)
        )
    if result.new_columns:
        notes.append("new in live, not scored: " + ", ".join(result.new_columns))
    for name, why in result.skipped.items():
        notes.append(f"not scored: {name}: {why}")
    return [Text(shown(note), style="dim") for note in notes]
