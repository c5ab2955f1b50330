"""The local engine against Dask (2 workers) on the same multi-file dataset.

    python benchmarks/bench_dask.py --rows 5000000 --parts 10

Splits the generated Parquet pair into --parts files each, starts a Dask
LocalCluster of 2 single-threaded worker processes on 127.0.0.1, and times
(best of --repeat) `driftcli check LIVE_DIR --ref REF_DIR` with --engine
local and with --engine dask --scheduler, as processes, plus
`driftcli reference` both ways. Checks the verdicts agree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench import DRIFTCLI, Command, measure  # noqa: E402
from generate import DATA, VERSION, ensure  # noqa: E402


def split(source: Path, target: Path, parts: int) -> Path:
    if target.exists():
        return target
    target.mkdir(parents=True)
    parquet = pq.ParquetFile(source)
    rows = parquet.metadata.num_rows
    size = -(-rows // parts)
    table = pq.read_table(source)
    for i in range(parts):
        pq.write_table(table.slice(i * size, size), target / f"part-{i:03d}.parquet")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--parts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ref_file, live_file = ensure(args.rows)
    base = DATA / f"parts_{VERSION}_{args.rows}_{args.parts}"
    ref = split(ref_file, base / "ref", args.parts)
    live = split(live_file, base / "live", args.parts)

    import distributed

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0",
        silence_logs=50,
    ) as cluster:  # fmt: skip
        dask = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
        check = [*DRIFTCLI, "check", str(live), "--ref", str(ref), "-f", "json"]
        with_store = {"DRIFTCLI_STORE": str(base / "store")}
        reference = [
            *DRIFTCLI,
            "reference",
            str(ref),
            "--sample-size",
            "0",
            "-o",
            str(base / "s.parquet"),
        ]
        runs = measure(
            {
                "local check": Command(check),
                "dask check": Command([*check, *dask]),
                "local reference": Command(reference, env=with_store),
                "dask reference": Command([*reference, *dask], env=with_store),
            },
            args.repeat,
        )
    local_check, dask_check = runs["local check"], runs["dask check"]
    local_ref, dask_ref = runs["local reference"], runs["dask reference"]
    verdicts = [
        {f["name"]: f["status"] for f in json.loads(run.output)["features"]}
        for run in (local_check, dask_check)
    ]
    print(
        f"# local vs Dask, {args.rows:,} rows x 25 columns in {args.parts} Parquet files per side\n"
    )
    print("| command | local s | dask (2 workers) s | dask / local |")
    print("|---|---|---|---|")
    for name, a, b in (
        ("check LIVE --ref REF", local_check, dask_check),
        ("reference REF", local_ref, dask_ref),
    ):
        print(f"| {name} | {a.seconds:.2f} | {b.seconds:.2f} | {b.seconds / a.seconds:.2f} |")
    print(f"\nsame verdict for every feature: {verdicts[0] == verdicts[1]}")


if __name__ == "__main__":
    main()
