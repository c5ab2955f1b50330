"""The chunked report's overview: features in order of concern, a feature x chunk heatmap,
and for a drifted feature its distribution in the first chunk it drifted in."""

from __future__ import annotations

from driftcli.numbers import readable
from driftcli.output.html.charts import bar_chart
from driftcli.output.html.check import buckets_of, moved_sentence
from driftcli.output.html.page import STATUS_TONE
from driftcli.output.texts import chunk_label, escaped
from driftcli.results import ChunkResult, Status, Timeline


def drifted_first(timeline: Timeline) -> list[tuple[int, str]]:
    """(index, name) of each feature: drifting now first, then those that drifted in some
    chunk, then the others; within each, highest change in any chunk first."""

    def concern(item: tuple[int, str]) -> tuple[int, float]:
        _, name = item
        group = 0 if timeline.drifting_since(name) else 1 if timeline.first_drift(name) else 2
        scores = [s for s in timeline.series(name) if s is not None]
        return group, -max(scores, default=0.0)

    return sorted(enumerate(timeline.feature_names), key=concern)


def heatmap(timeline: Timeline, order: list[tuple[int, str]]) -> str:
    """A row per feature, a cell per chunk coloured by the feature's status in it."""
    if not timeline.chunks:
        return ""
    rows = []
    for index, name in order:
        cells = "".join(_cell(timeline, chunk, index) for chunk in timeline.chunks)
        rows.append(
            f'<tr><td class="name"><a href="#f{index + 1}">{escaped(name)}</a></td>{cells}</tr>'
        )
    first, last = (chunk_label(timeline, c) for c in (timeline.chunks[0], timeline.chunks[-1]))
    return (
        '<section class="card"><h2>Features by chunk</h2>'
        f'<p class="dim">A cell per chunk, from <span class="when">{escaped(first)}</span> to '
        f'<span class="when">{escaped(last)}</span>: red drift, amber uncertain or too few '
        "rows, pale ok, grey no rows. Drifted features first.</p>"
        f'<div class="scroll"><table class="heat"><tbody>{"".join(rows)}</tbody></table></div>'
        "</section>"
    )


def _cell(timeline: Timeline, chunk: ChunkResult, index: int) -> str:
    label = chunk_label(timeline, chunk)
    if chunk.empty or index >= len(chunk.check.features):
        return f'<td class="cell none" title="{escaped(label)}: no rows"></td>'
    f = chunk.check.features[index]
    change = "" if f.change is None else f", change {readable(f.change)}"  # as the line chart's
    tip = f"{label}: {f.status.value}{change}"
    return f'<td class="cell {STATUS_TONE[f.status]}" title="{escaped(tip)}"></td>'


def first_drift_chart(timeline: Timeline, first: ChunkResult | None, index: int) -> str:
    """The feature's buckets in the first chunk it drifted in, against the reference."""
    if first is None:
        return ""
    f = first.check.features[index]
    if f.status is Status.MISSING:
        return ""
    label = chunk_label(timeline, first)
    return (
        f'<h3>First drifted chunk, <span class="when">{escaped(label)}</span>, '
        "against the reference</h3>"
        f"{moved_sentence(f)}"
        '<div class="legend"><span class="key ref"></span>reference'
        '<span class="key live"></span>live in that chunk (share of each side\'s rows)</div>'
        f'<div class="plot">{bar_chart(f.name, buckets_of(f))}</div>'
    )
