"""How numbers and names read in every human output: p-values, shares, counts of things."""

from __future__ import annotations


def format_p_value(p: float | None) -> str:
    """A p-value in two significant digits; tiny ones as `<1e-16`, none as a dash."""
    if p is None:
        return "—"
    return "<1e-16" if p < 1e-16 else f"{p:.2g}"


def percent(part: int, whole: int) -> str:
    """`part` as a share of `whole`, one decimal; a dash when there is no whole."""
    if whole == 0:
        return "—"
    share = 100.0 * part / whole
    return f"{share:.1f}%" if share == 0 or share >= 0.1 else "<0.1%"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 feature`, `2 features`, with thousands separated."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"
