"""Seeded benchmark data: reference and live, N rows x 25 columns, as Parquet.

    python benchmarks/generate.py --rows 1000000

writes benchmarks/data/ref_1000000.parquet and live_1000000.parquet.

20 numeric columns (normal, lognormal, uniform, integer-valued, with a few
missing values) and 5 categorical ones (3 to 200 categories). The live file
has drift in a few columns, so the check does real work on both branches.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA = Path(__file__).parent / "data"
NUMERIC = 20
CATEGORICAL = 5
CARDINALITIES = [3, 8, 20, 50, 200]


def make_table(rows: int, seed: int, drift: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for i in range(NUMERIC):
        shift = 1.5 if drift and i % 7 == 0 else 0.0
        kind = i % 4
        if kind == 0:
            values = rng.normal(shift, 1.0, rows)
        elif kind == 1:
            values = rng.lognormal(shift, 0.7, rows)
        elif kind == 2:
            values = rng.uniform(0, 100, rows) + 10 * shift
        else:
            values = rng.poisson(30 + 5 * shift, rows).astype(np.float64)
        mask = rng.random(rows) < 0.01
        columns[f"num_{i:02d}"] = pa.array(values, mask=mask)
    for j, cardinality in enumerate(CARDINALITIES):
        labels = np.array([f"cat{j}_{k}" for k in range(cardinality)])
        weights = 1.0 / np.arange(1, cardinality + 1)
        if drift and j == 1:
            weights = weights[::-1]
        index = rng.choice(cardinality, rows, p=weights / weights.sum())
        columns[f"cat_{j}"] = pa.array(labels[index])
    return pa.table(columns)


def paths(rows: int) -> tuple[Path, Path]:
    return DATA / f"ref_{rows}.parquet", DATA / f"live_{rows}.parquet"


def ensure(rows: int) -> tuple[Path, Path]:
    """Write the pair for `rows` unless it is already there."""
    ref, live = paths(rows)
    DATA.mkdir(parents=True, exist_ok=True)
    for path, seed, drift in ((ref, 1, False), (live, 2, True)):
        if not path.exists():
            pq.write_table(make_table(rows, seed, drift), path)
    return ref, live


def ensure_jsonl(rows: int) -> Path:
    """The live table as JSON lines (for the JSON-lines targets)."""
    _, live = ensure(rows)
    path = DATA / f"live_{rows}.jsonl"
    if not path.exists():
        with path.open("w", encoding="utf-8") as out:
            for batch in pq.ParquetFile(live).iter_batches(batch_size=50_000):
                for row in batch.to_pylist():
                    out.write(json.dumps(row) + "\n")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--jsonl", action="store_true")
    args = parser.parse_args()
    print(*ensure(args.rows))
    if args.jsonl:
        print(ensure_jsonl(args.rows))
