"""The store's writes and locks (store/durable.py) against real processes and file systems.

A stopped process holding the lock, a file system that fills up or turns
read-only mid-ingest, a lock file the user may not open: every command ends
with a message naming the file, and what an ingest said it stored is what
the store holds. These run driftcli in real processes, stop them with real
signals and fill real (tmpfs) file systems; what needs root to mount is
skipped, with the reason, where mounting is not allowed.
"""

from __future__ import annotations

import os
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
    return b"".join(
        b'{"id": %d, "age": %d.5, "country": "c%d"}\n' % (i, i % 70, i % 5)
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
