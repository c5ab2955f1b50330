"""A sliced check as one HTML page: the verdict over the whole and the slices, the
feature x slice matrix, then the whole check's page."""

from __future__ import annotations

from driftcli.errors import flag_names
from driftcli.output.html.check import sections
from driftcli.output.html.page import STATUS_TONE, VERDICT_TONE, VERDICT_WORD, page
from driftcli.output.notes import slice_cell, slice_notes
from driftcli.output.texts import escaped, plural
from driftcli.results import Verdict
from driftcli.sliced import SlicedCheck
from driftcli.view import DEFAULT_VIEW, View


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
        f"Decision: {escaped(flag_names(result.decision.rule))}.</p>"
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
            text = escaped(slice_cell(found))
            cells.append(f'<td class="num"><span class="status {tone}">{text}</span></td>')
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
