"""`driftcli check`: compare live data with the reference; exit 1 on drift."""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from driftcli.choices import Correction, InputFormat, OutputFormat
from driftcli.cli.app import EXIT_CODES_HELP, app
from driftcli.cli.chunked import chunking_for, warnings_of
from driftcli.cli.options import (
    BinsOption,
    ConfigOption,
    DebugOption,
    DelimiterOption,
    EngineOption,
    ExcludeOption,
    FeaturesOption,
    FormatOption,
    InputFormatOption,
    MaxColumnsOption,
    MaxLineBytesOption,
    MetricOption,
    QuietOption,
    SchedulerOption,
    SkipBadLinesOption,
    StoreOption,
    ThresholdOption,
    at_most_max_count,
    split_names,
)
from driftcli.cli.reports import MainReport, emit, no_stdout_files
from driftcli.cli.runtime import Context, note, prepare, progress, warn, write_json, write_stdout
from driftcli.errors import ExitCode

if TYPE_CHECKING:
    from driftcli.results import CheckResult, Timeline
    from driftcli.settings import Chunking


@app.command(
    epilog=EXIT_CODES_HELP, short_help="Compare live data with the reference; exit 1 on drift."
)
def check(
    live: Annotated[
        list[str] | None,
        typer.Argument(
            help="Live data: CSV, Parquet or JSON-lines files (.gz/.zst too), a directory or "
            "glob of them, or - for stdin. Without it, the store's live window is checked.",
            metavar="LIVE...",
            show_default=False,
        ),
    ] = None,
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref",
            "-r",
            help="Reference: data (a file, or - for stdin) or a snapshot file. "
            "Without it, the store's reference.",
            metavar="REF",
            show_default=False,
        ),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            "-w",
            help="The store's live window to check [default: live]; not with LIVE files.",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
    output_format: FormatOption = OutputFormat.TABLE,
    metric: MetricOption = None,
    threshold: ThresholdOption = None,
    evidence: Annotated[
        float | None,
        typer.Option(
            help="A drift needs a p-value below this [default: 0.005].", show_default=False
        ),
    ] = None,
    alpha: Annotated[
        float | None,
        typer.Option(
            help="Evidence across features instead: p-value adjusted over the features "
            "(see --correction) at most alpha.",
            show_default=False,
        ),
    ] = None,
    correction: Annotated[
        Correction | None,
        typer.Option(
            help="Adjustment of p-values across features [default: holm].", show_default=False
        ),
    ] = None,
    max_drift_share: Annotated[
        float | None,
        typer.Option(
            help="Fail only when more than this share of the features drift (0 to 1).",
            show_default=False,
        ),
    ] = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            help="Features whose drift always fails the check.",
            metavar="NAMES",
            show_default=False,
        ),
    ] = None,
    bins: BinsOption = None,
    min_rows: Annotated[
        int | None,
        typer.Option(
            help="Live rows needed for a verdict; default: any window that could give evidence.",
            min=1,
            callback=at_most_max_count,
            show_default=False,
        ),
    ] = None,
    features: FeaturesOption = None,
    exclude: ExcludeOption = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="One check per chunk of time: the column that holds each row's time "
            "(a timestamp, a date, ISO 8601 text or epoch seconds; never scored). "
            "With --every.",
            metavar="COLUMN",
            show_default=False,
        ),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(
            "--every",
            help="How long a chunk of --by is: 30m, 1h, 1d, 1w... (chunks start on the "
            "calendar's boundaries: full hours, midnight, Mondays).",
            metavar="DURATION",
            show_default=False,
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help="The time zone of the calendar chunks follow, and of times without an "
            "offset [default: UTC].",
            metavar="ZONE",
            show_default=False,
        ),
    ] = None,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            "--chunk-rows",
            help="One check per N rows, in the order they come.",
            metavar="N",
            min=1,
            callback=at_most_max_count,
            show_default=False,
        ),
    ] = None,
    fail_on_any_chunk: Annotated[
        bool,
        typer.Option(
            "--fail-on-any-chunk",
            help="By chunks: exit 1 when any chunk drifted (by default the latest chunk "
            "with a verdict decides).",
        ),
    ] = False,
    joint: Annotated[
        bool,
        typer.Option(
            "--joint",
            help="Also test the features' joint distribution (a relation that changed while "
            "every feature stayed); needs pip install 'driftcli[joint]'.",
        ),
    ] = False,
    skip_bad_lines: SkipBadLinesOption = False,
    delimiter: DelimiterOption = None,
    max_line_bytes: MaxLineBytesOption = None,
    max_columns: MaxColumnsOption = None,
    input_format: InputFormatOption = None,
    ref_format: Annotated[
        InputFormat | None,
        typer.Option(
            help="Format of --ref when neither suffix nor content tells it.", show_default=False
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the --format report to FILE instead of stdout.",
            show_default=False,
        ),
    ] = None,
    json_file: Annotated[
        Path | None,
        typer.Option("--json", help="Also write the JSON report to FILE.", show_default=False),
    ] = None,
    junit_file: Annotated[
        Path | None,
        typer.Option("--junit", help="Also write a JUnit XML report to FILE.", show_default=False),
    ] = None,
    markdown_file: Annotated[
        Path | None,
        typer.Option(
            "--markdown", help="Also write a Markdown report to FILE.", show_default=False
        ),
    ] = None,
    html_file: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write an HTML report to FILE: one page with a chart per feature.",
            show_default=False,
        ),
    ] = None,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="Append the Markdown report to $GITHUB_STEP_SUMMARY (GitHub Actions job summary).",
        ),
    ] = False,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when drift is found (report only).")
    ] = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
    show_config: Annotated[
        bool,
        typer.Option(
            "--show-config", help="Print the effective settings and their sources, then exit."
        ),
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Compare live data with the reference and report drift per feature.

    With files: driftcli check LIVE --ref REF. With the store: driftcli check
    (the live window against the stored reference, recorded in the store's
    history), driftcli check LIVE (a file against the stored reference), or
    driftcli check --window NAME.

    Over time: --by COLUMN --every 1d checks each day (--chunk-rows N each N
    rows) as a whole check would, and shows when each feature drifted; the
    latest chunk with a verdict gives the exit code (--fail-on-any-chunk: any
    chunk).
    """
    flags = {
        "threshold": threshold,
        "metric": metric,
        "alpha": alpha,
        "evidence": evidence,
        "correction": correction,
        "bins": bins,
        "min_rows": min_rows,
        "features": split_names(features),
        "exclude": split_names(exclude),
        "max_drift_share": max_drift_share,
        "fail_on": split_names(fail_on),
        "store": str(store) if store else None,
        "engine": engine,
        "scheduler": scheduler,
        "skip_bad_lines": skip_bad_lines or None,
        "delimiter": delimiter,
        "max_line_bytes": max_line_bytes,
        "max_columns": max_columns,
        "joint": joint or None,
    }
    context = prepare(flags, config, debug)
    if show_config:
        context.run(lambda: _show_config(context, output_format))
        raise typer.Exit(ExitCode.OK)
    reports = {
        OutputFormat.JSON: json_file,
        OutputFormat.JUNIT: junit_file,
        OutputFormat.MARKDOWN: markdown_file,
        OutputFormat.HTML: html_file,
    }
    context.run(lambda: no_stdout_files(output, reports))
    chunking = context.run(
        lambda: chunking_for(context, by, every, timezone, chunk_rows, fail_on_any_chunk)
    )

    inputs = _Inputs(live, ref, window, input_format, ref_format, quiet)
    with progress(shown=not quiet):
        result = context.run(lambda: _run(context, inputs, chunking, fail_on_any_chunk))
    for line in [] if quiet else warnings_of(result):
        note(line)
    main = MainReport(output_format, output, to_stdout=not quiet)
    context.run(lambda: emit(result, main, reports, summary))
    raise typer.Exit(_exit_code(result, exit_zero))


@dataclass(frozen=True)
class _Inputs:
    live: list[str] | None
    ref: str | None
    window: str | None
    live_format: InputFormat | None
    ref_format: InputFormat | None
    quiet: bool = False

    def warn(self, text: str) -> None:
        """What the store has to say (read without its lock), unless --quiet."""
        if not self.quiet:
            warn(text)


def _run(
    context: Context, inputs: _Inputs, chunking: "Chunking | None", any_chunk: bool
) -> "CheckResult | Timeline":
    """The check, or the chunked check, the command line asks for."""
    from driftcli import api

    with context.engine() as counting:
        if chunking is not None:
            return api.check_timeline(
                inputs.live,
                inputs.ref,
                chunking,
                context.settings,
                store=context.store_path,
                window=inputs.window,
                live_format=inputs.live_format,
                ref_format=inputs.ref_format,
                engine=counting,
                any_chunk=any_chunk,
                on_warning=inputs.warn,
            )
        return api.check_inputs(
            inputs.live,
            inputs.ref,
            context.settings,
            store=context.store_path,
            window=inputs.window,
            live_format=inputs.live_format,
            ref_format=inputs.ref_format,
            engine=counting,
            on_warning=inputs.warn,
        )


def _exit_code(result: "CheckResult | Timeline", exit_zero: bool) -> ExitCode:
    """0, 1, or 2 when no feature (no chunk) could be judged (said on stderr)."""
    from driftcli.results import Verdict

    if result.verdict is Verdict.NO_VERDICT:
        note(f"error: no verdict: {result.decision.rule}")
        note("hint: check a larger live window, or build a larger reference")
        return ExitCode.ERROR
    return ExitCode.DRIFT if result.drift and not exit_zero else ExitCode.OK


def _show_config(context: Context, output_format: OutputFormat) -> None:
    import sys

    from driftcli.config import describe, describe_json
    from driftcli.output.texts import json_text, shown

    resolved = context.resolved
    if output_format is OutputFormat.JSON:
        write_json(json_text(describe_json(resolved)))
        return
    where = (
        resolved.config_path or "none found (driftcli.toml or [tool.driftcli] in pyproject.toml)"
    )
    lines = [shown(f"config file: {where}")]
    rows = [tuple(shown(part) for part in row) for row in describe(resolved)]
    width = max(len(key) for key, _, _ in rows)
    lines += [f"{key:<{width}}  {value}  ({source})" for key, value, source in rows]
    write_stdout(lambda: sys.stdout.write("\n".join(lines) + "\n"))
