"""`driftcli ingest`, `reference` and `status`, through the real command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import Invoke, window_ids

ROOT = Path(__file__).parent.parent


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a store path in DRIFTCLI_STORE."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRIFTCLI_STORE", str(tmp_path / "store"))
    return tmp_path


def driftcli(*args: str, cwd: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DRIFTCLI_STORE": str(cwd / "store"), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "driftcli", *args], cwd=cwd, env=env, **kwargs
    )


def jsonl_rows(start: int, n: int, shift: float = 0.0) -> bytes:
    import numpy as np

    rng = np.random.default_rng(start)
    lines = [
        json.dumps({"id": i, "x": float(v) + shift, "c": ["a", "b", "c"][i % 3]})
        for i, v in zip(range(start, start + n), rng.normal(size=n), strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


def reference_file(tmp: Path, n: int = 2000) -> Path:
    path = tmp / "ref.jsonl"
    path.write_bytes(jsonl_rows(10**6, n))
    return path


# --- the round trip ---------------------------------------------------------


def test_stored_window_scores_equal_file_scores(invoke: Invoke, home: Path, sample: Path) -> None:
    assert invoke("reference", sample / "ref.parquet").exit_code == 0
    drift = pq.read_table(sample / "live_drift.parquet")
    pq.write_table(drift.slice(0, 200), home / "a.parquet")
    (home / "b.csv").write_bytes(b"")
    import pyarrow.csv as pcsv

    pcsv.write_csv(drift.slice(200, 150), home / "b.csv")
    rest = "".join(json.dumps(r) + "\n" for r in drift.slice(350).to_pylist())
    assert invoke("ingest", home / "a.parquet").exit_code == 0
    assert invoke("ingest", home / "b.csv").exit_code == 0
    assert invoke("ingest", "-", input=rest.encode()).exit_code == 0
    stored = json.loads(invoke("check", "-f", "json").stdout)
    direct = json.loads(
        invoke(
            "check", sample / "live_drift.parquet", "--ref", sample / "ref.parquet", "-f", "json"
        ).stdout
    )
    assert stored["live"] == {
        "source": "window live",
        "format": "window",
        "rows": 500,
        "skipped_lines": 0,
    }
    for a, b in zip(stored["features"], direct["features"], strict=True):
        assert a["name"] == b["name"]
        assert a["score"] == pytest.approx(b["score"], abs=1e-9)
        assert a["counts"] == b["counts"]
    assert invoke("check").exit_code == 1
    # A live file against the stored reference, and the snapshot as --ref.
    by_store = json.loads(invoke("check", sample / "live_drift.csv", "-f", "json").stdout)
    by_snapshot = json.loads(
        invoke(
            "check",
            sample / "live_drift.csv",
            "--ref",
            home / "store/reference.parquet",
            "-f",
            "json",
        ).stdout
    )
    assert [f["score"] for f in by_store["features"]] == [f["score"] for f in direct["features"]]
    assert [f["score"] for f in by_snapshot["features"]] == [f["score"] for f in direct["features"]]


def test_status_shows_reference_and_windows(invoke: Invoke, home: Path, sample: Path) -> None:
    invoke("reference", sample / "ref.parquet")
    invoke("ingest", sample / "live_ok.parquet", "--window", "canary", "--window-size", "300")
    doc = json.loads(invoke("status", "-f", "json").stdout)
    assert doc["reference"]["rows"] == 2000 and doc["reference"]["features"] == 5
    [canary] = doc["windows"]
    assert canary["name"] == "canary" and canary["rows"] == 300 and canary["max_rows"] == 300
    assert canary["first_ingested"] <= canary["last_ingested"]
    table = invoke("status").stdout
    assert "canary" in table and "2,000 rows" in table


def test_promote_a_window_to_reference(invoke: Invoke, home: Path, sample: Path) -> None:
    invoke("reference", sample / "ref.parquet")
    invoke("ingest", sample / "live_drift.parquet")
    assert invoke("check").exit_code == 1
    result = invoke("reference", "--from-window", "live")
    assert result.exit_code == 0, result.stderr
    assert "window live" in result.stdout
    assert invoke("check").exit_code == 0  # the window now is the reference


def test_reference_to_a_file_does_not_touch_the_store(
    invoke: Invoke, home: Path, sample: Path
) -> None:
    result = invoke(
        "reference", sample / "ref.csv", "-o", home / "snap.parquet", "--sample-size", "0"
    )
    assert result.exit_code == 0, result.stderr
    assert not (home / "store").exists()
    doc = json.loads(
        invoke("check", sample / "live_ok.csv", "--ref", home / "snap.parquet", "-f", "json").stdout
    )
    assert not doc["drift"]


def test_reference_needs_data_or_a_window(invoke: Invoke, home: Path) -> None:
    result = invoke("reference")
    assert result.exit_code == 2
    assert "give either DATA or --from-window NAME" in result.stderr


# --- bad input --------------------------------------------------------------


def store_files(store: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(store)): p.read_bytes()
        for p in store.rglob("*")
        if p.is_file() and p.name != ".lock"
    }


def test_malformed_stream_exits_2_and_leaves_the_store_unchanged(
    invoke: Invoke, home: Path
) -> None:
    invoke("reference", reference_file(home))
    invoke("ingest", "-", input=jsonl_rows(0, 50))
    before = store_files(home / "store")
    bad = jsonl_rows(50, 100).splitlines()
    bad[40] = b'{"id": 90, "x": 1.0,,}'
    result = invoke("ingest", "-", input=b"\n".join(bad) + b"\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: <stdin>: line 41: not valid JSON")
    assert "hint: pass --skip-bad-lines" in result.stderr
    assert store_files(home / "store") == before


def test_wrongly_typed_value_exits_2_naming_line_and_feature(invoke: Invoke, home: Path) -> None:
    invoke("reference", reference_file(home))
    rows = jsonl_rows(0, 30).splitlines()
    rows[7] = b'{"id": 7, "x": "seven", "c": "a"}'
    result = invoke("ingest", "-", input=b"\n".join(rows) + b"\n")
    assert result.exit_code == 2
    assert "<stdin>: line 8: x: value is not of the reference's type" in result.stderr
    assert "seven" not in result.stderr


def test_skip_bad_lines_stores_the_good_rows_and_reports_the_bad(
    invoke: Invoke, home: Path
) -> None:
    invoke("reference", reference_file(home))
    rows = jsonl_rows(0, 100).splitlines()
    rows[9] = b"not json"
    rows[19] = b'{"id": 19, "x": "nineteen", "c": "b"}'
    rows[29] = b"[1, 2]"
    result = invoke("ingest", "-", "--skip-bad-lines", input=b"\n".join(rows) + b"\n")
    assert result.exit_code == 0, result.stderr
    assert "skipped 3 bad lines: 10, 20, 30" in result.stderr
    assert "ingested 97 rows" in result.stderr
    assert len(window_ids(home / "store")) == 97


@pytest.mark.parametrize("given", ["environment", "config file"])
def test_skip_bad_lines_is_taken_from_the_environment_and_config_as_check_takes_it(
    invoke: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    invoke("reference", reference_file(home))
    if given == "environment":
        monkeypatch.setenv("DRIFTCLI_SKIP_BAD_LINES", "true")
    else:
        (home / "driftcli.toml").write_text("skip_bad_lines = true\n")
    rows = jsonl_rows(0, 20).splitlines()
    rows[4] = b"not json"
    result = invoke("ingest", "-", input=b"\n".join(rows) + b"\n")
    assert result.exit_code == 0, result.stderr
    assert "skipped 1 bad line: 5" in result.stderr
    assert len(window_ids(home / "store")) == 19


def test_bad_window_name_and_corrupt_store_exit_2(invoke: Invoke, home: Path, sample: Path) -> None:
    result = invoke("ingest", sample / "live_ok.csv", "--window", "../../x")
    assert result.exit_code == 2
    assert "invalid window name '../../x'" in result.stderr
    assert not (home / "x").exists()
    invoke("reference", sample / "ref.parquet")
    (home / "store" / "reference.parquet").write_bytes(b"PAR1 nonsense PAR1")
    result = invoke("check", sample / "live_ok.csv")
    assert result.exit_code == 2
    assert "reference.parquet: not a driftcli snapshot" in result.stderr


def test_check_every_needs_a_reference(invoke: Invoke, home: Path, sample: Path) -> None:
    result = invoke("ingest", sample / "live_ok.csv", "--check-every", "100")
    assert result.exit_code == 2
    assert "--check-every needs a reference" in result.stderr


# --- alerts -----------------------------------------------------------------


def test_check_every_alerts_on_drifted_rows_only(invoke: Invoke, home: Path) -> None:
    invoke("reference", reference_file(home), "--exclude", "id")
    calm = invoke(
        "ingest", "-", "--check-every", "200", "--window-size", "400", input=jsonl_rows(0, 800)
    )
    assert calm.exit_code == 0, calm.stderr
    assert "[DRIFT]" not in calm.stderr
    shifted = invoke(
        "ingest", "-", "--check-every", "200", "--window-size", "400",
        input=jsonl_rows(800, 800, shift=3.0),
    )  # fmt: skip
    assert shifted.exit_code == 1
    alerts = [line for line in shifted.stderr.splitlines() if line.startswith("[DRIFT]")]
    assert alerts, shifted.stderr
    assert alerts[-1].startswith("[DRIFT] feature=x status=drift score=")
    # logfmt (issue 20): every pair parses, p= is a number, the bound has its own key,
    # the score key is the same whatever the metric, and what moved is quoted.
    pairs = logfmt(alerts[-1].removeprefix("[DRIFT] "))
    assert set(pairs) >= {"score", "metric", "threshold", "p", "window", "rows", "moved"}
    assert pairs["metric"] == "kl" and pairs["threshold"] == "0.1" and pairs["rows"] == "400"
    assert float(pairs["score"]) > 0.1 and float(pairs["p"]) <= 1e-16
    assert pairs["p_bound"] == "1e-16"  # the shift is far beyond what a double resolves
    assert pairs["moved"].startswith(">= ") and " -> " in pairs["moved"]
    assert "; median " in pairs["moved"]
    assert all("feature=c" not in a and "feature=id" not in a for a in alerts)


def logfmt(line: str) -> dict[str, str]:
    """key=value pairs, a value bare or double-quoted with backslash escapes; the whole
    line must be made of them."""
    pair = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]+)(?:\s+|$)')
    found: dict[str, str] = {}
    at = 0
    while at < len(line):
        match = pair.match(line, at)
        assert match, f"not logfmt at {line[at:]!r}"
        value = match.group(2)
        found[match.group(1)] = json.loads(value) if value.startswith('"') else value
        at = match.end()
    return found


def test_a_check_every_check_without_a_verdict_says_so_and_the_ingest_goes_on(
    invoke: Invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("reference", reference_file(home), "--exclude", "id")
    monkeypatch.setenv("DRIFTCLI_MIN_ROWS", "20")  # the check at 10 rows can judge nothing
    result = invoke("ingest", "-", "--check-every", "10", input=jsonl_rows(0, 25))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        '[NO VERDICT] window=live rows=10 reason="no feature could be judged: '
        'all 2 have too few live rows"',
        "ingested 25 rows into window 'live' (it holds 25); 3 flushes",
    ]
    checks = (home / "store/history/checks.jsonl").read_text().splitlines()
    assert [json.loads(c)["verdict"] for c in checks] == ["no verdict", "no drift"]
    quiet = invoke("ingest", "-", "--check-every", "10", "--quiet", input=jsonl_rows(0, 5))
    assert (quiet.exit_code, quiet.stderr) == (0, "")


# --- durability -------------------------------------------------------------


def wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_sigkill_mid_stream_loses_no_flushed_row(tmp_path: Path) -> None:
    proc = driftcli(
        "ingest", "-", "--flush-rows", "100", "--flush-seconds", "60", "--window-size", "100000",
        "--verbose", cwd=tmp_path, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stderr is not None
    reported = 0
    for start in range(0, 1000, 250):
        proc.stdin.write(jsonl_rows(start, 250))
        proc.stdin.flush()
    proc.stdin.write(b'{"id": 1000, "x": 0.5, "c": "a"}\n')  # a row that never gets flushed
    proc.stdin.flush()
    # Read the flush reports: each one promises rows that are on disk.
    while reported < 1000:
        line = proc.stderr.readline().decode()
        assert line, "driftcli ended early"
        if line.startswith("stored "):
            reported += int(line.split()[1].replace(",", ""))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdin.close()
    proc.stderr.close()
    ids = window_ids(tmp_path / "store")
    assert ids[:reported] == list(range(reported))
    status = driftcli("status", "-f", "json", cwd=tmp_path, stdout=subprocess.PIPE)
    out, _ = status.communicate(timeout=60)
    assert status.returncode == 0
    assert json.loads(out)["windows"][0]["rows"] >= reported


def test_flush_seconds_makes_rows_visible_while_the_stream_idles(tmp_path: Path) -> None:
    proc = driftcli(
        "ingest", "-", "--flush-seconds", "0.3", cwd=tmp_path,
        stdin=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdin is not None
    try:
        proc.stdin.write(jsonl_rows(0, 10))
        proc.stdin.flush()
        wait_for(lambda: len(window_ids(tmp_path / "store")) == 10, timeout=20)
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_sigterm_flushes_what_was_read(tmp_path: Path) -> None:
    proc = driftcli(
        "ingest", "-", "--flush-seconds", "600", "--verbose", cwd=tmp_path,
        stdin=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(jsonl_rows(0, 25))
    proc.stdin.flush()
    time.sleep(3)  # the rows reach the ingest loop within its read latency (0.5 s)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert window_ids(tmp_path / "store") == list(range(25))
    # What was stored is said before the process ends.
    assert err.decode().splitlines()[-2:] == [
        "ingested 25 rows into window 'live' (it holds 25); 1 flush",
        "interrupted",
    ]


def test_two_concurrent_ingests_lose_no_rows(tmp_path: Path) -> None:
    """Both start on a store that does not exist yet: creating it is raced too."""
    k = 3000
    procs = []
    try:
        for start in (0, 10**5):
            proc = driftcli(
                "ingest", "-", "--flush-rows", "50", "--window-size", "100000", cwd=tmp_path,
                stdin=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
            procs.append((proc, jsonl_rows(start, k)))
        for proc, rows in procs:
            assert proc.stdin is not None
            proc.stdin.write(rows[: len(rows) // 2])
        for proc, rows in procs:
            assert proc.stdin is not None
            proc.stdin.write(rows[len(rows) // 2 :])
            proc.stdin.close()
        for proc, _ in procs:
            assert proc.stderr is not None
            err = proc.stderr.read()
            assert proc.wait(timeout=120) == 0, err
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdin, proc.stderr):
                if pipe is not None and not pipe.closed:
                    pipe.close()
    ids = window_ids(tmp_path / "store")
    assert len(ids) == 2 * k
    assert sorted(ids) == list(range(k)) + list(range(10**5, 10**5 + k))


def test_racing_store_creation(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from driftcli.store import Store

    root = tmp_path / "store"
    with ThreadPoolExecutor(8) as pool:
        stores = list(pool.map(lambda _: Store.open(root, create=True), range(16)))
    assert all(s.root == root for s in stores)
    assert sorted(p.name for p in root.iterdir()) == [".lock", "driftcli-store.json"]


def test_check_during_ingest_sees_a_consistent_window(tmp_path: Path) -> None:
    (tmp_path / "ref.jsonl").write_bytes(jsonl_rows(10**6, 2000))
    built = driftcli("reference", "ref.jsonl", cwd=tmp_path, stdout=subprocess.DEVNULL)
    assert built.wait(timeout=60) == 0
    writer = driftcli(
        "ingest", "-", "--flush-rows", "40", "--window-size", "500", cwd=tmp_path,
        stdin=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert writer.stdin is not None
    seen = set()
    try:
        for start in range(0, 4000, 400):
            writer.stdin.write(jsonl_rows(start, 400))
            writer.stdin.flush()
            reader = driftcli(
                "check",
                "-f",
                "json",
                "--exit-zero",
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            out, err = reader.communicate(timeout=60)
            not_yet = b"holds no rows yet" in err or b"no window named" in err
            if reader.returncode == 2 and not_yet:
                continue
            assert reader.returncode == 0, err
            doc = json.loads(out)
            rows = doc["live"]["rows"]
            seen.add(rows)
            assert all(sum(f["counts"]["live"]) == rows for f in doc["features"])
            assert rows <= 500 + 400  # never a half-trimmed mixture
    finally:
        writer.stdin.close()
        writer.wait(timeout=60)
    assert seen


# --- rows the reference cannot use --------------------------------------------


ROUTES = ["stdin", "slow-stdin", "csv", "jsonl", "parquet"]
"""How rows reach ingest: stdin at once, stdin in parts a second apart (each part its own
piece), or a file of each format; the outcome must be the same."""


def ingest_rows(
    home: Path, route: str, parts: list[list[dict[str, object]]], *args: str
) -> subprocess.CompletedProcess[bytes]:
    """Ingest the rows of `parts` (one logical input) by `route`, as a real process."""
    rows = [row for part in parts for row in part]
    if route.endswith("stdin"):
        writer = driftcli("ingest", "-", *args, cwd=home, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        assert writer.stdin is not None
        for i, part in enumerate(parts if route == "slow-stdin" else [rows]):
            if i:
                time.sleep(1.2)  # past the read latency (0.5 s): the next part is a new piece
            writer.stdin.write(b"".join(json.dumps(r).encode() + b"\n" for r in part))
            writer.stdin.flush()
        out, err = writer.communicate(timeout=60)  # closes stdin: the end of the input
        return subprocess.CompletedProcess(writer.args, writer.returncode, out, err)
    names = list(dict.fromkeys(k for row in rows for k in row))
    table = pa.table({n: [row.get(n) for row in rows] for n in names})
    path = home / f"rows.{route}"
    if route == "parquet":
        pq.write_table(table, path)
    elif route == "csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path, pcsv.WriteOptions(quoting_style="none"))
    else:
        path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in rows))
    done = subprocess.run([sys.executable, "-m", "driftcli", "ingest", str(path), *args],
                          cwd=home, capture_output=True, timeout=60,
                          env={**os.environ, "DRIFTCLI_STORE": str(home / "store"),
                               "PYTHONPATH": str(ROOT)})  # fmt: skip
    return done


def input_name(home: Path, route: str) -> str:
    return "<stdin>" if route.endswith("stdin") else str(home / f"rows.{route}")


def stored_ids(home: Path) -> list[int]:
    return [int(i) for i in window_ids(home / "store")]  # CSV's are text


def good_rows(start: int, n: int) -> list[dict[str, object]]:
    return [{"id": i, "x": 0.1 * i, "c": "abc"[i % 3]} for i in range(start, start + n)]


@pytest.mark.parametrize("route", ROUTES)
def test_rows_sharing_no_column_with_the_reference_are_refused(
    invoke: Invoke, home: Path, route: str
) -> None:
    invoke("reference", reference_file(home), "--exclude", "id")
    store = home / "store"
    before = store_files(store)
    foreign: list[list[dict[str, object]]] = [[{"foo": 1, "bar": "a"}], [{"foo": 2, "bar": "b"}]]
    result = ingest_rows(home, route, foreign, "--flush-rows", "1")
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"error: {input_name(home, route)}: the rows share no column with the reference "
        "(no feature has a value in any of its 2 rows); nothing stored",
        "hint: reference features: x, c",
    ]
    assert store_files(store) == before  # nothing stored, no window made


@pytest.mark.parametrize("route", ROUTES)
def test_rows_holding_no_reference_feature_are_stored_as_missing_however_they_arrive(
    invoke: Invoke, home: Path, route: str
) -> None:
    """A row the model saw without features is a row missing every feature: stored,
    and warned about, the same whether it came in a piece of its own or not."""
    invoke("reference", reference_file(home), "--exclude", "id")
    # The middle part holds no feature: alone in a piece on the slow route.
    stray: list[dict[str, object]] = [{"id": 3, "zz": 1}, {"id": 4, "x": None}]
    parts = [good_rows(0, 3), stray, good_rows(5, 2)]
    result = ingest_rows(home, route, parts, "--flush-rows", "2")
    assert result.returncode == 0, result.stderr
    where = {"parquet": "rows 4, 5", "csv": "lines 5, 6"}.get(route, "lines 4, 5")
    lines = result.stderr.decode().splitlines()
    assert lines[0] == (
        f"warning: {input_name(home, route)}: 2 rows hold none of the reference's features "
        f"(stored as missing values), first at {where}"
    )
    assert lines[1].startswith("ingested 7 rows into window 'live' (it holds 7)")
    assert stored_ids(home) == list(range(7))


def test_rows_before_the_first_with_a_feature_are_stored_once_one_comes(
    invoke: Invoke, home: Path
) -> None:
    """Leading rows without features wait (as a count), so that an input with no
    feature at all stores nothing; once a row with one comes, they are stored too."""
    invoke("reference", reference_file(home), "--exclude", "id")
    body = b'{"zz": 1}\n' * 3 + jsonl_rows(0, 4)
    result = invoke("ingest", "-", "--flush-rows", "2", input=body)
    assert result.exit_code == 0, result.stderr
    assert "3 rows hold none of the reference's features (stored as missing values)" in (
        result.stderr
    )
    assert "ingested 7 rows" in result.stderr
    assert window_ids(home / "store") == [None, None, None, 0, 1, 2, 3]


@pytest.mark.parametrize("route", ROUTES)
def test_features_no_row_has_are_warned_of_once_over_the_whole_input(
    invoke: Invoke, home: Path, route: str
) -> None:
    invoke("reference", reference_file(home), "--exclude", "id")
    # x only, then c only: each feature is in some row, so neither is lacking.
    parts: list[list[dict[str, object]]] = [
        [{"id": i, "x": 0.5} for i in range(3)],
        [{"id": i, "c": "a"} for i in range(3, 6)],
    ]
    result = ingest_rows(home, route, parts, "--flush-rows", "2")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr.decode()
    partial = [[{"id": i, "x": 0.5} for i in range(6, 9)], [{"id": i, "x": 1.5} for i in (9, 10)]]
    result = ingest_rows(home, route, partial, "--flush-rows", "2")
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().splitlines() == [
        f"warning: {input_name(home, route)}: no row has the reference feature c "
        "(stored as missing)",
        "ingested 5 rows into window 'live' (it holds 11); 3 flushes",
    ]
    assert stored_ids(home) == list(range(11))


def test_rows_without_features_count_towards_check_every(invoke: Invoke, home: Path) -> None:
    invoke("reference", reference_file(home), "--exclude", "id")
    body = b"".join(jsonl_rows(i * 10, 10) + b"{}\n" * 10 for i in range(4))
    result = invoke("ingest", "-", "--check-every", "20", input=body)
    assert result.exit_code in (0, 1), result.stderr
    assert "40 rows hold none of the reference's features (stored as missing values)" in (
        result.stderr
    )
    assert len(window_ids(home / "store")) == 80
    history = (home / "store/history/checks.jsonl").read_text()
    checks = [json.loads(line) for line in history.splitlines()]
    assert [c["rows"] for c in checks] == [20, 40, 60, 80]


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("line", [1, 6])  # first: the stream is sniffed as JSON lines still
def test_null_lines_on_stdin_are_bad_lines(
    invoke: Invoke, home: Path, skip: bool, line: int
) -> None:
    invoke("reference", reference_file(home), "--exclude", "id")
    body = jsonl_rows(0, line - 1) * (line > 1) + b"null\n" + jsonl_rows(line - 1, 11 - line)
    result = invoke("ingest", "-", *(["--skip-bad-lines"] if skip else []), input=body)
    if skip:
        assert result.exit_code == 0, result.stderr
        assert f"skipped 1 bad line: {line}" in result.stderr
        assert window_ids(home / "store") == list(range(10))
    else:
        assert result.exit_code == 2
        assert f"error: <stdin>: line {line}: expected a JSON object, got null" in result.stderr
        assert window_ids(home / "store") == []


def test_ingest_alerts_use_the_configured_threshold(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text(
        'threshold = 2\nstore = "mystore"\nmissing_points = inf\nunseen_points = inf\n'
    )
    invoke("reference", sample / "ref.parquet")
    assert invoke("check", sample / "live_drift.parquet").exit_code == 0
    result = invoke("ingest", sample / "live_drift.parquet", "--check-every", "500")
    assert result.exit_code == 0 and "[DRIFT]" not in result.stderr
    assert "[QUALITY]" not in result.stderr
    assert json.loads(invoke("status", "-f", "json").stdout)["store"] == "mystore"


def test_ingest_alerts_name_each_failed_data_quality_rule(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    invoke("reference", sample / "ref.parquet")
    result = invoke("ingest", sample / "live_drift.parquet", "--check-every", "500")
    quality = [line for line in result.stderr.splitlines() if line.startswith("[QUALITY]")]
    assert any(
        line.startswith("[QUALITY] feature=score rule=missing status=fail reference=0.90% ")
        and "live=25.40% p=1e-16 p_bound=1e-16 window=live rows=500" in line
        for line in quality
    ), result.stderr
    assert any("feature=device rule=unseen status=fail" in line for line in quality)


def test_flush_rows_is_honoured_within_a_piece(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTCLI_STORE", str(tmp_path / "store"))
    pq.write_table(pa.table({"x": np.arange(5000.0)}), tmp_path / "rows.parquet")
    result = invoke("ingest", tmp_path / "rows.parquet", "--flush-rows", "1000", "--verbose")
    flushes = [line for line in result.stderr.splitlines() if line.startswith("stored ")]
    assert len(flushes) == 5 and all(line.startswith("stored 1,000 rows") for line in flushes)


# --- formats, messages, counts ------------------------------------------------


@pytest.mark.parametrize(
    ("command", "fmt"), [("status", "junit"), ("reference", "markdown"), ("reference", "html")]
)
def test_reference_and_status_refuse_formats_they_cannot_write(
    invoke: Invoke, home: Path, sample: Path, command: str, fmt: str
) -> None:
    args = [sample / "ref.parquet"] if command == "reference" else []
    result = invoke(command, *args, "--format", fmt)
    assert result.exit_code == 2
    assert "'table', 'json'" in result.stderr
    assert result.stdout == ""
    assert not (home / "store").exists()  # refused before anything was done


def test_one_row_is_a_row_in_the_ingest_summary(invoke: Invoke, home: Path) -> None:
    result = invoke("ingest", "-", input=jsonl_rows(0, 1))
    assert result.exit_code == 0, result.stderr
    assert "ingested 1 row into window 'live' (it holds 1); 1 flush\n" in result.stderr
    result = invoke("ingest", "-", "--flush-rows", "2", input=jsonl_rows(1, 5))
    assert "ingested 5 rows into window 'live' (it holds 6); 3 flushes" in result.stderr


def test_quiet_ingest_prints_nothing_but_errors(invoke: Invoke, home: Path) -> None:
    invoke("reference", "-", input=jsonl_rows(10**6, 2000))
    quiet = invoke(
        "ingest", "-", "--quiet", "--check-every", "200", input=jsonl_rows(0, 400, shift=3.0)
    )
    assert quiet.exit_code == 1  # the drift found is in the exit code only
    assert quiet.stdout == "" and quiet.stderr == ""
    assert len(window_ids(home / "store")) == 400
    broken = invoke("ingest", "-", "--quiet", input=b'{"x": 1}\n{"x": \n')
    assert broken.exit_code == 2 and broken.stderr.startswith("error: ")
    both = invoke("ingest", "-", "--quiet", "--verbose", input=jsonl_rows(0, 5))
    assert both.exit_code == 2 and "contradict" in both.stderr


@pytest.mark.parametrize(
    ("args", "example"),
    [
        (["ingest", "-"], "| driftcli ingest -"),
        (["reference", "-"], "| driftcli reference -"),
        (["check", "-", "--ref", "sample_data/ref.parquet"], "| driftcli check - --ref"),
        (["check", "sample_data/live_ok.csv", "--ref", "-"], "| driftcli check LIVE --ref -"),
    ],
)
def test_dash_on_a_terminal_hints_at_the_command_given(
    tmp_path: Path, args: list[str], example: str
) -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "driftcli", *args], stdin=follower, capture_output=True,
            text=True, timeout=60, check=False, cwd=ROOT,
            env={**os.environ, "DRIFTCLI_STORE": str(tmp_path / "store")},
        )  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    assert "stdin is a terminal" in done.stderr
    assert example in done.stderr
