"""`driftcli check`: compare live data with the reference; exit 1 on drift."""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from driftcli.choices import Correction, InputFormat, OutputFormat
from driftcli.cli.app import EXIT_CODES_HELP, app
from driftcli.cli.options import (
    BinsOption,
    ConfigOption,
    DebugOption,
    EngineOption,
    ExcludeOption,
    FeaturesOption,
    FormatOption,
    InputFormatOption,
    MaxLineBytesOption,
    MetricOption,
    SchedulerOption,
    SkipBadLinesOption,
    StoreOption,
    ThresholdOption,
    WindowOption,
    split_names,
)
from driftcli.cli.runtime import (
    Context,
    note,
    plain_text,
    prepare,
    progress,
    warn,
    write_file,
    write_json,
    write_rich,
    write_stdout,
)
from driftcli.errors import DriftcliError, ExitCode

if TYPE_CHECKING:
    from driftcli.results import CheckResult


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
    window: WindowOption = "live",
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
            show_default=False,
        ),
    ] = None,
    features: FeaturesOption = None,
    exclude: ExcludeOption = None,
    skip_bad_lines: SkipBadLinesOption = False,
    max_line_bytes: MaxLineBytesOption = None,
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
    (the live window against the stored reference), driftcli check LIVE (a
    file against the stored reference), or driftcli check --window NAME.
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
        "max_line_bytes": max_line_bytes,
    }
    context = prepare(flags, config, debug)
    if show_config:
        context.run(lambda: _show_config(context))
        raise typer.Exit(ExitCode.OK)

    def run() -> "CheckResult":
        from driftcli import api

        with context.engine() as counting:
            return api.check_inputs(
                live,
                ref,
                context.settings,
                store=context.store_path,
                window=window,
                live_format=input_format,
                ref_format=ref_format,
                engine=counting,
                on_warning=warn,
            )

    with progress():
        result = context.run(run)
    from driftcli.output.lines import warnings

    for line in warnings(result):
        note(line)
    reports = {
        OutputFormat.JSON: json_file,
        OutputFormat.JUNIT: junit_file,
        OutputFormat.MARKDOWN: markdown_file,
    }
    context.run(lambda: _emit(result, output_format, output, reports, summary))
    raise typer.Exit(_exit_code(result, exit_zero))


def _exit_code(result: "CheckResult", exit_zero: bool) -> ExitCode:
    """0, 1, or 2 when no feature could be judged (said on stderr)."""
    from driftcli.results import Verdict

    if result.verdict is Verdict.NO_VERDICT:
        note(f"error: no verdict: {result.decision.rule}")
        note("hint: check a larger live window, or build a larger reference")
        return ExitCode.ERROR
    return ExitCode.DRIFT if result.drift and not exit_zero else ExitCode.OK


def _render(result: "CheckResult", fmt: OutputFormat) -> str:
    """A text report (the table is rendered apart: it is rich)."""
    if fmt is OutputFormat.JSON:
        from driftcli.output.json_report import render_json

        return render_json(result)
    if fmt is OutputFormat.MARKDOWN:
        from driftcli.output.markdown import render_markdown

        return render_markdown(result)
    from driftcli.output.junit import render_junit

    return render_junit(result)


def _emit(
    result: "CheckResult",
    output_format: OutputFormat,
    output: Path | None,
    reports: dict[OutputFormat, Path | None],
    summary: bool,
) -> None:
    """The report on stdout (or --output), plus any report files and the job summary."""
    for fmt, path in reports.items():
        if path is not None:
            write_file(path, _render(result, fmt))
    if summary:
        _append_summary(_render(result, OutputFormat.MARKDOWN))
    if output_format is OutputFormat.TABLE:
        from driftcli.output.table import render_table

        if output is not None:
            write_file(output, plain_text(render_table(result)))
        else:
            write_rich(render_table(result))
    elif output is not None:
        write_file(output, _render(result, output_format))
    else:
        write_json(_render(result, output_format))


def _append_summary(markdown: str) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        note("warning: --summary: GITHUB_STEP_SUMMARY is not set (not in GitHub Actions?)")
        return
    try:
        with open(target, "a", encoding="utf-8") as out:
            out.write(markdown + "\n")
    except OSError as exc:
        raise DriftcliError(
            f"--summary: cannot write GITHUB_STEP_SUMMARY {target}: {exc.strerror or exc}"
        ) from exc


def _show_config(context: Context) -> None:
    import sys

    from driftcli.config import describe
    from driftcli.output.texts import shown

    resolved = context.resolved
    where = (
        resolved.config_path or "none found (driftcli.toml or [tool.driftcli] in pyproject.toml)"
    )
    lines = [shown(f"config file: {where}")]
    rows = [tuple(shown(part) for part in row) for row in describe(resolved)]
    width = max(len(key) for key, _, _ in rows)
    lines += [f"{key:<{width}}  {value}  ({source})" for key, value, source in rows]
    write_stdout(lambda: sys.stdout.write("\n".join(lines) + "\n"))
