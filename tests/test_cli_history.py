"""`driftcli history`: the store's record of checks, after rounds of ingest and check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.conftest import STORY_ROWS_PER_DAY, Invoke, story_log, write_table


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRIFTCLI_STORE", str(tmp_path / "store"))
    return tmp_path


def days(home: Path, first: int, count: int = 1) -> Path:
    """The story's days first..first+count-1 (0-based) as a Parquet file."""
    rows = story_log().slice(first * STORY_ROWS_PER_DAY, count * STORY_ROWS_PER_DAY)
    return write_table(rows, home / f"days-{first}-{count}.parquet")


def history(invoke: Invoke, *args: str) -> dict:
    result = invoke("history", "-f", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def statuses(document: dict, name: str) -> list[str]:
    return [f["status"] for c in document["checks"] for f in c["features"] if f["name"] == name]


@pytest.fixture
def rounds(invoke: Invoke, home: Path, story: dict[str, Path]) -> Path:
    """Three rounds: day 1 ingested and checked, day 7 ingested and checked, days 9-10
    ingested with a check every day's worth of rows."""
    assert invoke("reference", story["ref"]).exit_code == 0
    size = ("--window-size", str(STORY_ROWS_PER_DAY))
    assert invoke("ingest", days(home, 0), *size).exit_code == 0
    assert invoke("check").exit_code == 0
    assert invoke("ingest", days(home, 6), *size).exit_code == 0
    assert invoke("check").exit_code == 1
    every = ("--check-every", str(STORY_ROWS_PER_DAY))
    assert invoke("ingest", days(home, 8, 2), *size, *every).exit_code == 1
    return home


def test_every_check_of_a_window_is_recorded_in_time_order(invoke: Invoke, rounds: Path) -> None:
    document = history(invoke)
    checks = document["checks"]
    assert [c["checked_by"] for c in checks] == ["check", "check", "ingest", "ingest"]
    assert [c["rows"] for c in checks] == [STORY_ROWS_PER_DAY] * 4
    assert [c["time"] for c in checks] == sorted(c["time"] for c in checks)
    assert [c["window"] for c in checks] == ["live"] * 4
    assert statuses(document, "amount") == ["ok", "drift", "drift", "drift"]
    assert statuses(document, "plan") == ["ok", "ok", "drift", "drift"]
    assert statuses(document, "score") == ["ok"] * 4
    assert [c["verdict"] for c in checks] == ["no drift", "drift", "drift", "drift"]
    stored = json.loads(invoke("status", "-f", "json").stdout)["reference"]["reference_id"]
    assert {c["reference_id"] for c in checks} == {stored}
    first = checks[0]["features"][0]
    assert set(first) == {"name", "status", "drift", "score", "p_value", "threshold", "metric"}
    assert document["keep"] == 1000 and document["schema_version"] == 3


def test_the_table_draws_each_features_score_over_the_checks(
    invoke: Invoke, rounds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke("history")
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "window live: 4 checks" in result.stdout
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("│ ")}
    assert "3 of 4" in rows["amount"] and "2 of 4" in rows["plan"] and "0 of 4" in rows["score"]
    spark = rows["amount"].split("│")[2].strip()
    assert len(spark) == 4 and spark[0] < spark[1]  # low, then high
    assert "—" in rows["score"]  # never drifted


@pytest.mark.parametrize("columns", [80, 120])
def test_the_history_header_and_notes_are_whole_lines(
    invoke: Invoke, rounds: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = invoke("history").stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    title = lines[0]
    assert re.fullmatch(
        r"window live: 4 checks, \d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d UTC", title
    )
    assert lines[1].startswith("┏")  # the table right under it: the title did not wrap
    assert lines[-3].startswith("scores: oldest left") and lines[-3].endswith("highest score and")
    assert lines[-1] == "The history keeps the last 1,000 checks."


def test_quiet_status_and_history_print_nothing_but_errors(
    invoke: Invoke, rounds: Path, tmp_path: Path
) -> None:
    for args in (["status"], ["history"], ["history", "--keep", "3"]):
        result = invoke(*args, "--quiet")
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", ""), args
    assert len(history(invoke)["checks"]) == 3  # --keep did its work without a word
    for command in ("status", "history"):
        missing = invoke(command, "-q", "--store", tmp_path / "none")
        assert missing.exit_code == 2 and missing.stdout == ""
        assert missing.stderr.startswith("error: no driftcli store at ")


def test_a_new_reference_shows_in_the_records(
    invoke: Invoke, rounds: Path, story: dict[str, Path]
) -> None:
    before = history(invoke)["checks"][-1]["reference_id"]
    rng = np.random.default_rng(99)
    other = pa.table(
        {
            "amount": rng.normal(1.0, 1.0, 3000),  # the new normal
            "plan": rng.choice(["basic", "plus", "pro", "enterprise"], 3000),
            "score": rng.normal(50.0, 10.0, 3000),
        }
    )
    assert invoke("reference", write_table(other, rounds / "other.parquet")).exit_code == 0
    assert invoke("check").exit_code in (0, 1)
    checks = history(invoke)["checks"]
    after = checks[-1]["reference_id"]
    assert after != before
    assert [c["reference_id"] for c in checks] == [before] * 4 + [after]
    assert json.loads(invoke("status", "-f", "json").stdout)["reference"]["reference_id"] == after
    table = invoke("history").stdout
    assert "│" in table.split("amount")[1].split("\n")[0]  # the break in the sparkline
    assert f"reference {before} from " in table and f"reference {after} from " in table


def test_the_reference_id_ignores_features_and_exclude(invoke: Invoke, rounds: Path) -> None:
    assert invoke("check", "--features", "amount").exit_code == 1
    checks = history(invoke)["checks"]
    assert checks[-1]["reference_id"] == checks[0]["reference_id"]
    assert [f["name"] for f in checks[-1]["features"]] == ["amount"]


def test_filters_by_window_feature_and_time(invoke: Invoke, rounds: Path) -> None:
    only = history(invoke, "--features", "amount")
    assert all([f["name"] for f in c["features"]] == ["amount"] for c in only["checks"])
    assert len(only["checks"]) == 4
    assert history(invoke, "--feature", "amount") == only  # the old spelling, kept for scripts
    assert len(history(invoke, "--window", "live")["checks"]) == 4
    assert len(history(invoke, "--since", "1d")["checks"]) == 4
    assert history(invoke, "--since", "2999-01-01")["checks"] == []
    assert len(history(invoke, "--since", "2000-01-01T00:00:00+01:00")["checks"]) == 4
    result = invoke("history", "--since", "2999-01-01")
    assert result.exit_code == 0 and "no checks recorded" in result.stdout


def test_an_unknown_window_exits_2_naming_the_known_ones(invoke: Invoke, rounds: Path) -> None:
    result = invoke("history", "--window", "canary")
    assert result.exit_code == 2
    assert "--window 'canary': no recorded check of that window" in result.stderr
    assert "recorded windows: live" in result.stderr


def test_with_keep_0_the_history_says_recording_is_off(invoke: Invoke, rounds: Path) -> None:
    assert invoke("history", "--keep", "0").exit_code == 0
    result = invoke("history", "--window", "live")
    assert result.exit_code == 0
    said = " ".join(result.stdout.split())
    assert "recording is off (--keep 0); turn it on with driftcli history --keep 1000" in said


def test_the_history_is_in_time_order_whatever_the_files_order(
    invoke: Invoke, rounds: Path
) -> None:
    path = rounds / "store" / "history" / "checks.jsonl"
    lines = path.read_text().splitlines()
    late = json.loads(lines[0])
    late["time"] = "2000-01-01T00:00:00+00:00"  # a clock that went back, appended last
    path.write_text("\n".join([*lines[1:], json.dumps(late)]) + "\n")
    times = [c["time"] for c in history(invoke)["checks"]]
    assert times[0] == "2000-01-01T00:00:00+00:00" and times == sorted(times)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--features", "nope"), "--features 'nope': no recorded check has that feature"),
        (("--since", "last tuesday"), "--since 'last tuesday': neither a time nor a length"),
        (("--since", "1e400d"), "--since '1e400d': neither a time nor a length"),
        (("--since", "99999999999999999999d"), "further back than the calendar goes"),
        (("--since", "800000d"), "--since '800000d': further back than the calendar goes"),
        (("--keep", str(1 << 63)), "--keep must be at most 4,611,686,018,427,387,904 (2**62)"),
    ],
)
def test_bad_filters_exit_2(invoke: Invoke, rounds: Path, args: tuple, message: str) -> None:
    result = invoke("history", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_checks_of_files_record_nothing(invoke: Invoke, home: Path, story: dict[str, Path]) -> None:
    assert invoke("reference", story["ref"]).exit_code == 0
    assert invoke("check", story["parquet"], "--ref", story["ref"]).exit_code == 1
    assert invoke("check", story["parquet"]).exit_code == 1  # against the stored reference
    assert invoke("check", story["parquet"], "--by", "ts", "--every", "1d").exit_code == 1
    assert not (home / "store" / "history").exists()
    assert history(invoke)["checks"] == []


def test_keep_bounds_the_history(invoke: Invoke, rounds: Path) -> None:
    result = invoke("history", "--keep", "2", "-f", "json")
    assert result.exit_code == 0
    assert "the history keeps the last 2 checks; 2 older ones dropped" in result.stderr
    assert [c["checked_by"] for c in json.loads(result.stdout)["checks"]] == ["ingest"] * 2
    assert invoke("check").exit_code == 1
    assert [c["checked_by"] for c in history(invoke)["checks"]] == ["ingest", "check"]


def test_history_without_a_store_exits_2(invoke: Invoke, home: Path) -> None:
    result = invoke("history")
    assert result.exit_code == 2
    assert "no driftcli store at" in result.stderr
