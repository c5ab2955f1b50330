"""A chunked check as a rich table: a feature x chunk matrix of scores, as wide as the
terminal allows (the latest chunks kept), each feature's first drift, and the verdict."""

from __future__ import annotations

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from driftcli.errors import flag_names
from driftcli.output.moves import MOVED_MARK, latest_moves
from driftcli.output.notes import check_notes
from driftcli.output.table.check import STATUS_STYLE
from driftcli.output.texts import (
    chunk_label,
    compact_count,
    compact_score,
    describe_chunks,
    plural,
    shown,
    spans_years,
)
from driftcli.results import ChunkResult, FeatureResult, Status, Timeline, Verdict

_MARK = {Status.DRIFT: "!", Status.UNCERTAIN: "?", Status.TYPE_CHANGED: "!", Status.OK: " "}
_VERDICT = {Verdict.DRIFT: ("DRIFT", "bold red"), Verdict.NO_DRIFT: ("ok", "green")}
_EMPTY = Text(" none", style="yellow")
_MIN_NAME = 8
"""The narrowest the feature names fold to, to make room for one chunk."""
"""A chunk without rows: a gap in the input, not a chunk too small to judge."""


def render_timeline(timeline: Timeline) -> RenderableType:
    """The matrix, the verdict and notes; the matrix keeps the latest chunks that fit."""
    return _Fitted(timeline)


class _Fitted:
    """Built when rich knows the width: as many of the latest chunks as fit in it."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        timeline = self.timeline
        total = len(timeline.chunks)
        columns = min(total, max(1, (options.max_width - _fixed_width(timeline)) // 6))
        table = _matrix(timeline, columns)
        # Sized against no width limit: rich clamps a table's natural width to the limit.
        unlimited = options.update_width(1 << 20)

        def wide(table: Table) -> int:
            return Measurement.get(console, unlimited, table).maximum

        while columns > 1 and wide(table) > options.max_width:
            columns -= 1
            table = _matrix(timeline, columns)
        if wide(table) > options.max_width:
            # A long feature name leaves no room for a chunk: fold the names (whole, over
            # lines) into what the chunk and the first drift leave.
            room = options.max_width - (wide(table) - _name_width(timeline))
            if room >= _MIN_NAME:
                table = _matrix(timeline, columns, room)
            if wide(table) > options.max_width:
                columns = 0
        yield Group(_title(timeline), table, _summary(timeline), *_notes(timeline, columns))


def _name_width(timeline: Timeline) -> int:
    return max(len(n) for n in [*timeline.feature_names, "verdict"])


def _fixed_width(timeline: Timeline) -> int:
    names = [len(n) for n in timeline.feature_names] + [len("verdict")]
    return max(names) + 2 + len(chunk_label(timeline, timeline.chunks[-1])) + 2


def _title(timeline: Timeline) -> Text:
    live, ref = timeline.live, timeline.reference
    return Text(
        f"driftcli: {shown(live.name)} ({plural(live.rows, 'row')}) vs reference "
        f"{shown(ref.name)} ({plural(ref.rows, 'row')})\n{shown(describe_chunks(timeline))}"
    )


def _matrix(timeline: Timeline, columns: int, fold: int | None = None) -> Table:
    """Features down, chunks across; each chunk's rows and verdict at the foot. `fold`:
    the width the feature names fold to, over several lines, when they are longer."""
    chunks = timeline.chunks[-columns:]
    table = Table(
        box=box.SIMPLE, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1), show_footer=True
    )
    names = timeline.feature_names
    width = _name_width(timeline)
    if fold is None or fold >= width:
        table.add_column("feature", footer="rows\nverdict", no_wrap=True, min_width=width)
    else:
        table.add_column(
            "feature", footer="rows\nverdict", overflow="fold", width=max(fold, len("verdict"))
        )
    previous: ChunkResult | None = None
    for chunk in chunks:
        footer = Text(compact_count(chunk.check.live.rows) + "\n").append(_verdict_cell(chunk))
        table.add_column(
            header(timeline, chunk, previous),
            footer=footer,
            justify="right",
            no_wrap=True,
            min_width=5,
        )
        previous = chunk
    firsts = [timeline.drifting_since(name) for name in names]
    labels = [chunk_label(timeline, f) if f else "—" for f in firsts]
    table.add_column(
        "drifting\nsince", no_wrap=True, min_width=max(len(x) for x in [*labels, "since"])
    )
    for i, name in enumerate(names):
        table.add_row(
            Text(shown(name)),
            *(_EMPTY if chunk.empty else cell(chunk.check.features[i]) for chunk in chunks),
            Text(labels[i], style="red" if firsts[i] else "dim"),
        )
    return table


def cell(f: FeatureResult) -> Text:
    """A feature's change in one chunk, in five characters, marked by its status."""
    if f.status is Status.MISSING:
        return Text("miss!", style=STATUS_STYLE[f.status])
    if f.status is Status.INSUFFICIENT or f.change is None:
        return Text("   - ", style="dim")
    return Text(compact_score(f.change) + _MARK[f.status], style=_cell_style(f.status))


def _cell_style(status: Status) -> str:
    return "" if status is Status.OK else STATUS_STYLE[status]


def _verdict_cell(chunk: ChunkResult) -> Text:
    if chunk.empty:
        return Text("gap", style="bold yellow")
    text, style = _VERDICT.get(chunk.verdict, ("—", "yellow"))
    return Text(text, style=style)


def header(timeline: Timeline, chunk: ChunkResult, previous: ChunkResult | None) -> str:
    """The chunk's column header, as its grouping writes it: the date (when it changes)
    over the time, or the year over the date; `#N` over the first row for row chunks."""
    before = previous.start if previous is not None else None
    return timeline.chunking.header(chunk.index, chunk.start, before, spans_years(timeline))


def _summary(timeline: Timeline) -> Text:
    rule = shown(flag_names(timeline.decision.rule))
    if timeline.verdict is Verdict.NO_VERDICT:
        return Text.assemble(("NO VERDICT", "bold yellow"), f": {rule}")
    drifted = ", ".join(
        f"{shown(f.name)} ({f.status.value})" for f in timeline.latest.check.drifted
    )
    named = f": {drifted}" if drifted and not timeline.any_chunk else ""
    if timeline.drift:
        return Text.assemble(("DRIFT", "bold red"), f": {rule}{named}")
    return Text.assemble(("no drift", "bold green"), f": {rule}{named}")


def _notes(timeline: Timeline, columns: int) -> list[Text]:
    total = len(timeline.chunks)
    metrics = {f.metric for c in timeline.chunks[:1] for f in c.check.features}
    what = (
        f"the {metrics.pop()} change" if len(metrics) == 1 else "each feature's change"
    ) + " (its score less the noise of the chunk's counts)"
    gaps = any(c.empty for c in timeline.chunks)
    notes = [
        f"cells: {what}; ! drift, ? uncertain (could be chance), - too few rows for a verdict, "
        "miss! not in the live data" + ("; none: no rows in the chunk (a gap)" if gaps else "")
    ]
    if columns == 0:
        notes.append(
            f"the terminal is too narrow to show any of the {total} chunks "
            "(--format json has them all)"
        )
    elif columns < total:
        notes.append(f"showing the latest {columns} of {total} chunks (--format json has them all)")
    latest = check_notes(timeline.latest.check)
    notes += [latest.scored_apart] if latest.scored_apart else []
    notes += latest.columns()
    notes += [f"{MOVED_MARK} {moved}" for moved in latest_moves(timeline)]
    return [Text(shown(note), style="dim") for note in notes]
