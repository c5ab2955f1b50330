"""A table of JSON objects already parsed in Python, whose values' types may vary by row.

What the JSON-lines reader falls back to when pyarrow refuses a run
(jsonl_format.py), and what `--json-path` builds from objects kept as JSON
text (nested.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from driftcli.columns.values import mark_untyped


def table_from_objects(objects: Sequence[dict[str, Any] | None]) -> pa.Table:
    """A table of JSON objects, one row each (None: a row holding no key), whose values'
    types may differ from row to row."""
    rows = [row or {} for row in objects]
    keys = list(dict.fromkeys(key for row in rows for key in row))
    if not keys:  # lines of `{}`: rows without columns still count (all missing)
        return pa.table({"_": pa.nulls(len(rows))}).drop_columns(["_"])
    table = pa.table([_column_from_python([row.get(k) for row in rows]) for k in keys], names=keys)
    return mark_untyped(table, [k for k in keys if _mixed(table.column(k).type, rows, k)])


def _mixed(arrow_type: pa.DataType, rows: list[dict[str, Any]], key: str) -> bool:
    """Did a text column come from values of several JSON types?"""
    if not pa.types.is_string(arrow_type):
        return False
    return any(not isinstance(row.get(key), str | None) for row in rows)


def _column_from_python(values: list[Any]) -> pa.Array:
    """An Arrow array from JSON values whose types may differ line to line.

    A column mixing numbers and strings becomes text; the profile then parses
    it and counts what does not read as a number as invalid.
    """
    bools = sum(isinstance(v, bool) for v in values)
    if 0 < bools < sum(v is not None for v in values):
        # pyarrow would read true as 1.0 among numbers; keep it a (wrong) word.
        return pa.array([_as_text(v) for v in values], type=pa.string())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_as_text(v) for v in values], type=pa.string())


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)
