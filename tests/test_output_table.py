"""Renderers: the table and JSON say what the result holds, nothing more."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from driftcli.api import check
from driftcli.output.json.check import render_json
from driftcli.output.sparklines import sparkline
from driftcli.output.table.check import render_table
from driftcli.output.texts import format_p_value
from driftcli.results import CheckResult
from driftcli.view import View
from tests.conftest import Invoke


def text_of(renderable: object) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_sparkline_draws_shares_on_a_common_scale() -> None:
    shares = np.array([0.0, 0.05, 0.5, 1.0])
    assert sparkline(shares, 1.0) == " ▁▄█"
    assert sparkline(np.array([0.001]), 1.0) == "▁"  # non-empty is never blank
    assert sparkline(np.zeros(3), 0.0) == "   "


@pytest.mark.parametrize(
    ("p", "shown"), [(0.5, "0.5"), (0.0123, "0.012"), (1e-20, "<1e-16"), (0.0, "<1e-16")]
)
def test_p_value_format(p: float, shown: str) -> None:
    assert format_p_value(p) == shown


def test_table_has_a_row_per_feature_a_summary_and_notes() -> None:
    result = check("sample_data/live_drift.csv", "sample_data/ref.csv")
    text = text_of(render_table(result))
    for name in ("age", "income", "score", "country", "device"):
        assert f"│ {name}" in text
    assert "DRIFT: 3 of 5 features drifted" in text
    assert "kl > 0.1" in text and "p-value" in text and "histogram" in text
    assert "25.4%" in text  # score's missing rate in live


def test_json_round_trips_and_matches_the_result() -> None:
    result = check("sample_data/live_drift.parquet", "sample_data/ref.parquet")
    doc = json.loads(render_json(result))
    assert doc["drift"] == result.drift
    assert [f["score"] for f in doc["features"]] == [f.score for f in result.features]
    assert doc["summary"]["type_changed"] == 0


def test_core_imports_no_terminal_library_and_help_no_numeric_library() -> None:
    code = (
        "import sys, driftcli.api, driftcli.reference.builder, driftcli.scoring.metrics,"
        " driftcli.inputs, driftcli.output.json.check, driftcli.output.lines;"
        "assert 'rich' not in sys.modules and 'typer' not in sys.modules, 'core imports rich';"
        "assert 'distributed' not in sys.modules, 'core imports dask';"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    code = (
        "import sys, driftcli.cli;"
        "heavy = {'numpy', 'pyarrow', 'scipy', 'dask', 'distributed'} & set(sys.modules);"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_markup_like_names_and_paths_are_shown_literally(invoke: Invoke, tmp_path: Path) -> None:
    data = tmp_path / "data[bold].csv"
    data.write_text("price[/usd],temp[red]\n" + "".join(f"{i},{i % 7}\n" for i in range(200)))
    result = invoke("check", data, "--ref", data)
    assert result.exit_code == 0, result.stderr
    assert "price[/usd]" in result.stdout and "temp[red]" in result.stdout
    assert "data[bold].csv" in result.stdout


# --- the table fits the terminal --------------------------------------------

LONG = "customer_lifetime_value_estimate_v2"
VERY_LONG = "a_feature_name_far_longer_than_any_terminal_column_could_hold_on_one_line"


def lines_at(renderable: object, width: int) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text().splitlines()


def names_in_first_column(lines: list[str]) -> list[str]:
    """Each table row's feature name, its wrapped pieces joined (what moved, under it, left out).

    Rows are told apart by the lines between them (two-line rows) or, one line per
    feature, by the status cell, which only a row's first line fills."""
    ruled = any(line.startswith("├") for line in lines)
    header = next(line for line in lines if line.startswith("┃") and "feature" in line)
    cells = [cell.strip() for cell in header.split("┃")]
    at = cells.index("status") if "status" in cells else -1
    rows: list[list[str]] = []
    body = False
    for line in lines:
        if line.startswith("┡"):
            body, rows = True, [[]]
        elif body and line.startswith(("├", "└")):
            rows.append([])
        elif body and line.startswith("│"):
            cells = line.split("│")
            if not ruled and at > 0 and cells[at].strip() and rows[-1]:
                rows.append([])
            rows[-1].append(cells[1].strip())
    return ["".join(pieces).split("↳")[0] for pieces in rows if pieces]


def header_of(lines: list[str]) -> str:
    """The table's header rows (the column names)."""
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    end = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    return "\n".join(lines[top:end])


def long_named_result(tmp_path: Path) -> CheckResult:
    rng = np.random.default_rng(3)
    columns = {name: rng.normal(size=300) for name in (LONG, "x", VERY_LONG)}
    ref = tmp_path / "ref.csv"
    live = tmp_path / "live.csv"
    for path, shift in ((ref, 0.0), (live, 1.0)):
        rows = [",".join(columns)] + [
            ",".join(f"{values[i] + shift:.4f}" for values in columns.values()) for i in range(300)
        ]
        path.write_text("\n".join(rows) + "\n")
    return check(str(live), str(ref))


@pytest.mark.parametrize("width", [60, 80, 100, 200])
@pytest.mark.parametrize("names", ["short", "long"])
def test_table_fits_the_width_and_shows_every_name_whole(
    width: int, names: str, tmp_path: Path
) -> None:
    if names == "short":
        result = check("sample_data/live_drift.csv", "sample_data/ref.csv")
    else:
        result = long_named_result(tmp_path)
    lines = lines_at(render_table(result), width)
    assert max(len(line) for line in lines) <= width
    assert names_in_first_column(lines) == [f.name for f in View().arrange(result.features)[0]]
    for f in result.features:  # names that fit a line are never broken
        if len(f.name) <= 24:
            assert f"│ {f.name} " in "\n".join(lines)
    header = header_of(lines)
    assert "score" in header and "status" in header  # never left out
    if "p-value" not in header:  # the histogram goes first, then the p-value
        assert "histogram" not in header
    if width >= 200:
        assert "histogram" in header


def test_table_leaves_out_the_histogram_then_the_p_value_and_says_so() -> None:
    result = check("sample_data/live_drift.csv", "sample_data/ref.csv")
    wide = lines_at(render_table(result), 200)
    assert "histogram" in header_of(wide) and "p-value" in header_of(wide)
    assert "left out" not in "\n".join(wide)
    at_100 = lines_at(render_table(result), 100)
    header = header_of(at_100)
    assert "histogram" not in header and "p-value" in header and "kind" in header
    assert "left out to fit 100 columns: histogram" in at_100
    at_80 = lines_at(render_table(result), 80)
    header = header_of(at_80)  # kind goes before the p-value (issue 20); the status
    # column names the data-quality rules that failed (issue 19): the p-value goes too.
    assert "p-value" not in header and "kind" not in header and "missing" in header
    assert "left out to fit 80 columns: histogram, kind, p-value" in at_80
    assert any(line.startswith("DRIFT: 3 of 5 features drifted") for line in at_80)


def test_a_name_too_long_for_the_width_wraps_in_its_column(tmp_path: Path) -> None:
    result = long_named_result(tmp_path)
    lines = lines_at(render_table(result), 60)
    assert VERY_LONG not in "\n".join(lines)  # cannot fit on one line at 60 columns...
    assert VERY_LONG in names_in_first_column(lines)  # ...so it wraps, whole


def test_no_color_is_honoured(sample: Path) -> None:
    args = [sys.executable, "-m", "driftcli", "check", str(sample / "live_drift.parquet"),
            "--ref", str(sample / "ref.parquet")]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    colored = subprocess.run(args, capture_output=True, text=True, env={**env, "FORCE_COLOR": "1"})
    assert "\x1b[31m" in colored.stdout or "\x1b[1;31m" in colored.stdout  # red drift
    plain = subprocess.run(
        args, capture_output=True, text=True, env={**env, "FORCE_COLOR": "1", "NO_COLOR": "1"}
    )
    assert plain.returncode == 1
    assert "drift" in plain.stdout
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]", plain.stdout)  # no foreground colour


@pytest.mark.parametrize(("terminal", "widest"), [(80, 80), (100, 100), (None, 140)])
def test_piped_output_fits_the_terminal_it_ends_on(
    sample: Path, terminal: int | None, widest: int
) -> None:
    """`driftcli check ... | less` from an 80-column terminal: stdout is a pipe, but
    stderr is that terminal, so the table is laid out for it. A CI log has no
    terminal at all, and gets the full table (140 columns at most)."""
    import fcntl
    import pty
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    args = [sys.executable, "-m", "driftcli", "check", str(sample / "live_drift.parquet"),
            "--ref", str(sample / "ref.parquet")]  # fmt: skip
    if terminal is None:
        done = subprocess.run(
            args, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
        )
    else:
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, terminal, 0, 0))
        try:
            done = subprocess.run(args, stdout=subprocess.PIPE, stderr=follower,
                                  stdin=subprocess.DEVNULL, text=True, env=env)  # fmt: skip
        finally:
            os.close(follower)
            os.close(leader)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert max(map(len, lines)) <= widest
    assert any("income" in line for line in lines)
    if terminal is None:
        assert max(map(len, lines)) > 100  # the histograms are there


@pytest.mark.parametrize("width", [60, 80, 100])
def test_the_reference_table_wraps_a_long_name_and_keeps_its_numbers(
    tmp_path: Path, width: int
) -> None:
    from driftcli.api import build_reference
    from driftcli.output.table.store import render_reference

    data = tmp_path / "ref.csv"
    data.write_text(f"{VERY_LONG},b\n" + "".join(f"{i % 17},{i % 3}\n" for i in range(300)))
    snapshot = build_reference([str(data)])
    lines = lines_at(render_reference(snapshot, "ref.parquet"), width)
    assert lines[0] == "reference saved to ref.parquet"  # no padding after it
    assert max(map(len, lines)) <= width
    assert "".join(names_in_first_column(lines)) == VERY_LONG + "b"  # wrapped, whole
    assert "…" not in "\n".join(lines)
