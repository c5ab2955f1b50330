"""The HTML report: one self-contained page, read by a real browser (headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from driftcli.api import check
from driftcli.output.html.check import render_html
from driftcli.results import CheckResult, Status
from tests.conftest import Invoke

LIVE, REF = "sample_data/live_drift.parquet", "sample_data/ref.parquet"
HOSTILE = '<script>alert("x")</script> & co'


def every_case() -> CheckResult:
    """The sample's drift, with every status, schema changes and a name made to break HTML."""
    result = check(LIVE, REF)
    age, income, score, country, device = result.features
    features = [
        replace(age, status=Status.UNCERTAIN, reason="kl 0.3 over 40 live rows could be chance"),
        replace(income, name=HOSTILE),
        replace(score, status=Status.INSUFFICIENT, reason="2 live rows: at least 9 are needed"),
        replace(country, status=Status.TYPE_CHANGED),
        replace(device, status=Status.MISSING, score=None, p_value=None),
    ]
    return replace(
        result,
        features=features,
        new_columns=["session<id>"],
        skipped={"user_id": "every value is distinct (an identifier?)"},
    )


def test_the_page_says_the_verdict_and_the_rule_before_the_charts() -> None:
    page = render_html(check(LIVE, REF))
    first_chart = page.index('<svg class="chart"')
    assert page.index("<h1>DRIFT</h1>") < first_chart
    assert page.index("3 of 5 features drifted") < first_chart
    assert page.index("Decision: a feature drifted.") < first_chart
    assert page.index("its p-value is below 0.005") < first_chart
    assert "sample_data/live_drift.parquet" in page and "2,000 rows" in page


def test_features_come_by_score_each_with_a_chart() -> None:
    result = check(LIVE, REF)
    page = render_html(result)
    by_score = sorted(result.features, key=lambda f: -(f.score or 0))
    headings = re.findall(r'<h2><span class="name">([^<]*)</span>', page)
    assert headings == [f.name for f in by_score] == ["income", "device", "score", "age", "country"]
    assert page.count('<svg class="chart"') == 5
    income = page[page.index('<span class="name">income</span>') :]
    income = income[: income.index("</svg>")]
    assert "change 0.827 (kl &gt; 0.1; up to 0.909 at these counts)" in income
    assert "raw score 0.851, of which noise 0.024" in income
    assert "p-value &lt;1e-16 (chi-square; G, Anderson-Darling and smooth combined)" in income


def test_numeric_charts_label_the_quantile_edges_and_categorical_ones_every_bucket() -> None:
    result = check(LIVE, REF)
    page = render_html(result)
    income = next(f for f in result.features if f.name == "income")
    chart = _chart_of(page, "income")
    # 20 buckets over the reference quantiles: 19 interior edges under the boundaries.
    edges = re.findall(r'class="label"[^>]*>([^<]*)</text>', chart)
    # Amounts without an exponent, as the bucket labels write them: 2.338e+04 is 23,380.
    assert edges[0] == income.labels[0].removeprefix("< ") == "13,210"
    last = income.labels[income.value_buckets - 1].removeprefix(">= ")
    assert edges[-3:] == [last, "missing", "invalid"]
    assert not any("e+" in edge for edge in edges)
    assert len(edges) == income.value_buckets - 1 + 2
    assert chart.count('class="bar ref"') == chart.count('class="bar live"') == len(income.labels)
    device = _chart_of(page, "device")
    labels = re.findall(r'class="label"[^>]*>([^<]*)</text>', device)
    assert labels == ["mobile", "desktop", "tablet", "other", "missing", "invalid"]
    assert "other: reference 0 (0.0%), live 75 (15.0%)" in device  # the new category


def _chart_of(page: str, name: str) -> str:
    start = page.index(f'<span class="name">{name}</span>')
    return page[page.index("<svg", start) : page.index("</svg>", start)]


def test_every_status_schema_change_and_unscored_column_is_shown() -> None:
    page = render_html(every_case())
    assert (
        "<strong>3 of 5 features drifted, 3 failed a data-quality rule, 1 uncertain, "
        "1 insufficient</strong>" in page
    )
    for status in ("uncertain", "insufficient", "type changed", "missing", "drift"):
        assert f">{status}</span>" in page
    assert "kl 0.3 over 40 live rows could be chance" in page
    assert "2 live rows: at least 9 are needed" in page
    schema = page[page.index("<h2>Schema</h2>") : page.index('<section class="card feature"')]
    assert "device</strong>: in the reference, missing from live (drift)" in schema
    assert "country</strong>: the live values are not of the reference&#x27;s type" in schema
    assert "session&lt;id&gt;</strong>: new in live, not scored" in schema
    assert "user_id</strong>: not scored: every value is distinct" in schema
    # Missing from live: the reference alone is drawn.
    device = _chart_of(page, "device")
    assert 'class="bar ref"' in device and 'class="bar live"' not in device


def test_the_features_table_has_a_rows_column_only_where_rows_differ() -> None:
    result = check(LIVE, REF)
    page = render_html(result)
    overview = page[page.index("<h2>Features") : page.index("<h2>Schema</h2>")]
    assert "rows ref → live" not in overview  # every feature has the inputs' rows
    assert '0.827<br><span class="dim">of 0.851</span>' in overview
    first = result.features[0]
    live = first.live.copy()
    live[int(np.argmax(live))] -= 10
    fewer = replace(first, live=live)
    page = render_html(replace(result, features=[fewer, *result.features[1:]]))
    overview = page[page.index("<h2>Features") : page.index("<h2>Schema</h2>")]
    assert "rows ref → live" in overview and "2,000 → 490" in overview


def test_names_and_labels_are_escaped() -> None:
    page = render_html(every_case())
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page


def test_the_page_needs_nothing_from_the_network() -> None:
    page = render_html(every_case())
    assert "<script" not in page and '<link rel="stylesheet"' not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    urls = set(re.findall(r"(?:src|href)=\"([^\"]*)\"", page))
    assert all(url.startswith(("#", "data:")) for url in urls), urls
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg"}


def test_25_features_make_a_page_under_2_mb(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    names = [f"feature_with_a_rather_long_name_{i:02d}" for i in range(25)]
    for side, shift in (("ref", 0.0), ("live", 0.3)):
        rows = [",".join([*names, "city"])]
        for _ in range(3000):
            values = [f"{v:.5f}" for v in rng.normal(shift, 1, size=25)]
            rows.append(",".join([*values, f"city number {rng.integers(0, 40)}"]))
        (tmp_path / f"{side}.csv").write_text("\n".join(rows) + "\n")
    result = check(str(tmp_path / "live.csv"), str(tmp_path / "ref.csv"))
    assert len(result.features) == 26
    page = render_html(result)
    assert len(page.encode()) < 2_000_000
    assert page.count('<svg class="chart"') == 26


def test_check_writes_the_report_with_html_or_as_its_format(invoke: Invoke, tmp_path: Path) -> None:
    report = tmp_path / "drift.html"
    result = invoke("check", LIVE, "--ref", REF, "--html", report, "--quiet")
    assert result.exit_code == 1 and result.stdout == ""
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('<svg class="chart"') == 5
    shown = invoke("check", LIVE, "--ref", REF, "--format", "html")
    assert shown.exit_code == 1
    assert shown.stdout.rstrip("\n") == page.rstrip("\n")


# --- in a real browser ---------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser() -> str:
    """Headless Chromium, or a skip (a failure where DRIFTCLI_BROWSER_TESTS=required, as in CI)."""
    found = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    if found:
        return found
    if os.environ.get("DRIFTCLI_BROWSER_TESTS") == "required":
        pytest.fail("no Chromium found, and DRIFTCLI_BROWSER_TESTS=required (.ci/run installs it)")
    pytest.skip("no Chromium binary (apt-get install chromium) to load the HTML report in")


def load(page: Path, tmp_path: Path, *extra: str) -> tuple[str, list[str]]:
    """The DOM headless Chromium builds from the page, and what its console said."""
    done = subprocess.run(
        [browser(), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", *extra, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.parametrize("case", ["sample", "every case"])
def test_chromium_renders_the_charts_without_a_console_message(tmp_path: Path, case: str) -> None:
    result = check(LIVE, REF) if case == "sample" else every_case()
    page = tmp_path / "report.html"
    page.write_text(render_html(result), encoding="utf-8")
    dom, console = load(page, tmp_path, "--dump-dom")
    assert console == []  # no error, and no request the page's policy had to block
    assert dom.count('<svg class="chart"') == len(result.features)
    bars = re.findall(r'<rect class="bar (ref|live)"[^>]*height="([0-9.]+)"', dom)
    assert sum(float(h) > 0 for _, h in bars) > 40
    assert "<h1>DRIFT</h1>" in dom
    if case == "every case":
        assert "&lt;script&gt;" in dom and "<script" not in dom


def test_chromium_reports_a_page_that_breaks_the_rules(tmp_path: Path) -> None:
    """The check above can fail: a fetch the policy blocks is a console message."""
    page = tmp_path / "bad.html"
    good = render_html(check(LIVE, REF))
    page.write_text(good.replace("<main>", '<main><img src="https://example.com/x.png">'))
    _, console = load(page, tmp_path, "--dump-dom")
    assert any("Content Security Policy" in line for line in console)


def test_chromium_screenshots_the_report(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(check(LIVE, REF)), encoding="utf-8")
    shot = tmp_path / "report.png"
    _, console = load(page, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    assert console == []
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 2000)


def test_long_bucket_labels_are_cut_in_the_middle_so_they_stay_apart() -> None:
    from driftcli.output.html.charts import Buckets, bar_chart

    labels = [f"a rather long city name {i}" for i in range(12)] + ["other", "missing", "invalid"]
    chart = bar_chart("city", Buckets(labels, [10] * 15, [9] * 15, value_buckets=13))
    shown = re.findall(r'class="label"[^>]*>([^<]*)</text>', chart)
    assert len(set(shown)) == len(labels)  # no two read alike
    assert all(len(label) <= 14 for label in shown)
    assert "a rather long city name 11: reference 10 (6.7%), live 9 (6.7%)" in chart  # in full
