"""The JSON documents driftcli writes: a check, a reference, the store (docs/json.md).

Written with `json.dumps` (through `texts.json_text`, which escapes what could
reorder a terminal) and never through a rich console, which would wrap long
lines when piped.
"""

from __future__ import annotations

import math
from typing import Any

from driftcli import __version__
from driftcli.output.joint import joint_json
from driftcli.output.texts import json_text
from driftcli.results import (
    CheckHistory,
    CheckResult,
    ChunkResult,
    FeatureResult,
    Location,
    SourceInfo,
    Status,
    StoreStatus,
    Timeline,
    Verdict,
)
from driftcli.settings import ByTime, FeatureSettings
from driftcli.store.snapshot import Snapshot

JSON_SCHEMA_VERSION = 2


def render_json(result: CheckResult) -> str:
    """The result as one JSON document (schema documented in the README)."""
    document = to_json(result)
    if result.joint is not None:
        document["joint"] = joint_json(result.joint)
    return json_text(document, allow_nan=False)


def to_json(result: CheckResult) -> dict[str, Any]:
    settings = result.settings
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "driftcli_version": __version__,
        "drift": result.drift,
        "verdict": result.verdict.value,
        "decision": {
            "drift": result.decision.drift,
            "verdict": result.verdict.value,
            "rule": result.decision.rule,
        },
        "summary": {
            "features": len(result.features),
            "drifted": len(result.drifted),
            **{
                s.value.replace(" ", "_"): sum(f.status is s for f in result.features)
                for s in Status
            },
        },
        "settings": {
            "metric": settings.metric,
            "threshold": settings.threshold,
            "evidence": settings.evidence,
            "alpha": settings.alpha,
            "correction": settings.correction.value if settings.alpha is not None else None,
            "max_drift_share": settings.max_drift_share,
            "fail_on": list(settings.fail_on),
            "bins": settings.bins,
            "max_categories": settings.max_categories,
            "min_rows": settings.min_rows,
            "smoothing": settings.smoothing,
            "features": list(settings.features),
            "exclude": list(settings.exclude),
            "feature_settings": {
                name: {k: v for k, v in _override_json(o).items() if v is not None}
                for name, o in settings.overrides
            },
            "skip_bad_lines": settings.skip_bad_lines,
            "delimiter": settings.delimiter,
        },
        "reference": _source_json(result.reference),
        "live": _source_json(result.live),
        "features": [_feature_json(f) for f in result.features],
        "new_columns": result.new_columns,
        "skipped": [{"name": name, "reason": why} for name, why in result.skipped.items()],
    }


def render_timeline_json(timeline: Timeline) -> str:
    """A chunked check as one JSON document: the check of the chunk the verdict rests on,
    with the verdict over the chunks, and every chunk in `chunks` (docs/json.md)."""
    return json_text(timeline_json(timeline), allow_nan=False)


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    document = to_json(timeline.latest.check)
    decision = timeline.decision
    document["drift"] = decision.drift
    document["verdict"] = decision.verdict.value
    document["decision"] = {
        "drift": decision.drift,
        "verdict": decision.verdict.value,
        "rule": decision.rule,
    }
    document["live"] = _source_json(timeline.live)
    for feature in document["features"]:
        name = feature["name"]
        first = timeline.first_drift(name)
        feature["first_drift"] = first.start if first else None
        since = timeline.drifting_since(name)
        feature["drifting_since"] = since.start if since else None
        feature["drifted_chunks"] = sum(
            f.name == name and f.drift for c in timeline.chunks for f in c.check.features
        )
    document["timeline"] = _chunking_json(timeline)
    document["chunks"] = [_chunk_json(c) for c in timeline.chunks]
    return document


def _chunking_json(timeline: Timeline) -> dict[str, Any]:
    by = timeline.chunking
    untimed = timeline.untimed
    return {
        "by": by.column if isinstance(by, ByTime) else None,
        "every": str(by.every) if isinstance(by, ByTime) else None,
        "timezone": by.timezone if isinstance(by, ByTime) else None,
        "chunk_rows": None if isinstance(by, ByTime) else by.rows,
        "chunks": len(timeline.chunks),
        "judged_chunks": sum(c.verdict is not Verdict.NO_VERDICT for c in timeline.chunks),
        "drifted_chunks": sum(c.drift for c in timeline.chunks),
        "decided_by": timeline.deciding,
        "partial_chunks": sum(c.partial for c in timeline.chunks),
        "empty_chunks": sum(c.empty for c in timeline.chunks),
        "fail_on_any_chunk": timeline.any_chunk,
        "rows_without_time": {
            "missing": untimed.missing,
            "unreadable": untimed.unreadable,
            "first": [_location_json(at) for at in untimed.first],
        }
        if isinstance(by, ByTime)
        else None,
    }


def _chunk_json(chunk: ChunkResult) -> dict[str, Any]:
    check = chunk.check
    return {
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "rows": check.live.rows,
        "partial": chunk.partial,
        "drift": None if chunk.empty else check.drift,
        "verdict": check.verdict.value,
        "rule": check.decision.rule,
        "features": [
            {
                "name": f.name,
                "score": _finite(f.score),
                "status": f.status.value,
                "drift": f.drift,
                "threshold": f.threshold,
                "material": f.material,
                "p_value": _finite(f.p_value),
                "p_value_adjusted": _finite(f.p_adjusted),
                "reason": f.reason,
                "rows": f.live_rows,
                "missing": f.live_missing,
                "invalid": f.live_invalid,
            }
            for f in check.features
        ],
        "new_columns": check.new_columns,
    }


def history_json(history: CheckHistory) -> str:
    """The store's recorded checks, oldest first (docs/json.md)."""
    from driftcli.store.history import encode_record

    checks = []
    for record in history.checks:
        doc = encode_record(record)
        del doc["format_version"]
        checks.append(doc)
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "store": history.store,
        "keep": history.keep,
        "checks": checks,
    }
    return json_text(document, allow_nan=False)


def _source_json(source: SourceInfo) -> dict[str, Any]:
    return {
        "source": source.name,
        "format": source.format,
        "rows": source.rows,
        "skipped_lines": source.skipped_lines,
    }


def _feature_json(f: FeatureResult) -> dict[str, Any]:
    return {
        "name": f.name,
        "kind": f.kind.value,
        "status": f.status.value,
        "drift": f.drift,
        "metric": f.metric,
        "metric_fallback": f.fallback,
        "score": _finite(f.score),
        "threshold": f.threshold,
        "material": f.material,
        "p_value": _finite(f.p_value),
        "p_value_method": f.p_method,
        "p_value_bound": f.p_bound,
        "p_value_adjusted": _finite(f.p_adjusted),
        "evidence_level": f.evidence_level,
        "reason": f.reason,
        "min_rows": f.min_rows,
        "rows": {"reference": f.reference_rows, "live": f.live_rows},
        "missing": {"reference": f.reference_missing, "live": f.live_missing},
        "invalid": {
            "reference": f.reference_invalid,
            "live": f.live_invalid,
            "first_live": [_location_json(at) for at in f.invalid_at],
            "first_reference": [_location_json(at) for at in f.reference_invalid_at],
        },
        "buckets": list(f.labels),
        "counts": {"reference": f.reference.tolist(), "live": f.live.tolist()},
    }


def _location_json(at: Location) -> dict[str, Any]:
    return {"source": at.source, at.unit: at.number}


def _override_json(o: FeatureSettings) -> dict[str, Any]:
    return {
        "threshold": o.threshold,
        "metric": o.metric,
        "kind": o.kind.value if o.kind else None,
        "bins": o.bins,
        "exclude": o.exclude or None,
    }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def reference_json(snapshot: Snapshot, where: str) -> str:
    from driftcli.store.snapshot import encode_snapshot

    document = encode_snapshot(snapshot)
    document["path"] = where
    return json_text(document, allow_nan=False)


def status_json(state: StoreStatus) -> str:
    reference = None
    if state.reference is not None:
        ref = state.reference
        reference = {
            **_source_json(ref.source),
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
