"""`check --slice COLUMN` and `reference --slice COLUMN`: exit codes, every output format,
the settings' sources, the stored reference per slice, refusals."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from rich.console import Console

from driftcli.output.table.sliced import render_sliced
from driftcli.settings import BySlice
from tests.conftest import Invoke, run_driftcli, write_table
from tests.test_api_slices import people, sliced


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli-slices")
    return {
        "ref": write_table(people(20_000, 1), root / "ref.parquet"),
        "same": write_table(people(10_000, 2), root / "same.parquet"),
        "de": write_table(people(10_000, 3, {"DE": 0.6}), root / "de.csv"),
    }


def test_a_drifted_slice_fails_the_check_and_no_change_passes(
    invoke: Invoke, files: dict[str, Path]
) -> None:
    drifted = invoke("check", files["de"], "--ref", files["ref"], "--slice", "country")
    assert drifted.exit_code == 1, drifted.output
    assert "DRIFT: 1 slice drifted: DE (income)" in drifted.stdout
    same = invoke("check", files["same"], "--ref", files["ref"], "--slice", "country")
    assert same.exit_code == 0, same.output
    # Without --slice the shift is diluted in the whole: that is what slices are for.
    whole = invoke("check", files["de"], "--ref", files["ref"])
    assert whole.exit_code == 0


def test_json_lists_every_slice_beside_the_whole_check(
    invoke: Invoke, files: dict[str, Path]
) -> None:
    result = invoke(
        "check", files["de"], "--ref", files["ref"], "--slice", "country", "--format", "json"
    )
    document = json.loads(result.stdout)
    assert document["schema_version"] == 3
    assert document["drift"] is True and document["verdict"] == "drift"
    assert document["slicing"]["whole"]["drift"] is False
    assert document["slicing"]["column"] == "country"
    assert document["slicing"]["checked_slices"] == 5
    assert document["slicing"]["drifted_slices"] == 1
    assert [s["slice"] for s in document["slices"]] == ["DE", "FR", "US", "IT", "ES"]
    de = document["slices"][0]
    assert de["kind"] == "value" and de["state"] == "checked" and de["drift"] is True
    assert de["rows"] == sum(s["rows"] for s in document["slices"][:1])
    assert [f["name"] for f in de["features"]] == ["income", "age", "device"]
    assert [f["drift"] for f in de["features"]] == [True, False, False]
    assert sum(s["rows"] for s in document["slices"]) == document["live"]["rows"]
    assert [f["name"] for f in document["features"]] == ["country", "income", "age", "device"]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_slice_matrix_fits_the_terminal_and_shows_every_slice(
    tmp_path: Path, width: int
) -> None:
    rng = np.random.default_rng(3)
    names = [f"region-{i:02d}" for i in range(20)]
    columns: dict[str, pa.Array] = {"region": pa.array(rng.choice(names, 8_000))}
    for j in range(6):
        columns[f"feature_{j}"] = pa.array(rng.normal(0, 1, 8_000))
    path = write_table(pa.table(columns), tmp_path / "t.parquet")
    result = sliced(path, path, BySlice("region"))
    out = Console(file=io.StringIO(), width=width, no_color=True)
    out.print(render_sliced(result))
    shown = out.file.getvalue()  # type: ignore[attr-defined]
    assert max(len(line) for line in shown.splitlines()) <= width
    for name in names:  # labels may fold over lines, but every slice has its column
        assert name[:6] in shown
    assert shown.count("verdict") >= (2 if width < 120 else 1)


def test_markdown_and_junit_show_the_slices(invoke: Invoke, files: dict[str, Path]) -> None:
    markdown = invoke(
        "check", files["de"], "--ref", files["ref"], "--slice", "country", "--format", "markdown"
    )
    assert markdown.exit_code == 1
    assert "| feature | DE | FR | US | IT | ES |" in markdown.stdout
    assert "| income | **" in markdown.stdout
    assert "#### The whole live data" in markdown.stdout
    junit = invoke(
        "check", files["de"], "--ref", files["ref"], "--slice", "country", "--format", "junit"
    )
    assert 'name="driftcli check: ' in junit.stdout and "[country=DE]" in junit.stdout
    assert junit.stdout.count("<failure") == 1


def test_the_slice_column_comes_from_the_environment_or_the_config(
    files: dict[str, Path], tmp_path: Path
) -> None:
    by_env = run_driftcli(
        "check", files["de"], "--ref", files["ref"], "--format", "json",
        cwd=tmp_path, env={"DRIFTCLI_SLICE": "country"},
    )  # fmt: skip
    assert by_env.returncode == 1, by_env.stderr
    assert json.loads(by_env.stdout)["slicing"]["column"] == "country"
    (tmp_path / "driftcli.toml").write_text('slice = "device"\nmax_slices = 2\n')
    by_config = run_driftcli(
        "check", files["de"], "--ref", files["ref"], "--format", "json", cwd=tmp_path
    )
    slicing = json.loads(by_config.stdout)["slicing"]
    assert (slicing["column"], slicing["max_slices"]) == ("device", 2)


def test_a_reference_stored_per_slice_slices_every_check(
    invoke: Invoke, files: dict[str, Path], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    built = invoke("reference", files["ref"], "--slice", "country", "--store", store)
    assert built.exit_code == 0, built.output
    checked = invoke("check", files["de"], "--store", store, "--format", "json")
    assert checked.exit_code == 1, checked.output
    assert json.loads(checked.stdout)["slicing"]["drifted_slices"] == 1
    # The window, stored by ingest, is checked per slice too.
    assert invoke("ingest", files["de"], "--store", store).exit_code == 0
    window = invoke("check", "--store", store, "--format", "json")
    assert window.exit_code == 1, window.output
    document = json.loads(window.stdout)
    assert document["live"]["source"] == "window live"
    assert [s["slice"] for s in document["slices"] if s["drift"]] == ["DE"]
    # Its whole check is in the history, as a check of the window without slices is.
    history = invoke("history", "--store", store, "--format", "json")
    assert history.exit_code == 0, history.output
    assert len(json.loads(history.stdout)["checks"]) == 1


def test_ingest_checks_against_a_reference_stored_per_slice_are_sliced(
    invoke: Invoke, files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    assert invoke("reference", files["ref"], "--slice", "country", "--store", store).exit_code == 0
    same = invoke("ingest", files["same"], "--store", store, "--check-every", "5000")
    assert same.exit_code == 0, same.stderr
    assert "[DRIFT]" not in same.stderr
    drifted = invoke("ingest", files["de"], "--store", store, "--check-every", "10000")
    assert drifted.exit_code == 1, drifted.stderr
    alerts = [line for line in drifted.stderr.splitlines() if line.startswith("[DRIFT]")]
    assert alerts and all(" slice=DE " in line for line in alerts), drifted.stderr
    assert all(line.startswith("[DRIFT] feature=income slice=DE status=drift") for line in alerts)
    checks = json.loads(invoke("history", "--store", store, "-f", "json").stdout)["checks"]
    assert [c["checked_by"] for c in checks] == ["ingest", "ingest", "ingest"]
    # What a sliced check refuses is refused before a row is stored.
    monkeypatch.setenv("DRIFTCLI_JOINT", "true")
    joint = invoke("ingest", files["de"], "--store", store, "--window", "w2", "--check-every", "9")
    assert joint.exit_code == 2 and "cannot go with a sliced check" in joint.stderr
    assert "w2" not in invoke("status", "--store", store).stdout


def test_every_output_says_what_moved_in_the_drifted_cell(
    invoke: Invoke, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the line of what moved on one line
    args = ("check", files["de"], "--ref", files["ref"], "--slice", "country")
    document = json.loads(invoke(*args, "-f", "json").stdout)
    de = next(s for s in document["slices"] if s["slice"] == "DE")
    income = next(f for f in de["features"] if f["name"] == "income")
    assert income["drift"] and income["moves"] and income["stats"]["live"]["p50"] is not None
    fine = next(s for s in document["slices"] if s["slice"] == "FR")
    assert all(f["moves"] == [] and f["stats"] is None for f in fine["features"])
    bucket = income["moves"][0]["bucket"]
    line = f"income in DE: {bucket}"
    table = invoke(*args)
    assert table.exit_code == 1 and f"↳ {line}" in table.stdout, table.stdout
    markdown = invoke(*args, "-f", "markdown").stdout
    assert f"↳ income in DE: {bucket.replace('[', chr(92) + '[')}" in markdown
    assert f"↳ {line}" in invoke(*args, "-f", "html").stdout


def test_slices_refused_where_they_cannot_run(invoke: Invoke, files: dict[str, Path]) -> None:
    chunked = invoke(
        "check", files["de"], "--ref", files["ref"], "--slice", "country", "--chunk-rows", "100"
    )
    assert chunked.exit_code == 2 and "cannot go with chunks" in chunked.stderr
    dask = invoke(
        "check", files["de"], "--ref", files["ref"], "--slice", "country", "--engine", "dask"
    )
    assert dask.exit_code == 2 and "not on Dask" in dask.stderr
    stdin = invoke(
        "check", files["de"], "--ref", "-", "--slice", "country", "--ref-format", "csv",
        input=files["de"].read_bytes(),
    )  # fmt: skip
    assert stdin.exit_code == 2 and "read once" in stdin.stderr
    unknown = invoke("check", files["de"], "--ref", files["ref"], "--slice", "nation")
    assert unknown.exit_code == 2 and "not a column" in unknown.stderr
    lonely = invoke("check", files["de"], "--ref", files["ref"], "--max-slices", "3")
    assert lonely.exit_code == 2 and "--max-slices needs --slice" in lonely.stderr


@pytest.mark.parametrize("width", [60, 80])
def test_no_cell_of_the_slice_matrix_is_cut_or_folded(width: int) -> None:
    sample = Path(__file__).parent.parent / "sample_data"
    result = sliced(sample / "live_drift.csv", sample / "ref.parquet", BySlice("country"))
    out = Console(file=io.StringIO(), width=width, no_color=True)
    out.print(render_sliced(result))
    shown = out.file.getvalue()  # type: ignore[attr-defined]
    assert max(len(line) for line in shown.splitlines()) <= width
    verdicts = [
        w for line in shown.splitlines() if line.startswith("verdict") for w in line.split()
    ]
    assert verdicts.count("DRIFT") + verdicts.count("ok") == len(result.checked)
    headers = [line.split() for line in shown.splitlines() if line.startswith("feature ")]
    assert sum(len(h) - 1 for h in headers) == len(result.checked)


def test_the_joint_test_is_refused_with_slices_not_left_out(
    invoke: Invoke, files: dict[str, Path]
) -> None:
    """A sliced check has no joint test: asking for both is an error, never a report that
    quietly lacks the joint section."""
    both = invoke("check", files["de"], "--ref", files["ref"], "--slice", "country", "--joint")
    assert both.exit_code == 2
    assert "the joint test checks a whole check, not slices" in both.stderr
