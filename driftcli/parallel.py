"""Both cores, where it pays: read ahead in one thread, count columns in a pool.

pyarrow decodes and numpy sorts and searches without holding the GIL, so
plain threads overlap reading the next batch with counting this one, and
count several columns at once. One core still works: the pool then has one
thread and the read-ahead only hides I/O waits.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

POOL_MIN_ROWS = 32_768
"""Below this many rows per item, handing items to the pool costs more than it saves
(for 25 columns the break-even is between 10k and 50k rows)."""

_POOL: ThreadPoolExecutor | None = None
_LOCK = threading.Lock()


_SERIAL = threading.local()


@contextlib.contextmanager
def serial() -> Iterator[None]:
    """Count in this thread only: an engine's task runs beside others on the same cores."""
    previous = getattr(_SERIAL, "on", False)
    _SERIAL.on = True
    try:
        yield
    finally:
        _SERIAL.on = previous


def workers() -> int:
    """Threads for column work: the cores this process may use (at most 8)."""
    if getattr(_SERIAL, "on", False):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def map_columns(function: Callable[[T], R], items: Sequence[T], rows: int | None = None) -> list[R]:
    """`[function(item) for item in items]`, spread over the pool when it helps.

    `rows`: how many rows each item covers, when known; few run in this thread.
    """
    global _POOL
    if len(items) < 2 or workers() == 1 or (rows is not None and rows < POOL_MIN_ROWS):
        return [function(item) for item in items]
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(workers(), thread_name_prefix="driftcli")
    return list(_POOL.map(function, items))


_DONE = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate `items` in a background thread, at most `depth` items ahead.

    Exceptions from the producer are raised in the consumer, in order. If the
    consumer stops early, the producer stops at its next item.
    """
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            ready.put(exc)

    thread = threading.Thread(target=produce, name="driftcli-read", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():
            try:
                ready.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)
