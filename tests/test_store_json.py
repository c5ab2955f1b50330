"""The JSON of what the store holds (`reference`, `status`, `history --format json`): the
public schema of docs/json.md, never the store's own encodings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Invoke

STORE_ONLY = {"kind", "format_version", "file_checksum", "settings", "counts"}
"""Keys of the snapshot's encoding on disk that the public document does not have."""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRIFTCLI_STORE", str(tmp_path / "store"))
    return tmp_path


def test_the_reference_document_has_each_feature_s_buckets_as_a_check_labels_them(
    invoke: Invoke, home: Path, sample: Path
) -> None:
    made = invoke("reference", sample / "ref.parquet", "--format", "json")
    assert made.exit_code == 0, made.stderr
    document = json.loads(made.stdout)
    assert document["schema_version"] == 3
    assert not STORE_ONLY & set(document)
    assert document["path"] == str(home / "store" / "reference.parquet")
    assert document["source"]["rows"] == 2000 and document["slicing"] is None
    checked = json.loads(invoke("check", sample / "live_ok.parquet", "-f", "json").stdout)
    assert checked["reference"] == document["source"]
    by_name = {f["name"]: f for f in checked["features"]}
    assert [f["name"] for f in document["features"]] == list(by_name)
    for feature in document["features"]:
        assert feature["buckets"] == by_name[feature["name"]]["buckets"]
        assert feature["counts"] == by_name[feature["name"]]["counts"]["reference"]
        assert sum(feature["counts"]) == feature["rows"] == 2000
        assert feature["counts"][-2:] == [feature["missing"], feature["invalid"]]
    status = json.loads(invoke("status", "-f", "json").stdout)
    assert status["reference"]["reference_id"] == document["reference_id"]


def test_a_sliced_reference_lists_its_slices_with_the_rows_a_sliced_check_reports(
    invoke: Invoke, home: Path, sample: Path
) -> None:
    made = invoke("reference", sample / "ref.parquet", "--slice", "country", "-f", "json")
    slicing = json.loads(made.stdout)["slicing"]
    assert slicing["column"] == "country" and slicing["max_slices"] == 20
    assert sum(s["rows"] for s in slicing["slices"]) == 2000
    assert slicing["slices"][-1] == {"slice": None, "kind": "missing", "rows": 16}
    checked = json.loads(invoke("check", sample / "live_ok.parquet", "-f", "json").stdout)
    reported = {s["slice"]: s["reference_rows"] for s in checked["slices"]}
    assert {s["slice"]: s["rows"] for s in slicing["slices"]} == reported


def test_the_history_document_keeps_no_store_format_version(
    invoke: Invoke, home: Path, sample: Path
) -> None:
    invoke("reference", sample / "ref.parquet")
    invoke("ingest", sample / "live_drift.parquet")
    assert invoke("check").exit_code == 1
    document = json.loads(invoke("history", "-f", "json").stdout)
    (check,) = document["checks"]
    assert set(check) == {
        "time", "window", "checked_by", "rows", "reference_id", "verdict", "drift", "features"
    }  # fmt: skip
    assert check["checked_by"] == "check" and check["drift"] is True
    on_disk = json.loads((home / "store" / "history" / "checks.jsonl").read_text())
    assert on_disk.pop("format_version") >= 1
    assert on_disk == check
