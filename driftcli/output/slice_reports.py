"""A sliced check in Markdown, HTML and JUnit: the whole check's report, with the verdict
over it and its slices, and a feature x slice matrix (the table and JSON are in
slice_table.py and json_report.py)."""

from __future__ import annotations

from driftcli.output.html import STATUS_TONE, VERDICT_TONE, VERDICT_WORD, page, sections
from driftcli.output.markdown import render_markdown
from driftcli.output.slice_table import slice_notes
from driftcli.output.texts import escaped, plural
from driftcli.results import FeatureResult, Status, Verdict
from driftcli.sliced import SlicedCheck
from driftcli.view import DEFAULT_VIEW, View

_WORD = {Verdict.DRIFT: "DRIFT", Verdict.NO_DRIFT: "no drift", Verdict.NO_VERDICT: "no verdict"}


def _change(f: FeatureResult | None) -> str:
    """A slice's feature in a cell: its change, and its status where it is not ok."""
    if f is None:
        return "—"
    if f.change is None or f.status is Status.INSUFFICIENT:
        return f.status.value
    text = f"{f.change:.3f}"
    return text if f.status is Status.OK else f"{text} ({f.status.value})"


def render_sliced_markdown(result: SlicedCheck, view: View = DEFAULT_VIEW) -> str:
    """The verdict over the whole and the slices, the slice matrix, then the whole check."""
    from driftcli.output.markdown import _cell, _code

    checked = result.checked
    lines = [
        f"### driftcli by {_code(result.slicing.column)}: {_WORD[result.verdict]} "
        f"({_cell(result.decision.rule)})",
        "",
        f"{plural(len(checked), 'slice')} checked. Cells: each slice's change (its score less "
        "the noise of its counts), **bold** where it drifted.",
        "",
    ]
    if checked:
        lines += [
            "| feature | " + " | ".join(_cell(s.label) for s in checked) + " |",
            "|---|" + "---:|" * len(checked),
        ]
        for name in result.feature_names:
            cells = []
            for s in checked:
                found = s.feature(name)
                cell = _change(found)
                cells.append(f"**{cell}**" if found is not None and found.drift else cell)
            lines.append(f"| {_cell(name)} | " + " | ".join(cells) + " |")
        lines.append("| rows | " + " | ".join(f"{s.rows:,}" for s in checked) + " |")
        verdicts = [
            "**DRIFT**" if s.drift else (s.verdict or Verdict.NO_VERDICT).value for s in checked
        ]
        lines.append("| verdict | " + " | ".join(verdicts) + " |")
    lines += [
        "",
        *(f"- {_cell(note)}" for note in slice_notes(result)),
        "",
        "#### The whole live data",
        "",
    ]
    return "\n".join(lines) + render_markdown(result.whole, view)


def render_sliced_html(result: SlicedCheck, view: View = DEFAULT_VIEW) -> str:
    """One page: the verdict over the whole and the slices, the slice matrix, then the
    whole check's page."""
    title = (
        f"driftcli: {VERDICT_WORD[result.verdict]} by {result.slicing.column}: "
        f"{result.live.name} vs {result.reference.name}"
    )
    return page(title, [_verdict(result), _matrix(result), *sections(result.whole, view)])


def _verdict(result: SlicedCheck) -> str:
    notes = "".join(f"<li>{escaped(n)}</li>" for n in slice_notes(result))
    return (
        f'<section class="card verdict {VERDICT_TONE[result.verdict]}" id="slices-verdict">'
        f"<h1>{escaped(VERDICT_WORD[result.verdict])}</h1>"
        f"<p><strong>{escaped(plural(len(result.drifted), 'slice'))} of "
        f"{len(result.checked)} drifted, by {escaped(result.slicing.column)}</strong>. "
        f"Decision: {escaped(result.decision.rule)}.</p>"
        '<p class="rule">Each slice (the rows of one value) is checked against the '
        "reference's rows of the same value, as a whole check of its rows would be.</p>"
        f'<ul class="notes">{notes}</ul></section>'
    )


def _matrix(result: SlicedCheck) -> str:
    checked = result.checked
    if not checked:
        return ""
    head = "".join(f'<th class="num name">{escaped(s.label)}</th>' for s in checked)
    rows = []
    for name in result.feature_names:
        cells = []
        for s in checked:
            found = s.feature(name)
            tone = STATUS_TONE[found.status] if found is not None else "warn"
            cells.append(
                f'<td class="num"><span class="status {tone}">{escaped(_change(found))}</span></td>'
            )
        rows.append(f'<tr><td class="name">{escaped(name)}</td>{"".join(cells)}</tr>')
    counts = "".join(f'<td class="num">{s.rows:,}</td>' for s in checked)
    verdicts = "".join(
        f'<td class="num"><span class="status {VERDICT_TONE[s.verdict or Verdict.NO_VERDICT]}">'
        f"{escaped(VERDICT_WORD[s.verdict or Verdict.NO_VERDICT])}</span></td>"
        for s in checked
    )
    return (
        '<section class="card" id="slices"><h2>Per slice</h2>'
        '<div style="overflow-x: auto"><table><thead><tr><th>feature</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}"
        f'<tr><td class="dim">rows</td>{counts}</tr>'
        f'<tr><td class="dim">verdict</td>{verdicts}</tr></tbody></table></div></section>'
    )


def render_sliced_junit(result: SlicedCheck) -> str:
    """JUnit XML: the whole check's suite, then a suite per checked slice; a slice's drift
    fails its cases (any slice drifted fails the check)."""
    import xml.etree.ElementTree as ET

    from driftcli.output.junit import _counts, _suite

    checks = [result.whole, *(s.check for s in result.checked if s.check is not None)]
    suites = ET.Element("testsuites", {"name": "driftcli", **_counts(checks)})
    _suite(suites, result.whole, f"driftcli check: {result.live.name} vs {result.reference.name}")
    for s in result.checked:
        if s.check is not None:
            _suite(suites, s.check, f"driftcli check: {s.check.live.name}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
