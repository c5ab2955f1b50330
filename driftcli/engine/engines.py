"""Where counting runs: in this process, or on a Dask cluster.

The seam is one idea: map a counting function over the input's fragments
(its files), then merge the results by adding. The local engine does that in
this process (with the threads of parallel.py); the Dask engine submits the
same functions to a `distributed.Client`. Workers receive a fragment's path
and the buckets, never the reference's rows, and send back count vectors,
a bounded sample, or a reference summary (summary.py). Statistics, store
and renderers never know which engine ran.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from driftcli.choices import EngineName
from driftcli.errors import DriftcliError, UsageError, option

T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_TIMEOUT = 10
"""Seconds to wait for a Dask scheduler before giving up with an error."""

TASK_RETRIES = 2
"""Times Dask re-runs a fragment whose worker died, before the job fails."""


class EngineError(DriftcliError):
    """The engine could not run the job (scheduler unreachable, workers lost)."""


class LocalEngine:
    """Runs every fragment in this process, one after the other."""

    distributed = False

    def map(self, function: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [function(item) for item in items]

    def close(self) -> None:
        pass


class DaskEngine:
    """Runs fragments on a Dask cluster: at `scheduler`, or a local one on this machine."""

    distributed = True

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UsageError(
                f"{option('engine')} dask needs Dask, which is not installed",
                hint="pip install 'driftcli[dask]'",
            ) from None
        self._cluster: Any = None
        self._environ: _Environ | None = None
        try:
            if scheduler:
                self.client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT}s")
            else:
                # Its worker processes, and multiprocessing's resource tracker, start
                # as `python -c ...`, which puts the working directory first on the
                # module path: in a cloned repository, a folder named like a module
                # Python imports at start (`multiprocessing/`) would run in each of
                # them. PYTHONSAFEPATH, inherited by every process the cluster
                # starts, keeps the working directory off that path.
                self._environ = _Environ(PYTHONSAFEPATH="1")
                # On this machine only, and no dashboard: nothing listens beyond it.
                # Its logs would land on this terminal between driftcli's own lines
                # (a failure is said once, by driftcli: see tasks.Done). The scheduler
                # still serves its health routes over HTTP: on a free port, not on 8787
                # (taken by any other Dask cluster, and distributed warns on stderr).
                self._cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.CRITICAL,
                )
                self.client = Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            raise EngineError(
                f"cannot reach the Dask scheduler at {scheduler} "
                f"within {SCHEDULER_TIMEOUT} s ({type(exc).__name__})",
                hint="check the address (tcp://HOST:8786) and that `dask scheduler` runs there",
            ) from exc

    def map(self, function: Callable[[T], R], items: Sequence[T]) -> list[R]:
        futures = self.client.map(function, list(items), pure=False, retries=TASK_RETRIES)
        try:
            return list(self.client.gather(futures))
        except DriftcliError:
            raise
        except Exception as exc:
            raise EngineError(
                f"the Dask job failed ({type(exc).__name__}) after {TASK_RETRIES} retries per "
                "fragment; no verdict was reached",
                hint=f"check the workers' logs; rerun with {option('engine')} local to compare",
            ) from exc

    def close(self) -> None:
        try:
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            if self._environ is not None:
                self._environ.restore()


class _Environ:
    """Environment variables set for this process's children until `restore`."""

    def __init__(self, **values: str) -> None:
        self._saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


Engine = LocalEngine | DaskEngine


def open_engine(name: EngineName | str, scheduler: str | None = None) -> Engine:
    if EngineName(name) is EngineName.DASK:
        return DaskEngine(scheduler)
    if scheduler:
        raise UsageError(f"{option('scheduler')} goes with {option('engine')} dask")
    return LocalEngine()
