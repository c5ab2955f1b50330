"""The kinds of result a check gives, and the one place that tells them apart.

A check gives a `CheckResult`, a chunked check a `Timeline`, a sliced check a
`SlicedCheck`. What they answer alike (verdict, inputs, `deciding_check`,
`labelled_checks`) each answers itself; what a report does differently with
each kind is a `Renderer`, which `rendered` calls by kind. A new kind of
result adds a method to `Renderer`, and mypy names every renderer without it.
Light like `results.py`: the CLI imports it before the stages load.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from driftcli.results import CheckResult, Timeline
from driftcli.sliced import SlicedCheck, SliceResult

Report = CheckResult | Timeline | SlicedCheck
"""Any kind of result of a check."""

Out = TypeVar("Out", covariant=True)
Made = TypeVar("Made")


class Renderer(Protocol[Out]):
    """What a report makes of each kind of result: an output format, the lines for
    stderr, the metrics."""

    def check(self, result: CheckResult) -> Out: ...

    def timeline(self, timeline: Timeline) -> Out: ...

    def sliced(self, result: SlicedCheck) -> Out: ...


def rendered(report: Report, renderer: Renderer[Made]) -> Made:
    """`renderer`'s method for the kind of `report`."""
    if isinstance(report, SlicedCheck):
        return renderer.sliced(report)
    if isinstance(report, Timeline):
        return renderer.timeline(report)
    return renderer.check(report)


def slices_of(report: Report) -> list[SliceResult] | None:
    """A sliced check's slices, checked or not; None for a check not sliced."""
    return report.slices if isinstance(report, SlicedCheck) else None
