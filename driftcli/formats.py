"""The closed sets of formats named on the command line.

Kept apart from the readers and renderers so the CLI can declare its options
without importing pyarrow or numpy (`driftcli --help` stays fast).
"""

from __future__ import annotations

from enum import Enum


class InputFormat(str, Enum):
    """The file formats driftcli reads."""

    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"


class OutputFormat(str, Enum):
    """How a check result is written to stdout."""

    TABLE = "table"
    JSON = "json"
