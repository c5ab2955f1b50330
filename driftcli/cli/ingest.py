"""`driftcli ingest`: append rows to a live window in the store (its last N rows)."""

import signal
from typing import TYPE_CHECKING, Annotated

import typer

from driftcli import interrupts
from driftcli.cli.app import app
from driftcli.cli.monitor import Monitor, monitor_for
from driftcli.cli.options import (
    ConfigOption,
    DebugOption,
    DecimalOption,
    DelimiterOption,
    HookTimeoutOption,
    InputFormatOption,
    JsonPathOption,
    MaxColumnsOption,
    MaxLineBytesOption,
    MetricsOption,
    OnDriftAlsoOption,
    OnDriftOption,
    QuietOption,
    SkipBadLinesOption,
    StoreOption,
    ThresholdOption,
    WindowOption,
    at_most_max_count,
    split_names,
)
from driftcli.cli.runtime import fail, note, prepare, warn
from driftcli.errors import ExitCode
from driftcli.setting_table import Given

if TYPE_CHECKING:
    from collections.abc import Callable

    from driftcli.results import CheckResult
    from driftcli.sliced import SlicedCheck
from driftcli.records import IngestReport


@app.command(
    epilog="Exit codes: 0 stored; 1 a --check-every check found drift; 2 trouble.",
    short_help="Append rows to a live window in the store (its last N rows).",
)
def ingest(
    data: Annotated[
        str,
        typer.Argument(
            help="Rows to append: a CSV, Parquet or JSON-lines file, or - for stdin; "
            "with --follow, a log file of JSON lines.",
            metavar="DATA",
            show_default=False,
        ),
    ],
    window: WindowOption = "live",
    store: StoreOption = None,
    window_size: Annotated[
        int | None,
        typer.Option(
            help="Keep only the last N rows in the window (stored with it; default 10,000).",
            min=1,
            callback=at_most_max_count,
            show_default=False,
        ),
    ] = None,
    flush_rows: Annotated[
        int,
        typer.Option(
            help="Write rows to the store every N rows...", min=1, callback=at_most_max_count
        ),
    ] = 10_000,
    flush_seconds: Annotated[
        float, typer.Option(help="...or every S seconds, whichever comes first.", min=0.01)
    ] = 5.0,
    check_every: Annotated[
        int | None,
        typer.Option(
            help="Check the window every N rows; print one line per drifted feature to stderr.",
            min=1,
            callback=at_most_max_count,
            show_default=False,
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Follow DATA, a log of JSON lines, like tail -F (across rotation), from "
            "where the window's last --follow of it stopped; stop with SIGTERM or Ctrl-C.",
        ),
    ] = False,
    json_path: JsonPathOption = None,
    metrics: MetricsOption = None,
    on_drift: OnDriftOption = None,
    on_drift_also: OnDriftAlsoOption = None,
    hook_timeout: HookTimeoutOption = None,
    threshold: ThresholdOption = None,
    skip_bad_lines: SkipBadLinesOption = False,
    delimiter: DelimiterOption = None,
    decimal: DecimalOption = None,
    max_line_bytes: MaxLineBytesOption = None,
    max_columns: MaxColumnsOption = None,
    input_format: InputFormatOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print a line on stderr at every flush.")
    ] = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Append rows to a live window in the store (bounded to its last N rows)."""
    if quiet and verbose:
        fail("--quiet and --verbose contradict each other: give one")
    given = Given(
        threshold=threshold,
        store=str(store) if store else None,
        delimiter=delimiter,
        decimal=decimal,
        max_line_bytes=max_line_bytes,
        max_columns=max_columns,
        json_path=json_path,
        metrics=str(metrics) if metrics else None,
        on_drift=on_drift,
        on_drift_also=split_names(on_drift_also),
        hook_timeout=hook_timeout,
        skip_bad_lines=skip_bad_lines or None,
    )
    context = prepare(given, config, debug)
    monitor = context.run(lambda: monitor_for(context, quiet=quiet))
    if monitor.active and check_every is None:
        fail("--metrics and --on-drift act on checks: give --check-every N too")
    told = _Listener(window, monitor, quiet=quiet, verbose=verbose)

    def run() -> "IngestReport":
        from driftcli import api

        options = api.IngestOptions(
            window=window,
            max_rows=window_size,
            flush_rows=flush_rows,
            flush_seconds=flush_seconds,
            check_every=check_every,
            skip_bad_lines=context.settings.skip_bad_lines,
            input_format=input_format,
            follow=follow,
        )
        hooks = api.IngestHooks(
            on_flush=told.on_flush, on_check=told.on_check, on_warning=told.on_warning
        )
        store = context.store(create=True, when_written=True)
        try:
            return api.ingest(data, store, options, context.settings, hooks)
        except api.IngestInterrupted as stop:
            told.summarize(stop.report)  # what was stored before the stop
            raise
        except api.IngestFailed as failed:
            if failed.report.flushes:
                told.summarize(failed.report)  # what was stored before the failed write
            raise

    report = _stoppable(lambda: context.run(run))
    told.summarize(report)
    raise typer.Exit(ExitCode.DRIFT if told.drift_seen else ExitCode.OK)


def _stoppable(action: "Callable[[], IngestReport]") -> IngestReport:
    """Run the ingest with SIGTERM and SIGHUP stopping it as Ctrl-C does.

    A service manager stops with SIGTERM, a closed terminal or session hangs
    up with SIGHUP: either way the rows read so far are flushed, as on Ctrl-C,
    once the flush under way is counted (interrupts.py). A signal ignored at
    start stays ignored: `nohup driftcli ingest` must outlive its terminal, as
    any command under nohup does.
    """
    previous = {
        signum: signal.signal(signum, interrupts.stop)
        for signum in _STOPPING
        if signal.getsignal(signum) is not signal.SIG_IGN
    }
    try:
        return action()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _Listener:
    """What an ingest says on stderr as it goes, and whether a check found drift."""

    def __init__(self, window: str, monitor: Monitor, *, quiet: bool, verbose: bool) -> None:
        self.window = window
        self.monitor = monitor
        self.quiet = quiet
        self.verbose = verbose
        self.drift_seen = False

    def on_flush(self, rows: int, window_rows: int) -> None:
        if self.verbose:
            from driftcli.output.texts import plural

            note(f"stored {plural(rows, 'row')}; window {self.window!r} holds {window_rows:,}")

    def on_warning(self, text: str) -> None:
        if not self.quiet:
            warn(text)

    def on_check(self, result: "CheckResult | SlicedCheck", report: "IngestReport") -> None:
        from driftcli.output.lines import alert_lines, no_verdict_line
        from driftcli.results import Verdict

        self.drift_seen = self.drift_seen or result.drift
        lines = alert_lines(result, self.window)
        if result.verdict is Verdict.NO_VERDICT:
            # Not an error: a later check, over more rows, may judge; but never silent.
            lines.append(no_verdict_line(result, self.window))
        for line in [] if self.quiet else lines:
            note(line)
        self.monitor.checked(result, self.window, report.check_seconds, report)

    def summarize(self, report: "IngestReport") -> None:
        from driftcli.output.lines import ingest_summary

        self.monitor.write_metrics(report, self.window)  # the final counts

        for line in [] if self.quiet else ingest_summary(report, self.window):
            note(line)


_STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
