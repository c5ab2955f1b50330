"""A sliced check against the unsliced one, in the same run: 1M rows, 25 features,
20 slices (the benchmark data's `cat_2`, 20 categories).

    .venv/bin/python benchmarks/bench_slices.py [--rows 1000000] [--repeat 5]

Both references are built first (`driftcli reference --output`, one with
`--slice cat_2`); then `driftcli check LIVE --ref SNAPSHOT --format json` runs
with each, in turns (sliced, unsliced, sliced, ...), so a slow spell of the
machine hits both. Prints each one's median wall time and the median of the
pairwise ratios; the target is at most 1.5.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import DATA, VERSION

DRIFTCLI = [sys.executable, "-m", "driftcli"]
TARGET = 1.5
COLUMN = "cat_2"


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ref = DATA / f"ref_{VERSION}_{args.rows}.parquet"
    live = DATA / f"live_{VERSION}_{args.rows}.parquet"
    if not (ref.exists() and live.exists()):
        raise SystemExit(f"no benchmark data: run benchmarks/generate.py --rows {args.rows}")
    with tempfile.TemporaryDirectory() as tmp:
        plain, sliced = Path(tmp) / "plain.parquet", Path(tmp) / "sliced.parquet"
        subprocess.run([*DRIFTCLI, "reference", str(ref), "-o", str(plain), "-q"], check=True)
        subprocess.run(
            [*DRIFTCLI, "reference", str(ref), "--slice", COLUMN, "-o", str(sliced), "-q"],
            check=True,
        )
        check = [*DRIFTCLI, "check", str(live), "--format", "json", "--ref"]
        timed([*check, str(sliced)])  # warm the page cache for both
        timed([*check, str(plain)])
        pairs = [
            (timed([*check, str(sliced)]), timed([*check, str(plain)])) for _ in range(args.repeat)
        ]
    ratios = [a / b for a, b in pairs]
    ratio = statistics.median(ratios)
    print(
        f"{args.rows:,} rows, 25 features, 20 slices of {COLUMN}, {args.repeat} pairs:\n"
        f"  sliced   {statistics.median(a for a, _ in pairs):.2f} s (median wall)\n"
        f"  unsliced {statistics.median(b for _, b in pairs):.2f} s\n"
        f"  ratio    {ratio:.2f} (median of pairs; min {min(ratios):.2f}, max {max(ratios):.2f})"
        f"  target <= {TARGET}: {'PASS' if ratio <= TARGET else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
