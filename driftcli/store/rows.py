"""Raw rows in store files: Parquet, written for speed, read back whole."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from driftcli.errors import StoreError

PARQUET_MAX_DEPTH = 100
"""Parquet readers refuse a schema nested deeper than this (Arrow's default limit)."""


def parquet_depth(kind: pa.DataType) -> int:
    """How deep a column of this type nests in a Parquet schema, its leaf included.

    A list takes two levels (its group and the repeated group inside), a map
    two, a struct one.
    """
    if pa.types.is_struct(kind):
        return 1 + max(
            (parquet_depth(kind.field(i).type) for i in range(kind.num_fields)), default=1
        )
    if pa.types.is_map(kind):
        return 2 + max(parquet_depth(kind.key_type), parquet_depth(kind.item_type))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return 2 + parquet_depth(kind.value_type)
    return 1


def storable(table: pa.Table) -> pa.Table:
    """The rows with every column a Parquet reader can read back.

    A column nested too deep for Parquet (JSON arrays 50 deep) is kept as
    nulls, under its name: nested values are never scored, and a file that
    cannot be read back would make the whole window unreadable.
    """
    for i, column in enumerate(table.schema):
        if 1 + parquet_depth(column.type) > PARQUET_MAX_DEPTH:
            table = table.set_column(i, column.name, pa.nulls(table.num_rows))
    return table


def write_rows(table: pa.Table, out: BinaryIO) -> None:
    """Write rows as Parquet, dictionary-encoding only the text columns.

    Columns too deep for a Parquet reader are stored as nulls (`storable`).

    pyarrow's default tries a dictionary for every column; on float columns,
    nearly all distinct, that triples the write time of an ingest flush for
    no smaller file. No column statistics either: nothing filters these
    files by them, and they take a fifth of the write.
    """
    import pyarrow.parquet as pq

    table = storable(table)
    text = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_dictionary(f.type)
    ]
    pq.write_table(table, out, use_dictionary=text, write_statistics=False)


def read_rows(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(str(path)).replace_schema_metadata(None)
    except (pa.ArrowException, OSError) as exc:
        raise StoreError(f"{path}: corrupt window segment ({type(exc).__name__})") from exc
