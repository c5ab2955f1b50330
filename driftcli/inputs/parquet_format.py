"""Parquet: read a batch at a time, from the file, or from a stream copied to a temporary file.

Parquet needs random access, so Parquet arriving on stdin, a pipe, a URL or
compressed is spooled to a temporary file first; that copy is also what a
second read (sketch.py) reads again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from driftcli.choices import InputFormat
from driftcli.errors import InputError, option
from driftcli.inputs.content import Content
from driftcli.inputs.piece import Piece
from driftcli.inputs.source import Source

PARQUET_BATCH_ROWS = 1 << 18
PARQUET_BUFFER_BYTES = 1 << 18
"""Column chunks are read through a buffer of this size, not whole, which keeps
Arrow's memory at about one batch."""


class ParquetSource(Source):
    """A Parquet file, or Parquet from a stream (spooled)."""

    describe_as: ClassVar[str] = "Parquet"

    def __init__(self, name: str, content: Content) -> None:
        super().__init__(name, InputFormat.PARQUET, content.compression)
        self.content = content
        self._cleanup.callback(content.close)
        self._total_rows: int | None = None

    @property
    def rereadable(self) -> bool:
        """A file is read again; so is a stream, from the copy it is spooled to."""
        return True

    def batches_again(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        for piece in self._translated(self._pieces_of(frozenset(columns))):
            if piece is not None:
                yield from piece.table.to_batches()

    def known_rows(self) -> int | None:
        if not self.content.is_file or self.content.path is None:
            return None
        return parquet_rows([self.content.path])

    def _read(self, max_latency: float | None) -> Iterator[Piece | None]:
        yield from self._pieces_of(self.columns)

    def _pieces_of(self, columns: frozenset[str] | None) -> Iterator[Piece]:
        import pyarrow.parquet as pq

        where = self.content.seekable()
        # Text columns are read as dictionaries: Parquet mostly stores them so,
        # decoding them to plain strings would cost half the read, and labels
        # are counted on the indices.
        schema = pq.read_schema(where)
        if not isinstance(where, str):
            where.seek(0)
        if len(schema.names) > self.max_columns:
            raise InputError(
                f"{self.name}: has {len(schema.names):,} columns, more than the column limit "
                f"of {self.max_columns:,} ({option('max_columns')})",
                hint="if the data really has that many columns, raise the limit: "
                f"{option('max_columns')} N (each costs memory: see docs/limits.md)",
            )
        twice = _named_twice(schema.names)
        if twice is not None:
            # Columns are found by name downstream: two of one name cannot be told apart.
            raise InputError(f"{self.name}: Parquet file names column {twice!r} twice")
        text = [
            f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        wanted = None if columns is None else [n for n in schema.names if n in columns]
        # pre_buffer would cache every column chunk read so far: memory would
        # then grow with the file instead of staying at one batch.
        parquet = pq.ParquetFile(
            where, pre_buffer=False, read_dictionary=text, buffer_size=PARQUET_BUFFER_BYTES
        )
        self._total_rows = parquet.metadata.num_rows
        self._cleanup.callback(parquet.close)
        rows = 0
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted):
            yield Piece(pa.Table.from_batches([batch]), None, rows, None, self.name)
            rows += batch.num_rows
        if rows != self._total_rows:
            # pyarrow's batches end early, without an error, when a read comes up short.
            raise self._shrank() or InputError(
                f"{self.name}: its Parquet footer says {self._total_rows:,} rows, but only "
                f"{rows:,} could be read (a file cut short, or changed while read?)"
            )

    def _progress(self, rows: int) -> tuple[int, int | None]:
        return rows, self._total_rows

    def _shrank(self) -> InputError | None:
        return self.content.shrank()


def _named_twice(names: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def parquet_rows(paths: Sequence[str | Path]) -> int | None:
    """Rows in all of these Parquet files, from their footers (None if one cannot be read:
    the read itself then says why)."""
    import pyarrow.parquet as pq

    try:
        return sum(int(pq.read_metadata(path).num_rows) for path in paths)
    except (pa.ArrowException, OSError):
        return None
