"""The HTML report: one self-contained page (page.py) with a chart per feature.

`HtmlReport` renders every kind of result, a module per kind: a check (check.py,
its bar charts in charts.py), a chunked check (timeline.py, its heatmap in
heatmap.py), a sliced check (sliced.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftcli.view import DEFAULT_VIEW, View

if TYPE_CHECKING:
    from driftcli.report import Renderer
    from driftcli.results import CheckResult, Timeline
    from driftcli.sliced import SlicedCheck


class HtmlReport:
    """The page of any result, its features arranged by `view`."""

    def __init__(self, view: View = DEFAULT_VIEW) -> None:
        self.view = view

    def check(self, result: CheckResult) -> str:
        from driftcli.output.html.check import render_html

        return render_html(result, self.view)

    def timeline(self, timeline: Timeline) -> str:
        """Features drifting now first, then those that drifted in a chunk (the view does
        not apply)."""
        from driftcli.output.html.timeline import render_timeline_html

        return render_timeline_html(timeline)

    def sliced(self, result: SlicedCheck) -> str:
        from driftcli.output.html.sliced import render_sliced_html

        return render_sliced_html(result, self.view)


if TYPE_CHECKING:  # mypy: a renderer of every kind of result
    _: Renderer[str] = HtmlReport()
