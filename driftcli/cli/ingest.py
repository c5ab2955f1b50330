"""`driftcli ingest`: append rows to a live window in the store (its last N rows)."""

import signal
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from driftcli.cli.app import app
from driftcli.cli.options import (
    ConfigOption,
    DebugOption,
    InputFormatOption,
    MaxLineBytesOption,
    SkipBadLinesOption,
    StoreOption,
    ThresholdOption,
    WindowOption,
)
from driftcli.cli.runtime import note, prepare
from driftcli.errors import ExitCode

if TYPE_CHECKING:
    from driftcli.results import CheckResult, IngestReport


@app.command(
    epilog="Exit codes: 0 stored; 1 a --check-every check found drift; 2 trouble.",
    short_help="Append rows to a live window in the store (its last N rows).",
)
def ingest(
    data: Annotated[
        str,
        typer.Argument(
            help="Rows to append: a CSV, Parquet or JSON-lines file, or - for stdin.",
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
            show_default=False,
        ),
    ] = None,
    flush_rows: Annotated[
        int, typer.Option(help="Write rows to the store every N rows...", min=1)
    ] = 10_000,
    flush_seconds: Annotated[
        float, typer.Option(help="...or every S seconds, whichever comes first.", min=0.01)
    ] = 5.0,
    check_every: Annotated[
        int | None,
        typer.Option(
            help="Check the window every N rows; print one line per drifted feature to stderr.",
            min=1,
            show_default=False,
        ),
    ] = None,
    threshold: ThresholdOption = None,
    skip_bad_lines: SkipBadLinesOption = False,
    max_line_bytes: MaxLineBytesOption = None,
    input_format: InputFormatOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print a line on stderr at every flush.")
    ] = False,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Append rows to a live window in the store (bounded to its last N rows)."""
    flags = {
        "threshold": threshold,
        "store": str(store) if store else None,
        "max_line_bytes": max_line_bytes,
    }
    context = prepare(flags, config, debug)
    drift_seen = False

    def on_flush(rows: int, window_rows: int) -> None:
        if verbose:
            note(f"stored {rows:,} rows; window {window!r} holds {window_rows:,}")

    def on_check(result: "CheckResult") -> None:
        nonlocal drift_seen
        from driftcli.output.lines import alert_lines

        drift_seen = drift_seen or result.drift
        for line in alert_lines(result, window):
            note(line)

    def run() -> "IngestReport":
        from driftcli import api

        options = api.IngestOptions(
            window=window,
            max_rows=window_size,
            flush_rows=flush_rows,
            flush_seconds=flush_seconds,
            check_every=check_every,
            skip_bad_lines=skip_bad_lines,
            input_format=input_format,
        )
        hooks = api.IngestHooks(
            on_flush=on_flush, on_check=on_check, on_warning=lambda text: note(f"warning: {text}")
        )
        store = context.store(create=True, when_written=True)
        return api.ingest(data, store, options, context.settings, hooks)

    # A service manager stops with SIGTERM, a closed terminal or session hangs
    # up with SIGHUP: either way the rows read so far are flushed, as on Ctrl-C.
    previous = {signum: signal.signal(signum, _interrupt) for signum in _STOPPING}
    try:
        report = context.run(run)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    from driftcli.output.lines import ingest_summary

    for line in ingest_summary(report, window):
        note(line)
    raise typer.Exit(ExitCode.DRIFT if drift_seen else ExitCode.OK)


_STOPPING = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
