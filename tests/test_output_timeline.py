"""A chunked check as text (output/timeline.py, texts.py): the matrix and its cells."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from driftcli.api import check_timeline
from driftcli.output.table.timeline import cell, render_timeline
from driftcli.output.texts import compact_count, compact_score
from driftcli.results import Timeline
from driftcli.settings import ByRows, ByTime, Chunking, parse_every


def story_timeline(story: dict[str, Path], chunking: Chunking) -> Timeline:
    return check_timeline(str(story["parquet"]), str(story["ref"]), chunking, store=Path("-"))


def text(timeline: Timeline, width: int) -> str:
    out = Console(file=io.StringIO(), width=width, no_color=True)
    out.print(render_timeline(timeline))
    return out.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def header(shown: str) -> list[list[str]]:
    """The matrix's two header lines, split into words."""
    lines = shown.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("feature"))
    return [lines[at - 1].split(), lines[at].split()]


@pytest.mark.parametrize(
    ("score", "shown"),
    [(0.0, ".000"), (0.0412, ".041"), (0.9994, ".999"), (0.9996, "1.00"), (1.234, "1.23"),
     (12.34, "12.3"), (123.4, " 123"), (12345.0, ">1e4")],
)  # fmt: skip
def test_scores_take_four_characters(score: float, shown: str) -> None:
    assert compact_score(score) == shown


def test_counts_are_compact_and_thousands_separated() -> None:
    assert [compact_count(n) for n in (7, 9_999, 12_345, 999_499, 1_234_567, 123_456_789)] == [
        "7", "9,999", "12k", "999k", "1.2M", "123M",
    ]  # fmt: skip


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_the_matrix_fits_the_width_with_the_latest_chunks(
    story: dict[str, Path], width: int
) -> None:
    timeline = story_timeline(story, ByTime("ts", parse_every("6h")))
    shown = text(timeline, width)
    assert max(len(line) for line in shown.splitlines()) <= width
    assert header(shown)[1][-2] == "18:00"  # the last chunk, 2024-03-10 18:00, is there
    # The first drifts are found among all chunks, shown or not.
    assert "03-07 00:00" in shown and "03-09 00:00" in shown


def test_hour_chunks_show_the_date_where_it_changes(story: dict[str, Path]) -> None:
    timeline = story_timeline(story, ByTime("ts", parse_every("6h")))
    top, bottom = header(text(timeline, 200))
    assert top[-6:] == ["03-06", "03-07", "03-08", "03-09", "03-10", "drifting"]
    assert bottom[-5:] == ["00:00", "06:00", "12:00", "18:00", "since"]


def test_row_chunks_are_numbered_with_their_first_row(story: dict[str, Path]) -> None:
    timeline = story_timeline(story, ByRows(1500))
    shown = text(timeline, 120)
    assert "\n4 chunks of 1,500 rows\n" in shown
    assert header(shown) == [
        ["#1", "#2", "#3", "#4", "drifting"],
        ["feature", "0", "1,500", "3,000", "4,500", "since"],  # thousands separated
    ]


def test_each_status_has_its_mark(story: dict[str, Path]) -> None:
    from dataclasses import replace

    from driftcli.results import Status

    f = story_timeline(story, ByRows(6000)).chunks[0].check.features[0]
    assert cell(replace(f, status=Status.OK, change=0.02)).plain == ".020 "
    assert cell(replace(f, status=Status.DRIFT, change=0.5)).plain == ".500!"
    assert cell(replace(f, status=Status.UNCERTAIN, change=0.2)).plain == ".200?"
    assert cell(replace(f, status=Status.INSUFFICIENT, change=0.2)).plain == "   - "
    assert cell(replace(f, status=Status.MISSING, score=None, change=None)).plain == "miss!"
    assert cell(replace(f, status=Status.TYPE_CHANGED, change=9.0)).plain == "9.00!"


def test_an_empty_chunk_is_marked_and_named(story: dict[str, Path], tmp_path: Path) -> None:
    import json

    import pyarrow as pa

    from driftcli.output.json.check import render_timeline_json
    from driftcli.output.lines import timeline_warnings
    from driftcli.output.markdown import render_timeline_markdown
    from tests.conftest import STORY_ROWS_PER_DAY, story_log, write_table

    log, day = story_log(), STORY_ROWS_PER_DAY
    gap = write_table(pa.concat_tables([log.slice(0, 4 * day), log.slice(5 * day, 5 * day)]),
                      tmp_path / "gap.parquet")  # fmt: skip
    timeline = check_timeline(str(gap), str(story["ref"]), ByTime("ts", parse_every("1d")),
                              store=Path("-"))  # fmt: skip
    shown = text(timeline, 200)
    assert header(shown)[1][1:11] == [f"03-{d:02d}" for d in range(1, 11)]
    amount = next(line for line in shown.splitlines() if line.startswith("amount")).split()
    assert amount[5] == "none"
    verdicts = next(line for line in shown.splitlines() if line.startswith("verdict")).split()
    assert verdicts[5] == "gap"
    said = f"{gap}: no rows in 1 chunk: 2024-03-05"
    assert f"warning: {said}" in timeline_warnings(timeline)
    markdown = render_timeline_markdown(timeline)  # Markdown escapes the path's underscores
    assert f"- {str(gap).replace('_', chr(92) + '_')}: no rows in 1 chunk: 2024-03-05" in markdown
    document = json.loads(render_timeline_json(timeline))
    assert document["timeline"]["empty_chunks"] == 1
    assert (document["chunks"][4]["rows"], document["chunks"][4]["drift"]) == (0, None)


def test_hour_chunks_over_new_year_show_the_year(story: dict[str, Path], tmp_path: Path) -> None:
    import pyarrow as pa

    from tests.conftest import story_log, write_table

    seconds = [1_704_060_000 + 3600 * i for i in range(6)]  # 2023-12-31 22:00 on
    log = story_log().slice(0, 6)
    log = log.set_column(0, "ts", pa.array([s * 10**6 for s in seconds], pa.timestamp("us", "UTC")))
    path = write_table(log, tmp_path / "years.parquet")
    timeline = check_timeline(str(path), str(story["ref"]), ByTime("ts", parse_every("1h")),
                              store=Path("-"))  # fmt: skip
    lines = text(timeline, 200).splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("feature"))
    assert lines[at - 2].split() == ["2023", "2024"]
    assert lines[at - 1].split() == ["12-31", "01-01", "drifting"]
    from driftcli.output.texts import chunk_label

    assert chunk_label(timeline, timeline.chunks[0]) == "2023-12-31 22:00"
    # Within one year, no year: the 6h story's labels stay short.
    six = story_timeline(story, ByTime("ts", parse_every("6h")))
    assert chunk_label(six, six.chunks[0]) == "03-01 00:00"


def test_a_long_feature_name_folds_to_leave_room_for_a_chunk(
    story: dict[str, Path], tmp_path: Path
) -> None:
    from tests.conftest import story_log, story_reference, write_table

    long = "a_very_long_feature_name_that_goes_on_and_on_forever_x"
    log = write_table(story_log().rename_columns(["ts", long, "plan", "score"]),
                      tmp_path / "long.parquet")  # fmt: skip
    ref = write_table(story_reference().rename_columns([long, "plan", "score"]),
                      tmp_path / "ref.parquet")  # fmt: skip
    timeline = check_timeline(str(log), str(ref), ByTime("ts", parse_every("1d")),
                              store=Path("-"))  # fmt: skip
    shown = text(timeline, 40)
    assert max(len(line) for line in shown.splitlines()) <= 40
    assert "showing the latest 1 of 10 chunks" in " ".join(shown.split())
    assert header(shown)[1][1] == "03-10"  # the chunk is there
    lines = shown.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("─")]
    body = [line.split()[0] for line in lines[rules[0] + 1 : rules[1]]]
    assert "".join(body[:-2]) == long and body[-2:] == ["plan", "score"]  # whole, folded
    narrow = text(timeline, 20)
    assert "too narrow to show any of the 10 chunks" in " ".join(narrow.split())
