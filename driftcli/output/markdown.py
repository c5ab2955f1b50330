"""A GitHub-flavoured Markdown report, for pull requests and the CI job summary."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from driftcli.errors import flag_names
from driftcli.findings import QualityStatus
from driftcli.output.joint import joint_line
from driftcli.output.lines import empty_note, untimed_note
from driftcli.output.moves import MOVED_MARK, explained, latest_moves
from driftcli.output.notes import check_notes, slice_cell, slice_notes
from driftcli.output.sparklines import sparklines
from driftcli.output.texts import (
    chunk_label,
    describe_chunks,
    format_p_value,
    percent,
    plural,
    shown,
)
from driftcli.results import CheckResult, FeatureResult, Status, Timeline, Verdict
from driftcli.sliced import SlicedCheck
from driftcli.view import DEFAULT_VIEW, View

if TYPE_CHECKING:
    from driftcli.report import Renderer

MARKDOWN_CHUNKS = 24
"""The latest chunks a Markdown report shows (a pull request's page is not a spreadsheet)."""


_PUNCTUATION = re.compile(r"([\\`*_\[\]<>#|~&])")
"""What Markdown or HTML acts on within a line (brackets escaped, no link can form)."""


def _cell(text: str) -> str:
    """Plain text in Markdown, shown as it is: control characters escaped, every
    character Markdown or HTML would act on (`*`, `_`, `<`, `|`...) backslash-escaped,
    no line breaks. Names are data: `<script>` or `*x*` must not render."""
    return _PUNCTUATION.sub(r"\\\1", shown(text).replace("\n", " "))


def _code(text: str, in_table: bool = False) -> str:
    """Text as inline code: no escape works inside a code span, so the fence is one
    backtick longer than the longest run in the text; in a table, pipes are still
    escaped (GitHub splits the row before it reads the span)."""
    body = shown(text).replace("\n", " ")
    if in_table:
        body = body.replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {body} " if body.startswith("`") or body.endswith("`") else body
    return f"{fence}{padded}{fence}"


def render_markdown(result: CheckResult, view: View = DEFAULT_VIEW) -> str:
    """A GitHub-flavoured Markdown report: a heading with the verdict, a table with a
    histogram per feature (in the view's order) and what moved, and notes."""
    drifted = len(result.drifted)
    verdict = {Verdict.DRIFT: "DRIFT", Verdict.NO_DRIFT: "no drift"}.get(
        result.verdict, "no verdict"
    )
    live, ref = result.live, result.reference
    decided = flag_names(result.decision.rule)
    lines = [
        f"### driftcli: {verdict} ({drifted} of {plural(len(result.features), 'feature')} drifted"
        + _quality_heading(result)
        + ")",
        "",
        f"Live {_code(live.name)} ({plural(live.rows, 'row')}) vs reference "
        f"{_code(ref.name)} ({plural(ref.rows, 'row')}). Rule: {_cell(decided)}.",
        "",
        "| feature | kind | status | change | raw score | metric > threshold | p-value "
        "| rows ref → live | missing ref → live | data quality | histogram ref / live |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---|---|",
    ]
    features, hidden = view.arrange(result.features)
    lines += [_row(f) for f in features]
    if hidden:
        lines += ["", f"{plural(hidden, 'other feature')} passed (--only-failing)."]
    if result.joint is not None:
        lines += ["", _cell(joint_line(result.joint))]
    lines += ["", HISTOGRAM_LEGEND]
    return "\n".join(lines + _notes(result))


HISTOGRAM_LEGEND = (
    "<sub>Change: the score less what noise alone scores at these counts, what the "
    "threshold is compared with. "
    "Histogram: the share of rows per bucket, reference above live, on one scale. "
    "Numeric buckets are cut at the reference's quantiles, so its line is about level; "
    "categorical ones are its categories, most frequent first, then `other`.</sub>"
)


def _quality_heading(result: CheckResult) -> str:
    failed = sum(bool(f.failed_quality) for f in result.features)
    return f", {failed} failed a data-quality rule" if failed else ""


def _quality_cell(f: FeatureResult) -> str:
    """`**missing: fail**`, `unseen: small`, or a dash."""
    cells = [
        f"**{q.rule.value}: fail**" if q.failed else f"{q.rule.value}: {q.status.value}"
        for q in f.quality
        if q.status is not QualityStatus.OK
    ]
    return "<br>".join(cells) or "—"


def _row(f: FeatureResult) -> str:
    status = f"**{f.status.value}**" if f.drift else f.status.value
    status += ", small" if f.small else ""
    change = "—" if f.change is None else f"{f.change:.3f}"
    score = "—" if f.score is None else f"{f.score:.3f}"
    metric = f"{f.metric}{' (fallback)' if f.fallback else ''} > {f.threshold:g}"
    p = format_p_value(f.p_value, f.p_bound) + (
        f" (adj. {format_p_value(f.p_adjusted, f.p_bound)})" if f.p_adjusted is not None else ""
    )
    return (
        f"| {_cell(f.name)}{_moved(f)} | {f.kind.value} | {status} | {change} | {score} "
        f"| {metric} | {p} "
        f"| {f.reference_rows:,} → {f.live_rows:,} "
        f"| {percent(f.reference_missing, f.reference_rows)} → "
        f"{percent(f.live_missing, f.live_rows)} | {_quality_cell(f)} | {_histogram(f)} |"
    )


def _moved(f: FeatureResult) -> str:
    """What moved, on a line of its own under a drifted or uncertain feature's name."""
    words = explained(f)
    return f"<br><sub>{MOVED_MARK} {_cell(words)}</sub>" if words else ""


def _histogram(f: FeatureResult) -> str:
    """Two sparklines in one cell: inline code keeps GitHub's monospace font, `<br>` breaks
    the line, and empty buckets are no-break spaces, which neither code spans nor HTML
    collapse."""
    if f.status is Status.MISSING:
        return "(not in live)"
    ref, live = sparklines(f, blank=NO_BREAK_SPACE)
    return f"`{ref}`<br>`{live}`"


NO_BREAK_SPACE = "\u00a0"


def _notes(result: CheckResult) -> list[str]:
    said = check_notes(result)
    features = said.features
    notes = [f"{f.name}: {flag_names(f.reason)}" for f in features if f.reason]
    notes += [note for f in features for note in f.quality]
    notes += [f"{f.name}: {f.type_changed}" for f in features if f.type_changed]
    notes += [note for f in features for note in f.invalid]
    lines = ["", *(f"- {_cell(note)}" for note in notes)] if notes else []
    if said.new_columns:
        lines += [
            "",
            "New in live, not scored: " + ", ".join(f"{_code(c)}" for c in said.new_columns),
        ]
    if said.skipped:
        lines += [
            "",
            "Not scored: "
            + "; ".join(f"{_code(name)} ({_cell(why)})" for name, why in said.skipped),
        ]
    return lines


def render_timeline_markdown(timeline: Timeline) -> str:
    """A chunked check in Markdown: the verdict, then features down and chunks across."""
    verdict = {Verdict.DRIFT: "DRIFT", Verdict.NO_DRIFT: "no drift"}.get(
        timeline.verdict, "no verdict"
    )
    live, ref = timeline.live, timeline.reference
    chunks = timeline.chunks[-MARKDOWN_CHUNKS:]
    lines = [
        f"### driftcli: {verdict} ({_cell(flag_names(timeline.decision.rule))})",
        "",
        f"Live {_code(live.name)} ({live.rows:,} rows, {describe_chunks(timeline)}) vs "
        f"reference {_code(ref.name)} ({ref.rows:,} rows). Cells: each feature's change "
        "(its score less the noise of the chunk's counts), **bold** where it drifted.",
        "",
        "| feature | " + " | ".join(chunk_label(timeline, c) for c in chunks) + " | first drift |",
        "|---|" + "---:|" * len(chunks) + "---|",
    ]
    for i, name in enumerate(timeline.feature_names):
        first = timeline.first_drift(name)
        cells = ["no rows" if c.empty else _score_cell(c.check.features[i]) for c in chunks]
        shown = chunk_label(timeline, first) if first else "—"
        lines.append(f"| {_cell(name)} | " + " | ".join(cells) + f" | {shown} |")
    lines.append("| rows | " + " | ".join(f"{c.check.live.rows:,}" for c in chunks) + " | |")
    verdicts = ["**DRIFT**" if c.drift else c.verdict.value for c in chunks]
    lines.append("| verdict | " + " | ".join(verdicts) + " | |")
    notes = []
    if len(chunks) < len(timeline.chunks):
        notes.append(f"the latest {len(chunks)} of {len(timeline.chunks)} chunks are shown")
    if timeline.untimed.count:
        notes.append(untimed_note(timeline))
    gaps = empty_note(timeline)
    if gaps:
        notes.append(gaps)
    notes += [f"what moved: {moved}" for moved in latest_moves(timeline)]
    if notes:
        lines += ["", *(f"- {_cell(note)}" for note in notes)]
    return "\n".join(lines)


def _score_cell(f: FeatureResult) -> str:
    if f.change is None or f.status is Status.INSUFFICIENT:
        return f.status.value
    score = f"{f.change:.3f}"
    if f.drift:
        return f"**{score}**"
    return f"{score} ({f.status.value})" if f.status is Status.UNCERTAIN else score


_SLICED_WORD = {
    Verdict.DRIFT: "DRIFT",
    Verdict.NO_DRIFT: "no drift",
    Verdict.NO_VERDICT: "no verdict",
}


def render_sliced_markdown(result: SlicedCheck, view: View = DEFAULT_VIEW) -> str:
    """The verdict over the whole and the slices, the slice matrix, then the whole check."""
    checked = result.checked
    lines = [
        f"### driftcli by {_code(result.slicing.column)}: {_SLICED_WORD[result.verdict]} "
        f"({_cell(flag_names(result.decision.rule))})",
        "",
        f"{plural(len(checked), 'slice')} checked. Cells: each slice's change (its score less "
        "the noise of its counts), **bold** where it drifted.",
        "",
    ]
    if checked:
        lines += [
            "| feature | " + " | ".join(_cell(s.label) for s in checked) + " |",
            "|---|" + "---:|" * len(checked),
        ]
        for name in result.feature_names:
            cells = []
            for s in checked:
                found = s.feature(name)
                cell = slice_cell(found)
                cells.append(f"**{cell}**" if found is not None and found.drift else cell)
            lines.append(f"| {_cell(name)} | " + " | ".join(cells) + " |")
        lines.append("| rows | " + " | ".join(f"{s.rows:,}" for s in checked) + " |")
        verdicts = [
            "**DRIFT**" if s.drift else (s.verdict or Verdict.NO_VERDICT).value for s in checked
        ]
        lines.append("| verdict | " + " | ".join(verdicts) + " |")
    lines += [
        "",
        *(f"- {_cell(note)}" for note in slice_notes(result)),
        "",
        "#### The whole live data",
        "",
    ]
    return "\n".join(lines) + render_markdown(result.whole, view)


class MarkdownReport:
    """The Markdown of any result, its features arranged by `view`."""

    def __init__(self, view: View = DEFAULT_VIEW) -> None:
        self.view = view

    def check(self, result: CheckResult) -> str:
        return render_markdown(result, self.view)

    def timeline(self, timeline: Timeline) -> str:
        return render_timeline_markdown(timeline)

    def sliced(self, result: SlicedCheck) -> str:
        return render_sliced_markdown(result, self.view)


if TYPE_CHECKING:  # mypy: a renderer of every kind of result
    _: Renderer[str] = MarkdownReport()
