"""The JSON documents and the plain log lines driftcli writes.

Kept apart from the rich renderers (report.py) so `--format json`, ingest
alerts and summaries never import rich: a CI call then starts faster.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from driftcli import __version__
from driftcli.results import CheckResult, FeatureResult, SourceInfo, Status, StoreStatus

if TYPE_CHECKING:
    from driftcli.core import IngestReport
    from driftcli.snapshot import Snapshot

JSON_SCHEMA_VERSION = 1


def render_json(result: CheckResult) -> str:
    """The result as one JSON document (schema documented in the README)."""
    return json.dumps(to_json(result), indent=2, ensure_ascii=False, allow_nan=False)


def to_json(result: CheckResult) -> dict[str, Any]:
    settings = result.settings
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "driftcli_version": __version__,
        "drift": result.drift,
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
            "bins": settings.bins,
            "max_categories": settings.max_categories,
            "min_rows": settings.min_rows,
            "smoothing": settings.smoothing,
            "features": list(settings.features),
            "exclude": list(settings.exclude),
        },
        "reference": _source_json(result.reference),
        "live": _source_json(result.live),
        "features": [_feature_json(f) for f in result.features],
        "new_columns": result.new_columns,
        "skipped": [{"name": name, "reason": why} for name, why in result.skipped.items()],
    }


def _source_json(source: SourceInfo) -> dict[str, Any]:
    return {"source": source.name, "format": source.format, "rows": source.rows}


def _feature_json(f: FeatureResult) -> dict[str, Any]:
    return {
        "name": f.name,
        "kind": f.kind.value,
        "status": f.status.value,
        "drift": f.drift,
        "score": _finite(f.score),
        "p_value": _finite(f.p_value),
        "threshold": f.threshold,
        "min_rows": f.min_rows,
        "rows": {"reference": f.reference_rows, "live": f.live_rows},
        "missing": {"reference": f.reference_missing, "live": f.live_missing},
        "invalid": {"reference": f.reference_invalid, "live": f.live_invalid},
        "buckets": list(f.labels),
        "counts": {"reference": f.reference.tolist(), "live": f.live.tolist()},
    }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def alert_lines(result: CheckResult, window: str) -> list[str]:
    """One stable, greppable line per drifted feature, for logs and pagers."""
    lines = []
    for f in result.drifted:
        fields = [f"feature={_token(f.name)}", f"status={_token(f.status.value)}"]
        if f.score is not None:
            fields.append(f"{result.settings.metric.upper()}={f.score:.3f}")
        fields.append(f"threshold={f.threshold:g}")
        fields.append(f"window={_token(window)}")
        fields.append(f"rows={f.live_rows}")
        lines.append("[DRIFT] " + " ".join(fields))
    return lines


def _token(value: str) -> str:
    """A value as one shell-like token: quoted when it holds spaces, quotes or '='."""
    if value and not any(c.isspace() or c in "\"'=" for c in value):
        return value
    return json.dumps(value, ensure_ascii=False)


def ingest_summary(report: IngestReport, window: str) -> list[str]:
    lines = [
        f"ingested {report.rows_stored:,} rows into window {window!r} "
        f"(it holds {report.window_rows:,}); {report.flushes} flush(es)"
    ]
    bad = report.bad_lines
    if bad.count:
        shown = ", ".join(str(n) for n in sorted(bad.first))
        more = ", ..." if bad.count > len(bad.first) else ""
        lines.append(f"skipped {bad.count:,} bad line(s): {shown}{more}")
    return lines


def reference_json(snapshot: Snapshot, where: str) -> str:
    from driftcli.snapshot import encode_snapshot

    document = encode_snapshot(snapshot)
    document["path"] = where
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)


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
    return json.dumps(document, indent=2, ensure_ascii=False)
