"""A GitHub-flavoured Markdown report, for pull requests and the CI job summary."""

from __future__ import annotations

from driftcli.output.lines import invalid_notes
from driftcli.output.texts import format_p_value, percent, shown
from driftcli.results import CheckResult, Status, Verdict


def _cell(text: str) -> str:
    """Markdown table cell text: control characters escaped, pipes escaped, no line breaks."""
    return shown(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(result: CheckResult) -> str:
    """A GitHub-flavoured Markdown report: a heading with the verdict, and a table."""
    drifted = len(result.drifted)
    verdict = {Verdict.DRIFT: "DRIFT", Verdict.NO_DRIFT: "no drift"}.get(
        result.verdict, "no verdict"
    )
    live, ref = result.live, result.reference
    lines = [
        f"### driftcli: {verdict} ({drifted} of {len(result.features)} features drifted)",
        "",
        f"Live `{_cell(live.name)}` ({live.rows:,} rows) vs reference `{_cell(ref.name)}` "
        f"({ref.rows:,} rows). Rule: {_cell(result.decision.rule)}.",
        "",
        "| feature | kind | status | score | metric > threshold | p-value | rows ref → live "
        "| missing ref → live |",
        "|---|---|---|---:|---|---:|---:|---:|",
    ]
    for f in result.features:
        status = f"**{f.status.value}**" if f.drift else f.status.value
        score = "—" if f.score is None else f"{f.score:.3f}"
        metric = f"{f.metric}{' (fallback)' if f.fallback else ''} > {f.threshold:g}"
        p = format_p_value(f.p_value) + (
            f" (adj. {format_p_value(f.p_adjusted)})" if f.p_adjusted is not None else ""
        )
        lines.append(
            f"| {_cell(f.name)} | {f.kind.value} | {status} | {score} | {metric} | {p} "
            f"| {f.reference_rows:,} → {f.live_rows:,} "
            f"| {percent(f.reference_missing, f.reference_rows)} → "
            f"{percent(f.live_missing, f.live_rows)} |"
        )
    notes = [
        f"{f.name}: {f.status.value}: {f.reason}"
        for f in result.features
        if f.reason and f.status in (Status.UNCERTAIN, Status.INSUFFICIENT)
    ]
    notes += [note for f in result.features for note in invalid_notes(f)]
    if notes:
        lines += ["", *(f"- {_cell(note)}" for note in notes)]
    if result.new_columns:
        lines += [
            "",
            "New in live, not scored: " + ", ".join(f"`{_cell(c)}`" for c in result.new_columns),
        ]
    return "\n".join(lines)
