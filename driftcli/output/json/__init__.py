"""JSON for programs, one document per run (docs/json.md).

`JsonReport` renders every kind of result (check.py) and what the store holds
(store.py), each in its public schema (`schema_version`), never the store's encodings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftcli.view import DEFAULT_VIEW, View

if TYPE_CHECKING:
    from driftcli.output.formats import ListingRenderer
    from driftcli.records import CheckHistory, StoreStatus
    from driftcli.report import Renderer
    from driftcli.results import CheckResult, Timeline
    from driftcli.sliced import SlicedCheck
    from driftcli.store.snapshot import Snapshot


class JsonReport:
    """The JSON document of any result: every feature, in the reference's order."""

    def __init__(self, view: View = DEFAULT_VIEW) -> None:
        self.view = view
        """Not applied: a program reads every feature."""

    def check(self, result: CheckResult) -> str:
        from driftcli.output.json.check import render_json

        return render_json(result)

    def timeline(self, timeline: Timeline) -> str:
        from driftcli.output.json.check import render_timeline_json

        return render_timeline_json(timeline)

    def sliced(self, result: SlicedCheck) -> str:
        from driftcli.output.json.check import render_sliced_json

        return render_sliced_json(result)

    def reference(self, snapshot: Snapshot, where: str) -> str:
        from driftcli.output.json.store import reference_json

        return reference_json(snapshot, where)

    def status(self, state: StoreStatus) -> str:
        from driftcli.output.json.store import status_json

        return status_json(state)

    def history(self, history: CheckHistory) -> str:
        from driftcli.output.json.store import history_json

        return history_json(history)


if TYPE_CHECKING:  # mypy: a renderer of every kind of result and of the listings
    _: Renderer[str] = JsonReport()
    _listing: ListingRenderer[str] = JsonReport()
