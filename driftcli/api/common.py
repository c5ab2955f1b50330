"""What the library API's verbs share: the inputs they take, and the settings they check."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import replace

from driftcli.choices import InputFormat
from driftcli.counting.buckets import Feature
from driftcli.errors import InputError, UsageError, listed, option
from driftcli.inputs import STDIN, Piece, Source, TerminalStdin, open_source
from driftcli.inputs.piece import SKIP_HINT
from driftcli.results import SourceInfo
from driftcli.scoring.metrics import METRICS
from driftcli.settings import Settings, validate
from driftcli.store import Window

Input = str | Sequence[str]
"""A path, `-` for stdin, a directory or glob, or a list of paths (see inputs.open_source)."""


def reads_stdin(spec: Input) -> bool:
    return spec == STDIN if isinstance(spec, str) else STDIN in spec


def input_name(spec: Input) -> str:
    """What messages call an input: as `open_source` names it."""
    if isinstance(spec, str) or len(spec) == 1:
        return spec if isinstance(spec, str) else spec[0]
    return f"{spec[0]} (+{len(spec) - 1} more)"


def no_shared_column(
    name: str, rows: int, features: Sequence[Feature], outcome: str = ""
) -> InputError:
    """No row of an input held a value of any reference feature: nothing to count or store."""
    where = "its one row" if rows == 1 else f"any of its {rows:,} rows"
    return InputError(
        f"{name}: the rows share no column with the reference (no feature has a value "
        f"in {where}){outcome}",
        hint=f"reference features: {listed(f.name for f in features)}",
    )


def validated(settings: Settings) -> Settings:
    """The settings, if a check can honour them (else `UsageError`)."""
    validate(settings, tuple(METRICS))
    return settings


def hint_skipping(source: Source) -> None:
    """A bad line's error tells how to skip such lines."""
    source.bad_lines.hint = SKIP_HINT


def with_skipped(info: SourceInfo, source: Source) -> SourceInfo:
    """The source's description with the bad lines it skipped."""
    bad = source.bad_lines
    return replace(info, skipped_lines=bad.count, first_skipped=tuple(sorted(bad.first)))


@contextlib.contextmanager
def stdin_example(example: str) -> Iterator[None]:
    """`-` on a terminal is refused with an example of piping data into this command."""
    try:
        yield
    except TerminalStdin as exc:
        raise TerminalStdin(exc.said, hint=f"pipe data in, e.g. {example}") from None


@contextlib.contextmanager
def read_input(
    spec: Input,
    input_format: InputFormat | None,
    settings: Settings,
    example: str,
    *,
    skip_bad_lines: bool | None = None,
) -> Iterator[Source]:
    """An input opened as the settings say (bad lines, the CSV separator, the line limit),
    a bad line's error telling how to skip such lines, and `-` on a terminal refused with
    `example` of piping data into this command."""
    skip = settings.skip_bad_lines if skip_bad_lines is None else skip_bad_lines
    with (
        stdin_example(example),
        open_source(
            spec,
            input_format,
            skip_bad_lines=skip,
            delimiter=settings.delimiter,
            decimal=settings.decimal,
            max_line_bytes=settings.max_line_bytes,
            max_columns=settings.max_columns,
            json_path=settings.json_path,
        ) as source,
    ):
        hint_skipping(source)
        yield source


def existing(window: Window) -> None:
    """A `UsageError` saying how to fill the window, if the store has no such window."""
    if not window.exists():
        raise UsageError(
            f"no window named {window.name!r} in the store {window.store.root}",
            hint=f"fill it with: driftcli ingest DATA {option('window')} {window.name}",
        )


def window_pieces(window: Window, name: str) -> Iterator[Piece]:
    """A stored window's rows, as the pieces an input would give (rows numbered from 0)."""
    rows = 0
    for table in window.tables():
        yield Piece(table, None, rows, None, name)
        rows += table.num_rows
