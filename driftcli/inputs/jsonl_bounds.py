"""JSON lines in bounded memory: a run whose keys could cost too much is parsed in parts.

Arrow's JSON parser builds a full-length column for every key a run holds:
a log whose keys are ids (`{"user_8812": 1}`) makes as many columns as
lines, and a run of 16 MB of such lines asks for terabytes. What a parse may
build is bounded by the run's keys (its colons, at most) times its lines.
A run within `CELLS` of that is parsed whole. A larger one, the usual case
for a long file, is parsed whole against the columns of its first lines
(`explicit_schema`, with any other key an error), which is as fast; a run
that brings other keys, or other types, is parsed in parts of at most
`CELLS`, each a piece of its own (`SplitRun`), and the column limit stops
an input whose keys keep coming (source.py `ColumnLimit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driftcli.inputs.cutting import NEWLINE, Run, SplitRun

CELLS = 1 << 24
"""Keys times lines a parse may build: some 128 MB of 8-byte values, at most."""

_COLON = ord(":")
_PROBE_LINES = 1024


def line_breaks(run: Run, data: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    return run.breaks if run.breaks is not None else np.flatnonzero(data == NEWLINE)


def affordable(run: Run) -> bool:
    """Could parsing the run whole build no more than `CELLS` values?"""
    data = np.frombuffer(run.data, np.uint8)
    return int(np.count_nonzero(data == _COLON)) * max(run.lines, 1) <= CELLS


def probe(run: Run) -> Run:
    """The run's first lines, as many as `_PROBE_LINES` and `CELLS` allow (at least one)."""
    data = np.frombuffer(run.data, np.uint8)
    breaks = line_breaks(run, data)
    lines = min(_PROBE_LINES, len(breaks))
    while lines > 1:
        end = int(breaks[lines - 1]) + 1
        if int(np.count_nonzero(data[:end] == _COLON)) * lines <= CELLS:
            break
        lines //= 2
    if not len(breaks):
        return run
    end = int(breaks[max(lines, 1) - 1]) + 1
    return Run(run.data[:end], run.first_line, max(lines, 1), breaks[: max(lines, 1)])


def parts(run: Run) -> Iterator[Run]:
    """The run in consecutive parts, each of keys times lines within `CELLS` (or one line)."""
    data = np.frombuffer(run.data, np.uint8)
    ends = line_breaks(run, data) + 1
    if not len(ends) or ends[-1] < len(data):  # the input's last line, without a newline
        ends = np.r_[ends, len(data)]
    starts = np.r_[0, ends[:-1]]
    # Every line holds at least its newline (or its last byte): no segment is empty.
    keys = np.r_[0, np.cumsum(np.add.reduceat(data == _COLON, starts, dtype=np.int64))]
    start = first = 0
    while first < len(ends):
        count = 1  # the most lines from `first` whose keys times lines stay within CELLS
        while first + count < len(ends):
            more = min(count * 2, len(ends) - first)
            if int(keys[first + more] - keys[first]) * more > CELLS:
                break
            count = more
        end = int(ends[first + count - 1])
        yield Run(run.data[start:end], run.first_line + first, count)
        start, first = end, first + count


def regular_parse(
    run: Run,
    read: Callable[[Run, pa.Schema | None], pa.Table],
    parse: Callable[[Run], pa.Table | None],
) -> pa.Table:
    """The run parsed whole against its first lines' columns, or `SplitRun` when it holds
    other keys or types (or its first lines cannot say: they needed the slow path).

    `parse(part)` is the usual parse (None if it took the slow path); `read(run,
    schema)` reads with that schema, any other key an error.
    """
    first = probe(run)
    known = parse(first)
    if known is None or known.num_columns * max(run.lines, 1) > CELLS:
        raise SplitRun(run, parts(run))
    if first.lines == run.lines:
        return known
    try:
        table = read(run, known.schema)
        table.validate(full=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise SplitRun(run, parts(run)) from None
    return table
