"""What a window and the history need of their store: its directory, lock and warnings.

root.py's `Store` is the one implementation; window.py and history.py name
this protocol instead of it, so the store (which opens windows and the
history) and what it opens never import each other.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol


class StoreAccess(Protocol):
    """The store a window or the history lives in."""

    root: Path
    line_limit: int
    """The longest line read from the store's JSON-lines files."""

    def locked(self, *, exclusive: bool) -> AbstractContextManager[None]:
        """The store's lock: exclusive for writers, shared for readers."""
        ...

    def warn(self, text: str) -> None:
        """Tell the reader something about the store, once."""
        ...

    def create_if_pending(self) -> None:
        """Make the store, if it was opened to be made at its first write."""
        ...
