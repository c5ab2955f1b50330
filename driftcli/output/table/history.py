"""The store's history as rich tables: per window, each feature's score over the checks."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import groupby

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from driftcli.output.sparklines import sparkline
from driftcli.output.table.check import STATUS_STYLE
from driftcli.output.texts import shown
from driftcli.records import CheckHistory, CheckRecord, RecordedFeature
from driftcli.results import Status

_BREAK = "│"
"""Drawn in a sparkline where the reference changed."""
_MIN_SPARK = 8
"""The fewest checks a sparkline shows, however narrow the terminal."""


def render_history(history: CheckHistory) -> RenderableType:
    """One table per window: each feature's score over its checks, latest status, drifts."""
    return _Fitted(history)


class _Fitted:
    """Built when rich knows the width: the sparklines take what the other columns leave."""

    def __init__(self, history: CheckHistory) -> None:
        self.history = history

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        history = self.history
        if not history.checks:
            yield Text(_nothing_recorded(history))
            return
        by_window = sorted(history.checks, key=lambda c: c.window)
        parts: list[RenderableType] = []
        # Sized against no width limit: rich clamps a table's natural width to the limit.
        unlimited = options.update_width(1 << 20)
        for window, group in groupby(by_window, key=lambda c: c.window):
            checks = list(group)
            room = len(checks)
            table = _window(window, checks, room)
            wide = Measurement.get(console, unlimited, table).maximum
            if wide > options.max_width and room > _MIN_SPARK:
                room = max(_MIN_SPARK, room - (wide - options.max_width))
                table = _window(window, checks, room)
            parts += [_title(window, checks, room), table, *_references(checks)]
        # Lines of their own, each under 80 columns: rich would wrap one long line
        # mid-phrase.
        notes = [
            "scores: oldest left, on a scale up to the larger of the highest score and",
            f"the threshold; red: drift (!: missing); {_BREAK}: the reference changed.",
            f"The history keeps the last {history.keep:,} checks.",
        ]
        yield Group(*parts, *(Text(note, style="dim") for note in notes))


def _title(window: str, checks: list[CheckRecord], room: int) -> Text:
    """`window live: 4 checks, 2026-03-01 09:00 to 2026-03-07 09:00 UTC`: a line of its
    own, as wide as the terminal (a table's title would wrap at the table's width)."""
    shown_recent = min(room, len(checks))
    return Text(
        f"window {shown(window)}: {len(checks):,} check{'' if len(checks) == 1 else 's'}, "
        f"{_minute(checks[0].time)} to {_minute(checks[-1].time)} UTC"
        + (f" (the scores of the last {shown_recent})" if shown_recent < len(checks) else "")
    )


def _minute(iso: str) -> str:
    """An ISO 8601 time as `2026-03-07 14:05`, in UTC."""
    moment = datetime.fromisoformat(iso)
    return (
        (moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        .astimezone(UTC)
        .strftime("%Y-%m-%d %H:%M")
    )


def _window(window: str, checks: list[CheckRecord], room: int) -> Table:
    names = list(dict.fromkeys(f.name for c in checks for f in c.features))
    recent = checks[-room:]
    table = Table()
    table.add_column("feature", no_wrap=True)
    table.add_column("scores", no_wrap=True)
    table.add_column("latest", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("drifted", justify="right", no_wrap=True)
    table.add_column("last drift", no_wrap=True)
    for name in names:
        seen = [(c, f) for c in checks if (f := _feature(c, name)) is not None]
        last = seen[-1][1]
        drifts = [c for c, f in seen if f.drift]
        table.add_row(
            Text(shown(name)),
            _spark([(c, _feature(c, name)) for c in recent]),
            "—" if last.score is None else f"{last.score:.3f}",
            Text(last.status.value, style=STATUS_STYLE[last.status]),
            f"{len(drifts)} of {len(seen)}",
            _short_time(drifts[-1].time) if drifts else "—",
        )
    return table


def _short_time(iso: str) -> str:
    """`03-07 14:05` (the title gives the years)."""
    return iso[5:16].replace("T", " ")


def _feature(check: CheckRecord, name: str) -> RecordedFeature | None:
    return next((f for f in check.features if f.name == name), None)


def _spark(points: list[tuple[CheckRecord, RecordedFeature | None]]) -> Text:
    scores = [f.score for _, f in points if f is not None and f.score is not None]
    limits = [f.threshold for _, f in points if f is not None]
    top = max([*scores, *limits, 0.0])
    text = Text()
    previous: str | None = None
    for check, f in points:
        if previous is not None and check.reference_id != previous:
            text.append(_BREAK, style="dim")
        previous = check.reference_id
        if f is None:
            text.append(" ")
        elif f.score is None:
            text.append("!", style=STATUS_STYLE[f.status])
        else:
            block = sparkline(np.array([f.score]), top)
            text.append(block, style=_style(f.status))
    return text


def _style(status: Status) -> str:
    if status is Status.OK:
        return "cyan"
    return "dim" if status is Status.INSUFFICIENT else STATUS_STYLE[status]


def _references(checks: list[CheckRecord]) -> list[Text]:
    """The reference ids the window was checked against, and when each came in."""
    spans = [(ref, list(group)) for ref, group in groupby(checks, key=lambda c: c.reference_id)]
    if len(spans) == 1:
        return [Text(f"reference {spans[0][0]}", style="dim")]
    lines = [f"reference {ref} from {group[0].time}" for ref, group in spans]
    return [Text("; ".join(lines), style="dim")]


def _nothing_recorded(history: CheckHistory) -> str:
    where = shown(history.store)
    if history.keep == 0:
        return (
            f"no checks recorded in {where}: recording is off (--keep 0); turn it on with "
            "driftcli history --keep 1000"
        )
    return (
        f"no checks recorded in {where} (that match): a check of a stored window records one "
        "(driftcli check, driftcli ingest --check-every)"
    )
