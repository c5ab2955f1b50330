"""A check as one self-contained HTML page (page.py): the verdict, then a chart per
feature. Every name and label from the data is escaped."""

from __future__ import annotations

from driftcli.choices import Kind, SortOrder
from driftcli.errors import flag_names
from driftcli.findings import QualityStatus
from driftcli.output.html.charts import Buckets, bar_chart
from driftcli.output.html.page import STATUS_TONE, VERDICT_TONE, VERDICT_WORD, page
from driftcli.output.joint import joint_html
from driftcli.output.moves import what_moved
from driftcli.output.notes import feature_notes
from driftcli.output.texts import escaped, format_p_value, percent, plural
from driftcli.results import CheckResult, FeatureResult, Status
from driftcli.view import DEFAULT_VIEW, View

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


def _verdict(result: CheckResult) -> str:
    live, ref = result.live, result.reference
    decided = flag_names(result.decision.rule)
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
        f"<p><strong>{escaped(counted)}</strong>. Decision: {escaped(decided)}.</p>"
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
        f"<li><strong>{escaped(name)}</strong>: not scored: {escaped(flag_names(why))}</li>"
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
