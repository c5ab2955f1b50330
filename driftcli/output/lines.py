"""Plain lines for stderr and logs: drift alerts, warnings, the ingest summary.

Stable and greppable, one line each; no rich.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from driftcli.errors import flag_names
from driftcli.output.moves import what_moved
from driftcli.output.texts import TINY_P, chunk_label, plural, shown
from driftcli.records import IngestReport
from driftcli.report import Report
from driftcli.results import NUMBER_TEXT, CheckResult, FeatureResult, Location, SourceInfo, Timeline
from driftcli.sliced import SlicedCheck

if TYPE_CHECKING:
    from driftcli.report import Renderer


def alert_lines(result: Report, window: str) -> list[str]:
    """One logfmt line per drifted feature and per failed data-quality rule, for logs and
    pagers: the same keys whatever the metric (`score=0.85 change=0.80 metric=kl`), `p=`
    always a number (a bound in `p_bound=`), and what moved in `moved=`;
    and one line for a joint drift (`joint=` the features that moved together).
    A sliced check's: the whole check's, then each slice's with `slice=` after `feature=`."""
    return [
        line
        for label, check in result.labelled_checks
        for line in _alert_lines(check, window, label)
    ]


def _alert_lines(result: CheckResult, window: str, slice_label: str | None = None) -> list[str]:
    where = [] if slice_label is None else [f"slice={_token(slice_label)}"]
    lines = []
    for f in result.drifted:
        fields = [f"feature={_token(f.name)}", *where, f"status={_token(f.status.value)}"]
        if f.score is not None:
            fields.append(f"score={f.score:.3f}")
        if f.change is not None:
            fields.append(f"change={f.change:.3f}")
        fields += [f"metric={f.metric}", f"threshold={f.threshold:g}"]
        if f.p_value is not None:
            fields += _p_fields("p", f.p_value, f.p_bound)
        if f.p_adjusted is not None:
            fields += _p_fields("p_adjusted", f.p_adjusted, f.p_bound)
        fields.append(f"window={_token(window)}")
        fields.append(f"rows={f.live_rows}")
        moved = what_moved(f)
        if moved:
            fields.append(f"moved={_token(moved)}")
        lines.append("[DRIFT] " + " ".join(fields))
    for f in result.features:
        for q in f.failed_quality:
            fields = [
                f"feature={_token(f.name)}",
                *where,
                f"rule={q.rule.value}",
                f"status={q.status.value}",
                f"reference={100 * q.reference_share:.2f}%",
                f"live={100 * q.live_share:.2f}%",
            ]
            if q.p_value is not None:
                fields += _p_fields("p", q.p_value, q.p_bound)
            fields += [f"window={_token(window)}", f"rows={f.live_rows}"]
            lines.append("[QUALITY] " + " ".join(fields))
    joint = result.joint
    if joint is not None and joint.drift and joint.score is not None and joint.p_value is not None:
        fields = [
            f"joint={','.join(_token(c.feature) for c in joint.contributors) or '-'}",
            f"status={joint.status.value}",
            f"score={joint.score:.3f}",
            "metric=auc",
            f"threshold={joint.threshold:g}",
            *_p_fields("p", joint.p_value, False),
            f"window={_token(window)}",
            f"rows={result.live.rows}",
        ]
        lines.append("[DRIFT] " + " ".join(fields))
    return lines


def no_verdict_line(result: Report, window: str) -> str:
    """The line a check that could judge no feature gives, in the alert lines' form."""
    return (
        f"[NO VERDICT] window={_token(window)} rows={result.live.rows} "
        f"reason={_token(flag_names(result.decision.rule))}"
    )


def _p_fields(key: str, p: float, bound: bool) -> list[str]:
    """`p=0.0012`; a bound as its value with a key of its own: `p=1e-16 p_bound=1e-16`
    below what a double can resolve, `p=0.0005 p_bound=0.0005` at Monte Carlo's floor."""
    if p < TINY_P:
        return [f"{key}={TINY_P:g}", f"{key}_bound={TINY_P:g}"]
    if bound:
        return [f"{key}={p:.2g}", f"{key}_bound={p:.2g}"]
    return [f"{key}={p:.2g}"]


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
                    f"{f.name}: {plural(count, side + ' value')} could not be read "
                    f"as {what} (counted as invalid){at}"
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
    live = result.live
    if live.featureless:
        note = featureless_note(live.name, live.featureless, live.first_featureless, "counted")
        lines.append(f"warning: {note}")
    lines += [
        shown(f"warning: {name}: {flag_names(why)}; it is not scored")
        for name, why in result.skipped.items()
        if why == NUMBER_TEXT
    ]
    return lines + [f"warning: {note}" for f in result.features for note in invalid_notes(f)]


def featureless_note(name: str, count: int, first: tuple[Location, ...], done: str) -> str:
    """`live.jsonl: 2 rows hold none of the reference's features (counted as missing
    values), first at ...`."""
    if first and all(at.source == name for at in first):
        unit = first[0].unit + ("s" if len(first) > 1 else "")
        where = f"{unit} " + ", ".join(str(at.number) for at in first)
    else:  # several files: each location names its own
        where = ", ".join(str(at) for at in first)
    verb = "holds" if count == 1 else "hold"
    return shown(
        f"{name}: {plural(count, 'row')} {verb} none of the reference's features "
        f"({done} as missing values){f', first at {where}' if where else ''}"
    )


class Warnings:
    """What stderr says beside the report of any kind of check (`report.rendered`)."""

    def check(self, result: CheckResult) -> list[str]:
        return warnings(result)

    def timeline(self, timeline: Timeline) -> list[str]:
        return timeline_warnings(timeline)

    def sliced(self, result: SlicedCheck) -> list[str]:
        """The whole check's warnings."""
        return warnings(result.whole)


def timeline_warnings(timeline: Timeline) -> list[str]:
    """What stderr says beside a chunked check's report: lines skipped, values that could
    not be read (over all chunks), rows in no chunk."""
    lines = [
        f"warning: {skipped_note(source)}"
        for source in (timeline.reference, timeline.live)
        if source.skipped_lines
    ]
    for i, _ in enumerate(timeline.feature_names):
        lines += [f"warning: {note}" for note in invalid_notes(_over_chunks(timeline, i))]
    if timeline.untimed.count:
        lines.append(f"warning: {untimed_note(timeline)}")
    gaps = empty_note(timeline)
    if gaps:
        lines.append(f"warning: {gaps}")
    lines += [f"warning: {shown(flag_names(note))}" for note in timeline.warnings]
    return lines


def empty_note(timeline: Timeline) -> str | None:
    """`app.csv: no rows in 1 chunk: 2024-03-05`: gaps a monitor should hear of."""
    empty = [c for c in timeline.chunks if c.empty]
    if not empty:
        return None
    named = ", ".join(chunk_label(timeline, c) for c in empty[:5])
    more = f", ... ({len(empty):,} in all)" if len(empty) > 5 else ""
    return shown(f"{timeline.live.name}: no rows in {plural(len(empty), 'chunk')}: {named}{more}")


def _over_chunks(timeline: Timeline, index: int) -> FeatureResult:
    """A feature's live counts and first invalid values over every chunk."""
    parts = [c.check.features[index] for c in timeline.chunks]
    live = sum((f.live for f in parts[1:]), parts[0].live)
    where = tuple(at for f in parts for at in f.invalid_at)[:5]
    return replace(parts[0], live=live, invalid_at=where)


def untimed_note(timeline: Timeline) -> str:
    """`app.csv: 12 rows are in no chunk: ...`."""
    untimed = timeline.untimed
    column = timeline.chunking.time_column or ""
    parts = []
    if untimed.missing:
        parts.append(f"{untimed.missing:,} without a time")
    if untimed.unreadable:
        parts.append(f"{untimed.unreadable:,} whose time could not be read")
    first = ", ".join(str(at) for at in untimed.first)
    where = f"; first at {first}" if first else ""
    count = untimed.count
    return (
        f"{timeline.live.name}: {count:,} row{'' if count == 1 else 's'} in no chunk: "
        f"{' and '.join(parts)} in {column!r}{where}"
    )


def skipped_note(source: SourceInfo) -> str:
    lines = ", ".join(str(n) for n in source.first_skipped)
    more = ", ..." if source.skipped_lines > len(source.first_skipped) else ""
    return shown(
        f"{source.name}: skipped {plural(source.skipped_lines, 'bad line')} ({lines}{more})"
    )


def _token(value: str) -> str:
    """A value as one shell-like token: quoted when it holds spaces, quotes or '='."""
    if value and not any(c.isspace() or c in "\"'=" for c in value):
        return shown(value)
    return shown(json.dumps(value, ensure_ascii=False))


def ingest_summary(report: IngestReport, window: str) -> list[str]:
    lines = [
        f"ingested {plural(report.rows_stored, 'row')} into window {shown(repr(window))} "
        f"(it holds {report.window_rows:,}); {plural(report.flushes, 'flush', 'flushes')}"
    ]
    if report.skipped_lines:
        first = ", ".join(str(n) for n in report.first_skipped)
        more = ", ..." if report.skipped_lines > len(report.first_skipped) else ""
        lines.append(f"skipped {plural(report.skipped_lines, 'bad line')}: {first}{more}")
    return ingest_warnings(report) + lines


def ingest_warnings(report: IngestReport) -> list[str]:
    """Rows an ingest did not store for lack of features, and features no stored row had."""
    lines = []
    if report.featureless:
        note = featureless_note(
            report.source, report.featureless, report.first_featureless, "stored"
        )
        lines.append(f"warning: {note}")
    if report.lacking:
        s = "s" if len(report.lacking) > 1 else ""
        lines.append(
            shown(
                f"warning: {report.source}: no row has the reference feature{s} "
                f"{', '.join(report.lacking)} (stored as missing)"
            )
        )
    return lines


if TYPE_CHECKING:  # mypy: a renderer of every kind of result
    _: Renderer[list[str]] = Warnings()
