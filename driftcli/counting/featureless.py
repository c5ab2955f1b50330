"""Rows that hold none of the reference's features: counted, located and warned about.

A `{}` line, or a log line whose features are all absent or null, is a row
the model saw without any feature: it is counted as a row missing every
feature (as the reference counts its own), so an upstream that stops
sending features shows as drift on the missing rates, and a file checked
against itself never drifts. What is decided row by row, not by piece, is
the warning, and the refusal of an input in which no row holds a feature:
the same however the input was cut into pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftcli.inputs.piece import Piece
from driftcli.results import Location

LOCATIONS_KEPT = 5
"""How many of the first such rows are named."""


@dataclass
class Featureless:
    """The rows set apart so far, and which features any row held a value of."""

    names: Sequence[str]
    """The reference's features."""
    count: int = 0
    first: tuple[Location, ...] = ()
    seen: set[str] = field(default_factory=set)
    """Features that some row held a value (not null) of."""

    def note(self, piece: Piece) -> int:
        """Count and locate the piece's rows that hold no feature; the index of its first
        row that holds one (the piece's length if none does)."""
        held = self._mask(piece.table)
        if held is None:
            return 0
        empty = np.flatnonzero(~held)
        self.count += len(empty)
        room = LOCATIONS_KEPT - len(self.first)
        if room > 0:
            self.first += piece.locate(empty[:room])
        return int(np.argmax(held)) if held.any() else piece.table.num_rows

    def note_batch(self, batch: pa.RecordBatch) -> None:
        """`note` for a batch that does not know its lines (counted only)."""
        held = self._mask(batch)
        if held is not None:
            self.count += int(np.count_nonzero(~held))

    def _mask(self, table: pa.Table | pa.RecordBatch) -> npt.NDArray[np.bool_] | None:
        """Which rows hold a value of some feature; None when every row does (the usual case,
        found from null counts alone)."""
        present = set(table.schema.names)  # once: a wide table's names are many
        columns = {n: table.column(n) for n in self.names if n in present}
        held = {n for n, column in columns.items() if column.null_count < len(column)}
        self.seen |= held
        if not table.num_rows or any(columns[n].null_count == 0 for n in held):
            return None
        keep = np.zeros(table.num_rows, np.bool_)
        for name in held:
            keep |= np.asarray(pc.is_valid(columns[name]))
        return None if keep.all() else keep
