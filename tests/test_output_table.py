"""Renderers: the table and JSON say what the result holds, nothing more."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from driftcli.api import check
from driftcli.output.json_report import render_json
from driftcli.output.table import render_table, sparkline
from driftcli.output.texts import format_p_value
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
        " driftcli.inputs, driftcli.output.json_report, driftcli.output.lines;"
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
