"""A/B: the working tree's `driftcli check` against another revision's, in turns.

    .venv/bin/python benchmarks/ab.py HEAD~1              # 1M rows, 10 turns
    .venv/bin/python benchmarks/ab.py main --rows 5000000 --repeat 6

On this noisy machine one run of each side says little: a slow spell of a
few seconds moves a command by 30%. The three commands (read-only baseline,
the other revision, the working tree) take turns, so a slow spell hits all
three, and the best and the median of the turns are printed, with CPU
(user + system) time, which the spells disturb less than wall time.

The other revision is checked out in a temporary git worktree and run with
PYTHONPATH pointing at it, under the same interpreter and packages.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench import read_only  # noqa: E402
from generate import ensure  # noqa: E402

PYTHON = sys.executable


def turn(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """One run: wall seconds and CPU seconds (user + system) of the child."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir(), env={**os.environ, **env}
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{argv} failed")
    return seconds, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", help="the git revision to compare with the working tree")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    ref, live = ensure(args.rows)
    with tempfile.TemporaryDirectory(prefix="driftcli-ab-") as other:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", other, args.revision],
            check=True,
        )
        try:
            for tree in (ROOT, Path(other)):
                compile_ = [PYTHON, "-m", "compileall", "-q", str(tree / "driftcli")]
                subprocess.run(compile_, check=True)
            check = [PYTHON, "-m", "driftcli", "check", str(live), "--ref", str(ref), "-f", "json"]
            commands = {
                "read-only": (read_only(live, ref), {}),
                args.revision: (check, {"PYTHONPATH": other}),
                "working tree": (check, {"PYTHONPATH": str(ROOT)}),
            }
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
            for _ in range(args.repeat):
                for name, (argv, env) in commands.items():
                    runs[name].append(turn(argv, env))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", other], check=False
            )
    floor = min(wall for wall, _ in runs["read-only"])
    print(f"driftcli check, {args.rows:,} rows, {args.repeat} turns each\n")
    print("| command | wall best | wall median | x read (best) | CPU best | CPU median |")
    print("|---|---|---|---|---|---|")
    for name, results in runs.items():
        walls, cpus = [w for w, _ in results], [c for _, c in results]
        print(
            f"| {name} | {min(walls):.3f} s | {statistics.median(walls):.3f} s | "
            f"{min(walls) / floor:.2f} | {min(cpus):.3f} s | {statistics.median(cpus):.3f} s |"
        )


if __name__ == "__main__":
    main()
