"""The Dask engine gives the local engine's answers (a 2-worker cluster on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftcli.api import build_reference, check_against
from driftcli.engine import DaskEngine, EngineError, LocalEngine, open_engine
from driftcli.errors import UsageError
from driftcli.settings import Settings
from tests.conftest import Invoke, raises_told, write_table

distributed = pytest.importorskip("distributed")


def split(table: pa.Table, root: Path, fmt: str, parts: int) -> Path:
    size = -(-table.num_rows // parts)
    for i in range(parts):
        folder = root / f"part={i}"
        folder.mkdir(parents=True)
        write_table(table.slice(i * size, size), folder / f"data.{fmt}")
    return root


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_check_counts_and_scores_equal_the_local_engine(
    dask: DaskEngine, sample: Path, tmp_path: Path, fmt: str
) -> None:
    live = split(pq.read_table(sample / "live_drift.parquet"), tmp_path / "live", fmt, 5)
    reference = build_reference(str(sample / "ref.parquet"), sample_rows=2000)
    settings = Settings()
    local = check_against(str(live), reference, settings)
    remote = check_against(str(live), reference, settings, engine=dask)
    assert remote.live.rows == local.live.rows == 500
    for a, b in zip(remote.features, local.features, strict=True):
        np.testing.assert_array_equal(a.live, b.live)
        assert a.score == b.score and a.status == b.status
    assert remote.new_columns == local.new_columns == ["part"]
    ks = Settings(metric="ks")
    assert [f.score for f in check_against(str(live), reference, ks, engine=dask).features] == [
        f.score for f in check_against(str(live), reference, ks).features
    ]


@pytest.mark.parametrize("decimal", [None, ",", "."])
def test_workers_read_decimal_commas_as_the_local_engine(
    dask: DaskEngine, sample: Path, tmp_path: Path, decimal: str | None
) -> None:
    from tests.test_inputs import european

    table = pq.read_table(sample / "live_drift.parquet")
    live = tmp_path / "live"
    for i, part in enumerate([table.slice(0, 250), table.slice(250)]):
        (live / f"part={i}").mkdir(parents=True)
        (live / f"part={i}" / "data.csv").write_bytes(european(part))
    reference = build_reference(str(sample / "ref.parquet"), sample_rows=2000)
    settings = Settings(decimal=decimal)
    local = check_against(str(live), reference, settings)
    remote = check_against(str(live), reference, settings, engine=dask)
    expected = check_against(str(sample / "live_drift.parquet"), reference, settings)
    for a, b, c in zip(remote.features, local.features, expected.features, strict=True):
        np.testing.assert_array_equal(a.live, b.live)
        if decimal != ".":
            np.testing.assert_array_equal(a.live, c.live)
    if decimal == ".":  # as told: on both engines, decimal commas are not numbers
        income = next(f for f in remote.features if f.name == "income")
        assert income.live_invalid == income.live.sum() - income.live[-2] > 400


def test_reference_on_dask_has_exact_counts_and_edges_within_the_sketch_accuracy(
    dask: DaskEngine, tmp_path: Path
) -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    table = pa.table(
        {
            "x": rng.lognormal(0, 1, n),
            "k": rng.integers(0, 5, n).astype(np.float64),
            "c": pa.array(rng.choice(["a", "b", "c"], n)),
        }
    )
    data = split(table, tmp_path / "ref", "parquet", 8)
    local = build_reference(str(data))
    remote = build_reference(str(data), engine=dask, sample_rows=1000)
    assert remote.profile.counts.rows == n and remote.sample.num_rows == 1000
    assert "part" in remote.profile.skipped and "part" in local.profile.skipped
    by_name = {f.name: f for f in remote.profile.features}
    local_by_name = {f.name: f for f in local.profile.features}
    # Discrete and categorical buckets: identical, and so are the counts.
    for name in ("k", "c"):
        assert by_name[name].labels() == local_by_name[name].labels()
        np.testing.assert_array_equal(
            remote.profile.counts.features[name].buckets,
            local.profile.counts.features[name].buckets,
        )
    # Numeric edges from the merged sample: each within 4 standard errors in rank.
    values = np.sort(table.column("x").to_numpy())
    edges = by_name["x"].edges
    assert edges is not None and len(edges) == 21
    # The outer edges are the column's smallest value and just above its largest (exact,
    # not the sample's); the quantiles between them come from the sample.
    assert edges[0] == values[0] and edges[-1] == np.nextafter(values[-1], np.inf)
    ranks = np.searchsorted(values, edges[1:-1]) / n
    targets = np.arange(1, 20) / 20
    error = 4 * np.sqrt(targets * (1 - targets) / 2**16)
    assert np.all(np.abs(ranks - targets) <= error)
    # Counts over those edges are exact: the local engine counts the same.
    recount = check_against(str(data), remote, Settings())
    np.testing.assert_array_equal(
        next(f for f in recount.features if f.name == "x").live,
        remote.profile.counts.features["x"].buckets,
    )


def test_a_killed_worker_never_gives_a_wrong_verdict(
    cluster: str, sample: Path, tmp_path: Path
) -> None:
    big = pa.concat_tables([pq.read_table(sample / "live_drift.parquet")] * 1200)
    live = split(big, tmp_path / "live", "csv", 24)
    reference = build_reference(str(sample / "ref.parquet"))
    expected = [f.score for f in check_against(str(live), reference, Settings()).features]
    engine = DaskEngine(cluster)
    try:
        workers = engine.client.run(os.getpid)
        outcome: dict[str, object] = {}

        def run() -> None:
            try:
                outcome["result"] = check_against(str(live), reference, Settings(), engine=engine)
            except EngineError as exc:
                outcome["error"] = exc

        job = threading.Thread(target=run)
        job.start()
        # Kill a worker once it is busy with this job's fragments.
        deadline = time.monotonic() + 30
        busy: list[str] = []
        while not busy and time.monotonic() < deadline:
            busy = [w for w, tasks in engine.client.processing().items() if tasks]
            time.sleep(0.01)
        assert busy, "the job never started"
        os.kill(workers[busy[0]], signal.SIGKILL)
        job.join(timeout=180)
        assert not job.is_alive()
        if "result" in outcome:  # Dask re-ran the lost fragments elsewhere
            result = outcome["result"]
            assert [f.score for f in result.features] == expected  # type: ignore[attr-defined]
        else:
            assert "no verdict was reached" in str(outcome["error"])
    finally:
        engine.close()


def test_unreachable_scheduler_is_a_clear_error_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import driftcli.engine.engines

    monkeypatch.setattr(driftcli.engine.engines, "SCHEDULER_TIMEOUT", 2)
    started = time.monotonic()
    with pytest.raises(
        EngineError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        DaskEngine("tcp://127.0.0.1:9")
    assert time.monotonic() - started < 15


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(UsageError, match="needs Dask") as caught:
        DaskEngine()
    assert caught.value.hint == "pip install 'driftcli[dask]'"


def test_engine_choice_and_stdin() -> None:
    assert isinstance(open_engine("local"), LocalEngine)
    with raises_told(UsageError, match="--scheduler goes with --engine dask"):
        open_engine("local", "tcp://x:1")
    with pytest.raises(UsageError, match="cannot read stdin"):
        check_against("-", build_reference("sample_data/ref.parquet"), engine=_FakeDistributed())


class _FakeDistributed(LocalEngine):
    distributed = True


def test_cli_engine_flags(
    invoke: Invoke, cluster: str, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftcli.engine.engines

    monkeypatch.setattr(driftcli.engine.engines, "SCHEDULER_TIMEOUT", 2)
    live = split(pq.read_table(sample / "live_drift.parquet"), tmp_path / "live", "parquet", 3)
    result = invoke(
        "check", live, "--ref", sample / "ref.parquet", "--engine", "dask", "--scheduler", cluster
    )
    assert result.exit_code == 1, result.stderr
    local = invoke("check", live, "--ref", sample / "ref.parquet")
    assert result.stdout.splitlines()[-2:] == local.stdout.splitlines()[-2:]
    down = invoke(
        "check",
        live,
        "--ref",
        sample / "ref.parquet",
        "--engine",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:9",
    )
    assert down.exit_code == 2 and "cannot reach the Dask scheduler" in down.stderr


@pytest.mark.parametrize(
    "entry", [["-m", "driftcli"], ["-c", "from driftcli.cli import main; main()"]]
)
def test_local_dask_cluster_from_the_command_line(
    entry: list[str], sample: Path, tmp_path: Path
) -> None:
    import subprocess

    live = split(pq.read_table(sample / "live_ok.parquet"), tmp_path / "live", "parquet", 2)
    done = subprocess.run(
        [sys.executable, *entry, "check", str(live), "--ref", str(sample / "ref.parquet"),
         "--engine", "dask", "-f", "json"],
        capture_output=True, text=True, timeout=180, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"drift": false' in done.stdout


def test_workers_read_with_the_line_limit_and_name_the_bad_line(
    invoke: Invoke, cluster: str, sample: Path, tmp_path: Path
) -> None:
    live = tmp_path / "live"
    live.mkdir()
    rows = (sample / "live_ok.csv").read_text().splitlines()
    (live / "a.csv").write_text("\n".join(rows[:100]) + "\n")
    (live / "b.csv").write_text("\n".join([rows[0], *rows[100:150], "1," + "x" * 500]) + "\n")
    args = ["check", live, "--ref", sample / "ref.parquet", "--engine", "dask",
            "--scheduler", cluster, "--max-line-bytes", "200"]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 2
    assert f"{live / 'b.csv'}: line 52: longer than the line limit of 200 bytes" in result.stderr
    assert invoke(*args[:-2]).exit_code in (0, 1, 2)  # the default limit lets it through


def test_json_path_on_dask_equals_the_local_engine(
    dask: DaskEngine, sample: Path, tmp_path: Path
) -> None:
    flat = pq.read_table(sample / "live_drift.parquet")
    columns = [c.combine_chunks() for c in flat.columns]
    features = pa.StructArray.from_arrays(columns, names=flat.column_names)
    request = pa.StructArray.from_arrays([features], names=["features"])
    nested = pa.table({"ts": range(flat.num_rows), "request": request})
    live = split(nested, tmp_path / "live", "jsonl", 3)
    reference = build_reference(str(sample / "ref.parquet"), sample_rows=2000)
    settings = Settings(json_path="request.features")
    local = check_against(str(live), reference, settings)
    remote = check_against(str(live), reference, settings, engine=dask)
    assert remote.live.rows == local.live.rows == flat.num_rows
    for a, b in zip(remote.features, local.features, strict=True):
        np.testing.assert_array_equal(a.live, b.live)
        assert a.score == b.score and a.status == b.status
    assert remote.drift


# --- bad lines on workers: as on the local engine -------------------------------


@pytest.fixture
def bad_lines_dir(sample: Path, tmp_path: Path) -> Path:
    """Three CSV files; bad lines in the second and third (the first bad one: b.csv, line 4)."""
    rows = (sample / "live_ok.csv").read_text().splitlines()
    header, body = rows[0], rows[1:]
    live = tmp_path / "live"
    live.mkdir()
    (live / "a.csv").write_text("\n".join([header, *body[:150]]) + "\n")
    (live / "b.csv").write_text("\n".join([header, *body[150:152], "1,2", *body[152:300]]) + "\n")
    (live / "c.csv").write_text("\n".join([header, *body[300:], '"unclosed,1']) + "\n")
    return live


def _driftcli(*args: str | Path, cwd: Path) -> tuple[int, str, str]:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "driftcli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("command", ["check", "reference"])
def test_a_bad_line_on_a_local_cluster_is_the_local_engines_one_line(
    bad_lines_dir: Path, sample: Path, command: str
) -> None:
    """Workers printed three tracebacks through distributed's logger (the task failed,
    was retried twice), then an error naming the file by its absolute path."""
    args: list[str | Path] = {
        "check": ["check", "live", "--ref", sample / "ref.parquet"],
        "reference": ["reference", "live", "-o", "ref.parquet"],
    }[command]
    where = bad_lines_dir.parent
    local = _driftcli(*args, cwd=where)
    dask = _driftcli(*args, "--engine", "dask", cwd=where)
    assert local[0] == dask[0] == 2
    assert (
        dask[2]
        == local[2]
        == (
            "error: live/b.csv: line 4: row has 2 fields, the header has 5\n"
            "hint: pass --skip-bad-lines to count and skip such lines\n"
        )
    )


@pytest.mark.parametrize("command", ["check", "reference"])
def test_skip_bad_lines_on_a_local_cluster_skips_and_counts_as_the_local_engine(
    bad_lines_dir: Path, sample: Path, command: str
) -> None:
    args: list[str | Path] = {
        "check": ["check", "live", "--ref", sample / "ref.parquet", "-f", "json"],
        "reference": ["reference", "live", "-o", "ref.parquet", "-f", "json"],
    }[command]
    where = bad_lines_dir.parent
    local = _driftcli(*args, "--skip-bad-lines", cwd=where)
    dask = _driftcli(*args, "--skip-bad-lines", "--engine", "dask", cwd=where)
    assert local[0] == dask[0] == 0, (local[2], dask[2])
    assert dask[2] == local[2] == "warning: live: skipped 2 bad lines (4, 202)\n"
    if command == "check":
        assert json.loads(dask[1]) == json.loads(local[1])
    else:
        shown = [json.loads(out)["source"] for out in (local[1], dask[1])]
        assert shown[0] == shown[1]


def test_skipped_lines_on_workers_are_counted_once_as_on_the_local_engine(
    dask: DaskEngine, bad_lines_dir: Path, sample: Path
) -> None:
    settings = Settings(skip_bad_lines=True)
    reference = build_reference(str(sample / "ref.parquet"))
    local = check_against(str(bad_lines_dir), reference, settings)
    remote = check_against(str(bad_lines_dir), reference, settings, engine=dask)
    assert (remote.live.skipped_lines, remote.live.first_skipped) == (2, (4, 202))
    assert (local.live.skipped_lines, local.live.first_skipped) == (2, (4, 202))
    assert remote.live.rows == local.live.rows
    built = build_reference(str(bad_lines_dir), settings, engine=dask)
    assert (built.source.skipped_lines, built.source.first_skipped) == (2, (4, 202))


def _story_files(tmp_path: Path, fmt: str) -> Path:
    """The story's log dealt round-robin into 3 files (each file holds every day), with
    rows whose time is missing or unreadable and an invalid amount."""
    from tests.conftest import story_log, with_iso_times

    log = with_iso_times(story_log()) if fmt != "parquet" else story_log()
    ts = log.column("ts").to_pylist()
    ts[7], ts[3001] = None, None
    if fmt != "parquet":
        ts[4000] = "not a time"
    amount = log.column("amount").to_pylist()
    log = log.set_column(0, "ts", pa.array(ts, log.schema.field("ts").type))
    if fmt != "parquet":
        amount[5000] = "n/a"
        log = log.set_column(1, "amount", pa.array([str(a) for a in amount]))
    root = tmp_path / f"log-{fmt}"
    for part in range(3):
        rows = pa.array(np.arange(part, log.num_rows, 3))
        folder = root / f"part={part}"
        folder.mkdir(parents=True)
        write_table(log.take(rows), folder / f"data.{fmt}")
    return root


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
@pytest.mark.parametrize("metric", ["kl", "ks"])
def test_time_chunks_on_dask_equal_the_local_engine(
    dask: DaskEngine, story: dict[str, Path], tmp_path: Path, fmt: str, metric: str
) -> None:
    """Every file holds rows of every day: the workers' chunks merge key by key into the
    chunks one reader finds, with the same counts, scores, untimed rows and verdict."""
    from driftcli.api import check_timeline
    from driftcli.settings import ByTime, parse_every

    live = str(_story_files(tmp_path, fmt))
    daily = ByTime("ts", parse_every("1d"))
    settings = Settings(metric=metric)
    store = tmp_path / "unused"
    local = check_timeline(live, str(story["ref"]), daily, settings, store=store)
    remote = check_timeline(live, str(story["ref"]), daily, settings, store=store, engine=dask)
    assert [c.start for c in remote.chunks] == [c.start for c in local.chunks]
    assert len(local.chunks) == 10 and local.drift and remote.verdict == local.verdict
    assert remote.live.rows == local.live.rows == 6000
    assert remote.untimed == local.untimed and local.untimed.missing == 2
    for mine, theirs in zip(remote.chunks, local.chunks, strict=True):
        assert mine.check.live.rows == theirs.check.live.rows
        for a, b in zip(mine.check.features, theirs.check.features, strict=True):
            np.testing.assert_array_equal(a.live, b.live)
            assert (a.score, a.status, a.p_value) == (b.score, b.status, b.p_value)
            assert a.invalid_at == b.invalid_at
    assert remote.deciding == local.deciding


def test_chunks_of_rows_are_refused_on_dask_naming_the_engine(
    invoke: Invoke, story: dict[str, Path], cluster: str
) -> None:
    result = invoke(
        "check", story["parquet"], "--ref", story["ref"], "--chunk-rows", "600",
        "--engine", "dask", "--scheduler", cluster,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Dask's workers" in result.stderr and "--by COLUMN" in result.stderr


def test_a_chunked_check_on_dask_from_the_command_line(
    invoke: Invoke, story: dict[str, Path], tmp_path: Path, cluster: str
) -> None:
    live = _story_files(tmp_path, "jsonl")
    args = ("check", live, "--ref", story["ref"], "--by", "ts", "--every", "1d", "--format", "json")
    local = invoke(*args)
    remote = invoke(*args, "--engine", "dask", "--scheduler", cluster)
    assert remote.exit_code == local.exit_code == 1, remote.stderr
    a, b = json.loads(remote.stdout), json.loads(local.stdout)
    for doc in (a, b):
        doc.pop("settings", None)
    assert len(b["chunks"]) == 10 and b["timeline"]
    assert a["chunks"] == b["chunks"] and a["timeline"] == b["timeline"]


def test_a_local_cluster_says_nothing_when_another_dask_holds_the_dashboard_port(
    tmp_path: Path, sample: Path
) -> None:
    """Port 8787 is any Dask cluster's (a notebook's): driftcli's own cluster serves its
    health routes on a free port, and distributed has no port to warn about on stderr."""
    import contextlib
    import socket

    with contextlib.ExitStack() as stack:
        holder = stack.enter_context(socket.socket())
        with contextlib.suppress(OSError):  # already held by another cluster: as good
            holder.bind(("127.0.0.1", 8787))
            holder.listen()
        code, _, err = _driftcli(
            "check", sample / "live_drift.parquet", "--ref", sample / "ref.parquet",
            "--engine", "dask", "-q", cwd=tmp_path,
        )  # fmt: skip
    assert code == 1
    assert err == ""
