"""Chunks of a fixed number of rows, in the order the input gives them (`--chunk-rows N`).
Counted by `counting.chunking.RowChunker`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from driftcli.choices import EngineName
from driftcli.compact import compact_count
from driftcli.errors import UsageError, option
from driftcli.grouping.base import Grouping, Start


@dataclass(frozen=True)
class ByRows(Grouping):
    """Chunks of `rows` rows each, in the order the input gives them."""

    rows: int

    json_keys: ClassVar[tuple[str, ...]] = ("chunk_rows",)

    @classmethod
    def parse(cls, chunk_rows: int, *others: str | None) -> ByRows:
        """`--chunk-rows N`, or a `UsageError`; `others`: the time chunks' options."""
        if any(other is not None for other in others):
            raise UsageError(
                f"{option('chunk_rows')} cuts by rows; it cannot go with {option('by')}, "
                f"{option('every')} or {option('timezone')}"
            )
        if chunk_rows < 1:
            raise UsageError(f"{option('chunk_rows')} must be at least 1, not {chunk_rows}")
        return cls(chunk_rows)

    def describe(self, groups: int) -> str:
        return f"{groups} chunk{'' if groups == 1 else 's'} of {self.rows:,} rows"

    def json_fields(self) -> dict[str, object]:
        return {"chunk_rows": self.rows}

    def label(self, index: int, start: Start, years: bool) -> str:
        return f"#{index + 1}"

    def header(self, index: int, start: Start, previous: Start | None, years: bool) -> str:
        """`#N` over the chunk's first row."""
        return f"#{index + 1}\n{compact_count(int(start))}"

    @property
    def full_rows(self) -> int:
        return self.rows

    def refusal(self, engine: EngineName) -> UsageError | None:
        """Rows are cut in the input's order, which workers reading files apart do not share."""
        if engine is EngineName.LOCAL:
            return None
        return UsageError(
            f"chunks of rows ({option('chunk_rows')}) follow the input's order, which "
            f"{engine.value.capitalize()}'s workers, reading its files apart, do not share",
            hint=f"cut by time ({option('by')} COLUMN {option('every')} 1d), "
            f"or leave out {option('engine')} {engine.value}",
        )
