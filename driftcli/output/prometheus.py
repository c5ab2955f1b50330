"""A check's results in the Prometheus text format, for node_exporter's textfile collector.

One gauge per feature and window (score, threshold, p-value, drift 0/1,
rows, and its status as a set of 0/1 series), the check's own (time,
duration, verdict, rows) and, for an ingest, its counters. Names follow
Prometheus' conventions (a `driftcli_` prefix, base units, `_total` on
counters); label values are escaped as the format says, so any feature name
is a valid label. docs/monitoring.md lists every series.

The statuses and verdicts are listed from their enums, so a status a later
version adds gets its series without a change here; `drift` is whatever the
status says counts as drift.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from driftcli.records import IngestReport
from driftcli.report import Report, slices_of
from driftcli.results import CheckResult, FeatureResult, Verdict
from driftcli.sliced import SliceResult

PREFIX = "driftcli_"


@dataclass(frozen=True)
class CheckRun:
    """A check as the metrics describe it: its result, the window it looked at, and when."""

    report: Report
    """A check, a chunked or a sliced check: its verdict is the check's; its features'
    series are those of the check the verdict rests on; a sliced check's slices have
    theirs."""
    window: str
    """The store's window, or the live input's name for a check of files."""
    finished: float
    """When it ended, in seconds since the epoch."""
    seconds: float
    """How long it took."""

    @property
    def result(self) -> CheckResult:
        return self.report.deciding_check


@dataclass
class _Family:
    name: str
    kind: str
    help: str
    samples: list[tuple[dict[str, str], float]]


def render_metrics(
    check: CheckRun | None, ingest: IngestReport | None = None, window: str = ""
) -> str:
    """The latest check's metrics (None: no check yet) and, for an ingest into `window`,
    its counters, as one text exposition."""
    families = _check_families(check) if check is not None else []
    if ingest is not None:
        families += _ingest_families(ingest, check.window if check is not None else window)
    return "".join(_family_text(family) for family in families if family.samples)


def _check_families(check: CheckRun) -> list[_Family]:
    result, window = check.result, check.window
    verdicts = [(v, check.report.verdict is v) for v in Verdict]
    families = [
        _gauge("check_timestamp_seconds", "When the latest check ended (Unix time).",
               [({"window": window}, check.finished)]),
        _gauge("check_duration_seconds", "How long the latest check took.",
               [({"window": window}, check.seconds)]),
        _gauge("check_drift", "1 if the latest check's verdict is drift (sliced: the whole "
               "check or any slice drifted), else 0.",
               [({"window": window}, float(check.report.drift))]),
        _gauge("check_verdict", "The latest check's verdict: 1 for the verdict it reached.",
               [({"window": window, "verdict": v.value}, float(on)) for v, on in verdicts]),
        _gauge("check_rows", "Live rows the latest check compared.",
               [({"window": window}, float(result.live.rows))]),
        _gauge("check_drifted_features", "Features the latest check found drifted.",
               [({"window": window}, float(len(result.drifted)))]),
    ]  # fmt: skip
    features = result.features
    families += [
        _gauge("feature_score", "The feature's score by its metric at the latest check.",
               _per_feature(features, window, lambda f: f.score, metric=True)),
        _gauge("feature_threshold", "The score above which the feature's change is material.",
               _per_feature(features, window, lambda f: f.threshold, metric=True)),
        _gauge("feature_p_value", "The p-value of the feature's change at the latest check.",
               _per_feature(features, window, lambda f: f.p_value)),
        _gauge("feature_drift", "1 if the feature's status counts as drift, else 0.",
               _per_feature(features, window, lambda f: float(f.drift))),
        _gauge("feature_rows", "Live rows the feature was compared over.",
               _per_feature(features, window, lambda f: float(f.live_rows))),
        _gauge("feature_status", "The feature's status: 1 for the status it has.",
               _statuses(features, window)),
    ]  # fmt: skip
    slices = slices_of(check.report)
    return families + (_slice_families(slices, window) if slices is not None else [])


def _slice_families(slices: list[SliceResult], window: str) -> list[_Family]:
    """Each slice's series, labelled `slice` as the table names it; a feature's only for
    the slices checked (rows on both sides)."""
    at = {"window": window}
    rows = [({**at, "slice": s.label}, float(s.rows)) for s in slices]
    checked = [({**at, "slice": s.label}, float(s.drift)) for s in slices if s.check is not None]
    cells = [
        ({**at, "slice": s.label, "feature": f.name}, f)
        for s in slices if s.check is not None
        for f in s.check.features
    ]  # fmt: skip
    scores = [(labels, float(f.score)) for labels, f in cells if f.score is not None]
    return [
        _gauge("check_drifted_slices", "Slices the latest check found drifted.",
               [(at, float(sum(s.drift for s in slices)))]),
        _gauge("slice_rows", "Live rows in the slice (a slice of the reference with none: 0).",
               rows),
        _gauge("slice_drift", "1 if the slice's check drifted, else 0 (checked slices only).",
               checked),
        _gauge("slice_feature_drift", "1 if the feature's status counts as drift in the slice.",
               [(labels, float(f.drift)) for labels, f in cells]),
        _gauge("slice_feature_score", "The feature's score in the slice, by its metric.",
               scores),
    ]  # fmt: skip


def _ingest_families(ingest: IngestReport, window: str) -> list[_Family]:
    at = {"window": window}
    return [
        _counter("ingest_rows_read", "Rows this ingest has read.", at, ingest.rows_read),
        _counter(
            "ingest_lines_skipped", "Bad lines this ingest skipped.", at, ingest.skipped_lines
        ),
        _counter("ingest_rows_stored", "Rows this ingest has stored.", at, ingest.rows_stored),
        _gauge("ingest_window_rows", "Rows the window holds.", [(at, float(ingest.window_rows))]),
    ]


def _per_feature(
    features: Iterable[FeatureResult],
    window: str,
    value: Callable[[FeatureResult], float | None],
    *,
    metric: bool = False,
) -> list[tuple[dict[str, str], float]]:
    samples = []
    for f in features:
        found = value(f)
        if found is None:
            continue  # no score for a feature missing from live: no sample, not a zero
        labels = {"window": window, "feature": f.name}
        if metric:
            labels["metric"] = f.metric
        samples.append((labels, float(found)))
    return samples


def _statuses(features: Iterable[FeatureResult], window: str) -> list[tuple[dict[str, str], float]]:
    samples = []
    for f in features:
        for status in type(f.status):
            labels = {"window": window, "feature": f.name, "status": status.value}
            samples.append((labels, float(f.status is status)))
    return samples


def _gauge(name: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> _Family:
    return _Family(PREFIX + name, "gauge", help_text, samples)


def _counter(name: str, help_text: str, labels: dict[str, str], value: int) -> _Family:
    return _Family(PREFIX + name + "_total", "counter", help_text, [(labels, float(value))])


def _family_text(family: _Family) -> str:
    lines = [
        f"# HELP {family.name} {_escape_help(family.help)}",
        f"# TYPE {family.name} {family.kind}",
    ]
    for labels, value in family.samples:
        shown = ",".join(f'{key}="{escape_label(text)}"' for key, text in labels.items())
        lines.append(f"{family.name}{{{shown}}} {_number(value)}")
    return "\n".join(lines) + "\n"


def escape_label(value: str) -> str:
    """A label value as the text format writes it: backslash, double quote and newline
    escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)
