"""JUnit XML: one test case per feature; drift is a failure, too few rows a skip.

A chunked check has a test suite per chunk. XML 1.0 cannot hold most control
characters at all: names and reasons are shown escaped (texts.shown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftcli.output.texts import format_p_value, shown
from driftcli.results import CheckResult, Status, Timeline

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET


def render_junit(result: CheckResult) -> str:
    """JUnit XML: one test case per feature; drift is a failure, too few rows a skip."""
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites", {"name": "driftcli", **_counts([result])})
    _suite(suites, result, f"driftcli check: {result.live.name} vs {result.reference.name}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def render_timeline_junit(timeline: Timeline) -> str:
    """JUnit XML for a chunked check: a test suite per chunk, a test case per feature."""
    import xml.etree.ElementTree as ET

    checks = [c.check for c in timeline.chunks]
    suites = ET.Element("testsuites", {"name": "driftcli", **_counts(checks)})
    for chunk in timeline.chunks:
        name = f"driftcli check: {timeline.live.name} {chunk.name} vs {timeline.reference.name}"
        _suite(suites, chunk.check, name)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def _counts(results: list[CheckResult]) -> dict[str, str]:
    features = [f for result in results for f in result.features]
    return {
        "tests": str(len(features)),
        "failures": str(sum(f.drift for f in features)),
        "errors": "0",
        "skipped": str(sum(f.status is Status.INSUFFICIENT for f in features)),
        "time": "0",
    }


def _suite(parent: ET.Element, result: CheckResult, name: str) -> None:
    import xml.etree.ElementTree as ET

    suite = ET.SubElement(parent, "testsuite", {"name": shown(name), **_counts([result])})
    for f in result.features:
        case = ET.SubElement(
            suite, "testcase", classname=f"driftcli.{f.kind.value}", name=shown(f.name), time="0"
        )
        score = "—" if f.score is None else f"{f.score:.4g}"
        detail = (
            f"status: {f.status.value}\nmetric: {f.metric}\nscore: {score}\n"
            f"threshold: {f.threshold:g}\np-value: {format_p_value(f.p_value, f.p_bound)}\n"
            f"rows: {f.reference_rows} reference, {f.live_rows} live"
            + (f"\n{f.status.value}: {shown(f.reason)}" if f.reason else "")
        )
        if f.drift:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{shown(f.name)}: {f.status.value} ({f.metric} {score} > {f.threshold:g})",
                type=f.status.value.replace(" ", "_"),
            )
            failure.text = detail
        elif f.status is Status.INSUFFICIENT:
            ET.SubElement(case, "skipped", message=shown(f.reason or "too few live rows"))
        ET.SubElement(case, "system-out").text = detail
