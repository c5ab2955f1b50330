"""A chunked check's HTML page: a line chart per feature over the chunks, threshold drawn."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from driftcli.api import check_timeline_of, load_reference
from driftcli.output.html.timeline import render_timeline_html
from driftcli.results import Timeline
from driftcli.settings import ByRows, ByTime, parse_every
from tests.conftest import Invoke
from tests.test_output_html import load


def story_timeline(story: dict[str, Path], by_time: bool = True) -> Timeline:
    reference = load_reference(str(story["ref"]))
    chunking = ByTime("ts", parse_every("1d")) if by_time else ByRows(600)
    return check_timeline_of(str(story["parquet"]), reference, chunking)


def test_each_feature_gets_a_line_over_the_chunks_and_its_threshold(
    story: dict[str, Path],
) -> None:
    timeline = story_timeline(story)
    page = render_timeline_html(timeline)
    charts = page.split('<svg class="chart timeline"')[1:]
    assert len(charts) == len(timeline.feature_names) == 3
    for chart in charts:
        assert chart.count("<circle") == len(timeline.chunks) == 10
        assert '<line class="limit"' in chart and "threshold 0.1" in chart
        assert '<polyline class="series"' in chart
    assert "drifting since 2024-03-07" in page and "drifting since 2024-03-09" in page
    assert "no drift in any chunk" in page  # score
    index = timeline.feature_names.index("amount")
    amount = page[page.index(f'id="f{index + 1}"') :].split('<svg class="chart timeline"')[1]
    tones = re.findall(r'<circle class="point (\w+)"', amount)
    assert tones == ["ok"] * 6 + ["bad"] * 4


def test_scores_above_one_are_drawn_on_their_own_scale(story: dict[str, Path]) -> None:
    """A new category scores about 3: the axis grows to it instead of clipping at 1."""
    page = render_timeline_html(story_timeline(story))
    plan = page.split('aria-label="plan: score per chunk')[1].split("</svg>")[0]
    axis = [float(v) for v in re.findall(r'text-anchor="end">([0-9.]+)</text>', plan)]
    assert max(axis) >= 3


def test_row_chunks_are_labelled_by_their_place(story: dict[str, Path]) -> None:
    page = render_timeline_html(story_timeline(story, by_time=False))
    assert ">#1</text>" in page and ">#10</text>" in page


def test_check_by_chunks_writes_the_html_report(
    invoke: Invoke, story: dict[str, Path], tmp_path: Path
) -> None:
    report = tmp_path / "timeline.html"
    args = ("check", story["parquet"], "--ref", story["ref"], "--by", "ts", "--every", "1d")
    result = invoke(*args, "--html", report)
    assert result.exit_code == 1, result.stderr
    page = report.read_text(encoding="utf-8")
    assert page.count('<svg class="chart timeline"') == 3
    shown = invoke(*args, "--format", "html")
    assert shown.stdout.rstrip("\n") == page.rstrip("\n")


def test_chromium_draws_the_timeline_without_a_console_message(
    story: dict[str, Path], tmp_path: Path
) -> None:
    page = tmp_path / "timeline.html"
    page.write_text(render_timeline_html(story_timeline(story)), encoding="utf-8")
    dom, console = load(page, tmp_path, "--dump-dom")
    assert console == []
    assert dom.count('<svg class="chart timeline"') == 3
    assert dom.count('<circle class="point') == 30


def test_many_chunks_get_a_few_evenly_spaced_labels(story: dict[str, Path]) -> None:
    from driftcli.output.html.charts import MAX_TICKS, tick_indices

    reference = load_reference(str(story["ref"]))
    hourly = check_timeline_of(str(story["parquet"]), reference, ByTime("ts", parse_every("1h")))
    chart = render_timeline_html(hourly).split('<svg class="chart timeline"')[1]
    labels = re.findall(r'transform="rotate\(-40[^"]*"\>([^<]+)</text>', chart)
    assert len(hourly.chunks) == 240 and 12 <= len(labels) <= MAX_TICKS
    assert labels[0] == "03-01 00:00" and labels[-1] == "03-10 23:00"
    assert chart.count("<circle") == 240  # every chunk still has its point
    for count in (1, 2, 16, 17, 24, 240, 10_000):
        ticks = tick_indices(count)
        assert ticks[0] == 0 and ticks[-1] == count - 1 and len(ticks) <= MAX_TICKS
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        assert not gaps or max(gaps) <= 2 * min(gaps)  # evenly spaced, the last gap too
