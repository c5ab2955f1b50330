"""JUnit XML: one test case per feature; drift is a failure, too few rows a skip.

A chunked check has a test suite per chunk; drift fails only where the exit
code rests (the deciding chunk, or every chunk with --fail-on-any-chunk).
XML 1.0 cannot hold most control characters at all: names and reasons are
shown escaped (texts.shown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftcli.errors import flag_names
from driftcli.output.moves import explained
from driftcli.output.texts import format_p_value, shown
from driftcli.results import CheckResult, FeatureResult, Status, Timeline
from driftcli.sliced import SlicedCheck
from driftcli.view import DEFAULT_VIEW, View

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from driftcli.report import Renderer


def render_junit(result: CheckResult) -> str:
    """JUnit XML: one test case per feature; drift is a failure, too few rows a skip."""
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites", {"name": "driftcli", **_counts([result])})
    _suite(suites, result, f"driftcli check: {result.live.name} vs {result.reference.name}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def render_timeline_junit(timeline: Timeline) -> str:
    """JUnit XML for a chunked check: a test suite per chunk, a test case per feature.

    Failures agree with the exit code: only in the chunk the verdict rests on
    (every chunk with --fail-on-any-chunk); another chunk's drift is recorded
    in its test cases' output and its suite's properties, not failed.
    """
    import xml.etree.ElementTree as ET

    gates = [timeline.any_chunk or c.index == timeline.deciding for c in timeline.chunks]
    checks = [c.check for c in timeline.chunks]
    suites = ET.Element("testsuites", {"name": "driftcli", **_counts(checks, gates)})
    deciding = timeline.latest.name if timeline.deciding is not None else None
    for chunk, gate in zip(timeline.chunks, gates, strict=True):
        name = f"driftcli check: {timeline.live.name} {chunk.name} vs {timeline.reference.name}"
        suite = _suite(suites, chunk.check, name, gate)
        properties = ET.Element("properties")
        for key, value in (
            ("chunk", str(chunk.start)),
            ("rows", str(chunk.check.live.rows)),
            ("verdict", chunk.verdict.value),
            ("decides", "true" if gate else "false"),
        ):
            ET.SubElement(properties, "property", name=key, value=shown(value))
        suite.insert(0, properties)
        if not gate and chunk.drift and deciding is not None:
            for out in suite.iter("system-out"):
                out.text = (out.text or "") + (
                    f"\nnot a failure: the exit code rests on the chunk {shown(deciding)}"
                )
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def _counts(results: list[CheckResult], gates: list[bool] | None = None) -> dict[str, str]:
    """A test case per feature for drift and one for its data-quality rules."""
    gated = gates or [True] * len(results)
    features = [
        (f, gate) for result, gate in zip(results, gated, strict=True) for f in result.features
    ]
    return {
        "tests": str(2 * len(features)),
        "failures": str(sum((f.drift + bool(f.failed_quality)) * gate for f, gate in features)),
        "errors": "0",
        "skipped": str(sum(f.status is Status.INSUFFICIENT for f, _ in features)),
        "time": "0",
    }


def _suite(parent: ET.Element, result: CheckResult, name: str, gate: bool = True) -> ET.Element:
    """A test suite of the check's features; drift fails a case only where `gate`."""
    import xml.etree.ElementTree as ET

    suite = ET.SubElement(parent, "testsuite", {"name": shown(name), **_counts([result], [gate])})
    for f in result.features:
        case = ET.SubElement(
            suite, "testcase", classname=f"driftcli.{f.kind.value}", name=shown(f.name), time="0"
        )
        score = "—" if f.score is None else f"{f.score:.4g}"
        change = "—" if f.change is None else f"{f.change:.4g}"
        moved = explained(f)
        detail = (
            f"status: {f.status.value}{' (small)' if f.small else ''}\nmetric: {f.metric}\n"
            f"change: {change} (score {score} less the noise of these counts)\n"
            f"threshold: {f.threshold:g}\np-value: {format_p_value(f.p_value, f.p_bound)}\n"
            f"rows: {f.reference_rows:,} reference, {f.live_rows:,} live"
            + (f"\n{f.status.value}: {shown(flag_names(f.reason))}" if f.reason else "")
            + (f"\nwhat moved: {moved}" if moved else "")
        )
        if f.drift and gate:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{shown(f.name)}: {f.status.value} ({f.metric} change {change} "
                f"> {f.threshold:g})" + (f": {moved}" if moved else ""),
                type=f.status.value.replace(" ", "_"),
            )
            failure.text = detail
        elif f.status is Status.INSUFFICIENT:
            ET.SubElement(
                case, "skipped", message=shown(flag_names(f.reason or "too few live rows"))
            )
        ET.SubElement(case, "system-out").text = detail
        _quality_case(suite, f, gate)
    return suite


def _quality_case(suite: ET.Element, f: FeatureResult, gate: bool) -> None:
    """The feature's data-quality rules as a test case: a failed rule fails it."""
    import xml.etree.ElementTree as ET

    case = ET.SubElement(
        suite, "testcase", classname="driftcli.quality", name=shown(f"{f.name} [data quality]"),
        time="0",
    )  # fmt: skip
    lines = [
        f"{q.rule.value}: {q.status.value}: {flag_names(q.reason)}" if q.reason else
        f"{q.rule.value}: {q.status.value}"
        for q in f.quality
    ]  # fmt: skip
    detail = shown("\n".join(lines) or "no rule applies")
    failed = f.failed_quality
    if failed and gate:
        rules = ", ".join(q.rule.value for q in failed)
        failure = ET.SubElement(
            case, "failure", message=shown(f"{f.name}: data quality: {rules}"), type="quality"
        )
        failure.text = detail
    ET.SubElement(case, "system-out").text = detail


def render_sliced_junit(result: SlicedCheck) -> str:
    """JUnit XML: the whole check's suite, then a suite per checked slice; a slice's drift
    fails its cases (any slice drifted fails the check)."""
    import xml.etree.ElementTree as ET

    checks = [result.whole, *(s.check for s in result.checked if s.check is not None)]
    suites = ET.Element("testsuites", {"name": "driftcli", **_counts(checks)})
    _suite(suites, result.whole, f"driftcli check: {result.live.name} vs {result.reference.name}")
    for s in result.checked:
        if s.check is not None:
            _suite(suites, s.check, f"driftcli check: {s.check.live.name}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


class JunitReport:
    """The JUnit XML of any result: a test case per feature, in the reference's order."""

    def __init__(self, view: View = DEFAULT_VIEW) -> None:
        self.view = view
        """Not applied: a test report lists every case."""

    def check(self, result: CheckResult) -> str:
        return render_junit(result)

    def timeline(self, timeline: Timeline) -> str:
        return render_timeline_junit(timeline)

    def sliced(self, result: SlicedCheck) -> str:
        return render_sliced_junit(result)


if TYPE_CHECKING:  # mypy: a renderer of every kind of result
    _: Renderer[str] = JunitReport()
