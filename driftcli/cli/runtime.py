"""What every command does around the library call: settings, errors, output streams.

Every failure becomes one line on stderr and exit 2, here and nowhere else.
The library (driftcli.api) is imported inside commands, so that
`driftcli --help` imports neither numpy nor pyarrow.
"""

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

from driftcli.errors import DriftcliError, ExitCode

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from driftcli.config import Resolved
    from driftcli.engine import Engine
    from driftcli.settings import Settings
    from driftcli.store import Store

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """A command's effective settings, and where they came from."""

    resolved: "Resolved"
    debug: bool

    @property
    def settings(self) -> "Settings":
        return self.resolved.settings()

    @property
    def store_path(self) -> Path:
        return Path(self.resolved.values["store"])

    def store(self, *, create: bool) -> "Store":
        from driftcli.store import Store

        return Store.open(self.store_path, create=create)

    def run(self, action: Callable[[], T]) -> T:
        return guarded(self.debug, action)

    @contextlib.contextmanager
    def engine(self) -> Iterator["Engine | None"]:
        """The engine the settings name; None for the local one (the library's default)."""
        values = self.resolved.values
        if values["engine"] == "local" and not values["scheduler"]:
            yield None
            return
        from driftcli.engine import open_engine

        engine = guarded(self.debug, lambda: open_engine(values["engine"], values["scheduler"]))
        try:
            yield engine
        finally:
            engine.close()


def prepare(flags: Mapping[str, object], config: Path | None, debug: bool) -> Context:
    """Flags, then DRIFTCLI_* variables, then the config file: the command's context."""
    from driftcli.config import resolve

    given = {key: value for key, value in flags.items() if value is not None}
    return Context(guarded(debug, lambda: resolve(given, config=config)), debug)


def guarded(debug: bool, action: Callable[[], T]) -> T:
    """Run the library; turn every failure into one line on stderr and exit 2."""
    try:
        return action()
    except DriftcliError as exc:
        fail(exc.message, exc.hint)
    except KeyboardInterrupt:
        note("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback without --debug
        if debug:
            import traceback

            traceback.print_exc()
        # The exception's message may quote user data; only its type is shown.
        fail(
            f"internal error ({type(exc).__name__})",
            None if debug else "rerun with --debug to see the traceback, and please report it",
        )


def fail(message: str, hint: str | None = None) -> NoReturn:
    note(f"error: {message}")
    if hint:
        note(f"hint: {hint}")
    raise typer.Exit(ExitCode.ERROR)


def note(line: str) -> None:
    """A line on stderr."""
    typer.echo(line, err=True)


def write_json(document: str) -> None:
    # Straight to stdout: a rich console would wrap long lines when piped.
    write_stdout(lambda: sys.stdout.write(document + "\n"))


def write_rich(renderable: "RenderableType") -> None:
    write_stdout(lambda: console().print(renderable))


def write_stdout(write: Callable[[], object]) -> None:
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (e.g. `| head`) left early: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def write_file(path: Path, text: str) -> None:
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise DriftcliError(f"{path}: cannot write the report: {exc.strerror or exc}") from exc


def plain_text(renderable: "RenderableType") -> str:
    """A rich renderable as plain text, for a file."""
    import io

    from rich.console import Console

    out = Console(file=io.StringIO(), width=140, no_color=True, highlight=False)
    out.print(renderable)
    text: str = out.file.getvalue()  # type: ignore[attr-defined]
    return text.rstrip()


def console() -> "Console":
    from rich.console import Console

    out = Console(highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        # Pipes and CI logs get a fixed width wide enough for the table,
        # instead of rich's 80 columns that would fold the histograms.
        out = Console(highlight=False, width=140)
    return out


@contextlib.contextmanager
def progress(shown: bool = True) -> Iterator[None]:
    """A progress bar on stderr while inputs are read, when stderr is a terminal."""
    if not shown or not sys.stderr.isatty():
        yield
        return
    from driftcli.inputs.progress import listening
    from driftcli.output.progress import ProgressBar

    with ProgressBar() as bar, listening(bar.update):
        yield
