"""`driftcli check`: compare live data with the reference; exit 1 on drift."""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from driftcli.choices import Correction, InputFormat, JointMethod, OutputFormat, SortOrder
from driftcli.cli.app import EXIT_CODES_HELP, app
from driftcli.cli.chunked import grouping_for
from driftcli.cli.monitor import monitor_for
from driftcli.cli.options import (
    BinsOption,
    ConfigOption,
    DebugOption,
    DecimalOption,
    DelimiterOption,
    EngineOption,
    ExcludeOption,
    FeaturesOption,
    FormatOption,
    HookTimeoutOption,
    InputFormatOption,
    InvalidPointsOption,
    InvalidRatioOption,
    JsonPathOption,
    MaxColumnsOption,
    MaxLineBytesOption,
    MaxSlicesOption,
    MetricOption,
    MetricsOption,
    MissingPointsOption,
    MissingRatioOption,
    OnDriftAlsoOption,
    OnDriftOption,
    QuietOption,
    SchedulerOption,
    SkipBadLinesOption,
    SliceOption,
    StoreOption,
    ThresholdOption,
    UnseenPointsOption,
    UnseenRatioOption,
    at_most_max_count,
    report_file_option,
    split_names,
)
from driftcli.cli.reports import MainReport, emit, no_stdout_files, warnings_of
from driftcli.cli.runtime import Context, note, prepare, progress, warn
from driftcli.cli.show_config import show_config as show_settings
from driftcli.errors import ExitCode
from driftcli.output.formats import REPORT_FILE_FORMATS
from driftcli.setting_table import Given
from driftcli.view import View

if TYPE_CHECKING:
    from driftcli.grouping import BySlice, Chunking
    from driftcli.results import CheckResult, Timeline
    from driftcli.sliced import SlicedCheck


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
    missing_ratio: MissingRatioOption = None,
    missing_points: MissingPointsOption = None,
    unseen_ratio: UnseenRatioOption = None,
    unseen_points: UnseenPointsOption = None,
    invalid_ratio: InvalidRatioOption = None,
    invalid_points: InvalidPointsOption = None,
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
    slice_column: SliceOption = None,
    max_slices: MaxSlicesOption = None,
    joint: Annotated[
        bool,
        typer.Option(
            "--joint",
            help="Also test the features' joint distribution (a relation that changed while "
            "every feature stayed).",
        ),
    ] = False,
    joint_method: Annotated[
        JointMethod | None,
        typer.Option(
            help="The joint test's classifier: qda (numpy) or boosting (needs pip install "
            "'driftcli[joint]') [default: qda].",
            show_default=False,
        ),
    ] = None,
    skip_bad_lines: SkipBadLinesOption = False,
    delimiter: DelimiterOption = None,
    decimal: DecimalOption = None,
    max_line_bytes: MaxLineBytesOption = None,
    max_columns: MaxColumnsOption = None,
    input_format: InputFormatOption = None,
    json_path: JsonPathOption = None,
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
    json_to: Annotated[Path | None, report_file_option(OutputFormat.JSON)] = None,
    junit_to: Annotated[Path | None, report_file_option(OutputFormat.JUNIT)] = None,
    markdown_to: Annotated[Path | None, report_file_option(OutputFormat.MARKDOWN)] = None,
    html_to: Annotated[Path | None, report_file_option(OutputFormat.HTML)] = None,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="Append the Markdown report to $GITHUB_STEP_SUMMARY (GitHub Actions job summary).",
        ),
    ] = False,
    sort: Annotated[
        SortOrder,
        typer.Option(
            "--sort",
            help="Order of the features in the table, Markdown and HTML reports: drift "
            "(drifted, then uncertain, then by score), score, name, or input (the "
            "reference's column order).",
        ),
    ] = SortOrder.DRIFT,
    only_failing: Annotated[
        bool,
        typer.Option(
            "--only-failing",
            help="Show only the features that drifted or are uncertain in the table, "
            "Markdown and HTML reports, and count the others.",
        ),
    ] = False,
    metrics: MetricsOption = None,
    on_drift: OnDriftOption = None,
    on_drift_also: OnDriftAlsoOption = None,
    hook_timeout: HookTimeoutOption = None,
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

    Per slice: --slice COLUMN checks the rows of each value of COLUMN too, against
    the reference's rows of that value; any slice that drifted gives exit 1.

    Over time: --by COLUMN --every 1d checks each day (--chunk-rows N each N
    rows) as a whole check would, and shows when each feature drifted; the
    latest chunk with a verdict gives the exit code (--fail-on-any-chunk: any
    chunk).
    """
    given = Given(
        threshold=threshold,
        metric=metric,
        alpha=alpha,
        evidence=evidence,
        correction=correction,
        bins=bins,
        min_rows=min_rows,
        features=split_names(features),
        exclude=split_names(exclude),
        max_drift_share=max_drift_share,
        fail_on=split_names(fail_on),
        store=str(store) if store else None,
        engine=engine,
        scheduler=scheduler,
        skip_bad_lines=skip_bad_lines or None,
        delimiter=delimiter,
        decimal=decimal,
        max_line_bytes=max_line_bytes,
        max_columns=max_columns,
        missing_ratio=missing_ratio,
        missing_points=missing_points,
        unseen_ratio=unseen_ratio,
        unseen_points=unseen_points,
        invalid_ratio=invalid_ratio,
        invalid_points=invalid_points,
        json_path=json_path,
        metrics=str(metrics) if metrics else None,
        on_drift=on_drift,
        on_drift_also=split_names(on_drift_also),
        hook_timeout=hook_timeout,
        slice=slice_column,
        max_slices=max_slices,
        joint=joint or None,
        joint_method=joint_method,
    )
    context = prepare(given, config, debug)
    if show_config:
        context.run(lambda: show_settings(context, output_format))
        raise typer.Exit(ExitCode.OK)
    reports = _report_files(json=json_to, junit=junit_to, markdown=markdown_to, html=html_to)
    context.run(lambda: no_stdout_files(output, reports))
    grouping = context.run(
        lambda: grouping_for(context, by, every, timezone, chunk_rows, fail_on_any_chunk)
    )
    inputs = _Inputs(live, ref, window, input_format, ref_format, quiet)
    monitor = context.run(lambda: monitor_for(context, quiet=quiet))
    started = time.monotonic()
    with progress(shown=not quiet):
        result = context.run(lambda: _run(context, inputs, grouping, fail_on_any_chunk))
    seconds = time.monotonic() - started
    _note_warnings(result, quiet)
    main = MainReport(output_format, output, to_stdout=not quiet, view=View(sort, only_failing))
    try:
        context.run(lambda: emit(result, main, reports, summary))
    finally:
        # After the reports, so a slow hook never holds the verdict back; even if a
        # report could not be written, since the check itself was made.
        monitor.checked(result, result.live.name if live else window or "live", seconds)
    raise typer.Exit(_exit_code(result, exit_zero))


def _note_warnings(result: "CheckResult | Timeline | SlicedCheck", quiet: bool) -> None:
    """What stderr says beside the report, unless --quiet."""
    for line in [] if quiet else warnings_of(result):
        note(line)


def _report_files(**paths: Path | None) -> dict[OutputFormat, Path | None]:
    """The report files asked for, by format (cli/reports.py writes them): an option per
    format registered with a report file (output/formats.py), named as the format is."""
    return {name: paths[name.value] for name in REPORT_FILE_FORMATS}


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
    context: Context,
    inputs: _Inputs,
    grouping: "tuple[Chunking | None, BySlice | None]",
    any_chunk: bool,
) -> "CheckResult | Timeline | SlicedCheck":
    """The check, the chunked check or the sliced check the command line asks for (sliced
    too when the reference holds slices)."""
    from driftcli import api

    chunking, slicing = grouping
    if chunking is None and (
        slicing is not None or api.holds_slices(inputs.ref, context.store_path, inputs.ref_format)
    ):
        with context.engine() as counting:
            return api.check_slices(
                inputs.live,
                inputs.ref,
                slicing,
                context.settings,
                store=context.store_path,
                window=inputs.window,
                live_format=inputs.live_format,
                ref_format=inputs.ref_format,
                engine=counting,
                on_warning=inputs.warn,
            )
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


def _exit_code(result: "CheckResult | Timeline | SlicedCheck", exit_zero: bool) -> ExitCode:
    """0, 1, or 2 when no feature (no chunk) could be judged (said on stderr)."""
    from driftcli.results import Verdict

    if result.verdict is Verdict.NO_VERDICT:
        note(f"error: no verdict: {result.decision.rule}")
        note("hint: check a larger live window, or build a larger reference")
        return ExitCode.ERROR
    return ExitCode.DRIFT if result.drift and not exit_zero else ExitCode.OK
