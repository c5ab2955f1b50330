"""The store's history of checks: record a check of a window, read the checks back."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from driftcli.clock import now_utc
from driftcli.errors import StoreError, UsageError, did_you_mean, listed, option
from driftcli.records import CheckedBy, CheckHistory, CheckRecord, RecordedFeature
from driftcli.results import CheckResult
from driftcli.settings import name_key

if TYPE_CHECKING:
    from driftcli.store import Store, Window
    from driftcli.store.snapshot import Snapshot

_AGO = re.compile(r"\s*(\d+)\s*(m|(?i:min|h|d|w))\s*")
"""As --every: units in any case but `m` (`M` would be a month to many)."""
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def record_check(
    window: Window, reference: Snapshot, result: CheckResult, checked_by: CheckedBy
) -> None:
    """Append the check of `window` to its store's history."""
    record = CheckRecord(
        time=now_utc(),
        window=window.name,
        rows=result.live.rows,
        reference_id=reference.whole_reference_id,
        checked_by=checked_by,
        verdict=result.verdict,
        features=tuple(
            RecordedFeature(f.name, f.status, f.score, f.p_value, f.threshold, f.metric)
            for f in result.features
        ),
    )
    from driftcli.store.history import History

    try:
        History(window.store).append(record)
    except StoreError as exc:
        # The verdict is what the gate waits for: a store one may only read, a full
        # disk or a damaged history leaves the check unrecorded, never without a verdict.
        window.store.warn(f"the check is not recorded in the history: {exc.said}")


def read_history(
    store: Store,
    *,
    window: str | None = None,
    features: tuple[str, ...] = (),
    since: str | None = None,
) -> CheckHistory:
    """The recorded checks, oldest first: of one window, with only some features, since a time.

    `since` is a time (ISO 8601; without an offset, UTC) or a length of time
    back from now (`12h`, `7d`, `2w`). A window or a feature no recorded check
    has is a `UsageError`. The checks are in order of their time (stably).
    """
    history = store.history()
    # In time order: a clock that went back appends a record after later ones.
    checks = sorted(history.records(), key=_when)
    if window is not None:
        known = sorted({c.window for c in checks})
        if checks and window not in known:
            raise UsageError(
                f"{option('window')} {window!r}: no recorded check of that window",
                hint="recorded windows: " + listed(known),
            )
        checks = [c for c in checks if c.window == window]
    if since is not None:
        after = parse_since(since)
        checks = [c for c in checks if _when(c) >= after]
    if features:
        checks = _with_features(checks, features)
    return CheckHistory(str(store.root), checks, history.keep())


def keep_history(store: Store, keep: int) -> int:
    """Keep the last `keep` checks from now on; returns how many were dropped."""
    return store.history().set_keep(keep)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`--since`: an ISO 8601 time (UTC unless it says otherwise) or a length of time ago."""
    ago = _AGO.fullmatch(text)
    if ago:
        unit = _UNIT[ago.group(2).lower()[0]]
        try:
            return (now or datetime.now(UTC)) - timedelta(**{unit: int(ago.group(1))})
        except (OverflowError, ValueError):  # a length of time past the calendar's year 1
            raise UsageError(
                f"{option('since')} {text!r}: further back than the calendar goes (the year 1)",
                hint="give a time such as 2026-03-01, or a shorter length of time: 12h, 7d, 2w",
            ) from None
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option('since')} {text!r}: neither a time nor a length of time",
            hint="give a time such as 2026-03-01 or 2026-03-01T12:00:00+01:00, or 12h, 7d, 2w",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(record: CheckRecord) -> datetime:
    moment = datetime.fromisoformat(record.time)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _with_features(checks: list[CheckRecord], wanted: tuple[str, ...]) -> list[CheckRecord]:
    keys = {name_key(n) for n in wanted}
    known = {f.name for c in checks for f in c.features}
    unknown = [n for n in wanted if name_key(n) not in {name_key(k) for k in known}]
    if unknown and checks:
        raise UsageError(
            f"{option('features')} {unknown[0]!r}: no recorded check has that feature",
            hint=did_you_mean(unknown[0], sorted(known), "recorded features:"),
        )
    kept = [
        replace(c, features=tuple(f for f in c.features if name_key(f.name) in keys))
        for c in checks
    ]
    return [c for c in kept if c.features]
