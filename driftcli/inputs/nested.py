"""`--json-path`: the features of each JSON line read from a nested object, not the top level.

`request.features` names the object under the key `request`, then under
`features`; its keys become the columns. A line without that object (the
key absent or null, or something else than an object there) is a row
holding no feature: counted and located as any row without features is,
never an error. The path is followed on the parsed Arrow columns (structs),
so the common case costs no Python per line; only where one key held
objects on some lines and other values on others (the slow parser then
keeps the JSON text) is it followed value by value.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from driftcli.errors import UsageError
from driftcli.inputs.json_objects import table_from_objects

JsonPath = tuple[str, ...]


def parse_json_path(text: str) -> JsonPath:
    """`request.features` as its keys; an empty key is a `UsageError`."""
    keys = tuple(text.split("."))
    if not text or any(not key for key in keys):
        raise UsageError(
            f"--json-path {text!r}: must be keys separated by dots, such as features or "
            "request.features",
            hint="each part is a key of a JSON object; no part may be empty",
        )
    return keys


def features_at(table: pa.Table, path: JsonPath) -> pa.Table:
    """The object at `path` in each row, as a table of its keys (rows without it: all null)."""
    rows = table.num_rows
    column: pa.Array | None = _column(table, path[0])
    for depth, key in enumerate(path[1:], start=1):
        if column is None:
            break
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            return _from_text(column, path[depth:])
        column = _field(column, key)
    if column is None:
        return _no_columns(rows)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return _from_text(column, ())
    if not pa.types.is_struct(column.type):
        return _no_columns(rows)
    names = [column.type.field(i).name for i in range(column.type.num_fields)]
    return pa.table(column.flatten(), names=names)


def _column(table: pa.Table, name: str) -> pa.Array | None:
    if name not in table.column_names:
        return None
    return table.column(name).combine_chunks()


def _field(column: pa.Array, key: str) -> pa.Array | None:
    """The key's values in a struct column (null where the row has no object); None if no
    row has it."""
    if not pa.types.is_struct(column.type) or column.type.get_field_index(key) < 0:
        return None
    import pyarrow.compute as pc

    found: pa.Array = pc.struct_field(column, key)
    return found


def _no_columns(rows: int) -> pa.Table:
    """`rows` rows holding no column at all: each a row without features."""
    return pa.table({"_": pa.nulls(rows)}).drop_columns(["_"])


def _from_text(column: pa.Array, rest: JsonPath) -> pa.Table:
    """Follow the rest of the path in JSON text values (where a key's values were mixed)."""
    objects: list[dict[str, Any] | None] = []
    for text in column.to_pylist():
        value: Any = None
        if isinstance(text, str) and text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                value = None
        for key in rest:
            value = value.get(key) if isinstance(value, dict) else None
        objects.append(value if isinstance(value, dict) else None)
    return table_from_objects(objects)
