"""Cases a second review found mishandled in the store, config, metrics and reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftcli.api import check
from driftcli.settings import Settings
from tests.conftest import Invoke

LIVE, REF = "sample_data/live_drift.parquet", "sample_data/ref.parquet"


def shifted_pair(tmp_path: Path, shift: float, n: int = 20_000) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    pq.write_table(pa.table({"x": rng.normal(0, 1, n)}), tmp_path / "ref.parquet")
    pq.write_table(pa.table({"x": rng.normal(shift, 1, n)}), tmp_path / "live.parquet")
    return str(tmp_path / "live.parquet"), str(tmp_path / "ref.parquet")


@pytest.mark.parametrize("metric", ["kl", "ks"])
def test_a_p_value_of_exactly_zero_is_significant(tmp_path: Path, metric: str) -> None:
    live, ref = shifted_pair(tmp_path, 3.0)
    [x] = check(live, ref, Settings(metric=metric, alpha=0.01)).features
    assert x.p_value == 0.0 and x.p_adjusted == 0.0 and x.status.value == "drift"
    [gate] = check(live, ref, Settings(threshold=0.0, alpha=0.01)).features
    assert gate.status.value == "drift"


def test_infinities_do_not_break_the_sample_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ref = np.r_[rng.normal(0, 1, 2000), np.inf]
    live = np.r_[rng.normal(5, 1, 500), -np.inf]
    pq.write_table(pa.table({"x": ref}), tmp_path / "ref.parquet")
    pq.write_table(pa.table({"x": live}), tmp_path / "live.parquet")
    for metric in ("wasserstein", "ks"):
        [x] = check(
            str(tmp_path / "live.parquet"), str(tmp_path / "ref.parquet"), Settings(metric=metric)
        ).features
        assert x.score is not None and np.isfinite(x.score) and x.status.value == "drift"


def test_ingest_alerts_use_the_configured_threshold(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text('threshold = 0.9\nstore = "mystore"\n')
    invoke("reference", sample / "ref.parquet")
    assert invoke("check", sample / "live_drift.parquet").exit_code == 0
    result = invoke("ingest", sample / "live_drift.parquet", "--check-every", "500")
    assert result.exit_code == 0 and "[DRIFT]" not in result.stderr
    assert json.loads(invoke("status", "-f", "json").stdout)["store"] == "mystore"


def test_names_the_reference_does_not_score_are_usage_errors(
    invoke: Invoke, tmp_path: Path, sample: Path
) -> None:
    snap = tmp_path / "snap.parquet"
    invoke("reference", sample / "ref.parquet", "--exclude", "income", "-o", snap)
    result = invoke(
        "check", sample / "live_drift.parquet", "--ref", snap, "--features", "income,age"
    )
    assert (
        result.exit_code == 2
        and "--features: 'income' is not among the features checked" in result.stderr
    )
    result = invoke("check", sample / "live_drift.parquet", "--ref", snap, "--fail-on", "income")
    assert result.exit_code == 2 and "--fail-on: 'income'" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[features.incme]\nthreshold = 0.2\n", "config [features.incme]: 'incme' is not a column"),
        ("[features.income]\nbins = 1\n", "features.income.bins must be at least 2"),
    ],
)
def test_per_feature_config_is_checked(
    invoke: Invoke,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sample: Path,
    text: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text(text)
    result = invoke("check", sample / "live_drift.parquet", "--ref", sample / "ref.parquet")
    assert result.exit_code == 2 and message in result.stderr


def test_top_level_features_list_in_the_config(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text('features = ["age", "country"]\n')
    doc = json.loads(
        invoke(
            "check", sample / "live_drift.parquet", "--ref", sample / "ref.parquet", "-f", "json"
        ).stdout
    )
    assert [f["name"] for f in doc["features"]] == ["age", "country"]


def test_flush_rows_is_honoured_within_a_chunk(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTCLI_STORE", str(tmp_path / "store"))
    pq.write_table(pa.table({"x": np.arange(5000.0)}), tmp_path / "rows.parquet")
    result = invoke("ingest", tmp_path / "rows.parquet", "--flush-rows", "1000", "--verbose")
    flushes = [line for line in result.stderr.splitlines() if line.startswith("stored ")]
    assert len(flushes) == 5 and all(line.startswith("stored 1,000 rows") for line in flushes)


def test_messages_fit_the_command(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("check", LIVE, "--ref", REF, "--engine", "spark")
    assert result.exit_code == 2 and "--engine must be local or dask" in result.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"age": 1}\n{"age": 2,,}\n')
    result = invoke("check", bad, "--ref", REF)
    assert result.exit_code == 2 and "pass --skip-bad-lines" in result.stderr
