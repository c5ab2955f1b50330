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

from driftcli.errors import flag_names
from driftcli.findings import QualityStatus
from driftcli.output.joint import joint_line
from driftcli.output.moves import MOVED_MARK, explained
from driftcli.output.notes import check_notes
from driftcli.output.sparklines import sparklines
from driftcli.output.texts import format_p_value, percent, plural, shown
from driftcli.results import CheckResult, FeatureResult, Status, Verdict
from driftcli.view import DEFAULT_VIEW, View

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

_OPTIONAL = ("histogram", "kind", "p-value", "missing", "rows")
"""The columns a narrow terminal leaves out, first to go first."""


def render_table(result: CheckResult, view: View = DEFAULT_VIEW) -> RenderableType:
    """A table with one row per feature (in the view's order), a summary line, and notes,
    fitted to the width it is printed at: one line per feature where it fits, two
    (reference over live) where not; the feature name is never cut (a long one wraps);
    the histogram, then the kind, the p-value and the other optional columns are left
    out where they do not fit. Under a drifted or uncertain feature, what moved."""
    features, hidden = view.arrange(result.features)
    rest = [Text(f"{plural(hidden, 'other feature')} passed (--only-failing)", style="dim")]
    joint = [] if result.joint is None else [Text(joint_line(result.joint))]
    return Group(
        _title(result),
        _FittedTable(result, features),
        *(rest if hidden else []),
        *joint,
        _summary(result),
        *_notes(result),
    )


class _FittedTable:
    """The features' table, laid out for the console's width when it is printed."""

    def __init__(self, result: CheckResult, features: list[FeatureResult]) -> None:
        self.result = result
        self.features = features
        self.shared_rows = shared_rows(result) is not None
        names = [cell_len(shown(f.name)) for f in features]
        moved = [cell_len(line) for f in features for line in _moved_line(f).splitlines()]
        # The column takes at most what moved on one line; it gets at least
        # _NAME_ROOM of it before optional columns go, so the line wraps little.
        self.longest = max([len("feature"), *names, *moved])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        need = min(self.longest, _NAME_ROOM)
        always = ["rows"] if self.shared_rows else []
        # Fewer columns left out first; with as many, one line per feature before two.
        layouts = [
            (one_line, list(_OPTIONAL[:count]))
            for count in range(len(_OPTIONAL) + 1)
            for one_line in (True, False)
        ]
        for one_line, left_out in layouts:
            table = self._table(one_line, [*left_out, *always], need)
            spare = width - _measure(console, options, table)
            if spare >= 0:
                break
        # Whatever room is left goes to the names, up to the longest.
        name_width = max(1, min(self.longest, need + spare))
        yield self._table(one_line, [*left_out, *always], name_width)
        if left_out:
            yield Text(f"left out to fit {width} columns: {', '.join(left_out)}", style="dim")

    def _table(self, one_line: bool, left_out: list[str], name_width: int) -> Table:
        table = Table(show_lines=not one_line, expand=False)
        adjusted = self.result.settings.alpha is not None
        cut = " " if one_line else "\n"
        columns: dict[str, tuple[str, Callable[[FeatureResult], RenderableType]]] = {
            "kind": ("kind", lambda f: f.kind.value),
            "rows": (
                f"rows{cut}ref → live",
                lambda f: f"{f.reference_rows:,}{' → ' if one_line else cut}{f.live_rows:,}",
            ),
            "missing": (f"missing{cut}ref → live", lambda f: _missing_cell(f, one_line)),
            "score": (
                "change of score" if one_line else "change\nof score\nmetric > limit",
                _score_cell(one_line),
            ),
            "p-value": (
                "p-value" + (f"{cut}(adjusted)" if adjusted else ""),
                lambda f: _p_cell(f, cut),
            ),
            "status": ("status", lambda f: _status_cell(f, one_line)),
            "histogram": (f"histogram{cut}ref / live", lambda f: _histograms(f, one_line)),
        }
        kept = {key: column for key, column in columns.items() if key not in left_out}
        table.add_column("feature", width=name_width, overflow="fold")
        for key, (header, _) in kept.items():
            table.add_column(header, justify="right" if key in _RIGHT else "left", no_wrap=True)
        for f in self.features:
            table.add_row(_name_cell(f), *(cell(f) for _, cell in kept.values()))
        return table


def _name_cell(f: FeatureResult) -> Text:
    """The name, and under a drifted or uncertain feature's, what moved (dim)."""
    name = Text(shown(f.name), overflow="fold")
    moved = _moved_line(f)
    if moved:
        name.append("\n" + moved, style="dim")
    return name


def _moved_line(f: FeatureResult) -> str:
    """`↳ >= 120,000: 5.0% -> 38.4%`, and the median move on a line of its own."""
    words = explained(f)
    return f"{MOVED_MARK} {words.replace('; ', chr(10) + '  ')}" if words else ""


def shared_rows(result: CheckResult) -> tuple[int, int] | None:
    """The reference and live row counts, when every feature has the same."""
    counts = {(f.reference_rows, f.live_rows) for f in result.features}
    return counts.pop() if len(counts) == 1 else None


_RIGHT = frozenset({"rows", "missing", "score", "p-value"})


def _measure(console: Console, options: ConsoleOptions, table: Table) -> int:
    return Measurement.get(console, options.update(max_width=1 << 16), table).maximum


def _missing_cell(f: FeatureResult, one_line: bool) -> str:
    ref, live = (f.reference_missing, f.reference_rows), (f.live_missing, f.live_rows)
    return f"{percent(*ref)}{' → ' if one_line else chr(10)}{percent(*live)}"


def _score_cell(one_line: bool) -> Callable[[FeatureResult], Text]:
    """The change judged, the raw score it comes from, and the limit."""

    def cell(f: FeatureResult) -> Text:
        text = Text("—" if f.change is None else f"{f.change:.3f}")
        raw = "—" if f.score is None else f"{f.score:.3f}"
        limit = f"{f.metric}{'*' if f.fallback else ''} > {f.threshold:g}"
        text.append(f" of {raw} {limit}" if one_line else f"\nof {raw}\n{limit}", style="dim")
        return text

    return cell


_QUALITY_STYLE = {QualityStatus.FAIL: "bold red", QualityStatus.SMALL: "yellow"}


def _status_cell(f: FeatureResult, one_line: bool) -> Text:
    """The drift status (`ok, small` for an evident change below the limit), then each
    data-quality rule that did not come out ok."""
    text = Text(f.status.value, style=STATUS_STYLE[f.status])
    if f.small:
        text.append(", small", style="yellow")
    for q in f.quality:
        if q.status is not QualityStatus.OK:
            text.append(", " if one_line else "\n")
            text.append(f"{q.rule.value} {q.status.value}", style=_QUALITY_STYLE[q.status])
    return text


def _p_cell(f: FeatureResult, cut: str) -> str:
    if f.p_value is None:
        return "—"
    if f.p_adjusted is None:
        return format_p_value(f.p_value, f.p_bound)
    return f"{format_p_value(f.p_value, f.p_bound)}{cut}({format_p_value(f.p_adjusted, f.p_bound)})"


def _title(result: CheckResult) -> Text:
    """The inputs and their rows: the features' own counts when they all share them."""
    # Text, not str: rich would read "[...]" in a path or name as markup.
    live, ref = result.live, result.reference
    ref_rows, live_rows = shared_rows(result) or (ref.rows, live.rows)
    return Text(
        f"driftcli: {shown(live.name)} ({plural(live_rows, 'row')}) vs reference "
        f"{shown(ref.name)} ({plural(ref_rows, 'row')})"
    )


def _histograms(f: FeatureResult, one_line: bool) -> Text:
    """Ref and live shares of each value bucket, drawn on one scale."""
    if f.status is Status.MISSING:
        return Text("(not in live)", style="dim")
    ref, live = sparklines(f)
    text = Text()
    text.append(ref, style="cyan")
    text.append(" " if one_line else "\n")
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
    quality = [f for f in result.features if f.failed_quality]
    if quality:
        rules = ", ".join(
            f"{shown(f.name)} ({', '.join(q.rule.value for q in f.failed_quality)})"
            for f in quality
        )
        counted += f"; {len(quality)} failed a data-quality rule: {rules}"
    drifted = result.failed
    decided = shown(flag_names(result.decision.rule))
    rule = f" [{decided}]" if _rule_worth_saying(result) else ""
    if result.verdict is Verdict.NO_VERDICT:
        return Text.assemble(("NO VERDICT", "bold yellow"), f": {decided}")
    if result.drift:
        return Text.assemble(("DRIFT", "bold red"), f": {counted}{tail}{rule}")
    if drifted:
        return Text.assemble(("no drift", "bold green"), f" by the rule: {counted}{tail}{rule}")
    return Text.assemble(
        ("no drift", "bold green"), f": {plural(checked, 'feature')} checked{tail}"
    )


def _unjudged(result: CheckResult) -> str:
    """ " (2 uncertain, 1 small, 1 with too few live rows)", or nothing."""
    uncertain = sum(f.status is Status.UNCERTAIN for f in result.features)
    small = sum(f.small for f in result.features)
    insufficient = sum(f.status is Status.INSUFFICIENT for f in result.features)
    parts = [f"{uncertain} uncertain"] if uncertain else []
    if small:
        parts.append(f"{small} small")
    if insufficient:
        parts.append(f"{insufficient} with too few live rows for a verdict")
    return f" ({', '.join(parts)})" if parts else ""


def _rule_worth_saying(result: CheckResult) -> bool:
    settings = result.settings
    return bool(settings.fail_on) or settings.max_drift_share is not None


def _notes(result: CheckResult) -> list[Text]:
    said = check_notes(result)
    notes = [note for f in said.features for note in f.named()]
    if said.scored_apart:
        notes.append(f"* {said.scored_apart}")
    notes += said.columns()
    return [Text(shown(note), style="dim") for note in notes]
