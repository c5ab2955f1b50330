"""Shared fixtures: paths to the sample data and test data, and a CLI runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from driftcli.cli import app

if TYPE_CHECKING:
    from driftcli.engine import DaskEngine

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


@pytest.fixture(scope="session")
def cluster() -> Iterator[str]:
    """A 2-worker Dask cluster on 127.0.0.1, shared by the tests that need one."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=":0", silence_logs=50,
    ) as local:  # fmt: skip
        yield local.scheduler_address


@pytest.fixture
def dask(cluster: str) -> Iterator[DaskEngine]:
    from driftcli.engine import DaskEngine

    engine = DaskEngine(cluster)
    yield engine
    engine.close()
