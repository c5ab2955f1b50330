"""Numbers in four or five characters, for the cells and headers of a matrix."""

from __future__ import annotations


def compact_score(score: float) -> str:
    """A score in four characters: .041, 1.23, 12.3, 123."""
    if score < 0.9995:
        return f"{score:.3f}"[1:]
    if score < 9.995:
        return f"{score:.2f}"
    if score < 99.95:
        return f"{score:.1f}"
    return f"{score:4.0f}" if score < 9999.5 else ">1e4"


def compact_count(rows: int) -> str:
    """500, 5,000, 12k, 1.2M: thousands separated, as every count is."""
    if rows < 10_000:
        return f"{rows:,}"
    if rows < 999_500:
        return f"{rows / 1000:.0f}k"
    return f"{rows / 1e6:.1f}M" if rows < 99_950_000 else f"{rows / 1e6:.0f}M"
