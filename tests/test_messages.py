"""The library names a setting in what it says (`min_rows`); the command line shows the flag
that sets it (`--min-rows`) in every output; the store keeps the command line's words,
never the mark between them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from driftcli import api
from driftcli.errors import SETTING_MARK, flag_names, named_flags, option, plain_names
from driftcli.reference.kinds import IDENTIFIER
from driftcli.settings import Settings
from tests.conftest import SAMPLE, Invoke

MARKS = (SETTING_MARK, "\\x1f", "\\u001f", "&#31;")
"""The mark as itself, or as an output would escape it (Python, JSON, HTML)."""


def test_flag_names_and_named_flags_undo_each_other() -> None:
    said = f"{option('max_line_bytes')} is low; by time: {option('by')} ts {option('every')} 1d"
    told = flag_names(said)
    assert told == "--max-line-bytes is low; by time: --by ts --every 1d"
    assert named_flags(told) == said
    assert plain_names(said) == "max_line_bytes is low; by time: by ts every 1d"
    assert named_flags("a-b--c, x --") == "a-b--c, x --"  # no flag in it


@pytest.fixture(scope="module")
def with_id(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A reference with an identifier column beside a number, and a live file of 300 rows."""
    home = tmp_path_factory.mktemp("with_id")
    paths = {}
    for name, rows, shift in (("ref", 600, 0), ("live", 300, 40)):
        path = home / f"{name}.csv"
        with path.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["id", "x"])
            out.writerows([f"{name}-{i}", (i * 37) % 100 + shift] for i in range(rows))
        paths[name] = path
    return paths


def test_a_library_caller_reads_the_settings_names(with_id: dict[str, Path]) -> None:
    settings = Settings(min_rows=1000, max_drift_share=0.5)
    result = api.check([str(with_id["live"])], str(with_id["ref"]), settings)
    x = next(f for f in result.features if f.name == "x")
    assert x.reason is not None
    assert plain_names(x.reason) == "300 live rows, fewer than min_rows 1,000"
    assert plain_names(result.skipped["id"]) == (
        "nearly every value is distinct, like an identifier; exclude it"
    )
    judged = api.check([str(with_id["live"])], str(with_id["ref"]), Settings(max_drift_share=0.5))
    assert plain_names(judged.decision.rule) == (
        "1 of 1 feature drifted (100%), above max_drift_share 50%"
    )


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "html", "junit"])
def test_every_output_shows_the_flags(invoke: Invoke, with_id: dict[str, Path], fmt: str) -> None:
    live, ref = with_id["live"], with_id["ref"]
    few = invoke("check", live, "--ref", ref, "--format", fmt, "--min-rows", "1000")
    share = invoke("check", live, "--ref", ref, "--format", fmt, "--max-drift-share", "0.5")
    assert (few.exit_code, share.exit_code) == (2, 1), few.stderr + share.stderr
    for told in (few.stdout, share.stdout):
        assert not [m for m in MARKS if m in told], told
    assert "fewer than --min-rows 1,000" in few.stdout
    if fmt != "junit":  # JUnit's test cases are the features: no columns left out, no rule
        assert "like an identifier; --exclude it" in few.stdout
        assert "above --max-drift-share 50%" in " ".join(share.stdout.split())  # the table wraps


def test_the_stderr_lines_show_the_flags(invoke: Invoke) -> None:
    live, ref = SAMPLE / "live_drift.csv", SAMPLE / "ref.csv"
    done = invoke("check", live, "--ref", ref, "--by", "age", "--every", "1d")
    assert "--by 'age': its numbers were read as epoch seconds" in done.stderr
    assert not [m for m in MARKS if m in done.stderr], done.stderr


def test_a_stored_reference_keeps_the_command_line_s_words(
    invoke: Invoke, with_id: dict[str, Path], tmp_path: Path
) -> None:
    """Older and newer driftclis read the same words; a library caller reads the names."""
    store = tmp_path / "store"
    assert invoke("reference", with_id["ref"], "--store", store, "-q").exit_code == 0
    snapshot = tmp_path / "ref.parquet"
    assert invoke("reference", with_id["ref"], "--output", snapshot, "-q").exit_code == 0
    stored = [p.read_bytes() for p in (*store.rglob("*"), snapshot) if p.is_file()]
    assert any(b"like an identifier; --exclude it" in b for b in stored)
    assert not any(f"{SETTING_MARK}exclude{SETTING_MARK}".encode() in b for b in stored)
    read = api.load_reference(str(snapshot), Settings())
    assert read.profile.skipped["id"] == IDENTIFIER
    built = invoke("reference", with_id["ref"], "--store", tmp_path / "again", "--format", "json")
    listed = json.loads(built.stdout)["skipped"]
    assert {
        "name": "id",
        "reason": "nearly every value is distinct, like an identifier; --exclude it",
    } in listed
