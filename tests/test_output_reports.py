"""CI reports: Markdown, JUnit XML, report files, the job summary, dataset rules."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from driftcli.view import View
from tests.conftest import Invoke

LIVE, REF = "sample_data/live_drift.parquet", "sample_data/ref.parquet"


def test_junit_has_the_shape_ci_systems_read(invoke: Invoke) -> None:
    result = invoke("check", LIVE, "--ref", REF, "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout.split("\n", 1)[1])
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    names = ["age", "income", "score", "country", "device"]
    # A case per feature for drift, then one for its data-quality rules.
    assert [c.get("name") for c in cases] == [
        case for name in names for case in (name, f"{name} [data quality]")
    ]
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == [
        "income", "income [data quality]", "score", "score [data quality]", "device",
        "device [data quality]",
    ]  # fmt: skip
    assert suite.get("tests") == "10" and suite.get("failures") == "6"
    assert suite.get("errors") == "0"
    failure = cases[2].find("failure")
    assert failure is not None and "income: drift (kl change" in (failure.get("message") or "")
    quality = cases[5].find("failure")
    assert quality is not None and quality.get("message") == "score: data quality: missing"
    assert "missing: fail: missing values rose from 0.9% to 25.4%" in (quality.text or "")
    assert all(c.get("classname", "").startswith("driftcli.") for c in cases)


def test_markdown_is_a_table(invoke: Invoke) -> None:
    text = invoke("check", LIVE, "--ref", REF, "--format", "markdown").stdout
    lines = text.strip().splitlines()
    assert lines[0] == "### driftcli: DRIFT (3 of 5 features drifted, 3 failed a data-quality rule)"
    header = next(i for i, line in enumerate(lines) if line.startswith("| feature |"))
    assert set(lines[header + 1].replace("|", "").replace(":", "")) == {"-"}
    rows = lines[header + 2 : header + 7]
    assert all(row.startswith("| ") and row.endswith(" |") for row in rows)
    assert all(row.count("|") == lines[header].count("|") for row in rows)
    # What moved (issue 20): the top bucket within the reference's range (issue 19).
    assert "| income<br><sub>↳ \\[120,000, 300,400): 5.0% -\\> 37.0%" in text
    assert " | numeric | **drift** |" in text


def test_markdown_draws_a_histogram_per_feature_as_github_renders_it() -> None:
    from markdown_it import MarkdownIt

    from driftcli.api import check
    from driftcli.output.markdown import render_markdown

    result = check(LIVE, REF)
    # GitHub-flavoured Markdown as markdown-it-py reads it (the parser rich depends on).
    page = MarkdownIt("gfm-like").disable("linkify").render(render_markdown(result))
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]
    assert len(rows) == len(result.features)
    for row, f in zip(rows, View().arrange(result.features)[0], strict=True):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        assert len(cells) == 11 and cells[0].split("<br>")[0] == f.name
        ref, live = re.fullmatch(r"<code>(.*)</code><br><code>(.*)</code>", cells[-1]).groups()
        assert len(ref) == len(live) == f.value_buckets  # one character per bucket, kept whole
        assert set(ref + live) <= set("\u00a0▁▂▃▄▅▆▇█")
    device = next(i for i, f in enumerate(result.features) if f.name == "device")
    ref_line = re.findall(r"<code>(.*?)</code>", rows[device])[0]
    assert ref_line.endswith("\u00a0")  # the new category: none in the reference, not collapsed
    assert "Histogram: the share of rows per bucket, reference above live" in page


def test_markdown_lists_schema_changes_and_unscored_columns() -> None:
    from driftcli.api import check
    from driftcli.output.markdown import render_markdown
    from driftcli.results import Status

    result = check(LIVE, REF)
    first, *rest = result.features
    changed = replace(
        result,
        features=[replace(first, status=Status.MISSING), *rest],
        new_columns=["session|id"],
        skipped={"user_id": "every value is distinct"},
    )
    text = render_markdown(changed)
    assert "| age | numeric | **missing** |" in text and "(not in live)" in text
    assert "New in live, not scored: `session|id`" in text  # a paragraph: no escape in code
    assert "Not scored: `user_id` (every value is distinct)" in text


def test_several_reports_at_once(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = invoke(
        "check", LIVE, "--ref", REF,
        "--json", tmp_path / "r.json", "--junit", tmp_path / "r.xml",
        "--markdown", tmp_path / "r.md", "--summary",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "DRIFT" in result.stdout  # the table still goes to the terminal
    assert json.loads((tmp_path / "r.json").read_text())["drift"] is True
    assert ET.parse(tmp_path / "r.xml").getroot().tag == "testsuites"
    assert (tmp_path / "r.md").read_text().startswith("### driftcli: DRIFT")
    assert summary.read_text().startswith("### driftcli: DRIFT")
    quiet = invoke("check", LIVE, "--ref", REF, "-f", "json", "--output", tmp_path / "out.json")
    assert quiet.stdout == "" and json.loads((tmp_path / "out.json").read_text())["drift"]


def test_max_drift_share_and_fail_on_decide_the_exit_code(invoke: Invoke) -> None:
    lenient = invoke("check", LIVE, "--ref", REF, "--max-drift-share", "0.7", "-f", "json")
    assert lenient.exit_code == 0
    assert json.loads(lenient.stdout)["decision"]["rule"].startswith(
        "3 of 5 features drifted (60%)"
    )
    strict = invoke("check", LIVE, "--ref", REF, "--max-drift-share", "0.5")
    assert strict.exit_code == 1
    assert "above --max-drift-share 50%" in strict.stdout
    watched = invoke("check", LIVE, "--ref", REF, "--max-drift-share", "0.9", "--fail-on", "device")
    assert watched.exit_code == 1
    assert "--fail-on feature drifted: device" in watched.stdout
    calm = invoke("check", LIVE, "--ref", REF, "--max-drift-share", "0.9", "--fail-on", "age")
    assert calm.exit_code == 0


def test_unknown_fail_on_name_and_bad_alpha_are_usage_errors(invoke: Invoke) -> None:
    result = invoke("check", LIVE, "--ref", REF, "--fail-on", "incom")
    assert result.exit_code == 2 and "--fail-on: 'incom' is not a column" in result.stderr
    result = invoke("check", LIVE, "--ref", REF, "--alpha", "2")
    assert result.exit_code == 2 and "--alpha must be between 0 and 1" in result.stderr
    result = invoke("check", LIVE, "--ref", REF, "--metric", "chi2")
    assert result.exit_code == 2 and "unknown metric 'chi2'" in result.stderr


def test_sample_metrics_work_on_a_stored_window_and_snapshot(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTCLI_STORE", str(tmp_path / "store"))
    root = Path(__file__).parent.parent
    invoke("reference", root / REF)
    invoke("ingest", root / LIVE)
    doc = json.loads(invoke("check", "--metric", "ks", "-f", "json").stdout)
    direct = json.loads(
        invoke("check", root / LIVE, "--ref", root / REF, "--metric", "ks", "-f", "json").stdout
    )
    by_name = {f["name"]: f for f in doc["features"]}
    assert by_name["income"]["metric"] == "ks" and by_name["income"]["status"] == "drift"
    assert by_name["device"]["metric"] == "kl" and by_name["device"]["metric_fallback"]
    for a, b in zip(doc["features"], direct["features"], strict=True):
        assert a["score"] == pytest.approx(b["score"], abs=1e-12)
    table = invoke("check", "--metric", "wasserstein").stdout
    assert "categorical, scored with kl (wasserstein needs numbers): country, device" in table


def test_sample_metric_without_a_reference_sample_is_explained(
    invoke: Invoke, tmp_path: Path
) -> None:
    snap = tmp_path / "snap.parquet"
    invoke("reference", REF, "-o", snap, "--sample-size", "0")
    result = invoke("check", LIVE, "--ref", snap, "--metric", "ks")
    assert result.exit_code == 2
    assert "needs raw reference values" in result.stderr and "--sample-size" in result.stderr


@pytest.mark.parametrize("name", ["ref.parquet", "ref.csv", "ref.jsonl"])
def test_readers_report_progress_to_a_listener(name: str) -> None:
    from driftcli.inputs.progress import listening
    from tests.conftest import read_all_batches

    seen: list[tuple[str, int, int, int | None]] = []
    with listening(lambda *args: seen.append(args)):
        read_all_batches(f"sample_data/{name}")
    assert seen
    source, rows, done, total = seen[-1]
    assert source.endswith(name) and rows == 2000
    assert total is not None and done == total  # a file's progress ends at its size


def test_progress_bar_draws_after_its_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from driftcli.output.progress import ProgressBar

    def drawn(delay: float) -> str:
        monkeypatch.setattr(ProgressBar, "DELAY", delay)
        screen = io.StringIO()
        with ProgressBar(Console(file=screen, force_terminal=True, width=100)) as bar:
            bar.update("live.csv", 500, 50, 100)
            bar.update("live.csv", 1000, 100, 100)
        return screen.getvalue()

    assert "live.csv" in drawn(0.0)
    assert drawn(3600.0) == ""  # a short read shows nothing


HOSTILE_NAMES = [
    "<script>alert(1)</script>", "`tick`", "under_score*star*", "a|b", "x\\y", "[l](u)"
]  # fmt: skip


def test_markdown_shows_names_as_they_are(tmp_path: Path) -> None:
    """Names are data: no HTML, emphasis, link or code span may come out of one,
    in a table cell or in the unscored-columns line, and a backslash stays single."""
    from markdown_it import MarkdownIt

    from driftcli.api import check
    from driftcli.output.markdown import render_markdown

    row = {name: i for i, name in enumerate(HOSTILE_NAMES)}
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(json.dumps(row) + "\n" for _ in range(60)))
    live = tmp_path / "live.jsonl"
    live.write_text("".join(json.dumps({**row, "new`*col": 1}) + "\n" for _ in range(60)))
    page = (
        MarkdownIt("gfm-like")
        .disable("linkify")
        .render(render_markdown(check(str(live), str(ref))))
    )
    assert "<script>" not in page and "<em>" not in page and "<a " not in page
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]
    names = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)[0] for r in rows]
    import html

    assert [html.unescape(n) for n in names] == HOSTILE_NAMES
    assert "<code>new`*col</code>" in page  # inside a code span, as it is


def test_a_p_value_at_the_monte_carlo_floor_reads_as_a_bound() -> None:
    from driftcli.api import check
    from driftcli.output.json.check import render_json
    from driftcli.output.lines import alert_lines
    from driftcli.output.markdown import render_markdown
    from driftcli.output.texts import format_p_value
    from driftcli.settings import Settings

    result = check(LIVE, REF, Settings())
    income = next(f for f in result.features if f.name == "income")
    floor = replace(income, p_value=1 / 2001, p_method="monte-carlo", p_bound=True)
    tiny = replace(income, p_value=0.0, p_bound=False)
    bounded = replace(result, features=[floor])
    assert format_p_value(1 / 2001, bound=True) == "<0.0005"
    assert " p=0.0005 p_bound=0.0005 " in alert_lines(bounded, "live")[0]
    assert "<0.0005" in render_markdown(bounded)
    assert json.loads(render_json(bounded))["features"][0]["p_value_bound"] is True
    # A p-value too small to print is the table's bound, in logfmt: a number and its key.
    assert " p=1e-16 p_bound=1e-16 " in alert_lines(replace(result, features=[tiny]), "live")[0]
