"""The output formats, registered once: `--format`, the report-file options (`--json FILE`,
...), the report writers (cli/reports.py) and the docs read them here.

A format is the package or module `driftcli.output.<name>` and, in it, one renderer
class that renders every kind of result (`driftcli.report.Renderer`); the formats that
`reference`, `status` and `history` write also render what the store holds
(`ListingRenderer`). Light: the CLI builds its options from this without importing a
renderer, and each renderer is imported when used, so a command pays only for its report.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from driftcli.choices import OutputFormat
from driftcli.view import DEFAULT_VIEW, View

if TYPE_CHECKING:
    from driftcli.records import CheckHistory, StoreStatus
    from driftcli.report import Renderer
    from driftcli.store.snapshot import Snapshot

Out = TypeVar("Out", covariant=True)


@dataclass(frozen=True)
class Format:
    """One output format."""

    name: OutputFormat
    renderer: str
    """Its renderer class in `driftcli.output.<name>`, made with the report's `View`."""
    said: str
    """How `--format`'s help names it."""
    file_help: str | None
    """The help of its report-file option (`--<name> FILE`); None: it has none."""
    rich: bool = False
    """A rich renderable fitted to the terminal (the table), not text."""
    listings: bool = False
    """It renders `reference`, `status` and `history` too (a `ListingRenderer`)."""

    @property
    def module(self) -> str:
        return f"driftcli.output.{self.name.value}"

    @property
    def file_flag(self) -> str:
        return f"--{self.name.value}"


FORMATS = {
    f.name: f
    for f in (
        Format(OutputFormat.TABLE, "TableReport", "a table", None, rich=True, listings=True),
        Format(
            OutputFormat.JSON,
            "JsonReport",
            "JSON for programs",
            "Also write the JSON report to FILE.",
            listings=True,
        ),
        Format(
            OutputFormat.MARKDOWN,
            "MarkdownReport",
            "Markdown",
            "Also write a Markdown report to FILE.",
        ),
        Format(
            OutputFormat.JUNIT, "JunitReport", "JUnit XML", "Also write a JUnit XML report to FILE."
        ),
        Format(
            OutputFormat.HTML,
            "HtmlReport",
            "an HTML page",
            "Also write an HTML report to FILE: one page with a chart per feature.",
        ),
    )
}
"""Every format, in the order help and docs list them."""

REPORT_FILE_FORMATS = tuple(f.name for f in FORMATS.values() if f.file_help is not None)
"""The formats `check` also writes to a file (`--json FILE`, ...), in the options' order."""


def format_help(formats: tuple[OutputFormat, ...] = tuple(FORMATS)) -> str:
    """`--format`'s help: `Output: a table, JSON for programs, ... or an HTML page.`"""
    said = [FORMATS[f].said for f in formats]
    listed = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " or " + said[-1]
    return f"Output: {listed}."


class ListingRenderer(Protocol[Out]):
    """What the formats of `reference`, `status` and `history` make of what the store
    holds."""

    def reference(self, snapshot: Snapshot, where: str) -> Out: ...

    def status(self, state: StoreStatus) -> Out: ...

    def history(self, history: CheckHistory) -> Out: ...


def renderer(name: OutputFormat, view: View = DEFAULT_VIEW) -> Renderer[Any]:
    """The format's renderer (imported now), arranging features by `view` where it shows
    them to people."""
    found = FORMATS[name]
    made: Renderer[Any] = getattr(importlib.import_module(found.module), found.renderer)(view)
    return made


def listing_renderer(name: OutputFormat) -> ListingRenderer[Any]:
    """The renderer of what the store holds, in a format that has one."""
    found = FORMATS[name]
    if not found.listings:
        raise ValueError(f"{name.value} renders no listing")
    made: ListingRenderer[Any] = getattr(importlib.import_module(found.module), found.renderer)()
    return made
