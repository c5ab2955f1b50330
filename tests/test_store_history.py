"""The store's history file (store/history.py): appends, bounds, crashes, corruption."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftcli.errors import StoreError, UsageError
from driftcli.records import CheckedBy, CheckRecord, RecordedFeature
from driftcli.results import Status, Verdict
from driftcli.store import Store
from driftcli.store.history import DEFAULT_KEEP
from tests.conftest import ROOT, SAMPLE, Invoke, told


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store", create=True)


def record(n: int, score: float | None = 0.01) -> CheckRecord:
    return CheckRecord(
        time=f"2026-03-01T00:00:{n % 60:02d}+00:00",
        window="live",
        rows=n,
        reference_id="abc",
        checked_by=CheckedBy.CHECK,
        verdict=Verdict.NO_DRIFT,
        features=(RecordedFeature("x", Status.OK, score, 0.5, 0.1, "kl"),),
    )


def test_records_round_trip_in_order(store: Store) -> None:
    history = store.history()
    assert history.records() == []
    for n in range(3):
        history.append(record(n))
    assert [r.rows for r in history.records()] == [0, 1, 2]
    assert history.records()[0] == record(0)
    lines = (store.root / "history" / "checks.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["features"][0] == {
        "name": "x", "status": "ok", "drift": False, "score": 0.01, "p_value": 0.5,
        "threshold": 0.1, "metric": "kl",
    }  # fmt: skip


def test_a_score_json_cannot_hold_is_recorded_as_none(store: Store) -> None:
    store.history().append(record(0, score=float("inf")))
    assert store.history().records()[0].features[0].score is None


def test_the_history_keeps_its_last_n_checks(store: Store) -> None:
    history = store.history()
    assert history.keep() == DEFAULT_KEEP
    assert history.set_keep(10) == 0
    for n in range(25):
        history.append(record(n))
    assert [r.rows for r in history.records()] == list(range(15, 25))
    # The file itself holds at most a tenth more, so that it is rarely rewritten.
    lines = (store.root / "history" / "checks.jsonl").read_text().splitlines()
    assert 10 <= len(lines) <= 11
    assert history.set_keep(3) == len(lines) - 3
    assert [r.rows for r in history.records()] == [22, 23, 24]


def test_keep_0_records_nothing(store: Store) -> None:
    store.history().set_keep(0)
    store.history().append(record(1))
    assert store.history().records() == []
    with pytest.raises(UsageError):
        store.history().set_keep(-1)


def test_an_unfinished_last_line_is_no_record_and_is_cut_off(store: Store) -> None:
    history = store.history()
    history.append(record(1))
    path = store.root / "history" / "checks.jsonl"
    with path.open("ab") as out:
        out.write(b'{"format_version": 1, "time": "2026-')  # a crash mid-append
    assert [r.rows for r in history.records()] == [1]
    history.append(record(2))
    assert [r.rows for r in history.records()] == [1, 2]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_a_corrupt_line_is_skipped_with_a_warning_and_dropped_by_a_rewrite(
    tmp_path: Path,
) -> None:
    warned: list[str] = []
    store = Store.open(tmp_path / "store", create=True, on_warning=warned.append)
    history = store.history()
    history.append(record(1))
    path = store.root / "history" / "checks.jsonl"
    path.write_text(path.read_text() + "garbage\n" + '{"format_version": 1}\n')
    history.append(record(2))  # appended after the garbage
    assert [r.rows for r in history.records()] == [1, 2]
    assert warned == [
        f"{path}: line 2: corrupt history record (not JSON), skipped (the next rewrite drops it)",
        f"{path}: line 3: corrupt history record (features is missing), skipped "
        "(the next rewrite drops it)",
    ]
    assert history.set_keep(10) == 0  # a rewrite keeps the records, not the garbage
    assert [json.loads(line)["rows"] for line in path.read_text().splitlines()] == [1, 2]
    warned.clear()
    assert [r.rows for r in history.records()] == [1, 2] and warned == []


def test_retention_drops_corrupt_lines(store: Store) -> None:
    history = store.history()
    history.set_keep(2)
    history.append(record(1))
    path = store.root / "history" / "checks.jsonl"
    path.write_text(path.read_text() + "garbage\n")
    for n in (2, 3, 4):
        history.append(record(n))
    assert "garbage" not in path.read_text()
    assert [r.rows for r in history.records()] == [3, 4]


def test_a_record_from_a_newer_driftcli_is_refused(store: Store) -> None:
    store.history().append(record(1))
    path = store.root / "history" / "checks.jsonl"
    path.write_text(path.read_text().replace('"format_version": 1', '"format_version": 99'))
    with pytest.raises(StoreError, match="newer driftcli"):
        store.history().records()


def test_corrupt_settings_are_a_store_error(store: Store) -> None:
    (store.root / "history").mkdir()
    (store.root / "history" / "history.json").write_text('{"keep": "many"}')
    with pytest.raises(StoreError, match="corrupt history settings"):
        store.history().append(record(1))


def test_a_symlinked_history_is_refused(store: Store, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (store.root / "history").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(StoreError, match="symbolic link"):
        store.history().append(record(1))


def test_a_history_that_cannot_be_written_is_a_store_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied")

    history = store.history()
    history.append(record(1))
    monkeypatch.setattr("driftcli.store.history.append_durably", refuse)
    with pytest.raises(StoreError, match="cannot record the check: permission denied") as caught:
        history.append(record(2))
    assert "driftcli history keep 0" in (caught.value.hint or "")  # the library's words
    assert "--keep 0" in told(caught.value, hint=True)
    assert [r.rows for r in history.records()] == [1]


def test_a_record_whose_time_cannot_be_read_is_corrupt(tmp_path: Path) -> None:
    warned: list[str] = []
    store = Store.open(tmp_path / "store", create=True, on_warning=warned.append)
    store.history().append(record(1))
    path = store.root / "history" / "checks.jsonl"
    path.write_text(path.read_text().replace("2026-03-01T00:00:01+00:00", "yesterday"))
    assert store.history().records() == []
    assert "line 1: corrupt history record" in warned[0]


# --- every kind of damaged line: skipped with a warning, dropped by the next rewrite ---

_GOOD = json.dumps(
    {"format_version": 1, "time": "2026-03-01T00:00:00+00:00", "window": "live",
     "checked_by": "check", "rows": 5, "reference_id": "abc", "verdict": "no drift",
     "drift": False, "features": [{"name": "x", "status": "ok", "drift": False, "score": 0.1,
                                   "p_value": 0.5, "threshold": 0.1, "metric": "kl"}]}
)  # fmt: skip


def _good_with(path: str, value: str) -> bytes:
    """The good record with the JSON text at `path` (dotted, `features.0.score`) replaced."""
    doc = json.loads(_GOOD)
    *parents, last = path.split(".")
    place = doc
    for key in parents:
        place = place[int(key)] if isinstance(place, list) else place[key]
    marker = "\x00REPLACED\x00"
    place[int(last) if isinstance(place, list) else last] = marker
    return json.dumps(doc).replace(json.dumps(marker), value).encode()


DAMAGED_LINES = {
    "version 1e400": b'{"format_version": 1e400}',
    "version 1e400 of a whole record": _good_with("format_version", "1e400"),
    "rows 1e400": _good_with("rows", "1e400"),
    "rows of 5,000 digits": _good_with("rows", "9" * 5000),
    "rows -1": _good_with("rows", "-1"),
    "rows as text": _good_with("rows", '"5"'),
    "rows true": _good_with("rows", "true"),
    "NaN score": _good_with("features.0.score", "NaN"),
    "Infinity threshold": _good_with("features.0.threshold", "Infinity"),
    "threshold 1e400": _good_with("features.0.threshold", "1e400"),
    "p-value 2": _good_with("features.0.p_value", "2"),
    "score -1": _good_with("features.0.score", "-1"),
    "unknown status": _good_with("features.0.status", '"fine"'),
    "unknown verdict": _good_with("verdict", '"maybe"'),
    "a feature that is a list": _good_with("features.0", "[1, 2]"),
    "features an object": _good_with("features", "{}"),
    "a lone surrogate in a name": _good_with("features.0.name", '"\\ud800"'),
    "a lone surrogate in the window": _good_with("window", '"\\udfff"'),
    "a time past year 9999 in UTC": _good_with("time", '"9999-12-31T23:30:00-01:00"'),
    "a time before year 1 in UTC": _good_with("time", '"0001-01-01T00:30:00+01:00"'),
    "a time that is none": _good_with("time", '"yesterday"'),
    "a time that is a number": _good_with("time", "1700000000"),
    "deep arrays": b"[" * 100_000 + b"]" * 100_000,
    "deep objects": b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
    "deep features": _good_with("features", "[" * 100_000 + "]" * 100_000),
    "not UTF-8": b'{"format_version": 1, "window": "\xff\xfe"}',
    "a number": b"1e400",
    "a list": b"[1, 2]",
    "null": b"null",
    "an empty line": b"",
    "NUL bytes": b"\x00" * 100,
    "garbage": b"garbage",
}


@pytest.mark.parametrize("damage", sorted(DAMAGED_LINES))
def test_a_damaged_line_is_skipped_with_a_warning_and_dropped_by_a_rewrite(
    tmp_path: Path, damage: str
) -> None:
    warned: list[str] = []
    store = Store.open(tmp_path / "store", create=True, on_warning=warned.append)
    history = store.history()
    history.set_keep(4)
    history.append(record(1))
    path = store.root / "history" / "checks.jsonl"
    with path.open("ab") as out:
        out.write(DAMAGED_LINES[damage] + b"\n")
    history.append(record(2))
    assert [r.rows for r in history.records()] == [1, 2]
    assert len(warned) == 1 and f"{path}: line 2: corrupt history record (" in warned[0]
    for n in (3, 4, 5):  # past the bound: the file is rewritten, the damaged line dropped
        history.append(record(n))
    assert DAMAGED_LINES[damage] + b"\n" not in path.read_bytes().splitlines(keepends=True)
    warned.clear()
    assert [r.rows for r in history.records()] == [2, 3, 4, 5] and warned == []


def test_a_line_over_the_line_limit_is_skipped_without_being_read_whole(
    tmp_path: Path,
) -> None:
    warned: list[str] = []
    store = Store.open(tmp_path / "store", create=True, on_warning=warned.append, line_limit=1500)
    history = store.history()
    history.append(record(1))
    path = store.root / "history" / "checks.jsonl"
    with path.open("ab") as out:
        out.write(b'{"a": "' + b"x" * 5000 + b'"}\n')
    history.append(record(2))
    assert [r.rows for r in history.records()] == [1, 2]
    assert warned == [
        f"{path}: line 2: corrupt history record (longer than the line limit of 1,500 bytes), "
        "skipped (the next rewrite drops it)"
    ]
    assert history.set_keep(10) == 0
    assert path.read_bytes().count(b"\n") == 2  # the long line went with the rewrite


def test_many_damaged_lines_are_named_a_few_and_counted(tmp_path: Path) -> None:
    warned: list[str] = []
    store = Store.open(tmp_path / "store", create=True, on_warning=warned.append)
    store.history().append(record(1))
    path = store.root / "history" / "checks.jsonl"
    with path.open("ab") as out:
        out.write(b"garbage\n" * 40)
    assert [r.rows for r in store.history().records()] == [1]
    assert len(warned) == 6
    assert warned[-1] == f"{path}: 35 more corrupt lines, skipped as well"


@pytest.mark.parametrize(
    "body",
    [b'{"keep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", b'{"keep": 1e400}', b"[]", b"\xff"],
    ids=["deep", "1e400", "a list", "not UTF-8"],
)
def test_damaged_history_settings_are_an_error_naming_them(store: Store, body: bytes) -> None:
    (store.root / "history").mkdir()
    settings = store.root / "history" / "history.json"
    settings.write_bytes(body)
    with pytest.raises(StoreError, match=r"history\.json: corrupt history settings") as caught:
        store.history().records()
    assert "driftcli history --keep N" in told(caught.value, hint=True)
    store.history().set_keep(7)  # the way out the hint names
    assert store.history().keep() == 7


# --- through the commands: a damaged history never keeps a verdict from the gate ----


@pytest.fixture
def checked(tmp_path: Path, invoke: Invoke) -> Path:
    """A store whose window was checked once: its history holds one record."""
    root = tmp_path / "store"
    assert invoke("reference", SAMPLE / "ref.parquet", "--store", root).exit_code == 0
    assert invoke("ingest", SAMPLE / "live_drift.csv", "--store", root).exit_code == 0
    assert invoke("check", "--store", root).exit_code == 1
    return root


@pytest.mark.parametrize("damage", ["version 1e400", "rows 1e400", "deep arrays", "deep objects"])
def test_a_check_due_to_rewrite_a_damaged_history_still_gives_its_verdict(
    checked: Path, invoke: Invoke, damage: str
) -> None:
    path = checked / "history" / "checks.jsonl"
    good = path.read_bytes()
    path.write_bytes(good * (DEFAULT_KEEP + DEFAULT_KEEP // 10 - 1) + DAMAGED_LINES[damage] + b"\n")
    shown = invoke("history", "--store", checked, "-f", "json")
    assert shown.exit_code == 0, shown.stderr
    assert f"{path}: line 1100: corrupt history record (" in shown.stderr
    assert len(json.loads(shown.stdout)["checks"]) == DEFAULT_KEEP - 1
    result = invoke("check", "--store", checked)  # the history is due for its rewrite
    assert result.exit_code == 1, result.stderr
    assert "internal error" not in result.stderr
    assert DAMAGED_LINES[damage] not in path.read_bytes()  # dropped by the rewrite
    assert path.read_bytes().count(b"\n") == DEFAULT_KEEP
    assert invoke("history", "--store", checked).stderr == ""


def test_deeply_nested_history_settings_keep_no_verdict_from_a_check(
    checked: Path, invoke: Invoke
) -> None:
    settings = checked / "history" / "history.json"
    settings.write_bytes(b"[" * 500_000 + b"]" * 500_000)
    result = invoke("check", "--store", checked)
    assert result.exit_code == 1, result.stderr
    said = f"warning: the check is not recorded in the history: {settings}: corrupt history "
    assert said + "settings (nested too deep)" in result.stderr
    shown = invoke("history", "--store", checked)
    assert shown.exit_code == 2
    assert f"error: {settings}: corrupt history settings (nested too deep)" in shown.stderr
    assert invoke("history", "--store", checked, "--keep", "50").exit_code == 0
    assert invoke("history", "--store", checked).exit_code == 0


_PEAK = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
print(json.dumps({"code": done.returncode, "stderr": done.stderr.decode(errors="replace"),
                  "peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def test_a_300_mb_line_in_the_history_costs_no_more_than_the_line_limit(
    checked: Path, tmp_path: Path
) -> None:
    """Peak RSS of real processes (children of a small helper: a child's peak starts
    from its parent's at fork, and pytest's is large)."""
    path = checked / "history" / "checks.jsonl"
    with path.open("ab") as out:
        out.write(b'{"a": "')
        block = b"x" * (1 << 20)
        for _ in range(300):
            out.write(block)
        out.write(b'"}\n')
    for args, code in ((["history"], 0), (["check"], 1)):
        command = [sys.executable, "-c", _PEAK, sys.executable, "-m", "driftcli"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [*command, *args, "--store", str(checked)],
            cwd=tmp_path, env=env, capture_output=True, check=True, timeout=300,
        )  # fmt: skip
        done = json.loads(out.stdout)
        assert done["code"] == code, done["stderr"]
        assert done["peak"] < 400 * (1 << 20), (args, done["peak"])  # 64 MiB limit, not 300 MB
        if args == ["history"]:
            assert (
                "line 2: corrupt history record (longer than the line limit of 64 MiB)"
                in (done["stderr"])
            )
