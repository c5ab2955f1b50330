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
from typing import TYPE_CHECKING

from driftcli.choices import OutputFormat
from driftcli.cli.runtime import note, plain_text, write_file, write_json, write_rich
from driftcli.errors import DriftcliError, UsageError
from driftcli.view import DEFAULT_VIEW, View

if TYPE_CHECKING:
    from rich.console import RenderableType

    from driftcli.results import CheckResult, Timeline


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


def table_of(result: "CheckResult | Timeline", view: View = DEFAULT_VIEW) -> "RenderableType":
    from driftcli.results import Timeline

    if isinstance(result, Timeline):
        from driftcli.output.timeline import render_timeline

        return render_timeline(result)
    from driftcli.output.table import render_table

    return render_table(result, view)


def emit(
    result: "CheckResult | Timeline",
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
        note(f"error: {earlier.message}")
    if failed:
        raise failed[-1]


def _write_main(result: "CheckResult | Timeline", main: MainReport) -> None:
    if main.format is OutputFormat.TABLE:
        if main.output is not None:
            write_file(main.output, plain_text(table_of(result, main.view)))
        else:
            write_rich(table_of(result, main.view))
    elif main.output is not None:
        write_file(main.output, render(result, main.format, main.view))
    else:
        write_json(render(result, main.format, main.view))


def _write_report(
    result: "CheckResult | Timeline", fmt: OutputFormat, path: Path, view: View
) -> None:
    write_file(path, render(result, fmt, view))


def _append_summary(markdown: str, main: MainReport) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        if main.to_stdout:  # --quiet: no warnings
            note("warning: --summary: GITHUB_STEP_SUMMARY is not set (not in GitHub Actions?)")
        return
    what = f"--summary: cannot write GITHUB_STEP_SUMMARY {target}"
    write_file(Path(target), markdown, append=True, what=what)


def render(result: "CheckResult | Timeline", fmt: OutputFormat, view: View = DEFAULT_VIEW) -> str:
    """A text report of a check or a chunked check (the table is rendered apart: it is
    rich); each renderer is imported when used, so a command pays only for its report."""
    from driftcli.results import Timeline

    if fmt is OutputFormat.JSON:
        from driftcli.output.json_report import render_json, render_timeline_json

        return render_timeline_json(result) if isinstance(result, Timeline) else render_json(result)
    if fmt is OutputFormat.MARKDOWN:
        from driftcli.output.markdown import render_markdown, render_timeline_markdown

        return (
            render_timeline_markdown(result)
            if isinstance(result, Timeline)
            else render_markdown(result, view)
        )
    if fmt is OutputFormat.JUNIT:
        from driftcli.output.junit import render_junit, render_timeline_junit

        return (
            render_timeline_junit(result) if isinstance(result, Timeline) else render_junit(result)
        )
    if fmt is OutputFormat.HTML:
        if isinstance(result, Timeline):
            from driftcli.output.html_timeline import render_timeline_html

            return render_timeline_html(result)
        from driftcli.output.html import render_html

        return render_html(result, view)
    raise UsageError(f"--format {fmt.value}: no text report in this format")
