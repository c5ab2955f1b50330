"""The command line: parse options, call the library (driftcli.api), render, exit.

One module per command; options several commands share are declared once
(options.py); settings, errors and output streams are handled in one place
(runtime.py). No numpy, no pyarrow and no formatting logic here.
"""

from driftcli.cli import check, history, ingest, reference, status  # noqa: F401 - registers the commands
from driftcli.cli.app import app


def main() -> None:
    """Entry point for `python -m driftcli`."""
    app(prog_name="driftcli")


__all__ = ["app", "main"]
