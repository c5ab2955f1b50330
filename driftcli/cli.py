"""The command line: parse options, call the core, render, exit.

No numpy, no pyarrow and no formatting logic here; the core is imported
inside commands so that `driftcli --help` stays fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from driftcli import __version__
from driftcli.errors import DriftcliError, ExitCode
from driftcli.formats import InputFormat, OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from driftcli.results import CheckResult

T = TypeVar("T")

EXIT_CODES_HELP = (
    "Exit codes: 0 no feature drifted; 1 drift found; "
    "2 trouble (bad usage, unreadable input, internal error)."
)

app = typer.Typer(
    name="driftcli",
    help="Detect drift between live and reference ML data, feature by feature.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


@app.command(epilog=EXIT_CODES_HELP)
def check(
    live: Annotated[
        str,
        typer.Argument(
            help="Live data: a CSV, Parquet or JSON-lines file (.gz/.zst too), or - for stdin.",
            metavar="LIVE",
            show_default=False,
        ),
    ],
    ref: Annotated[
        str,
        typer.Option(
            "--ref",
            "-r",
            help="Reference data the live data is compared with (a file, or - for stdin).",
            metavar="REF",
        ),
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output: a table, or JSON for programs.")
    ] = OutputFormat.TABLE,
    threshold: Annotated[
        float,
        typer.Option(help="Drift when KL(live || ref) in nats is above this.", min=0.0),
    ] = 0.5,
    bins: Annotated[
        int, typer.Option(help="Quantile bins per numeric feature (from the reference).", min=2)
    ] = 20,
    min_rows: Annotated[
        int | None,
        typer.Option(
            help="Live rows needed for a verdict; default: derived per feature so that "
            "chance alone crosses the threshold in under 1% of windows.",
            min=1,
            show_default=False,
        ),
    ] = None,
    features: Annotated[
        list[str] | None,
        typer.Option(
            "--features",
            help="Only these features (comma-separated or repeated).",
            metavar="NAMES",
            show_default=False,
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude", help="Leave these features out.", metavar="NAMES", show_default=False
        ),
    ] = None,
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
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when drift is found (report only).")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an internal error.")
    ] = False,
) -> None:
    """Compare LIVE with the reference and report drift per feature."""
    from driftcli.core import check as run_check
    from driftcli.results import Settings

    settings = Settings(
        threshold=threshold,
        bins=bins,
        max_categories=bins,
        min_rows=min_rows,
        features=_split_names(features),
        exclude=_split_names(exclude),
    )
    result = _guarded(
        debug,
        lambda: run_check(live, ref, settings, live_format=input_format, ref_format=ref_format),
    )
    _emit(result, output_format)
    drifted = result.drift and not exit_zero
    raise typer.Exit(ExitCode.DRIFT if drifted else ExitCode.OK)


def _split_names(values: list[str] | None) -> tuple[str, ...]:
    names = [name.strip() for value in values or [] for name in value.split(",")]
    return tuple(dict.fromkeys(name for name in names if name))


def _guarded(debug: bool, action: Callable[[], T]) -> T:
    """Run the core; turn every failure into one line on stderr and exit 2."""
    try:
        return action()
    except DriftcliError as exc:
        _fail(exc.message, exc.hint)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback without --debug
        if debug:
            traceback.print_exc()
        # The exception's message may quote user data; only its type is shown.
        _fail(
            f"internal error ({type(exc).__name__})",
            None if debug else "rerun with --debug to see the traceback, and please report it",
        )


def _fail(message: str, hint: str | None) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    if hint:
        typer.echo(f"hint: {hint}", err=True)
    raise typer.Exit(ExitCode.ERROR)


def _emit(result: CheckResult, output_format: OutputFormat) -> None:
    from driftcli.report import render_json, render_table

    try:
        if output_format is OutputFormat.JSON:
            # Straight to stdout: a rich console would wrap long lines when piped.
            sys.stdout.write(render_json(result) + "\n")
        else:
            _console().print(render_table(result))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (e.g. `| head`) left early: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _console() -> Console:
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
