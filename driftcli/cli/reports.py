"""What `check` writes: its report on stdout or to --output, report files, the job summary.

stdout comes first, and every report is tried: one that cannot be written
(a named pipe no process reads) is an error after the others, the verdict
shown. Each renderer is imported when used, so a command pays only for its
report.
"""

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftcli.choices import ListingFormat, OutputFormat
from driftcli.cli.runtime import note, plain_text, write_document, write_file, write_rich
from driftcli.errors import DriftcliError, UsageError
from driftcli.output.formats import FORMATS, ListingRenderer, listing_renderer, renderer
from driftcli.report import rendered
from driftcli.view import DEFAULT_VIEW, View

if TYPE_CHECKING:
    from rich.console import RenderableType

    from driftcli.report import Report


@dataclass(frozen=True)
class MainReport:
    """The --format report: to --output FILE, else to stdout unless --quiet."""

    format: OutputFormat
    output: Path | None
    to_stdout: bool
    view: View = DEFAULT_VIEW
    """Which features the table, Markdown and HTML reports show, in which order."""


def no_stdout_files(output: Path | None, reports: dict[OutputFormat, Path | None]) -> None:
    """`--html -` would write a file named `-`: stdout takes the --format report only."""
    files = {FORMATS[fmt].file_flag: path for fmt, path in reports.items()}
    flags = {"--output": output} | files
    for flag, path in flags.items():
        if path is not None and str(path) == "-":
            raise UsageError(
                f"{flag} -: report files take a path; '-' would be a file named '-'",
                hint="the --format report goes to stdout without --output"
                if flag == "--output"
                else f"to write the report to stdout, use --format {flag.removeprefix('--')}",
            )


def warnings_of(result: "Report") -> list[str]:
    """What stderr says beside the report of a check, a chunked or a sliced check."""
    from driftcli.output.lines import Warnings

    return rendered(result, Warnings())


def table_of(result: "Report", view: View = DEFAULT_VIEW) -> "RenderableType":
    table: RenderableType = rendered(result, renderer(OutputFormat.TABLE, view))
    return table


def emit(
    result: "Report",
    main: MainReport,
    reports: dict[OutputFormat, Path | None],
    summary: bool,
) -> None:
    """The report on stdout (or --output), plus any report files and the job summary.

    stdout comes first, and every report is tried: one that cannot be written
    (a named pipe no one reads) is an error after the others, the verdict shown.
    """
    writes: list[Callable[[], None]] = []
    if main.output is not None or main.to_stdout:
        writes.append(lambda: _write_main(result, main))
    for fmt, path in reports.items():
        if path is not None:
            writes.append(functools.partial(_write_report, result, fmt, path, main.view))
    if summary:
        markdown = functools.partial(render, result, OutputFormat.MARKDOWN, main.view)
        writes.append(lambda: _append_summary(markdown(), main))
    failed: list[DriftcliError] = []
    for write in writes:
        try:
            write()
        except DriftcliError as exc:
            failed.append(exc)
    for earlier in failed[:-1]:
        note(f"error: {earlier.said}")
    if failed:
        raise failed[-1]


def _write_main(result: "Report", main: MainReport) -> None:
    if FORMATS[main.format].rich:
        if main.output is not None:
            write_file(main.output, plain_text(table_of(result, main.view)))
        else:
            write_rich(table_of(result, main.view))
    elif main.output is not None:
        write_file(main.output, render(result, main.format, main.view))
    else:
        write_document(render(result, main.format, main.view))


def _write_report(result: "Report", fmt: OutputFormat, path: Path, view: View) -> None:
    write_file(path, render(result, fmt, view))


def _append_summary(markdown: str, main: MainReport) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        if main.to_stdout:  # --quiet: no warnings
            note("warning: --summary: GITHUB_STEP_SUMMARY is not set (not in GitHub Actions?)")
        return
    what = f"--summary: cannot write GITHUB_STEP_SUMMARY {target}"
    write_file(Path(target), markdown, append=True, what=what)


def render(result: "Report", fmt: OutputFormat, view: View = DEFAULT_VIEW) -> str:
    """A text report of any kind of check (the table is rendered apart: it is rich)."""
    if FORMATS[fmt].rich:
        raise UsageError(f"--format {fmt.value}: no text report in this format")
    text: str = rendered(result, renderer(fmt, view))
    return text


def write_listing(fmt: ListingFormat, make: Callable[[ListingRenderer[Any]], Any]) -> None:
    """What `reference`, `status` or `history` has to show, in its --format: `make`
    asks the format's renderer for it."""
    name = OutputFormat(fmt.value)
    made = make(listing_renderer(name))
    if FORMATS[name].rich:
        write_rich(made)
    else:
        write_document(made)
