"""The one entry point every command reads through: a path, `-`, or several files, as a Source.

A directory, a glob or a list of paths is one input of several files
(dataset.py); anything else is one file or stdin (files.py). Memory stays
bounded by the run size: CSV and JSON lines are parsed a run at a time,
Parquet a batch at a time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from driftcli.choices import InputFormat
from driftcli.errors import UsageError, option
from driftcli.inputs.dataset import is_dataset, open_dataset
from driftcli.inputs.files import open_file
from driftcli.inputs.nested import parse_json_path
from driftcli.inputs.source import Source
from driftcli.settings import DEFAULT_MAX_COLUMNS, DEFAULT_MAX_LINE_BYTES


@contextlib.contextmanager
def open_source(
    spec: str | Sequence[str],
    input_format: InputFormat | None = None,
    *,
    skip_bad_lines: bool = False,
    delimiter: str | None = None,
    decimal: str | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    json_path: str | None = None,
) -> Iterator[Source]:
    """Open an input: a path, `-` for stdin, or several files (a directory, a glob, a list).

    Settles the format and compression. Raises `UsageError` for `-` on a
    terminal and `InputError` for a path that cannot be read. A line longer
    than `max_line_bytes` is a bad line: an error, or skipped with
    `skip_bad_lines`. The source is closed (and any spool file removed) on
    exit. `delimiter` is the CSV field separator and `decimal` its decimal mark
    (None: each CSV file's own is sniffed). `json_path` (JSON lines only) reads
    each line's features from the object at those keys (nested.py).
    """
    source: Source
    if is_dataset(spec):
        source = open_dataset(spec, input_format)
    else:
        source = open_file(spec if isinstance(spec, str) else spec[0], input_format)
    source.bad_lines.skip = skip_bad_lines
    source.delimiter = delimiter
    source.decimal = decimal
    source.max_line_bytes = max_line_bytes
    source.max_columns = max_columns
    try:
        if json_path:
            source.json_path = json_path_of(source, json_path)
        yield source
    finally:
        source.close()


def json_path_of(source: Source, text: str) -> tuple[str, ...]:
    """The keys of `--json-path`, for an input of JSON lines (else a `UsageError`)."""
    if source.format is not InputFormat.JSONL:
        raise UsageError(
            f"{source.name}: {option('json_path')} reads JSON lines, but this input is "
            f"{source.format.value}",
            hint=f"pass {option('input_format')} jsonl if it is JSON lines",
        )
    return parse_json_path(text)
