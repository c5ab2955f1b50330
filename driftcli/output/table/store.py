"""The reference snapshot and the store's contents as rich tables."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from driftcli.errors import flag_names
from driftcli.output.texts import percent, plural, shown
from driftcli.records import StoreStatus
from driftcli.store.snapshot import Snapshot


def render_reference(snapshot: Snapshot, where: str) -> RenderableType:
    # Titles are lines of their own: a table's title is padded to the table's width.
    title = Text(f"reference saved to {shown(where)}")
    table = Table()
    # A name is never cut: it wraps in its column, and the numbers keep their line.
    table.add_column("feature", overflow="fold")
    table.add_column("kind", no_wrap=True)
    for column in ("buckets", "missing", "invalid"):
        table.add_column(column, justify="right", no_wrap=True)
    counts = snapshot.profile.counts
    for feature in snapshot.profile.features:
        buckets = counts.features[feature.name].buckets
        rows = int(buckets.sum())
        table.add_row(
            Text(shown(feature.name), overflow="fold"),
            feature.kind.value,
            str(feature.n_value_buckets),
            percent(int(buckets[-2]), rows),
            f"{int(buckets[-1]):,}",
        )
    source = snapshot.source
    lines = [
        Text(
            f"{plural(len(snapshot.profile.features), 'feature')} from {shown(source.name)} "
            f"({plural(source.rows, 'row')}, {source.format}); "
            f"sample of {plural(snapshot.sample.num_rows, 'row')}"
        )
    ]
    lines += [
        Text(shown(f"not scored: {n}: {flag_names(why)}"), style="dim")
        for n, why in snapshot.profile.skipped.items()
    ]
    return Group(title, table, *lines)


def render_status(state: StoreStatus) -> RenderableType:
    parts: list[RenderableType] = [Text(f"store: {shown(state.root)}")]
    if state.reference is None:
        parts.append(Text("reference: none (build one with: driftcli reference DATA)"))
    else:
        ref = state.reference
        parts.append(
            Text(
                f"reference: {plural(ref.features, 'feature')} from {shown(ref.source.name)} "
                f"({plural(ref.source.rows, 'row')}), created {ref.created}"
            )
        )
    if not state.windows:
        parts.append(Text("windows: none (fill one with: driftcli ingest DATA)"))
        return Group(*parts)
    parts.append(Text("windows"))
    table = Table()
    table.add_column("window", overflow="fold")
    for column in ("rows", "max rows", "segments"):
        table.add_column(column, justify="right", no_wrap=True)
    for column in ("first ingested", "last ingested"):
        table.add_column(column, overflow="fold")
    for w in state.windows:
        table.add_row(
            Text(shown(w.name), overflow="fold"),
            f"{w.rows:,}",
            f"{w.max_rows:,}",
            str(w.segments),
            _minute(w.first_ingested),
            _minute(w.last_ingested),
        )
    parts.append(table)
    return Group(*parts)


def _minute(iso: str | None) -> str:
    """`2026-12-01 09:51Z` for `2026-12-01T09:51:48+00:00` (JSON has the whole time)."""
    if not iso:
        return "—"
    if iso.endswith("+00:00") and len(iso) >= 16:
        return f"{iso[:10]} {iso[11:16]}Z"
    return shown(iso)
