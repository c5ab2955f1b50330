"""What the store holds, as JSON for programs: the reference a `reference` command saved,
the store's contents (`status`), the recorded checks (`history`); docs/json.md.

Each is the public schema (`schema_version`), written from the records here and never
the store's own encodings: the files on disk may change their format without a
program that reads `driftcli ... --format json` noticing.
"""

from __future__ import annotations

from typing import Any

from driftcli.errors import flag_names
from driftcli.output.json.check import JSON_SCHEMA_VERSION, finite, source_json
from driftcli.output.texts import json_text
from driftcli.records import CheckHistory, CheckRecord, StoreStatus
from driftcli.store.snapshot import Snapshot


def reference_json(snapshot: Snapshot, where: str) -> str:
    """The reference as saved: its source, each feature's buckets and counts over them."""
    counts = snapshot.profile.counts
    features = []
    for feature in snapshot.profile.features:
        buckets = counts.features[feature.name].buckets
        features.append(
            {
                "name": feature.name,
                "kind": feature.kind.value,
                "rows": int(buckets.sum()),
                "missing": int(buckets[-2]),
                "invalid": int(buckets[-1]),
                "buckets": feature.labels(),
                "counts": buckets.tolist(),
            }
        )
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "path": where,
        "reference_id": snapshot.reference_id,
        "created": snapshot.created,
        "tool_version": snapshot.tool_version,
        "source": source_json(snapshot.source),
        "bins": snapshot.bins,
        "max_categories": snapshot.max_categories,
        "sample_rows": snapshot.sample.num_rows,
        "features": features,
        "skipped": [
            {"name": n, "reason": flag_names(why)} for n, why in snapshot.profile.skipped.items()
        ],
        "slicing": _slicing_json(snapshot),
    }
    return json_text(document, allow_nan=False)


def _slicing_json(snapshot: Snapshot) -> dict[str, Any] | None:
    slices = snapshot.slices
    if slices is None:
        return None
    values = slices.values
    groups = [*range(len(values.named)), *([values.other] if values.has_other else [])]
    listed = []
    for group in groups:
        found = slices.of(group)
        value, kind = values.identity(group)
        rows = 0 if found is None else found.rows
        listed.append({"slice": value, "kind": kind.value, "rows": rows})
    return {"column": slices.column, "max_slices": slices.max_slices, "slices": listed}


def status_json(state: StoreStatus) -> str:
    reference = None
    if state.reference is not None:
        ref = state.reference
        reference = {
            **source_json(ref.source),
            "created": ref.created,
            "features": ref.features,
            "sample_rows": ref.sample_rows,
            "reference_id": ref.reference_id,
            "tool_version": ref.tool_version,
        }
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "store": state.root,
        "reference": reference,
        "windows": [
            {
                "name": w.name,
                "rows": w.rows,
                "max_rows": w.max_rows,
                "segments": w.segments,
                "first_ingested": w.first_ingested,
                "last_ingested": w.last_ingested,
            }
            for w in state.windows
        ],
    }
    return json_text(document)


def history_json(history: CheckHistory) -> str:
    """The store's recorded checks, oldest first."""
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "store": history.store,
        "keep": history.keep,
        "checks": [_record_json(record) for record in history.checks],
    }
    return json_text(document, allow_nan=False)


def _record_json(record: CheckRecord) -> dict[str, Any]:
    return {
        "time": record.time,
        "window": record.window,
        "checked_by": record.checked_by.value,
        "rows": record.rows,
        "reference_id": record.reference_id,
        "verdict": record.verdict.value,
        "drift": record.drift,
        "features": [
            {
                "name": f.name,
                "status": f.status.value,
                "drift": f.drift,
                "score": finite(f.score),
                "p_value": finite(f.p_value),
                "threshold": f.threshold,
                "metric": f.metric,
            }
            for f in record.features
        ],
    }
