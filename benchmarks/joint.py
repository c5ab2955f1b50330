"""The joint test (`check --joint`): its classifiers, threshold, power, calibration and cost.

    .venv/bin/python benchmarks/joint.py                 # every part, seeded
    .venv/bin/python benchmarks/joint.py --parts methods --method-tries 50

1. threshold: the held-out AUC each classifier reaches on a 0.45 sd mean shift
   of one normal feature (beside a second, unchanged one) at 5,000 rows a side:
   the product's feature materiality, in AUC (each default threshold is set
   from it).
2. flip: two normals correlated +0.8 in the reference and -0.8 live, marginals
   unchanged, 5,000 rows a side, through `driftcli check --joint`: joint drift
   found, no feature drift.
3. null: no change, `--tries` seeded pairs of 5,000 rows a side, each
   classifier: the share of joint false alarms, and the p-value's shares below
   0.01, 0.05, 0.1.
4. coverage: how often the AUC's one-sided 90% bounds hold the default
   classifier's true AUC (measured on 100,000 fresh rows a side), `--tries`
   tries per case.
5. methods: each classifier (gradient boosting; the quadratic discriminant on
   normal scores and on raw values) on changes the marginals miss (the flip, a
   sine relation whose sign flips, a mixture component's correlation flip) and
   a plain mean shift, with no change as control: share evident, share
   drifted, median AUC, CPU; `--method-tries` pairs a cell; a Markdown table.
6. classifier: the trees' size (trees x step), and the discriminant, against
   power and cost: median held-out AUC over `--threshold-tries` seeded pairs of
   10,000 rows a side (the sample's bound) on the flip, on a weaker relation
   change (+0.8 to +0.5) beside 23 unchanged features, and on the 0.45 sd
   shift; CPU seconds to fit and score.
7. cost: 1M rows x 25 features (benchmarks/generate.py's files, from
   benchmarks/data when there), `driftcli check` of a stored reference
   without --joint, with it, and with --joint-method boosting, in turns: the
   joint test's added CPU and wall time against the per-feature check's.
8. breakdown: where each `check`'s CPU goes, step by step, in one process.
"""

from __future__ import annotations

import argparse
import json
import resource
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
from driftcli.counting.buckets import Cuts, numeric_feature  # noqa: E402
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


def threshold_part(tries: int) -> dict[str, dict[str, float]]:
    from driftcli.choices import JointMethod

    out = {}
    for method in JointMethod:
        aucs = [
            joint_test(
                pair(ROWS, 0.0, 2 * i), pair(ROWS, 0.0, 2 * i + 1, 0.45), FEATURES, method=method
            ).score
            for i in range(tries)
        ]
        found = [a for a in aucs if a is not None]
        out[method.value] = {
            "median_auc": statistics.median(found),
            "min": min(found),
            "max": max(found),
        }
    return out


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


def null_part(tries: int) -> dict[str, dict[str, float]]:
    from driftcli.choices import JointMethod

    seeds = [(10_000 + 2 * i, 10_001 + 2 * i) for i in range(tries)]
    found = {}
    for method in JointMethod:
        results = [
            joint_test(pair(ROWS, 0.8, a), pair(ROWS, 0.8, b), FEATURES, method=method)
            for a, b in seeds
        ]
        p = np.array([r.p_value for r in results], dtype=float)
        found[method.value] = {
            "tries": tries,
            "false_alarms": sum(r.drift for r in results) / tries,
            "uncertain": sum(r.status.value == "uncertain" for r in results) / tries,
            "small": sum(r.small for r in results) / tries,
            **{f"share_p_below_{level}": float(np.mean(p < level)) for level in (0.01, 0.05, 0.1)},
            "max_auc": max(r.score or 0.0 for r in results),
        }
    return found


def wide(rows: int, rho_ref: float, rho_live: float, seed: int, shift: float = 0.0):
    """x and y correlated rho (x shifted by `shift` live), beside 23 unchanged normals."""
    sides = []
    for rho, moved, offset in ((rho_ref, 0.0, 0), (rho_live, shift, 1)):
        rng = np.random.default_rng(2 * seed + offset)
        x = rng.standard_normal(rows)
        y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(rows)
        noise = {f"n{i:02d}": rng.standard_normal(rows) for i in range(23)}
        sides.append(pa.table({"x": x + moved, "y": y, **noise}))
    return sides


def classifier_part(tries: int) -> dict[str, dict[str, float]]:
    import driftcli.scoring.joint_models as models
    from driftcli.choices import JointMethod

    names = ["x", "y", *(f"n{i:02d}" for i in range(23))]
    features = [
        numeric_feature(n, TypeClass.NUMBER, Cuts(edges=np.array([0.0]), values=None))
        for n in names
    ]
    cases = {"flip": (0.8, -0.8, 0.0), "rho .8 to .5": (0.8, 0.5, 0.0), "shift .45": (0, 0, 0.45)}
    found: dict[str, dict[str, float]] = {}
    sizes = ((100, 0.1), (50, 0.2), (30, 0.3), (20, 0.3))
    for label, method, trees, step in [
        *((f"{t} trees x {s}", JointMethod.BOOSTING, t, s) for t, s in sizes),
        ("qda", JointMethod.QDA, models.TREES, models.LEARNING_RATE),
    ]:
        models.TREES, models.LEARNING_RATE = trees, step
        row: dict[str, float] = {}
        spent = []
        for case, (rho_ref, rho_live, shift) in cases.items():
            aucs = []
            for i in range(tries):
                ref, live = wide(10_000, rho_ref, rho_live, 500 + i, shift)
                started = time.process_time()
                result = joint_test(ref, live, features, threshold=1.0, method=method)
                aucs.append(result.score or 0.0)
                spent.append(time.process_time() - started)
            row[f"{case} auc"] = round(statistics.median(aucs), 3)
        row["cpu_s"] = round(statistics.median(spent), 3)
        found[label] = row
    return found


def case_tables(case: str, rows: int, seed: int, noise: int = 0) -> list[pa.Table]:
    """Reference and live tables of one of METHOD_CASES: x and y (and `noise` unchanged
    normal features); every case but `shift .45` leaves each feature's distribution as
    it was."""
    sides = []
    for side in (0, 1):
        rng = np.random.default_rng(2 * seed + side)
        x = rng.standard_normal(rows)
        e = rng.standard_normal(rows)
        sign = 1.0 if side == 0 else -1.0
        if case == "none":
            y = 0.8 * x + 0.6 * e
        elif case == "flip":
            y = sign * 0.8 * x + 0.6 * e
        elif case == "sin flip":
            # x symmetric and sin odd: y's distribution is the same either sign.
            y = sign * np.sin(3 * x) + 0.5 * e
        elif case == "mixture":
            # Two components at x = -2 and +2; only the second's correlation flips.
            second = rng.random(rows) < 0.5
            rho = np.where(second, 0.8 * sign, 0.8)
            y = rho * x + np.sqrt(1 - rho**2) * e
            x = x + np.where(second, 2.0, -2.0)
        else:  # "shift .45": of x alone, y independent of it
            y = e
            x = x + (0.45 if side else 0.0)
        others = {f"n{i:02d}": rng.standard_normal(rows) for i in range(noise)}
        sides.append(pa.table({"x": x, "y": y, **others}))
    return sides


METHOD_CASES = ("none", "flip", "sin flip", "mixture", "shift .45")


def methods_part(tries: int) -> dict[str, dict[str, dict[str, float]]]:
    """Each classifier on each case: share of seeded tries evident (p < 0.005) and
    drifted (the rule, threshold 0.59), median AUC, median CPU seconds of the test;
    5,000 rows a side, x and y alone and beside 23 unchanged features."""
    import driftcli.scoring.joint_models as models
    from driftcli.choices import JointMethod

    fit = models.fit

    def raw(method, x, live, categorical):  # type: ignore[no-untyped-def]
        return models.Quadratic(x, live, categorical, normal_scores=False)

    found: dict[str, dict[str, dict[str, float]]] = {}
    for noise in (0, 23):
        names = ["x", "y", *(f"n{i:02d}" for i in range(noise))]
        features = [
            numeric_feature(n, TypeClass.NUMBER, Cuts(edges=np.array([0.0]), values=None))
            for n in names
        ]
        for label, method, fitter in (
            ("boosting", JointMethod.BOOSTING, fit),
            ("qda normal scores", JointMethod.QDA, fit),
            ("qda raw", JointMethod.QDA, raw),
        ):
            models.fit = fitter
            row: dict[str, dict[str, float]] = {}
            for case in METHOD_CASES:
                results, spent = [], []
                for i in range(tries):
                    ref, live = case_tables(case, ROWS, 900 + i, noise)
                    started = time.process_time()
                    results.append(joint_test(ref, live, features, method=method))
                    spent.append(time.process_time() - started)
                row[case] = {
                    "evident": sum(r.p_value is not None and r.p_value < 0.005 for r in results)
                    / tries,
                    "drift": sum(r.drift for r in results) / tries,
                    "auc": round(statistics.median(r.score or 0.5 for r in results), 3),
                    "cpu_s": round(statistics.median(spent), 3),
                }
            models.fit = fit
            found[f"{label}, {len(names)} features"] = row
            print("  ", label, len(names), json.dumps(row), flush=True)
    return found


def coverage_part(tries: int) -> dict[str, dict[str, float]]:
    """How often the AUC's one-sided 90% bounds hold the classifier's true AUC: per try,
    the default classifier is fitted on 2,500 rows a side, its AUC measured on 2,500 fresh
    held-out rows a side with its bounds, and its true AUC on 100,000 fresh rows a side."""
    from driftcli.choices import JointMethod
    from driftcli.scoring import joint_models
    from driftcli.scoring.joint import auc_test, encode

    found = {}
    for case in ("none", "flip", "mixture", "shift .45"):
        below = above = 0
        for i in range(tries):
            train, held, true = (case_tables(case, n, 3 * i + k + 7_000) for k, n in
                                 enumerate((2_500, 2_500, 100_000)))  # fmt: skip
            x = np.vstack([encode(t, FEATURES).matrix for t in train])
            live = np.r_[np.zeros(2_500, dtype=bool), np.ones(2_500, dtype=bool)]
            model = joint_models.fit(JointMethod.QDA, x, live, [False] * 4)
            measured = auc_test(*(model.score(model.inputs(encode(t, FEATURES).matrix))
                                  for t in held))  # fmt: skip
            truth = auc_test(*(model.score(model.inputs(encode(t, FEATURES).matrix))
                               for t in true)).auc  # fmt: skip
            below += measured.upper < truth
            above += measured.lower > truth
        found[case] = {
            "upper_bound_holds": 1 - below / tries,
            "lower_bound_holds": 1 - above / tries,
            "interval_holds": 1 - (below + above) / tries,
        }
    return found


def methods_table(found: dict[str, dict[str, dict[str, float]]]) -> str:
    """methods_part's figures as a Markdown table: per cell, share evident / share drift,
    median AUC, median CPU seconds."""
    lines = [
        "| classifier, features | " + " | ".join(METHOD_CASES) + " |",
        "|---" * (len(METHOD_CASES) + 1) + "|",
    ]
    for name, row in found.items():
        cells = [
            f"{c['evident']:.0%} / {c['drift']:.0%}, {c['auc']:.3f}, {c['cpu_s']:.2f} s"
            for c in (row[case] for case in METHOD_CASES)
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def data_files(rows: int, where: Path) -> dict[str, Path]:
    """benchmarks/generate.py's files: the ones in benchmarks/data when there, else written."""
    from generate import VERSION, tables

    paths = {}
    for side in ("ref", "live"):
        path = HERE / "data" / f"{side}_{VERSION}_{rows}.parquet"
        if not path.exists():
            path = where / path.name
            writer = None
            for table in tables(rows, side):
                writer = writer or pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
            if writer is not None:
                writer.close()
        paths[side] = path
    return paths


def cost_part(rows: int, turns: int, where: Path) -> dict[str, float]:
    """CPU seconds (user + system, the process's own accounting) and wall seconds, medians
    over `turns` runs in turns of each command."""
    from generate import COLUMNS

    paths = data_files(rows, where)
    snapshot = where / "store"
    subprocess.run(
        [sys.executable, "-m", "driftcli", "reference", str(paths["ref"]),
         "--store", str(snapshot)],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    base = [sys.executable, "-m", "driftcli", "check", str(paths["live"]), "--store",
            str(snapshot), "--format", "json"]  # fmt: skip
    commands = {
        "check": base,
        "check --joint": [*base, "--joint"],
        "check --joint --joint-method boosting": [*base, "--joint", "--joint-method", "boosting"],
    }
    runs: dict[str, dict[str, list[float]]] = {name: {"cpu": [], "wall": []} for name in commands}
    for _ in range(turns):
        for name, argv in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=False, cwd=ROOT)
            runs[name]["wall"].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            runs[name]["cpu"].append(cpu)
    found: dict[str, float] = {"rows": rows, "features": len(COLUMNS)}
    for measure in ("cpu", "wall"):
        check = statistics.median(runs["check"][measure])
        found[f"check {measure} s"] = round(check, 2)
        for name in list(commands)[1:]:
            joint = statistics.median(runs[name][measure])
            found[f"{name} {measure} s"] = round(joint, 2)
            found[f"{name}: added over check, {measure}"] = round((joint - check) / check, 2)
    return found


BREAKDOWN = """
import functools, json, os, sys, time
spent = {}
def timed(owner, name):
    inner = getattr(owner, name)
    @functools.wraps(inner)
    def outer(*args, **kwargs):
        started = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - started
    setattr(owner, name, outer)
import driftcli.cli
from driftcli.api import checks, joint as wiring
from driftcli.scoring import joint, joint_models
if "boosting" in sys.argv:
    started = time.process_time()
    import sklearn.ensemble
    spent["import scikit-learn"] = time.process_time() - started
timed(wiring.LiveRows, "add")
for name in ("encode", "_contributors", "joint_test"):
    timed(joint, name)
timed(joint_models, "fit")
timed(checks, "count_pieces")
leave = os._exit
def report(code):
    spent["process"] = time.process_time()
    print(json.dumps({k: round(v, 3) for k, v in spent.items()}), file=sys.stderr)
    leave(code)
os._exit = report
sys.stdout = open(os.devnull, "w")
driftcli.cli.main()
"""


def breakdown_part(rows: int, turns: int, where: Path) -> dict[str, dict[str, float]]:
    """CPU seconds of each step of `check --joint` in one process (median of `turns`):
    importing scikit-learn, the live sample (`add`), encoding, fitting, importances."""
    paths = data_files(rows, where)
    snapshot = where / "store"
    if not snapshot.exists():
        subprocess.run(
            [sys.executable, "-m", "driftcli", "reference", str(paths["ref"]),
             "--store", str(snapshot)],
            check=True, capture_output=True, cwd=ROOT,
        )  # fmt: skip
    found = {}
    for flags in ([], ["--joint"], ["--joint", "--joint-method", "boosting"]):
        runs = []
        for _ in range(turns):
            done = subprocess.run(
                [sys.executable, "-c", BREAKDOWN, "check", str(paths["live"]), "--store",
                 str(snapshot), "--format", "json", *flags],
                capture_output=True, check=False, cwd=ROOT,
            )  # fmt: skip
            runs.append(json.loads(done.stderr.decode().strip().splitlines()[-1]))
        found[" ".join(["check", *flags])] = {
            key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]
        }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=200)
    parser.add_argument("--threshold-tries", type=int, default=20)
    parser.add_argument("--method-tries", type=int, default=50)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument(
        "--parts", default="threshold,flip,null,coverage,methods,classifier,cost,breakdown"
    )
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
        if "coverage" in parts:
            print("coverage", json.dumps(coverage_part(args.tries)), flush=True)
        if "methods" in parts:
            found = methods_part(args.method_tries)
            print("methods", json.dumps(found), flush=True)
            print(methods_table(found), flush=True)
        if "classifier" in parts:
            print("classifier", json.dumps(classifier_part(args.threshold_tries)), flush=True)
        if "breakdown" in parts:
            print("breakdown", json.dumps(breakdown_part(args.rows, args.turns, where)), flush=True)
        if "cost" in parts:
            print("cost", json.dumps(cost_part(args.rows, args.turns, where)), flush=True)


if __name__ == "__main__":
    main()
