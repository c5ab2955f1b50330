"""Seeded benchmark data: reference and live, N rows x 25 columns, with five planted drifts.

    python benchmarks/generate.py --rows 1000000 [--jsonl] [--timestamped]

writes benchmarks/data/ref_v2_1000000.parquet and live_v2_1000000.parquet
(with --jsonl also live_v2_1000000.jsonl; with --timestamped
live_ts_v2_1000000.parquet, the live table and a `ts` column, a day per
100,000 rows) unless they are there, and the ground truth,
benchmarks/data/truth_v2.json; prints the paths.

20 numeric columns with 1% missing values (5 normal, 5 lognormal, 5
uniform, 4 Poisson, 1 two-component normal mixture) and 5 categorical ones
(3 to 200 categories, Zipf-like weights). The live table draws every column
from the reference's distribution (with other seeds), except the five in
PLANTED, each shifted in its own way, by a moderate amount: binned KL(live
|| ref) 0.12-0.21 at large n (20 reference quantile bins with open ends, a
missing bucket, 0.5 smoothing: what baseline.py computes), against a
default threshold of 0.1. A column without a planted shift scores only its
sampling noise, about (buckets - 1) / n for n rows a side (2e-4 at 100k).

The statistic's expected value for each planted column is computed here
from the distributions (truth()), not from a sample.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

# numpy and pyarrow are imported where tables are made, so that bench.py can
# import PLANTED and the paths without growing: a child's peak RSS as wait4
# reports it is at least the benchmark process's RSS (see bench.py).

VERSION = "v2"  # in the file names: files of another generator are never reused
DATA = Path(__file__).parent / "data"
BINS = 20  # as in baseline.py
MISSING = 0.01  # share of missing values in every numeric column
KL_THRESHOLD = 0.1  # driftcli's default KL threshold
ROW_GROUP = 1 << 20  # pq.write_table's default row group; tables are made one at a time
SEEDS = {"ref": 1, "live": 2}
ROWS_PER_DAY = 100_000  # the timestamped live table: a day of data per this many rows
TIME_START_US = 1_772_323_200_000_000  # 2026-03-01T00:00:00Z, in microseconds
CARDINALITIES = [3, 8, 20, 50, 200]


def _numeric(i: int) -> dict[str, Any]:
    if i == 19:
        return {"shape": "mixture", "weights": [0.8, 0.2], "means": [0.0, 4.0], "sds": [1.0, 1.0]}
    return [
        {"shape": "normal", "mean": 0.0, "sd": 1.0},
        {"shape": "lognormal", "mu": 0.0, "sigma": 0.7},
        {"shape": "uniform", "low": 0.0, "high": 100.0},
        {"shape": "poisson", "lam": 30.0},
    ][i % 4]


# The reference's distribution of every column.
COLUMNS: dict[str, dict[str, Any]] = {
    **{f"num_{i:02d}": _numeric(i) for i in range(20)},
    **{
        f"cat_{j}": {"shape": "categorical", "categories": k, "zipf": 1.0}
        for j, k in enumerate(CARDINALITIES)
    },
}

# The planted shifts: kind, and the live parameters that differ from COLUMNS'.
SHIFTS: dict[str, dict[str, Any]] = {
    "num_04": {"kind": "mean shift (0.5 sd)", "live": {"mean": 0.5}},
    "num_09": {"kind": "lognormal spread change", "live": {"sigma": 1.1}},
    "num_14": {"kind": "uniform scale change", "live": {"high": 120.0}},
    "num_19": {"kind": "mixture weight change", "live": {"weights": [0.5, 0.5]}},
    "cat_2": {"kind": "category mix change (flatter)", "live": {"zipf": 0.4}},
}

# What bench.py and tests check against: feature -> kind of shift.
PLANTED: dict[str, str] = {name: shift["kind"] for name, shift in SHIFTS.items()}


def spec(name: str, side: str) -> dict[str, Any]:
    """The distribution of column `name` in the "ref" or "live" table."""
    params = dict(COLUMNS[name])
    if side == "live" and name in SHIFTS:
        params.update(SHIFTS[name]["live"])
    return params


# --- drawing -------------------------------------------------------------


def _zipf(params: dict[str, Any]) -> list[float]:
    weights = [k ** -params["zipf"] for k in range(1, params["categories"] + 1)]
    total = sum(weights)
    return [w / total for w in weights]


def _draw(params: dict[str, Any], rng: Any, rows: int) -> Any:
    import numpy as np

    shape = params["shape"]
    if shape == "normal":
        return rng.normal(params["mean"], params["sd"], rows)
    if shape == "lognormal":
        return rng.lognormal(params["mu"], params["sigma"], rows)
    if shape == "uniform":
        return rng.uniform(params["low"], params["high"], rows)
    if shape == "poisson":
        return rng.poisson(params["lam"], rows).astype(np.float64)
    if shape == "mixture":
        (m0, m1), (s0, s1) = params["means"], params["sds"]
        second = rng.random(rows) < params["weights"][1]
        return np.where(second, m1, m0) + np.where(second, s1, s0) * rng.standard_normal(rows)
    if shape == "categorical":
        return rng.choice(params["categories"], rows, p=_zipf(params))
    raise ValueError(shape)


def tables(rows: int, side: str) -> Any:
    """The "ref" or "live" table, as pyarrow tables of up to ROW_GROUP rows.

    One generator per column (seeded by side and column), so each column's
    values do not depend on the others' parameters.
    """
    import numpy as np
    import pyarrow as pa

    rngs = {name: np.random.default_rng([SEEDS[side], index]) for index, name in enumerate(COLUMNS)}
    labels = {
        name: pa.array([f"cat{name[4:]}_{k}" for k in range(params["categories"])])
        for name, params in COLUMNS.items()
        if params["shape"] == "categorical"
    }
    for start in range(0, rows, ROW_GROUP):
        n = min(ROW_GROUP, rows - start)
        columns = {}
        for name, rng in rngs.items():
            params = spec(name, side)
            values = _draw(params, rng, n)
            if params["shape"] == "categorical":
                columns[name] = labels[name].take(pa.array(values))
            else:
                columns[name] = pa.array(values, mask=rng.random(n) < MISSING)
        yield pa.table(columns)


# --- the statistic's expected value --------------------------------------


def _cdf(params: dict[str, Any], x: float) -> float:
    shape = params["shape"]
    if shape == "normal":
        return NormalDist(params["mean"], params["sd"]).cdf(x)
    if shape == "lognormal":
        return NormalDist(params["mu"], params["sigma"]).cdf(math.log(x)) if x > 0 else 0.0
    if shape == "uniform":
        return min(max((x - params["low"]) / (params["high"] - params["low"]), 0.0), 1.0)
    if shape == "mixture":
        parts = zip(params["weights"], params["means"], params["sds"], strict=True)
        return sum(w * NormalDist(m, s).cdf(x) for w, m, s in parts)
    raise ValueError(shape)


def _quantile(params: dict[str, Any], p: float) -> float:
    shape = params["shape"]
    if shape == "normal":
        return NormalDist(params["mean"], params["sd"]).inv_cdf(p)
    if shape == "lognormal":
        return math.exp(NormalDist(params["mu"], params["sigma"]).inv_cdf(p))
    if shape == "uniform":
        return params["low"] + p * (params["high"] - params["low"])
    if shape == "mixture":
        low, high = -100.0, 100.0
        for _ in range(200):
            mid = (low + high) / 2
            low, high = (mid, high) if _cdf(params, mid) < p else (low, mid)
        return (low + high) / 2
    raise ValueError(shape)


def _kl(live: list[float], ref: list[float]) -> float:
    return sum(p * math.log(p / q) for p, q in zip(live, ref, strict=True) if p > 0)


def expected_kl(name: str) -> float:
    """Binned KL(live || ref) of column `name` as n grows (smoothing vanishes).

    Numeric: 20 buckets between the reference's quantiles at 5%, 10%, ...,
    95% (open outer ones) hold 99% of the values, the missing bucket 1% on
    both sides. Categorical: the reference's 20 most frequent labels, the
    rest as one bucket (as baseline.py).
    """
    ref, live = spec(name, "ref"), spec(name, "live")
    if ref["shape"] == "categorical":
        r, lv = _zipf(ref), _zipf(live)
        top = sorted(range(len(r)), key=lambda k: -r[k])[:BINS]
        rest = [k for k in range(len(r)) if k not in top]
        buckets_ref = [r[k] for k in top] + [sum(r[k] for k in rest)]
        buckets_live = [lv[k] for k in top] + [sum(lv[k] for k in rest)]
        return _kl(buckets_live, buckets_ref)
    if ref == live:
        return 0.0
    edges = [_quantile(ref, b / BINS) for b in range(1, BINS)]
    below = [0.0, *(_cdf(live, e) for e in edges), 1.0]
    buckets_live = [(1 - MISSING) * (b - a) for a, b in itertools.pairwise(below)] + [MISSING]
    buckets_ref = [(1 - MISSING) / BINS] * BINS + [MISSING]
    return _kl(buckets_live, buckets_ref)


def truth() -> dict[str, Any]:
    """The ground truth: every column's distribution, and the planted shifts."""
    return {
        "version": VERSION,
        "statistic": (
            "binned KL(live || ref): 20 buckets between the reference's quantiles (open outer "
            "ones) and a missing bucket, or the reference's 20 most frequent labels and the rest; "
            "0.5 smoothing (benchmarks/baseline.py). expected_kl is its limit as n grows."
        ),
        "kl_threshold": KL_THRESHOLD,
        "missing_share_numeric": MISSING,
        "noise": "a column without a planted shift scores about (buckets - 1) / n, n rows a side",
        "planted": {
            name: {
                "kind": shift["kind"],
                "reference": spec(name, "ref"),
                "live": spec(name, "live"),
                "expected_kl": round(expected_kl(name), 4),
            }
            for name, shift in SHIFTS.items()
        },
        "columns": COLUMNS,
    }


# --- files ---------------------------------------------------------------


def paths(rows: int) -> tuple[Path, Path]:
    return DATA / f"ref_{VERSION}_{rows}.parquet", DATA / f"live_{VERSION}_{rows}.parquet"


def timestamped_path(rows: int) -> Path:
    return DATA / f"live_ts_{VERSION}_{rows}.parquet"


def jsonl_path(rows: int) -> Path:
    return DATA / f"live_{VERSION}_{rows}.jsonl"


def truth_path() -> Path:
    return DATA / f"truth_{VERSION}.json"


def _partial(path: Path) -> Path:
    # Written under another name, renamed when complete: an interrupted run
    # leaves no file that a later run would take for finished.
    return path.with_name(path.name + ".partial")


def ensure(rows: int) -> tuple[Path, Path]:
    """Write the pair for `rows` (and the ground truth) unless it is already there."""
    import pyarrow.parquet as pq

    ref, live = paths(rows)
    DATA.mkdir(parents=True, exist_ok=True)
    text = json.dumps(truth(), indent=2) + "\n"
    if not truth_path().exists() or truth_path().read_text(encoding="utf-8") != text:
        _partial(truth_path()).write_text(text, encoding="utf-8")
        _partial(truth_path()).replace(truth_path())
    for path, side in ((ref, "ref"), (live, "live")):
        if path.exists():
            continue
        writer = None
        for table in tables(rows, side):
            writer = writer or pq.ParquetWriter(_partial(path), table.schema)
            writer.write_table(table, row_group_size=ROW_GROUP)
        assert writer is not None, "rows must be positive"
        writer.close()
        _partial(path).replace(path)
    return ref, live


def ensure_timestamped(rows: int) -> Path:
    """The live table with a `ts` column (for the chunked check): one day of data per
    ROWS_PER_DAY rows, in time order, from TIME_START (UTC). Every other column is the
    live table's, so the planted shifts, and the ground truth, hold in every day."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    _, live = ensure(rows)
    path = timestamped_path(rows)
    if path.exists():
        return path
    step = 86_400_000_000 // ROWS_PER_DAY  # microseconds between rows
    writer = None
    done = 0
    for batch in pq.ParquetFile(live).iter_batches(batch_size=ROW_GROUP):
        ts = TIME_START_US + (done + np.arange(batch.num_rows, dtype=np.int64)) * step
        table = pa.Table.from_batches([batch]).append_column(
            "ts", pa.array(ts, pa.timestamp("us", "UTC"))
        )
        writer = writer or pq.ParquetWriter(_partial(path), table.schema)
        writer.write_table(table, row_group_size=ROW_GROUP)
        done += batch.num_rows
    assert writer is not None, "rows must be positive"
    writer.close()
    _partial(path).replace(path)
    return path


MANY_CHUNKS_FEATURES = 10
"""The many-chunks data: x0 ... x9, normal with 1% missing; in the live table x0 ... x4
are shifted by 0.5 sd, the others drawn as the reference."""
MANY_CHUNKS_SHIFTED = 5
MANY_CHUNKS_REF_ROWS = 100_000
MANY_CHUNKS_LIVE_ROWS = 1_000_000
"""Ten days of ROWS_PER_DAY rows: by 2-minute chunks, 7,200 chunks of about 139 rows."""


def many_chunks_paths() -> tuple[Path, Path]:
    return (
        DATA / f"chunks_ref_{VERSION}_{MANY_CHUNKS_REF_ROWS}.parquet",
        DATA / f"chunks_live_ts_{VERSION}_{MANY_CHUNKS_LIVE_ROWS}.parquet",
    )


def ensure_many_chunks() -> tuple[Path, Path]:
    """The many-chunks pair (for `bench.py --many-chunks`), unless it is there."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    DATA.mkdir(parents=True, exist_ok=True)
    step = 86_400_000_000 // ROWS_PER_DAY
    sides = (("ref", MANY_CHUNKS_REF_ROWS), ("live", MANY_CHUNKS_LIVE_ROWS))
    for path, (side, rows) in zip(many_chunks_paths(), sides, strict=True):
        if path.exists():
            continue
        rng = np.random.default_rng([SEEDS[side], 1000])
        columns = {}
        for i in range(MANY_CHUNKS_FEATURES):
            shift = 0.5 if side == "live" and i < MANY_CHUNKS_SHIFTED else 0.0
            values = rng.normal(shift, 1.0, rows)
            columns[f"x{i}"] = pa.array(values, mask=rng.random(rows) < MISSING)
        if side == "live":
            ts = TIME_START_US + np.arange(rows, dtype=np.int64) * step
            columns["ts"] = pa.array(ts, pa.timestamp("us", "UTC"))
        pq.write_table(pa.table(columns), _partial(path), row_group_size=ROW_GROUP)
        _partial(path).replace(path)
    return many_chunks_paths()


def ensure_jsonl(rows: int) -> Path:
    """The live table as JSON lines (for the JSON-lines targets)."""
    import pyarrow.parquet as pq

    _, live = ensure(rows)
    path = jsonl_path(rows)
    if not path.exists():
        with _partial(path).open("w", encoding="utf-8") as out:
            for batch in pq.ParquetFile(live).iter_batches(batch_size=50_000):
                out.writelines(json.dumps(row) + "\n" for row in batch.to_pylist())
        _partial(path).replace(path)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--jsonl", action="store_true", help="the live table as JSON lines too")
    parser.add_argument(
        "--timestamped", action="store_true", help="the live table with a ts column too"
    )
    parser.add_argument(
        "--many-chunks",
        action="store_true",
        help="only the many-chunks pair (10 features, 1M live rows over 10 days)",
    )
    args = parser.parse_args()
    if args.many_chunks:
        print(*ensure_many_chunks())
        raise SystemExit(0)
    print(*ensure(args.rows), truth_path())
    if args.jsonl:
        print(ensure_jsonl(args.rows))
    if args.timestamped:
        print(ensure_timestamped(args.rows))
