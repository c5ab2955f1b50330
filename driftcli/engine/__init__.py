"""Where counting runs: in this process, or on a Dask cluster.

The seam is one idea: map a counting function over the input's fragments
(its files), then merge the results by adding (tasks.py). The local engine
does that in this process; the Dask engine submits the same functions to a
`distributed.Client` (engines.py).
"""

from driftcli.engine.engines import DaskEngine, Engine, EngineError, LocalEngine, open_engine

__all__ = ["DaskEngine", "Engine", "EngineError", "LocalEngine", "open_engine"]
