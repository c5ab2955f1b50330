"""`--json-path`: features read from a nested object of each JSON line."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pytest

from driftcli.errors import UsageError
from driftcli.inputs import open_source
from driftcli.inputs.nested import features_at, parse_json_path
from tests.conftest import Invoke, raises_told, run_driftcli


def lines(rows: list[object]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def read(path: Path, json_path: str, skip: bool = False) -> pa.Table:
    with open_source(str(path), json_path=json_path, skip_bad_lines=skip) as source:
        return pa.Table.from_batches(list(source.batches()))


def test_features_come_from_the_nested_object(tmp_path: Path) -> None:
    path = tmp_path / "app.jsonl"
    path.write_text(
        lines([
            {"ts": 1, "request": {"features": {"income": 5.0, "city": "a"}}},
            {"ts": 2, "request": {"features": {"income": 7.5, "city": "b"}}},
        ])
    )  # fmt: skip
    table = read(path, "request.features")
    assert table.column_names == ["income", "city"]
    assert table.column("income").to_pylist() == [5.0, 7.5]


@pytest.mark.parametrize(
    "odd",
    [{"ts": 3}, {"ts": 3, "request": None}, {"ts": 3, "request": {"features": 5}},
     {"ts": 3, "request": "text"}, {"ts": 3, "request": {"other": {"income": 1}}}],
    ids=["absent", "null", "not an object", "parent not an object", "other key"],
)  # fmt: skip
def test_a_line_without_the_object_is_a_row_without_features(tmp_path: Path, odd: object) -> None:
    path = tmp_path / "app.jsonl"
    good = {"ts": 1, "request": {"features": {"income": 5.0}}}
    path.write_text(lines([good, odd, good]))
    table = read(path, "request.features")
    assert table.num_rows == 3
    assert table.column("income").to_pylist() == [5.0, None, 5.0]


def test_a_piece_where_no_line_has_the_object_is_rows_without_columns() -> None:
    table = features_at(pa.table({"ts": [1, 2]}), ("request", "features"))
    assert (table.num_rows, table.num_columns) == (2, 0)


@pytest.mark.parametrize("text", ["", ".", "a..b", "features."])
def test_an_empty_key_is_a_usage_error(text: str) -> None:
    with raises_told(UsageError, match="--json-path"):
        parse_json_path(text)


def test_json_path_reads_json_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "live.csv"
    path.write_text("a,b\n1,2\n")
    with raises_told(UsageError, match="--json-path reads JSON lines"):
        read(path, "features")


def _write_log(path: Path, shift: float, every_missing: int, seed: int) -> None:
    chance = random.Random(seed)
    rows: list[object] = []
    for i in range(2000):
        if every_missing and i % every_missing == 0:
            rows.append({"ts": i, "level": "info", "msg": "no features here"})
        else:
            features = {"income": chance.gauss(50 + shift, 10), "city": chance.choice("abc")}
            rows.append({"ts": i, "request": {"id": i, "features": features}})
    path.write_text(lines(rows))


def test_check_with_json_path_equals_check_of_the_flat_features(
    tmp_path: Path, invoke: Invoke
) -> None:
    nested_ref, nested_live = tmp_path / "ref.jsonl", tmp_path / "live.jsonl"
    _write_log(nested_ref, 0, 0, 1)
    _write_log(nested_live, 8, 100, 2)
    flat = {}
    for name, nested in (("ref", nested_ref), ("live", nested_live)):
        rows = [json.loads(line) for line in nested.read_text().splitlines()]
        flat[name] = tmp_path / f"{name}.flat.jsonl"
        flat[name].write_text(lines([row.get("request", {}).get("features", {}) for row in rows]))
    got = invoke("check", nested_live, "--ref", nested_ref, "--json-path", "request.features",
                 "-f", "json")  # fmt: skip
    want = invoke("check", flat["live"], "--ref", flat["ref"], "-f", "json")
    assert got.exit_code == want.exit_code == 1
    got_doc, want_doc = json.loads(got.stdout), json.loads(want.stdout)
    for mine, theirs in zip(got_doc["features"], want_doc["features"], strict=True):
        assert {k: v for k, v in mine.items() if k != "invalid_at"} == {
            k: v for k, v in theirs.items() if k != "invalid_at"
        }
    assert "20 rows hold none of the reference's features" in got.stderr  # counted, located


def test_reference_ingest_and_check_take_json_path_from_the_config(tmp_path: Path) -> None:
    _write_log(tmp_path / "ref.jsonl", 0, 0, 1)
    _write_log(tmp_path / "live.jsonl", 0, 50, 3)
    (tmp_path / "driftcli.toml").write_text('json_path = "request.features"\n')
    assert run_driftcli("reference", "ref.jsonl", cwd=tmp_path).returncode == 0
    ingest = run_driftcli("ingest", "live.jsonl", cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr.decode()
    assert b"40 rows hold none of the reference's features" in ingest.stderr
    check = run_driftcli("check", "-f", "json", cwd=tmp_path)
    # The 40 lines without features are stored as rows of missing values: from none in the
    # reference to 2% live, past the missing-values rule's 2x and +1 point (issue 19).
    assert check.returncode == 1, check.stderr.decode()
    features = json.loads(check.stdout)["features"]
    assert {f["name"] for f in features} == {"income", "city"}
    for feature in features:
        [missing] = [q for q in feature["quality"] if q["rule"] == "missing"]
        assert missing["status"] == "fail" and missing["live_share"] == 0.02
