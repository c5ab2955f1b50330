"""Stopping signals (Ctrl-C, SIGTERM, SIGHUP) that wait for a safe point to stop.

An ingest stopped by a signal flushes the rows it has read and says how
many it stored. Python raises KeyboardInterrupt wherever the main thread
happens to be, and that could be between the rename that stores a flush
and the line that counts it: the store would then hold rows the summary
does not. So an ingest installs `stop` as the handler of those signals, and
does its work on rows inside `deferred()`: a stop that arrives there is
noted and raised when the work is done, or at a wait that could be long
(for the store's lock) and where nothing is half done (`stop_if_asked`).
Everywhere else (waiting for input, opening a named pipe) it stops at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import FrameType

_depth = 0
_asked = False


def stop(signum: int, frame: FrameType | None) -> None:
    """The handler of the stopping signals: KeyboardInterrupt now, or once it is safe."""
    global _asked
    if _depth:
        _asked = True
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Work that a stop must not cut in two: a stop asked meanwhile is raised at its end.

    Nested uses raise at the end of the outermost. When the work fails, its
    error goes on, and a stop asked meanwhile waits for the next end.
    """
    global _depth, _asked
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
    if not _depth and _asked:
        _asked = False
        raise KeyboardInterrupt


def stop_if_asked() -> None:
    """At a point where nothing is half done, but which could take long: stop if asked."""
    global _asked
    if _asked:
        _asked = False
        raise KeyboardInterrupt
