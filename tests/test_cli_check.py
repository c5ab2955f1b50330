"""`driftcli check`: wiring, output, messages and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from tests.conftest import Invoke, write_table

REF = "sample_data/ref.parquet"


def run_json(invoke: Invoke, *args: str | Path, input: bytes | None = None) -> dict:
    result = invoke("check", *args, "--format", "json", input=input)
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


# --- exit codes -------------------------------------------------------------


def test_no_drift_exits_0_with_a_table(invoke: Invoke, sample: Path) -> None:
    result = invoke("check", sample / "live_ok.parquet", "--ref", sample / "ref.parquet")
    assert result.exit_code == 0
    assert "no drift" in result.stdout
    for name in ["age", "income", "score", "country", "device"]:
        assert name in result.stdout
    assert result.stderr == ""


def test_drift_exits_1_and_names_the_drifted_features(invoke: Invoke, sample: Path) -> None:
    result = invoke("check", sample / "live_drift.parquet", "--ref", sample / "ref.parquet")
    assert result.exit_code == 1
    assert "DRIFT: 3 of 5 features drifted: income (drift), score (drift), device (drift)" in (
        result.stdout
    )
    assert any(ch in result.stdout for ch in "▁▂▃▄▅▆▇█")  # the histograms


def test_exit_zero_reports_drift_but_exits_0(invoke: Invoke, sample: Path) -> None:
    result = invoke("check", sample / "live_drift.csv", "--ref", sample / "ref.csv", "--exit-zero")
    assert result.exit_code == 0
    assert "DRIFT" in result.stdout


def test_threshold_moves_the_verdict(invoke: Invoke, sample: Path) -> None:
    live, ref = sample / "live_drift.parquet", sample / "ref.parquet"
    # The sample also fails data-quality rules (score's missing values, income's and
    # device's values the reference never had): turned off, the threshold alone decides.
    off = ["--missing-points", "inf", "--unseen-points", "inf"]
    assert invoke("check", live, "--ref", ref, "--threshold", "5", *off).exit_code == 0
    lenient = run_json(invoke, live, "--ref", ref, "--threshold", "5", *off)
    assert lenient["settings"]["threshold"] == 5.0
    assert lenient["features"][0]["threshold"] == 5.0
    assert not lenient["drift"]
    assert not any(f["drift"] for f in lenient["features"])
    assert run_json(invoke, live, "--ref", ref, "--threshold", "5")["drift"]  # the rules fail


def test_help_documents_the_exit_codes(invoke: Invoke) -> None:
    result = invoke("check", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "0 no feature drifted" in text and "1 drift found" in text and "2 trouble" in text


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (["--threshold", "-1"], ["error: --threshold must be at least 0, not -1.0",
                                 "hint: see driftcli check --help"]),
        (["--bins", "1"], ["error: --bins must be at least 2, not 1",
                           "hint: see driftcli check --help"]),
        (["--bins", "two"], ["error: --bins must be a whole number, not 'two'",
                             "hint: see driftcli check --help"]),
        (["--thresold", "0.2"], ["error: no such option: --thresold",
                                 "hint: did you mean --threshold?"]),
        (["--no-such-option"], ["error: no such option: --no-such-option",
                                "hint: see driftcli check --help"]),
        (["--format", "xml"], ["error: --format: 'xml' is not one of 'table', 'json', "
                               "'markdown', 'junit', 'html'", "hint: see driftcli check --help"]),
        (["--by"], ["error: --by needs a value", "hint: see driftcli check --help"]),
    ],
)  # fmt: skip
def test_usage_errors_are_one_error_line_and_a_hint_exit_2(
    invoke: Invoke, sample: Path, args: list[str], lines: list[str]
) -> None:
    result = invoke("check", sample / "live_ok.csv", "--ref", REF, *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == lines
    assert result.stdout == ""


def test_usage_errors_of_a_real_process_and_of_the_root_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "driftcli", "chek", "x"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: no such command: chek",
        "hint: did you mean 'check'?",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "driftcli", "reference", "x", "--bins", "1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: --bins must be at least 2, not 1",
        "hint: see driftcli reference --help",
    ]
    bare = subprocess.run([sys.executable, "-m", "driftcli"], capture_output=True, text=True)
    assert bare.returncode == 2 and "Usage: driftcli" in bare.stdout + bare.stderr  # help


def test_without_ref_and_without_a_store_exits_2(
    invoke: Invoke, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DRIFTCLI_STORE", raising=False)
    result = invoke("check", sample / "live_ok.csv")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: no driftcli store at .driftcli, and no --ref was given",
        "hint: pass the reference first: driftcli check LIVE --ref REF (data or a snapshot); "
        "or keep one in the store: driftcli reference DATA",
    ]
    (tmp_path / ".driftcli").mkdir()
    invoke("ingest", sample / "live_ok.csv")  # a store with a window, but no reference
    result = invoke("check", sample / "live_ok.csv")
    assert result.exit_code == 2
    assert "no reference in the store .driftcli, and no --ref was given" in result.stderr
    assert "hint: pass the reference first: driftcli check LIVE --ref REF" in result.stderr
    windowed = invoke("check")  # the store's window: the store is what is missing
    assert windowed.exit_code == 2 and "hint: build one with: driftcli reference" in (
        windowed.stderr
    )


def test_a_hint_that_lists_columns_says_how_many_it_left_out(
    invoke: Invoke, tmp_path: Path
) -> None:
    wide = write_table(
        pa.table({f"column_{i:02}": [1.0, 2.0] * 30 for i in range(30)}), tmp_path / "w.parquet"
    )
    result = invoke("check", wide, "--ref", wide, "--features", "column_1")
    assert result.exit_code == 2
    hint = result.stderr.splitlines()[1]
    assert hint.startswith("hint: did you mean 'column_21'? its columns: column_00, column_01,")
    assert hint.endswith("column_11 and 18 more")
    other = write_table(pa.table({"x": [1.0] * 60}), tmp_path / "x.parquet")
    result = invoke("check", other, "--ref", wide)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].endswith(", column_07 and 22 more")


# --- JSON output ------------------------------------------------------------


def test_json_shape(invoke: Invoke, sample: Path) -> None:
    doc = run_json(invoke, sample / "live_drift.parquet", "--ref", sample / "ref.parquet")
    assert doc["schema_version"] == 3
    assert doc["drift"] is True and doc["verdict"] == "drift"
    assert doc["summary"]["drifted"] == 3
    assert doc["summary"]["failed_quality"] == 3 and doc["summary"]["failed"] == 3
    assert doc["settings"] == {
        "metric": "kl",
        "threshold": None,
        "evidence": 0.005,
        "alpha": None,
        "correction": None,
        "max_drift_share": None,
        "fail_on": [],
        "bins": 20,
        "max_categories": 20,
        "min_rows": None,
        "smoothing": 0.5,
        "features": [],
        "exclude": [],
        "feature_settings": {},
        "skip_bad_lines": False,
        "delimiter": None,
        "decimal": None,
        "quality": {
            rule: {"ratio": 2.0, "points": 1.0} for rule in ("missing", "unseen", "invalid")
        },
    }
    assert doc["decision"] == {"drift": True, "verdict": "drift", "rule": "a feature drifted"}
    assert doc["reference"] == {
        "source": str(sample / "ref.parquet"),
        "format": "parquet",
        "rows": 2000,
        "skipped_lines": 0,
    }
    assert doc["live"]["rows"] == 500
    by_name = {f["name"]: f for f in doc["features"]}
    income = by_name["income"]
    assert set(income) == {
        "name", "kind", "status", "drift", "metric", "metric_fallback", "score", "noise",
        "change", "change_lower", "change_upper", "threshold", "material", "may_be_material",
        "small", "fails",
        "p_value", "p_value_method", "p_value_bound", "p_value_test", "p_value_parts",
        "p_value_adjusted", "evidence_level", "reason", "quality",
        "min_rows", "rows", "missing", "invalid", "buckets", "counts", "moves", "stats",
    }  # fmt: skip
    assert income["kind"] == "numeric" and income["status"] == "drift" and income["drift"]
    assert income["score"] > 0.5 and income["p_value"] < 1e-6 and income["material"]
    assert 0 < income["noise"] < 0.05 and income["change"] == pytest.approx(
        income["score"] - income["noise"]
    )
    assert income["change_upper"] > income["change"] and income["may_be_material"]
    assert income["threshold"] == 0.1 and income["evidence_level"] == 0.005
    assert income["p_value_method"] in ("chi-square", "saddlepoint", "monte-carlo")
    assert income["reason"] is None and income["p_value_bound"] is False
    assert income["p_value_test"] == "g+anderson-darling+smooth"
    assert [p["test"] for p in income["p_value_parts"]] == ["g", "anderson-darling", "smooth"]
    assert sum(p["weight"] for p in income["p_value_parts"]) == pytest.approx(1.0)
    assert income["p_value"] == pytest.approx(
        min(1, min(p["p_value"] / p["weight"] for p in income["p_value_parts"]))
    )
    rules = {q["rule"]: q for q in income["quality"]}
    assert set(rules) == {"missing", "unseen", "invalid"}
    assert rules["unseen"]["status"] == "fail" and income["fails"]  # above its largest
    assert by_name["score"]["quality"][0]["status"] == "fail"  # missing, 0.9% -> 25%
    assert (
        len(income["buckets"])
        == len(income["counts"]["reference"])
        == len(income["counts"]["live"])
    )
    assert sum(income["counts"]["live"]) == 500
    assert income["buckets"][-2:] == ["missing", "invalid"]
    device = by_name["device"]
    assert device["kind"] == "categorical"
    assert device["counts"]["live"][device["buckets"].index("other")] > 0  # the new "smartwatch"
    assert by_name["score"]["missing"]["live"] > 100
    assert doc["new_columns"] == [] and doc["skipped"] == []


def test_json_is_not_wrapped_when_piped(invoke: Invoke, sample: Path) -> None:
    result = invoke(
        "check", sample / "live_ok.parquet", "--ref", sample / "ref.parquet", "-f", "json"
    )
    json.loads(result.stdout)
    assert max(len(line) for line in result.stdout.splitlines()) < 400


# --- every format, from a path and from stdin -------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
@pytest.mark.parametrize("ref_fmt", ["csv", "parquet", "jsonl"])
def test_formats_and_stdin_give_identical_scores(
    invoke: Invoke, sample: Path, fmt: str, ref_fmt: str
) -> None:
    ref = sample / f"ref.{ref_fmt}"
    expected = run_json(invoke, sample / "live_drift.parquet", "--ref", sample / "ref.parquet")
    from_path = run_json(invoke, sample / f"live_drift.{fmt}", "--ref", ref)
    from_stdin = run_json(
        invoke, "-", "--ref", ref, input=(sample / f"live_drift.{fmt}").read_bytes()
    )
    for doc in (from_path, from_stdin):
        assert [(f["name"], f["score"], f["p_value"], f["counts"]) for f in doc["features"]] == [
            (f["name"], f["score"], f["p_value"], f["counts"]) for f in expected["features"]
        ]


def test_reference_from_stdin(invoke: Invoke, sample: Path) -> None:
    doc = run_json(
        invoke, sample / "live_ok.csv", "--ref", "-", input=(sample / "ref.jsonl").read_bytes()
    )
    assert doc["reference"]["source"] == "<stdin>"
    assert not doc["drift"]


def test_both_inputs_on_stdin_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("check", "-", "--ref", "-", input=b"a\n1\n")
    assert result.exit_code == 2
    assert "only one input can come from stdin" in result.stderr


# --- bad inputs: exit 2 and one clear line ----------------------------------


@pytest.mark.parametrize(
    ("live", "message"),
    [
        ("tests/data/does_not_exist.csv", "tests/data/does_not_exist.csv: no such file"),
        ("tests/data", "tests/data: mixes file formats (csv, jsonl)"),
        ("tests/data/header_only.csv", "tests/data/header_only.csv: no data rows"),
        ("tests/data/bad_line.jsonl", "tests/data/bad_line.jsonl: line 57: not valid JSON"),
    ],
)
def test_bad_live_input_exits_2_with_one_line(invoke: Invoke, live: str, message: str) -> None:
    result = invoke("check", live, "--ref", REF)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {message}")
    assert "Traceback" not in result.stderr


def test_empty_file_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    empty = tmp_path / "live.csv"
    empty.touch()
    result = invoke("check", empty, "--ref", REF)
    assert result.exit_code == 2
    assert result.stderr == f"error: {empty}: file is empty\n"


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_damaged_parquet_exits_2(invoke: Invoke, sample: Path, tmp_path: Path, damage: str) -> None:
    bad = tmp_path / "live.parquet"
    whole = (sample / "live_ok.parquet").read_bytes()
    bad.write_bytes(os.urandom(4096) if damage == "garbage" else whole[: len(whole) - 100])
    result = invoke("check", bad, "--ref", REF)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: cannot read as Parquet")
    assert "hint: if the format was guessed wrong" in result.stderr


def test_empty_stdin_exits_2(invoke: Invoke) -> None:
    result = invoke("check", "-", "--ref", REF, input=b"")
    assert result.exit_code == 2
    assert "<stdin>: no data on stdin" in result.stderr


def test_header_only_reference_exits_2(invoke: Invoke, sample: Path) -> None:
    result = invoke("check", sample / "live_ok.csv", "--ref", "tests/data/header_only.csv")
    assert result.exit_code == 2
    assert "no data rows in the reference" in result.stderr


def test_no_common_columns_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    other = write_table(pa.table({"x": list(range(100)), "y": ["a"] * 100}), tmp_path / "o.csv")
    result = invoke("check", other, "--ref", REF)
    assert result.exit_code == 2
    assert f"error: {other}: has none of the reference's features" in result.stderr


def test_string_in_numeric_column_is_counted_invalid_and_reported(
    invoke: Invoke, data: Path
) -> None:
    result = invoke(
        "check", data / "string_in_numeric.csv", "--ref", data / "string_in_numeric.csv"
    )
    assert result.exit_code == 0, result.stderr
    where = data / "string_in_numeric.csv"
    assert (
        f"warning: age: 1 live value could not be read as numbers (counted as invalid), "
        f"first at {where}:151" in result.stderr
    )
    doc = run_json(invoke, where, "--ref", where)
    invalid = {f["name"]: f["invalid"] for f in doc["features"]}
    assert invalid["age"] == {
        "reference": 1,
        "live": 1,
        "first_live": [{"source": str(where), "line": 151}],
        "first_reference": [{"source": str(where), "line": 151}],
    }
    assert invalid["income"]["first_live"] == [{"source": str(where), "line": 121}]


def test_nan_and_infinities_work(invoke: Invoke, data: Path) -> None:
    doc = run_json(invoke, data / "nan_inf.csv", "--ref", data / "nan_inf.csv")
    by_name = {f["name"]: f for f in doc["features"]}
    assert by_name["x"]["missing"]["live"] == 2 and by_name["y"]["missing"]["live"] == 2
    assert all(
        f["status"] == "ok" and f["score"] == pytest.approx(0.0, abs=1e-12) for f in doc["features"]
    )


def test_unicode_column_names_work(invoke: Invoke, data: Path) -> None:
    result = invoke("check", data / "unicode.csv", "--ref", data / "unicode.csv")
    assert result.exit_code == 0, result.stderr
    doc = run_json(invoke, data / "unicode.csv", "--ref", data / "unicode.csv")
    assert [f["name"] for f in doc["features"]] == ["âge", "revenu €", "país", "設備"]
    assert (
        "Côte d\u2019Ivoire" in next(f for f in doc["features"] if f["name"] == "país")["buckets"]
    )


# --- schema drift and column selection --------------------------------------


def live_variant(sample: Path, tmp_path: Path, **changes: object) -> Path:
    import pyarrow.parquet as pq

    table = pq.read_table(sample / "live_ok.parquet")
    for name, values in changes.items():
        if values is None:
            table = table.drop_columns([name])
        elif name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, pa.array(values))
        else:
            table = table.append_column(name, pa.array(values))
    return write_table(table, tmp_path / "live.parquet")


def test_missing_feature_is_drift(invoke: Invoke, sample: Path, tmp_path: Path) -> None:
    live = live_variant(sample, tmp_path, income=None)
    doc = run_json(invoke, live, "--ref", REF)
    income = next(f for f in doc["features"] if f["name"] == "income")
    assert income["status"] == "missing" and income["drift"] and income["score"] is None
    assert invoke("check", live, "--ref", REF).exit_code == 1


def test_type_change_is_drift(invoke: Invoke, sample: Path, tmp_path: Path) -> None:
    live = live_variant(sample, tmp_path, age=["forty"] * 500, device=list(range(500)))
    doc = run_json(invoke, live, "--ref", REF)
    status = {f["name"]: f["status"] for f in doc["features"]}
    assert status["age"] == "type changed" and status["device"] == "type changed"
    assert doc["drift"]


def test_new_live_column_is_listed_not_scored(invoke: Invoke, sample: Path, tmp_path: Path) -> None:
    live = live_variant(sample, tmp_path, session_id=[f"s{i}" for i in range(500)])
    doc = run_json(invoke, live, "--ref", REF)
    assert doc["new_columns"] == ["session_id"]
    assert "session_id" not in {f["name"] for f in doc["features"]}
    assert not doc["drift"]
    table = invoke("check", live, "--ref", REF).stdout
    assert "new in live, not scored: session_id" in table


def test_features_and_exclude_choose_columns(invoke: Invoke, sample: Path) -> None:
    live = sample / "live_drift.parquet"
    doc = run_json(invoke, live, "--ref", REF, "--features", "age,country")
    assert [f["name"] for f in doc["features"]] == ["age", "country"]
    assert not doc["drift"]
    doc = run_json(invoke, live, "--ref", REF, "--exclude", "income", "--exclude", "score,device")
    assert [f["name"] for f in doc["features"]] == ["age", "country"]
    assert doc["new_columns"] == []


def test_unknown_feature_name_is_a_usage_error(invoke: Invoke, sample: Path) -> None:
    result = invoke("check", sample / "live_ok.csv", "--ref", REF, "--features", "incme")
    assert result.exit_code == 2
    assert "--features: 'incme' is not a column of sample_data/ref.parquet" in result.stderr


def test_a_few_rows_with_an_overwhelming_shift_are_drift(
    invoke: Invoke, sample: Path, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    rows = pq.read_table(sample / "live_ok.parquet").slice(0, 5)
    rich = rows.set_column(rows.schema.get_field_index("income"), "income", [[10**7] * 5])
    few = write_table(rich, tmp_path / "f.parquet")
    doc = run_json(invoke, few, "--ref", REF)
    by_name = {f["name"]: f for f in doc["features"]}
    assert by_name["income"]["status"] == "drift"  # five incomes, all beyond the reference's
    assert by_name["income"]["p_value"] < 0.005 < by_name["age"]["p_value"]
    assert by_name["age"]["status"] in ("ok", "uncertain")
    assert {f["min_rows"] for f in doc["features"]} == {1}
    assert invoke("check", few, "--ref", REF).exit_code == 1


def test_no_feature_judged_is_no_verdict_and_exit_2(
    invoke: Invoke, sample: Path, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    few = write_table(pq.read_table(sample / "live_ok.parquet").slice(0, 5), tmp_path / "f.parquet")
    result = invoke("check", few, "--ref", REF, "--min-rows", "10")
    assert result.exit_code == 2
    assert "insufficient: 5 live rows, fewer than --min-rows 10" in result.stdout
    assert "NO VERDICT: no feature could be judged" in result.stdout
    assert "error: no verdict: no feature could be judged" in result.stderr
    doc = json.loads(invoke("check", few, "--ref", REF, "--min-rows", "10", "-f", "json").stdout)
    assert doc["verdict"] == "no verdict" and doc["drift"] is False
    assert doc["settings"]["min_rows"] == 10
    assert {f["status"] for f in doc["features"]} == {"insufficient"}
    # --exit-zero is for drift found; no verdict stays trouble.
    assert invoke("check", few, "--ref", REF, "--min-rows", "10", "--exit-zero").exit_code == 2


def test_one_row_against_a_small_reference_cannot_be_judged(invoke: Invoke, tmp_path: Path) -> None:
    import pyarrow as pa

    ref = write_table(pa.table({"x": list(range(50))}), tmp_path / "ref.csv")
    live = write_table(pa.table({"x": [1000]}), tmp_path / "live.csv")
    result = invoke("check", live, "--ref", ref)
    assert result.exit_code == 2
    said = " ".join(result.stdout.split())
    assert "even the most different window of that size could not reach p < 0.005" in said
    assert "at least 2 are needed" in said


# --- failures never show a traceback without --debug ------------------------


def test_internal_error_is_one_line_without_debug(
    invoke: Invoke, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftcli.api

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret row content")

    monkeypatch.setattr(driftcli.api, "check_inputs", explode)
    result = invoke("check", sample / "live_ok.csv", "--ref", REF)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: internal error (RuntimeError)"
    assert "Traceback" not in result.stderr and "secret row content" not in result.stderr
    debug = invoke("check", sample / "live_ok.csv", "--ref", REF, "--debug")
    assert debug.exit_code == 2
    assert "Traceback" in debug.stderr


def test_python_dash_m_and_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "driftcli", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("driftcli ")


def test_dash_with_stdin_on_a_terminal_exits_2() -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "driftcli", "check", "-", "--ref", REF],
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    assert "stdin is a terminal" in done.stderr


# --- bad rows, located --------------------------------------------------------


@pytest.mark.parametrize("route", ["path", "stdin"])
@pytest.mark.parametrize(
    ("line", "kind", "at"),
    [
        ("null", "null", 137),
        ("5", "a number", 137),
        ("[1, 2]", "an array", 137),
        # First: stdin is still sniffed as JSON lines (jq -c .features prints null).
        ("null", "null", 1),
        ("5", "a number", 1),
    ],
)
def test_a_json_line_that_is_not_an_object_is_a_bad_line(
    invoke: Invoke, tmp_path: Path, route: str, line: str, kind: str, at: int
) -> None:
    rows = [json.dumps({"age": 30 + i, "income": 1000.0 * i}) for i in range(300)]
    rows[at - 1] = line
    body = ("\n".join(rows) + "\n").encode()
    path = tmp_path / "live.jsonl"
    path.write_bytes(body)
    args = (path,) if route == "path" else ("-",)
    name = str(path) if route == "path" else "<stdin>"
    stdin = body if route == "stdin" else None
    result = invoke("check", *args, "--ref", REF, input=stdin)
    assert result.exit_code == 2
    assert f"error: {name}: line {at}: expected a JSON object, got {kind}" in result.stderr
    assert "pass --skip-bad-lines" in result.stderr
    skipped = invoke("check", *args, "--ref", REF, "--skip-bad-lines", "-f", "json", input=stdin)
    assert skipped.exit_code in (0, 1), skipped.stderr
    assert f"warning: {name}: skipped 1 bad line ({at})" in skipped.stderr
    doc = json.loads(skipped.stdout)
    assert doc["live"]["rows"] == 299 and doc["live"]["skipped_lines"] == 1


def test_null_lines_no_longer_pass_as_rows_of_missing_values(invoke: Invoke) -> None:
    # What `jq -c .features` prints for log lines without features.
    lines = [json.dumps(r) for r in pa_rows(REF, 200)] + ["null"] * 300
    result = invoke("check", "-", "--ref", REF, "--skip-bad-lines", "-f", "json",
                    input=("\n".join(lines) + "\n").encode())  # fmt: skip
    doc = json.loads(result.stdout)
    assert doc["live"]["rows"] == 200 and doc["live"]["skipped_lines"] == 300
    assert doc["drift"] is False, [f["name"] for f in doc["features"] if f["drift"]]


@pytest.mark.parametrize("route", ["path", "stdin"])
def test_rows_holding_no_reference_feature_are_counted_as_missing_and_located(
    invoke: Invoke, tmp_path: Path, route: str
) -> None:
    # 300 log lines without features among 200 rows: the model saw them without any
    # feature, which is drift on every missing rate; the warning says where they are.
    lines = [json.dumps(r) for r in pa_rows(REF, 200)]
    lines[50:50] = ["{}"] * 150 + ['{"request_id": 7}'] * 150  # lines 51 to 350
    body = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "live.jsonl"
    path.write_bytes(body)
    args, name = ((path,), str(path)) if route == "path" else (("-",), "<stdin>")
    stdin = body if route == "stdin" else None
    result = invoke("check", *args, "--ref", REF, "-f", "json", input=stdin)
    assert result.exit_code == 1, result.stderr
    assert (
        f"warning: {name}: 300 rows hold none of the reference's features (counted as missing "
        "values), first at lines 51, 52, 53, 54, 55"
    ) in result.stderr
    doc = json.loads(result.stdout)
    assert doc["live"]["rows"] == 500
    assert all(f["missing"]["live"] >= 300 for f in doc["features"])
    only_stray = b'{"request_id": 7}\n{"age": null}\n'
    path.write_bytes(only_stray)
    refused = invoke("check", *args, "--ref", REF, input=only_stray if stdin else None)
    assert refused.exit_code == 2
    assert (
        f"error: {name}: the rows share no column with the reference "
        "(no feature has a value in any of its 2 rows)"
    ) in refused.stderr


def pa_rows(path: Path, n: int) -> list[dict[str, object]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, object]] = pq.read_table(path).slice(0, n).to_pylist()
    return rows


@pytest.mark.parametrize("route", ["path", "stdin"])
def test_invalid_values_are_located_in_every_output_format(
    invoke: Invoke, tmp_path: Path, route: str
) -> None:
    lines = ["age,income"] + [f"{30 + i % 40},{1000 + i}" for i in range(300)]
    lines[137] = "41,lots"  # line 138 of the file
    body = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "live.csv"
    path.write_bytes(body)
    args = (path,) if route == "path" else ("-",)
    name = str(path) if route == "path" else "<stdin>"
    for fmt in ("table", "json", "markdown", "junit"):
        result = invoke(
            "check", *args, "--ref", REF, "-f", fmt, input=body if route == "stdin" else None
        )
        assert (
            f"warning: income: 1 live value could not be read as numbers (counted as invalid), "
            f"first at {name}:138" in result.stderr
        ), fmt
    result = invoke(
        "check", *args, "--ref", REF, "-f", "json", input=body if route == "stdin" else None
    )
    income = next(f for f in json.loads(result.stdout)["features"] if f["name"] == "income")
    assert income["invalid"]["live"] == 1
    assert income["invalid"]["first_live"] == [{"source": name, "line": 138}]


def test_invalid_values_in_parquet_are_located_by_row(invoke: Invoke, tmp_path: Path) -> None:
    import pyarrow as pa

    ref = write_table(pa.table({"x": [str(i) for i in range(100)]}), tmp_path / "ref.csv")
    words = [str(i) for i in range(100)]
    words[41] = "many"
    live = write_table(pa.table({"x": words}), tmp_path / "live.parquet")
    result = invoke("check", live, "--ref", ref)
    assert f"first at {live} row 42" in result.stderr


def test_at_most_five_invalid_values_are_located(invoke: Invoke, tmp_path: Path) -> None:
    lines = ["age,income"] + [
        f"{30 + i % 40},{'x' if i % 10 == 0 else 1000 + i}" for i in range(300)
    ]
    path = tmp_path / "live.csv"
    path.write_text("\n".join(lines) + "\n")
    result = invoke("check", path, "--ref", REF, "-f", "json")
    income = next(f for f in json.loads(result.stdout)["features"] if f["name"] == "income")
    assert income["invalid"]["live"] == 30
    assert [at["line"] for at in income["invalid"]["first_live"]] == [2, 12, 22, 32, 42]
    assert "30 live values could not be read as numbers" in result.stderr


def test_non_finite_threshold_is_a_usage_error(invoke: Invoke, sample: Path) -> None:
    args = ("check", sample / "live_ok.csv", "--ref", sample / "ref.csv", "--threshold")
    result = invoke(*args, "inf")
    assert result.exit_code == 2
    assert "--threshold must be a number of at least 0, not inf" in result.stderr
    assert invoke(*args, "nan").exit_code == 2  # refused by the option parser itself


LIVE, REF = "sample_data/live_drift.parquet", "sample_data/ref.parquet"


def test_names_the_reference_does_not_score_are_usage_errors(
    invoke: Invoke, tmp_path: Path, sample: Path
) -> None:
    snap = tmp_path / "snap.parquet"
    invoke("reference", sample / "ref.parquet", "--exclude", "income", "-o", snap)
    result = invoke(
        "check", sample / "live_drift.parquet", "--ref", snap, "--features", "income,age"
    )
    assert (
        result.exit_code == 2
        and "--features: 'income' is not among the features checked" in result.stderr
    )
    result = invoke("check", sample / "live_drift.parquet", "--ref", snap, "--fail-on", "income")
    assert result.exit_code == 2 and "--fail-on: 'income'" in result.stderr


def test_messages_fit_the_command(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("check", LIVE, "--ref", REF, "--engine", "spark")
    assert result.exit_code == 2 and "--engine must be local or dask" in result.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"age": 1}\n{"age": 2,,}\n')
    result = invoke("check", bad, "--ref", REF)
    assert result.exit_code == 2 and "pass --skip-bad-lines" in result.stderr


def test_window_with_live_files_is_a_usage_error(
    invoke: Invoke, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for args in (["--ref", REF], []):
        result = invoke("check", sample / "live_ok.csv", *args, "--window", "canary")
        assert result.exit_code == 2
        assert "--window canary checks a stored window: it cannot go with LIVE files" in (
            result.stderr
        )
        assert "driftcli check --window canary" in result.stderr


def test_one_feature_and_one_row_are_counted_in_the_singular(
    invoke: Invoke, tmp_path: Path
) -> None:
    ref = write_table(pa.table({"x": [float(i % 10) for i in range(300)]}), tmp_path / "r.csv")
    table = invoke("check", ref, "--ref", ref).stdout
    assert "no drift: 1 feature checked" in table
    markdown = invoke("check", ref, "--ref", ref, "-f", "markdown").stdout
    assert markdown.startswith("### driftcli: no drift (0 of 1 feature drifted)")
    one = write_table(pa.table({"x": [3.0]}), tmp_path / "l.csv")
    assert "(1 row) vs reference" in invoke("check", one, "--ref", ref).stdout


# --- quiet, separators ----------------------------------------------------------


def test_quiet_prints_nothing_and_exits_with_the_verdict(
    invoke: Invoke, sample: Path, tmp_path: Path
) -> None:
    drift = invoke("check", sample / "live_drift.parquet", "--ref", REF, "--quiet")
    assert (drift.exit_code, drift.stdout, drift.stderr) == (1, "", "")
    ok = invoke("check", sample / "live_ok.parquet", "--ref", REF, "-q", "-f", "json")
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, "", "")
    # Report files are still written: they were asked for.
    report = tmp_path / "r.json"
    invoke("check", sample / "live_drift.parquet", "--ref", REF, "-q", "--json", report)
    assert json.loads(report.read_text())["drift"] is True
    # Warnings are silenced; errors are not.
    live = write_table(pa.table({"age": ["old"] * 5 + [str(i) for i in range(295)]}),
                       tmp_path / "words.csv")  # fmt: skip
    warned = invoke("check", live, "--ref", REF, "--features", "age", "-q")
    assert warned.stdout == "" and warned.stderr == ""
    # --summary outside GitHub Actions warns, unless --quiet.
    with pytest.MonkeyPatch.context() as env:
        env.delenv("GITHUB_STEP_SUMMARY", raising=False)
        loud = invoke("check", sample / "live_ok.parquet", "--ref", REF, "--summary")
        assert "GITHUB_STEP_SUMMARY is not set" in loud.stderr
        hushed = invoke("check", sample / "live_ok.parquet", "--ref", REF, "--summary", "-q")
        assert (hushed.exit_code, hushed.stdout, hushed.stderr) == (0, "", "")
    broken = invoke("check", tmp_path / "absent.csv", "--ref", REF, "-q")
    assert broken.exit_code == 2 and broken.stderr.startswith("error: ")


def test_quiet_reference_saves_without_a_word(
    invoke: Invoke, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("reference", sample / "ref.csv", "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert (tmp_path / ".driftcli" / "reference.parquet").is_file()


def semicolons(source: Path, target: Path) -> Path:
    target.write_text(source.read_text().replace(",", ";"))
    return target


def test_delimiter_option_config_and_environment(
    invoke: Invoke, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = semicolons(sample / "live_drift.csv", tmp_path / "live.csv")
    ref = semicolons(sample / "ref.csv", tmp_path / "ref.csv")
    expected = run_json(invoke, sample / "live_drift.csv", "--ref", sample / "ref.csv")
    scores = [f["score"] for f in expected["features"]]
    for args in (["--delimiter", ";"], ["-d", "semicolon"], []):  # [] sniffs
        doc = run_json(invoke, live, "--ref", ref, *args)
        assert [f["score"] for f in doc["features"]] == scores, args
    assert doc["settings"]["delimiter"] is None
    monkeypatch.setenv("DRIFTCLI_DELIMITER", ";")
    assert run_json(invoke, live, "--ref", ref)["settings"]["delimiter"] == ";"
    wrong = invoke("check", live, "--ref", ref, "--delimiter", "tab")
    assert wrong.exit_code == 2
    assert "reads as one column" in wrong.stderr and "pass --delimiter semicolon" in wrong.stderr
    bad = invoke("check", live, "--ref", ref, "--delimiter", ";;")
    assert bad.exit_code == 2 and "--delimiter must be one character" in bad.stderr


@pytest.mark.parametrize("route", ["path", "stdin"])
def test_a_drift_in_a_csv_with_decimal_commas_is_found(
    invoke: Invoke, sample: Path, tmp_path: Path, route: str
) -> None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from tests.test_inputs import european

    ref = tmp_path / "ref.csv"
    ref.write_bytes(european(pq.read_table(sample / "ref.parquet")))
    ok = pq.read_table(sample / "live_ok.parquet")
    income = ok.schema.get_field_index("income")
    planted = ok.set_column(income, "income", pc.multiply(ok["income"], 2.0))  # only income
    live = tmp_path / "live.csv"
    live.write_bytes(european(planted))
    args = ("-", "--input-format", "csv") if route == "stdin" else (live,)
    data = live.read_bytes() if route == "stdin" else None
    result = invoke("check", *args, "--ref", ref, "--format", "json", input=data)
    assert result.exit_code == 1, result.stderr
    statuses = {f["name"]: f["status"] for f in json.loads(result.stdout)["features"]}
    assert statuses == {
        "age": "ok",
        "income": "drift",
        "score": "ok",
        "country": "ok",
        "device": "ok",
    }
    forced = invoke("check", *args, "--ref", ref, "--decimal", ".", input=data)
    assert forced.exit_code == 0  # income left out: the run must say so on stderr
    assert "warning: income: looks numeric, but its values do not read as numbers" in (
        forced.stderr
    )
    assert "--decimal ," in forced.stderr
    bad = invoke("check", *args, "--ref", ref, "--decimal", ";", input=data)
    assert bad.exit_code == 2 and "--decimal" in bad.stderr


# --- chunked checks: --by/--every, --chunk-rows -----------------------------


def chunk_drifts(document: dict) -> dict[str, list[bool]]:
    names = [f["name"] for f in document["chunks"][0]["features"]]
    return {
        name: [f["drift"] for c in document["chunks"] for f in c["features"] if f["name"] == name]
        for name in names
    }


@pytest.mark.parametrize("form", ["parquet", "csv", "jsonl-stdin", "chunk-rows"])
def test_the_story_drifts_in_exactly_the_planted_chunks(
    invoke: Invoke, story: dict[str, Path], form: str
) -> None:
    from tests.conftest import story_expected

    ref = story["ref"]
    if form == "jsonl-stdin":
        args: tuple = ("-", "--by", "ts", "--every", "1d")
        result = invoke(
            "check", *args, "--ref", ref, "-f", "json", input=story["jsonl"].read_bytes()
        )
    elif form == "chunk-rows":
        result = invoke(
            "check", story["parquet"], "--ref", ref, "--chunk-rows", "600", "-f", "json"
        )
    else:
        result = invoke(
            "check", story[form], "--ref", ref, "--by", "ts", "--every", "1d", "-f", "json"
        )
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    assert chunk_drifts(document) == story_expected()
    assert document["schema_version"] == 3 and document["verdict"] == "drift"
    first, last = document["chunks"][0], document["chunks"][-1]
    if form == "chunk-rows":
        assert (first["start"], first["end"], last["end"]) == (0, 600, 6000)
        assert document["timeline"]["chunk_rows"] == 600
    else:
        assert (first["start"], first["end"]) == (
            "2024-03-01T00:00:00+00:00",
            "2024-03-02T00:00:00+00:00",
        )
        assert document["timeline"]["by"] == "ts" and document["timeline"]["every"] == "1d"
    assert {"start", "end", "rows", "drift", "features"} <= set(first)
    assert {"name", "score", "status", "drift"} <= set(first["features"][0])
    assert first["rows"] == 600 and len(document["chunks"]) == 10
    # The top-level features are the latest chunk's, with when each first drifted.
    features = {f["name"]: f for f in document["features"]}
    assert features["plan"]["drift"] and features["plan"]["drifted_chunks"] == 2
    assert features["score"]["first_drift"] is None
    assert document["live"]["rows"] == 6000


@pytest.mark.parametrize("form", ["parquet", "csv"])
def test_a_time_column_gets_one_note_that_says_what_it_is(
    invoke: Invoke, story: dict[str, Path], form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    log = story[form]  # ts: a timestamp type in Parquet, ISO text in CSV
    plain = invoke("check", log, "--ref", log)
    assert plain.exit_code == 0, plain.stderr
    assert "not scored: ts: a time; to check over time: --by ts --every 1d" in plain.stdout
    chunked = invoke("check", log, "--ref", log, "--by", "ts", "--every", "1d")
    assert chunked.exit_code == 1, chunked.stderr  # the later days drift from the whole
    for result in (plain, chunked):
        output = result.stdout + result.stderr
        assert output.count("ts:") == 1
        assert "identifier" not in output and "unsupported" not in output
    assert "not scored: ts: the time column, used by --by" in chunked.stdout
    document = json.loads(invoke("check", log, "--ref", story["ref"], "--by", "ts",
                                 "--every", "1d", "-f", "json").stdout)  # fmt: skip
    assert {"name": "ts", "reason": "the time column, used by --by"} in document["skipped"]


def test_the_table_fits_80_columns_and_shows_when_drift_began(
    invoke: Invoke, story: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke("check", story["parquet"], "--ref", story["ref"], "--by", "ts", "--every", "1d")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows: dict[str, list[str]] = {}
    for line in lines:
        if line.split():
            rows.setdefault(line.split()[0], line.split())
    assert rows["amount"][-1] == "2024-03-07" and rows["plan"][-1] == "2024-03-09"
    assert rows["score"][-1] == "—"
    assert rows["verdict"][-1] == "DRIFT"
    assert "showing the latest" in result.stdout and "of 10 chunks" in result.stdout
    assert "DRIFT: the latest chunk, 2024-03-10T00:00:00+00:00, drifted: amount (drift), " in (
        " ".join(result.stdout.split("\n"))
    )


def test_the_latest_chunk_decides_the_exit_code_unless_any_chunk_fails(
    invoke: Invoke, story: dict[str, Path], tmp_path: Path
) -> None:
    from tests.conftest import story_log

    # Days 1-8: amount drifts from day 7, but day 8 is back to normal.
    log = story_log().slice(0, 8 * 600)
    amount = log.column("amount").to_numpy().copy()
    amount[7 * 600 :] -= 1.0
    healed = write_table(log.set_column(1, "amount", pa.array(amount)), tmp_path / "h.parquet")
    args = (healed, "--ref", story["ref"], "--by", "ts", "--every", "1d")
    result = invoke("check", *args)
    assert result.exit_code == 0, result.stdout
    assert "no drift: the latest chunk, 2024-03-08T00:00:00+00:00, did not drift" in result.stdout
    assert invoke("check", *args, "--fail-on-any-chunk").exit_code == 1
    assert invoke("check", *args, "--fail-on-any-chunk", "--exit-zero").exit_code == 0
    # The metrics carry the check's verdict, not the latest chunk's: they read drift
    # exactly when the check exits 1.
    metrics = tmp_path / "m.prom"
    for extra, drift in (((), 0), (("--fail-on-any-chunk",), 1)):
        assert invoke("check", *args, *extra, "--metrics", metrics).exit_code == drift
        assert f'driftcli_check_drift{{window="{healed}"}} {drift}.0' in metrics.read_text()


def test_no_chunk_with_a_verdict_exits_2(invoke: Invoke, story: dict[str, Path]) -> None:
    args = (story["parquet"], "--ref", story["ref"], "--by", "ts", "--every", "1h")
    result = invoke("check", *args, "--min-rows", "1000")
    assert result.exit_code == 2
    assert "error: no verdict: no chunk could be judged: all 240 have too few live rows" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--every", "1d"), "--every needs --by COLUMN"),
        (("--by", "ts"), "--by needs --every"),
        (("--by", "ts", "--every", "1y"), "--every '1y': not a length of time"),
        (("--by", "ts", "--every", "1d", "--timezone", "Mars/Base"), "not a time zone"),
        (("--fail-on-any-chunk",), "--fail-on-any-chunk needs chunks"),
        (("--by", "ts", "--every", "1d", "--chunk-rows", "9"), "--chunk-rows cuts by rows"),
        (("--by", "when", "--every", "1d"), "no column 'when' to cut by time (--by)"),
        (("--chunk-rows", "9", "--engine", "dask"), "chunks of rows (--chunk-rows) follow the"),
    ],
)
def test_chunking_options_that_cannot_work_exit_2(
    invoke: Invoke, story: dict[str, Path], args: tuple, message: str
) -> None:
    result = invoke("check", story["parquet"], "--ref", story["ref"], *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_rows_without_a_time_are_reported_on_stderr(
    invoke: Invoke, story: dict[str, Path], tmp_path: Path
) -> None:
    text = story["csv"].read_text().splitlines()
    text[3] = "," + text[3].split(",", 1)[1]  # the 3rd row has no time
    text[4] = "whenever," + text[4].split(",", 1)[1]
    path = tmp_path / "log.csv"
    path.write_text("\n".join(text) + "\n")
    result = invoke(
        "check", path, "--ref", story["ref"], "--by", "ts", "--every", "1d", "-f", "json"
    )
    assert result.exit_code == 1
    assert (
        f"warning: {path}: 2 rows in no chunk: 1 without a time and 1 whose time could not be "
        f"read in 'ts'; first at {path}:4, {path}:5"
    ) in result.stderr
    untimed = json.loads(result.stdout)["timeline"]["rows_without_time"]
    assert untimed == {
        "missing": 1,
        "unreadable": 1,
        "first": [{"source": str(path), "line": 4}, {"source": str(path), "line": 5}],
    }


def test_markdown_and_junit_reports_of_chunks(
    invoke: Invoke, story: dict[str, Path], tmp_path: Path
) -> None:
    md, xml = tmp_path / "r.md", tmp_path / "r.xml"
    args = (story["parquet"], "--ref", story["ref"], "--by", "ts", "--every", "1d")
    result = invoke("check", *args, "--markdown", md, "--junit", xml, "-f", "json")
    assert result.exit_code == 1
    markdown = md.read_text()
    assert markdown.startswith("### driftcli: DRIFT (the latest chunk, 2024-03-10")
    assert "| amount | " in markdown and "| 2024-03-07 |" in markdown
    assert "**DRIFT**" in markdown
    report = xml.read_text()
    assert report.count("<testsuite ") == 10
    # A test case per feature for drift, one for its data-quality rules. Failures where
    # the exit code rests: the latest day's amount and plan, and plan's new category (the
    # rule on values the reference never had).
    assert 'tests="60" failures="3"' in report
    assert report.count("<failure ") == 3
    assert report.count('<failure message="plan: data quality: unseen"') == 1
    assert report.count('<property name="decides" value="true" />') == 1
    strict = invoke("check", *args, "--fail-on-any-chunk", "--junit", xml, "-f", "json")
    assert strict.exit_code == 1
    assert 'tests="60" failures="8"' in xml.read_text()  # amount 4 days, plan 2 days twice


def test_junit_of_chunks_fails_only_where_the_exit_code_does(
    invoke: Invoke, story: dict[str, Path], tmp_path: Path
) -> None:
    import pyarrow as pa

    from tests.conftest import STORY_ROWS_PER_DAY, story_log, write_table

    log = story_log().slice(0, 8 * STORY_ROWS_PER_DAY)
    amount = log.column("amount").to_numpy().copy()
    amount[7 * STORY_ROWS_PER_DAY :] -= 1.0  # only day 7 drifted; day 8 is back to normal
    healed = write_table(log.set_column(1, "amount", pa.array(amount)), tmp_path / "h.parquet")
    xml = tmp_path / "r.xml"
    args = (healed, "--ref", story["ref"], "--by", "ts", "--every", "1d", "--junit", xml)
    assert invoke("check", *args).exit_code == 0
    report = xml.read_text()
    assert '<testsuites name="driftcli" tests="48" failures="0"' in report
    assert "not a failure: the exit code rests on the chunk 2024-03-08T00:00:00+00:00" in report
    assert invoke("check", *args, "--fail-on-any-chunk").exit_code == 1
    assert 'tests="48" failures="1"' in xml.read_text()


def test_a_stored_window_can_be_checked_by_chunks(
    invoke: Invoke, story: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import story_expected

    monkeypatch.setenv("DRIFTCLI_STORE", str(tmp_path / "store"))
    assert invoke("reference", story["ref"]).exit_code == 0
    ingest = invoke("ingest", story["parquet"], "--window-size", "10000")
    assert ingest.exit_code == 0, ingest.stderr
    result = invoke("check", "--by", "ts", "--every", "1d", "-f", "json")
    assert result.exit_code == 1, result.stderr
    assert chunk_drifts(json.loads(result.stdout)) == story_expected()
    assert not (tmp_path / "store" / "history").exists()  # a look back, not a new check


@pytest.mark.parametrize("flag", ["--output", "--json", "--junit", "--markdown", "--html"])
def test_a_report_file_named_dash_is_refused_before_reading(
    invoke: Invoke, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("check", sample / "live_ok.parquet", "--ref", REF, flag, "-")
    assert result.exit_code == 2
    assert f"error: {flag} -: report files take a path" in result.stderr
    assert not (tmp_path / "-").exists()


# --- report files that block: named pipes and process substitution -----------


@pytest.mark.parametrize("option", ["--json", "--junit", "--markdown", "--html", "--summary",
                                    "--output"])  # fmt: skip
def test_a_named_pipe_no_one_reads_is_an_error_not_a_hang(
    invoke: Invoke, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    """Every report after a bounded wait for a reader, the verdict shown, exit 2."""
    import driftcli.cli.runtime as runtime

    monkeypatch.setattr(runtime, "REPORT_READER_SECONDS", 0.2)
    fifo = tmp_path / "report"
    os.mkfifo(fifo)
    json_file = tmp_path / "r.json"
    args: list[str | Path] = [option] if option == "--summary" else [option, fifo]
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(fifo))
    if option != "--json":
        args += ["--json", json_file]  # another report, written all the same
    result = invoke("check", sample / "live_drift.parquet", "--ref", REF, *args)
    assert result.exit_code == 2
    what = "--summary: cannot write GITHUB_STEP_SUMMARY " if option == "--summary" else ""
    assert (
        f"error: {what}{fifo}{'' if what else ': cannot write the report'}: it is a named pipe "
        "that no process opened for reading within 0.2 s\n"
    ) in result.stderr
    assert "hint: start its reader first (cat FIFO &), or give a regular file" in result.stderr
    if option != "--output":
        assert "DRIFT: 3 of 5 features drifted" in result.stdout
    if option != "--json":
        assert json.loads(json_file.read_text())["drift"] is True


def test_a_named_pipe_no_one_reads_ends_the_check_in_bounded_time(
    sample: Path, tmp_path: Path
) -> None:
    """A real process, the real wait: it used to hang until killed."""
    from driftcli.cli.runtime import REPORT_READER_SECONDS

    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "driftcli", "check", str(sample / "live_ok.parquet"),
               "--ref", str(sample / "ref.parquet"), "--json", str(fifo)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    done = subprocess.run(command, env=env, capture_output=True, timeout=REPORT_READER_SECONDS + 30)
    assert done.returncode == 2
    assert b"no drift" in done.stdout
    assert b"named pipe that no process opened for reading" in done.stderr


def test_a_named_pipe_whose_reader_comes_late_gets_the_report(sample: Path, tmp_path: Path) -> None:
    """`driftcli check ... --json FIFO & jq . FIFO`: the reader may open it after driftcli."""
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "driftcli", "check", str(sample / "live_drift.parquet"),
               "--ref", str(sample / "ref.parquet"), "--json", str(fifo), "-q"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE) as process:
        time.sleep(1.0)  # the check is done, and waits for a reader
        with fifo.open() as reader:
            document = json.loads(reader.read())
        assert process.wait(timeout=60) == 1
    assert document["drift"] is True


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_process_substitution_still_receives_the_report(
    sample: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"copy.{fmt}"
    command = (
        f"'{sys.executable}' -m driftcli check '{sample / 'live_ok.parquet'}' "
        f"--ref '{sample / 'ref.parquet'}' --{fmt} >(cat > '{out}') -q; echo \"exit=$?\"; wait"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, timeout=120)
    assert done.stdout.strip() == b"exit=0", done.stderr
    for _ in range(100):  # the substituted process may finish after bash's wait
        if out.exists() and out.stat().st_size:
            break
        time.sleep(0.05)
    text = out.read_text()
    assert json.loads(text)["drift"] is False if fmt == "json" else "<html" in text


def test_a_reader_of_a_report_that_leaves_early_is_not_an_error(
    sample: Path, tmp_path: Path
) -> None:
    command = (
        f"'{sys.executable}' -m driftcli check '{sample / 'live_drift.parquet'}' "
        f"--ref '{sample / 'ref.parquet'}' --html >(head -c 10 >/dev/null) -q; echo \"exit=$?\""
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, timeout=120)
    assert done.stdout.strip() == b"exit=1"
    assert done.stderr == b""
