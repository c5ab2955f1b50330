"""The JSON documents and the plain log lines driftcli writes.

Kept apart from the rich renderers (report.py) so `--format json`, ingest
alerts and summaries never import rich: a CI call then starts faster.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from driftcli import __version__
from driftcli.results import (
    CheckResult,
    FeatureResult,
    FeatureSettings,
    SourceInfo,
    Status,
    StoreStatus,
    Verdict,
)

if TYPE_CHECKING:
    from driftcli.core import IngestReport
    from driftcli.snapshot import Snapshot
    from driftcli.text_formats import Location

JSON_SCHEMA_VERSION = 2


def render_json(result: CheckResult) -> str:
    """The result as one JSON document (schema documented in the README)."""
    return json.dumps(to_json(result), indent=2, ensure_ascii=False, allow_nan=False)


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
        },
        "reference": _source_json(result.reference),
        "live": _source_json(result.live),
        "features": [_feature_json(f) for f in result.features],
        "new_columns": result.new_columns,
        "skipped": [{"name": name, "reason": why} for name, why in result.skipped.items()],
    }


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


def alert_lines(result: CheckResult, window: str) -> list[str]:
    """One stable, greppable line per drifted feature, for logs and pagers."""
    lines = []
    for f in result.drifted:
        fields = [f"feature={_token(f.name)}", f"status={_token(f.status.value)}"]
        if f.score is not None:
            fields.append(f"{f.metric.upper()}={f.score:.3f}")
        fields.append(f"threshold={f.threshold:g}")
        if f.p_value is not None:
            fields.append(f"p={f.p_value:.3g}")
        if f.p_adjusted is not None:
            fields.append(f"p_adjusted={f.p_adjusted:.3g}")
        fields.append(f"window={_token(window)}")
        fields.append(f"rows={f.live_rows}")
        lines.append("[DRIFT] " + " ".join(fields))
    return lines


def invalid_notes(f: FeatureResult) -> list[str]:
    """One line per side holding values that do not read as the feature's type, with where."""
    what = "numbers" if f.kind.value == "numeric" else "labels"
    notes = []
    for side, count, where in (
        ("live", f.live_invalid, f.invalid_at),
        ("reference", f.reference_invalid, f.reference_invalid_at),
    ):
        if count:
            first = ", ".join(str(at) for at in where)
            at = f", first at {first}" if first else ""
            notes.append(
                f"{f.name}: {count:,} {side} value{'' if count == 1 else 's'} could not be read "
                f"as {what} (counted as invalid){at}"
            )
    return notes


def warnings(result: CheckResult) -> list[str]:
    """What stderr says beside any report: lines skipped, values that could not be read."""
    lines = [
        f"warning: {skipped_note(source)}"
        for source in (result.reference, result.live)
        if source.skipped_lines
    ]
    return lines + [f"warning: {note}" for f in result.features for note in invalid_notes(f)]


def skipped_note(source: SourceInfo) -> str:
    shown = ", ".join(str(n) for n in source.first_skipped)
    more = ", ..." if source.skipped_lines > len(source.first_skipped) else ""
    return (
        f"{source.name}: skipped {source.skipped_lines:,} bad line"
        f"{'' if source.skipped_lines == 1 else 's'} ({shown}{more})"
    )


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


# --- CI reports -----------------------------------------------------------------


def _p(p: float | None) -> str:
    if p is None:
        return "—"
    return "<1e-16" if p < 1e-16 else f"{p:.2g}"


def _cell(text: str) -> str:
    """Markdown table cell text: pipes escaped, no line breaks."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def render_markdown(result: CheckResult) -> str:
    """A GitHub-flavoured Markdown report: a heading with the verdict, and a table."""
    drifted = len(result.drifted)
    verdict = {Verdict.DRIFT: "DRIFT", Verdict.NO_DRIFT: "no drift"}.get(
        result.verdict, "no verdict"
    )
    live, ref = result.live, result.reference
    lines = [
        f"### driftcli: {verdict} ({drifted} of {len(result.features)} features drifted)",
        "",
        f"Live `{_cell(live.name)}` ({live.rows:,} rows) vs reference `{_cell(ref.name)}` "
        f"({ref.rows:,} rows). Rule: {_cell(result.decision.rule)}.",
        "",
        "| feature | kind | status | score | metric > threshold | p-value | rows ref → live "
        "| missing ref → live |",
        "|---|---|---|---:|---|---:|---:|---:|",
    ]
    for f in result.features:
        status = f"**{f.status.value}**" if f.drift else f.status.value
        score = "—" if f.score is None else f"{f.score:.3f}"
        metric = f"{f.metric}{' (fallback)' if f.fallback else ''} > {f.threshold:g}"
        p = _p(f.p_value) + (f" (adj. {_p(f.p_adjusted)})" if f.p_adjusted is not None else "")
        lines.append(
            f"| {_cell(f.name)} | {f.kind.value} | {status} | {score} | {metric} | {p} "
            f"| {f.reference_rows:,} → {f.live_rows:,} "
            f"| {_share(f.reference_missing, f.reference_rows)} → "
            f"{_share(f.live_missing, f.live_rows)} |"
        )
    notes = [
        f"{f.name}: {f.status.value}: {f.reason}"
        for f in result.features
        if f.reason and f.status in (Status.UNCERTAIN, Status.INSUFFICIENT)
    ]
    notes += [note for f in result.features for note in invalid_notes(f)]
    if notes:
        lines += ["", *(f"- {_cell(note)}" for note in notes)]
    if result.new_columns:
        lines += [
            "",
            "New in live, not scored: " + ", ".join(f"`{_cell(c)}`" for c in result.new_columns),
        ]
    return "\n".join(lines)


def render_junit(result: CheckResult) -> str:
    """JUnit XML: one test case per feature; drift is a failure, too few rows a skip."""
    import xml.etree.ElementTree as ET

    failures = sum(f.drift for f in result.features)
    skipped = sum(f.status is Status.INSUFFICIENT for f in result.features)
    counts = {
        "tests": str(len(result.features)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": "0",
    }
    suites = ET.Element("testsuites", {"name": "driftcli", **counts})
    suite_name = f"driftcli check: {result.live.name} vs {result.reference.name}"
    suite = ET.SubElement(suites, "testsuite", {"name": suite_name, **counts})
    for f in result.features:
        case = ET.SubElement(
            suite, "testcase", classname=f"driftcli.{f.kind.value}", name=f.name, time="0"
        )
        score = "—" if f.score is None else f"{f.score:.4g}"
        detail = (
            f"status: {f.status.value}\nmetric: {f.metric}\nscore: {score}\n"
            f"threshold: {f.threshold:g}\np-value: {_p(f.p_value)}\n"
            f"rows: {f.reference_rows} reference, {f.live_rows} live"
            + (f"\n{f.status.value}: {f.reason}" if f.reason else "")
        )
        if f.drift:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{f.name}: {f.status.value} ({f.metric} {score} > {f.threshold:g})",
                type=f.status.value.replace(" ", "_"),
            )
            failure.text = detail
        elif f.status is Status.INSUFFICIENT:
            ET.SubElement(case, "skipped", message=f.reason or "too few live rows")
        ET.SubElement(case, "system-out").text = detail
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
