"""False alarms of a sliced check under no change: 20 slices x 10 features, seeded.

Each try draws a reference and a live sample from the same distribution (ten
numeric features, twenty slices of a country column) and runs the sliced check
(`check --slice country`) through the library; a try is a false alarm when any
slice x feature drifted. The slices are small (`--rows-per-slice` live rows,
twice that in the reference), where noise can look material and evidence alone
holds chance back.

    .venv/bin/python benchmarks/slices_false_alarms.py --tries 400
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from driftcli.api import check_slices
from driftcli.settings import BySlice

SLICES = 20
FEATURES = 10


def table(rng: np.random.Generator, rows_per_slice: int) -> pa.Table:
    rows = rows_per_slice * SLICES
    columns = {"country": pa.array([f"c{i:02d}" for i in range(SLICES)] * rows_per_slice)}
    for j in range(FEATURES):
        columns[f"x{j}"] = pa.array(rng.normal(0.0, 1.0, rows))
    return pa.table(columns)


def false_alarms(tries: int, rows_per_slice: int, seed: int) -> tuple[int, int]:
    """(tries with any slice x feature drifted, tries whose whole check drifted)."""
    rng = np.random.default_rng(seed)
    sliced = whole = 0
    with tempfile.TemporaryDirectory() as tmp:
        ref, live = Path(tmp) / "ref.parquet", Path(tmp) / "live.parquet"
        for _ in range(tries):
            pq.write_table(table(rng, 2 * rows_per_slice), ref)
            pq.write_table(table(rng, rows_per_slice), live)
            result = check_slices(str(live), str(ref), BySlice("country"), store=Path(tmp))
            sliced += bool(result.drifted)
            whole += result.whole.drift
    return sliced, whole


def upper_95(k: int, n: int) -> float:
    """A one-sided 95% upper bound of a rate seen k times in n (Wilson)."""
    z = 1.645
    p = k / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + margin) / (1 + z * z / n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=400)
    parser.add_argument("--rows-per-slice", type=int, default=100)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    sliced, whole = false_alarms(args.tries, args.rows_per_slice, args.seed)
    print(
        f"{SLICES} slices x {FEATURES} features, {args.rows_per_slice} live rows a slice, "
        f"{args.tries} tries without change:\n"
        f"  any slice x feature drifted: {sliced} ({sliced / args.tries:.2%}, 95% upper "
        f"bound {upper_95(sliced, args.tries):.2%}); target at most the evidence level 0.5%\n"
        f"  the whole check drifted:    {whole} ({whole / args.tries:.2%})"
    )


if __name__ == "__main__":
    main()
