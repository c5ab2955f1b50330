"""Raw rows in store files: Parquet, written for speed, read back whole."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from driftcli.errors import StoreError, os_reason

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
        raise read_failure(path, exc, "window segment", REMOVE_HINT) from None


REMOVE_HINT = "remove the file to drop its rows from the window"

_DAMAGE = (
    ("magic bytes not found", "no Parquet footer: cut short, or not Parquet"),
    ("smaller than the minimum file footer", "too short to be Parquet"),
    ("file size is 0 bytes", "empty"),
    ("deserialize thrift", "its Parquet footer is garbled"),
    ("flatbuffers", "the schema in its footer is garbled"),
    ("base64", "the schema in its footer is garbled"),
    ("metadataversion", "the schema in its footer is garbled"),
    ("unrecognized type", "the schema in its footer is garbled"),
    ("too deeply nested", "its schema is nested deeper than Parquet reads"),
)


def read_failure(
    path: Path, exc: pa.ArrowException | OSError, what: str, hint: str | None = None
) -> StoreError:
    """A store's Parquet file that cannot be read: the file system's reason, or the damage.

    A refusal of the file system (permission denied) is no damage: the file
    may be whole, so no hint to remove it.
    """
    if isinstance(exc, OSError) and exc.errno is not None:
        return StoreError(f"{path}: cannot read: {os_reason(exc)}")
    return StoreError(f"{path}: corrupt {what} ({damage_in_words(exc)})", hint=hint)


def damage_in_words(exc: BaseException) -> str:
    """What Arrow found wrong with a file, in a few plain words.

    Arrow's own message can quote bytes of the file: only the known ones are
    said in words; any other is cut to its first sentence, its printable
    characters only.
    """
    message = str(exc)
    lowered = message.lower()
    for clue, words in _DAMAGE:
        if clue in lowered:
            return words
    first = message.split(". ")[0].splitlines()[0] if message.strip() else ""
    plain = "".join(c for c in first if c.isprintable() and c.isascii()).strip()
    if len(plain) > 80:
        plain = plain[:77] + "..."
    return f"unreadable Parquet: {plain}" if plain else f"unreadable Parquet ({type(exc).__name__})"
