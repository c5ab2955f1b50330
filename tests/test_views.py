"""Views that fit (issue 20): --sort and --only-failing, the table at 80 columns and wide,
and the HTML reports on a phone (400 px) and a laptop (1280 px) in headless Chromium."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from driftcli.api import check
from driftcli.output.html.check import render_html
from driftcli.output.html.timeline import render_timeline_html
from driftcli.output.table.check import render_table
from tests.conftest import Invoke
from tests.test_output_html import browser
from tests.test_output_html_timeline import story_timeline

LIVE, REF = "sample_data/live_drift.parquet", "sample_data/ref.parquet"
INPUT_ORDER = ["age", "income", "score", "country", "device"]


def table_names(text: str) -> list[str]:
    return [m for m in re.findall(r"^│ (\w+) ", text, re.M) if m in INPUT_ORDER]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["income", "device", "score", "age", "country"]),  # drifted, then by score
        ("score", ["income", "device", "score", "age", "country"]),
        ("name", sorted(INPUT_ORDER)),
        ("input", INPUT_ORDER),
    ],
)
def test_sort_orders_the_table_markdown_and_html(
    invoke: Invoke, tmp_path: Path, sort: str | None, expected: list[str]
) -> None:
    flags = ["--sort", sort] if sort else []
    md, page = tmp_path / "r.md", tmp_path / "r.html"
    shown = invoke("check", LIVE, "--ref", REF, *flags, "--markdown", md, "--html", page)
    assert table_names(shown.stdout) == expected
    assert re.findall(r"^\| (\w+)", md.read_text(), re.M)[1:] == expected
    assert re.findall(r'<td class="name"><a href="#f\d+">(\w+)</a>', page.read_text()) == expected


def test_the_default_puts_drift_before_a_higher_scored_uncertain_feature() -> None:
    from dataclasses import replace

    from driftcli.results import Status
    from driftcli.view import View

    result = check(LIVE, REF)
    age = next(f for f in result.features if f.name == "age")
    loud = replace(age, status=Status.UNCERTAIN, score=9.0)
    features = [loud if f is age else f for f in result.features]
    assert [f.name for f in View().arrange(features)[0]][:4] == [
        "income", "device", "score", "age",
    ]  # fmt: skip


def test_only_failing_shows_the_failing_and_counts_the_rest(invoke: Invoke, tmp_path: Path) -> None:
    md, page = tmp_path / "r.md", tmp_path / "r.html"
    shown = invoke("check", LIVE, "--ref", REF, "--only-failing", "--markdown", md, "--html", page)
    assert shown.exit_code == 1
    assert table_names(shown.stdout) == ["income", "device", "score"]
    assert "2 other features passed (--only-failing)" in shown.stdout
    markdown = md.read_text()
    assert re.findall(r"^\| (\w+)", markdown, re.M)[1:] == ["income", "device", "score"]
    assert "2 other features passed (--only-failing)." in markdown
    assert "2 other features passed (--only-failing)." in page.read_text()
    # JSON is for machines: always every feature.
    doc = invoke("check", LIVE, "--ref", REF, "--only-failing", "--format", "json").stdout
    assert len(json.loads(doc)["features"]) == 5


def lines_at(width: int) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(render_table(check(LIVE, REF)))
    return console.export_text().splitlines()


def test_a_wide_table_gives_each_feature_one_line_and_the_rows_go_in_the_title() -> None:
    lines = lines_at(200)
    assert lines[0].endswith("(500 rows) vs reference sample_data/ref.parquet (2,000 rows)")
    header = next(line for line in lines if line.startswith("┃"))
    assert "rows" not in header.replace("(rows", "")  # every feature has the same counts
    body = [line for line in lines if line.startswith("│")]
    moved = [line for line in body if "↳" in line]
    medians = [line for line in body if line.startswith("│   median ")]
    # One line each, plus what moved (and the median move of the two numeric ones).
    assert len(moved) == 3 and len(medians) == 2
    assert len(body) == 5 + len(moved) + len(medians)
    assert not any(line.startswith("├") for line in lines)
    assert all(len(line) <= 200 for line in lines)


def test_at_80_columns_kind_goes_before_the_p_value() -> None:
    lines = lines_at(80)
    header = "\n".join(line for line in lines if line.startswith("┃"))
    assert "kind" not in header and "status" in header
    # The sample's status column names failed data-quality rules, so the p-value goes too,
    # but after the kind.
    assert any(line.startswith("left out to fit 80 columns: histogram, kind") for line in lines)
    assert all(len(line) <= 80 for line in lines)


# --- the HTML reports in a browser, at 400 and 1280 px ---------------------------------

PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="report.html" style="width:WIDTHpx;height:3000px;border:0"></iframe>
<script>
f.onload = () => {
  const doc = f.contentDocument, win = f.contentWindow;
  const text = [...doc.querySelectorAll('svg text')].filter(e => e.getBBox().width > 0)
    .map(e => { const m = e.getScreenCTM();
      return Math.hypot(m.a, m.b) * parseFloat(win.getComputedStyle(e).fontSize); });
  const dates = [...doc.querySelectorAll('.when')].map(e => e.getClientRects().length);
  document.body.setAttribute('data-probe', JSON.stringify({
    page: doc.documentElement.scrollWidth, viewport: win.innerWidth,
    smallest: Math.min(...text), texts: text.length, dates }));
};
</script></body></html>"""


def measure(page: str, width: int, tmp_path: Path) -> dict[str, object]:
    """Load the page in an iframe `width` px wide (Chromium's window has a minimum width)
    and measure it from the outer page (the report itself runs no script)."""
    where = tmp_path / f"w{width}"
    where.mkdir()
    (where / "report.html").write_text(page, encoding="utf-8")
    (where / "probe.html").write_text(PROBE.replace("WIDTH", str(width)))
    done = subprocess.run(
        [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--allow-file-access-from-files", f"--user-data-dir={where / 'profile'}",
         "--window-size=1400,1000", "--dump-dom", (where / "probe.html").resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    probe: dict[str, object] = json.loads(found.group(1).replace("&quot;", '"'))
    return probe


@pytest.mark.parametrize("width", [400, 1280])
@pytest.mark.parametrize("report", ["check", "chunked"])
def test_the_html_fits_the_screen_with_readable_axes(
    width: int, report: str, tmp_path: Path, story: dict[str, Path]
) -> None:
    if report == "check":
        page = render_html(check(LIVE, REF))
    else:
        page = render_timeline_html(story_timeline(story))
    probe = measure(page, width, tmp_path)
    assert probe["viewport"] == width
    assert probe["page"] <= width  # nothing scrolls sideways but inside its card
    assert probe["texts"] > 20 and probe["smallest"] >= 8.5  # type: ignore[operator]
    if report == "chunked":
        assert probe["dates"] and set(probe["dates"]) == {1}  # type: ignore[arg-type]


def test_the_chunked_report_puts_drift_first_with_a_heatmap_schema_and_first_drift(
    story: dict[str, Path],
) -> None:
    timeline = story_timeline(story)
    page = render_timeline_html(timeline)
    heat = page[page.index("<h2>Features by chunk</h2>") : page.index("<h2>Chunks</h2>")]
    rows = re.findall(r'<tr><td class="name"><a href="#f\d+">(\w+)</a>', heat)
    assert rows[2] == "score" and set(rows[:2]) == {"amount", "plan"}  # drifting ones first
    amount = heat.split("</tr>")[rows.index("amount")]
    tones = re.findall(r'<td class="cell (\w+)"', amount)
    assert tones == ["ok"] * 6 + ["bad"] * 4
    assert "<h2>Schema</h2>" in page
    sections = re.findall(
        r'<section class="card feature" id="f\d+"><h2><span class="name">(\w+)', page
    )
    assert sections == rows
    amount_section = page[page.index('<span class="name">amount</span>') :]
    amount_section = amount_section[: amount_section.index("</section>")]
    assert "First drifted chunk, " in amount_section and "2024-03-07" in amount_section
    assert amount_section.count('<svg class="chart"') == 1  # the bar chart, vs the reference
    assert "Largest move: " in amount_section
    score = page[page.index('<span class="name">score</span>') :]
    assert "First drifted chunk" not in score[: score.index("</section>")]


def test_the_chunked_table_and_markdown_say_what_moved_in_the_deciding_chunk(
    story: dict[str, Path],
) -> None:
    from driftcli.output.markdown import render_timeline_markdown
    from driftcli.output.table.timeline import render_timeline

    timeline = story_timeline(story)
    latest = {f.name: f for f in timeline.latest.check.features}
    plan = f"plan in 2024-03-10: {latest['plan'].moves[0].bucket} "
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(render_timeline(timeline))
    table = console.export_text()
    amount = f"amount in 2024-03-10: {latest['amount'].moves[0].bucket}:"
    assert f"↳ {plan}" in table and f"↳ {amount}" in table
    assert "score in" not in table  # never drifted
    assert f"- what moved: {plan}" in render_timeline_markdown(timeline)
