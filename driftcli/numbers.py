"""How a number reads in every output: four significant digits, thousands separated.

Light (no numpy), so bucket labels, the table, the HTML page's tooltips and
axes and the alert lines all write a number the same way.
"""

from __future__ import annotations

import math


def readable(value: float) -> str:
    """`120,000`, `1,235`, `52.5`, `0.0123`, `1.2e-05`, `-3,400`: four significant digits."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.4g}"
    if "e" in text and 1e3 <= abs(value) < 1e15:
        return f"{float(text):,.0f}"
    if "e" in text or "." in text or abs(value) < 1000:
        return text
    return f"{int(text):,}"
