"""The check as a rich table for people: a row per feature, a summary line, notes.

Renderers return a rich renderable; they never print and never decide the
exit code.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from driftcli.output.texts import format_p_value, percent, shown
from driftcli.results import CheckResult, FeatureResult, Status, Verdict
from driftcli.scoring.metrics import FALLBACK_METRIC

_BLOCKS = " ▁▂▃▄▅▆▇█"

_STATUS_STYLE = {
    Status.OK: "green",
    Status.DRIFT: "bold red",
    Status.UNCERTAIN: "yellow",
    Status.INSUFFICIENT: "yellow",
    Status.MISSING: "bold red",
    Status.TYPE_CHANGED: "bold red",
}


def render_table(result: CheckResult) -> RenderableType:
    """A table with one row per feature, a summary line, and notes."""
    table = Table(
        title=_title(result),
        title_justify="left",
        show_lines=True,
        expand=False,
    )
    table.add_column("feature", overflow="fold")
    table.add_column("kind")
    table.add_column("rows\nref → live", justify="right", no_wrap=True)
    table.add_column("missing\nref → live", justify="right", no_wrap=True)
    table.add_column("score\nmetric > limit", justify="right", no_wrap=True)
    adjusted = result.settings.alpha is not None
    table.add_column("p-value\n(adjusted)" if adjusted else "p-value", justify="right")
    table.add_column("status", no_wrap=True)
    table.add_column("histogram\nref / live", no_wrap=True)
    for f in result.features:
        table.add_row(
            Text(shown(f.name)),
            f.kind.value,
            f"{f.reference_rows:,}\n{f.live_rows:,}",
            percent(f.reference_missing, f.reference_rows)
            + "\n"
            + percent(f.live_missing, f.live_rows),
            _score_cell(f),
            _p_cell(f),
            Text(f.status.value, style=_STATUS_STYLE[f.status]),
            _histograms(f),
        )
    return Group(table, _summary(result), *_notes(result))


def _score_cell(f: FeatureResult) -> Text:
    text = Text("—" if f.score is None else f"{f.score:.3f}")
    text.append(f"\n{f.metric}{'*' if f.fallback else ''} > {f.threshold:g}", style="dim")
    return text


def _p_cell(f: FeatureResult) -> str:
    if f.p_value is None:
        return "—"
    if f.p_adjusted is None:
        return format_p_value(f.p_value)
    return f"{format_p_value(f.p_value)}\n({format_p_value(f.p_adjusted)})"


def _title(result: CheckResult) -> Text:
    # Text, not str: rich would read "[...]" in a path or name as markup.
    live, ref = result.live, result.reference
    return Text(
        f"driftcli: {shown(live.name)} ({live.rows:,} rows) vs reference {shown(ref.name)} "
        f"({ref.rows:,} rows)"
    )


def _histograms(f: FeatureResult) -> Text:
    """Ref and live shares of each value bucket, drawn on one scale."""
    if f.status is Status.MISSING:
        return Text("(not in live)", style="dim")
    ref = _shares(f.reference[: f.value_buckets])
    live = _shares(f.live[: f.value_buckets])
    top = max(float(ref.max(initial=0.0)), float(live.max(initial=0.0)))
    text = Text()
    text.append(sparkline(ref, top), style="cyan")
    text.append("\n")
    text.append(sparkline(live, top), style="magenta")
    return text


def _shares(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))


def sparkline(shares: npt.NDArray[np.float64], top: float) -> str:
    """One block character per bucket; a non-empty bucket is never drawn blank."""
    if top <= 0:
        return _BLOCKS[0] * len(shares)
    levels = np.ceil(shares / top * (len(_BLOCKS) - 1)).astype(int)
    return "".join(_BLOCKS[level] for level in levels)


def _summary(result: CheckResult) -> Text:
    drifted = result.drifted
    checked = len(result.features)
    tail = _unjudged(result)
    names = ", ".join(f"{shown(f.name)} ({f.status.value})" for f in drifted)
    counted = f"{len(drifted)} of {checked} features drifted" + (f": {names}" if names else "")
    rule = f" [{shown(result.decision.rule)}]" if _rule_worth_saying(result) else ""
    if result.verdict is Verdict.NO_VERDICT:
        return Text.assemble(("NO VERDICT", "bold yellow"), f": {shown(result.decision.rule)}")
    if result.drift:
        return Text.assemble(("DRIFT", "bold red"), f": {counted}{tail}{rule}")
    if drifted:
        return Text.assemble(("no drift", "bold green"), f" by the rule: {counted}{tail}{rule}")
    return Text.assemble(("no drift", "bold green"), f": {checked} features checked{tail}")


def _unjudged(result: CheckResult) -> str:
    """ " (2 uncertain, 1 with too few live rows)", or nothing."""
    uncertain = sum(f.status is Status.UNCERTAIN for f in result.features)
    insufficient = sum(f.status is Status.INSUFFICIENT for f in result.features)
    parts = [f"{uncertain} uncertain"] if uncertain else []
    if insufficient:
        parts.append(f"{insufficient} with too few live rows for a verdict")
    return f" ({', '.join(parts)})" if parts else ""


def _rule_worth_saying(result: CheckResult) -> bool:
    settings = result.settings
    return bool(settings.fail_on) or settings.max_drift_share is not None


def _notes(result: CheckResult) -> list[Text]:
    notes: list[str] = []
    for f in result.features:
        if f.status in (Status.UNCERTAIN, Status.INSUFFICIENT) and f.reason:
            notes.append(f"{f.name}: {f.status.value}: {f.reason}")
        if f.status is Status.TYPE_CHANGED:
            notes.append(f"{f.name}: the live values are not of the reference's type")
    fallbacks = [f.name for f in result.features if f.fallback]
    if fallbacks:
        notes.append(
            f"* categorical, scored with {FALLBACK_METRIC} ({result.settings.metric} needs "
            "numbers): " + ", ".join(fallbacks)
        )
    if result.new_columns:
        notes.append("new in live, not scored: " + ", ".join(result.new_columns))
    for name, why in result.skipped.items():
        notes.append(f"not scored: {name}: {why}")
    return [Text(shown(note), style="dim") for note in notes]
