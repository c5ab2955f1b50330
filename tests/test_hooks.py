"""`--on-drift CMD`: real hooks, run by real driftcli processes.

A hook that reads the report, one that exits 3, one that does not exist, one
that sleeps past its limit (its process group killed, children included):
each is at most a warning, the exit code stays the check's, and an ingest
stores every row.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

import pytest

from driftcli.errors import UsageError
from driftcli.hooks import Hook, parse_hook, run_hook
from tests.conftest import SAMPLE, run_driftcli

LIVE_OK = str(SAMPLE / "live_ok.csv")
LIVE_DRIFT = str(SAMPLE / "live_drift.csv")
REF = str(SAMPLE / "ref.parquet")
PY = shlex.quote(sys.executable)


def test_a_hook_gets_the_json_report_on_stdin_and_the_verdict_in_its_environment(
    tmp_path: Path,
) -> None:
    saved = tmp_path / "report.json"
    hook = f"{PY} -c \"import os, sys; open('{saved}', 'w').write(sys.stdin.read() + "
    hook += "'|' + os.environ['DRIFTCLI_VERDICT'] + '|' + os.environ['DRIFTCLI_WINDOW'] + "
    hook += "'|' + os.environ['DRIFTCLI_DRIFTED'])\""
    ran = run_driftcli("check", LIVE_DRIFT, "--ref", REF, "--on-drift", hook, cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr.decode()
    report, verdict, window, drifted = saved.read_text().split("|")
    document = json.loads(report)
    assert document["verdict"] == verdict == "drift"
    assert window == LIVE_DRIFT
    assert drifted.split(",") == [f["name"] for f in document["features"] if f["drift"]]


def test_a_hook_does_not_run_without_drift(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    ran = run_driftcli(
        "check", LIVE_OK, "--ref", REF, "--on-drift", f"touch {marker}", cwd=tmp_path
    )
    assert ran.returncode == 0
    assert not marker.exists()


def test_a_hook_that_exits_3_is_a_warning_with_its_status(tmp_path: Path) -> None:
    ran = run_driftcli(
        "check", LIVE_DRIFT, "--ref", REF, "--on-drift", "sh -c 'exit 3'", cwd=tmp_path
    )
    assert ran.returncode == 1
    assert b"warning: --on-drift hook: sh: exited with status 3" in ran.stderr


def test_a_missing_hook_is_a_warning(tmp_path: Path) -> None:
    ran = run_driftcli(
        "check", LIVE_DRIFT, "--ref", REF, "--on-drift", "no-such-hook-driftcli --x", cwd=tmp_path
    )
    assert ran.returncode == 1
    assert b"warning: --on-drift hook: no-such-hook-driftcli: no such command" in ran.stderr


def test_a_hook_past_its_limit_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # The hook starts a child that would outlive it, then sleeps past the limit.
    hook = f"sh -c 'sleep 60 & echo $! > {pids}; sleep 60'"
    started = time.monotonic()
    ran = run_driftcli(
        "check", LIVE_DRIFT, "--ref", REF, "--on-drift", hook, "--hook-timeout", "1", cwd=tmp_path
    )
    assert time.monotonic() - started < 30
    assert ran.returncode == 1
    assert b"still running after 1s: killed" in ran.stderr
    child = int(pids.read_text())
    time.sleep(0.2)
    assert not _alive(child)


def test_an_uncertain_feature_fires_the_hook_only_when_asked() -> None:
    hook = parse_hook("true", None, ["uncertain"], ["ok", "uncertain", "insufficient"])
    assert hook.fires(False, ["ok", "uncertain"])
    assert not Hook(("true",)).fires(False, ["ok", "uncertain"])
    assert Hook(("true",)).fires(True, ["ok"])


def test_on_drift_also_names_a_status() -> None:
    with pytest.raises(UsageError, match="not a feature status"):
        parse_hook("true", None, ["uncertian"], ["ok", "uncertain"])


@pytest.mark.parametrize("command", ["", "'unbalanced"])
def test_a_hook_that_cannot_be_split_is_a_usage_error(command: str) -> None:
    with pytest.raises(UsageError):
        parse_hook(command, None, [], [])


def test_a_large_report_reaches_a_hook_that_does_not_read_it() -> None:
    outcome = run_hook(Hook(("true",), timeout=10), "x" * (1 << 20), {})
    assert outcome.ok, outcome.problem


def test_a_config_found_in_the_directory_may_not_set_a_hook(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "driftcli.toml").write_text(f'on_drift = "touch {marker}"\n')
    ran = run_driftcli("check", LIVE_DRIFT, "--ref", REF, cwd=tmp_path)
    assert ran.returncode == 2
    assert b"sets on_drift" in ran.stderr
    assert not marker.exists()
    named = run_driftcli(
        "check", LIVE_DRIFT, "--ref", REF, "--config", tmp_path / "driftcli.toml", cwd=tmp_path
    )
    assert named.returncode == 1
    assert marker.exists()


def test_the_hook_may_come_from_the_environment(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    ran = run_driftcli(
        "check",
        LIVE_DRIFT,
        "--ref",
        REF,
        cwd=tmp_path,
        env={"DRIFTCLI_ON_DRIFT": f"touch {marker}"},
    )
    assert ran.returncode == 1
    assert marker.exists()


def test_an_ingest_with_a_failing_hook_stores_every_row(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert run_driftcli("reference", REF, "--store", store, cwd=tmp_path).returncode == 0
    live = (SAMPLE / "live_drift.csv").read_bytes()
    rows = live.count(b"\n") - 1
    ran = run_driftcli(
        "ingest", "-", "--store", store, "--check-every", "200", "--flush-rows", "100",
        "--on-drift", "sh -c 'sleep 30'", "--hook-timeout", "0.5", "--window-size", "100000",
        cwd=tmp_path, input=live,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr.decode()
    assert b"still running after 0.5s: killed" in ran.stderr
    assert f"ingested {rows:,} rows".encode() in ran.stderr


def test_hook_options_on_ingest_need_check_every(tmp_path: Path) -> None:
    ran = run_driftcli(
        "ingest", LIVE_OK, "--store", tmp_path / "s", "--on-drift", "true", cwd=tmp_path
    )
    assert ran.returncode == 2
    assert b"--check-every" in ran.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by init) is not running.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
