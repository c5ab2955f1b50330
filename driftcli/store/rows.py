"""Raw rows in store files: Parquet, written for speed, summed whole, read back whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from driftcli.errors import StoreError, os_reason
from driftcli.store.codec import Damaged

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


FILE_KEY = b"driftcli.file.crc32"
"""The CRC-32 of the whole file, in its footer (older files have none): as
Parquet's page checksums, but over every byte, and a few times faster to sum than a
SHA-256, for the file's rows are summed at every read."""

FILE_CHECKSUM = "crc32"
"""What a footer document says (`file_checksum`) of a file that carries `FILE_KEY`."""

_UNSEALED = b"0" * 8
"""Where the file's checksum goes (8 hex digits), while the file is summed."""

_VALUE = b"\x18\x08"
"""In the footer's Thrift, what stands between a key and an 8-byte value."""


def write_rows(table: pa.Table, out: BinaryIO) -> None:
    """Write rows as Parquet, dictionary-encoding only the text columns, with a CRC-32
    of the whole file in its footer.

    Columns too deep for a Parquet reader are stored as nulls (`storable`).

    pyarrow's default tries a dictionary for every column; on float columns,
    nearly all distinct, that triples the write time of an ingest flush for
    no smaller file. No column statistics either: nothing filters these
    files by them, and they take a fifth of the write.

    The checksum covers every byte (data pages, page headers, the footer and
    its offsets and schema), so no flipped byte is ever read as a value:
    the file is summed with zeros in the checksum's place, which then takes
    the sum.
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
    stamp = {**(table.schema.metadata or {}), FILE_KEY: _UNSEALED}
    sink = pa.BufferOutputStream()
    pq.write_table(
        table.replace_schema_metadata(stamp), sink, use_dictionary=text, write_statistics=False
    )
    data = memoryview(sink.getvalue())
    at = _checksum_at(data, _UNSEALED)
    if at is None:
        raise ValueError("the file checksum's place is not in the Parquet footer once")
    out.write(data[:at])
    out.write(_crc32(data, at))
    out.write(data[at + len(_UNSEALED) :])


def _checksum_at(data: memoryview, value: bytes) -> int | None:
    """Where `value`, the file checksum's, stands in the footer; None unless exactly once."""
    start = max(len(data) - 8 - int.from_bytes(data[-8:-4], "little"), 0)
    footer = data[start:].tobytes()
    marker = FILE_KEY + _VALUE + value
    first = footer.find(marker)
    if first < 0 or footer.find(marker, first + 1) >= 0:
        return None
    return start + first + len(FILE_KEY) + len(_VALUE)


def _crc32(data: memoryview, at: int) -> bytes:
    """The CRC-32 of the file, in hex, with zeros in the place of its checksum at `at`."""
    import zlib

    summed = zlib.crc32(data[:at])
    summed = zlib.crc32(_UNSEALED, summed)
    summed = zlib.crc32(data[at + len(_UNSEALED) :], summed)
    return b"%08x" % summed


def sealed(document: Any) -> bool:
    """Does a footer document say its file carries a checksum of all its bytes?"""
    said = document.get("file_checksum") if isinstance(document, dict) else None
    if said not in (None, FILE_CHECKSUM):
        raise Damaged(f"file_checksum must be {FILE_CHECKSUM!r}")
    return said is not None


class NotSealed(ValueError):
    """A store file whose bytes do not match the checksum in its footer."""


def read_sealed(path: Path, sealed: bool) -> pa.Table:
    """A store file's rows, once its bytes match the checksum in its footer.

    `sealed`: its footer document says it has one (a file without one, as
    written before it was added, is read as it is). Raises `NotSealed`, or Arrow's
    and the file system's errors.
    """
    import pyarrow.parquet as pq

    with path.open("rb") as file:  # a regular file: its store, or the user, checked it
        data = file.read()
    digest = None
    if len(data) >= 12 and data[-4:] == b"PAR1":
        digest = (pq.read_metadata(pa.BufferReader(data)).metadata or {}).get(FILE_KEY)
    if digest is not None:
        at = _checksum_at(memoryview(data), digest)
        if at is None or _crc32(memoryview(data), at) != digest:
            raise NotSealed("its bytes do not match their checksum")
    elif sealed:
        raise NotSealed("its checksum is missing")
    return pq.read_table(pa.BufferReader(data)).replace_schema_metadata(None)


def read_rows(path: Path, sealed: bool = False) -> pa.Table:
    """A window segment's rows (`sealed`: its footer says it carries a file checksum)."""
    try:
        return read_sealed(path, sealed)
    except NotSealed as exc:
        raise StoreError(f"{path}: corrupt window segment ({exc})", hint=REMOVE_HINT) from None
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
