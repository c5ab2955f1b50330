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

from driftcli.choices import OutputFormat
from driftcli.cli.runtime import note, plain_text, write_document, write_file, write_rich
from driftcli.errors import DriftcliError, UsageError
from driftcli.view import DEFAULT_VIEW, View

if TYPE_CHECKING:
    from rich.console import RenderableType

    from driftcli.results import CheckResult, Timeline
    from driftcli.sliced import SlicedCheck

    Report = CheckResult | Timeline | SlicedCheck


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
    flags = {"--output": output} | {f"--{fmt.value}": path for fmt, path in reports.items()}
    for flag, path in flags.items():
        if path is not None and str(path) == "-":
            raise UsageError(
                f"{flag} -: report files take a path; '-' would be a file named '-'",
                hint="the --format report goes to stdout without --output"
                if flag == "--output"
                else f"to write the report to stdout, use --format {flag.removeprefix('--')}",
            )


_RENDERERS: dict[str, dict[OutputFormat, tuple[str, str, bool]]] = {
    "CheckResult": {
        OutputFormat.TABLE: ("table", "render_table", True),
        OutputFormat.JSON: ("json_report", "render_json", False),
        OutputFormat.MARKDOWN: ("markdown", "render_markdown", True),
        OutputFormat.JUNIT: ("junit", "render_junit", False),
        OutputFormat.HTML: ("html", "render_html", True),
    },
    "Timeline": {
        OutputFormat.TABLE: ("timeline", "render_timeline", False),
        OutputFormat.JSON: ("json_report", "render_timeline_json", False),
        OutputFormat.MARKDOWN: ("markdown", "render_timeline_markdown", False),
        OutputFormat.JUNIT: ("junit", "render_timeline_junit", False),
        OutputFormat.HTML: ("html_timeline", "render_timeline_html", False),
    },
    "SlicedCheck": {
        OutputFormat.TABLE: ("slice_table", "render_sliced", True),
        OutputFormat.JSON: ("json_report", "render_sliced_json", False),
        OutputFormat.MARKDOWN: ("slice_reports", "render_sliced_markdown", True),
        OutputFormat.JUNIT: ("slice_reports", "render_sliced_junit", False),
        OutputFormat.HTML: ("slice_reports", "render_sliced_html", True),
    },
}
"""Each kind of result's renderer per format (module of driftcli.output, function, and
whether it takes the --sort/--only-failing view): one place to add a kind of check or a
format. Imported when used, so a command pays only for its report."""

_WARNINGS = {
    "CheckResult": "warnings",
    "Timeline": "timeline_warnings",
    "SlicedCheck": "sliced_warnings",
}
"""Each kind of result's lines for stderr beside its report (in `output/lines.py`)."""


def warnings_of(result: "Report") -> list[str]:
    """What stderr says beside the report of a check, a chunked or a sliced check."""
    from driftcli.output import lines

    found: list[str] = getattr(lines, _WARNINGS[type(result).__name__])(result)
    return found


def _renderer(
    result: "Report", fmt: OutputFormat, view: View = DEFAULT_VIEW
) -> "Callable[[Any], Any]":
    import importlib

    found = _RENDERERS[type(result).__name__].get(fmt)
    if found is None:
        raise UsageError(f"--format {fmt.value}: no report in this format")
    module, name, takes_view = found
    renderer: Callable[..., Any] = getattr(
        importlib.import_module(f"driftcli.output.{module}"), name
    )
    if takes_view:
        return functools.partial(renderer, view=view)
    return renderer


def table_of(result: "Report", view: View = DEFAULT_VIEW) -> "RenderableType":
    rendered: RenderableType = _renderer(result, OutputFormat.TABLE, view)(result)
    return rendered


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
    if main.format is OutputFormat.TABLE:
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
    if fmt is OutputFormat.TABLE:
        raise UsageError(f"--format {fmt.value}: no text report in this format")
    text: str = _renderer(result, fmt, view)(result)
    return text
