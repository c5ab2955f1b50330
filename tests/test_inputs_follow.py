"""`ingest --follow`: a log followed across rotation, and resumed after any stop, each line once.

Real processes throughout: a writer process that appends and rotates the
log, and driftcli followers killed with SIGKILL at random moments and
started again. The store must then hold every line written, exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from driftcli.store import Store
from tests.conftest import ROOT, run_driftcli

WRITER = textwrap.dedent(
    """
    import json, os, sys, time
    log, lines, rotate_every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    pause, first = float(sys.argv[4]), int(sys.argv[5])
    rotated = 0
    out = open(log, "a")
    for i in range(first, lines):
        out.write(json.dumps({"id": i, "x": i % 13}) + "\\n")
        out.flush()
        if (i + 1) % rotate_every == 0:
            out.close()
            rotated += 1
            os.rename(log, f"{log}.{rotated}")  # rename and re-create, as logrotate does
            out = open(log, "a")
        time.sleep(pause)
    out.close()
    """
)


def stored_ids(store: Path, window: str = "live") -> list[int]:
    """The `id` of every row the window holds, read as driftcli reads it."""
    opened = Store.open(store, create=False)
    return [v for table in opened.window(window).tables() for v in table.column("id").to_pylist()]


def follower(store: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "driftcli", "ingest", "--follow", str(log), "--store", str(store),
        "--flush-rows", "40", "--flush-seconds", "0.1", "--window-size", "1000000", *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def default_signals() -> None:  # a test run in the background, or under nohup, ignores some
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)

    return subprocess.Popen(
        command, cwd=log.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=default_signals,
    )  # fmt: skip


def wait_for_rows(store: Path, rows: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    ids: list[int] = []
    while time.monotonic() < deadline:
        if (store / "windows" / "live").is_dir():
            ids = stored_ids(store)
            if len(ids) >= rows:
                return ids
        time.sleep(0.2)
    return ids


def wait_for_count(store: Path, rows: int, timeout: float = 60) -> int:
    """The rows the window holds, once at least `rows` (or at the timeout)."""
    deadline = time.monotonic() + timeout
    held = 0
    while time.monotonic() < deadline:
        if (store / "windows" / "live").is_dir():
            opened = Store.open(store, create=False)
            held = sum(table.num_rows for table in opened.window("live").tables())
            if held >= rows:
                return held
        time.sleep(0.2)
    return held


def stop(process: subprocess.Popen[bytes]) -> bytes:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    return err


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_at_random_moments_loses_no_line_and_stores_none_twice(
    tmp_path: Path, seed: int
) -> None:
    chance = random.Random(seed)
    log, store = tmp_path / "app.log", tmp_path / "store"
    lines = 2400
    # A follow with no position yet starts at the file the path names: the first rows are
    # stored before the writer starts rotating, as they would be by a service started first.
    log.write_text("".join(json.dumps({"id": i, "x": i % 13}) + "\n" for i in range(20)))
    first = follower(store, log)
    wait_for_rows(store, 20)
    first.kill()
    first.communicate(timeout=30)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(log), str(lines), "500", "0.002", "20"], cwd=tmp_path
    )
    kills = 0
    try:
        while writer.poll() is None or kills < 3:
            process = follower(store, log)
            time.sleep(chance.uniform(0.6, 2.0))  # start-up included: killed at any stage
            process.kill()
            process.communicate(timeout=30)
            kills += 1
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0
    last = follower(store, log)
    ids = wait_for_rows(store, lines)
    err = stop(last)
    assert sorted(ids) == list(range(lines)), (kills, err.decode()[-2000:])
    assert len(ids) == len(set(ids))


def test_a_file_that_does_not_exist_yet_is_waited_for(tmp_path: Path) -> None:
    log, store = tmp_path / "later.log", tmp_path / "store"
    process = follower(store, log)
    time.sleep(1.5)
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(50)))
    ids = wait_for_rows(store, 50)
    stop(process)
    assert ids == list(range(50))


def test_copy_truncate_rotation_reads_the_file_again_from_its_start(tmp_path: Path) -> None:
    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(100)))
    process = follower(store, log)
    assert wait_for_rows(store, 100) == list(range(100))
    # logrotate's copytruncate: the lines are copied away, the file cut to nothing in place.
    (tmp_path / "app.log.1").write_bytes(log.read_bytes())
    os.truncate(log, 0)
    time.sleep(0.5)
    with log.open("a") as out:
        out.write("".join(json.dumps({"id": i}) + "\n" for i in range(100, 130)))
    ids = wait_for_rows(store, 130)
    err = stop(process)
    assert ids == list(range(130))
    assert b"truncated" in err


def test_a_restart_resumes_after_the_last_line_stored(tmp_path: Path) -> None:
    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(70)))
    first = follower(store, log)
    wait_for_rows(store, 70)
    stop(first)
    with log.open("a") as out:
        out.write("".join(json.dumps({"id": i}) + "\n" for i in range(70, 90)))
    second = follower(store, log)
    ids = wait_for_rows(store, 90)
    stop(second)
    assert ids == list(range(90))


def test_a_line_written_in_two_parts_is_stored_once_whole(tmp_path: Path) -> None:
    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text('{"id": 0}\n{"id": ')
    process = follower(store, log)
    time.sleep(1.0)
    with log.open("a") as out:
        out.write('1}\n{"id": 2}\n')
    ids = wait_for_rows(store, 3)
    stop(process)
    assert ids == [0, 1, 2]


def test_rows_that_age_out_keep_the_position(tmp_path: Path) -> None:
    """A bounded window drops its oldest rows; the next run still starts after the last."""
    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(200)))
    first = follower(store, log, "--window-size", "50")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and wait_for_rows(store, 50)[-1:] != [199]:
        time.sleep(0.2)
    stop(first)
    assert stored_ids(store) == list(range(150, 200))
    with log.open("a") as out:
        out.write("".join(json.dumps({"id": i}) + "\n" for i in range(200, 210)))
    second = follower(store, log, "--window-size", "50")
    while time.monotonic() < deadline and stored_ids(store)[-1:] != [209]:
        time.sleep(0.2)
    stop(second)
    assert stored_ids(store) == list(range(160, 210))


def test_follow_refuses_stdin_and_other_formats(tmp_path: Path) -> None:
    ran = run_driftcli("ingest", "--follow", "-", "--store", tmp_path / "s", cwd=tmp_path)
    assert ran.returncode == 2
    assert b"--follow follows one log file" in ran.stderr
    ran = run_driftcli(
        "ingest", "--follow", "x.csv", "--input-format", "csv", "--store", tmp_path / "s",
        cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 2
    assert b"--follow reads JSON lines" in ran.stderr
    for name, said in (("app.csv", b"not csv"), ("app.jsonl.gz", b"cannot be followed")):
        ran = run_driftcli("ingest", "--follow", name, "--store", tmp_path / "s", cwd=tmp_path)
        assert ran.returncode == 2
        assert said in ran.stderr


def test_a_followed_log_with_nested_features_and_lines_without_them(tmp_path: Path) -> None:
    """Lines without the nested object are stored as rows missing every feature (the first
    one once a line with features comes); a restart stores none of them twice."""
    log, store = tmp_path / "app.log", tmp_path / "store"
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(json.dumps({"f": {"x": i % 17, "id": i}}) + "\n" for i in range(500)))
    built = run_driftcli(
        "reference", ref, "--json-path", "f", "--exclude", "id", "--store", store, cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr.decode()

    def line(i: int) -> str:
        return json.dumps({"msg": "hello"} if i % 5 == 0 else {"f": {"x": i % 17, "id": i}})

    log.write_text("".join(line(i) + "\n" for i in range(0, 60)))
    first = follower(store, log, "--json-path", "f")
    assert len(wait_for_rows(store, 60)) == 60
    stop(first)
    with log.open("a") as out:
        out.write("".join(line(i) + "\n" for i in range(60, 100)))
    second = follower(store, log, "--json-path", "f")
    ids = wait_for_rows(store, 100)
    err = stop(second)
    assert len(ids) == 100, err.decode()  # lines without features: stored as missing, once
    assert sorted(i for i in ids if i is not None) == [i for i in range(100) if i % 5]


def test_a_rotation_while_stopped_reads_the_renamed_file_to_its_end_first(
    tmp_path: Path,
) -> None:
    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(30)))
    first = follower(store, log)
    wait_for_rows(store, 30)
    stop(first)
    # While driftcli is down: more lines, a rotation by rename, a new file.
    with log.open("a") as out:
        out.write("".join(json.dumps({"id": i}) + "\n" for i in range(30, 45)))
    log.rename(tmp_path / "app.log-20240501")
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(45, 60)))
    second = follower(store, log)
    ids = wait_for_rows(store, 60)
    err = stop(second)
    assert ids == list(range(60)), err.decode()


def test_a_rotated_file_removed_while_stopped_is_said(tmp_path: Path) -> None:
    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(30)))
    first = follower(store, log)
    wait_for_rows(store, 30)
    stop(first)
    log.unlink()
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(100, 110)))
    second = follower(store, log)
    ids = wait_for_rows(store, 40)
    err = stop(second)
    assert ids == [*range(30), *range(100, 110)]
    assert b"the file last read is no longer there" in err


@pytest.mark.parametrize("in_parts", [False, True], ids=["whole", "written in parts"])
def test_a_line_over_the_limit_is_a_bad_line_skipped_with_skip_bad_lines(
    tmp_path: Path, in_parts: bool
) -> None:
    log, store = tmp_path / "app.log", tmp_path / "store"
    long = json.dumps({"id": -1, "pad": "x" * 5000}) + "\n"
    head = "".join(json.dumps({"id": i}) + "\n" for i in range(10))
    log.write_text(head + (long[:2000] if in_parts else long))
    process = follower(store, log, "--max-line-bytes", "1KiB", "--skip-bad-lines")
    time.sleep(1.5)
    with log.open("a") as out:
        out.write((long[2000:] if in_parts else "") + json.dumps({"id": 10}) + "\n")
        out.write("".join(json.dumps({"id": i}) + "\n" for i in range(11, 20)))
    ids = wait_for_rows(store, 20)
    err = stop(process)
    assert ids == list(range(20)), err.decode()
    assert b"skipped 1 bad line: 11" in err


def test_several_rotations_while_stopped_read_every_file_in_turn(tmp_path: Path) -> None:
    """logrotate's numbered scheme: each rotation shifts app.log.1 to app.log.2 and the log
    to app.log.1; two of them while driftcli is down skip no file."""
    log, store = tmp_path / "app.log", tmp_path / "store"

    def append(first: int, last: int) -> None:
        with log.open("a") as out:
            out.write("".join(json.dumps({"id": i}) + "\n" for i in range(first, last)))
        time.sleep(0.05)  # each file last written at a later time than the one before

    def rotate() -> None:
        if (tmp_path / "app.log.1").exists():
            (tmp_path / "app.log.1").rename(tmp_path / "app.log.2")
        log.rename(tmp_path / "app.log.1")

    append(0, 30)
    first = follower(store, log)
    wait_for_rows(store, 30)
    stop(first)
    append(30, 40)
    rotate()
    append(40, 50)
    rotate()
    append(50, 60)
    second = follower(store, log)
    ids = wait_for_rows(store, 60)
    err = stop(second)
    assert ids == list(range(60)), err.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stopping_signal_flushes_what_was_read_and_a_restart_stores_no_line_twice(
    tmp_path: Path, signum: int
) -> None:
    from tests.test_signals import catches

    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(37)))
    # No flush would come for ten minutes: only the signal stores the rows.
    process = follower(store, log, "--flush-rows", "100000", "--flush-seconds", "600")
    catches(process.pid, signum)
    time.sleep(2)  # the lines reach the ingest loop within its read latency
    assert not (store / "windows" / "live").exists()
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    assert stored_ids(store) == list(range(37))
    with log.open("a") as out:
        out.write("".join(json.dumps({"id": i}) + "\n" for i in range(37, 50)))
    again = follower(store, log)
    ids = wait_for_rows(store, 50)
    stop(again)
    assert ids == list(range(50))


def test_lines_whose_keys_vary_are_parsed_in_parts_and_stored_once(tmp_path: Path) -> None:
    """Thousands of lines read at once whose later lines bring new keys: too many values
    to parse whole (inputs/jsonl_bounds.py), so parsed in parts, each row marked where
    its line ends as in a whole parse."""
    log, store = tmp_path / "app.log", tmp_path / "store"
    rows = 6000
    log.write_text(
        "".join(json.dumps({"id": i, "x": i % 13, f"k{i // 200}": 1}) + "\n" for i in range(rows))
    )
    first = follower(store, log, "--flush-rows", "1000")
    assert wait_for_rows(store, rows) == list(range(rows))
    stop(first)
    with log.open("a") as out:
        out.write("".join(json.dumps({"id": i}) + "\n" for i in range(rows, rows + 10)))
    second = follower(store, log)
    ids = wait_for_rows(store, rows + 10)
    stop(second)
    assert ids == list(range(rows + 10))


def test_a_log_whose_keys_pass_the_column_limit_stops_with_an_error(tmp_path: Path) -> None:
    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text("".join(json.dumps({"id": i, f"user_{i}": 1}) + "\n" for i in range(40)))
    process = follower(store, log, "--max-columns", "20")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2, err.decode()
    assert b"column limit" in err and b"Traceback" not in err


def test_a_follow_with_nothing_new_says_what_the_window_holds(tmp_path: Path) -> None:
    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(30)))
    first = follower(store, log)
    wait_for_rows(store, 30)
    stop(first)
    again = follower(store, log)
    time.sleep(1.5)
    err = stop(again)
    assert b"ingested 0 rows into window 'live' (it holds 30)" in err, err.decode()
    assert stored_ids(store) == list(range(30))


def test_a_copy_truncate_written_past_the_old_offset_at_once_is_read_from_its_start(
    tmp_path: Path,
) -> None:
    """copytruncate, then the writer appends more than was read before driftcli looks at
    the size again: the size says nothing; the file's first bytes do."""
    log, store = tmp_path / "app.log", tmp_path / "store"
    log.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(5)))
    process = follower(store, log)
    assert wait_for_rows(store, 5) == list(range(5))
    (tmp_path / "app.log.1").write_bytes(log.read_bytes())
    with log.open("r+") as out:  # in one go: truncated, then written far past the old end
        out.truncate(0)
        out.write("".join(json.dumps({"id": i}) + "\n" for i in range(100, 150)))
    ids = wait_for_rows(store, 55)
    err = stop(process)
    assert ids == [*range(5), *range(100, 150)], err.decode()
    assert b"truncated and written again" in err
