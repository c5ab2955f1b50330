"""The store's writes and locks (store/durable.py) against real processes and file systems.

A stopped process holding the lock, a file system that fills up or turns
read-only mid-ingest, a lock file the user may not open: every command ends
with a message naming the file, and what an ingest said it stored is what
the store holds. These run driftcli in real processes, stop them with real
signals and fill real (tmpfs) file systems; what needs root to mount is
skipped, with the reason, where mounting is not allowed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftcli.store.durable import LOCK_WAIT_SECONDS
from tests.conftest import ROOT, SAMPLE, run_driftcli, window_ids

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _rows(first: int, count: int) -> bytes:
    """JSON lines with ids from `first`, and values that compress as little as real ones."""
    return b"".join(
        b'{"id": %d, "age": %.6f, "income": %.2f, "country": "c%d"}\n'
        % (i, (i * 0.618034) % 1 * 80, (i * 7919 % 100_003) * 1.37, i % 5)
        for i in range(first, first + count)
    )


# --- a stopped process holding the lock ------------------------------------------


def _holds_the_lock(pid: int, lock: Path) -> bool:
    try:
        inode = lock.stat().st_ino
    except FileNotFoundError:
        return False
    for row in Path("/proc/locks").read_text().splitlines():
        fields = row.split()
        holder = fields[1] == "FLOCK" and fields[3] == "WRITE" and fields[4] == str(pid)
        if holder and fields[5].endswith(f":{inode}"):
            return True
    return False


@pytest.fixture
def stopped_writer(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A store, and an ingest into it stopped (SIGSTOP) while it holds the store's lock:
    in the middle of a flush. Resumed and ended when the test is done."""
    if not Path("/proc/locks").exists():
        pytest.skip("needs /proc/locks (Linux) to find the lock's holder")
    store = tmp_path / "store"
    data = tmp_path / "rows.jsonl"
    data.write_bytes(_rows(0, 300_000))
    built = run_driftcli("reference", SAMPLE / "ref.parquet", "--store", store, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "driftcli", "ingest", str(data), "--store", str(store),
         "--flush-rows", "300", "--window-size", "1000000"],
        cwd=tmp_path, env=ENV, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    try:
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "never caught mid-flush"
            if _holds_the_lock(proc.pid, store / ".lock"):
                proc.send_signal(signal.SIGSTOP)
                time.sleep(0.05)
                if _holds_the_lock(proc.pid, store / ".lock"):
                    break
                proc.send_signal(signal.SIGCONT)
            time.sleep(0.001)
        yield store, proc
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)


def _start(args: list[str], store: Path, cwd: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "driftcli", *args, "--store", str(store)]
    return subprocess.Popen(
        command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def test_no_command_waits_forever_on_the_lock_of_a_stopped_ingest(
    stopped_writer: tuple[Path, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    store, holder = stopped_writer
    more = tmp_path / "more.jsonl"
    more.write_bytes(_rows(10**6, 10))
    commands = {
        "status": ["status"],
        "check": ["check"],
        "history": ["history"],
        "ingest": ["ingest", str(more)],
    }
    started = time.monotonic()
    running = {name: _start(args, store, tmp_path) for name, args in commands.items()}
    for name, proc in running.items():
        _, err = proc.communicate(timeout=LOCK_WAIT_SECONDS + 60)
        assert proc.returncode == 2, (name, err)
        said = (
            f"error: {store}/.lock: the store is locked by process {holder.pid} (stopped), "
            f"which did not let go in {LOCK_WAIT_SECONDS:.0f} s"
        )
        assert said.encode() in err, (name, err)
        assert f"hint: it goes on when resumed (kill -CONT {holder.pid})".encode() in err
    waited = time.monotonic() - started
    assert LOCK_WAIT_SECONDS <= waited < LOCK_WAIT_SECONDS + 60
    assert 10**6 not in window_ids(store)  # the refused ingest stored nothing


# --- a file system that fills up, fails or turns read-only -------------------------

_SUMMARY = re.compile(rb"ingested ([\d,]+) rows? into window 'live' \(it holds ([\d,]+)\)")


def said_stored(stderr: bytes) -> tuple[int, int]:
    """(rows the ingest said it stored, rows it said the window holds): its summary, or
    its last flush line, or nothing stored."""
    found = _SUMMARY.findall(stderr)
    stored = sum(
        int(n.replace(b",", b"")) for n in re.findall(rb"^stored ([\d,]+) row", stderr, re.M)
    )
    if not found:
        return stored, 0
    rows, held = (int(n.replace(b",", b"")) for n in found[-1])
    assert stored in (0, rows), stderr  # the flush lines, when given, add up to the summary
    return rows, held


def assert_holds_what_was_said(store: Path, stderr: bytes, cwd: Path) -> tuple[int, int]:
    """The store holds exactly the rows the ingest said it stored: the window the last
    `held` of the first `stored` rows of the input, and status says so."""
    stored, held = said_stored(stderr)
    ids = window_ids(store) if (store / "windows" / "live").is_dir() else []
    assert ids == list(range(stored - held, stored)), (stderr, ids[:3], ids[-3:])
    if stored:
        status = run_driftcli("status", "--store", store, "-f", "json", cwd=cwd)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["windows"][0]["rows"] == held
    return stored, held


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB file system (tmpfs), mounted for the test; needs root (CI runs as root)."""
    where = tmp_path / "fs"
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (root is needed): {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_leaves_exactly_the_rows_the_ingest_said_it_stored(
    small_fs: Path, tmp_path: Path
) -> None:
    """The issue's case: 150,000 JSON lines into a store on a 2 MB tmpfs. It used to say
    94,000 rows, then fail in a merge after a flush it never counted: status 96,000."""
    store = small_fs / "store"
    data = tmp_path / "rows.jsonl"
    data.write_bytes(_rows(0, 150_000))
    result = run_driftcli("ingest", data, "--store", store, "--flush-rows", "2000", "--verbose",
                          "--window-size", "1000000", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert re.search(rb"error: " + re.escape(bytes(store)) + rb"/\S+: cannot write: no space "
                     rb"left on the device", result.stderr), result.stderr  # fmt: skip
    assert b"Traceback" not in result.stderr and b"internal error" not in result.stderr
    stored, held = assert_holds_what_was_said(store, result.stderr, tmp_path)
    assert 0 < stored == held < 150_000
    # Re-sending what was not stored, once there is room, counts no row twice.
    subprocess.run(["mount", "-o", "remount,size=16m", str(small_fs)], check=True)
    rest = tmp_path / "rest.jsonl"
    rest.write_bytes(_rows(stored, 150_000 - stored))
    again = run_driftcli("ingest", rest, "--store", store, "--flush-rows", "2000", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert window_ids(store) == list(range(150_000))


def _fill(where: Path, leave: int) -> None:
    """Fill the file system of `where` with a file, but for `leave` bytes."""
    room = os.statvfs(where)
    left = room.f_bavail * room.f_frsize - leave
    block = b"\0" * (64 * 1024)
    with (where / "filler").open("wb") as out:
        while left > 0:
            left -= out.write(block[: min(len(block), left)])


@pytest.mark.parametrize(
    ("flush", "size", "room_kib", "kinds"),
    [(700, 2000, range(16, 96, 8), {"the flush", "after the flush", "none"}),
     (250, 8000, range(40, 200, 40), {"after the flush"})],
    ids=["trims", "merges"],
)  # fmt: skip
def test_a_disk_full_at_any_step_leaves_exactly_the_rows_said(
    small_fs: Path, tmp_path: Path, flush: int, size: int, room_kib: range, kinds: set[str]
) -> None:
    """The file system left with less and less room, flushes that trim the window (or
    merge its segments) run out of it at one step or another: writing a flush's
    segment (nothing of it stored), or cutting the oldest segment or merging two once
    it is stored. Whichever, the store holds what the ingest said."""
    data = tmp_path / "rows.jsonl"
    data.write_bytes(_rows(0, 20_000))
    seen = set()
    for room in room_kib:
        for entry in small_fs.iterdir():
            subprocess.run(["rm", "-rf", str(entry)], check=True)
        _fill(small_fs, room * 1024)
        store = small_fs / "store"
        result = run_driftcli("ingest", data, "--store", store, "--flush-rows", str(flush),
                              "--window-size", str(size), cwd=tmp_path)  # fmt: skip
        assert result.returncode in (0, 2), result.stderr
        assert b"Traceback" not in result.stderr and b"internal error" not in result.stderr
        if result.returncode == 2:
            assert f"error: {store}/windows/live/seg-".encode() in result.stderr
            assert b"cannot write: no space left on the device" in result.stderr
        stored = b"hint: the rows of this flush are stored" in result.stderr
        seen.add("none" if result.returncode == 0 else "after the flush" if stored else "the flush")
        assert_holds_what_was_said(store, result.stderr, tmp_path)
    assert seen == kinds


def test_a_store_remounted_read_only_mid_ingest_holds_what_was_said(
    small_fs: Path, tmp_path: Path
) -> None:
    store = small_fs / "store"
    proc = subprocess.Popen(
        [sys.executable, "-m", "driftcli", "ingest", "-", "--store", str(store),
         "--flush-rows", "100", "--flush-seconds", "600", "--verbose"],
        cwd=tmp_path, env=ENV, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(_rows(0, 300))
    proc.stdin.flush()
    for _ in range(3):
        assert proc.stderr.readline().startswith(b"stored 100 rows")
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    try:
        proc.stdin.write(_rows(300, 150))
        proc.stdin.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 2, err
    finally:
        proc.stderr.close()
        subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], check=True)
    assert f"error: {store}: cannot write to the store: read-only file system".encode() in err
    assert b"ingested 300 rows into window 'live' (it holds 300); 3 flushes" in err
    assert window_ids(store) == list(range(300))


# --- a write failing at every step of flushes, trims, merges and checks ------------

INJECTED = [("fsync", "EIO", 10), ("rename", "ENOSPC", 6), ("rename", "EDQUOT", 4),
            ("unlink", "EIO", 4)]  # fmt: skip
"""(system call, error, how many of its calls fail, one per run, spread over them all)."""


@pytest.mark.parametrize(("call", "error", "runs"), INJECTED)
def test_a_write_failing_at_any_step_leaves_exactly_the_rows_said(
    tmp_path: Path, call: str, error: str, runs: int
) -> None:
    """strace makes the Nth call of `call` fail with `error`, for N spread over every
    call an ingest makes: flushes that merge (the window is 32 flushes long), trim it,
    and check it (recording the check in the history). Whichever write fails, the
    store holds what the ingest said, and the next ingest stores the rest."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is needed to make a system call fail")
    ref = tmp_path / "ref.jsonl"
    ref.write_bytes(_rows(0, 500))
    data = tmp_path / "rows.jsonl"
    data.write_bytes(_rows(0, 400))
    ingest = [sys.executable, "-m", "driftcli", "ingest", str(data), "--flush-rows", "10",
              "--window-size", "320", "--check-every", "100", "--verbose"]  # fmt: skip

    empty = tmp_path / "empty"  # a store holding the reference alone, copied for each run
    assert run_driftcli("reference", ref, "--store", empty, cwd=tmp_path).returncode == 0

    def run(store: Path, *traced: str) -> subprocess.CompletedProcess[bytes]:
        shutil.copytree(empty, store)
        command = [strace, "-f", "--seccomp-bpf", "-qq", "-e", f"trace={call}", *traced]
        command += [*ingest, "--store", str(store)]
        return subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, timeout=120)

    log = tmp_path / "calls.log"
    assert run(tmp_path / "counted", "-o", str(log)).returncode == 1  # drift: no failure
    calls = len(re.findall(rf"^(?:\d+ +)?{call}\(", log.read_text(), re.M))
    assert calls > runs
    failed = 0
    for when in sorted({1 + i * (calls - 1) // (runs - 1) for i in range(runs)}):
        store = tmp_path / f"store-{when}"
        result = run(store, "-o", "/dev/null", "-e", f"inject={call}:error={error}:when={when}")
        assert result.returncode in (0, 1, 2), result.stderr
        assert b"Traceback" not in result.stderr and b"internal error" not in result.stderr
        failed += result.returncode == 2
        stored, _ = assert_holds_what_was_said(store, result.stderr, tmp_path)
        if stored < 400:
            rest = tmp_path / "rest.jsonl"
            rest.write_bytes(_rows(stored, 400 - stored))
            again = run_driftcli("ingest", rest, "--store", store, "--flush-rows", "10",
                                 "--window-size", "320", cwd=tmp_path)  # fmt: skip
            assert again.returncode == 0, again.stderr
        assert window_ids(store) == list(range(80, 400))  # every row once, the last 320
    assert failed  # (a failed history record is a warning: the ingest goes on)


def test_on_a_full_disk_a_check_gives_its_verdict_and_a_reference_keeps_the_old(
    small_fs: Path, tmp_path: Path
) -> None:
    store = small_fs / "store"
    assert run_driftcli("reference", SAMPLE / "ref.parquet", "--store", store,
                        cwd=tmp_path).returncode == 0  # fmt: skip
    live = SAMPLE / "live_drift.csv"
    assert run_driftcli("ingest", live, "--store", store, cwd=tmp_path).returncode == 0
    _fill(small_fs, 0)
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    result = run_driftcli("check", "--store", store, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # the verdict, unrecorded
    assert b"warning: the check is not recorded in the history: " in result.stderr
    assert b"no space left on the device" in result.stderr
    again = run_driftcli("reference", SAMPLE / "ref.parquet", "--store", store, cwd=tmp_path)
    assert again.returncode == 2
    said = f"error: {store}/reference.parquet: cannot write: no space left on the device"
    assert said.encode() in again.stderr
    assert {p: p.read_bytes() for p in store.rglob("*") if p.is_file()} == before
