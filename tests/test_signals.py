"""The process's plumbing: signals, and closed or full standard streams.

The exit code is the gate's contract: a CI job reads 0, 1 or 2 and nothing
else. These run driftcli in real processes, with real shell redirections
(`2>&-` closes the descriptor; `stderr=DEVNULL` would not) and real signals.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE, run_driftcli, window_ids

LIVE_OK = str(SAMPLE / "live_ok.csv")
LIVE_DRIFT = str(SAMPLE / "live_drift.csv")
REF = str(SAMPLE / "ref.parquet")


# --- stderr closed or full: the exit code is still the result's -------------


@pytest.mark.parametrize(
    ("live", "code"),
    [(LIVE_OK, 0), (LIVE_DRIFT, 1), ("no-such-file.csv", 2)],
    ids=["no drift", "drift", "missing file"],
)
@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"], ids=["closed", "full"])
def test_a_closed_or_full_stderr_keeps_the_exit_code(
    tmp_path: Path, redirect: str, live: str, code: int
) -> None:
    result = run_driftcli("check", live, "--ref", REF, cwd=tmp_path, redirect=redirect)
    assert result.returncode == code
    assert b"driftcli:" in result.stdout or code == 2  # the table still reaches stdout


@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"], ids=["closed", "full"])
def test_a_usage_error_with_a_closed_or_full_stderr_is_still_exit_2(
    tmp_path: Path, redirect: str
) -> None:
    result = run_driftcli("check", "--no-such-option", cwd=tmp_path, redirect=redirect)
    assert result.returncode == 2


def test_an_ingest_with_stderr_closed_stores_its_rows_and_exits_0(tmp_path: Path) -> None:
    rows = b"".join(b'{"id": %d, "x": %d}\n' % (i, i % 7) for i in range(300))
    store = tmp_path / "store"
    result = run_driftcli(
        "ingest", "-", "--verbose", "--flush-rows", "100", "--store", store,
        cwd=tmp_path, redirect="2>&-", input=rows,
    )  # fmt: skip
    assert result.returncode == 0
    assert window_ids(store) == list(range(300))
    # No file the ingest opened took descriptor 2: the lock holds no stray line.
    assert (store / ".lock").read_bytes() == b""


# --- stdout closed or full: "cannot write output", exit 2 ---------------------


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
@pytest.mark.parametrize(
    ("redirect", "reason"),
    [(">&-", "stdout is closed"), (">/dev/full", "No space left on device")],
    ids=["closed", "full"],
)
def test_a_result_that_cannot_be_written_is_exit_2(
    tmp_path: Path, redirect: str, reason: str, fmt: str
) -> None:
    for live in (LIVE_OK, LIVE_DRIFT):  # never 0 or 1 for a verdict nobody could read
        result = run_driftcli(
            "check", live, "--ref", REF, "-f", fmt, cwd=tmp_path, redirect=redirect
        )
        assert result.returncode == 2
        assert f"error: cannot write output: {reason}".encode() in result.stderr
        assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [("--version",), ("check", "--help"), ("check", "--show-config"), ("status",)],
    ids=["version", "help", "show-config", "status"],
)
def test_every_command_says_cannot_write_output_on_a_full_stdout(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    if args == ("status",):
        assert (
            run_driftcli("reference", REF, "--store", tmp_path / "s", cwd=tmp_path).returncode == 0
        )
        args = ("status", "--store", str(tmp_path / "s"))
    result = run_driftcli(*args, cwd=tmp_path, redirect=">/dev/full")
    assert result.returncode == 2
    assert b"error: cannot write output: No space left on device" in result.stderr


@pytest.fixture(scope="module")
def checked_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a reference and one recorded check of its live window."""
    store = tmp_path_factory.mktemp("early") / "store"
    where = store.parent
    assert run_driftcli("reference", REF, "--store", store, cwd=where).returncode == 0
    assert run_driftcli("ingest", LIVE_OK, "--store", store, cwd=where).returncode == 0
    assert run_driftcli("check", "--store", store, cwd=where).returncode in (0, 1)
    return store


_EARLY_LEAVERS = {
    **{f"check {fmt} {name}": ["check", live, "--ref", REF, "-f", fmt]
       for fmt in ("table", "json", "markdown", "junit", "html")
       for name, live in (("ok", LIVE_OK), ("drift", LIVE_DRIFT))},
    "check by chunks": ["check", LIVE_DRIFT, "--ref", REF, "--chunk-rows", "100"],
    **{f"{command} {fmt}": [command, "--store", "STORE", "-f", fmt]
       for command in ("status", "history") for fmt in ("table", "json")},
    **{f"reference {fmt}": ["reference", REF, "-o", "ref-copy.parquet", "-f", fmt]
       for fmt in ("table", "json")},
    **{f"show-config {fmt}": ["check", "--show-config", "-f", fmt] for fmt in ("table", "json")},
}  # fmt: skip


@pytest.mark.parametrize("args", list(_EARLY_LEAVERS.values()), ids=list(_EARLY_LEAVERS))
def test_a_reader_that_closes_the_pipe_at_once_leaves_the_exit_code_the_results(
    tmp_path: Path, checked_store: Path, args: list[str]
) -> None:
    """`driftcli ... | (exec 0<&-; sleep 0.5)`: the reader is gone before anything is
    written. rich's console turned that into exit 1, a drift verdict to a CI job with
    pipefail, for a check that found none."""
    args = [str(checked_store) if a == "STORE" else a for a in args]
    expected = run_driftcli(*args, cwd=tmp_path).returncode
    quoted = " ".join(f"'{a}'" for a in [sys.executable, "-m", "driftcli", *args])
    command = f'{quoted} | (exec 0<&-; sleep 0.5); echo "exit=${{PIPESTATUS[0]}}"'
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, check=True
    )
    assert out.stdout.strip() == f"exit={expected}".encode(), out.stderr
    assert b"Traceback" not in out.stderr and b"cannot write output" not in out.stderr


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path: Path) -> None:
    command = (
        f'"{sys.executable}" -m driftcli check "{LIVE_DRIFT}" --ref "{REF}"'
        ' | head -c 10 >/dev/null; echo "exit=${PIPESTATUS[0]}"'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, check=True
    )
    assert out.stdout.strip() == b"exit=1"  # the verdict, though the table was cut short
    assert b"Traceback" not in out.stderr


# --- stdin closed ------------------------------------------------------------


def test_dash_with_stdin_closed_says_stdin_is_closed(tmp_path: Path) -> None:
    result = run_driftcli("check", "-", "--ref", REF, cwd=tmp_path, redirect="<&-")
    assert result.returncode == 2
    assert b"error: '-' reads data from stdin, but stdin is closed" in result.stderr
    assert b"terminal" not in result.stderr


# --- signals: an ingest stopped by one flushes exactly what it read ------------


def _ingest(tmp_path: Path, *args: str, ignored: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    """driftcli ingest in a process of its own, the stopping signals at their defaults
    (a test run in the background has SIGINT ignored, which a child inherits), except
    those `ignored` (as nohup ignores SIGHUP)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DRIFTCLI_STORE": str(tmp_path / "store")}

    def dispositions() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN if signum in ignored else signal.SIG_DFL)

    return subprocess.Popen(
        [sys.executable, "-m", "driftcli", "ingest", *args],
        cwd=tmp_path, env=env, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=dispositions,
    )  # fmt: skip


def catches(pid: int, signum: int, timeout: float = 60) -> None:
    """Wait until the process has a handler for `signum` (Linux: /proc/PID/status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        line = next(row for row in status.splitlines() if row.startswith("SigCgt:"))
        caught = int(line.split()[1], 16)
        if caught >> (signum - 1) & 1:
            return
        time.sleep(0.05)
    raise AssertionError(f"no handler for signal {signum} after {timeout} s")


def taken(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until the process has read everything written to its stdin (Linux: FIONREAD
    on a pipe counts the bytes in it), then for its loop to take them (read latency
    0.5 s): a fixed sleep is too short on a loaded machine."""
    import fcntl
    import struct
    import termios

    assert proc.stdin is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = fcntl.ioctl(proc.stdin.fileno(), termios.FIONREAD, b"\0\0\0\0")
        if struct.unpack("i", pending)[0] == 0:
            time.sleep(1)
            return
        time.sleep(0.05)
    raise AssertionError(f"stdin not read after {timeout} s")


def _rows(start: int, n: int) -> bytes:
    return b"".join(b'{"id": %d, "x": %d}\n' % (i, i % 9) for i in range(start, start + n))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stopping_signal_flushes_exactly_the_rows_read(tmp_path: Path, signum: int) -> None:
    proc = _ingest(tmp_path, "-", "--flush-seconds", "600", "--flush-rows", "1000")
    assert proc.stdin is not None
    proc.stdin.write(_rows(0, 37))
    proc.stdin.flush()
    catches(proc.pid, signum)
    taken(proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # not killed by the signal: it flushed, then exited
    assert err.endswith(b"interrupted\n")
    assert window_ids(tmp_path / "store") == list(range(37))


def test_an_ingest_under_nohup_keeps_sighup_ignored(tmp_path: Path) -> None:
    """`nohup driftcli ingest ... &` must outlive its terminal: a SIGHUP ignored at
    start is not turned into a stop, while SIGTERM still flushes and stops."""
    proc = _ingest(tmp_path, "-", "--flush-seconds", "600", ignored=(signal.SIGHUP,))
    assert proc.stdin is not None
    proc.stdin.write(_rows(0, 5))
    proc.stdin.flush()
    catches(proc.pid, signal.SIGTERM)
    status = Path(f"/proc/{proc.pid}/status").read_text()
    ignored = int(next(r for r in status.splitlines() if r.startswith("SigIgn:")).split()[1], 16)
    assert ignored >> (signal.SIGHUP - 1) & 1
    taken(proc)
    proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert proc.poll() is None  # still running
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert window_ids(tmp_path / "store") == list(range(5))


def test_sigterm_stops_an_ingest_waiting_on_a_named_pipe_with_no_writer(tmp_path: Path) -> None:
    pipe = tmp_path / "rows.jsonl"
    os.mkfifo(pipe)
    proc = _ingest(tmp_path, str(pipe))
    catches(proc.pid, signal.SIGTERM)
    time.sleep(1)  # blocked opening the pipe
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert b"interrupted" in err
    assert not (tmp_path / "store").exists()  # nothing read, nothing written


# --- the exit: no interpreter finalization for Arrow's threads to race ------


def test_the_command_exits_without_finalizing_the_interpreter(tmp_path: Path) -> None:
    """Arrow's worker threads may still be releasing a reader's Python buffer when
    the command returns; if the interpreter is finalizing then, the process
    aborts (exit 134) instead of exiting with the verdict. The entry point
    flushes its output and exits before finalization: an atexit hook never runs."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('finalized', file=sys.stderr))\n"
        "from driftcli.cli import main\n"
        "main()\n"
    )
    live = tmp_path / "live.csv"
    live.write_text("age\n" + "".join(f"{30 + i % 7}\n" for i in range(50)))
    ref = tmp_path / "ref.csv"
    ref.write_text("age\n" + "".join(f"{30 + i % 6}\n" for i in range(50)))
    done = subprocess.run(
        [sys.executable, "-c", script, "check", str(live), "--ref", str(ref), "-f", "json"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    assert "finalized" not in done.stderr
    assert done.stdout.rstrip().endswith("}")  # the whole result was flushed first
    # The installed command is that entry point.
    assert 'driftcli = "driftcli.cli:main"' in (ROOT / "pyproject.toml").read_text()


_SUMMARY = re.compile(rb"ingested ([\d,]+) rows? into window 'live' \(it holds ([\d,]+)\)")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_in_the_middle_of_flushes_says_exactly_what_is_stored(
    tmp_path: Path, signum: int
) -> None:
    """Stopped at random moments of an ingest that flushes every 50 rows and merges
    all the time, the summary says exactly the rows the store holds: a stop landing in
    a merge after a flush was stored used to leave that flush uncounted."""
    data = tmp_path / "rows.jsonl"
    data.write_bytes(_rows(0, 200_000))
    rng = random.Random(signum)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for run in range(3):
        store = tmp_path / f"store-{run}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "driftcli", "ingest", str(data), "--store", str(store),
             "--flush-rows", "50", "--window-size", "1000000"],
            cwd=tmp_path, env=env, stderr=subprocess.PIPE,
            preexec_fn=lambda: signal.signal(signum, signal.SIG_DFL),
        )  # fmt: skip
        live = store / "windows" / "live"
        deadline = time.monotonic() + 60
        while not (live.is_dir() and any(live.glob("seg-*.parquet"))):  # flushing
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.01)
        time.sleep(rng.random())
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        said = _SUMMARY.findall(err)
        assert said, err
        stored, held = (int(n.replace(b",", b"")) for n in said[-1])
        assert stored == held and window_ids(store) == list(range(stored)), (run, err)
