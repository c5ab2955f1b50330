"""A chunked check as one self-contained HTML page: a line chart per feature over the chunks.

The same page as html.py's (no script, no fetch), with the verdict over the
chunks at the top, a row per chunk, and for each feature its score in every
chunk, the threshold drawn across, each point coloured by the chunk's status.
"""

from __future__ import annotations

from driftcli.errors import flag_names
from driftcli.numbers import readable
from driftcli.output.html.charts import Point, line_chart
from driftcli.output.html.check import schema_section
from driftcli.output.html.heatmap import drifted_first, first_drift_chart, heatmap
from driftcli.output.html.page import STATUS_TONE, VERDICT_TONE, VERDICT_WORD, page
from driftcli.output.lines import empty_note, untimed_note
from driftcli.output.texts import chunk_label, describe_chunks, escaped, plural
from driftcli.results import Timeline


def render_timeline_html(timeline: Timeline) -> str:
    """One page: the verdict over the chunks, the chunks, a line chart per feature."""
    title = (
        f"driftcli: {VERDICT_WORD[timeline.verdict]} over time: {timeline.live.name} "
        f"vs {timeline.reference.name}"
    )
    thresholds = timeline.thresholds()
    order = drifted_first(timeline)
    body = [
        _verdict(timeline),
        heatmap(timeline, order),
        _chunks(timeline),
        *([schema_section(timeline.chunks[0].check)] if timeline.chunks else []),
        *(_feature(timeline, name, thresholds.get(name, 0.0), i) for i, name in order),
    ]
    return page(title, body)


def _verdict(timeline: Timeline) -> str:
    live, ref = timeline.live, timeline.reference
    notes = [untimed_note(timeline)] if timeline.untimed.count else []
    gaps = empty_note(timeline)
    notes += [gaps] if gaps else []
    noted = "".join(f"<li>{escaped(n)}</li>" for n in notes)
    return (
        f'<section class="card verdict {VERDICT_TONE[timeline.verdict]}">'
        f"<h1>{escaped(VERDICT_WORD[timeline.verdict])}</h1>"
        f"<p><strong>{escaped(describe_chunks(timeline))}</strong>. "
        f"Decision: {escaped(flag_names(timeline.decision.rule))}.</p>"
        '<p class="rule">Each chunk is checked as a whole check of its rows would be: a '
        "feature drifts in a chunk when its change (its score less the noise of the chunk's "
        "counts) may be above its threshold and its p-value shows chance cannot explain "
        "it.</p>"
        f'<ul class="facts"><li>live: <span class="name">{escaped(live.name)}</span> '
        f"({escaped(plural(live.rows, 'row'))})</li>"
        f'<li>reference: <span class="name">{escaped(ref.name)}</span> '
        f"({escaped(plural(ref.rows, 'row'))})</li></ul>"
        + (f'<ul class="notes">{noted}</ul>' if notes else "")
        + "</section>"
    )


def _chunks(timeline: Timeline) -> str:
    rows = []
    for chunk in timeline.chunks:
        drifted = [f.name for f in chunk.check.features if f.drift]
        rows.append(
            f'<tr><td class="when">{escaped(chunk_label(timeline, chunk))}</td>'
            f'<td class="num">{chunk.check.live.rows:,}</td>'
            f'<td><span class="status {VERDICT_TONE[chunk.verdict]}">'
            f"{escaped(chunk.verdict.value)}</span></td>"
            f'<td class="name">{escaped(", ".join(drifted)) or "—"}</td></tr>'
        )
    return (
        '<section class="card"><h2>Chunks</h2><div class="scroll"><table><thead><tr>'
        '<th>chunk</th><th class="num">rows</th><th>verdict</th><th>drifted</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _feature(timeline: Timeline, name: str, threshold: float, index: int) -> str:
    points = []
    for chunk in timeline.chunks:
        result = chunk.check.features[index]
        points.append(
            Point(
                label=chunk_label(timeline, chunk),
                score=result.change,
                tone=STATUS_TONE[result.status],
                status=result.status.value,
            )
        )
    first, run = timeline.first_drift(name), timeline.drifting_since(name)
    since = f"first drift: {chunk_label(timeline, first)}" if first else "no drift in any chunk"
    if run is not None:
        now = f"drifting since {chunk_label(timeline, run)}"
        since = now if run is first else f"{now} ({since})"
    return (
        f'<section class="card feature" id="f{index + 1}">'
        f'<h2><span class="name">{escaped(name)}</span> '
        f'<span class="dim">· {escaped(since)}</span></h2>'
        '<div class="legend">change per chunk (the score less its noise); dashed: '
        f"the threshold {readable(threshold)}</div>"
        f'<div class="plot">{line_chart(name, points, threshold)}</div>'
        f"{first_drift_chart(timeline, first, index)}</section>"
    )
