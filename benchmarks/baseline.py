"""The straightforward numpy version the issue measures against.

    python benchmarks/baseline.py LIVE.parquet REF.parquet   # prints {feature: KL} as JSON

Whole tables in memory, np.quantile edges per numeric column, searchsorted
+ bincount per column, categorical value counts; the same statistic as
driftcli (20 quantile bins with open ends, missing bucket, KL(live || ref)
with 0.5 smoothing over buckets used by either side), so scores compare.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BINS = 20


def kl(live: np.ndarray, ref: np.ndarray) -> float:
    used = (live + ref) > 0
    p = live[used] + 0.5
    q = ref[used] + 0.5
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


def numeric_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    missing = np.isnan(values)
    index = np.searchsorted(edges, values[~missing], side="right")
    counts = np.bincount(index, minlength=len(edges) + 1)
    return np.r_[counts, missing.sum(), 0]


def main(live_path: str, ref_path: str) -> None:
    ref = pq.read_table(ref_path)
    live = pq.read_table(live_path)
    scores = {}
    for name in ref.column_names:
        r, lv = ref.column(name), live.column(name)
        if pa.types.is_floating(r.type) or pa.types.is_integer(r.type):
            rv = r.to_numpy().astype(np.float64)
            lvv = lv.to_numpy().astype(np.float64)
            finite = rv[np.isfinite(rv)]
            edges = np.unique(np.quantile(finite, np.arange(1, BINS) / BINS))
            scores[name] = kl(numeric_counts(lvv, edges), numeric_counts(rv, edges))
        else:
            ref_counts = pc.value_counts(r).to_pylist()
            ranked = sorted(
                ((d["values"], d["counts"]) for d in ref_counts if d["values"] is not None),
                key=lambda item: (-item[1], item[0]),
            )[:BINS]
            vocab = [label for label, _ in ranked]

            def counts(column: pa.ChunkedArray, vocab: list[str] = vocab) -> np.ndarray:
                index = pc.index_in(column, value_set=pa.array(vocab)).to_numpy(
                    zero_copy_only=False
                )
                missing = np.asarray(column.is_null().to_numpy(zero_copy_only=False))
                index = np.where(np.isnan(index), len(vocab), index).astype(np.int64)
                tally = np.bincount(index[~missing], minlength=len(vocab) + 1)
                return np.r_[tally, missing.sum(), 0]

            scores[name] = kl(counts(lv), counts(r))
    json.dump(scores, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
