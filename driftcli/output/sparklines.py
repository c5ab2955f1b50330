"""A feature's reference and live shares per bucket as two lines of block characters.

Used by the table and the Markdown report: one character per value bucket,
both lines on one scale, so the eye compares them directly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from driftcli.results import FeatureResult

BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(shares: npt.NDArray[np.float64], top: float, blank: str = BLOCKS[0]) -> str:
    """One block character per bucket; a non-empty bucket is never drawn `blank`."""
    blocks = blank + BLOCKS[1:]
    if top <= 0:
        return blocks[0] * len(shares)
    levels = np.ceil(shares / top * (len(blocks) - 1)).astype(int)
    return "".join(blocks[level] for level in levels)


def sparklines(f: FeatureResult, blank: str = BLOCKS[0]) -> tuple[str, str]:
    """The reference's and the live data's lines over the value buckets (not missing,
    not invalid: the missing rate is shown beside them)."""
    ref = _shares(f.reference[: f.value_buckets])
    live = _shares(f.live[: f.value_buckets])
    top = max(float(ref.max(initial=0.0)), float(live.max(initial=0.0)))
    return sparkline(ref, top, blank), sparkline(live, top, blank)


def _shares(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))
