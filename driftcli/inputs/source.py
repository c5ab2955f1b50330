"""What every opened input is: a `Source` of pieces of rows, whatever its format.

One small subclass per format (csv_format.py, jsonl_format.py,
parquet_format.py) and one for several files (dataset.py); files.py picks
which. Nothing downstream knows which format the rows came from.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import ClassVar

import pyarrow as pa

from driftcli.choices import InputFormat
from driftcli.errors import InputError, option
from driftcli.inputs.content import Content
from driftcli.inputs.cutting import LineLimit, Run, SplitRun, run_before
from driftcli.inputs.nested import features_at
from driftcli.inputs.piece import BadLine, BadLines, LineMap, Piece
from driftcli.inputs.progress import report
from driftcli.settings import DEFAULT_MAX_COLUMNS, DEFAULT_MAX_LINE_BYTES, size_text


class Source(abc.ABC):
    """An input opened for reading: its name, its format, and its rows piece by piece."""

    describe_as: ClassVar[str]
    """What the format is called in messages."""

    def __init__(self, name: str, fmt: InputFormat, compression: str | None = None) -> None:
        self.name = name
        """What error messages call the input: the path as given, or `<stdin>`."""
        self.format = fmt
        self.compression = compression
        self.bad_lines = BadLines()
        """Malformed lines: an error, or counted and skipped with `skip=True`."""
        self.max_line_bytes = DEFAULT_MAX_LINE_BYTES
        """A longer line is a bad line (text formats)."""
        self.columns: frozenset[str] | None = None
        """Read only these columns where the format allows it (Parquet); None: all."""
        self.delimiter: str | None = None
        """The CSV field separator; None: sniffed from the first lines."""
        self.json_path: tuple[str, ...] = ()
        """Read each JSON line's features from the object at these keys (nested.py)."""
        self.decimal: str | None = None
        """The CSV decimal mark, `.` or `,`; None: sniffed from the first lines."""
        self.max_columns = DEFAULT_MAX_COLUMNS
        """More columns than this, in all, is an error (`ColumnLimit`)."""
        self._cleanup = contextlib.ExitStack()

    @property
    def rereadable(self) -> bool:
        """Can the same rows be read again (`batches_again`)?"""
        return False

    def batches_again(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        """The rows once more (only if `rereadable`, after `batches`), reading just
        `columns` where the format allows it (Parquet)."""
        raise InputError(f"{self.name}: can be read only once")

    def known_rows(self) -> int | None:
        """How many rows the input holds, when it says so before it is read (a
        Parquet file's footer); None for text formats and streams."""
        return None

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield the rows as record batches; parse errors become `InputError`s."""
        for piece in self.pieces():
            if piece is not None:
                yield from piece.table.to_batches()

    def pieces(self, max_latency: float | None = None) -> Iterator[Piece | None]:
        """Yield the rows piece by piece, each with a way back to its input lines.

        With `max_latency` (seconds), rows waiting on a slow stream are yielded
        within about that delay, and None is yielded whenever that long passes
        without rows, so a caller can act on time (flush) while the stream idles.
        """
        rows = 0
        columns = ColumnLimit(self.name, self.max_columns)
        for piece in self._translated(self._read(max_latency)):
            if piece is not None and self.json_path:
                piece = replace(piece, table=features_at(piece.table, self.json_path))
            if piece is not None:
                columns.check(piece.table.column_names)
                rows += piece.table.num_rows
                report(self.name, rows, *self._progress(rows))
            yield piece

    def _translated(self, pieces: Iterator[Piece | None]) -> Iterator[Piece | None]:
        """The pieces, with a reader's failure turned into an `InputError` naming the input."""
        try:
            yield from pieces
        except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
            shrank = self._shrank()
            if shrank is not None:
                raise shrank from exc
            raise InputError(
                f"{self.name}: cannot read as {self.describe()}: {reason(exc)}",
                hint=f"if the format was guessed wrong, pass {option('input_format')} "
                "csv|parquet|jsonl",
            ) from exc

    def _shrank(self) -> InputError | None:
        """The error to give instead, if the input is a file that shrank while read."""
        return None

    @abc.abstractmethod
    def _read(self, max_latency: float | None) -> Iterator[Piece | None]:
        """The format's own reading (see `pieces`)."""

    def _progress(self, rows: int) -> tuple[int, int | None]:
        """(done, in all): rows and None unless the format knows better."""
        return rows, None

    def describe(self) -> str:
        what = self.describe_as
        return f"{self.compression}-compressed {what}" if self.compression else what

    def on_close(self, callback: Callable[[], object]) -> None:
        """Close something the source reads from (a pipe, a URL's file) with it."""
        self._cleanup.callback(callback)

    def close(self) -> None:
        self._cleanup.close()


class ColumnLimit:
    """The columns an input has shown so far, and the error once they pass the limit
    (JSON lines may bring new keys on any line)."""

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.seen: set[str] = set()

    def check(self, names: Sequence[str]) -> None:
        if len(names) <= len(self.seen) and self.seen.issuperset(names):
            return
        self.seen.update(names)
        if len(self.seen) > self.limit:
            raise InputError(
                f"{self.name}: has more than {self.limit:,} columns (the column limit, "
                f"{option('max_columns')})",
                hint="if the data really has that many columns, raise the limit: "
                f"{option('max_columns')} N (each costs memory: see docs/limits.md)",
            )


_BYTE_ORDER_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


class TextSource(Source):
    """A text format (CSV, JSON lines): its content is cut into runs of whole records."""

    def __init__(self, name: str, content: Content) -> None:
        super().__init__(name, self.text_format, content.compression)
        self.content = content
        self._cleanup.callback(content.close)

    text_format: ClassVar[InputFormat]

    @classmethod
    def at(cls, name: str, content: Content) -> TextSource:
        return cls(name, content)

    @property
    def rereadable(self) -> bool:
        """A regular file is opened afresh; a stream cannot be read again."""
        return self.content.path is not None

    def batches_again(self, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        path = self.content.path
        if path is None:
            raise InputError(f"{self.name}: can be read only once")
        content = Content(path=path, compression=self.content.compression, name=self.name)
        again = self.at(self.name, content)
        again.delimiter = self.delimiter
        again.json_path = self.json_path
        again.decimal = self.decimal
        # The same lines are skipped again, but counted once, by the first read.
        again.bad_lines = BadLines(skip=self.bad_lines.skip, hint=self.bad_lines.hint)
        again.max_line_bytes = self.max_line_bytes
        again.max_columns = self.max_columns
        try:
            yield from again.batches()
        finally:
            again.close()

    def refuse_other_encodings(self) -> None:
        """A UTF-16 or UTF-32 file is refused as such, not misread as one-column CSV."""
        head = self.content.head(lambda h: len(h) >= 4, 4)
        for mark, encoding in _BYTE_ORDER_MARKS:
            if head.startswith(mark):
                raise InputError(
                    f"{self.name}: is {encoding} text (it starts with a {encoding} byte-order "
                    "mark); driftcli reads UTF-8",
                    hint=f"convert it first: iconv -f {encoding} -t UTF-8 FILE > FILE.utf8",
                )

    def line_limit(self) -> LineLimit:
        """The line limit, with a longer line reported as a bad line of this input."""
        limit = self.max_line_bytes
        reason = f"longer than the line limit of {size_text(limit)} ({option('max_line_bytes')})"
        return LineLimit(limit, lambda lines: self.bad_lines.report_many(self.name, lines, reason))

    def parsed(
        self, run: Run, rows: int, parse: Callable[[Run], tuple[pa.Table, LineMap]]
    ) -> Iterator[Piece]:
        """The run parsed as one piece (`rows` rows of the input came before it).

        At a bad line that is not skipped, the piece of the good lines before
        it comes first, then the error: a reader that stops there (ingest)
        keeps what it would have kept had the input ended before that line.
        """
        try:
            table, lines = parse(run)
        except BadLine as exc:
            try:
                yield from self._before_bad_line(run, exc.line, rows, parse)
            except SplitRun as split:  # the lines before it are read in parts
                split.then = exc
                raise
            raise
        yield Piece(table.combine_chunks(), run.first_line, rows, lines, self.name)

    def _before_bad_line(
        self,
        run: Run,
        line: int,
        rows: int,
        parse: Callable[[Run], tuple[pa.Table, LineMap]],
    ) -> Iterator[Piece]:
        while (before := run_before(run, line)) is not None:
            try:
                table, lines = parse(before)
            except BadLine as exc:  # an earlier bad line than the one first found
                if exc.line >= line:
                    return
                line = exc.line
                continue
            yield Piece(table.combine_chunks(), before.first_line, rows, lines, self.name)
            return

    def _progress(self, rows: int) -> tuple[int, int | None]:
        """Bytes of a file, else rows."""
        done = self.content.progress()
        return done if done is not None else (rows, None)

    def _shrank(self) -> InputError | None:
        return self.content.shrank()


def reason(exc: BaseException) -> str:
    """A one-line reason that does not echo row contents into logs."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    message = message.removeprefix("CSV parse error: ").removeprefix("JSON parse error: ")
    cut = message.find(": ") if "Expected" in message and "columns" in message else -1
    return (message[:cut] if cut > 0 else message)[:200]
