"""The command line: parse options, call the library (driftcli.api), render, exit.

One module per command; options several commands share are declared once
(options.py); settings, errors and output streams are handled in one place
(runtime.py). No numpy, no pyarrow and no formatting logic here.
"""

import os
import sys

from driftcli.cli import check, history, ingest, reference, status  # noqa: F401 - registers the commands
from driftcli.cli.app import app


def main() -> None:
    """The process's entry point (the `driftcli` command, `python -m driftcli`).

    The exit skips the interpreter's finalization, once the command is done and
    its output flushed: Arrow's worker threads may still be releasing a reader's
    Python buffer then, and one that asks for the GIL while the interpreter
    shuts down aborts the process (exit 134, apache/arrow#49942), turning a
    verdict into a crash. Every file driftcli writes is closed (and, in the
    store, synced) before its command returns, so nothing is left to finalize.
    """
    try:
        app(prog_name="driftcli")
        code = 0
    except SystemExit as exc:
        code = _status(exc.code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass  # what could not be written was already reported, or lost with stderr
    os._exit(code)


def _status(code: object) -> int:
    """The exit status `sys.exit(code)` gives: None is 0, a number itself, other values 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


__all__ = ["app", "main"]
