"""Durable file writes, file locks, and opening only what the store itself wrote.

Every store file is written to a temporary file in the same directory,
fsynced, renamed over its final name, and the directory fsynced: a crash at
any moment leaves either the old file or the new one, never half of one.
Files get the permissions the user's umask allows (never world-writable
unless the umask says so), not tempfile's private 0600.

Only regular files are opened in a store, and without following links: a
named pipe there would make every command wait forever, a device could be
read without end. A failure of the file system (full, read-only, no
permission) is a `StoreError` naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from driftcli.errors import StoreError, StoreNotWritable, os_reason, path_shown

TEMP_PREFIX = ".tmp-"

SMALL_FILE_BYTES = 1 << 20
"""Markers and window settings are a line of JSON: anything this large is not one."""

CANNOT_WRITE = (errno.EROFS, errno.EACCES, errno.EPERM)
"""What a file system says to a writer of a store it may only read."""


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
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666 & ~_umask())
    except OSError as exc:
        raise StoreError(f"{path}: cannot write: {os_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(path)
        fsync_dir(directory)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError):
            raise StoreError(f"{path}: cannot write: {os_reason(exc)}") from None
        raise


def output_target(path: Path) -> Path:
    """Where an atomic write over a path the user gave must land.

    A symbolic link is followed, so the link stays and its target is
    replaced; anything there but a regular file (a device, a named pipe, a
    socket, a directory) is refused, for a rename over it would destroy it.
    """
    try:
        target = Path(os.path.realpath(path, strict=False))
        status = target.stat()
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise StoreError(f"{path_shown(path)}: cannot write: {os_reason(exc)}") from None
    if not stat.S_ISREG(status.st_mode):
        raise StoreError(
            f"{path_shown(path)}: is not a regular file ({_kind(status.st_mode)}); "
            "driftcli writes only regular files"
        )
    return target


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
    try:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        for directory in {p.parent for p in paths}:
            fsync_dir(directory)
    except OSError as exc:
        raise StoreError(f"{paths[0].parent}: cannot remove files: {os_reason(exc)}") from None


def clean_temp_files(directory: Path) -> None:
    """Remove temp files a killed writer left behind; call only under the write lock."""
    for leftover in directory.glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


@contextlib.contextmanager
def locked(path: Path, *, exclusive: bool) -> Iterator[bool]:
    """Hold an advisory lock on `path`: shared for readers, exclusive for writers.

    Yields whether the lock is held: a reader of a store it cannot write (a
    read-only mount; another user's store whose lock file it cannot read or
    create) reads without one. A writer that cannot lock is a `StoreError`.
    The kernel drops the lock when the process dies, so a killed writer never
    leaves the store locked.
    """
    fd = _open_lock(path, exclusive)
    if fd is None:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        except OSError as exc:  # a file system without locks (some network ones)
            if exclusive:
                raise StoreError(f"{path}: cannot lock the store: {os_reason(exc)}") from None
            yield False
            return
        yield True
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _open_lock(path: Path, exclusive: bool) -> int | None:
    """The lock file, opened (and made, if need be); None for a reader that cannot."""
    flags = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    no_symlink(path)
    try:
        fd = os.open(path, flags | os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    except OSError as exc:
        if exclusive and exc.errno in CANNOT_WRITE:
            raise StoreNotWritable(
                f"{path.parent}: cannot write to the store: {os_reason(exc)}"
            ) from None
        if exclusive or exc.errno not in CANNOT_WRITE:
            raise StoreError(f"{path}: cannot open the store's lock: {os_reason(exc)}") from None
        try:
            fd = os.open(path, flags | os.O_RDONLY)  # a shared lock needs no write access
        except OSError:
            return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"{path}: is not a regular file; the store's lock must be one")
    return fd


def no_symlink(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: {os_reason(exc)}") from None
    if stat.S_ISLNK(mode):
        raise StoreError(
            f"{path}: is a symbolic link; driftcli does not follow links inside its store"
        )


def is_directory(path: Path) -> bool:
    """Is there a directory at `path`? False if there is nothing.

    A link there, or anything but a directory (a file where `windows/`
    should be), is a `StoreError`, as is a path that cannot be looked at.
    """
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"{path}: {os_reason(exc)}") from None
    no_symlink(path)
    if not stat.S_ISDIR(mode):
        raise StoreError(
            f"{path}: is not a directory ({_kind(mode)}); driftcli keeps a directory there",
            hint="remove it, or point --store at another directory",
        )
    return True


def listed(directory: Path) -> list[Path]:
    """The entries of a store directory; a `StoreError` naming it if it cannot be listed."""
    try:
        return list(directory.iterdir())
    except OSError as exc:
        raise StoreError(f"{directory}: cannot list the directory: {os_reason(exc)}") from None


def regular_file(path: Path) -> bool:
    """Is there a file at `path` that the store may open? False if there is nothing.

    A link, a directory, a named pipe, a device or a socket there is a
    `StoreError`, found without opening it (opening a named pipe waits).
    """
    return regular_stat(path) is not None


def regular_stat(path: Path) -> os.stat_result | None:
    """`regular_file`, with the file's status (None if there is nothing)."""
    try:
        status = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{path}: {os_reason(exc)}") from None
    if stat.S_ISLNK(status.st_mode):
        no_symlink(path)
    if not stat.S_ISREG(status.st_mode):
        raise StoreError(
            f"{path}: is not a regular file ({_kind(status.st_mode)}); driftcli opens only "
            "regular files in its store",
            hint="remove it, or point --store at another directory",
        )
    return status


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file"


def open_regular(path: Path) -> BinaryIO:
    """A store file opened to be read: without following a link and without blocking,
    and checked to be a regular file once open, so nothing swapped in since the look
    is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {os_reason(exc)}") from None
    file = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        file.close()
        raise StoreError(f"{path}: is not a regular file")
    return file


def read_small(path: Path) -> bytes:
    """A small store file (a marker, window settings): a regular file, read whole."""
    with open_regular(path) as file:
        try:
            data = file.read(SMALL_FILE_BYTES + 1)
        except OSError as exc:
            raise StoreError(f"{path}: cannot read: {os_reason(exc)}") from None
    if len(data) > SMALL_FILE_BYTES:
        raise StoreError(f"{path}: corrupt: far too large for what it holds")
    return data
