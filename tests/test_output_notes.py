"""The notes under a check (output/notes.py) are worded once and every format says them:
a changed type, data quality, values that could not be read, columns not scored."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

from rich.console import Console

from driftcli.api import check
from driftcli.output.html.check import render_html
from driftcli.output.markdown import render_markdown
from driftcli.output.notes import check_notes
from driftcli.output.table.check import render_table
from driftcli.results import CheckResult


def noted_check(tmp_path: Path) -> CheckResult:
    ref, live = tmp_path / "ref.csv", tmp_path / "live.csv"
    rows = [f"{20 + i % 50},{'abc'[i % 3]},{i % 7 / 7:.3f},,id{i}" for i in range(400)]
    ref.write_text("age,city,score,empty,key\n" + "\n".join(rows) + "\n")
    rows = [f"{'' if i % 3 else 30 + i % 40},{'abd'[i % 3]},word,,id{i}" for i in range(300)]
    live.write_text(
        "age,city,score,empty,key,extra\n"
        + "\n".join(f"{r},{i}" for i, r in enumerate(rows))
        + "\n"
    )
    return check(str(live), str(ref))


def test_each_note_is_said_by_the_table_markdown_and_html(tmp_path: Path) -> None:
    result = noted_check(tmp_path)
    said = check_notes(result)
    score = next(f for f in said.features if f.name == "score")
    assert score.type_changed == "the live values are not of the reference's type"
    assert [f.name for f in said.features if f.quality] == ["age", "city", "score"]
    assert said.new_columns == ["extra"] and [n for n, _ in said.skipped] == ["empty", "key"]
    console = Console(file=io.StringIO(), width=400, no_color=True)
    console.print(render_table(result))
    table = console.file.getvalue()  # type: ignore[attr-defined]
    # Markdown escapes every character it would act on: read it back without them.
    markdown = re.sub(r"\\(.)", r"\1", render_markdown(result))
    page = html.unescape(render_html(result))
    for f in said.features:
        for note in f.named():
            assert note in table
        for note in [*f.quality, *f.invalid]:
            assert note in markdown and note in page
    for note in said.columns():
        assert note in table
    assert all(name in markdown for name, _ in said.skipped)
