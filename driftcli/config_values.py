"""The values a setting may take: each parser takes what a flag, an environment variable
or the config file gave and returns the setting's value, or raises `TypeError` saying
what was expected (config.py names the setting and where it came from)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from driftcli.choices import METRIC_NAMES, Correction, JointMethod, Kind
from driftcli.settings import (
    MAX_COUNT,
    MAX_HOOK_SECONDS,
    SizeError,
    parse_size,
)


class Unknown(TypeError):
    """A name not among the known ones."""

    def __init__(self, what: str, known: tuple[str, ...]) -> None:
        super().__init__(f"a known {what}")
        self.what = what
        self.known = known


def number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("a number")
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits
        return math.inf if value > 0 else -math.inf


def seconds(value: Any) -> float:
    """A hook's time limit (hooks.py): above 0, at most a day."""
    found = number(value)
    if not 0 < found <= MAX_HOOK_SECONDS:
        raise TypeError(f"a number of seconds above 0 and at most {MAX_HOOK_SECONDS:,.0f}")
    return found


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("a whole number")
    return value


def threshold(value: Any) -> float:
    found = number(value)
    if not (found >= 0 and math.isfinite(found)):
        raise TypeError("a number of at least 0")
    return found


def p_value(value: Any) -> float:
    """A level for p-values (evidence, alpha): strictly between 0 and 1."""
    found = number(value)
    if not 0 < found < 1:
        raise TypeError("between 0 and 1")
    return found


def share(value: Any) -> float:
    found = number(value)
    if not 0 <= found < 1:
        raise TypeError("at least 0 and below 1")
    return found


def count(at_least: int) -> Callable[[Any], int]:
    """A whole number from `at_least` to `MAX_COUNT`: what a count of rows or bins can be."""

    def parse(value: Any) -> int:
        whole = integer(value)
        if whole < at_least:
            raise TypeError(f"at least {at_least}")
        if whole > MAX_COUNT:
            raise TypeError(f"at most {MAX_COUNT:,}")
        return whole

    return parse


bins = count(2)
rows = count(1)


def limit(at_least: float) -> Callable[[Any], float]:
    """A data-quality rule's limit: a number of at least `at_least`; inf turns it off."""

    def parse(value: Any) -> float:
        found = number(value)
        if not found >= at_least:  # NaN too
            raise TypeError(f"a number of at least {at_least:g} (inf turns the rule off)")
        return found

    return parse


ratio = limit(1.0)
points = limit(0.0)

WHOLE = (integer, bins, rows)
REAL = (number, threshold, p_value, share, seconds, ratio, points)
"""The parsers of numbers: an environment variable's text is read as one for them."""


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a string")
    return value


def names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part for part in value.split(",") if part.strip())
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError("a list of names")
    return tuple(value)


def metric(value: Any) -> str:
    if text(value) not in METRIC_NAMES:
        raise Unknown("metric", METRIC_NAMES)
    return str(value)


def size(value: Any) -> int:
    """A size in bytes: a whole number, or text with a unit (`64MiB`, `64MB`, `1GiB`)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("a size in bytes of at least 1, such as 67108864 or 64MiB")
    try:
        return parse_size(value)
    except SizeError as exc:
        raise TypeError(str(exc)) from None


def correction(value: Any) -> Correction:
    try:
        return Correction(text(value))
    except ValueError:
        raise TypeError("one of " + ", ".join(c.value for c in Correction)) from None


def joint_method(value: Any) -> JointMethod:
    try:
        return JointMethod(text(value))
    except ValueError:
        raise TypeError("one of " + ", ".join(m.value for m in JointMethod)) from None


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("true or false")
    return value


DELIMITER_WORDS = {"comma": ",", "tab": "\t", "semicolon": ";", "pipe": "|", "\\t": "\t"}
"""Names for separators that are awkward to type: `--delimiter tab`."""


def delimiter(value: Any) -> str:
    mark = DELIMITER_WORDS.get(text(value).lower(), text(value))
    if len(mark) != 1 or mark in '"\r\n':
        raise TypeError("one character (or comma, tab, semicolon, pipe)")
    return mark


def decimal(value: Any) -> str:
    mark = DECIMAL_WORDS.get(text(value).lower(), text(value))
    if mark not in (".", ","):
        raise TypeError(". or , (or point, comma)")
    return mark


DECIMAL_WORDS = {"point": ".", "dot": ".", "comma": ","}
"""Names for decimal marks, as for separators: `--decimal comma`."""


def engine(value: Any) -> str:
    if text(value) not in ("local", "dask"):
        raise TypeError("local or dask")
    return str(value)


def kind(value: Any) -> Kind:
    try:
        return Kind(text(value))
    except ValueError:
        raise TypeError("numeric or categorical") from None
