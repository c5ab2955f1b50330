"""The Typer application: the root command, its version flag, and the exit codes' help."""

import os
import sys
from typing import Any

import typer

from driftcli import __version__
from driftcli.cli.usage import DriftcliGroup
from driftcli.errors import ExitCode

# driftcli never calls BLAS, but numpy's OpenBLAS starts a thread per core on
# import, and they spin: CPU a shared CI runner pays for. Only this command's
# process is affected, and a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

EXIT_CODES_HELP = (
    "Exit codes: 0 no feature drifted; 1 drift found; "
    "2 trouble (bad usage, unreadable input, corrupt store, internal error, "
    "or no feature could be judged)."
)


class _Driftcli(typer.Typer):
    """The command as a process runs it (the entry point, `python -m driftcli`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from driftcli.cli.runtime import guard_standard_streams, note, silence

        guard_standard_streams()
        try:
            return super().__call__(*args, **kwargs)
        except OSError as exc:  # Click's own output (--help, --version) could not be written
            if sys.stdout is not None:
                silence(sys.stdout)
            note(f"error: cannot write output: {exc.strerror or exc}")
            sys.exit(ExitCode.ERROR)


app = _Driftcli(
    cls=DriftcliGroup,
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
