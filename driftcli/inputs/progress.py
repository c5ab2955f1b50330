"""Progress of long reads, reported by the readers to whoever listens.

The core never prints: readers call `report` after each piece, and the CLI,
when stderr is a terminal, listens and draws a progress bar (output/progress.py).
With no listener, `report` costs one comparison.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

Listener = Callable[[str, int, int, int | None], None]
"""listener(input name, rows so far, units done, units in all or None)."""

_listener: Listener | None = None


def report(name: str, rows: int, done: int, total: int | None) -> None:
    if _listener is not None:
        _listener(name, rows, done, total)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous
