"""The store: the reference snapshot and named live windows, on disk.

Layout (default `.driftcli/`; `--store` or `DRIFTCLI_STORE` move it):

    driftcli-store.json            marks the directory as a driftcli store
    .lock                          writers hold it exclusively, readers shared
    reference.parquet              the reference snapshot (see snapshot.py)
    windows/NAME/window.json       the window's bound: {"max_rows": N}
    windows/NAME/seg-<n>.parquet   raw rows, oldest first; the footer holds the
                                   row count, ingest times, and the counts
                                   over the reference's buckets
    history/checks.jsonl           one record per check of a window (history.py)

A window is its segments: appending writes one new segment, and only the
oldest segment is ever rewritten (cut to keep exactly the last N rows). Every
file is written atomically (durable.py); a crash leaves whole files only.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

from driftcli.errors import StoreError, UsageError
from driftcli.store.codec import FORMAT_VERSION
from driftcli.store.durable import (
    TEMP_PREFIX,
    atomic_write_bytes,
    clean_temp_files,
    locked,
    no_symlink,
)
from driftcli.store.history import History
from driftcli.store.snapshot import Snapshot, read_snapshot, write_snapshot
from driftcli.store.window import Window

DEFAULT_STORE = ".driftcli"

MARKER = "driftcli-store.json"

_WINDOW_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def validate_window_name(name: str) -> str:
    """A window name is a plain file name: it can never reach outside the store."""
    if not _WINDOW_NAME.fullmatch(name) or name in {".", ".."}:
        raise UsageError(
            f"invalid window name {name!r}",
            hint="use letters, digits, '.', '_' or '-' (up to 64, starting with a letter or digit)",
        )
    return name


def _foreign_files(root: Path) -> bool:
    """Files in `root` that a store being created right now would not have."""
    if not root.is_dir():
        return False
    ours = {".lock", MARKER}
    return any(p.name not in ours and not p.name.startswith(TEMP_PREFIX) for p in root.iterdir())


class Store:
    """A store directory. Every method takes the lock it needs."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def open(cls, root: Path, *, create: bool) -> Store:
        """Open the store at `root`; with `create`, make it if it does not exist.

        A directory that holds files but no store marker is refused, so a
        mistyped --store never scatters files into an unrelated directory.
        """
        store = cls(root)
        marker = root / MARKER
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root}: is not a directory, so it cannot be a driftcli store")
        if marker.exists():
            store._check_marker()
            return store
        if _foreign_files(root):
            raise StoreError(
                f"{root}: is not a driftcli store (it has files but no {MARKER})",
                hint="pick an empty or new directory with --store",
            )
        if not create:
            raise StoreError(
                f"no driftcli store at {root}",
                hint="build one with: driftcli reference DATA (or pass --store DIR)",
            )
        root.mkdir(parents=True, exist_ok=True)
        # Two commands may create the store at once: one writes the marker,
        # the other waits on the lock and then finds it.
        with store.locked(exclusive=True):
            if not marker.exists():
                document = {"kind": "driftcli-store", "format_version": FORMAT_VERSION}
                atomic_write_bytes(marker, json.dumps(document).encode() + b"\n")
        store._check_marker()
        return store

    def _check_marker(self) -> None:
        marker = self.root / MARKER
        no_symlink(marker)
        try:
            document = json.loads(marker.read_text(encoding="utf-8"))
            version = int(document["format_version"])
            foreign = document["kind"] != "driftcli-store"
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise StoreError(f"{marker}: corrupt or foreign store marker") from exc
        if foreign:
            raise StoreError(f"{marker}: corrupt or foreign store marker")
        if version > FORMAT_VERSION:
            raise StoreError(
                f"{self.root}: written by a newer driftcli (store format {version})",
                hint="upgrade driftcli",
            )

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[None]:
        lock = self.root / ".lock"
        no_symlink(lock)
        with locked(lock, exclusive=exclusive):
            yield

    # --- the reference ------------------------------------------------------

    @property
    def reference_path(self) -> Path:
        return self.root / "reference.parquet"

    def has_reference(self) -> bool:
        return self.reference_path.exists()

    def load_reference(self) -> Snapshot:
        no_symlink(self.reference_path)
        if not self.has_reference():
            raise StoreError(
                f"no reference in the store {self.root}",
                hint="build one with: driftcli reference DATA",
            )
        with self.locked(exclusive=False):
            return read_snapshot(self.reference_path)

    def save_reference(self, snapshot: Snapshot) -> None:
        no_symlink(self.reference_path)
        with self.locked(exclusive=True):
            clean_temp_files(self.root)
            write_snapshot(snapshot, self.reference_path)

    # --- windows ------------------------------------------------------------

    def window(self, name: str) -> Window:
        return Window(self, validate_window_name(name))

    def window_names(self) -> list[str]:
        windows = self.root / "windows"
        if not windows.is_dir():
            return []
        return sorted(p.name for p in windows.iterdir() if _WINDOW_NAME.fullmatch(p.name))

    # --- history ------------------------------------------------------------

    def history(self) -> History:
        """The record of checks of this store's windows."""
        return History(self)
