"""The table: what a person reads in a terminal, rich renderables fitted to its width.

`TableReport` renders every kind of result and what the store holds, a module per
kind: a check (check.py), a chunked check's matrix (timeline.py), a sliced check's
(sliced.py), the history (history.py), a reference and the store's status
(store.py). Each is imported when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftcli.view import DEFAULT_VIEW, View

if TYPE_CHECKING:
    from rich.console import RenderableType

    from driftcli.output.formats import ListingRenderer
    from driftcli.records import CheckHistory, StoreStatus
    from driftcli.report import Renderer
    from driftcli.results import CheckResult, Timeline
    from driftcli.sliced import SlicedCheck
    from driftcli.store.snapshot import Snapshot


class TableReport:
    """The table of any result, its features arranged by `view`."""

    def __init__(self, view: View = DEFAULT_VIEW) -> None:
        self.view = view

    def check(self, result: CheckResult) -> RenderableType:
        from driftcli.output.table.check import render_table

        return render_table(result, self.view)

    def timeline(self, timeline: Timeline) -> RenderableType:
        """The chunk matrix (every feature: a row each, the view does not apply)."""
        from driftcli.output.table.timeline import render_timeline

        return render_timeline(timeline)

    def sliced(self, result: SlicedCheck) -> RenderableType:
        from driftcli.output.table.sliced import render_sliced

        return render_sliced(result, self.view)

    def reference(self, snapshot: Snapshot, where: str) -> RenderableType:
        from driftcli.output.table.store import render_reference

        return render_reference(snapshot, where)

    def status(self, state: StoreStatus) -> RenderableType:
        from driftcli.output.table.store import render_status

        return render_status(state)

    def history(self, history: CheckHistory) -> RenderableType:
        from driftcli.output.table.history import render_history

        return render_history(history)


if TYPE_CHECKING:  # mypy: a renderer of every kind of result and of the listings
    _: Renderer[RenderableType] = TableReport()
    _listing: ListingRenderer[RenderableType] = TableReport()
