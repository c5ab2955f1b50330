"""What moved, in words: the line under a drifted feature in every human output.

`tablet 10.0% -> 30.1%`, `>= 120,000: 5.0% -> 38.2%`, `missing 1.9% -> 9.8%`,
then for a numeric feature its median on both sides. The label is JSON's
`moves[0].bucket`, as it is.
"""

from __future__ import annotations

from driftcli.findings import Move, SummaryStats
from driftcli.numbers import readable
from driftcli.output.texts import chunk_label, shown
from driftcli.results import FeatureResult, Status, Timeline
from driftcli.sliced import SlicedCheck

MOVED_MARK = "↳"
"""What marks the line of what moved, under the feature's name."""

EXPLAINED = frozenset({Status.DRIFT, Status.UNCERTAIN, Status.TYPE_CHANGED})
"""The statuses whose features get a line of what moved."""


def share(value: float) -> str:
    """A share as a percentage, one decimal; a tiny one that is not zero as `<0.1%`."""
    percent = 100.0 * value
    return f"{percent:.1f}%" if percent == 0 or percent >= 0.05 else "<0.1%"


def move_words(move: Move) -> str:
    """`tablet 10.0% -> 30.1%`; a range takes a colon: `>= 120,000: 5.0% -> 38.2%`."""
    label = shown(move.bucket)
    gap = ": " if " " in move.bucket else " "
    return f"{label}{gap}{share(move.ref_share)} -> {share(move.live_share)}"


def what_moved(f: FeatureResult) -> str | None:
    """The largest move, and a numeric feature's median move; None when nothing moved."""
    if not f.moves:
        return None
    words = move_words(f.moves[0])
    if f.stats is not None:
        words += f"; median {_median(f.stats.ref)} -> {_median(f.stats.live)}"
    return words


def _median(side: SummaryStats) -> str:
    """The median, or the outer edge it lies beyond (`>= 120,000`)."""
    if "p50" in side.at_least:
        return f">= {readable(side.p50)}"
    if "p50" in side.at_most:
        return f"< {readable(side.p50)}"
    return readable(side.p50)


def explained(f: FeatureResult) -> str | None:
    """`what_moved` for a drifted or uncertain feature, else None."""
    return what_moved(f) if f.status in EXPLAINED else None


def latest_moves(timeline: Timeline) -> list[str]:
    """`amount in 2024-03-10: >= 1.63: 5.0% -> 30.2%; median ...`, for each feature that
    drifted or is uncertain in the chunk the verdict rests on."""
    if not timeline.chunks:
        return []
    chunk = timeline.latest
    label = chunk_label(timeline, chunk)
    found = [(f.name, explained(f)) for f in chunk.check.features]
    return [f"{name} in {label}: {words}" for name, words in found if words]


def slice_moves(result: SlicedCheck) -> list[str]:
    """`income in DE: [1.63, 4.41): 4.8% -> 15.7%; median ...`, for each cell of the slice
    matrix that drifted or is uncertain."""
    found = []
    for s in result.checked:
        for f in s.check.features if s.check is not None else []:
            words = explained(f)
            if words:
                found.append(f"{f.name} in {s.label}: {words}")
    return found
