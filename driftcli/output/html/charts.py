"""A feature's reference and live shares per bucket as an inline SVG bar chart.

Plain SVG, written as text: no script, no charting library, nothing to
download, and nothing added to the import path of any other command. The
page it goes in (html.py) styles it with CSS classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from driftcli.numbers import readable
from driftcli.output.moves import share as percent_of
from driftcli.output.texts import escaped

WIDTH = 760
LEFT, RIGHT, TOP, PLOT_HEIGHT = 52, 12, 12, 170
GAP = 0.6
"""Slots of space between the value buckets and `missing` / `invalid`."""
MAX_EDGE_LABELS = 24
MAX_LABEL = 14


@dataclass(frozen=True)
class Buckets:
    """One feature's buckets as the chart draws them."""

    labels: Sequence[str]
    """A label per bucket: the value buckets, then `missing` and `invalid`."""
    reference: Sequence[int]
    live: Sequence[int] | None
    """None when the feature is missing from live."""
    value_buckets: int
    edges: Sequence[str] | None = None
    """For quantile buckets: the edges between them, as labels go under the boundaries."""


def bar_chart(name: str, buckets: Buckets) -> str:
    """An SVG of grouped bars, reference then live, as shares of each side's rows."""
    ref = _shares(buckets.reference)
    live = _shares(buckets.live) if buckets.live is not None else None
    top = _nice_top(max([*ref, *(live or [])], default=0.0))
    n = len(buckets.labels)
    slot = (WIDTH - LEFT - RIGHT) / (n + GAP)
    rotated = buckets.edges is not None or n > 8 or any(len(x) > 7 for x in buckets.labels)
    height = TOP + PLOT_HEIGHT + (78 if rotated else 26)
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escaped(name)}: reference and live share of rows per bucket">',
        *_y_axis(top, _percent),
    ]
    if buckets.edges is not None:
        step = math.ceil(len(buckets.edges) / MAX_EDGE_LABELS)
        for i, edge in enumerate(buckets.edges):
            if i % step == 0:
                parts.append(_edge_label(LEFT + (i + 1) * slot, edge))
    for i, label in enumerate(buckets.labels):
        x = LEFT + (i + (GAP if i >= buckets.value_buckets else 0)) * slot
        # One group per bucket, so its title is the tooltip of both bars.
        parts.append(f"<g><title>{_tip(label, buckets, i)}</title>")
        parts.append(_bar("ref", x + slot * 0.1, slot * 0.4, ref[i], top, buckets.reference[i]))
        if live is not None and buckets.live is not None:
            parts.append(_bar("live", x + slot * 0.5, slot * 0.4, live[i], top, buckets.live[i]))
        parts.append("</g>")
        if buckets.edges is None or i >= buckets.value_buckets:
            parts.append(_x_label(x + slot / 2, label, rotated))
    parts.append("</svg>")
    return "".join(parts)


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [c / total if total else 0.0 for c in counts]


def _nice_top(share: float, cap: float | None = 1.0) -> float:
    """The y axis' top: the smallest of 1, 2, 2.5, 5 times a power of ten at or above
    `share`, at most `cap` (shares stop at 1; scores do not)."""
    if share <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(share))
    top = next(step * power for step in (1, 2, 2.5, 5, 10) if share <= step * power + 1e-12)
    return top if cap is None else min(cap, top)


def _y(share: float, top: float) -> float:
    return TOP + PLOT_HEIGHT * (1 - share / top)


def _y_axis(top: float, label: Callable[[float], str]) -> list[str]:
    """Grid lines at 0, half and the top, each labelled by `label` of its value."""
    lines = []
    for fraction in (0.0, 0.5, 1.0):
        y = _y(top * fraction, top)
        lines.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="value" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{label(top * fraction)}</text>"
        )
    return lines


def _percent(share: float) -> str:
    """An axis' share as the tooltips write one."""
    return percent_of(share)


def _bar(side: str, x: float, width: float, share: float, top: float, count: int) -> str:
    height = PLOT_HEIGHT * share / top
    if count and height < 1:
        height = 1.0  # a bucket that holds rows is never drawn empty
    y = TOP + PLOT_HEIGHT - height
    return (
        f'<rect class="bar {side}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}"/>'
    )


def _tip(label: str, buckets: Buckets, i: int) -> str:
    ref = _share_text(buckets.reference, i)
    live = "not in live" if buckets.live is None else _share_text(buckets.live, i)
    return escaped(f"{label}: reference {ref}, live {live}")


def _share_text(counts: Sequence[int], i: int) -> str:
    total = sum(counts)
    share = f" ({percent_of(counts[i] / total)})" if total else ""
    return f"{counts[i]:,}{share}"


def _short(label: str) -> str:
    """A label that fits under its bar; cut in the middle, as labels often share a prefix."""
    if len(label) <= MAX_LABEL:
        return label
    head = (MAX_LABEL - 1) // 2
    return label[:head] + "…" + label[-(MAX_LABEL - 1 - head) :]


def _x_label(x: float, label: str, rotated: bool) -> str:
    y = TOP + PLOT_HEIGHT + 14
    if not rotated:
        return (
            f'<text class="label" x="{x:.1f}" y="{y}" text-anchor="middle">'
            f"{escaped(_short(label))}</text>"
        )
    return (
        f'<text class="label" x="{x:.1f}" y="{y}" text-anchor="end" '
        f'transform="rotate(-40 {x:.1f} {y})">{escaped(_short(label))}</text>'
    )


def _edge_label(x: float, edge: str) -> str:
    base = TOP + PLOT_HEIGHT
    y = base + 14
    return (
        f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}"/>'
        f'<text class="label" x="{x:.1f}" y="{y}" text-anchor="end" '
        f'transform="rotate(-40 {x:.1f} {y})">{escaped(_short(edge))}</text>'
    )


@dataclass(frozen=True)
class Point:
    """One chunk of a feature's timeline: its label, score, and tone (ok, bad, warn)."""

    label: str
    score: float | None
    tone: str
    status: str


MAX_TICKS = 16
"""The most chunk labels a line chart's x axis takes: more would overlap."""


def tick_indices(count: int, most: int = MAX_TICKS) -> list[int]:
    """Which of `count` chunks get a label: evenly spaced, the first and the last always."""
    if count <= most:
        return list(range(count))
    step = math.ceil((count - 1) / (most - 1))
    ticks = list(range(0, count - 1, step))
    if count - 1 - ticks[-1] <= step / 2:
        ticks.pop()  # too close to the last
    return [*ticks, count - 1]


def line_chart(name: str, points: Sequence[Point], threshold: float) -> str:
    """An SVG of a feature's score over the chunks, with its threshold as a dashed line."""
    scores = [p.score for p in points if p.score is not None]
    top = _nice_top(max([*scores, threshold * 1.25], default=1.0), cap=None)
    n = max(len(points), 1)
    slot = (WIDTH - LEFT - RIGHT) / n
    rotated = n > 8 or any(len(p.label) > 7 for p in points)
    height = TOP + PLOT_HEIGHT + (78 if rotated else 26)
    parts = [
        f'<svg class="chart timeline" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escaped(name)}: score per chunk, and its threshold">',
        *_y_axis(top, readable),
    ]
    y_limit = _y(min(threshold, top), top)
    parts.append(
        f'<line class="limit" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y_limit:.1f}" '
        f'y2="{y_limit:.1f}"><title>threshold {readable(threshold)}</title></line>'
    )
    xy = [
        (LEFT + (i + 0.5) * slot, _y(min(p.score, top), top))
        for i, p in enumerate(points)
        if p.score is not None
    ]
    if len(xy) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        parts.append(f'<polyline class="series" points="{path}"/>')
    radius = max(1.5, min(4.0, slot / 2.5))  # dense chunks: small points, still hoverable
    ticks = set(tick_indices(len(points)))
    for i, p in enumerate(points):
        x = LEFT + (i + 0.5) * slot
        if p.score is not None:
            tip = escaped(f"{p.label}: score {readable(p.score)}, {p.status}")
            parts.append(
                f'<circle class="point {p.tone}" cx="{x:.1f}" '
                f'cy="{_y(min(p.score, top), top):.1f}" r="{radius:g}"><title>{tip}</title>'
                "</circle>"
            )
        if i in ticks:
            parts.append(_x_label(x, p.label, rotated))
    parts.append("</svg>")
    return "".join(parts)
