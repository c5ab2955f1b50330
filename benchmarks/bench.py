"""driftcli's speed and memory, as ratios against baselines measured in the same run.

    python benchmarks/bench.py                 # 1M and 5M rows (generates data on first run)
    python benchmarks/bench.py --rows 1000000  # one size
    python benchmarks/bench.py --quick         # 200k rows, for a smoke run

Every command runs as its own process, timed by wall clock (best of
--repeat runs, the machine is noisy) with its peak memory from wait4's
rusage. The baselines:

- read-only: a Python process that imports pyarrow and reads both Parquet
  files whole (pq.read_table), the floor any tool pays;
- straightforward numpy: benchmarks/baseline.py, whole tables in memory,
  np.quantile edges, searchsorted + bincount per column.

Prints a table, the targets of issues 5 and 14 with PASS/FAIL, the largest gap
between driftcli's scores and the baseline's, and the verdicts: the live
table has five planted drifts (generate.PLANTED), and driftcli's defaults
should flag exactly those (its JSON output's "drift"), no other feature.

The data is generated in a child process (benchmarks/generate.py), and this
process imports neither numpy nor pyarrow: on Linux a child's ru_maxrss
starts from this process's peak RSS (subprocess starts children with vfork,
and exec records the shared address space's high-water mark; after a plain
fork it would be this process's RSS at the fork), so a big benchmark
process would inflate every peak measured. It prints the peak of
`python -c pass` to show the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

# generate imports numpy and pyarrow only to write tables, which it does in
# its own process here (see data()).
from generate import (  # noqa: E402
    KL_THRESHOLD,
    MANY_CHUNKS_FEATURES,
    MANY_CHUNKS_SHIFTED,
    PLANTED,
    ROWS_PER_DAY,
    jsonl_path,
    many_chunks_paths,
    paths,
    timestamped_path,
)

PYTHON = sys.executable
DRIFTCLI = [PYTHON, "-m", "driftcli"]


@dataclass
class Run:
    seconds: float
    peak_mib: float
    output: bytes


@dataclass
class Command:
    argv: list[str]
    stdin: Path | None = None
    env: dict[str, str] | None = None


def run_once(command: Command) -> Run:
    """One run: wall time, and peak RSS from wait4's rusage."""
    with tempfile.TemporaryFile() as out:
        source = open(command.stdin, "rb") if command.stdin else subprocess.DEVNULL  # noqa: SIM115
        started = time.perf_counter()
        proc = subprocess.Popen(
            command.argv, stdin=source, stdout=out, stderr=subprocess.PIPE,
            cwd=ROOT, env={**os.environ, **(command.env or {})},
        )  # fmt: skip
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if command.stdin:
            source.close()  # type: ignore[union-attr]
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{command.argv} failed ({proc.returncode}): {err.decode()[-500:]}")
        out.seek(0)
        return Run(seconds, usage.ru_maxrss / 1024, out.read())


def measure(commands: dict[str, Command], repeat: int) -> dict[str, Run]:
    """Best wall time of `repeat` runs of each command, and the peak RSS of its fastest.

    The commands take turns (round robin), so a slow spell of this noisy
    machine hits all of them instead of skewing one ratio.
    """
    best: dict[str, Run] = {}
    for _ in range(repeat):
        for name, command in commands.items():
            run = run_once(command)
            if name not in best or run.seconds < best[name].seconds:
                best[name] = run
    return best


def data(rows: int, jsonl: bool = False, timestamped: bool = False) -> tuple[Path, Path]:
    """The (ref, live) Parquet pair for `rows`, and its JSON lines and the live table
    with a time column if asked.

    Written by benchmarks/generate.py in a child process unless it is there,
    so this process stays small (see the module's docstring).
    """
    argv = [PYTHON, str(HERE / "generate.py"), "--rows", str(rows)]
    argv += ["--jsonl"] if jsonl else []
    argv += ["--timestamped"] if timestamped else []
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    ref, live = paths(rows)
    assert ref.exists() and live.exists() and (not jsonl or jsonl_path(rows).exists())
    assert not timestamped or timestamped_path(rows).exists()
    return ref, live


def rss_floor() -> str:
    """The peak RSS a trivial child reports, and this process's own."""
    child = run_once(Command([PYTHON, "-c", "pass"])).peak_mib
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return f"peak RSS of `python -c pass`: {child:.0f} MiB (this process's peak: {own:.0f} MiB)"


def read_only(live: Path, ref: Path) -> list[str]:
    code = (
        f"import pyarrow.parquet as pq; pq.read_table({str(ref)!r}); pq.read_table({str(live)!r})"
    )
    return [PYTHON, "-c", code]


def scores_gap(driftcli_json: bytes, baseline_json: bytes) -> float:
    ours = {f["name"]: f["score"] for f in json.loads(driftcli_json)["features"]}
    theirs = json.loads(baseline_json)
    return max(abs(ours[name] - theirs[name]) for name in theirs)


def flagged(driftcli_json: bytes) -> list[str]:
    """The features driftcli's verdict flags (its "drift", score and evidence)."""
    return [f["name"] for f in json.loads(driftcli_json)["features"] if f["drift"]]


def baseline_flagged(baseline_json: bytes) -> list[str]:
    return [name for name, score in json.loads(baseline_json).items() if score > KL_THRESHOLD]


def verdict_changes(driftcli_json: bytes, baseline_json: bytes) -> list[str]:
    """Features flagged by one of driftcli and the baseline (score > 0.1) but not the other."""
    return sorted(set(flagged(driftcli_json)) ^ set(baseline_flagged(baseline_json)))


def planted_check(driftcli_json: bytes) -> str:
    """PASS if the defaults flag exactly the planted features, else FAIL and how not."""
    ours = set(flagged(driftcli_json))
    missed, extra = sorted(set(PLANTED) - ours), sorted(ours - set(PLANTED))
    if not missed and not extra:
        return verdict(True)
    how = [f"missed {', '.join(missed)}"] if missed else []
    how += [f"also flagged {', '.join(extra)}"] if extra else []
    return f"{verdict(False)} ({'; '.join(how)})"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def bench_size(rows: int, repeat: int) -> dict[str, Run]:
    ref, live = data(rows)
    runs = measure(
        {
            "read-only (pyarrow, both files)": Command(read_only(live, ref)),
            "straightforward numpy": Command(
                [PYTHON, str(HERE / "baseline.py"), str(live), str(ref)]
            ),
            "driftcli check": Command(
                [*DRIFTCLI, "check", str(live), "--ref", str(ref), "--format", "json"]
            ),
        },
        repeat,
    )
    print(
        f"\n## {rows:,} rows x 25 columns (Parquet, {live.stat().st_size / 2**20:,.0f} MiB each)\n"
    )
    print(f"| {'command':34} | wall s | x read | peak MiB |")
    print(f"|{'-' * 36}|--------|--------|----------|")
    floor = runs["read-only (pyarrow, both files)"].seconds
    for name, run in runs.items():
        print(
            f"| {name:34} | {run.seconds:6.2f} | {run.seconds / floor:6.2f} | {run.peak_mib:8.0f} |"
        )
    ours, theirs = runs["driftcli check"].output, runs["straightforward numpy"].output
    gap = scores_gap(ours, theirs)
    print(f"\nlargest |score(driftcli) - score(baseline)|: {gap:.2e}")
    changed = verdict_changes(ours, theirs)
    print(
        f"features whose verdict differs (driftcli's drift vs baseline score > {KL_THRESHOLD:g}): "
        f"{', '.join(changed) or 'none'}"
    )
    print(f"\nplanted: {'; '.join(f'{name} {kind}' for name, kind in PLANTED.items())}")
    print(f"flagged by driftcli (defaults): {', '.join(flagged(ours)) or 'none'}")
    print(f"the defaults flag exactly the planted features, and no other: {planted_check(ours)}")
    return runs


def bench_jsonl(rows: int, repeat: int) -> None:
    ref, _ = data(rows, jsonl=True)
    jsonl = jsonl_path(rows)
    size = jsonl.stat().st_size
    with tempfile.TemporaryDirectory() as store:
        env = {"DRIFTCLI_STORE": store}
        run_once(Command([*DRIFTCLI, "reference", str(ref), "--sample-size", "0"], env=env))
        runs = measure(
            {
                "parse": Command(
                    [PYTHON, "-c", f"import pyarrow.json as pj; pj.read_json({str(jsonl)!r})"]
                ),
                "both": Command(
                    [
                        PYTHON,
                        "-c",
                        "import pyarrow.json as pj, pyarrow.parquet as pq; "
                        f"pj.read_json({str(jsonl)!r}); pq.read_table({str(ref)!r})",
                    ]
                ),
                "check": Command([*DRIFTCLI, "check", str(jsonl), "--ref", str(ref), "-f", "json"]),
                "ingest": Command([*DRIFTCLI, "ingest", "-"], stdin=jsonl, env=env),
            },
            repeat,
        )
    parse, both, check, ingest = (runs[k] for k in ("parse", "both", "check", "ingest"))
    floor = both.seconds
    print(f"\n## JSON lines: {rows:,} rows, {size / 2**20:,.0f} MiB\n")
    print("| command | wall s | MB/s | peak MiB |")
    print("|---|---|---|---|")
    for name, run in (
        ("pyarrow.json.read_json (parse only)", parse),
        ("driftcli check LIVE.jsonl --ref REF.parquet", check),
        ("driftcli ingest - (stdin)", ingest),
    ):
        rate = size / 2**20 / run.seconds
        print(f"| {name} | {run.seconds:.2f} | {rate:.0f} | {run.peak_mib:.0f} |")
    print(
        f"\ntarget 3a: check <= 1.3 x (parse + reference read, one process: {floor:.2f} s): "
        f"{check.seconds / floor:.2f} x {verdict(check.seconds <= 1.3 * floor)}"
    )
    print(
        f"target 3b: ingest >= 70% of parse throughput: "
        f"{parse.seconds / ingest.seconds:.0%} {verdict(parse.seconds / ingest.seconds >= 0.7)}"
    )
    print(
        f"JSON-lines check flags exactly the planted features: {planted_check(check.output)} "
        f"(flagged {', '.join(flagged(check.output)) or 'none'})"
    )


def chunks_flagging_exactly_the_planted(driftcli_json: bytes) -> str:
    """PASS if every chunk's defaults flag exactly the planted features, else which do not."""
    chunks = json.loads(driftcli_json)["chunks"]
    wrong = [
        c["start"][:10]
        for c in chunks
        if {f["name"] for f in c["features"] if f["drift"]} != set(PLANTED)
    ]
    how = f" (not in {', '.join(wrong)})" if wrong else ""
    return f"{verdict(not wrong)}{how}, {len(chunks)} chunks"


def bench_timeline(rows: int, repeat: int) -> tuple[Run, Run]:
    """A check by days (--by ts --every 1d) against the same check of the whole file."""
    ref, _ = data(rows, timestamped=True)
    live = timestamped_path(rows)
    whole = [*DRIFTCLI, "check", str(live), "--ref", str(ref), "--format", "json"]
    runs = measure(
        {"whole": Command(whole), "by day": Command([*whole, "--by", "ts", "--every", "1d"])},
        repeat,
    )
    flat, daily = runs["whole"], runs["by day"]
    days = rows // ROWS_PER_DAY
    print(f"\n## Chunked check: {rows:,} rows, {days} days of {ROWS_PER_DAY:,} rows (Parquet)\n")
    print("| command | wall s | x whole | peak MiB |")
    print("|---|---|---|---|")
    for name, run in (("driftcli check LIVE_TS", flat), ("... --by ts --every 1d", daily)):
        ratio = run.seconds / flat.seconds
        print(f"| {name} | {run.seconds:.2f} | {ratio:.2f} | {run.peak_mib:.0f} |")
    ratio = daily.seconds / flat.seconds
    print(
        f"\ntarget 5 ({rows:,} rows): by day <= 1.3 x the whole check: {ratio:.2f} x "
        f"{verdict(ratio <= 1.3)}"
    )
    exact = chunks_flagging_exactly_the_planted(daily.output)
    print(f"every day flags exactly the planted features: {exact}")
    return flat, daily


def timelines(sizes: list[int], repeat: int) -> None:
    """The chunked check at each size, and how its peak memory grows with the rows."""
    runs = {rows: bench_timeline(rows, repeat) for rows in sizes}
    if len(runs) > 1:
        small, large = (runs[r][1].peak_mib for r in (min(runs), max(runs)))
        growth = large / small - 1
        print(
            f"\ntarget 5 (memory, {min(runs):,} -> {max(runs):,} rows): by day grows "
            f"<= 30%: {growth:+.0%} {verdict(growth <= 0.3)}"
        )


def chunk_shares(driftcli_json: bytes) -> tuple[int, dict[str, float]]:
    """The chunks of a chunked check, and the share of them in which each feature drifted."""
    chunks = json.loads(driftcli_json)["chunks"]
    drifted: dict[str, int] = {}
    for chunk in chunks:
        for f in chunk["features"]:
            drifted[f["name"]] = drifted.get(f["name"], 0) + bool(f["drift"])
    return len(chunks), {name: n / len(chunks) for name, n in drifted.items()}


def bench_many_chunks(repeat: int) -> None:
    """Many small chunks (issue 19): 1M rows by 2 minutes, 7,200 chunks of about 139 rows,
    10 features of which 5 are shifted 0.5 sd, against the same check unchunked, in turns;
    then the 25-feature timestamped log of 1M rows by 2 minutes."""
    subprocess.run(
        [PYTHON, str(HERE / "generate.py"), "--many-chunks"], check=True, stdout=subprocess.DEVNULL
    )
    ref, live = many_chunks_paths()
    whole = [*DRIFTCLI, "check", str(live), "--ref", str(ref), "--format", "json"]
    runs = measure(
        {"whole": Command(whole), "by 2 minutes": Command([*whole, "--by", "ts", "--every", "2m"])},
        repeat,
    )
    flat, chunked = runs["whole"], runs["by 2 minutes"]
    chunks, shares = chunk_shares(chunked.output)
    print(
        f"\n## Many small chunks: 1M rows, {MANY_CHUNKS_FEATURES} features "
        f"({MANY_CHUNKS_SHIFTED} shifted 0.5 sd), by 2 minutes: {chunks:,} chunks\n"
    )
    print("| command | wall s | x whole | peak MiB |")
    print("|---|---|---|---|")
    for name, run in (("driftcli check LIVE", flat), ("... --by ts --every 2m", chunked)):
        ratio = run.seconds / flat.seconds
        print(f"| {name} | {run.seconds:.2f} | {ratio:.2f} | {run.peak_mib:.0f} |")
    ratio = chunked.seconds / flat.seconds
    print(
        f"\ntarget (issue 19): by 2 minutes <= 10 x the whole check: {ratio:.2f} x "
        f"{verdict(ratio <= 10)}"
    )
    shifted = [f"x{i}" for i in range(MANY_CHUNKS_SHIFTED)]
    caught = min(shares[name] for name in shifted)
    alarms = max(v for name, v in shares.items() if name not in shifted)
    print(
        f"chunks flagging each shifted feature: at least {caught:.1%}; "
        f"each unshifted feature: at most {alarms:.2%}"
    )
    rows = 1_000_000
    ref, _ = data(rows, timestamped=True)
    log = [*DRIFTCLI, "check", str(timestamped_path(rows)), "--ref", str(ref), "-f", "json"]
    [by_two] = measure({"log": Command([*log, "--by", "ts", "--every", "2m"])}, 1).values()
    chunks, shares = chunk_shares(by_two.output)
    planted = min(shares[name] for name in PLANTED)
    others = max(v for name, v in shares.items() if name not in PLANTED)
    print(
        f"\nthe 25-feature log ({rows:,} rows) by 2 minutes, {chunks:,} chunks: "
        f"{by_two.seconds:.1f} s {verdict(by_two.seconds <= 30)} (target: well under a "
        f"minute, 30 s); planted features flagged in at least {planted:.1%} of the chunks, "
        f"any other in at most {others:.2%}"
    )


def bench_startup(repeat: int) -> None:
    # Short commands: more turns are cheap, and the best of them is the
    # least disturbed by the rest of the machine.
    runs = measure(
        {
            "help": Command([*DRIFTCLI, "--help"]),
            "sample": Command(
                [
                    *DRIFTCLI,
                    "check",
                    "sample_data/live_drift.parquet",
                    "--ref",
                    "sample_data/ref.parquet",
                ]
            ),
        },
        max(repeat, 10),
    )
    helps, sample = runs["help"], runs["sample"]
    print("\n## Start-up\n")
    print(f"driftcli --help: {helps.seconds:.2f} s {verdict(helps.seconds < 0.3)} (target < 0.3 s)")
    print(
        f"driftcli check on sample_data: {sample.seconds:.2f} s "
        f"{verdict(sample.seconds < 0.6)} (target < 0.6 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, action="append", help="sizes (default 1M and 5M)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per command, best kept (5)")
    parser.add_argument("--quick", action="store_true", help="200k rows, one repeat")
    parser.add_argument(
        "--timeline", action="store_true", help="only the chunked check (--by ts --every 1d)"
    )
    parser.add_argument(
        "--many-chunks", action="store_true", help="only the many small chunks (--every 2m)"
    )
    args = parser.parse_args()
    sizes = [200_000] if args.quick else (args.rows or [1_000_000, 5_000_000])
    repeat = 1 if args.quick else args.repeat
    print(
        f"# driftcli benchmark, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    # pip compiles an installed package's bytecode; an editable checkout under
    # PYTHONDONTWRITEBYTECODE=1 would instead compile driftcli's modules at
    # every start (measured: 0.2 s of a 0.6 s sample check). Time the former.
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "driftcli")], check=True)
    if args.timeline:
        timelines(sizes, repeat)
        return
    if args.many_chunks:
        bench_many_chunks(repeat)
        return
    for rows in sizes:
        data(rows, jsonl=rows == min(sizes))
    print(f"\n{rss_floor()}")
    results = {rows: bench_size(rows, repeat) for rows in sizes}
    print("\n## Targets\n")
    for rows, runs in results.items():
        floor = runs["read-only (pyarrow, both files)"].seconds
        ours = runs["driftcli check"]
        print(
            f"target 1 ({rows:,} rows): check <= 1.5 x read-only: "
            f"{ours.seconds / floor:.2f} x {verdict(ours.seconds <= 1.5 * floor)}"
        )
        print(
            f"target 2 ({rows:,} rows): peak memory <= 1 GiB: "
            f"{ours.peak_mib:.0f} MiB {verdict(ours.peak_mib <= 1024)}"
        )
    if len(results) > 1:
        small, large = (results[r]["driftcli check"].peak_mib for r in (min(results), max(results)))
        growth = large / small - 1
        print(
            f"target 2 (growth {min(results):,} -> {max(results):,} rows): <= 30%: "
            f"{growth:+.0%} {verdict(growth <= 0.3)}"
        )
    for rows, runs in results.items():
        check = planted_check(runs["driftcli check"].output)
        print(f"verdicts ({rows:,} rows): the defaults flag exactly the planted drifts: {check}")
    timelines(sizes, repeat)
    bench_many_chunks(repeat)
    bench_jsonl(min(sizes), repeat)
    bench_startup(repeat)


if __name__ == "__main__":
    main()
