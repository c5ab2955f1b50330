"""The check as one self-contained HTML page: the verdict, then a chart per feature.

The page loads nothing: its style is inline, its charts are inline SVG
(charts.py), it has no script, and its Content-Security-Policy forbids any
fetch, so it opens from disk, from a CI artifact or a mail attachment alike.
Every name and label from the data is escaped.
"""

from __future__ import annotations

from driftcli import __version__
from driftcli.choices import Kind, SortOrder
from driftcli.findings import QualityStatus
from driftcli.output.charts import Buckets, bar_chart
from driftcli.output.joint import joint_html
from driftcli.output.moves import what_moved
from driftcli.output.notes import feature_notes
from driftcli.output.texts import escaped, format_p_value, percent, plural
from driftcli.results import CheckResult, FeatureResult, Status, Verdict
from driftcli.view import DEFAULT_VIEW, View

VERDICT_WORD = {
    Verdict.DRIFT: "DRIFT",
    Verdict.NO_DRIFT: "no drift",
    Verdict.NO_VERDICT: "no verdict",
}
STATUS_TONE = {
    Status.OK: "ok",
    Status.DRIFT: "bad",
    Status.MISSING: "bad",
    Status.TYPE_CHANGED: "bad",
    Status.UNCERTAIN: "warn",
    Status.INSUFFICIENT: "warn",
}
VERDICT_TONE = {Verdict.DRIFT: "bad", Verdict.NO_DRIFT: "ok", Verdict.NO_VERDICT: "warn"}

_STYLE = """
:root { --ref: #4c78a8; --live: #f58518; --ok: #2e7d32; --bad: #c62828; --warn: #a86b00;
  --ink: #1d1d1f; --dim: #5f6368; --line: #dadce0; --card: #fff; --page: #f6f7f9; }
@media (prefers-color-scheme: dark) {
  :root { --ink: #e8eaed; --dim: #9aa0a6; --line: #3c4043; --card: #202124; --page: #171717;
    --ok: #81c995; --bad: #f28b82; --warn: #fdd663; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; background: var(--page); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 860px; margin: 0 auto; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 0; }
h3 { font-size: 15px; margin: 20px 0 8px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 20px; margin: 0 0 16px; }
.verdict { border-left: 6px solid var(--tone); } .verdict h1 { color: var(--tone); }
.ok { --tone: var(--ok); } .bad { --tone: var(--bad); } .warn { --tone: var(--warn); }
.status { color: var(--tone); font-weight: 600; white-space: nowrap; }
.dim, .rule { color: var(--dim); } .name { overflow-wrap: anywhere; }
td.name { min-width: 16ch; }  /* a short name on one line; a long one breaks, not the table */
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
a { color: inherit; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 6px 0 8px; padding: 0;
  list-style: none; font-variant-numeric: tabular-nums; }
.legend { margin: 4px 0; color: var(--dim); }
.key { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px;
  border-radius: 2px; }
.key.ref, .bar.ref { background: var(--ref); fill: var(--ref); }
.key.live, .bar.live { background: var(--live); fill: var(--live); }
svg.chart { width: 100%; height: auto; display: block; overflow: visible; }
svg .grid { stroke: var(--line); } svg line.tick { stroke: var(--dim); }
svg .series { fill: none; stroke: var(--live); stroke-width: 2; }
svg .limit { stroke: var(--bad); stroke-dasharray: 5 4; }
svg .point { stroke: var(--card); stroke-width: 1.5; fill: var(--tone); }
svg text { font-size: 11px; fill: var(--dim); }
ul.notes { margin: 6px 0 0; padding-left: 20px; color: var(--dim); }
p.moved { margin: 4px 0; } .when { white-space: nowrap; }
.scroll { overflow-x: auto; max-width: 100%; }
table.heat { width: auto; }
table.heat td.cell { width: 14px; min-width: 14px; height: 14px; padding: 0;
  border: 1px solid var(--card); background: var(--tone); }
table.heat td.cell.none { background: var(--line); }
table.heat td.cell.ok { opacity: 0.35; }
@media (max-width: 600px) {
  body { padding: 8px; } .card { padding: 12px; }
  .plot { overflow-x: auto; } svg.chart { min-width: 540px; }
  svg text { font-size: 15px; } td.name { min-width: 10ch; } }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


SORTED_BY = {
    SortOrder.DRIFT: "drifted first, then by score",
    SortOrder.SCORE: "by score",
    SortOrder.NAME: "by name",
    SortOrder.INPUT: "in the reference's order",
}


def render_html(result: CheckResult, view: View = DEFAULT_VIEW) -> str:
    """One HTML page: verdict and decision rule, the features in the view's order, then a
    chart per feature, each under a sentence saying what moved."""
    verdict = VERDICT_WORD[result.verdict]
    title = f"driftcli: {verdict}: {result.live.name} vs {result.reference.name}"
    return page(title, sections(result, view))


def sections(result: CheckResult, view: View = DEFAULT_VIEW) -> list[str]:
    """The page's sections: the verdict, the features in the view's order, schema, a
    chart each."""
    ordered, hidden = view.arrange(result.features)
    scores = score_texts([f.score for f in result.features])
    return [
        _verdict(result),
        *([] if result.joint is None else [joint_html(result.joint)]),
        _overview(ordered, scores, SORTED_BY[view.sort], hidden),
        schema_section(result),
        *(_feature(f, i, scores) for i, f in enumerate(ordered, 1)),
    ]


def score_texts(scores: list[float | None]) -> dict[float, str]:
    """Each score as the page writes it: three decimals, or as many more (up to six) as
    it takes for different scores to read differently, so they can be ordered by eye."""
    known = sorted({s for s in scores if s is not None})
    for decimals in range(3, 7):
        texts = [f"{s:.{decimals}f}" for s in known]
        if len(set(texts)) == len(texts):
            break
    return dict(zip(known, texts, strict=True)) if known else {}


def page(title: str, body: list[str]) -> str:
    """The self-contained page around `body`'s sections (each already escaped)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{escaped(title)}</title>\n<link rel="icon" href="data:,">\n'
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join([*body, f'<p class="dim">driftcli {escaped(__version__)}</p>'])
        + "\n</main>\n</body>\n</html>"
    )


def _verdict(result: CheckResult) -> str:
    live, ref = result.live, result.reference
    drifted = len(result.drifted)
    counted = f"{drifted} of {plural(len(result.features), 'feature')} drifted"
    if quality := sum(bool(f.failed_quality) for f in result.features):
        counted += f", {quality} failed a data-quality rule"
    for status in (Status.UNCERTAIN, Status.INSUFFICIENT):
        if n := sum(f.status is status for f in result.features):
            counted += f", {n} {status.value}"
    if small := sum(f.small for f in result.features):
        counted += f", {small} small"
    return (
        f'<section class="card verdict {VERDICT_TONE[result.verdict]}">'
        f"<h1>{escaped(VERDICT_WORD[result.verdict])}</h1>"
        f"<p><strong>{escaped(counted)}</strong>. Decision: {escaped(result.decision.rule)}.</p>"
        f'<p class="rule">{escaped(_rule(result))}</p>'
        f'<ul class="facts"><li>live: <span class="name">{escaped(live.name)}</span> '
        f"({escaped(plural(live.rows, 'row'))}, {escaped(live.format)})</li>"
        f'<li>reference: <span class="name">{escaped(ref.name)}</span> '
        f"({escaped(plural(ref.rows, 'row'))}, {escaped(ref.format)})</li>"
        f"<li>{escaped(_settings(result))}</li></ul></section>"
    )


def _rule(result: CheckResult) -> str:
    """The rule a feature's verdict follows, with this check's numbers."""
    s = result.settings
    if s.alpha is not None:
        evidence = f"its p-value adjusted across features ({s.correction.value}) is at most "
        evidence += f"{s.alpha:g}"
    else:
        evidence = f"its p-value is below {s.evidence:g}"
    return (
        "A feature drifts when its change (its score less what noise alone scores at these "
        "counts) may be above its threshold (the change is material) and "
        f"{evidence} (chance cannot explain it); a feature missing from live, or whose type "
        "changed, counts as drift. A change estimated above the threshold but not evident: "
        "uncertain; an evident change that cannot reach the threshold: ok, small; too few "
        "live rows for any evidence: insufficient. None of these is drift. A data-quality "
        "rule (missing values, values the reference never had, invalid values) that fails "
        "fails the check too."
    )


def _settings(result: CheckResult) -> str:
    s = result.settings
    threshold = "the metric's default" if s.threshold is None else f"{s.threshold:g}"
    return f"metric {s.metric}, threshold: {threshold}, {s.bins} bins"


def _overview(
    features: list[FeatureResult], scores: dict[float, str], order: str, hidden: int
) -> str:
    """The features' table. The raw score sits under the change it comes from, and the
    rows column is left out where every feature has the inputs' rows (the verdict card
    says them): the table then fits a laptop's page without scrolling."""
    counted = len({(f.reference_rows, f.live_rows) for f in features}) > 1
    rows = []
    for i, f in enumerate(features, 1):
        counts = f'<td class="num">{f.reference_rows:,} → {f.live_rows:,}</td>' if counted else ""
        rows.append(
            f'<tr><td class="name"><a href="#f{i}">{escaped(f.name)}</a></td>'
            f"<td>{_status(f)}</td>"
            f'<td class="num">{_change(f)}<br><span class="dim">of {_score(f, scores)}</span></td>'
            f'<td class="num">{escaped(_limit(f))}</td>'
            f'<td class="num">{escaped(format_p_value(f.p_value, f.p_bound))}</td>'
            f'{counts}<td class="num">{_missing(f)}</td><td>{_quality(f)}</td></tr>'
        )
    rest = (
        f'<p class="dim">{escaped(plural(hidden, "other feature"))} passed (--only-failing).</p>'
        if hidden
        else ""
    )
    counts_head = '<th class="num">rows ref → live</th>' if counted else ""
    return (
        f'<section class="card"><h2>Features, {escaped(order)}</h2><div class="scroll"><table>'
        '<thead><tr><th>feature</th><th>status</th><th class="num">change<br>of score</th>'
        '<th class="num">metric &gt; threshold</th><th class="num">p-value</th>'
        f'{counts_head}<th class="num">missing ref → live</th>'
        "<th>data quality</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>{rest}</section>"
    )


_QUALITY_TONE = {QualityStatus.FAIL: "bad", QualityStatus.SMALL: "warn"}


def _status(f: FeatureResult) -> str:
    small = ' <span class="status warn">small</span>' if f.small else ""
    return f'<span class="status {STATUS_TONE[f.status]}">{escaped(f.status.value)}</span>{small}'


def _quality(f: FeatureResult) -> str:
    """Each rule that did not come out ok, toned by how it came out; else a dash."""
    shown = [
        f'<span class="status {_QUALITY_TONE[q.status]}">'
        f"{escaped(f'{q.rule.value}: {q.status.value}')}</span>"
        for q in f.quality
        if q.status is not QualityStatus.OK
    ]
    return "<br>".join(shown) or "—"


def _combined(f: FeatureResult) -> str:
    """`; G, Anderson-Darling and smooth combined` for a combined test's p-value."""
    if not f.p_parts:
        return ""
    names = {"g": "G", "anderson-darling": "Anderson-Darling", "smooth": "smooth"}
    tests = [names.get(p.test, p.test) for p in f.p_parts]
    return f"; {', '.join(tests[:-1])} and {tests[-1]} combined"


def _change(f: FeatureResult) -> str:
    return "—" if f.change is None else f"{f.change:.3f}"


def _score(f: FeatureResult, scores: dict[float, str]) -> str:
    return "—" if f.score is None else scores.get(f.score, f"{f.score:.3f}")


def _limit(f: FeatureResult) -> str:
    return f"{f.metric}{' (fallback)' if f.fallback else ''} > {f.threshold:g}"


def _missing(f: FeatureResult) -> str:
    ref = percent(f.reference_missing, f.reference_rows)
    return f"{ref} → {percent(f.live_missing, f.live_rows)}"


def schema_section(result: CheckResult) -> str:
    """Schema drift, and the columns that were not scored."""
    items = [
        f"<li><strong>{escaped(f.name)}</strong>: {escaped(_schema_change(f))}</li>"
        for f in result.features
        if f.status in (Status.MISSING, Status.TYPE_CHANGED)
    ]
    items += [
        f"<li><strong>{escaped(c)}</strong>: new in live, not scored</li>"
        for c in result.new_columns
    ]
    items += [
        f"<li><strong>{escaped(name)}</strong>: not scored: {escaped(why)}</li>"
        for name, why in result.skipped.items()
    ]
    listed = (
        f"<ul>{''.join(items)}</ul>"
        if items
        else (
            '<p class="dim">No change: live has every reference feature, of its type, and no '
            "other column; every reference column was scored.</p>"
        )
    )
    return f'<section class="card"><h2>Schema</h2>{listed}</section>'


def _schema_change(f: FeatureResult) -> str:
    if f.status is Status.MISSING:
        return "in the reference, missing from live (drift)"
    return "the live values are not of the reference's type (drift)"


def _feature(f: FeatureResult, index: int, scores: dict[float, str]) -> str:
    facts = [
        f"change {_change(f)} ({_limit(f)}; up to "
        + ("—" if f.change_upper is None else f"{f.change_upper:.3f}")
        + " at these counts)",
        f"raw score {_score(f, scores)}, of which noise "
        + ("—" if f.noise is None else f"{f.noise:.3f}"),
        f"p-value {format_p_value(f.p_value, f.p_bound)}"
        + (f" ({f.p_method}{_combined(f)})" if f.p_method and f.p_value is not None else "")
        + (
            f", adjusted {format_p_value(f.p_adjusted, f.p_bound)}"
            if f.p_adjusted is not None
            else ""
        ),
        f"evidence below {f.evidence_level:g}",
        f"rows {f.reference_rows:,} → {f.live_rows:,}",
        f"missing {_missing(f)}",
        f"invalid {f.reference_invalid:,} → {f.live_invalid:,}",
    ]
    said = feature_notes(f)
    notes = ([said.reason] if said.reason else []) + said.quality + said.invalid
    noted = "".join(f"<li>{escaped(n)}</li>" for n in notes)
    return (
        f'<section class="card feature" id="f{index}">'
        f'<h2><span class="name">{escaped(f.name)}</span> '
        f"{_status(f)} "
        f'<span class="dim">· {escaped(f.kind.value)}</span></h2>'
        f'<ul class="facts">{"".join(f"<li>{escaped(x)}</li>" for x in facts)}</ul>'
        f"{moved_sentence(f)}"
        f'<div class="legend"><span class="key ref"></span>reference'
        f'<span class="key live"></span>live (share of each side\'s rows)</div>'
        f'<div class="plot">{bar_chart(f.name, buckets_of(f))}</div>'
        + (f'<ul class="notes">{noted}</ul>' if notes else "")
        + "</section>"
    )


def moved_sentence(f: FeatureResult) -> str:
    """What moved most, in words, above the chart (nothing when no share changed)."""
    words = what_moved(f)
    return f'<p class="moved">Largest move: {escaped(words)}.</p>' if words else ""


def buckets_of(f: FeatureResult) -> Buckets:
    """The chart's buckets; quantile buckets get their edges (from their labels)."""
    values = f.value_buckets
    labels = list(f.labels)
    edges = None
    if f.kind is Kind.NUMERIC and labels[0].startswith("< ") and values > 1:
        # Quantile bucket labels read "< a", "[a, b)", ..., ">= z": the edges are a ... z.
        edges = [labels[0][2:], *(label[1:-1].split(", ")[1] for label in labels[1 : values - 1])]
    return Buckets(
        labels=labels,
        reference=f.reference.tolist(),
        live=None if f.status is Status.MISSING else f.live.tolist(),
        value_buckets=values,
        edges=edges,
    )
