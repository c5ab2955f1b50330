"""What the store holds: the reference, and each window's rows and time span."""

from __future__ import annotations

from driftcli.errors import StoreError
from driftcli.records import ReferenceStatus, StoreStatus, WindowStatus
from driftcli.store import Store


def store_status(store: Store) -> StoreStatus:
    """What the store holds: the reference, and each window's rows and time span."""
    reference = None
    if store.has_reference():
        snapshot = store.load_reference()
        reference = ReferenceStatus(
            source=snapshot.source,
            created=snapshot.created,
            features=len(snapshot.profile.features),
            sample_rows=snapshot.sample.num_rows,
            reference_id=snapshot.reference_id,
            tool_version=snapshot.tool_version,
        )
    windows = []
    for name in store.window_names():
        window = store.window(name)
        segments = window.segments()
        windows.append(
            WindowStatus(
                name=name,
                rows=sum(s.rows for s in segments),
                max_rows=window.max_rows(),
                segments=len(segments),
                first_ingested=segments[0].first_ingested if segments else None,
                last_ingested=segments[-1].last_ingested if segments else None,
            )
        )
    try:
        store.history().check_entries()
    except StoreError as exc:
        # The history is not what status shows, but a check of a window writes to it.
        store.warn(f"{exc.said}: checks of windows cannot be recorded")
    return StoreStatus(str(store.root), reference, windows)
