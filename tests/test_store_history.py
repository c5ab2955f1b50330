"""The store's history file (store/history.py): appends, bounds, crashes, corruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftcli.errors import StoreError, UsageError
from driftcli.results import CheckedBy, CheckRecord, RecordedFeature, Status, Verdict
from driftcli.store import Store
from driftcli.store.history import DEFAULT_KEEP


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
        f"{path}: line 2: corrupt history record, skipped (the next rewrite drops it)",
        f"{path}: line 3: corrupt history record, skipped (the next rewrite drops it)",
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
    assert "--keep 0" in (caught.value.hint or "")
    assert [r.rows for r in history.records()] == [1]


def test_a_record_whose_time_cannot_be_read_is_corrupt(tmp_path: Path) -> None:
    warned: list[str] = []
    store = Store.open(tmp_path / "store", create=True, on_warning=warned.append)
    store.history().append(record(1))
    path = store.root / "history" / "checks.jsonl"
    path.write_text(path.read_text().replace("2026-03-01T00:00:01+00:00", "yesterday"))
    assert store.history().records() == []
    assert "line 1: corrupt history record" in warned[0]
