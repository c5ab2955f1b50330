"""What moved (issue 20): the buckets behind a score and a numeric feature's statistics, said
the same way in JSON, the table, Markdown, HTML, JUnit and the alert lines."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from rich.console import Console

from driftcli.api import check
from driftcli.numbers import readable
from driftcli.output.html.check import score_texts
from driftcli.output.table.check import render_table
from driftcli.results import CheckResult
from driftcli.scoring.explain import moves
from driftcli.scoring.metrics import METRICS, Reads
from tests.conftest import Invoke, write_table

ROWS_REF, ROWS_LIVE = 20_000, 5_000


def planted(tmp_path: Path) -> tuple[Path, Path]:
    """The issue's story: tablets 10% -> 30%, income's top 5% -> 38% above 120,000,
    `score` missing 2% -> 10%, `age` unchanged."""
    rng = np.random.default_rng(20)

    def side(rows: int, live: bool) -> pa.Table:
        device = rng.choice(
            ["mobile", "desktop", "tablet"], rows, p=[0.5, 0.2, 0.3] if live else [0.55, 0.35, 0.1]
        )
        income = rng.lognormal(np.log(50_000), 0.5, rows)
        if live:
            top = rng.random(rows) < 0.35
            income[top] = rng.uniform(125_000, 200_000, int(top.sum()))
        score = rng.normal(0.5, 0.1, rows)
        missing = rng.random(rows) < (0.20 if live else 0.02)
        return pa.table(
            {
                "age": rng.integers(18, 80, rows).astype(np.float64),
                "device": device,
                "income": income,
                "score": pa.array(score, mask=missing),
            }
        )

    ref = write_table(side(ROWS_REF, False), tmp_path / "ref.parquet")
    live = write_table(side(ROWS_LIVE, True), tmp_path / "live.parquet")
    return live, ref


@pytest.fixture
def story(tmp_path: Path) -> tuple[Path, Path]:
    return planted(tmp_path)


def by_name(result: CheckResult) -> dict[str, object]:
    return {f.name: f for f in result.features}


def test_json_names_the_planted_moves_and_the_numeric_stats(
    invoke: Invoke, story: tuple[Path, Path]
) -> None:
    live, ref = story
    doc = json.loads(invoke("check", live, "--ref", ref, "--format", "json").stdout)
    features = {f["name"]: f for f in doc["features"]}
    device = features["device"]["moves"][0]
    assert device["bucket"] == "tablet"
    assert device["ref_share"] == pytest.approx(0.10, abs=0.01)
    assert device["live_share"] == pytest.approx(0.30, abs=0.02)
    income = features["income"]["moves"][0]
    # The top quantile bucket within the reference's range, with separators: values above
    # its largest have a bucket of their own (issue 19).
    assert income["bucket"] == features["income"]["buckets"][-4]
    assert re.fullmatch(r"\[\d{3},\d{3}, \d{3},\d{3}\)", income["bucket"])
    assert income["ref_share"] == pytest.approx(0.05, abs=0.005)
    assert income["live_share"] > 0.3
    assert features["score"]["moves"][0]["bucket"] == "missing"
    contributions = [m["contribution"] for m in features["income"]["moves"]]
    assert contributions == sorted(contributions, reverse=True)
    assert features["device"]["stats"] is None
    stats = features["income"]["stats"]
    assert set(stats) == {"ref", "live"}
    assert {"mean", "p05", "p50", "p95", "values"} <= set(stats["ref"])
    # A lognormal's median is its scale; its mean exp(sigma^2 / 2) times that.
    assert stats["ref"]["p50"] == pytest.approx(50_000, rel=0.03)
    assert stats["ref"]["mean"] == pytest.approx(50_000 * np.exp(0.125), rel=0.05)
    # Live's p95 lies in the top bucket within the reference's range, [its p95, its max].
    low, high = (float(e.replace(",", "")) for e in income["bucket"][1:-1].split(", "))
    assert low < stats["live"]["p95"] < high
    assert stats["live"]["at_least"] == [] and stats["ref"]["at_least"] == []
    assert stats["ref"]["p95"] == pytest.approx(low, rel=1e-3)  # the edge is its p95
    assert stats["live"]["values"] == ROWS_LIVE


@pytest.mark.parametrize("smoothing", [0.5, 2.0])
@pytest.mark.parametrize("metric", [n for n, m in METRICS.items() if m.reads is Reads.BUCKETS])
def test_the_contributions_add_up_to_the_score(metric: str, smoothing: float) -> None:
    labels = tuple("abcdef")
    ref = np.array([500, 300, 100, 100, 0, 0])
    live = np.array([200, 300, 400, 90, 10, 0])
    found = moves(labels, ref, live, metric, smoothing)
    bucket_score = METRICS[metric].bucket_score
    assert bucket_score is not None
    score = bucket_score(live, ref, smoothing)
    total = sum(m.contribution for m in found)
    # A distance's terms (hellinger's) add up to its square; the unchanged bucket `b` adds nothing.
    assert total == pytest.approx(score**2 if METRICS[metric].root else score, rel=1e-9)
    assert "b" not in [m.bucket for m in found]


def table_text(result: CheckResult, width: int = 160) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(render_table(result))
    return console.export_text()


def test_every_output_says_the_same_largest_move(
    invoke: Invoke, story: tuple[Path, Path], tmp_path: Path
) -> None:
    live, ref = story
    result = check(str(live), str(ref))
    features = by_name(result)
    lines = {
        "device": f"tablet {features['device'].moves[0].ref_share:.1%} -> "  # type: ignore[attr-defined]
        f"{features['device'].moves[0].live_share:.1%}",  # type: ignore[attr-defined]
        "score": "missing ",
        "income": features["income"].moves[0].bucket + ": 5.0% -> ",  # type: ignore[attr-defined]
    }
    table = table_text(result)
    for words in lines.values():
        assert f"↳ {words}" in table
    assert "\n" in table and re.search(r"│   median [0-9,.]+ -> [0-9,.]+ ", table)
    age = next(line for line in table.splitlines() if "│ age" in line)
    assert "↳" not in table.split(age)[1].split("│ country")[0]  # ok: nothing said
    paths = {fmt: tmp_path / f"r.{fmt}" for fmt in ("markdown", "html", "junit")}
    invoke(
        "check", live, "--ref", ref, "--quiet", "--exit-zero",
        *(arg for fmt, path in paths.items() for arg in (f"--{fmt}", path)),
    )  # fmt: skip
    markdown = paths["markdown"].read_text()
    html = paths["html"].read_text()
    junit = ET.parse(paths["junit"]).getroot()
    failures = {
        case.get("name"): case.find("failure").get("message")  # type: ignore[union-attr]
        for case in junit.iter("testcase")
        if case.find("failure") is not None
    }
    for name, words in lines.items():
        assert words.replace(">", "\\>") in markdown
        assert "Largest move: " + words.replace(">", "&gt;") in html
        assert words in failures[name]


def test_an_unmoved_share_is_no_move_and_a_tiny_share_is_not_zero() -> None:
    from driftcli.output.moves import share

    found = moves(
        ("a", "b", "missing", "invalid"), np.array([5, 5, 0, 0]), np.array([5, 5, 0, 0]), "kl"
    )
    assert found == ()
    assert share(0.0004) == "<0.1%" and share(0.0) == "0.0%" and share(0.301) == "30.1%"


def test_numbers_read_with_four_digits_and_thousands_separated() -> None:
    cases = {
        120_000: "120,000",
        23_380.4: "23,380",
        52.5: "52.5",
        1.2e-5: "1.2e-05",
        -3_400: "-3,400",
    }
    assert {value: readable(value) for value in cases} == cases


def test_html_scores_have_the_digits_to_order_them() -> None:
    texts = score_texts([0.00012, 0.00031, 0.4, None, 0.4])
    assert texts == {0.00012: "0.0001", 0.00031: "0.0003", 0.4: "0.4000"}
    assert score_texts([0.000121, 0.000124]) == {0.000121: "0.000121", 0.000124: "0.000124"}
    assert score_texts([0.851, 0.024]) == {0.851: "0.851", 0.024: "0.024"}


def test_html_tooltips_and_axes_write_shares_alike(story: tuple[Path, Path]) -> None:
    from driftcli.output.html.check import render_html

    page = render_html(check(*map(str, story)))
    axis = re.findall(r'<text class="value"[^>]*>([^<]*)</text>', page)
    tips = re.findall(r"reference [0-9,]+ \(([^)]*)\)", page)
    assert axis and tips
    assert all(re.fullmatch(r"(<0\.1|\d+\.\d)%", text) for text in [*axis, *tips])
