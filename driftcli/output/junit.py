"""JUnit XML: one test case per feature; drift is a failure, too few rows a skip."""

from __future__ import annotations

from driftcli.output.texts import format_p_value, shown
from driftcli.results import CheckResult, Status


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
    # XML 1.0 cannot hold most control characters at all: names are shown escaped.
    suite_name = shown(f"driftcli check: {result.live.name} vs {result.reference.name}")
    suite = ET.SubElement(suites, "testsuite", {"name": suite_name, **counts})
    for f in result.features:
        case = ET.SubElement(
            suite, "testcase", classname=f"driftcli.{f.kind.value}", name=shown(f.name), time="0"
        )
        score = "—" if f.score is None else f"{f.score:.4g}"
        detail = (
            f"status: {f.status.value}\nmetric: {f.metric}\nscore: {score}\n"
            f"threshold: {f.threshold:g}\np-value: {format_p_value(f.p_value)}\n"
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
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
