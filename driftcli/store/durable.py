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
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from driftcli.errors import StoreError, StoreNotWritable, option, os_reason, path_shown
from driftcli.interrupts import stop_if_asked

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
        size = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            # A failed append (a full disk) takes back what it wrote, so nothing is
            # left that was said not to be recorded.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
                if not existed:
                    path.unlink()
            raise
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


LOCK_WAIT_SECONDS = 30.0
"""The longest a command waits for the store's lock before it gives up, naming the holder."""


@contextlib.contextmanager
def locked(path: Path, *, exclusive: bool) -> Iterator[str | None]:
    """Hold an advisory lock on `path`: shared for readers, exclusive for writers.

    Yields None when the lock is held, else why not: a reader of a store it
    cannot write (a read-only mount; a lock file it may not open) reads
    without one. A writer that cannot lock is a `StoreError`. The kernel
    drops the lock when the process dies, so a killed writer never leaves
    the store locked; a stopped one (SIGSTOP, Ctrl-Z) holds it until it
    goes on, so no command waits for it longer than `LOCK_WAIT_SECONDS`.
    """
    fd, unlocked = _open_lock(path, exclusive)
    if fd is None:
        yield unlocked
        return
    try:
        try:
            _wait_for(fd, path, exclusive)
        except OSError as exc:  # a file system without locks (some network ones)
            if exclusive:
                raise StoreError(f"{path}: cannot lock the store: {os_reason(exc)}") from None
            yield f"{path}: cannot lock the store ({os_reason(exc)}), so it is read without it"
            return
        yield None
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _wait_for(fd: int, path: Path, exclusive: bool) -> None:
    """Take the lock, trying again and again (a blocking wait could last forever)."""
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    pause = 0.005
    while True:
        try:
            fcntl.flock(fd, mode)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise _still_locked(fd, path, exclusive) from None
        stop_if_asked()  # nothing is written yet: a stop asked meanwhile need not wait
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _still_locked(fd: int, path: Path, exclusive: bool) -> StoreError:
    holders = lock_holders(fd, exclusive)
    if not holders:
        who = "another process"
    else:
        who = ", ".join(f"process {pid}{_state(pid)}" for pid in holders)
    stopped = [pid for pid in holders if _state(pid) == " (stopped)"]
    hint = (
        f"it goes on when resumed (kill -CONT {stopped[0]}) or ended"
        if stopped
        else "try again once it is done"
    )
    return StoreError(
        f"{path}: the store is locked by {who}, which did not let go in {LOCK_WAIT_SECONDS:.0f} s",
        hint=hint,
    )


def lock_holders(fd: int, exclusive: bool) -> list[int]:
    """The processes holding a lock on the file of `fd` that keeps ours waiting
    (Linux: /proc/locks; none found elsewhere)."""
    inode = os.fstat(fd).st_ino
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as table:
            rows = table.read().splitlines()
    except OSError:
        return []
    holders = []
    for row in rows:
        fields = row.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 fe:00:1234 0 EOF"; waiters have "->" second.
        if len(fields) < 6 or fields[1] != "FLOCK" or not fields[4].isdigit():
            continue
        if fields[5].rsplit(":", 1)[-1] != str(inode):
            continue
        if exclusive or fields[3] == "WRITE":
            holders.append(int(fields[4]))
    return sorted(set(holders) - {os.getpid()})


def _state(pid: int) -> str:
    """` (stopped)` for a stopped process, else nothing."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            state = stat_file.read().rsplit(b")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return ""
    return " (stopped)" if state in (b"T", b"t") else ""


def _open_lock(path: Path, exclusive: bool) -> tuple[int | None, str | None]:
    """The lock file, opened (and made, if need be); for a reader that cannot, None and why.

    A lock file that is there but may not be opened is named as such: it is
    no read-only store, and chmod gives it back.
    """
    flags = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    no_symlink(path)
    existed = path.exists()
    try:
        fd = os.open(path, flags | os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    except OSError as exc:
        if exc.errno not in CANNOT_WRITE:
            raise StoreError(f"{path}: cannot open the store's lock: {os_reason(exc)}") from None
        if exclusive and existed and exc.errno != errno.EROFS:
            raise StoreNotWritable(
                f"{path}: cannot open the store's lock: {os_reason(exc)}",
                hint="whoever writes to the store must be able to read and write its lock file",
            ) from None
        if exclusive:
            raise StoreNotWritable(
                f"{path.parent}: cannot write to the store: {os_reason(exc)}"
            ) from None
        try:
            fd = os.open(path, flags | os.O_RDONLY)  # a shared lock needs no write access
        except OSError as again:
            return None, _read_unlocked(path, again if existed else exc)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"{path}: is not a regular file; the store's lock must be one")
    return fd, None


def _read_unlocked(path: Path, exc: OSError) -> str:
    """Why a reader reads the store without its lock."""
    if exc.errno == errno.EROFS or not path.exists():
        why = "read-only" if exc.errno == errno.EROFS else os_reason(exc)
        return f"{path.parent}: cannot lock the store here ({why}), so it is read without its lock"
    return (
        f"{path}: cannot open the store's lock ({os_reason(exc)}), so the store is read without it"
    )


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
            hint=f"remove it, or point {option('store')} at another directory",
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
            hint=f"remove it, or point {option('store')} at another directory",
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
