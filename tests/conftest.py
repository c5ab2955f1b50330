"""Shared fixtures: paths to the sample data and test data, and a CLI runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from driftcli.cli import app

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_data"
DATA = Path(__file__).parent / "data"


@pytest.fixture
def sample() -> Path:
    return SAMPLE


@pytest.fixture
def data() -> Path:
    return DATA


Invoke = Callable[..., Result]


@pytest.fixture
def invoke() -> Invoke:
    """Run the CLI in-process; `input` (bytes) becomes stdin."""

    def run(*args: str | Path, input: bytes | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


def write_table(table: pa.Table, path: Path) -> Path:
    """Write `table` in the format the suffix of `path` names."""
    import json

    if path.suffix == ".parquet":
        pq.write_table(table, path)
    elif path.suffix == ".csv":
        pcsv.write_csv(table, path)
    else:
        with path.open("w", encoding="utf-8") as out:
            for row in table.to_pylist():
                out.write(json.dumps(row) + "\n")
    return path
