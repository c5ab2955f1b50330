"""The Typer application: the root command, its version flag, and the exit codes' help."""

import os

import typer

from driftcli import __version__

# driftcli never calls BLAS, but numpy's OpenBLAS starts a thread per core on
# import, and they spin: CPU a shared CI runner pays for. Only this command's
# process is affected, and a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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
    # Plain help: Typer's rich help imports rich and markdown-it first, which
    # every `--help` would pay.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"driftcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Detect drift between live and reference ML data, feature by feature."""
