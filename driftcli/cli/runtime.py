"""What every command does around the library call: settings, errors, output streams.

Every failure becomes one line on stderr and exit 2, here and nowhere else.
The exit code is the gate's contract, so a closed or full stderr never
changes it, and a result that cannot be written to stdout is exit 2
("cannot write output"), never a drift verdict. The library (driftcli.api)
is imported inside commands, so that `driftcli --help` imports neither numpy
nor pyarrow.
"""

import contextlib
import errno
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar, cast

import typer

from driftcli.errors import DriftcliError, ExitCode, flag_names, os_reason
from driftcli.output.texts import shown

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from driftcli.config import Resolved
    from driftcli.engine import Engine
    from driftcli.setting_table import Given
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
        return Path(self.resolved.values.store)

    def store(self, *, create: bool, when_written: bool = False, quiet: bool = False) -> "Store":
        """The store the settings name; its warnings go to stderr unless `quiet`."""
        from driftcli.store import Store

        return Store.open(
            self.store_path,
            create=create,
            on_warning=None if quiet else warn,
            when_written=when_written,
            line_limit=self.settings.max_line_bytes,
        )

    def run(self, action: Callable[[], T]) -> T:
        return guarded(self.debug, action)

    @contextlib.contextmanager
    def engine(self) -> Iterator["Engine | None"]:
        """The engine the settings name; None for the local one (the library's default).

        Used inside `run`, which reports its errors.
        """
        scheduler = self.resolved.scheduler()
        name = self.resolved.engine()
        if name == "local" and not scheduler:
            yield None
            return
        from driftcli.engine import open_engine

        engine = open_engine(name, scheduler)
        try:
            yield engine
        finally:
            engine.close()


def prepare(given: "Given", config: Path | None, debug: bool) -> Context:
    """Flags, then DRIFTCLI_* variables, then the config file: the command's context."""
    from driftcli.config import resolve

    return Context(guarded(debug, lambda: resolve(given, config=config)), debug)


def guarded(debug: bool, action: Callable[[], T]) -> T:
    """Run the library; turn every failure into one line on stderr and exit 2."""
    try:
        return action()
    except DriftcliError as exc:
        fail(exc.said, exc.said_hint)
    except typer.Exit:
        raise  # an exit code already decided
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
    """A line on stderr, control characters escaped (names in it are data).

    A closed, full or broken stderr loses the line, never the exit code.
    """
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(shown(flag_names(line)) + "\n")
        stream.flush()
    except (OSError, ValueError):
        silence(stream)


def warn(text: str) -> None:
    """A warning on stderr."""
    note(f"warning: {text}")


_CLOSED_AT_START: set[int] = set()
"""The standard descriptors (0, 1, 2) that were closed when driftcli started."""


def guard_standard_streams() -> None:
    """Put /dev/null on closed standard descriptors, and make stderr unable to fail.

    With fd 1 or 2 closed, the next file driftcli opens (a store file) would
    get that number, and anything written to "stderr" would land in it. The
    descriptors closed at start are remembered: a result for a closed stdout
    is then "cannot write output", and `-` for a closed stdin says so.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            _CLOSED_AT_START.add(fd)
    if sys.stderr is None or 2 in _CLOSED_AT_START:
        sys.stderr = open(2, "w", closefd=False, errors="backslashreplace")  # noqa: SIM115
    sys.stderr = cast(TextIO, _Unfailing(sys.stderr))


class _Unfailing:
    """A text stream whose writes cannot raise: for stderr, which only informs.

    Click writes usage errors to it too, so a full or broken stderr cannot turn
    exit 2 into a traceback's exit 1.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, ValueError):
            silence(self._stream)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            silence(self._stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def silence(stream: TextIO) -> None:
    """Point a failed stream's descriptor at /dev/null, so that what it still
    buffers is flushed there at exit instead of failing once more (Python's
    exit status would then be 120)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def write_document(document: str) -> None:
    """A whole report (JSON, Markdown, JUnit, HTML) and a newline, on stdout."""
    # Straight to stdout: a rich console would wrap long lines when piped.
    write_stdout(lambda: sys.stdout.write(document + "\n"))


def write_rich(renderable: "RenderableType") -> None:
    write_stdout(lambda: console().print(renderable))


def write_stdout(write: Callable[[], object]) -> None:
    """Write the result to stdout; `DriftcliError` ("cannot write output") if it cannot be.

    A reader that left early (`| head`) is not an error: the exit code stays
    the result's.
    """
    if sys.stdout is None or 1 in _CLOSED_AT_START:
        raise DriftcliError("cannot write output: stdout is closed")
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        silence(sys.stdout)
    except OSError as exc:
        silence(sys.stdout)
        raise DriftcliError(f"cannot write output: {exc.strerror or exc}") from exc


REPORT_READER_SECONDS = 5.0
"""How long a report written to a named pipe waits for a process to open it for reading."""


def write_file(path: Path, text: str, *, append: bool = False, what: str | None = None) -> None:
    """Write (or append) a report to a file, a named pipe or a process substitution.

    A named pipe that no process opens within `REPORT_READER_SECONDS` is an
    error, never a check that hangs; a reader that leaves early is not one,
    as on stdout.
    """
    label = what or f"{path}: cannot write the report"
    try:
        fd = _open_report(path, append)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise DriftcliError(
                f"{label}: it is a named pipe that no process opened for reading within "
                f"{REPORT_READER_SECONDS:g} s",
                hint="start its reader first (cat FIFO &), or give a regular file",
            ) from None
        raise DriftcliError(f"{label}: {os_reason(exc)}") from exc
    try:
        with open(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    except BrokenPipeError:
        pass  # the reader left early: what it wanted, it read
    except OSError as exc:
        raise DriftcliError(f"{label}: {os_reason(exc)}") from exc


def _open_report(path: Path, append: bool) -> int:
    """A descriptor to write a report to, in blocking mode.

    Opened without blocking: opening a named pipe for writing waits for a
    reader, forever if none comes. Without one (ENXIO), it is tried again
    until `REPORT_READER_SECONDS` have passed, for a reader started just after
    driftcli (`driftcli check ... --json FIFO & jq . FIFO`).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC
    flags |= os.O_APPEND if append else os.O_TRUNC
    deadline = time.monotonic() + REPORT_READER_SECONDS
    while True:
        try:
            fd = os.open(path, flags, 0o666)
        except OSError as exc:
            if exc.errno != errno.ENXIO or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
            continue
        os.set_blocking(fd, True)
        return fd


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

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich's own exits 1: a drift verdict to a CI job with pipefail. A
            # reader that left early is for write_stdout to judge.
            raise BrokenPipeError

    out = _Console(highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = _Console(highlight=False, width=_piped_width())
    return out


def _piped_width() -> int:
    """The width for stdout piped on (to less, tee, a file or a CI log).

    Piped from a terminal, the table still ends on that terminal: its width is
    the one of stderr or stdin when either is a terminal. A CI log has none, and
    gets a fixed width wide enough for the whole table.
    """
    for fd in (2, 0):
        try:
            if os.isatty(fd):
                return max(os.get_terminal_size(fd).columns, 40)
        except OSError:
            continue
    return 140


@contextlib.contextmanager
def progress(shown: bool = True) -> Iterator[None]:
    """A progress bar on stderr while inputs are read, when stderr is a terminal."""
    if not shown or sys.stderr is None or not sys.stderr.isatty():
        yield
        return
    from driftcli.inputs.progress import listening
    from driftcli.output.progress import ProgressBar

    with ProgressBar() as bar, listening(bar.update):
        yield
