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
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from driftcli.errors import NothingStored, StoreError, UsageError, option, os_reason, path_shown
from driftcli.settings import DEFAULT_MAX_LINE_BYTES
from driftcli.store.codec import FORMAT_VERSION, Damaged, field, whole
from driftcli.store.durable import (
    TEMP_PREFIX,
    atomic_write_bytes,
    clean_temp_files,
    is_directory,
    listed,
    locked,
    no_symlink,
    read_small,
    regular_file,
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
    try:
        return any(
            p.name not in ours and not p.name.startswith(TEMP_PREFIX) for p in root.iterdir()
        )
    except OSError as exc:
        raise StoreError(f"{root}: cannot list the directory: {os_reason(exc)}") from None


Warn = Callable[[str], None]


class Store:
    """A store directory. Every method takes the lock it needs."""

    def __init__(
        self,
        root: Path,
        on_warning: Warn | None = None,
        line_limit: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.root = root
        self.line_limit = line_limit
        """The longest line read from the store's JSON-lines files (the input line limit)."""
        self._on_warning = on_warning
        self._warned = False
        self._warnings: set[str] = set()
        self._create_pending = False

    @classmethod
    def open(
        cls,
        root: Path,
        *,
        create: bool,
        on_warning: Warn | None = None,
        when_written: bool = False,
        line_limit: int = DEFAULT_MAX_LINE_BYTES,
    ) -> Store:
        """Open the store at `root`; with `create`, make it if it does not exist.

        With `when_written`, a store that does not exist yet is made only by
        its first write, so a command that fails first leaves nothing behind.
        A directory that holds files but no store marker is refused, so a
        mistyped --store never scatters files into an unrelated directory.
        `on_warning` hears what a reader should know (a store read without
        its lock, a damaged line of the history skipped); `line_limit` bounds
        the lines read from the history, as the input line limit bounds inputs.
        """
        store = cls(root, on_warning, line_limit)
        marker = root / MARKER
        try:
            mode = root.stat().st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise StoreError(f"{path_shown(root)}: {os_reason(exc)}") from None
        if mode is not None and not stat.S_ISDIR(mode):
            raise StoreError(f"{root}: is not a directory, so it cannot be a driftcli store")
        if regular_file(marker):
            store._check_marker()
            return store
        if _foreign_files(root):
            raise StoreError(
                f"{root}: is not a driftcli store (it has files but no {MARKER})",
                hint=f"pick an empty or new directory with {option('store')}",
            )
        if not create:
            raise NothingStored(
                f"no driftcli store at {root}",
                hint=f"build one with: driftcli reference DATA (or pass {option('store')} DIR)",
            )
        store._create_pending = True
        if not when_written:
            store.create_if_pending()
        return store

    def create_if_pending(self) -> None:
        """Make the store, if it was opened to be made at its first write."""
        if not self._create_pending:
            return
        root, marker = self.root, self.root / MARKER
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{root}: cannot create the store: {os_reason(exc)}") from None
        # Two commands may create the store at once: one writes the marker,
        # the other waits on the lock and then finds it.
        with self.locked(exclusive=True):
            if not regular_file(marker):
                document = {"kind": "driftcli-store", "format_version": FORMAT_VERSION}
                atomic_write_bytes(marker, json.dumps(document).encode() + b"\n")
        self._check_marker()
        self._create_pending = False

    def _check_marker(self) -> None:
        marker = self.root / MARKER
        try:
            document = json.loads(read_small(marker))
            if field(document, "kind") != "driftcli-store":
                raise Damaged("not driftcli's")
            version = whole(field(document, "format_version"), "format_version", 1)
        except (ValueError, RecursionError):
            raise StoreError(f"{marker}: corrupt or foreign store marker") from None
        if version > FORMAT_VERSION:
            raise StoreError(
                f"{self.root}: written by a newer driftcli (store format {version})",
                hint="upgrade driftcli",
            )

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[None]:
        """The store's lock; a writer also clears what a killed writer left behind."""
        with locked(self.root / ".lock", exclusive=exclusive) as unlocked:
            if unlocked is not None:
                self._warn_unlocked(unlocked)
            if exclusive:
                clean_temp_files(self.root)
            yield

    def warn(self, text: str) -> None:
        """Tell the reader something about the store (the library never prints), once."""
        if self._on_warning is not None and text not in self._warnings:
            self._warnings.add(text)
            self._on_warning(text)

    def _warn_unlocked(self, why: str) -> None:
        if self._warned or self._on_warning is None:
            return
        self._warned = True
        self._on_warning(f"{why}: an ingest writing to it meanwhile could be seen half-done")

    # --- the reference ------------------------------------------------------

    @property
    def reference_path(self) -> Path:
        return self.root / "reference.parquet"

    def has_reference(self) -> bool:
        return regular_file(self.reference_path)

    def load_reference(self) -> Snapshot:
        if not self.has_reference():
            raise NothingStored(
                f"no reference in the store {self.root}",
                hint="build one with: driftcli reference DATA",
            )
        with self.locked(exclusive=False):
            return read_snapshot(self.reference_path)

    def save_reference(self, snapshot: Snapshot) -> None:
        no_symlink(self.reference_path)
        self.create_if_pending()
        with self.locked(exclusive=True):
            regular_file(self.reference_path)  # a named pipe there is refused, not replaced
            write_snapshot(snapshot, self.reference_path)

    # --- windows ------------------------------------------------------------

    def window(self, name: str) -> Window:
        return Window(self, validate_window_name(name))

    def window_names(self) -> list[str]:
        """The windows, by name. An entry named as a window must be a directory (else a
        `StoreError` naming it); another name is a warning, hidden files aside."""
        windows = self.root / "windows"
        if not is_directory(windows):
            return []
        names = []
        for entry in listed(windows):
            if _WINDOW_NAME.fullmatch(entry.name) and is_directory(entry):
                names.append(entry.name)
            elif not entry.name.startswith("."):
                self.warn(f"{entry}: not a window name, so not a window of the store: ignored")
        return sorted(names)

    # --- history ------------------------------------------------------------

    def history(self) -> History:
        """The record of checks of this store's windows."""
        return History(self)
