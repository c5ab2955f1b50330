"""Rows that hold none of the reference's features: set apart before they are counted or stored.

A `{}` line, or a log line whose features are all absent or null, says
nothing about the features; counted, it would be a row missing every one
of them, and enough such rows make every feature drift on its missing rate.
Deciding it row by row, not by chunk, keeps the outcome the same however
the input was cut into chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from driftcli.inputs.chunk import Chunk
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

    def rows_with_features(self, chunk: Chunk) -> Chunk:
        """The chunk's rows that hold a value of some feature; the others noted."""
        keep = self._mask(chunk.table)
        if keep is None:
            return chunk
        dropped = np.flatnonzero(~keep)
        self.count += len(dropped)
        room = LOCATIONS_KEPT - len(self.first)
        if room > 0:
            self.first += chunk.locate(dropped[:room])
        return chunk.taken(np.flatnonzero(keep))

    def batch_with_features(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """`rows_with_features` for a batch that does not know its lines (counted only)."""
        keep = self._mask(batch)
        if keep is None:
            return batch
        self.count += int(np.count_nonzero(~keep))
        return batch.filter(pa.array(keep))

    def _mask(self, table: pa.Table | pa.RecordBatch) -> npt.NDArray[np.bool_] | None:
        """Which rows hold a value of some feature; None when every row does (the usual case,
        found from null counts alone)."""
        columns = {n: table.column(n) for n in self.names if n in table.schema.names}
        held = {n for n, column in columns.items() if column.null_count < len(column)}
        self.seen |= held
        if not table.num_rows or any(columns[n].null_count == 0 for n in held):
            return None
        keep = np.zeros(table.num_rows, np.bool_)
        for name in held:
            keep |= np.asarray(pc.is_valid(columns[name]))
        return None if keep.all() else keep
