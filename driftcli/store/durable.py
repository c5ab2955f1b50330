"""Durable file writes and file locks, for the store.

Every store file is written to a temporary file in the same directory,
fsynced, renamed over its final name, and the directory fsynced: a crash at
any moment leaves either the old file or the new one, never half of one.
Files get the permissions the user's umask allows (never world-writable
unless the umask says so), not tempfile's private 0600.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from driftcli.errors import StoreError

TEMP_PREFIX = ".tmp-"


def _umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write `path` through `write(file)` so that readers see all of it or none."""
    directory = path.parent
    temp = directory / f"{TEMP_PREFIX}{secrets.token_hex(8)}{path.suffix}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666 & ~_umask())
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    fsync_dir(directory)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    def write(out: BinaryIO) -> None:
        out.write(data)

    atomic_write(path, write)


def append_durably(path: Path, data: bytes) -> None:
    """Append `data` to `path` (made if need be) in one write, and make it durable.

    A crash mid-write can leave part of `data` at the end of the file, never
    harm what was there: a reader of such a file must drop an unfinished last
    record, and the next writer cut it off (see store/history.py).
    """
    existed = path.exists()
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
    fd = os.open(path, flags, 0o666 & ~_umask())
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if not existed:
        fsync_dir(path.parent)


def remove_durably(paths: list[Path]) -> None:
    """Unlink files and make the unlinks durable (one fsync per directory)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    for directory in {p.parent for p in paths}:
        fsync_dir(directory)


def clean_temp_files(directory: Path) -> None:
    """Remove temp files a killed writer left behind; call only under the write lock."""
    for leftover in directory.glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


@contextlib.contextmanager
def locked(path: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold an advisory lock on `path`: shared for readers, exclusive for writers.

    The kernel drops the lock when the process dies, so a killed writer never
    leaves the store locked.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666 & ~_umask())
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def no_symlink(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise StoreError(
            f"{path}: is a symbolic link; driftcli does not follow links inside its store"
        )
