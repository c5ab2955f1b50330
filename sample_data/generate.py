"""Write the sample data set: a reference, a no-drift live window and a drifted one.

    python sample_data/generate.py        # rewrites the files next to this script

Seeded, so the files are the same on every run. Each set is written as
Parquet, CSV and JSON lines with the same rows, so every format gives the
same scores. Features: age, income, score (numeric), country, device
(categorical), with a few missing values.

The drifted window (live_drift.*, also live.jsonl) differs in three ways:
income doubled (a 1.4-standard-deviation shift of log income), the missing
rate of score up from 1% to 25%, and a device category the reference never
saw ("smartwatch"). age and country do not drift.

log.jsonl is a small application log of two weeks, 2026-11-01 to 2026-11-14,
one JSON line per prediction with its time (`ts`, ISO 8601 in UTC) and its
features, in time order: as the reference until 2026-11-10, when income
rises by half; from 2026-11-12 smartwatches appear too. It is what the
README's `--by ts --every 1d` and `ingest` examples read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

HERE = Path(__file__).parent
COUNTRIES = ["US", "DE", "IN", "BR", "GB", "FR", "JP", "NG"]
COUNTRY_WEIGHTS = [0.30, 0.15, 0.15, 0.12, 0.10, 0.08, 0.06, 0.04]
DEVICES = ["mobile", "desktop", "tablet"]
DEVICE_WEIGHTS = [0.60, 0.32, 0.08]


def make_rows(
    rng: np.random.Generator,
    n: int,
    *,
    income_factor: float = 1.0,
    score_missing: float = 0.01,
    smartwatch_share: float = 0.0,
) -> pa.Table:
    age = np.clip(np.round(rng.normal(40, 12, n)), 18, 90).astype(np.int64)
    income = np.round(rng.lognormal(np.log(52_000), 0.5, n) * income_factor, 2)
    score = np.round(rng.beta(6, 4, n), 4)
    country = rng.choice(COUNTRIES, n, p=COUNTRY_WEIGHTS)
    device = rng.choice(DEVICES, n, p=DEVICE_WEIGHTS).astype(object)
    device[rng.random(n) < smartwatch_share] = "smartwatch"
    return pa.table(
        {
            "age": pa.array(age, mask=rng.random(n) < 0.005),
            "income": pa.array(income, mask=rng.random(n) < 0.02),
            "score": pa.array(score, mask=rng.random(n) < score_missing),
            "country": pa.array(country.tolist(), mask=rng.random(n) < 0.01),
            "device": pa.array(device.tolist(), pa.string()),
        }
    )


def write_all(table: pa.Table, stem: str) -> None:
    pq.write_table(table, HERE / f"{stem}.parquet")
    pcsv.write_csv(table, HERE / f"{stem}.csv")
    write_jsonl(table, HERE / f"{stem}.jsonl")


def write_jsonl(table: pa.Table, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in table.to_pylist():
            out.write(json.dumps(row) + "\n")


LOG_START = datetime(2026, 11, 1, tzinfo=UTC)
LOG_DAYS = 14
LOG_ROWS_PER_DAY = 100


def write_log(rng: np.random.Generator, path: Path) -> None:
    """Two weeks of predictions, one JSON line each, with the time first (see the top)."""
    with path.open("w", encoding="utf-8") as out:
        for day in range(LOG_DAYS):
            rows = make_rows(
                rng,
                LOG_ROWS_PER_DAY,
                income_factor=1.5 if day >= 9 else 1.0,
                smartwatch_share=0.15 if day >= 11 else 0.0,
            )
            seconds = np.sort(rng.integers(0, 86_400, LOG_ROWS_PER_DAY))
            for second, row in zip(seconds.tolist(), rows.to_pylist(), strict=True):
                ts = LOG_START + timedelta(days=day, seconds=second)
                out.write(json.dumps({"ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), **row}) + "\n")


def main() -> None:
    rng = np.random.default_rng(20261126)
    write_all(make_rows(rng, 2000), "ref")
    write_all(make_rows(rng, 500), "live_ok")
    drifted = make_rows(rng, 500, income_factor=2.0, score_missing=0.25, smartwatch_share=0.15)
    write_all(drifted, "live_drift")
    write_jsonl(drifted, HERE / "live.jsonl")
    # A generator of its own: the files above stay as they were.
    write_log(np.random.default_rng(20261101), HERE / "log.jsonl")


if __name__ == "__main__":
    main()
