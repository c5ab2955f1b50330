"""After each check (of `check`, or of `ingest --check-every`): the metrics file and the hook.

Both are for a monitor, not the gate: whatever goes wrong with them (a
directory that cannot be written, a hook that fails, hangs or is missing)
is a warning on stderr, never a changed exit code, a lost row or a stopped
ingest.
"""

import contextlib
import os
import secrets
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from driftcli.cli.runtime import Context, warn, write_file
from driftcli.errors import DriftcliError, UsageError, os_reason

if TYPE_CHECKING:
    from driftcli.config import Resolved
    from driftcli.hooks import Hook
    from driftcli.output.prometheus import CheckRun
    from driftcli.report import Report
from driftcli.records import IngestReport


@dataclass
class Monitor:
    """Where a check's metrics go and which hook it runs; the latest check, for an ingest."""

    metrics: Path | None = None
    hook: "Hook | None" = None
    quiet: bool = False
    latest: "CheckRun | None" = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.metrics is not None or self.hook is not None

    def checked(
        self,
        result: "Report",
        window: str,
        seconds: float,
        ingest: "IngestReport | None" = None,
    ) -> None:
        """A check ended: write the metrics, then run the hook if the check calls for it."""
        from driftcli.output.prometheus import CheckRun

        self.latest = CheckRun(result, window, time.time(), seconds)
        self.write_metrics(ingest, window)
        if self.hook is not None:
            self._run_hook(self.hook, result, window)

    def write_metrics(self, ingest: "IngestReport | None", window: str) -> None:
        """The latest check's metrics, and the ingest's counters, written atomically."""
        if self.metrics is None:
            return
        from driftcli.output.prometheus import render_metrics

        text = render_metrics(self.latest, ingest, window)
        try:
            write_metrics(self.metrics, text)
        except DriftcliError as exc:
            self._warn(exc.said)

    def _run_hook(self, hook: "Hook", result: "Report", window: str) -> None:
        from driftcli.hooks import run_hook
        from driftcli.report import slices_of

        checks = [check for _, check in result.labelled_checks]
        if not hook.fires(result.drift, (f.status.value for c in checks for f in c.features)):
            return
        drifted = dict.fromkeys(f.name for c in checks for f in c.drifted)
        env = {
            "DRIFTCLI_VERDICT": result.verdict.value,
            "DRIFTCLI_WINDOW": window,
            "DRIFTCLI_DRIFTED": ",".join(drifted),
        }
        slices = slices_of(result)
        if slices is not None:
            env["DRIFTCLI_DRIFTED_SLICES"] = ",".join(s.label for s in slices if s.drift)
        outcome = run_hook(hook, _report_json(result), {k: _env_text(v) for k, v in env.items()})
        if not outcome.ok:
            self._warn(f"--on-drift hook: {outcome.problem}")

    def _warn(self, text: str) -> None:
        if not self.quiet:
            warn(text)


def monitor_for(context: Context, *, quiet: bool) -> Monitor:
    """The metrics file and the hook the flags, environment and config give."""
    from driftcli.hooks import parse_hook
    from driftcli.results import Status

    resolved = context.resolved
    metrics = _given(resolved, "metrics")
    command = _given(resolved, "on_drift")
    also = resolved.values.on_drift_also
    timeout = resolved.values.hook_timeout
    if command is None and (also or timeout is not None):
        flag = "--on-drift-also" if also else "--hook-timeout"
        raise UsageError(f"{flag} needs --on-drift", hint="name the command to run on drift")
    for key, value in (("metrics", metrics), ("on_drift", command)):
        if value is not None and "\0" in value:  # only a config file's string can hold one
            raise UsageError(
                f"{resolved.sources[key]}: {key} holds a NUL character, which no "
                f"{'file name' if key == 'metrics' else 'command'} can hold"
            )
    if metrics == "-":
        raise UsageError(
            "--metrics -: the metrics take a file path; '-' would be a file named '-'",
            hint="node_exporter's textfile collector reads files such as "
            "/var/lib/node_exporter/textfile/driftcli.prom",
        )
    hook = None
    if command is not None:
        hook = parse_hook(command, timeout, also, (s.value for s in Status if not s.is_drift))
    return Monitor(Path(metrics) if metrics else None, hook, quiet)


def _given(resolved: "Resolved", key: str) -> str | None:
    """A setting that runs a command or writes a file (`on_drift`, `metrics`).

    Like the engine (config.py), only the user chooses it: a flag, a
    DRIFTCLI_* variable or a config named with --config; a config file
    driftcli found in the directory (perhaps a cloned repository's) may not
    (a `UsageError`).
    """
    value: str | None = getattr(resolved.values, key)
    path = resolved.config_path
    if value is None or not resolved.found_sets(key):
        return value
    raise UsageError(
        f"{path}: sets {key}, but a command to run or a file to write comes only from you, "
        "not from a config file driftcli found in the directory",
        hint=f"to use it: --{key.replace('_', '-')} ..., or DRIFTCLI_{key.upper()}=..., or "
        f"--config {path}",
    )


def write_metrics(path: Path, text: str) -> None:
    """The metrics written to `path`: replaced atomically, or, for a named pipe or a device
    (which a rename would replace, not write to), written in place as a report is."""
    try:
        mode: int | None = path.stat().st_mode
    except OSError:
        mode = None  # not there yet (or not reachable: the write says why)
    what = f"--metrics {path}: cannot write"
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        write_file(path, text.removesuffix("\n"), what=what)  # write_file ends the last line
        return
    try:
        replace_file(path, text)
    except OSError as exc:
        raise DriftcliError(f"{what}: {os_reason(exc)}") from None


def replace_file(path: Path, text: str) -> None:
    """Write `path` so that a reader sees the old file or the new one, never a part.

    The temporary file is hidden and does not end in the target's suffix, so a
    collector that reads `*.prom` never reads it half written; it is made with
    the usual permissions (not a temporary file's 0600), so a collector running
    as another user can read the result.
    """
    target = Path(os.path.realpath(path))
    temp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        temp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def _report_json(result: "Report") -> str:
    from driftcli.choices import OutputFormat
    from driftcli.cli.reports import render

    return render(result, OutputFormat.JSON) + "\n"


def _env_text(value: str) -> str:
    """A value an environment variable can hold (no NUL)."""
    return value.replace("\0", "")
