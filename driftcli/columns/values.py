"""Read an Arrow column as a feature's type: numbers or text, with masks.

Whatever format a column came from, the profile sees it through these two
functions. Missing means null, NaN or an empty string; invalid means a value
that is present but cannot be read as the feature's type (a word in a numeric
column). Both are counted, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_BOOLEAN_WORDS = pa.array(["true", "false"], pa.string())
# Typed scalars made once: pyarrow turns a Python str into a scalar by first
# trying to import dateutil, and that failed import is retried on every call
# (twenty times the cost of the comparison with a ready scalar).
_EMPTY = pa.scalar("", pa.string())
_NO_TEXT = pa.scalar(None, pa.string())
_NAN = pa.scalar(float("nan"), pa.float64())

# What pyarrow's string-to-double cast accepts, after trimming whitespace.
_NUMBER = r"(?i)^[+-]?((\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?|inf(inity)?|nan)$"


UNTYPED_KEY = b"driftcli.untyped"
"""Field metadata a reader puts on text columns whose values' type is unknown
(CSV, or JSON whose lines disagree): the reference decides by the values."""


PARTITION_KEY = b"driftcli.partition"
"""Field metadata on columns made from hive partition directories (key=value/)."""


def mark_untyped(table: pa.Table, names: list[str]) -> pa.Table:
    """Mark text columns whose type is unknown: the profile decides by their values."""
    if not names:
        return table
    fields = [
        field.with_metadata({UNTYPED_KEY: b"1"}) if field.name in names else field
        for field in table.schema
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


class TypeClass(IntFlag):
    """The Arrow type families a column's values arrived as; OR-able."""

    NONE = 0
    NUMBER = 1
    TEXT = 2
    BOOL = 4
    OTHER = 8
    UNTYPED = 16
    """Text whose type is unknown (CSV): a reference of it takes live values of any type."""


def type_class(arrow_type: pa.DataType) -> TypeClass:
    """The family of an Arrow type (dictionaries by their value type)."""
    if pa.types.is_dictionary(arrow_type):
        return type_class(arrow_type.value_type)
    if pa.types.is_null(arrow_type):
        return TypeClass.NONE
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return TypeClass.NUMBER
    if pa.types.is_decimal(arrow_type):
        return TypeClass.NUMBER
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return TypeClass.TEXT
    if pa.types.is_string_view(arrow_type):
        return TypeClass.TEXT
    if pa.types.is_boolean(arrow_type):
        return TypeClass.BOOL
    return TypeClass.OTHER


@dataclass(frozen=True)
class Numbers:
    """A column read as float64: `values` is NaN wherever the value is missing or invalid."""

    values: FloatArray
    missing: BoolArray
    invalid: BoolArray


@dataclass(frozen=True)
class Texts:
    """A column read as text: `values` is null wherever the value is missing or invalid."""

    values: pa.Array
    missing: BoolArray
    invalid: BoolArray


def _decoded(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column


def read_numbers(column: pa.Array | pa.ChunkedArray) -> Numbers:
    """Read a column as numbers; text that does not parse is invalid."""
    array = _decoded(column)
    family = type_class(array.type)
    size = len(array)
    if family is TypeClass.NUMBER:
        values = _to_float(array)
        missing = np.isnan(values)
        return Numbers(values, missing, np.zeros(size, dtype=bool))
    if family is TypeClass.TEXT:
        return _parse_numbers(array)
    # Booleans, dates, nested values: present but not numbers.
    nulls = _null_mask(array)
    return Numbers(np.full(size, np.nan), nulls, ~nulls)


def read_texts(column: pa.Array | pa.ChunkedArray) -> Texts:
    """Read a column as category labels; numbers and booleans become their text."""
    array = _decoded(column)
    family = type_class(array.type)
    if family is TypeClass.TEXT:
        text = array if pa.types.is_string(array.type) else array.cast(pa.string())
    elif family in (TypeClass.NUMBER, TypeClass.BOOL):
        text = pc.cast(array, pa.string())
        if family is TypeClass.NUMBER and pa.types.is_floating(array.type):
            text = pc.if_else(pc.is_nan(array), _NO_TEXT, text)
    elif family is TypeClass.NONE:
        text = pa.nulls(len(array), pa.string())
    else:
        nulls = _null_mask(array)
        return Texts(pa.nulls(len(array), pa.string()), nulls, ~nulls)
    # An empty string is missing, as it is in CSV, so every format agrees; and
    # True/FALSE (pandas, Python) read as the true/false of a boolean column.
    text = pc.if_else(pc.equal(text, _EMPTY), _NO_TEXT, text)
    if family is TypeClass.TEXT:
        lower = pc.utf8_lower(text)
        text = pc.if_else(pc.is_in(lower, value_set=_BOOLEAN_WORDS), lower, text)
    missing = _null_mask(text)
    return Texts(text, missing, np.zeros(len(array), dtype=bool))


@dataclass(frozen=True)
class Tally:
    """A column read as labels and counted: each distinct label once, with its count."""

    labels: pa.Array
    """Distinct present labels (text), never null or empty."""
    counts: npt.NDArray[np.int64]
    missing: int
    invalid: int


def tally_texts(column: pa.Array | pa.ChunkedArray) -> Tally:
    """Count a column's labels without touching each row in Python.

    Counting happens on the column as it is (dictionary indices for
    dictionary columns); only the distinct labels are then read as text,
    so the cost is one hash pass over the rows.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    family = type_class(column.type)
    if family not in (TypeClass.TEXT, TypeClass.NUMBER, TypeClass.BOOL, TypeClass.NONE):
        nulls = column.null_count
        return Tally(pa.array([], pa.string()), np.zeros(0, np.int64), nulls, len(column) - nulls)
    if pa.types.is_dictionary(column.type):
        values, counts = _dictionary_counts(column)
    else:
        tallies = pc.value_counts(column)
        values = tallies.field("values")
        counts = np.asarray(tallies.field("counts").to_numpy(zero_copy_only=False), np.int64)
    texts = read_texts(values)
    present = ~texts.missing
    return Tally(
        labels=texts.values.filter(arrow_array(present)),
        counts=counts[present],
        missing=int(counts[texts.missing].sum()),
        invalid=0,
    )


def _dictionary_counts(column: pa.DictionaryArray) -> tuple[pa.Array, npt.NDArray[np.int64]]:
    """Rows per dictionary entry (nulls as a last, null entry), counted on the indices.

    np.bincount over the indices is four times faster than value_counts' hashing.
    """
    dictionary = column.dictionary
    size = len(dictionary)
    indices = column.indices
    if indices.null_count:  # in int64: size itself may not fit an int8 or uint8 index
        indices = pc.fill_null(indices.cast(pa.int64()), size)
    counts = np.bincount(indices.to_numpy(), minlength=size + 1).astype(np.int64)
    values = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
    used = np.flatnonzero(counts)
    return values.take(arrow_array(used)), counts[used]


def arrow_array(values: npt.NDArray[np.int64] | BoolArray) -> pa.Array:
    """A 1-d int64 or bool numpy array as an Arrow array (ints not copied).

    pa.array() would do, but its check for numpy masked arrays imports
    numpy.ma, which every start would pay.
    """
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    ints = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(ints), [None, pa.py_buffer(ints)])


def share_numeric(column: pa.Array | pa.ChunkedArray) -> float:
    """The share of a text column's present values that read as numbers (1.0 if none)."""
    numbers = read_numbers(column)
    present = int(np.count_nonzero(~numbers.missing))
    if present == 0:
        return 1.0
    return 1.0 - int(np.count_nonzero(numbers.invalid)) / present


def _to_float(array: pa.Array) -> FloatArray:
    # Read-only when Arrow's buffer is shared; nothing downstream writes to it.
    as_float = array if array.type == pa.float64() else pc.cast(array, pa.float64(), safe=False)
    if as_float.null_count:
        # Nulls become NaN in Arrow's own memory, and numpy then shares it:
        # to_numpy would copy element by element into fresh pages.
        as_float = pc.fill_null(as_float, _NAN)
    return np.asarray(as_float.to_numpy(zero_copy_only=False), dtype=np.float64)


def _null_mask(array: pa.Array) -> BoolArray:
    if array.null_count == 0:
        return np.zeros(len(array), dtype=bool)
    return np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def _parse_numbers(text: pa.Array) -> Numbers:
    try:
        values = _to_float(text)
    except pa.ArrowInvalid:
        pass  # some value is not a number: take the slow path below
    else:
        return Numbers(values, np.isnan(values), np.zeros(len(text), dtype=bool))
    trimmed = pc.utf8_trim_whitespace(text)
    empty = pc.fill_null(pc.equal(trimmed, _EMPTY), True)
    readable = pc.fill_null(pc.match_substring_regex(trimmed, _NUMBER), False)
    values = _to_float(pc.if_else(readable, trimmed, _NO_TEXT))
    missing = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    invalid = ~missing & ~np.asarray(readable.to_numpy(zero_copy_only=False), dtype=bool)
    missing |= np.isnan(values) & ~invalid
    return Numbers(values, missing, invalid)


def concat_tables(tables: list[pa.Table]) -> pa.Table:
    """Stack tables whose schemas may differ (JSON pieces infer their types apart).

    Numeric types widen; columns typed differently in different tables
    become text, as the CSV reader keeps them; a column that cannot become
    text (nested values) is left out.
    """
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    columns = {}
    for name in dict.fromkeys(n for t in tables for n in t.column_names):
        parts = [t.column(name) if name in t.column_names else None for t in tables]
        types = {p.type for p in parts if p is not None and not pa.types.is_null(p.type)}
        target = next(iter(types)) if len(types) == 1 else pa.string()
        try:
            typed = [
                p.cast(target) if p is not None else pa.nulls(len(t), target)
                for p, t in zip(parts, tables, strict=True)
            ]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        chunks = [c for array in typed for c in getattr(array, "chunks", [array])]
        columns[name] = pa.chunked_array(chunks, type=target)
    if columns:
        return pa.table(columns)
    return pa.table({"_": pa.nulls(sum(len(t) for t in tables))}).drop_columns(["_"])
