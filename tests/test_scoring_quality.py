"""Data-quality rules beside drift: their defaults, their p-values, their limits, every output.

The rules judge the share of missing values, of values the reference never had (categories
it did not have, numbers outside its range) and of invalid values, each on its own: a rule
fails when the live share is evidently higher and past both of its limits (2x and +1 point
by default), and an evident rise short of them is `small`, reported, not failed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import hypergeom

from driftcli.api import check
from driftcli.counting.counter import count_batches
from driftcli.findings import QualityRule, QualityStatus
from driftcli.reference.builder import build_profile
from driftcli.results import FeatureResult, Status
from driftcli.scoring.compare import compare
from driftcli.scoring.quality import hypergeometric_sf, outside_range_p
from driftcli.settings import Settings
from tests.conftest import Invoke

ROWS = 50_000


def write(path: Path, **columns: np.ndarray) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def with_missing(rng: np.random.Generator, rows: int, share: float) -> np.ndarray:
    values = rng.normal(0, 1, rows)
    values[rng.random(rows) < share] = np.nan
    return values


def rule(f: FeatureResult, which: QualityRule) -> QualityStatus:
    """How the rule came out (`ok` where it does not apply)."""
    return next((q.status for q in f.quality if q.rule is which), QualityStatus.OK)


@pytest.fixture(scope="module")
def missing_jump(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """50,000 rows a side; the missing share of `x` goes from 2% to 10%."""
    where = tmp_path_factory.mktemp("missing")
    rng = np.random.default_rng(1)
    ref = write(where / "ref.parquet", x=with_missing(rng, ROWS, 0.02))
    live = write(where / "live.parquet", x=with_missing(rng, ROWS, 0.10))
    return live, ref


def test_a_five_fold_rise_in_missing_values_fails_the_check_by_default(
    invoke: Invoke, missing_jump: tuple[Path, Path]
) -> None:
    """KL 0.085 is below the drift threshold: the drift rule alone read this `ok`."""
    live, ref = missing_jump
    result = invoke("check", live, "--ref", ref, "-f", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    [x] = doc["features"]
    assert x["score"] < 0.1 and x["status"] == "ok" and not x["drift"]
    missing = next(q for q in x["quality"] if q["rule"] == "missing")
    assert missing["status"] == "fail" and missing["p_value"] < 1e-16
    assert 0.018 < missing["reference_share"] < 0.022 and 0.095 < missing["live_share"] < 0.105
    assert x["fails"] and doc["summary"]["failed_quality"] == 1
    assert doc["decision"]["rule"] == "a feature failed a data-quality rule"
    assert "missing values rose from 2.0% to 10.0% of the rows" in missing["reason"]


def test_the_rule_limits_come_from_flags_and_the_config_file_per_feature(
    invoke: Invoke, missing_jump: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, ref = missing_jump
    assert invoke("check", live, "--ref", ref, "--missing-ratio", "6").exit_code == 0
    assert invoke("check", live, "--ref", ref, "--missing-points", "9").exit_code == 0
    assert invoke("check", live, "--ref", ref, "--missing-points", "inf").exit_code == 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text("[features.x]\nmissing_ratio = 6\n")
    shown = json.loads(invoke("check", live, "--ref", ref, "-f", "json").stdout)
    [x] = shown["features"]
    assert [q["status"] for q in x["quality"] if q["rule"] == "missing"] == ["small"]
    assert shown["settings"]["feature_settings"] == {"x": {"missing_ratio": 6.0}}
    monkeypatch.setenv("DRIFTCLI_MISSING_RATIO", "1.5")  # the feature's own still wins
    assert invoke("check", live, "--ref", ref).exit_code == 0


def test_a_rule_limit_that_makes_no_sense_is_a_usage_error(
    invoke: Invoke, missing_jump: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, ref = missing_jump
    result = invoke("check", live, "--ref", ref, "--unseen-ratio", "0.5")
    assert result.exit_code == 2 and "--unseen-ratio" in result.stderr
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text('[features.x]\ninvalid_points = "lots"\n')
    result = invoke("check", live, "--ref", ref)
    assert result.exit_code == 2
    assert "features.x.invalid_points must be a number" in result.stderr
    (tmp_path / "driftcli.toml").write_text("[features.x]\nmissing_points = -1\n")
    result = invoke("check", live, "--ref", ref)
    assert result.exit_code == 2
    assert "driftcli.toml: features.x.missing_points must be a number of at least 0" in (
        result.stderr
    )
    (tmp_path / "driftcli.toml").write_text("unseen_ratio = 0.5\n")
    result = invoke("check", live, "--ref", ref)
    assert result.exit_code == 2
    assert "driftcli.toml: unseen_ratio must be a number of at least 1" in result.stderr
    (tmp_path / "driftcli.toml").unlink()
    monkeypatch.setenv("DRIFTCLI_INVALID_RATIO", "nan")
    result = invoke("check", live, "--ref", ref)
    assert result.exit_code == 2 and "DRIFTCLI_INVALID_RATIO must be a number" in result.stderr


def test_an_evident_change_below_the_threshold_is_said_to_be_small(tmp_path: Path) -> None:
    """A flag going from 30% to 45% true at 50,000 rows: KL 0.049, p < 1e-16."""
    rng = np.random.default_rng(2)
    ref = write(tmp_path / "ref.parquet", flag=rng.random(ROWS) < 0.30)
    live = write(tmp_path / "live.parquet", flag=rng.random(ROWS) < 0.45)
    [flag] = check(str(live), str(ref)).features
    assert flag.status is Status.OK and flag.small
    assert flag.p_value is not None and flag.p_value < 1e-16
    assert flag.reason is not None and flag.reason.startswith("small: the change is evident")
    assert "below the threshold 0.1" in flag.reason


def test_a_small_rise_in_missing_values_is_small_not_failed(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ref = write(tmp_path / "ref.parquet", x=with_missing(rng, ROWS, 0.02))
    live = write(tmp_path / "live.parquet", x=with_missing(rng, ROWS, 0.03))
    result = check(str(live), str(ref))
    [x] = result.features
    assert rule(x, QualityRule.MISSING) is QualityStatus.SMALL and not x.fails
    missing = next(q for q in x.quality if q.rule is QualityRule.MISSING)
    assert missing.reason is not None
    assert "evident (p < 0.005), but within the rule's 2x and +1 point" in missing.reason
    assert not result.drift


def checked(ref: dict[str, np.ndarray], live: dict[str, np.ndarray]) -> list[FeatureResult]:
    profile = build_profile([pa.record_batch(ref)])
    counts = count_batches(profile.features, [pa.record_batch(live)])
    return compare(profile, counts, Settings())


def share_failing(results: list[FeatureResult], which: QualityRule) -> float:
    return sum(rule(r, which) is QualityStatus.FAIL for r in results) / len(results)


@pytest.mark.parametrize(("n_ref", "n_live"), [(2000, 200), (200, 2000), (50, 50)])
def test_unchanged_missing_values_fail_at_most_one_feature_in_a_hundred(
    n_ref: int, n_live: int
) -> None:
    rng = np.random.default_rng(n_ref + n_live)
    names = [f"x{i}" for i in range(500)]
    ref = {n: with_missing(rng, n_ref, 0.05) for n in names}
    live = {n: with_missing(rng, n_live, 0.05) for n in names}
    assert share_failing(checked(ref, live), QualityRule.MISSING) <= 0.01


@pytest.mark.parametrize(("n_ref", "n_live"), [(2000, 500), (50, 50), (20, 100), (1000, 10_000)])
def test_unchanged_numbers_fall_outside_the_reference_range_without_failing(
    n_ref: int, n_live: int
) -> None:
    """A live value is above every reference value with chance 1 / (m + 1): over 100 live
    rows against 20 reference rows, about 10 of them lie outside its range."""
    rng = np.random.default_rng(n_ref * 3 + n_live)
    names = [f"x{i}" for i in range(500)]
    ref = {n: rng.normal(0, 1, n_ref) for n in names}
    live = {n: rng.normal(0, 1, n_live) for n in names}
    assert share_failing(checked(ref, live), QualityRule.UNSEEN) <= 0.01


def test_numbers_outside_the_reference_range_fail_the_check() -> None:
    rng = np.random.default_rng(5)
    names = [f"x{i}" for i in range(200)]
    ref = {n: rng.uniform(0, 100, 2000) for n in names}
    live = {n: rng.uniform(0, 105, 500) for n in names}  # 4.8% above the reference's largest
    results = checked(ref, live)
    assert share_failing(results, QualityRule.UNSEEN) >= 0.95
    finding = next(q for q in results[0].quality if q.rule is QualityRule.UNSEEN)
    assert finding.reference_share == 0 and finding.live_share > 0.01


def categories(weights: list[float], new: float = 0.0) -> object:
    labels = np.array([f"c{i}" for i in range(len(weights))], dtype=object)
    p = np.array(weights) / sum(weights)

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        values = rng.choice(labels, n, p=p)
        values[rng.random(n) < new] = "new"
        return values

    return draw


@pytest.mark.parametrize(("n_ref", "n_live"), [(50, 50), (30, 30), (20, 100)])
def test_categories_a_small_reference_missed_by_chance_do_not_fail(n_ref: int, n_live: int) -> None:
    """60 categories, 50 of them rare: a reference of 20-50 rows misses most of them, and
    live rows of those are chance, not values the data never had."""
    draw = categories([0.08] * 10 + [0.004] * 50)
    rng = np.random.default_rng(n_ref + 7 * n_live)
    names = [f"c{i}" for i in range(300)]
    ref = {n: draw(rng, n_ref) for n in names}  # type: ignore[operator]
    live = {n: draw(rng, n_live) for n in names}  # type: ignore[operator]
    assert share_failing(checked(ref, live), QualityRule.UNSEEN) <= 0.01


def test_a_new_category_fails_the_unseen_rule() -> None:
    rng = np.random.default_rng(8)
    names = [f"c{i}" for i in range(100)]
    ref = {n: categories([4, 2, 1])(rng, 2000) for n in names}  # type: ignore[operator]
    live = {n: categories([4, 2, 1], new=0.1)(rng, 500) for n in names}  # type: ignore[operator]
    assert share_failing(checked(ref, live), QualityRule.UNSEEN) >= 0.99


def test_invalid_values_fail_the_invalid_rule(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    ref = [f"{v:.3f}" for v in rng.normal(size=2000)]
    values = [f"{v:.3f}" for v in rng.normal(size=1000)]
    values[::20] = ["oops"] * len(values[::20])  # 5% do not read as numbers
    (tmp_path / "ref.csv").write_text("x\n" + "\n".join(ref) + "\n")
    (tmp_path / "live.csv").write_text("x\n" + "\n".join(values) + "\n")
    [x] = check(str(tmp_path / "live.csv"), str(tmp_path / "ref.csv")).features
    assert x.kind.value == "numeric"
    assert rule(x, QualityRule.INVALID) is QualityStatus.FAIL and x.fails


def test_every_output_names_the_failed_rule(
    invoke: Invoke, missing_jump: tuple[Path, Path], tmp_path: Path
) -> None:
    live, ref = missing_jump
    reports = {fmt: tmp_path / f"report.{fmt}" for fmt in ("md", "xml", "html")}
    table = invoke(
        "check", live, "--ref", ref, "--markdown", reports["md"], "--junit", reports["xml"],
        "--html", reports["html"],
    )  # fmt: skip
    assert "missing fail" in table.stdout
    assert "failed a data-quality rule: x (missing)" in " ".join(table.stdout.split())
    assert "| **missing: fail** |" in reports["md"].read_text()
    junit = reports["xml"].read_text()
    assert 'name="x [data quality]"' in junit and 'message="x: data quality: missing"' in junit
    html = reports["html"].read_text()
    assert '<span class="status bad">missing: fail</span>' in html
    from driftcli.output.lines import alert_lines

    [line] = alert_lines(check(str(live), str(ref)), "live")
    assert line.startswith("[QUALITY] feature=x rule=missing status=fail reference=2.")


def test_the_hypergeometric_tail_is_fishers() -> None:
    for x, total, good, draws in [(5, 50, 10, 20), (0, 10, 3, 4), (30, 100_000, 500, 2000),
                                  (4, 12, 4, 6), (700, 2_000_000, 40_000, 20_000)]:  # fmt: skip
        expected = hypergeom.sf(x - 1, total, good, draws)
        assert hypergeometric_sf(x, total, good, draws) == pytest.approx(expected, rel=1e-9)


def test_the_outside_range_bound_holds_for_unchanged_data() -> None:
    """P(k live values outside the reference's range) <= the bound, measured."""
    rng = np.random.default_rng(10)
    n, m, trials = 30, 20, 20_000
    pooled = rng.random((trials, n + m))
    ref, live = pooled[:, :m], pooled[:, m:]
    outside = (live < ref.min(axis=1, keepdims=True)) | (live > ref.max(axis=1, keepdims=True))
    counts = outside.sum(axis=1)
    for k in range(1, 8):
        assert np.mean(counts >= k) <= outside_range_p(k, n, n + m) * 1.02 + 3 / math.sqrt(trials)


def test_a_chunk_of_a_chunked_check_says_what_a_whole_check_of_its_rows_says(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Chunks of 150 rows (the size of a 2-minute chunk of a busy log) are scored all at
    once; the chunk whose missing share jumps and whose mean moves reads as a check of its
    rows alone: the same statuses, findings, shares and judgement of the evidence."""
    rng = np.random.default_rng(8)
    rows, chunks = 150, 12  # a row every 0.8 s
    ref = write(
        tmp_path / "ref.parquet",
        x=with_missing(rng, 5000, 0.02),
        kind=rng.choice(np.array(["a", "b", "c"]), 5000),
    )
    x = with_missing(rng, rows * chunks, 0.02)
    bad = slice(7 * rows, 8 * rows)
    x[bad] = with_missing(rng, rows, 0.40) + 1.0
    kind = rng.choice(np.array(["a", "b", "c"]), rows * chunks)
    kind[bad][:20] = "d"  # a category the reference never had
    ts = np.datetime64("2026-03-01T00:00:00", "us") + np.arange(rows * chunks) * np.timedelta64(
        120_000_000 // rows, "us"
    )
    live = write(tmp_path / "live.parquet", ts=ts, x=x, kind=kind)
    every = ("--by", "ts", "--every", "2m", "--fail-on-any-chunk")
    chunked = invoke("check", live, "--ref", ref, *every, "-f", "json")
    doc = json.loads(chunked.stdout)
    assert len(doc["chunks"]) == chunks
    for index in (7, 3):
        one = write(tmp_path / f"chunk{index}.parquet", x=x[index * rows : (index + 1) * rows],
                    kind=kind[index * rows : (index + 1) * rows])  # fmt: skip
        whole = json.loads(invoke("check", one, "--ref", ref, "-f", "json").stdout)
        for lazy, full in zip(doc["chunks"][index]["features"], whole["features"], strict=True):
            same = ("name", "status", "drift", "fails", "score", "change")
            assert {k: lazy[k] for k in same} == pytest.approx({k: full[k] for k in same})
            found = {q["rule"]: q["status"] for q in full["quality"] if q["status"] != "ok"}
            assert lazy["quality"] == found  # a chunk names the rules that did not pass
            assert (lazy["missing"], lazy["rows"]) == (
                full["missing"]["live"],
                full["rows"]["live"],
            )
            if lazy["p_value"] is not None:  # drawn only as far as the status needs
                level = full["evidence_level"]
                assert (lazy["p_value"] < level) == (full["p_value"] < level), full["name"]
    judged = {f["name"]: f for f in doc["chunks"][7]["features"]}
    assert judged["x"]["drift"] and judged["x"]["fails"]
    assert judged["x"]["quality"] == {"missing": "fail"}
    assert judged["kind"]["quality"] == {"unseen": "fail"}
    assert chunked.exit_code == 1
