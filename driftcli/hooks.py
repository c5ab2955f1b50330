"""`--on-drift CMD`: a command run when a check finds drift, with the JSON report on its stdin.

The command is split like a shell line (`shlex`: quotes group words) and run
without a shell, so nothing in a feature name, a window name or the report
can become shell syntax; a user who wants a pipe writes `sh -c '...'`. It
runs in a process group of its own, with a time limit past which the whole
group is killed, so a hook that hangs (or leaves a child behind that does)
cannot hold an ingest. Whatever becomes of it (it fails, hangs, is missing)
is an outcome the caller reports as a warning: a hook never stops a check or
an ingest, nor changes an exit code.

What may choose the command is decided by the caller (config.py): a hook is
code execution, so a config file found in the directory may not set one.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from driftcli.errors import UsageError
from driftcli.settings import MAX_HOOK_SECONDS

DEFAULT_HOOK_TIMEOUT = 30.0
"""Seconds a hook may run before its process group is killed."""

KILL_GRACE = 2.0
"""Seconds between SIGTERM to a hook past its limit and SIGKILL."""


@dataclass(frozen=True)
class Hook:
    """A command to run on drift, and when else to run it."""

    argv: tuple[str, ...]
    timeout: float = DEFAULT_HOOK_TIMEOUT
    also: frozenset[str] = frozenset()
    """Feature statuses that fire the hook besides a verdict of drift (`uncertain`)."""

    def fires(self, drift: bool, statuses: Iterable[str]) -> bool:
        """Does a check with this verdict and these feature statuses run the hook?"""
        return drift or any(status in self.also for status in statuses)


def parse_hook(
    command: str, timeout: float | None, also: Iterable[str], known: Iterable[str]
) -> Hook:
    """The hook `--on-drift` names; `known`: the feature statuses `--on-drift-also` may name."""
    try:
        argv = tuple(shlex.split(command))
    except ValueError as exc:
        raise UsageError(
            f"--on-drift {command!r}: cannot be split into words ({exc})",
            hint="quote it as you would in a shell; for pipes, run it through sh -c '...'",
        ) from None
    if not argv:
        raise UsageError("--on-drift: the command is empty", hint="name a program to run")
    limit = DEFAULT_HOOK_TIMEOUT if timeout is None else timeout
    if not 0 < limit <= MAX_HOOK_SECONDS:
        raise UsageError(
            f"--hook-timeout must be above 0 and at most {MAX_HOOK_SECONDS:,.0f} seconds "
            f"(a day), not {limit}"
        )
    statuses = frozenset(also)
    allowed = tuple(known)
    unknown = sorted(statuses - set(allowed))
    if unknown:
        raise UsageError(
            f"--on-drift-also {unknown[0]!r}: not a feature status",
            hint="one of: " + ", ".join(allowed),
        )
    return Hook(argv, limit, statuses)


@dataclass(frozen=True)
class HookOutcome:
    """What became of a hook: its exit status, or why it has none."""

    exit_status: int | None
    """The hook's exit status (negative: the signal that ended it); None if it never ran."""
    problem: str | None = None
    """Why it did not succeed, in words (None: it exited 0)."""

    @property
    def ok(self) -> bool:
        return self.problem is None


def run_hook(hook: Hook, report: str, env: Mapping[str, str]) -> HookOutcome:
    """Run the hook with `report` on its stdin and `env` added to this process's environment.

    Its stdout and stderr go to this process's stderr (stdout carries the
    report). Returns when it exits, or when it is killed past its limit.
    """
    name = hook.argv[0]
    try:
        process = subprocess.Popen(
            hook.argv,
            stdin=subprocess.PIPE,
            stdout=2,
            stderr=2,
            env={**os.environ, **env},
            start_new_session=True,  # its own process group: killed whole past the limit
        )
    except FileNotFoundError:
        return HookOutcome(None, f"{name}: no such command")
    except PermissionError:
        return HookOutcome(None, f"{name}: not executable")
    except OSError as exc:
        return HookOutcome(None, f"{name}: cannot run ({exc.strerror or type(exc).__name__})")
    try:
        # communicate() writes stdin while it waits, so a report larger than a pipe's
        # buffer never blocks; a hook that does not read it is not an error.
        process.communicate(report.encode(), timeout=hook.timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return HookOutcome(
            process.returncode, f"{name}: still running after {hook.timeout:g}s: killed"
        )
    except BaseException:
        _kill_group(process)  # an interrupt: the hook goes with the command that ran it
        raise
    status = process.returncode
    if status == 0:
        return HookOutcome(0)
    if status < 0:
        return HookOutcome(status, f"{name}: ended by signal {-status}")
    return HookOutcome(status, f"{name}: exited with status {status}")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the hook's process group, then SIGKILL if it is still there."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    for signum, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)
        try:
            process.wait(timeout=wait)
            if signum == signal.SIGTERM:
                # The leader is gone; its children in the group may not be.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue
