"""The statistics tables of docs/statistics.md, measured.

    python benchmarks/calibration.py            # every table (a few minutes)
    python benchmarks/calibration.py --quick    # fewer features per cell

Each cell checks FEATURES independent normal features through driftcli's
library (profile, count, compare), a reference of n_ref rows and a live
window of n_live rows per feature, and prints the share that drift.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pyarrow as pa

from driftcli.counting.counter import count_batches
from driftcli.reference.builder import build_profile
from driftcli.results import Status
from driftcli.scoring.compare import compare
from driftcli.scoring.metrics import METRICS, On
from driftcli.settings import Settings

SIZES = [(50, 20), (50, 50), (100, 30), (2000, 20), (2000, 100), (2000, 500), (2000, 5000),
         (20_000, 20_000)]  # fmt: skip
SHIFTS = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 3.0]


def shares(metric: str, n_ref: int, n_live: int, shift: float, features: int, seed: int,
           **settings: object) -> dict[Status, float]:  # fmt: skip
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(features)]
    ref = {n: rng.normal(0, 1, n_ref) for n in names}
    live = {n: rng.normal(shift, 1, n_live) for n in names}
    config = Settings(metric=metric, **settings)  # type: ignore[arg-type]
    sampled = names if METRICS[metric].on is On.SAMPLES else []
    profile = build_profile([pa.record_batch(ref)])
    counts = count_batches(profile.features, [pa.record_batch(live)], sampled)
    results = compare(profile, counts, config, samples=(counts.samples, ref))
    return {s: sum(r.status is s for r in results) / features for s in Status}


def percent(x: float) -> str:
    return f"{100 * x:.0f}%" if x == 0 or x >= 0.01 else f"{100 * x:.1f}%"


def shift_table(features: int) -> None:
    print(f"\n## kl (default), share of {features} features flagged as drift\n")
    print("| mean shift | " + " | ".join(f"{r:,} / {n:,}" for r, n in SIZES) + " |")
    print("|---|" + "---|" * len(SIZES))
    for shift in SHIFTS:
        cells = [percent(shares("kl", r, n, shift, features, seed=i)[Status.DRIFT])
                 for i, (r, n) in enumerate(SIZES)]  # fmt: skip
        print(f"| {shift:g} sd | " + " | ".join(cells) + " |")


def metric_table(features: int) -> None:
    print(f"\n## every metric at its default, share of {features} features flagged as drift\n")
    cases = [
        ("no drift, 50 / 50", 50, 50, 0.0),
        ("no drift, 2,000 / 20", 2000, 20, 0.0),
        ("3 sd, 50 / 50", 50, 50, 3.0),
        ("1.5 sd, 67 / 67", 67, 67, 1.5),
        ("0.3 sd, 20k / 20k", 20_000, 20_000, 0.3),
        ("0.6 sd, 20k / 20k", 20_000, 20_000, 0.6),
    ]
    print("| metric | default | " + " | ".join(c[0] for c in cases) + " |")
    print("|---|---|" + "---|" * len(cases))
    for metric, spec in METRICS.items():
        cells = [percent(shares(metric, r, n, s, features, seed=7)[Status.DRIFT])
                 for _, r, n, s in cases]  # fmt: skip
        print(f"| {metric} | {spec.default_threshold:g} | " + " | ".join(cells) + " |")


def tiny_threshold(features: int) -> None:
    print(f"\n## --threshold 1e-12 (any change that is not chance), {features} features\n")
    for shift in (0.0, 0.25, 1.0):
        got = shares("kl", 500, 500, shift, features, seed=3, threshold=1e-12)
        print(f"- {shift:g} sd at 500 / 500: {percent(got[Status.DRIFT])} drift")


def uncertain_share(features: int) -> None:
    print(f"\n## statuses under no drift, kl, {features} features\n")
    for n_ref, n_live in [(50, 20), (50, 50), (2000, 50), (2000, 500)]:
        got = shares("kl", n_ref, n_live, 0.0, features, seed=11)
        parts = ", ".join(f"{s.value} {percent(v)}" for s, v in got.items() if v)
        print(f"- {n_ref:,} / {n_live:,}: {parts}")


def label_shares(draw_ref: object, draw_live: object, n_ref: int, n_live: int, features: int,
                 seed: int, metric: str = "kl") -> float:  # fmt: skip
    """Share of categorical (or any drawn) features flagged as drift."""
    rng = np.random.default_rng(seed)
    names = [f"c{i}" for i in range(features)]
    ref = {n: draw_ref(rng, n_ref) for n in names}  # type: ignore[operator]
    live = {n: draw_live(rng, n_live) for n in names}  # type: ignore[operator]
    profile = build_profile([pa.record_batch(ref)])
    counts = count_batches(profile.features, [pa.record_batch(live)])
    results = compare(profile, counts, Settings(metric=metric))
    return sum(r.status is Status.DRIFT for r in results) / features


def labels(weights: list[float], missing: float = 0.0, new: float = 0.0) -> object:
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
    cases = [
        ("normal numbers", lambda rng, n: rng.normal(0, 1, n)),
        ("60 categories, 10 hold 80%", labels([0.08] * 10 + [0.004] * 50)),
        ("20 skewed categories, 10% missing", labels(skewed, missing=0.1)),
    ]
    print("| data | metric | " + " | ".join(f"{r} / {n}" for r, n in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for name, draw in cases:
        for metric in ("kl", "psi"):
            cells = [percent(label_shares(draw, draw, r, n, features, seed=r + n, metric=metric))
                     for r, n in sizes]  # fmt: skip
            print(f"| {name} | {metric} | " + " | ".join(cells) + " |")
    new = labels(skewed, missing=0.1, new=0.2)
    for n_live in (50, 500):
        got = label_shares(labels(skewed, missing=0.1), new, 2000, n_live, features, seed=n_live)
        print(f"- a new category in 20% of the live rows, 2,000 / {n_live}: {percent(got)} drift")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    features = 100 if args.quick else 1000
    print(f"# driftcli calibration ({features} features a cell; standard error of a rate p: "
          f"sqrt(p(1-p)/{features}), e.g. {100 * math.sqrt(0.005 * 0.995 / features):.2f} "
          "points at 0.5%)")  # fmt: skip
    shift_table(features)
    metric_table(features)
    tiny_threshold(features)
    uncertain_share(features)
    small_references(features)


if __name__ == "__main__":
    main()
