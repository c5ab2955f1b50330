"""Raw rows in store files: Parquet, written for speed, read back whole."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from driftcli.errors import StoreError


def write_rows(table: pa.Table, out: BinaryIO) -> None:
    """Write rows as Parquet, dictionary-encoding only the text columns.

    pyarrow's default tries a dictionary for every column; on float columns,
    nearly all distinct, that triples the write time of an ingest flush for
    no smaller file. No column statistics either: nothing filters these
    files by them, and they take a fifth of the write.
    """
    import pyarrow.parquet as pq

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
