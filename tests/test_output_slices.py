"""A sliced check's HTML page (output/html/sliced.py), read by headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from driftcli.output.html.sliced import render_sliced_html
from tests.conftest import Invoke, write_table
from tests.test_api_slices import people, sliced
from tests.test_output_html import load


def test_chromium_draws_the_slice_matrix_without_a_console_message(tmp_path: Path) -> None:
    live = people(6_000, 3, {"DE": 0.6})
    names = live.column("country").to_pylist()
    # A value with markup in it: escaped, never run.
    names = ["<script>x</script>" if n == "ES" else n for n in names]
    live = live.set_column(0, "country", pa.array(names))
    result = sliced(
        write_table(live, tmp_path / "live.parquet"),
        write_table(people(12_000, 1), tmp_path / "ref.parquet"),
    )
    page = tmp_path / "report.html"
    page.write_text(render_sliced_html(result), encoding="utf-8")
    dom, console = load(page, tmp_path, "--dump-dom")
    assert console == []
    assert "<h1>DRIFT</h1>" in dom and 'id="slices"' in dom
    heads = re.findall(r'<th class="num name">([^<]*)</th>', dom)
    assert heads == ["DE", "FR", "US", "IT"]  # ES is absent from live now
    assert "&lt;script&gt;x&lt;/script&gt;" in dom and "<script" not in dom
    assert "absent from live" in dom and "new in live" in dom
    assert dom.count('<svg class="chart"') == len(result.whole.features)


def test_check_writes_the_sliced_html_report(invoke: Invoke, tmp_path: Path) -> None:
    ref = write_table(people(8_000, 1), tmp_path / "ref.parquet")
    live = write_table(people(4_000, 2), tmp_path / "live.csv")
    page = tmp_path / "out.html"
    done = invoke("check", live, "--ref", ref, "--slice", "country", "--html", page)
    assert done.exit_code == 0, done.output
    assert 'id="slices"' in page.read_text(encoding="utf-8")
