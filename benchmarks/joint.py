"""The joint test (`check --joint`): its materiality threshold, power, calibration and cost.

    .venv/bin/python benchmarks/joint.py                 # all four parts, seeded
    .venv/bin/python benchmarks/joint.py --tries 200 --rows 1000000

1. threshold: the held-out AUC this classifier reaches on a 0.45 sd mean shift of
   one normal feature (beside a second, unchanged one) at 5,000 rows a side: the
   product's feature materiality, in AUC (the default threshold is set from it).
2. flip: two normals correlated +0.8 in the reference and -0.8 live, marginals
   unchanged, 5,000 rows a side, through `driftcli check --joint`: joint drift
   found, no feature drift.
3. null: no change, `--tries` seeded pairs of 5,000 rows a side: the share of
   joint false alarms, and the p-value's shares below 0.01, 0.05, 0.1.
4. cost: 1M rows x 25 features (benchmarks/generate.py's columns), `driftcli
   check` with and without --joint, in turns: the joint test's added time
   against the per-feature check's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from driftcli.columns.values import TypeClass  # noqa: E402
from driftcli.reference.buckets import Cuts, numeric_feature  # noqa: E402
from driftcli.scoring.joint import joint_test  # noqa: E402

ROWS = 5_000


def pair(rows: int, rho: float, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(rows)
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(rows)
    return pa.table({"x": x + shift, "y": y})


FEATURES = [
    numeric_feature(name, TypeClass.NUMBER, Cuts(edges=np.array([0.0]), values=None))
    for name in ("x", "y")
]


def threshold_part(tries: int) -> dict[str, float]:
    aucs = [
        joint_test(pair(ROWS, 0.0, 2 * i), pair(ROWS, 0.0, 2 * i + 1, 0.45), FEATURES).score
        for i in range(tries)
    ]
    found = [a for a in aucs if a is not None]
    return {"median_auc": statistics.median(found), "min": min(found), "max": max(found)}


def flip_part(where: Path) -> dict[str, object]:
    ref, live = where / "ref.parquet", where / "live.parquet"
    pq.write_table(pair(ROWS, 0.8, 1), ref)
    pq.write_table(pair(ROWS, -0.8, 2), live)
    done = subprocess.run(
        [sys.executable, "-m", "driftcli", "check", str(live), "--ref", str(ref), "--joint",
         "--format", "json"],
        capture_output=True, check=False, cwd=ROOT,
    )  # fmt: skip
    report = json.loads(done.stdout)
    return {
        "exit": done.returncode,
        "feature_statuses": [f["status"] for f in report["features"]],
        "joint": {k: report["joint"][k] for k in ("status", "score", "p_value", "contributors")},
    }


def null_part(tries: int) -> dict[str, float]:
    seeds = [(10_000 + 2 * i, 10_001 + 2 * i) for i in range(tries)]
    results = [joint_test(pair(ROWS, 0.8, a), pair(ROWS, 0.8, b), FEATURES) for a, b in seeds]
    p = np.array([r.p_value for r in results], dtype=float)
    return {
        "tries": tries,
        "false_alarms": sum(r.drift for r in results) / tries,
        "uncertain": sum(r.status.value == "uncertain" for r in results) / tries,
        **{f"share_p_below_{level}": float(np.mean(p < level)) for level in (0.01, 0.05, 0.1)},
        "max_auc": max(r.score or 0.0 for r in results),
    }


def cost_part(rows: int, turns: int, where: Path) -> dict[str, float]:
    from generate import COLUMNS, tables

    paths = {}
    for side in ("ref", "live"):
        path = where / f"{side}-{rows}.parquet"
        writer = None
        for table in tables(rows, side):
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()
        paths[side] = path
    snapshot = where / "store"
    subprocess.run(
        [sys.executable, "-m", "driftcli", "reference", str(paths["ref"]),
         "--store", str(snapshot)],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    base = [sys.executable, "-m", "driftcli", "check", str(paths["live"]), "--store",
            str(snapshot), "--format", "json"]  # fmt: skip
    times: dict[str, list[float]] = {"check": [], "check --joint": []}
    for _ in range(turns):
        for name, argv in (("check", base), ("check --joint", [*base, "--joint"])):
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=False, cwd=ROOT)
            times[name].append(time.perf_counter() - started)
    check, joint = statistics.median(times["check"]), statistics.median(times["check --joint"])
    return {
        "rows": rows,
        "features": len(COLUMNS),
        "check_s": round(check, 2),
        "check_joint_s": round(joint, 2),
        "joint_added_over_check": round((joint - check) / check, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=200)
    parser.add_argument("--threshold-tries", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--parts", default="threshold,flip,null,cost")
    args = parser.parse_args()
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        if "threshold" in parts:
            print("threshold", json.dumps(threshold_part(args.threshold_tries)), flush=True)
        if "flip" in parts:
            print("flip", json.dumps(flip_part(where)), flush=True)
        if "null" in parts:
            print("null", json.dumps(null_part(args.tries)), flush=True)
        if "cost" in parts:
            print("cost", json.dumps(cost_part(args.rows, args.turns, where)), flush=True)


if __name__ == "__main__":
    main()
