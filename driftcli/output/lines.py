"""Plain lines for stderr and logs: drift alerts, warnings, the ingest summary.

Stable and greppable, one line each; no rich.
"""

from __future__ import annotations

import json

from driftcli.output.texts import shown
from driftcli.results import CheckResult, FeatureResult, IngestReport, SourceInfo


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
                shown(
                    f"{f.name}: {count:,} {side} value{'' if count == 1 else 's'} could not be "
                    f"read as {what} (counted as invalid){at}"
                )
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
    lines = ", ".join(str(n) for n in source.first_skipped)
    more = ", ..." if source.skipped_lines > len(source.first_skipped) else ""
    return shown(
        f"{source.name}: skipped {source.skipped_lines:,} bad line"
        f"{'' if source.skipped_lines == 1 else 's'} ({lines}{more})"
    )


def _token(value: str) -> str:
    """A value as one shell-like token: quoted when it holds spaces, quotes or '='."""
    if value and not any(c.isspace() or c in "\"'=" for c in value):
        return shown(value)
    return shown(json.dumps(value, ensure_ascii=False))


def ingest_summary(report: IngestReport, window: str) -> list[str]:
    lines = [
        f"ingested {report.rows_stored:,} rows into window {shown(repr(window))} "
        f"(it holds {report.window_rows:,}); {report.flushes} flush(es)"
    ]
    if report.skipped_lines:
        first = ", ".join(str(n) for n in report.first_skipped)
        more = ", ..." if report.skipped_lines > len(report.first_skipped) else ""
        lines.append(f"skipped {report.skipped_lines:,} bad line(s): {first}{more}")
    return lines
