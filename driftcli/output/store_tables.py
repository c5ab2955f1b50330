"""The reference snapshot and the store's contents as rich tables."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from driftcli.output.texts import percent, plural, shown
from driftcli.results import StoreStatus
from driftcli.store.snapshot import Snapshot


def render_reference(snapshot: Snapshot, where: str) -> RenderableType:
    table = Table(title=Text(f"reference saved to {shown(where)}"), title_justify="left")
    for column in ("feature", "kind", "buckets", "missing", "invalid"):
        table.add_column(column, justify="left" if column in ("feature", "kind") else "right")
    counts = snapshot.profile.counts
    for feature in snapshot.profile.features:
        buckets = counts.features[feature.name].buckets
        rows = int(buckets.sum())
        table.add_row(
            Text(shown(feature.name)),
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
        Text(shown(f"not scored: {n}: {why}"), style="dim")
        for n, why in snapshot.profile.skipped.items()
    ]
    return Group(table, *lines)


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
    table = Table(title="windows", title_justify="left")
    for column in ("window", "rows", "of at most", "segments", "first ingested", "last ingested"):
        table.add_column(
            column, justify="right" if column in ("rows", "of at most", "segments") else "left"
        )
    for w in state.windows:
        table.add_row(
            Text(shown(w.name)),
            f"{w.rows:,}",
            f"{w.max_rows:,}",
            str(w.segments),
            shown(w.first_ingested or "—"),
            shown(w.last_ingested or "—"),
        )
    parts.append(table)
    return Group(*parts)
