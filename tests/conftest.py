"""Shared fixtures: paths to the sample data and test data, a CLI runner, real processes."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from driftcli.choices import InputFormat
from driftcli.cli import app
from driftcli.inputs import open_source

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


def read_all_batches(spec: str, input_format: InputFormat | None = None) -> list[pa.RecordBatch]:
    """Read a whole (small) input, as the check would read it."""
    with open_source(spec, input_format) as source:
        return list(source.batches())


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


# --- a log with a known story ------------------------------------------------

STORY_START = 1_709_251_200
"""2024-03-01T00:00:00Z: the story's first day."""
STORY_DAYS = 10
STORY_ROWS_PER_DAY = 600
STORY_SHIFT_DAY = 6
"""From the 7th day (2024-03-07) on, `amount` is shifted by one standard deviation."""
STORY_NEW_CATEGORY_DAY = 8
"""From the 9th day (2024-03-09) on, `plan` has a new category in 40% of the rows."""


def story_reference(rows: int = 4000) -> pa.Table:
    """What the model was trained on: no time column."""
    import numpy as np

    rng = np.random.default_rng(14)
    return pa.table(
        {
            "amount": rng.normal(0.0, 1.0, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]),
            "score": rng.normal(50.0, 10.0, rows),
        }
    )


def story_log() -> pa.Table:
    """Ten days of a live log, in time order: `ts` (UTC instants, evenly spread over each
    day), `amount` shifted from day 7, `plan` with a new category from day 9, `score`
    as in the reference throughout."""
    import numpy as np

    rng = np.random.default_rng(15)
    rows = STORY_DAYS * STORY_ROWS_PER_DAY
    day = np.arange(rows) // STORY_ROWS_PER_DAY
    within = (np.arange(rows) % STORY_ROWS_PER_DAY) * (86_400 // STORY_ROWS_PER_DAY) + 30
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]).astype(object)
    plan[(day >= STORY_NEW_CATEGORY_DAY) & (rng.random(rows) < 0.4)] = "enterprise"
    seconds = STORY_START + day * 86_400 + within
    return pa.table(
        {
            "ts": pa.array(seconds * 1_000_000, pa.timestamp("us", "UTC")),
            "amount": rng.normal(0.0, 1.0, rows) + np.where(day >= STORY_SHIFT_DAY, 1.0, 0.0),
            "plan": pa.array(plan.tolist(), pa.string()),
            "score": rng.normal(50.0, 10.0, rows),
        }
    )


def story_expected() -> dict[str, list[bool]]:
    """Which day each feature drifts on, as the story plants it."""
    days = range(STORY_DAYS)
    return {
        "amount": [d >= STORY_SHIFT_DAY for d in days],
        "plan": [d >= STORY_NEW_CATEGORY_DAY for d in days],
        "score": [False for _ in days],
    }


def with_iso_times(table: pa.Table, offset: str = "Z") -> pa.Table:
    """`ts` as ISO 8601 text (as CSV and JSON lines carry it)."""
    import pyarrow.compute as pc

    text = pc.strftime(table.column("ts"), format="%Y-%m-%dT%H:%M:%S")
    index = table.schema.get_field_index("ts")
    return table.set_column(index, "ts", pc.binary_join_element_wise(text, offset, ""))


@pytest.fixture(scope="session")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The story's reference and log, written once: ref.parquet, log.parquet, log.csv,
    log.jsonl (times as ISO text in the last two)."""
    where = tmp_path_factory.mktemp("story")
    log = story_log()
    return {
        "ref": write_table(story_reference(), where / "ref.parquet"),
        "parquet": write_table(log, where / "log.parquet"),
        "csv": write_table(with_iso_times(log), where / "log.csv"),
        "jsonl": write_table(with_iso_times(log, "+00:00"), where / "log.jsonl"),
    }


def run_driftcli(
    *args: str | Path,
    cwd: Path,
    redirect: str = "",
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[bytes]:
    """driftcli in a real process; `redirect` is shell redirections such as `2>&-`.

    stdout and stderr are captured unless `redirect` says otherwise.
    """
    command = [sys.executable, "-m", "driftcli", *(str(a) for a in args)]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    shell = ["/bin/sh", "-c", f'exec "$@" {redirect}', "sh", *command]
    return subprocess.run(
        shell,
        cwd=cwd,
        env=full_env,
        input=input,
        stdout=None if ">" in redirect.replace("2>", "") else subprocess.PIPE,
        stderr=None if "2>" in redirect else subprocess.PIPE,
        timeout=timeout,
        check=False,
    )


def store_contents(store: Path) -> dict[str, bytes]:
    """Every file of a store but its lock, by path: to compare a store before and after."""
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in sorted(store.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.name != ".lock"
    }


def window_segments(store: Path, window: str = "live") -> list[Path]:
    """A window's segment files, oldest first, read with pyarrow alone: without those a
    merge absorbed (its footer names them in `supersedes`; a crash may leave them)."""
    import json

    paths = sorted((store / "windows" / window).glob("seg-*.parquet"))
    absorbed: set[int] = set()
    for path in paths:
        footer = json.loads((pq.read_metadata(path).metadata or {})[b"driftcli.segment"])
        absorbed |= set(footer.get("supersedes", []))
    return [p for p in paths if int(p.name[4:16]) not in absorbed]


def window_ids(store: Path, window: str = "live", column: str = "id") -> list[int]:
    """The values of `column` in a window's segments, oldest first."""
    tables = [pq.read_table(s) for s in window_segments(store, window)]
    return [v for t in tables for v in t.column(column).to_pylist()]


@contextlib.contextmanager
def raises_told(
    error: type[Exception], match: str | None = None
) -> Iterator[pytest.ExceptionInfo[Any]]:
    """As `pytest.raises`, matching the message as the command line tells it: the library
    names a setting (`bins`), the CLI its flag (`--bins`)."""
    with pytest.raises(error) as caught:
        yield caught
    if match is not None:
        assert re.search(match, told(caught.value)), told(caught.value)


def told(error: BaseException, hint: bool = False) -> str:
    """An error's message (or its hint) as the command line tells it."""
    from driftcli.errors import flag_names

    said = getattr(error, "said_hint", None) if hint else getattr(error, "said", str(error))
    return flag_names(said or "")
