"""Several files as one input: a directory, a glob, or a list of paths.

    driftcli check 'data/live/*.parquet' --ref data/ref/
    driftcli check data/live/ --ref ref.parquet        # hive-partitioned: day=2026-11-25/...

Each file is read by the single-file readers, one after the other, so every
format behaves as it does alone (CSV typed by values, errors naming the file
and line) and the rows stream with the same bounded memory. Hive partition
directories (`key=value/`) become columns, as text of unknown type (so
`day=3` is a number and `country=DE` a label). The files are also the
units an engine can count in parallel (engine/).

pyarrow.dataset was the obvious tool, but it types CSV and JSON from the first
file and fails on a later disagreement, and loses line numbers; reading
file by file keeps one behaviour for one file and for many.
"""

from __future__ import annotations

import glob
import stat
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from driftcli.choices import InputFormat
from driftcli.columns.values import PARTITION_KEY, UNTYPED_KEY
from driftcli.errors import InputError
from driftcli.inputs.files import open_file, path_error
from driftcli.inputs.parquet_format import parquet_rows
from driftcli.inputs.piece import Piece
from driftcli.inputs.sniff import format_of_path
from driftcli.inputs.source import ColumnLimit, Source
from driftcli.inputs.urls import is_url, url_errors, url_filesystem

_GLOB_CHARS = set("*?[")


class DatasetSource(Source):
    """Many files read as one input, in a stable (sorted) order."""

    describe_as: ClassVar[str] = "a dataset"

    def __init__(
        self, name: str, fmt: InputFormat, files: Sequence[str], shown: Sequence[str] = ()
    ) -> None:
        super().__init__(name, fmt)
        self.files = list(files)
        self.shown = list(shown) or self.files
        """What messages call each file (by default, its path)."""

    @property
    def rereadable(self) -> bool:
        """Files listed once, each opened afresh: read again file by file (stdin is never one)."""
        return all(not is_url(f) and Path(f).is_file() for f in self.files)

    def batches_again(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        again = DatasetSource(self.name, self.format, self.files, self.shown)
        again.columns = frozenset(columns)
        again.delimiter = self.delimiter
        again.json_path = self.json_path
        again.decimal = self.decimal
        again.bad_lines.skip, again.max_line_bytes = self.bad_lines.skip, self.max_line_bytes
        again.max_columns = self.max_columns
        try:
            yield from again.batches()
        finally:
            again.close()

    def known_rows(self) -> int | None:
        if self.format is not InputFormat.PARQUET or not self.rereadable:
            return None
        return parquet_rows(self.files)

    def pieces(self, max_latency: float | None = None) -> Iterator[Piece | None]:
        """Each file's pieces, in turn (each file reports its own progress)."""
        columns = ColumnLimit(self.name, self.max_columns)
        for piece in self._read(max_latency):
            if piece is not None:
                columns.check(piece.table.column_names)
            yield piece

    def _read(self, max_latency: float | None) -> Iterator[Piece | None]:
        for path, shown in zip(self.files, self.shown, strict=True):
            part = open_file(path, self.format, shown)
            try:
                part.bad_lines = self.bad_lines
                part.max_line_bytes = self.max_line_bytes
                part.max_columns = self.max_columns
                part.columns = self.columns
                part.delimiter = self.delimiter
                part.json_path = self.json_path
                part.decimal = self.decimal
                partitions = partitions_of(path)
                for piece in part.pieces(max_latency):
                    if piece is None:
                        yield None
                        continue
                    yield replace(piece, table=_with_partitions(piece.table, partitions))
            finally:
                part.close()


def is_dataset(spec: str | Sequence[str]) -> bool:
    """Does this input name several files (a list, a directory, a glob)?"""
    if not isinstance(spec, str):
        return len(spec) != 1 or is_dataset(spec[0])
    if is_url(spec):
        fs, inside = url_filesystem(spec)
        if _GLOB_CHARS & set(inside):
            return True
        with url_errors(spec):
            return bool(fs.isdir(inside))
    kind = _kind_of(spec)
    if kind == "directory":
        return True
    return bool(_GLOB_CHARS & set(spec)) and kind is None  # "data[1].csv" is a file


def _kind_of(spec: str) -> str | None:
    """ "directory", "file" (anything else there), or None (nothing, or the path cannot
    be looked at: opening it then says why)."""
    try:
        mode = Path(spec).stat().st_mode
    except (OSError, ValueError):
        return None
    return "directory" if stat.S_ISDIR(mode) else "file"


def partitions_of(path: str) -> dict[str, str]:
    """Hive partitions: the `key=value` directories in a file's path.

    Read from the path itself, so a directory, a glob and a list of the same
    files give the same columns.
    """
    directories = path.split("://", 1)[-1].split("/")[:-1]
    return dict(part.split("=", 1) for part in directories if "=" in part and part[0] != "=")


def _with_partitions(table: pa.Table, partitions: dict[str, str]) -> pa.Table:
    for key, value in partitions.items():
        if key in table.column_names:
            continue  # the file's own column wins over its directory's name
        field_ = pa.field(key, pa.string(), metadata={UNTYPED_KEY: b"1", PARTITION_KEY: b"1"})
        table = table.append_column(field_, pa.array([value] * table.num_rows, pa.string()))
    return table


def open_dataset(spec: str | Sequence[str], input_format: InputFormat | None) -> DatasetSource:
    """Expand directories, globs and lists (local paths or URLs) into files of one format."""
    specs = [spec] if isinstance(spec, str) else list(spec)
    name = specs[0] if len(specs) == 1 else f"{specs[0]} (+{len(specs) - 1} more)"
    files: list[str] = []
    for item in specs:
        if is_url(item):
            with url_errors(item):
                found = _expand_url(item)
        else:
            found = _expand_path(item)
        if not found:
            raise InputError(f"{item}: matches no data files")
        files += sorted(dict.fromkeys(found))
    formats = {input_format or format_of_path(Path(p)) for p in files}
    formats.discard(None)
    if len(formats) > 1:
        listed = ", ".join(sorted(f.value for f in formats if f is not None))
        raise InputError(
            f"{name}: mixes file formats ({listed})",
            hint="give the files of one format, e.g. with a glob like 'dir/*.parquet'",
        )
    fmt = next(iter(formats), None) or _sniffed_format(files[0])
    return DatasetSource(name, fmt, files)


def _expand_path(item: str) -> list[str]:
    path = Path(item)
    kind = _kind_of(item)
    if kind == "directory":
        return _files_under(path)
    if _GLOB_CHARS & set(item) and kind is None:
        matched = glob.glob(item, recursive=True)  # noqa: PTH207 - absolute patterns too
        # A directory it matches (a hive partition: 'day=2026-11-0*') is read as the
        # directory would be; so are marker files ('**' matches _SUCCESS) unless named.
        named = path.name.startswith((".", "_"))
        return [
            file
            for p in matched
            for file in (
                ([p] if named or _is_data(Path(p), Path(p).parent) else [])
                if Path(p).is_file()
                else _files_under(Path(p))
            )
        ]
    if kind is not None:
        return [item]
    try:
        path.stat()
    except OSError as exc:
        raise path_error(item, exc) from None
    raise InputError(f"{item}: no such file")


def _files_under(directory: Path) -> list[str]:
    """The data files in a directory and its subdirectories (none if it is not one)."""
    return [str(p) for p in directory.rglob("*") if p.is_file() and _is_data(p, directory)]


def _expand_url(item: str) -> list[str]:
    fs, path = url_filesystem(item)

    def files_under(directory: str) -> list[str]:
        root = Path(directory.rstrip("/"))
        return [p for p in fs.find(directory) if _is_data(Path(p), root)]

    if _GLOB_CHARS & set(path):
        matched = [f for p in fs.glob(path) for f in (files_under(p) if fs.isdir(p) else [p])]
    elif fs.isdir(path):
        matched = files_under(path)
    elif fs.exists(path):
        matched = [path]
    else:
        raise InputError(f"{item}: no such file")
    return [fs.unstrip_protocol(p) for p in matched]


def _is_data(path: Path, root: Path) -> bool:
    """Skip hidden and marker files (.crc, _SUCCESS, _metadata) as Spark and Hive write them."""
    relative = path.relative_to(root).parts
    return not any(part.startswith((".", "_")) for part in relative)


def _sniffed_format(path: str) -> InputFormat:
    source = open_file(path, None)
    source.close()
    return source.format
