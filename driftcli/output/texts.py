"""How numbers and names read in every human output: p-values, shares, counts of things."""

from __future__ import annotations

import html

from driftcli.compact import compact_count as compact_count
from driftcli.compact import compact_score as compact_score
from driftcli.errors import flag_names
from driftcli.findings import QualityStatus
from driftcli.results import ChunkResult, FeatureResult, Timeline

TINY_P = 1e-16
"""Below this a p-value is shown as a bound: a double resolves nothing finer next to 1."""


def format_p_value(p: float | None, bound: bool = False) -> str:
    """A p-value in two significant digits; tiny ones as `<1e-16`, none as a dash.

    `bound`: p is an upper bound (Monte Carlo's floor), shown as `<0.0005`.
    """
    if p is None:
        return "—"
    if p < TINY_P:
        return "<1e-16"
    return f"<{p:.2g}" if bound else f"{p:.2g}"


def quality_notes(f: FeatureResult) -> list[str]:
    """`score: missing: fail: missing values rose from 0.9% to 25% ...`, a line per rule
    that did not come out ok."""
    return [
        f"{f.name}: {q.rule.value}: {q.status.value}: {flag_names(q.reason)}"
        for q in f.quality
        if q.status is not QualityStatus.OK and q.reason
    ]


def percent(part: int, whole: int) -> str:
    """`part` as a share of `whole`, one decimal; a dash when there is no whole."""
    if whole == 0:
        return "—"
    share = 100.0 * part / whole
    return f"{share:.1f}%" if share == 0 or share >= 0.1 else "<0.1%"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 feature`, `2 features`, with thousands separated."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


_BIDI_CONTROLS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
"""Marks that reorder the text around them on screen (the "Trojan source" characters)."""

_ESCAPES = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in (*range(0x20), *range(0x7F, 0xA0), *_BIDI_CONTROLS, 0x2028, 0x2029)
} | {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


_JSON_ESCAPES = {
    code: f"\\u{code:04x}" for code in (*range(0x7F, 0xA0), *_BIDI_CONTROLS, 0x2028, 0x2029)
}


def json_text(document: object, *, indent: int | None = 2, allow_nan: bool = True) -> str:
    """A JSON document as driftcli writes it: UTF-8 text, and every character that
    could recolour or reorder a terminal or a CI log escaped as `\\u` and four hex digits.

    JSON escapes the C0 controls itself; C1 controls, DEL, bidirectional
    marks and the line and paragraph separators it leaves raw. They can only
    stand inside strings, so the escaped document decodes to the same value.
    """
    import json

    text = json.dumps(document, indent=indent, ensure_ascii=False, allow_nan=allow_nan)
    return text if text.isascii() else text.translate(_JSON_ESCAPES)


def shown(text: str) -> str:
    """A name or value from the data, safe to show a person: control characters escaped.

    Column names, window names, categories and paths are data: a terminal
    escape (`\\x1b[31m`), a line break or a bidirectional override in one
    would otherwise recolour, split or reorder what the user reads. They are
    shown as Python-style escapes (`\\x1b`, `\\n`, `\\u202e`); everything else,
    backslashes included, is left as it is, so applying it twice changes
    nothing. JSON is written through `json_text`, which escapes them its own way.
    """
    if text.isprintable():
        return text
    return text.translate(_ESCAPES)


def describe_chunks(timeline: Timeline) -> str:
    """`10 chunks of 1d by ts (UTC)`, or `4 chunks of 10,000 rows`."""
    return timeline.chunking.describe(len(timeline.chunks))


def chunk_label(timeline: Timeline, chunk: ChunkResult) -> str:
    """How the first-drift column names a chunk."""
    return timeline.chunking.label(chunk.index, chunk.start, spans_years(timeline))


def spans_years(timeline: Timeline) -> bool:
    """Do the chunks start in more than one year (so a date needs its year)?"""
    chunks = timeline.chunks
    return bool(chunks) and timeline.chunking.spans_years(chunks[0].start, chunks[-1].start)


def escaped(text: str) -> str:
    """A name or value for an HTML page: control characters shown, markup escaped."""
    return html.escape(shown(text))
