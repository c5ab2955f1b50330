"""The statistics tables of docs/statistics.md, measured.

    python benchmarks/calibration.py            # every table (1,000 features a cell; long)
    python benchmarks/calibration.py --quick    # 100 features a cell
    python benchmarks/calibration.py --only targets,noise   # some tables

Each cell checks FEATURES independent features through driftcli's library
(profile, count, compare), a reference of n_ref rows and a live window of
n_live rows per feature, seeded, and prints the share with each status.
The detection table runs scipy's anderson_ksamp (midrank; its default
p-value, interpolated in the table of critical values and clipped to
[0.001, 0.25], which decides p < 0.005 as well as a permutation p-value
would, at a thousandth of the time) and ks_2samp on the same raw values,
at the same evidence level.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from driftcli.counting.counter import count_batches
from driftcli.findings import QualityStatus
from driftcli.reference.builder import build_profile
from driftcli.results import FeatureResult, Status
from driftcli.scoring.compare import compare
from driftcli.scoring.metrics import METRICS, On
from driftcli.settings import DEFAULT_EVIDENCE, Settings

Draw = Callable[[np.random.Generator, int], np.ndarray]
SIZES = [(50, 20), (50, 50), (100, 30), (2000, 20), (2000, 100), (2000, 500), (2000, 5000),
         (20_000, 20_000)]  # fmt: skip
SHIFTS = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 3.0]


def normal(shift: float = 0.0, sd: float = 1.0) -> Draw:
    return lambda rng, n: rng.normal(shift, sd, n)


def far_tail(share: float = 0.15, at: float = 4.0) -> Draw:
    """A share of the rows moved to `at` sd (the rest unchanged)."""

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        values = rng.normal(0, 1, n)
        moved = rng.random(n) < share
        values[moved] = rng.normal(at, 1, int(moved.sum()))
        return values

    return draw


def split_mode(apart: float = 0.95) -> Draw:
    """One mode split into two at -apart and +apart sd: same mean, same sd."""
    spread = math.sqrt(1 - apart * apart)

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.normal(0, spread, n) + np.where(rng.random(n) < 0.5, -apart, apart)

    return draw


Columns = dict[str, np.ndarray]


def check(ref: Draw, live: Draw, n_ref: int, n_live: int, features: int, seed: int,
          **settings: object) -> tuple[list[FeatureResult], Columns, Columns]:  # fmt: skip
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(features)]
    ref_columns = {n: ref(rng, n_ref) for n in names}
    live_columns = {n: live(rng, n_live) for n in names}
    config = Settings(**settings)  # type: ignore[arg-type]
    sampled = names if METRICS[config.metric].on is On.SAMPLES else []
    profile = build_profile([pa.record_batch(ref_columns)])
    counts = count_batches(profile.features, [pa.record_batch(live_columns)], sampled)
    ref_samples = {n: ref_columns[n] for n in sampled}
    results = compare(profile, counts, config, samples=(counts.samples, ref_samples))
    return results, ref_columns, live_columns


def shares(results: list[FeatureResult]) -> dict[Status, float]:
    return {s: sum(r.status is s for r in results) / len(results) for s in Status}


def percent(x: float) -> str:
    return f"{100 * x:.0f}%" if x == 0 or x >= 0.01 else f"{100 * x:.1f}%"


def drift_share(metric: str, n_ref: int, n_live: int, shift: float, features: int,
                seed: int, **settings: object) -> float:  # fmt: skip
    results, _, _ = check(normal(), normal(shift), n_ref, n_live, features, seed,
                          metric=metric, **settings)  # fmt: skip
    return shares(results)[Status.DRIFT]


def noise_table(features: int) -> None:
    print(f"\n## no change: share of {features} features per status (kl)\n")
    sizes = [(50, 20), (50, 50), (100, 30), (2000, 20), (2000, 50), (2000, 100), (100, 100),
             (200, 200), (2000, 500), (2000, 5000), (20_000, 20_000)]  # fmt: skip
    print("| reference / live | drift | ok | of which small | uncertain | insufficient |")
    print("|---|---|---|---|---|---|")
    for i, (n_ref, n_live) in enumerate(sizes):
        results, _, _ = check(normal(), normal(), n_ref, n_live, features, seed=500 + i)
        got = shares(results)
        small = sum(r.small for r in results) / len(results)
        cells = [got[Status.DRIFT], got[Status.OK], small, got[Status.UNCERTAIN],
                 got[Status.INSUFFICIENT]]  # fmt: skip
        print(f"| {n_ref:,} / {n_live:,} | " + " | ".join(percent(c) for c in cells) + " |")


TARGETS: list[tuple[str, int, int, Draw, float]] = [
    ("mean +1 sd", 50, 50, normal(1.0), 0.90),
    ("mean +0.75 sd", 2000, 50, normal(0.75), 0.90),
    ("mean +0.5 sd", 200, 200, normal(0.5), 0.90),
    ("sd doubled", 100, 100, normal(0.0, 2.0), 0.85),
    ("15% of rows moved to +4 sd", 200, 200, far_tail(), 0.75),
    ("one mode split into two (same mean, same sd)", 100, 100, split_mode(), 0.95),
    ("mean +0.3 sd", 200, 200, normal(0.3), math.nan),
    ("mean +0.3 sd", 2000, 500, normal(0.3), math.nan),
    ("mean +0.3 sd", 20_000, 20_000, normal(0.3), math.nan),
]


def others_reject(ref: np.ndarray, live: np.ndarray) -> tuple[bool, bool]:
    """scipy's Anderson-Darling (midrank, its default p-value) and KS at the evidence level."""
    from scipy.stats import anderson_ksamp, ks_2samp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "p-value capped": below 0.001 it says 0.001
        ad = anderson_ksamp([live, ref], variant="midrank").pvalue
    ks = ks_2samp(live, ref).pvalue
    return bool(ad < DEFAULT_EVIDENCE), bool(ks < DEFAULT_EVIDENCE)


def targets_table(features: int, others: bool = True) -> None:
    print(f"\n## detection at the defaults, {features} normal features a cell\n")
    print("| change | reference / live | driftcli drift | driftcli p < 0.005 | "
          "Anderson-Darling | Kolmogorov-Smirnov | target |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for i, (name, n_ref, n_live, draw, target) in enumerate(TARGETS):
        results, ref, live = check(normal(), draw, n_ref, n_live, features, seed=700 + i)
        drift = shares(results)[Status.DRIFT]
        evident = sum(r.p_value is not None and r.p_value < DEFAULT_EVIDENCE
                      for r in results) / len(results)  # fmt: skip
        ad = ks = "-"
        if others and n_ref + n_live <= 5000:
            votes = [others_reject(ref[r.name], live[r.name]) for r in results]
            ad, ks = (percent(sum(v[k] for v in votes) / len(votes)) for k in (0, 1))
        goal = "not drift" if math.isnan(target) else f">= {percent(target)}"
        print(f"| {name} | {n_ref:,} / {n_live:,} | {percent(drift)} | {percent(evident)} | "
              f"{ad} | {ks} | {goal} |", flush=True)  # fmt: skip


UNIFORMITY_LEVELS = [0.005, 0.01, 0.05, 0.1]


def p_row(name: str, test: str, p: np.ndarray) -> str:
    """Shares of p below each level, and the Kolmogorov-Smirnov distances to the uniform:
    D = max |F - u| and D+ = max(F - u), the side on which a p-value would be too small."""
    from scipy.stats import kstest

    d = kstest(p, "uniform").statistic
    d_plus = kstest(p, "uniform", alternative="greater").statistic
    cells = [percent(float(np.mean(p < a))) for a in UNIFORMITY_LEVELS]
    return f"| {name} | {test} | " + " | ".join(cells) + f" | {d:.3f} | {d_plus:.3f} |"


def uniformity_table(features: int) -> None:
    print(f"\n## p-values under no change, {features} features a cell\n")
    print(f"(standard error of a share a: sqrt(a(1-a)/{features}), "
          f"{100 * math.sqrt(0.005 * 0.995 / features):.2f} points at 0.5%, "
          f"{100 * math.sqrt(0.1 * 0.9 / features):.2f} at 10%; a uniform sample's D+ is "
          f"below {1.22 / math.sqrt(features):.3f} 95% of the time, D below "
          f"{1.36 / math.sqrt(features):.3f})\n")  # fmt: skip
    levels = " | ".join(f"p < {a:g}" for a in UNIFORMITY_LEVELS)
    print(f"| data, reference / live | p-value | {levels} | D | D+ |")
    print("|---|---|" + "---|" * (len(UNIFORMITY_LEVELS) + 2))
    cases: list[tuple[str, Draw, int, int]] = [
        ("normal, 50 / 50", normal(), 50, 50),
        ("normal, 2,000 / 50", normal(), 2000, 50),
        ("normal, 100 / 100", normal(), 100, 100),
        ("normal, 200 / 200", normal(), 200, 200),
        ("normal, 2,000 / 500", normal(), 2000, 500),
        ("normal, 20,000 / 20,000", normal(), 20_000, 20_000),
        ("20 categories, 2,000 / 50", labels([1.0] * 20), 2000, 50),
        ("20 categories, 200 / 200", labels([1.0] * 20), 200, 200),
    ]
    for i, (name, draw, n_ref, n_live) in enumerate(cases):
        results, _, _ = check(draw, draw, n_ref, n_live, features, seed=900 + i, threshold=0.0)
        p = np.array([r.p_value for r in results], dtype=np.float64)
        print(p_row(name, f"combined ({results[0].p_test})", p))
        for test in ("g", "anderson-darling", "smooth"):
            parts = [next((x for x in r.p_parts if x.test == test), None) for r in results]
            found = [x for x in parts if x is not None]
            if found and len(found) == len(parts):
                methods = "/".join(sorted({x.method for x in found}))
                q = np.array([x.p_value for x in found], dtype=np.float64)
                print(p_row("", f"{test} alone ({methods})", q), flush=True)


def shift_table(features: int) -> None:
    print(f"\n## kl (default), share of {features} features flagged as drift\n")
    print("| mean shift | " + " | ".join(f"{r:,} / {n:,}" for r, n in SIZES) + " |")
    print("|---|" + "---|" * len(SIZES))
    for shift in SHIFTS:
        cells = [percent(drift_share("kl", r, n, shift, features, seed=i))
                 for i, (r, n) in enumerate(SIZES)]  # fmt: skip
        print(f"| {shift:g} sd | " + " | ".join(cells) + " |", flush=True)


def metric_table(features: int) -> None:
    print(f"\n## every metric at its default, share of {features} features flagged as drift\n")
    cases = [
        ("no drift, 50 / 50", 50, 50, 0.0),
        ("no drift, 2,000 / 20", 2000, 20, 0.0),
        ("3 sd, 50 / 50", 50, 50, 3.0),
        ("1.5 sd, 67 / 67", 67, 67, 1.5),
        ("0.5 sd, 200 / 200", 200, 200, 0.5),
        ("0.3 sd, 20k / 20k", 20_000, 20_000, 0.3),
        ("0.6 sd, 20k / 20k", 20_000, 20_000, 0.6),
    ]
    print("| metric | default | " + " | ".join(c[0] for c in cases) + " |")
    print("|---|---|" + "---|" * len(cases))
    for metric, spec in METRICS.items():
        cells = [percent(drift_share(metric, r, n, s, features, seed=7))
                 for _, r, n, s in cases]  # fmt: skip
        print(f"| {metric} | {spec.default_threshold:g} | " + " | ".join(cells) + " |",
              flush=True)  # fmt: skip


def tiny_threshold(features: int) -> None:
    print(f"\n## --threshold 1e-12 (any change that is not chance), {features} features\n")
    for shift in (0.0, 0.25, 1.0):
        got = drift_share("kl", 500, 500, shift, features, seed=3, threshold=1e-12)
        print(f"- {shift:g} sd at 500 / 500: {percent(got)} drift")


def labels(weights: list[float], missing: float = 0.0, new: float = 0.0) -> Draw:
    names = np.array([f"v{i}" for i in range(len(weights))], dtype=object)
    p = np.array(weights) / sum(weights)

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        values = rng.choice(names, n, p=p)
        values[rng.random(n) < missing] = None
        values[rng.random(n) < new] = "new"
        return values

    return draw


def small_references(features: int) -> None:
    print(f"\n## small references, no drift, share of {features} features flagged as drift\n")
    sizes = [(50, 50), (30, 30), (20, 100)]
    skewed = [2.0**-i for i in range(20)]
    cases: list[tuple[str, Draw]] = [
        ("normal numbers", normal()),
        ("60 categories, 10 hold 80%", labels([0.08] * 10 + [0.004] * 50)),
        ("20 skewed categories, 10% missing", labels(skewed, missing=0.1)),
    ]
    print("| data | metric | " + " | ".join(f"{r} / {n}" for r, n in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for name, draw in cases:
        for metric in ("kl", "psi"):
            cells = []
            for r, n in sizes:
                results, _, _ = check(draw, draw, r, n, features, seed=r + n, metric=metric)
                cells.append(percent(shares(results)[Status.DRIFT]))
            print(f"| {name} | {metric} | " + " | ".join(cells) + " |", flush=True)
    new = labels(skewed, missing=0.1, new=0.2)
    for n_live in (50, 500):
        results, _, _ = check(labels(skewed, missing=0.1), new, 2000, n_live, features,
                              seed=n_live)  # fmt: skip
        failed = sum(r.fails for r in results) / len(results)
        print(
            f"- a new category in 20% of the live rows, 2,000 / {n_live}: "
            f"{percent(shares(results)[Status.DRIFT])} drift, {percent(failed)} fail the check"
        )


def with_missing(share: float) -> Draw:
    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        values = rng.normal(0, 1, n)
        values[rng.random(n) < share] = np.nan
        return values

    return draw


def flags(share: float) -> Draw:
    return lambda rng, n: (rng.random(n) < share).astype(np.float64)


def quality_table(features: int) -> None:
    print(f"\n## data-quality rules at their defaults, {features} features a cell\n")
    print("| data | reference / live | drift | missing rule fails | unseen rule fails | "
          "small (drift or a rule) | check fails |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    cases: list[tuple[str, Draw, Draw, int, int]] = [
        ("missing 2% -> 10%", with_missing(0.02), with_missing(0.10), 50_000, 50_000),
        ("missing 2% -> 10%", with_missing(0.02), with_missing(0.10), 2000, 500),
        ("missing 2% -> 3%", with_missing(0.02), with_missing(0.03), 50_000, 50_000),
        ("missing 2% unchanged", with_missing(0.02), with_missing(0.02), 2000, 200),
        ("a flag, 30% -> 45% true", flags(0.3), flags(0.45), 50_000, 50_000),
        ("normal numbers, unchanged", normal(), normal(), 50, 50),
        ("normal numbers, unchanged", normal(), normal(), 2000, 20_000),
        ("mean +3 sd", normal(), normal(3.0), 2000, 500),
    ]
    for i, (name, ref, live, n_ref, n_live) in enumerate(cases):
        count = max(features // (10 if n_ref + n_live > 50_000 else 1), 20)
        results, _, _ = check(ref, live, n_ref, n_live, count, seed=300 + i)

        def rule(r: FeatureResult, which: str) -> bool:
            return any(q.rule.value == which and q.failed for q in r.quality)

        def small(r: FeatureResult) -> bool:
            return r.small or any(q.status is QualityStatus.SMALL for q in r.quality)

        n = len(results)
        cells = [
            percent(shares(results)[Status.DRIFT]),
            percent(sum(rule(r, "missing") for r in results) / n),
            percent(sum(rule(r, "unseen") for r in results) / n),
            percent(sum(small(r) for r in results) / n),
            percent(sum(r.fails for r in results) / n),
        ]
        print(f"| {name} | {n_ref:,} / {n_live:,} ({n} features) | " + " | ".join(cells) + " |",
              flush=True)  # fmt: skip


TABLES: dict[str, Callable[[int], None]] = {
    "noise": noise_table,
    "targets": targets_table,
    "uniformity": uniformity_table,
    "shifts": shift_table,
    "metrics": metric_table,
    "tiny": tiny_threshold,
    "small": small_references,
    "quality": quality_table,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--features", type=int, help="features a cell (default 1,000)")
    parser.add_argument("--only", help=f"comma-separated tables: {', '.join(TABLES)}")
    args = parser.parse_args()
    features = args.features or (100 if args.quick else 1000)
    chosen = args.only.split(",") if args.only else list(TABLES)
    print(f"# driftcli calibration ({features} features a cell; standard error of a rate p: "
          f"sqrt(p(1-p)/{features}), e.g. {100 * math.sqrt(0.005 * 0.995 / features):.2f} "
          "points at 0.5%)")  # fmt: skip
    for name in chosen:
        started = time.perf_counter()
        TABLES[name](features)
        print(f"\n({name}: {time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
