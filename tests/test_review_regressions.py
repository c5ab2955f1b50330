"""Inputs an adversarial review found mishandled; each case is pinned here."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftcli.api import check
from driftcli.inputs import read_all_batches
from tests.conftest import Invoke


def write_lines(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def normal_rows(n: int, seed: int, key: str = "x") -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    return [{key: round(float(v), 4)} for v in rng.normal(size=n)]


def test_sparse_keys_in_the_slow_json_path_line_up(tmp_path: Path) -> None:
    rows = [{"a": 1}, {"b": "x"}, {"a": "two", "c": True}, {}, {"b": "y"}]
    table = pa.Table.from_batches(read_all_batches(str(write_lines(tmp_path / "r.jsonl", rows))))
    assert table.num_rows == 5
    assert table.column("a").to_pylist() == ["1", None, "two", None, None]
    assert table.column("b").to_pylist() == [None, "x", None, None, "y"]
    assert table.column("c").to_pylist() == [None, None, True, None, None]


def test_one_stray_string_in_a_json_reference_keeps_the_feature_numeric(tmp_path: Path) -> None:
    ref_rows = normal_rows(2000, 1)
    ref_rows[5] = {"x": "n/a"}
    ref = write_lines(tmp_path / "ref.jsonl", ref_rows)
    live = write_lines(tmp_path / "live.jsonl", normal_rows(500, 2))
    [x] = check(str(live), str(ref)).features
    assert x.kind.value == "numeric" and x.status.value == "ok"
    assert x.reference_invalid == 1


def test_date_strings_in_json_are_text_as_in_csv(tmp_path: Path) -> None:
    days = [f"2024-01-0{1 + i % 7}" for i in range(300)]
    jsonl = write_lines(tmp_path / "d.jsonl", [{"day": d} for d in days])
    (tmp_path / "d.csv").write_text("day\n" + "\n".join(days) + "\n")
    for live, ref in [(jsonl, jsonl), (jsonl, tmp_path / "d.csv"), (tmp_path / "d.csv", jsonl)]:
        [day] = check(str(live), str(ref)).features
        assert day.kind.value == "categorical" and day.status.value == "ok", (live, ref)
        assert day.live_invalid == 0


@pytest.mark.parametrize("words", [("true", "false"), ("True", "False"), ("TRUE", "FALSE")])
def test_booleans_match_across_formats_and_spellings(
    tmp_path: Path, words: tuple[str, str]
) -> None:
    flags = [i % 3 == 0 for i in range(300)]
    pq.write_table(pa.table({"flag": flags}), tmp_path / "b.parquet")
    (tmp_path / "b.csv").write_text(
        "flag\n" + "\n".join(words[0] if f else words[1] for f in flags)
    )
    write_lines(tmp_path / "b.jsonl", [{"flag": f} for f in flags])
    names = ["b.parquet", "b.csv", "b.jsonl"]
    for live in names:
        for ref in names:
            [flag] = check(str(tmp_path / live), str(tmp_path / ref)).features
            assert flag.status.value == "ok" and flag.score == pytest.approx(0, abs=1e-12), (
                live,
                ref,
            )


def test_bool_among_numbers_in_json_is_invalid(tmp_path: Path) -> None:
    rows = normal_rows(300, 3)
    rows[10] = {"x": True}
    ref = write_lines(tmp_path / "ref.jsonl", normal_rows(2000, 4))
    [x] = check(str(write_lines(tmp_path / "live.jsonl", rows)), str(ref)).features
    assert x.live_invalid == 1


def test_markup_like_names_and_paths_are_shown_literally(invoke: Invoke, tmp_path: Path) -> None:
    data = tmp_path / "data[bold].csv"
    data.write_text("price[/usd],temp[red]\n" + "".join(f"{i},{i % 7}\n" for i in range(200)))
    result = invoke("check", data, "--ref", data)
    assert result.exit_code == 0, result.stderr
    assert "price[/usd]" in result.stdout and "temp[red]" in result.stdout
    assert "data[bold].csv" in result.stdout


def test_non_finite_threshold_is_a_usage_error(invoke: Invoke, sample: Path) -> None:
    args = ("check", sample / "live_ok.csv", "--ref", sample / "ref.csv", "--threshold")
    result = invoke(*args, "inf")
    assert result.exit_code == 2
    assert "--threshold must be a number of at least 0, not inf" in result.stderr
    assert invoke(*args, "nan").exit_code == 2  # refused by the option parser itself


def test_named_pipe_is_read_once_as_a_stream(tmp_path: Path, sample: Path) -> None:
    fifo = tmp_path / "live.jsonl"
    os.mkfifo(fifo)
    payload = (sample / "live_drift.jsonl").read_bytes()

    def feed() -> None:
        with open(fifo, "wb") as out:
            out.write(payload)

    writer = threading.Thread(target=feed)
    writer.start()
    result = check(str(fifo), str(sample / "ref.parquet"))
    writer.join(timeout=30)
    assert result.live.rows == 500 and result.drift


def test_unnamed_and_space_padded_columns_can_be_chosen(invoke: Invoke, tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 5},{(i * 7) % 11}\n" for i in range(300))
    ref = tmp_path / "ref.csv"
    ref.write_text(",age, income\n" + rows)
    live = tmp_path / "live.csv"
    live.write_text(
        ",age, income\n" + "".join(f"{i + 1000},{i % 5},{(i * 7) % 11}\n" for i in range(300))
    )
    doc = json.loads(invoke("check", live, "--ref", ref, "-f", "json").stdout)
    assert [f["name"] for f in doc["features"]] == ["age", " income"]  # the pandas index is skipped
    assert doc["skipped"][0]["name"] == "" and not doc["drift"]
    doc = json.loads(
        invoke("check", live, "--ref", ref, "-f", "json", "--features", "income").stdout
    )
    assert [f["name"] for f in doc["features"]] == [" income"]
    doc = json.loads(invoke("check", live, "--ref", ref, "-f", "json", "--features", ",age").stdout)
    assert [f["name"] for f in doc["features"]] == ["age"]
    result = invoke("check", live, "--ref", ref, "-f", "json", "--features", "")
    assert [f["name"] for f in json.loads(result.stdout)["features"]] == [""]
    assert result.exit_code == 1  # the row index does drift, when asked for


def test_stray_quote_in_csv_does_not_swallow_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftcli.inputs.cutting as text_formats

    monkeypatch.setattr(text_formats, "CHUNK_BYTES", 256)
    lines = [f"{i},plain text {i}" for i in range(2000)]
    lines[100] = '100,a 5" screen'
    path = tmp_path / "q.csv"
    path.write_text("id,note\n" + "\n".join(lines) + "\n")
    table = pa.Table.from_batches(read_all_batches(str(path)))
    assert table.num_rows == 2000
    assert table.column("note")[100].as_py() == 'a 5" screen'


def test_csv_row_longer_than_a_parse_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import driftcli.inputs.cutting as text_formats

    monkeypatch.setattr(text_formats, "PARSE_BLOCK_BYTES", 1 << 12)
    path = tmp_path / "long.csv"
    path.write_text("a,b\n1,short\n2," + "x" * 300_000 + "\n3,short\n")
    table = pa.Table.from_batches(read_all_batches(str(path)))
    assert table.column("a").to_pylist() == ["1", "2", "3"]


def test_json_line_longer_than_a_parse_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftcli.inputs.cutting as text_formats

    monkeypatch.setattr(text_formats, "PARSE_BLOCK_BYTES", 1 << 12)
    path = write_lines(tmp_path / "long.jsonl", [{"a": 1, "s": "x"}, {"a": 2, "s": "y" * 50_000}])
    table = pa.Table.from_batches(read_all_batches(str(path)))
    assert table.column("a").to_pylist() == [1, 2]


def test_invalid_utf8_in_json_names_the_line(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"name": "ok", "v": 1}\n{"name": "Jos\xe9 SECRET", "v": 2}\n')
    result = invoke("check", path, "--ref", path)
    assert result.exit_code == 2
    assert f"{path}: line 2: not valid JSON (not valid UTF-8)" in result.stderr
    assert "SECRET" not in result.stderr
