"""A sliced check as rich tables: the whole check's table, then a feature x slice matrix of
changes, in as many blocks of slices as the terminal's width needs (every slice shown),
the slices that could not be checked, and the verdict."""

from __future__ import annotations

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from driftcli.errors import flag_names
from driftcli.output.notes import slice_notes
from driftcli.output.table.check import render_table
from driftcli.output.table.timeline import cell
from driftcli.output.texts import compact_count, plural, shown
from driftcli.results import Verdict
from driftcli.sliced import SlicedCheck, SliceResult
from driftcli.view import DEFAULT_VIEW, View

_VERDICT = {Verdict.DRIFT: ("DRIFT", "bold red"), Verdict.NO_DRIFT: ("ok", "green")}
_WIDEST_LABEL = 10
"""A slice's label folds past this many characters (over lines in its header)."""
_MIN_NAME = 8


def render_sliced(result: SlicedCheck, view: View = DEFAULT_VIEW) -> RenderableType:
    """The whole check's table (in `view`), the slices' matrix, the verdict over both,
    and notes."""
    return Group(
        Text(
            "the whole live data, every row (the verdict over it and its slices is last):",
            style="bold",
        ),
        render_table(result.whole, view),
        Text(""),
        _title(result),
        _Matrix(result),
        _summary(result),
        *_notes(result),
    )


def _title(result: SlicedCheck) -> Text:
    checked = len(result.checked)
    return Text(
        f"per slice: by {shown(result.slicing.column)}, "
        f"{plural(checked, 'slice')} checked (change of score per feature)",
        style="bold",
    )


class _Matrix:
    """Built when rich knows the width: the checked slices in blocks that fit it."""

    def __init__(self, result: SlicedCheck) -> None:
        self.result = result

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        result = self.result
        slices = result.checked
        if not slices:
            return
        names = result.feature_names
        longest = max(cell_len(shown(n)) for n in [*names, "verdict"])
        widest = max(_width(s) for s in slices)
        name_width = max(_MIN_NAME, min(longest, options.max_width - 2 - widest))
        unlimited = options.update_width(1 << 20)

        def fits(block: list[SliceResult]) -> bool:
            table = _block(result, block, name_width)
            return Measurement.get(console, unlimited, table).maximum <= options.max_width

        start = 0
        while start < len(slices):
            end = start + 1  # at least one slice a block, however narrow the terminal
            while end < len(slices) and fits(slices[start : end + 1]):
                end += 1
            yield _block(result, slices[start:end], name_width)
            start = end


def _width(s: SliceResult) -> int:
    """The columns a slice takes: its label (folded past `_WIDEST_LABEL`), a cell, a gap."""
    return max(5, min(cell_len(shown(s.label)), _WIDEST_LABEL)) + 1


def _block(result: SlicedCheck, slices: list[SliceResult], name_width: int) -> Table:
    table = Table(
        box=box.SIMPLE, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1), show_footer=True
    )
    table.add_column("feature", footer="rows\nverdict", overflow="fold", width=name_width)
    for s in slices:
        verdict = s.verdict
        text, style = _VERDICT.get(verdict, ("—", "yellow")) if verdict else ("—", "yellow")
        footer = Text(compact_count(s.rows) + "\n").append(Text(text, style=style))
        table.add_column(
            Text(shown(s.label), overflow="fold"),
            footer=footer,
            justify="right",
            overflow="fold",
            width=_width(s) - 1,
        )
    for name in result.feature_names:
        cells = []
        for s in slices:
            found = s.feature(name)
            cells.append(cell(found) if found is not None else Text("   - ", style="dim"))
        table.add_row(Text(shown(name), overflow="fold"), *cells)
    return table


def _summary(result: SlicedCheck) -> Text:
    rule = shown(flag_names(result.decision.rule))
    if result.verdict is Verdict.NO_VERDICT:
        return Text.assemble(("NO VERDICT", "bold yellow"), f": {rule}")
    if result.drift:
        return Text.assemble(("DRIFT", "bold red"), f": {rule}")
    return Text.assemble(("no drift", "bold green"), f": {rule}")


def _notes(result: SlicedCheck) -> list[Text]:
    cells = (
        "cells: each slice's change (score less the noise of its counts); ! drift, "
        "? uncertain (could be chance), - too few rows for a verdict, miss! not in the live data"
    )
    return [Text(shown(note), style="dim") for note in [cells, *slice_notes(result)]]
