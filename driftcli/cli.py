"""The command line: parse options, call the core, render, exit.

No numpy, no pyarrow and no formatting logic here; the core is imported
inside commands so that `driftcli --help` stays fast.
"""

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from driftcli import __version__
from driftcli.errors import DriftcliError, ExitCode
from driftcli.formats import Correction, InputFormat, OutputFormat

# driftcli never calls BLAS, but numpy's OpenBLAS starts a thread per core on
# import, and they spin: importing numpy cost 285-330 ms of CPU instead of
# 134-200 ms (perf stat, 6 runs each), CPU a shared CI runner pays for. Only
# this command's process is affected, and a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# No `from __future__ import annotations` here: Typer would then evaluate every
# option's annotation from its string at each start (measured: building the
# commands 17.6 -> 5.4 ms). Names imported only for type checking are quoted.
if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from driftcli.config import Resolved
    from driftcli.core import IngestReport
    from driftcli.engine import Engine
    from driftcli.results import CheckResult
    from driftcli.snapshot import Snapshot
    from driftcli.store import Store

T = TypeVar("T")

EXIT_CODES_HELP = (
    "Exit codes: 0 no feature drifted; 1 drift found; "
    "2 trouble (bad usage, unreadable input, corrupt store, internal error, "
    "or no feature could be judged)."
)

app = typer.Typer(
    name="driftcli",
    help="Detect drift between live and reference ML data, feature by feature.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: Typer's rich help imports rich and markdown-it first
    # (measured: driftcli --help 0.21 -> 0.10 s).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# --- options shared by several commands ---------------------------------------

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Store directory (default: .driftcli; or DRIFTCLI_STORE, or store in the config).",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file (default: driftcli.toml, else [tool.driftcli] in pyproject.toml).",
        show_default=False,
    ),
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show the traceback of an internal error.")
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output: a table, or JSON for programs.")
]
ThresholdOption = Annotated[
    float | None,
    typer.Option(
        help="Drift when the score is above this, and chance cannot explain it "
        "(default: the metric's own; kl 0.1).",
        min=0.0,
        show_default=False,
    ),
]
MetricOption = Annotated[
    str | None,
    typer.Option(
        help="kl (default), psi, js, hellinger; on raw numeric samples: ks, wasserstein.",
        show_default=False,
    ),
]
BinsOption = Annotated[
    int | None,
    typer.Option(
        help="Quantile bins per numeric feature, and the cap on categories "
        "(used when a reference is built from data) [default: 20].",
        min=2,
        show_default=False,
    ),
]
FeaturesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--features",
        help="Only these features (comma-separated or repeated).",
        metavar="NAMES",
        show_default=False,
    ),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude", help="Leave these features out.", metavar="NAMES", show_default=False
    ),
]
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Where to count: local (default) or dask (pip install 'driftcli[dask]').",
        show_default=False,
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler address (tcp://HOST:8786); without it, a local Dask cluster.",
        show_default=False,
    ),
]
SkipBadLinesOption = Annotated[
    bool,
    typer.Option(
        "--skip-bad-lines",
        help="Count and skip malformed lines (and, for ingest, values of the wrong type) "
        "instead of stopping at the first.",
    ),
]
WindowOption = Annotated[
    str, typer.Option("--window", "-w", help="Name of the live window in the store.")
]


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"driftcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Detect drift between live and reference ML data, feature by feature."""


# --- check --------------------------------------------------------------------


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
            help="A drift needs a p-value below this [default: 0.005].",
            show_default=False,
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
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            help="Format of LIVE when neither suffix nor content tells it.", show_default=False
        ),
    ] = None,
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
        "features": _split_names(features) or None,
        "exclude": _split_names(exclude) or None,
        "max_drift_share": max_drift_share,
        "fail_on": _split_names(fail_on) or None,
        "store": str(store) if store else None,
        "engine": engine,
        "scheduler": scheduler,
        "skip_bad_lines": skip_bad_lines or None,
    }
    resolved = _guarded(debug, lambda: _resolve(flags, config))
    if show_config:
        _show_config(resolved)
        raise typer.Exit(ExitCode.OK)
    settings = resolved.settings()
    store = Path(resolved.values["store"])

    def run() -> "CheckResult":
        from driftcli import core

        with _engine(resolved) as engine:
            if live and ref is not None:
                return core.check(
                    live,
                    ref,
                    settings,
                    live_format=input_format,
                    ref_format=ref_format,
                    engine=engine,
                )
            if ref is not None:
                reference = core.load_reference(ref, settings, ref_format, engine)
            else:
                stored = _open_store(store, create=False).load_reference()
                reference = core.restrict(stored, settings)
            if live:
                return core.check_against(
                    live, reference, settings, live_format=input_format, engine=engine
                )
            return core.check_window(
                _open_store(store, create=False).window(window), reference, settings
            )

    with _progress():
        result = _guarded(debug, run)
    from driftcli.serialize import warnings

    for line in warnings(result):
        _note(line)
    reports = {OutputFormat.JSON: json_file, OutputFormat.JUNIT: junit_file}
    reports[OutputFormat.MARKDOWN] = markdown_file
    _guarded(debug, lambda: _emit_check(result, output_format, output, reports, summary))
    raise typer.Exit(_exit_code(result, exit_zero))


# --- reference ----------------------------------------------------------------


@app.command(short_help="Build the reference snapshot from data, or promote a window.")
def reference(
    data: Annotated[
        str | None,
        typer.Argument(
            help="Reference data: a CSV, Parquet or JSON-lines file, or - for stdin.",
            metavar="DATA",
            show_default=False,
        ),
    ] = None,
    from_window: Annotated[
        str | None,
        typer.Option(
            "--from-window",
            help="Promote this live window to be the new reference, instead of DATA.",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the snapshot to this file instead of the store (usable as --ref).",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
    bins: BinsOption = None,
    features: FeaturesOption = None,
    exclude: ExcludeOption = None,
    skip_bad_lines: SkipBadLinesOption = False,
    config: ConfigOption = None,
    sample_size: Annotated[
        int, typer.Option(help="Raw rows kept in the snapshot as a uniform sample.", min=0)
    ] = 10_000,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            help="Format of DATA when neither suffix nor content tells it.", show_default=False
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.TABLE,
    debug: DebugOption = False,
) -> None:
    """Build the reference snapshot from DATA (or promote a window) and store it."""
    if (data is None) == (from_window is None):
        _fail("give either DATA or --from-window NAME", "driftcli reference DATA")
    flags = {
        "bins": bins,
        "features": _split_names(features) or None,
        "exclude": _split_names(exclude) or None,
        "store": str(store) if store else None,
        "engine": engine,
        "scheduler": scheduler,
        "skip_bad_lines": skip_bad_lines or None,
    }
    resolved = _guarded(debug, lambda: _resolve(flags, config))
    settings = resolved.settings()
    store = Path(resolved.values["store"])

    def run() -> "tuple[Snapshot, str]":
        from driftcli import core
        from driftcli.snapshot import write_snapshot

        if from_window is not None:
            home = _open_store(store, create=False)
            snapshot = core.reference_from_window(
                home.window(from_window), settings, sample_rows=sample_size
            )
        else:
            assert data is not None
            with _engine(resolved) as engine:
                snapshot = core.build_reference(
                    data, settings, input_format, sample_rows=sample_size, engine=engine
                )
        if output is not None:
            write_snapshot(snapshot, output)
            return snapshot, str(output)
        home = _open_store(store, create=True)
        home.save_reference(snapshot)
        return snapshot, str(home.reference_path)

    snapshot, where = _guarded(debug, run)

    def show() -> None:
        if output_format is OutputFormat.JSON:
            from driftcli.serialize import reference_json

            _write_json(reference_json(snapshot, where))
        else:
            from driftcli.report import render_reference

            _print(render_reference(snapshot, where))

    _guarded(debug, show)


# --- ingest -------------------------------------------------------------------


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
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            help="Format of DATA when neither suffix nor content tells it.", show_default=False
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print a line on stderr at every flush.")
    ] = False,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Append rows to a live window in the store (bounded to its last N rows)."""
    flags = {"threshold": threshold, "store": str(store) if store else None}
    resolved = _guarded(debug, lambda: _resolve(flags, config))
    settings = resolved.settings()
    store = Path(resolved.values["store"])
    drift_seen = False

    def on_flush(rows: int, window_rows: int) -> None:
        if verbose:
            _note(f"stored {rows:,} rows; window {window!r} holds {window_rows:,}")

    def on_check(result: "CheckResult") -> None:
        nonlocal drift_seen
        from driftcli.serialize import alert_lines

        drift_seen = drift_seen or result.drift
        for line in alert_lines(result, window):
            _note(line)

    def run() -> "IngestReport":
        from driftcli import core

        options = core.IngestOptions(
            window=window,
            max_rows=window_size,
            flush_rows=flush_rows,
            flush_seconds=flush_seconds,
            check_every=check_every,
            skip_bad_lines=skip_bad_lines,
            input_format=input_format,
        )
        home = _open_store(store, create=True)
        return core.ingest(
            data,
            home,
            options,
            settings,
            on_flush=on_flush,
            on_check=on_check,
            on_warning=lambda text: _note(f"warning: {text}"),
        )

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = _guarded(debug, run)
    finally:
        signal.signal(signal.SIGTERM, previous)
    from driftcli.serialize import ingest_summary

    for line in ingest_summary(report, window):
        _note(line)
    raise typer.Exit(ExitCode.DRIFT if drift_seen else ExitCode.OK)


def _exit_code(result: "CheckResult", exit_zero: bool) -> ExitCode:
    """0, 1, or 2 when no feature could be judged (said on stderr)."""
    from driftcli.results import Verdict

    if result.verdict is Verdict.NO_VERDICT:
        _note(f"error: no verdict: {result.decision.rule}")
        _note("hint: check a larger live window, or build a larger reference")
        return ExitCode.ERROR
    return ExitCode.DRIFT if result.drift and not exit_zero else ExitCode.OK


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


# --- status -------------------------------------------------------------------


@app.command(short_help="Show the store: reference, windows, their sizes.")
def status(
    store: StoreOption = None,
    output_format: FormatOption = OutputFormat.TABLE,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Show what the store holds: the reference, the windows, their rows and time spans."""
    from driftcli.core import store_status
    from driftcli.serialize import status_json

    flags = {"store": str(store) if store else None}
    resolved = _guarded(debug, lambda: _resolve(flags, config))
    home = Path(resolved.values["store"])
    state = _guarded(debug, lambda: store_status(_open_store(home, create=False)))
    if output_format is OutputFormat.JSON:
        _guarded(debug, lambda: _write_json(status_json(state)))
    else:
        from driftcli.report import render_status

        _guarded(debug, lambda: _print(render_status(state)))


# --- plumbing -----------------------------------------------------------------


def _open_store(root: Path | None, *, create: bool) -> "Store":
    from driftcli.store import DEFAULT_STORE, Store

    root = root or Path(os.environ.get("DRIFTCLI_STORE") or DEFAULT_STORE)
    return Store.open(root, create=create)


def _split_names(values: list[str] | None) -> tuple[str, ...]:
    """Repeated and comma-separated names; `--exclude ""` names the unnamed column."""
    names: list[str] = []
    for value in values or []:
        parts = value.split(",") if "," in value else [value]
        names += [part for part in parts if part.strip() or len(parts) == 1]
    return tuple(dict.fromkeys(names))


def _guarded(debug: bool, action: Callable[[], T]) -> T:
    """Run the core; turn every failure into one line on stderr and exit 2."""
    try:
        return action()
    except DriftcliError as exc:
        _fail(exc.message, exc.hint)
    except KeyboardInterrupt:
        _note("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback without --debug
        if debug:
            import traceback

            traceback.print_exc()
        # The exception's message may quote user data; only its type is shown.
        _fail(
            f"internal error ({type(exc).__name__})",
            None if debug else "rerun with --debug to see the traceback, and please report it",
        )


def _fail(message: str, hint: str | None) -> NoReturn:
    _note(f"error: {message}")
    if hint:
        _note(f"hint: {hint}")
    raise typer.Exit(ExitCode.ERROR)


def _note(line: str) -> None:
    typer.echo(line, err=True)


def _emit_check(
    result: "CheckResult",
    output_format: OutputFormat,
    output: Path | None,
    reports: dict[OutputFormat, Path | None],
    summary: bool,
) -> None:
    """The report on stdout (or --output), plus any report files and the job summary."""
    from driftcli import serialize

    texts = {
        OutputFormat.JSON: lambda: serialize.render_json(result),
        OutputFormat.MARKDOWN: lambda: serialize.render_markdown(result),
        OutputFormat.JUNIT: lambda: serialize.render_junit(result),
    }
    for fmt, path in reports.items():
        if path is not None:
            _write_file(path, texts[fmt]())
    if summary:
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        if not target:
            _note("warning: --summary: GITHUB_STEP_SUMMARY is not set (not in GitHub Actions?)")
        else:
            try:
                with open(target, "a", encoding="utf-8") as out:
                    out.write(serialize.render_markdown(result) + "\n")
            except OSError as exc:
                raise DriftcliError(
                    f"--summary: cannot write GITHUB_STEP_SUMMARY {target}: {exc.strerror or exc}"
                ) from exc
    if output_format is OutputFormat.TABLE:
        from driftcli.report import render_table

        if output is not None:
            _write_file(output, _plain_text(render_table(result)))
        else:
            _print(render_table(result))
    elif output is not None:
        _write_file(output, texts[output_format]())
    else:
        _write_json(texts[output_format]())


def _write_file(path: Path, text: str) -> None:
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise DriftcliError(f"{path}: cannot write the report: {exc.strerror or exc}") from exc


def _plain_text(renderable: "RenderableType") -> str:
    import io

    from rich.console import Console

    console = Console(file=io.StringIO(), width=140, no_color=True, highlight=False)
    console.print(renderable)
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    return text.rstrip()


def _resolve(flags: Mapping[str, object], config: Path | None) -> "Resolved":
    from driftcli.config import resolve

    return resolve(flags, config=config)


def _show_config(resolved: "Resolved") -> None:
    from driftcli.config import describe

    where = (
        resolved.config_path or "none found (driftcli.toml or [tool.driftcli] in pyproject.toml)"
    )
    lines = [f"config file: {where}"]
    rows = describe(resolved)
    width = max(len(key) for key, _, _ in rows)
    lines += [f"{key:<{width}}  {value}  ({source})" for key, value, source in rows]
    _stdout(lambda: sys.stdout.write("\n".join(lines) + "\n"))


@contextlib.contextmanager
def _engine(resolved: "Resolved") -> Iterator["Engine | None"]:
    """The engine the settings name; None for the local one (the core's default path)."""
    if resolved.values["engine"] == "local" and not resolved.values["scheduler"]:
        yield None
        return
    from driftcli.engine import open_engine

    engine = open_engine(resolved.values["engine"], resolved.values["scheduler"])
    try:
        yield engine
    finally:
        engine.close()


@contextlib.contextmanager
def _progress() -> Iterator[None]:
    """A progress bar on stderr while inputs are read, when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from driftcli.progress import listening
    from driftcli.report import ProgressBar

    with ProgressBar() as bar, listening(bar.update):
        yield


def _write_json(document: str) -> None:
    # Straight to stdout: a rich console would wrap long lines when piped.
    _stdout(lambda: sys.stdout.write(document + "\n"))


def _print(renderable: "RenderableType") -> None:
    _stdout(lambda: _console().print(renderable))


def _stdout(write: Callable[[], object]) -> None:
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (e.g. `| head`) left early: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _console() -> "Console":
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Pipes and CI logs get a fixed width wide enough for the table,
        # instead of rich's 80 columns that would fold the histograms.
        console = Console(highlight=False, width=140)
    return console


def main() -> None:
    """Entry point for `python -m driftcli`."""
    app(prog_name="driftcli")
