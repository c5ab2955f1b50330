"""The verdict of a chunked check: which chunks are partial, and which chunk decides."""

from __future__ import annotations

import numpy as np

from driftcli.errors import option
from driftcli.results import ChunkResult, Decision, Verdict


def partial_chunks(rows: list[int], size: int | None = None) -> list[int | None]:
    """For each chunk: when it is partial, the rows a full one holds; else None.

    A chunk of --chunk-rows N is partial below N rows (only the last can be);
    a time chunk, below half the median rows of the other chunks with rows
    (the hour that just began). An empty chunk is not partial: it has no rows
    to judge at all.
    """
    if size is not None:
        return [size if 0 < n < size else None for n in rows]
    filled = np.sort(np.array([n for n in rows if n > 0], dtype=np.int64))
    medians = {n: _median_without(filled, n) for n in set(rows)}
    return [medians[n] if n > 0 and 2 * n < medians[n] else None for n in rows]


def _median_without(ordered: np.ndarray, value: int) -> int:
    """The median of the sorted chunk sizes with one `value` left out (when it is there),
    as int(np.median(...)) gives it; 0 when none is left."""
    at = int(np.searchsorted(ordered, value))
    if value > 0 and at < len(ordered) and ordered[at] == value:
        others = np.delete(ordered, at)
    else:
        others = ordered
    return int(np.median(others)) if len(others) else 0


def decide_over_chunks(
    chunks: list[ChunkResult], any_chunk: bool = False, short_of: list[int | None] | None = None
) -> tuple[Decision, int | None]:
    """The verdict of a chunked check, and the index of the chunk it rests on.

    The latest chunk with a verdict decides, unless it is partial (`short_of`,
    from `partial_chunks`) and did not drift: then the latest full chunk with
    a verdict (or a later partial one that drifted) does, so neither the hour
    that just began nor a chunk too small to judge hides the one before it.
    With `any_chunk`, any chunk that drifted is drift. No verdict when no
    chunk could be judged.
    """
    judged = [c for c in chunks if c.verdict is not Verdict.NO_VERDICT]
    if not judged:
        which = "the only chunk has" if len(chunks) == 1 else f"all {len(chunks)} have"
        return Decision(
            Verdict.NO_VERDICT, f"no chunk could be judged: {which} too few live rows"
        ), None
    short = short_of or [None] * len(chunks)
    counted = [c for c in judged if short[c.index] is None or c.drift]
    latest = counted[-1] if counted else judged[-1]
    if any_chunk:
        drifted = [c for c in chunks if c.drift]
        if drifted:
            return Decision(
                Verdict.DRIFT,
                f"{len(drifted)} of {len(chunks)} chunks drifted, the first {drifted[0].name} "
                f"({option('fail_on_any_chunk')})",
            ), latest.index
        return Decision(
            Verdict.NO_DRIFT, f"no chunk drifted ({option('fail_on_any_chunk')})"
        ), latest.index
    verdict = Verdict.DRIFT if latest.drift else Verdict.NO_DRIFT
    verb = "drifted" if latest.drift else "did not drift"
    later = chunks[latest.index + 1 :]
    if not later:
        return Decision(verdict, f"the latest chunk, {latest.name}, {verb}"), latest.index
    passed = [c for c in later if c.verdict is not Verdict.NO_VERDICT]
    which = "the latest full chunk" if passed else "the latest chunk with a verdict"
    return Decision(
        verdict, f"{which}, {latest.name}, {verb}; " + _later_chunks(later, passed, short)
    ), latest.index


def _later_chunks(
    later: list[ChunkResult], passed: list[ChunkResult], short: list[int | None]
) -> str:
    """Why the chunks after the deciding one do not decide."""
    parts = []
    if passed:
        last = passed[-1]
        rows, usual = last.check.live.rows, short[last.index] or 0
        size = f"{rows:,} row{'' if rows == 1 else 's'} against a usual {usual:,}"
        parts.append(
            f"1 later chunk is partial and did not drift ({last.name}, {size})"
            if len(passed) == 1
            else f"{len(passed)} later chunks are partial and did not drift "
            f"(the latest, {last.name}, {size})"
        )
    empty = sum(c.empty for c in later)
    if empty:
        parts.append(f"{empty} later chunk{'s have' if empty > 1 else ' has'} no rows")
    unjudged = len(later) - len(passed) - empty
    if unjudged:
        parts.append(
            f"{unjudged} later chunk{'s have' if unjudged > 1 else ' has'} too few rows "
            "for a verdict"
        )
    return "; ".join(parts)
