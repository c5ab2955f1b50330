"""Open one input: a file, a named pipe, a URL, or `-` for stdin, as the right `Source`.

The format comes from `--input-format`, else the file suffix, else the first
bytes of the content; gzip and zstd compression are detected the same way.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pyarrow as pa

from driftcli.choices import InputFormat
from driftcli.errors import InputError, UsageError, os_reason, path_shown
from driftcli.inputs.content import Content
from driftcli.inputs.csv_format import CsvSource
from driftcli.inputs.cutting import Readable
from driftcli.inputs.jsonl_format import JsonlSource
from driftcli.inputs.parquet_format import ParquetSource
from driftcli.inputs.sniff import (
    HEAD_BYTES,
    compression_of_path,
    format_of_path,
    sniff_compression,
    sniff_format,
    sniffable,
)
from driftcli.inputs.source import Source, reason
from driftcli.inputs.streams import FdReader, PeekStream
from driftcli.inputs.urls import is_url, open_url_file, url_errors, url_filesystem

STDIN = "-"

_SOURCES: dict[InputFormat, type[CsvSource] | type[JsonlSource] | type[ParquetSource]] = {
    InputFormat.CSV: CsvSource,
    InputFormat.JSONL: JsonlSource,
    InputFormat.PARQUET: ParquetSource,
}


class TerminalStdin(UsageError):
    """`-` names stdin, but stdin is a terminal: nothing was piped in."""


def open_file(spec: str, input_format: InputFormat | None, name: str | None = None) -> Source:
    """One input (`-` for stdin). Raises `UsageError` for `-` on a terminal and
    `InputError` for a path that cannot be read; the caller closes the source.

    `name`: what messages call a file (a Dask worker reads it by its absolute
    path, but names it as the user did); by default, `spec`.
    """
    if spec == STDIN:
        return _open_stdin(input_format)
    if is_url(spec):
        return _open_url(spec, input_format)
    return _open_path(spec, input_format, name or spec)


def _source(name: str, fmt: InputFormat, content: Content) -> Source:
    return _SOURCES[fmt](name, content)


def path_error(spec: str, exc: OSError) -> InputError:
    """An input path that cannot be looked at or opened, and why."""
    return InputError(f"{path_shown(spec)}: {os_reason(exc)}")


def _open_path(spec: str, input_format: InputFormat | None, name: str) -> Source:
    path = Path(spec)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise path_error(name, exc) from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{name}: is a directory, not a data file")
    suffix_compression = compression_of_path(path)
    fmt = input_format or format_of_path(path)
    try:
        file = open(path, "rb")  # noqa: SIM115 - handed to the source, or closed below
    except OSError as exc:
        raise path_error(name, exc) from exc
    if not stat.S_ISREG(mode) or not path.is_file() or not os.fstat(file.fileno()).st_size:
        # A named pipe or <(process substitution): its bytes can be read only
        # once, so it is read as a stream, like stdin. So is a file whose length
        # says nothing of what it holds (0 bytes, as every file in /proc says).
        try:
            source = _open_stream(
                FdReader(file.fileno()), name, fmt, suffix_compression, "file is empty"
            )
        except BaseException:
            file.close()
            raise
        source.on_close(file.close)
        return source
    with file:
        head = file.read(HEAD_BYTES)
    if not head:
        raise InputError(f"{name}: file is empty")
    compression = suffix_compression or sniff_compression(head)
    content = Content(path=path, compression=compression, name=name)
    if fmt is None:
        if compression:
            head = _peek_decompressed(content, name)
        fmt = sniff_format(head, name)
    return _source(name, fmt, content)


def _peek_decompressed(content: Content, name: str, *, format_known: bool = False) -> bytes:
    def enough(head: bytes) -> bool:
        return sniffable(head, format_known=format_known)

    try:
        return content.stream().peek_until(enough, HEAD_BYTES)
    except (pa.ArrowException, OSError) as exc:
        content.close()
        raise InputError(f"{name}: cannot decompress: {reason(exc)}") from exc


def _open_stdin(input_format: InputFormat | None) -> Source:
    stdin = sys.stdin
    if stdin is None:  # Python's stdin when descriptor 0 was closed (`<&-`)
        raise UsageError(
            "'-' reads data from stdin, but stdin is closed",
            hint="pipe data in, or give a file instead of -",
        )
    if stdin.isatty():
        raise TerminalStdin(
            "'-' reads data from stdin, but stdin is a terminal",
            hint="pipe data in, e.g. cat rows.csv | driftcli COMMAND -",
        )
    try:
        raw: Readable = FdReader(stdin.fileno())
    except (AttributeError, OSError, ValueError):
        raw = stdin.buffer  # not a real descriptor (tests): plain reads
    return _open_stream(raw, "<stdin>", input_format, None, empty="no data on stdin")


def _open_url(spec: str, input_format: InputFormat | None) -> Source:
    """A file behind an fsspec URL, read as a stream (Parquet is spooled, as from stdin)."""
    fs, path = url_filesystem(spec)
    with url_errors(spec):
        file = open_url_file(fs, path, spec)
    fmt = input_format or format_of_path(Path(path))
    try:
        source = _open_stream(file, spec, fmt, compression_of_path(Path(path)), "file is empty")
    except BaseException:
        file.close()
        raise
    source.on_close(file.close)
    return source


def _open_stream(
    raw: Readable,
    name: str,
    input_format: InputFormat | None,
    compression: str | None,
    empty: str = "no data",
) -> Source:
    """A source over bytes that can be read only once: sniff from a peeked head."""
    peek = PeekStream(raw)
    known = input_format is not None

    def enough(head: bytes) -> bool:
        # A stream is peeked at until its format is settled: a slow pipe may
        # hold one line so far.
        return sniffable(head, format_known=known)

    head = peek.peek_until(enough, HEAD_BYTES)
    if not head:
        raise InputError(f"{name}: {empty}")
    compression = compression or sniff_compression(head)
    stream = peek
    if compression:
        stream = PeekStream(pa.CompressedInputStream(pa.PythonFile(peek, mode="r"), compression))
    content = Content(stream=stream, compression=compression)
    if compression:
        head = _peek_decompressed(content, name, format_known=known)
    fmt = input_format or sniff_format(head, name)
    return _source(name, fmt, content)
