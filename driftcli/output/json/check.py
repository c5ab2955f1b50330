"""The JSON documents driftcli writes: a check, a reference, the store (docs/json.md).

Written with `json.dumps` (through `texts.json_text`, which escapes what could
reorder a terminal) and never through a rich console, which would wrap long
lines when piped.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from driftcli import __version__
from driftcli.errors import flag_names
from driftcli.findings import QualityFinding, QualityStatus
from driftcli.grouping import CHUNKING_KEYS
from driftcli.output.joint import joint_json
from driftcli.output.texts import json_text
from driftcli.results import (
    CheckResult,
    ChunkResult,
    Decision,
    FeatureResult,
    Location,
    SourceInfo,
    Status,
    Timeline,
    Verdict,
)
from driftcli.settings import QUALITY_RULES, FeatureSettings, Settings
from driftcli.sliced import SlicedCheck, SliceResult

JSON_SCHEMA_VERSION = 3


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
            "rule": flag_names(result.decision.rule),
        },
        "summary": {
            "features": len(result.features),
            "drifted": len(result.drifted),
            "failed": len(result.failed),
            "failed_quality": sum(bool(f.failed_quality) for f in result.features),
            "small": sum(f.small for f in result.features),
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
            "decimal": settings.decimal,
            "quality": _quality_settings(settings),
        },
        "reference": source_json(result.reference),
        "live": source_json(result.live),
        "features": [_feature_json(f) for f in result.features],
        "new_columns": result.new_columns,
        "skipped": [
            {"name": name, "reason": flag_names(why)} for name, why in result.skipped.items()
        ],
    }


def render_timeline_json(timeline: Timeline) -> str:
    """A chunked check as one JSON document: the check of the chunk the verdict rests on,
    with the verdict over the chunks, and every chunk in `chunks` (docs/json.md). On one
    line: thousands of chunks would spend seconds in the indented encoder."""
    return json_text(timeline_json(timeline), indent=None, allow_nan=False)


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    document = _decided(to_json(timeline.latest.check), timeline.decision)
    document["live"] = source_json(timeline.live)
    drifted: dict[str, int] = {}
    for chunk in timeline.chunks:
        for f in chunk.check.features:
            drifted[f.name] = drifted.get(f.name, 0) + f.drift
    for feature in document["features"]:
        name = feature["name"]
        first = timeline.first_drift(name)
        feature["first_drift"] = first.start if first else None
        since = timeline.drifting_since(name)
        feature["drifting_since"] = since.start if since else None
        feature["drifted_chunks"] = drifted.get(name, 0)
    document["timeline"] = _chunking_json(timeline)
    document["chunks"] = [_chunk_json(c) for c in timeline.chunks]
    return document


def _decided(document: dict[str, Any], decision: Decision) -> dict[str, Any]:
    """The document of the check a verdict over several rests on, with that verdict."""
    document["drift"] = decision.drift
    document["verdict"] = decision.verdict.value
    document["decision"] = {
        "drift": decision.drift,
        "verdict": decision.verdict.value,
        "rule": flag_names(decision.rule),
    }
    return document


def render_sliced_json(result: SlicedCheck) -> str:
    """A sliced check as one JSON document: the whole check, with the verdict over it and
    its slices, the slicing in `slicing` and every slice in `slices` (docs/json.md)."""
    return json_text(sliced_json(result), allow_nan=False)


def sliced_json(result: SlicedCheck) -> dict[str, Any]:
    document = _decided(to_json(result.whole), result.decision)
    whole = result.whole.decision
    settings = result.settings
    document["slicing"] = {
        **result.slicing.json_fields(),
        "slices": len(result.slices),
        "checked_slices": len(result.checked),
        "drifted_slices": len(result.drifted),
        "new_values": result.new_values,
        "evidence_level": result.evidence_level if settings.alpha is None else None,
        "alpha_per_slice": None
        if settings.alpha is None
        else settings.alpha / max(len(result.checked), 1),
        "whole": {
            "drift": whole.drift,
            "verdict": whole.verdict.value,
            "rule": flag_names(whole.rule),
        },
    }
    document["slices"] = [_slice_json(s) for s in result.slices]
    return document


def _slice_json(s: SliceResult) -> dict[str, Any]:
    check = s.check
    return {
        "slice": s.value,
        "kind": s.kind.value,
        "state": s.state.value,
        "rows": s.rows,
        "reference_rows": s.reference_rows,
        "drift": None if check is None else check.drift,
        "verdict": None if check is None else check.verdict.value,
        "rule": None if check is None else flag_names(check.decision.rule),
        "features": []
        if check is None
        else [_chunk_feature_json(f, s.rows) | _explanation_json(f) for f in check.features],
    }


def _chunking_json(timeline: Timeline) -> dict[str, Any]:
    by = timeline.chunking
    untimed = timeline.untimed
    return {
        **dict.fromkeys(CHUNKING_KEYS),
        **by.json_fields(),
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
        if by.time_column is not None
        else None,
    }


def _chunk_json(chunk: ChunkResult) -> dict[str, Any]:
    check = chunk.check
    rows = check.live.rows  # every row of the chunk is in each feature's counts
    return {
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "rows": rows,
        "partial": chunk.partial,
        "drift": None if chunk.empty else check.drift,
        "verdict": check.verdict.value,
        "rule": flag_names(check.decision.rule),
        "features": [_chunk_feature_json(f, rows) for f in check.features],
        "new_columns": check.new_columns,
    }


def _chunk_feature_json(f: FeatureResult, rows: int) -> dict[str, Any]:
    """A feature of a chunk: how it came out, without its counts (thousands of chunks)."""
    drift = f.drift
    quality = (
        {q.rule.value: q.status.value for q in f.quality if q.status is not _OK}
        if f.quality
        else {}
    )
    return {
        "name": f.name,
        "score": finite(f.score),
        "change": finite(f.change),
        "change_upper": finite(f.change_upper),
        "status": f.status.value,
        "drift": drift,
        "small": f.small,
        "fails": drift or "fail" in quality.values(),
        "threshold": f.threshold,
        "material": f.material,
        "p_value": finite(f.p_value),
        "p_value_adjusted": finite(f.p_adjusted),
        "reason": f.reason and flag_names(f.reason),
        "quality": quality,
        "rows": rows,
        "missing": f.live_missing,
        "invalid": f.live_invalid,
    }


_OK = QualityStatus.OK


def source_json(source: SourceInfo) -> dict[str, Any]:
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
        "score": finite(f.score),
        "noise": finite(f.noise),
        "change": finite(f.change),
        "change_lower": finite(f.change_lower),
        "change_upper": finite(f.change_upper),
        "threshold": f.threshold,
        "material": f.material,
        "may_be_material": f.may_be_material,
        "small": f.small,
        "fails": f.fails,
        "p_value": finite(f.p_value),
        "p_value_method": f.p_method,
        "p_value_bound": f.p_bound,
        "p_value_test": f.p_test,
        "p_value_parts": [
            {
                "test": part.test,
                "p_value": finite(part.p_value),
                "method": part.method,
                "weight": part.weight,
                "bound": part.bound,
            }
            for part in f.p_parts
        ],
        "p_value_adjusted": finite(f.p_adjusted),
        "evidence_level": f.evidence_level,
        "reason": f.reason and flag_names(f.reason),
        "quality": [_quality_json(q) for q in f.quality],
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
        **_explanation_json(f),
    }


def _quality_json(q: QualityFinding) -> dict[str, Any]:
    return {
        "rule": q.rule.value,
        "status": q.status.value,
        "reference_share": q.reference_share,
        "live_share": q.live_share,
        "rows": {"reference": q.reference_rows, "live": q.live_rows},
        "p_value": finite(q.p_value),
        "p_value_bound": q.p_bound,
        "ratio": _limit(q.ratio),
        "points": _limit(q.points),
        "reason": q.reason and flag_names(q.reason),
    }


def _quality_settings(settings: Settings) -> dict[str, dict[str, float | str | None]]:
    """Each rule's limits."""
    return {
        rule: {limit: _limit(getattr(settings, f"{rule}_{limit}")) for limit in ("ratio", "points")}
        for rule in QUALITY_RULES
    }


def _limit(value: float | None) -> float | str | None:
    """A rule's limit as JSON holds it: `"off"` for an infinite one (the rule never fails)."""
    if value is None or math.isfinite(value):
        return value
    return "off"


def _explanation_json(f: FeatureResult) -> dict[str, Any]:
    """What moved (`moves`), and a numeric feature's `stats` (null for a categorical one)."""
    moves = [
        {"bucket": m.bucket, "ref_share": m.ref_share, "live_share": m.live_share,
         "contribution": m.contribution}
        for m in f.moves
    ]  # fmt: skip
    if f.stats is None:
        return {"moves": moves, "stats": None}
    sides = {"ref": f.stats.ref, "live": f.stats.live}
    stats = {key: asdict(side) | {"at_least": list(side.at_least), "at_most": list(side.at_most)}
             for key, side in sides.items()}  # fmt: skip
    return {"moves": moves, "stats": stats}


def _location_json(at: Location) -> dict[str, Any]:
    return {"source": at.source, at.unit: at.number}


def _override_json(o: FeatureSettings) -> dict[str, Any]:
    return {
        "threshold": o.threshold,
        "metric": o.metric,
        "kind": o.kind.value if o.kind else None,
        "bins": o.bins,
        "exclude": o.exclude or None,
        **{
            f"{rule}_{limit}": _limit(getattr(o, f"{rule}_{limit}"))
            for rule in QUALITY_RULES
            for limit in ("ratio", "points")
        },
    }


def finite(value: float | None) -> float | None:
    """A number JSON can hold: None for a missing, NaN or infinite one."""
    return None if value is None or value != value or value in _INFINITE else value


_INFINITE = (math.inf, -math.inf)
