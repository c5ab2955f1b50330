"""`python -m driftcli` runs the command line."""

import sys
from pathlib import Path

# `python -m` puts the working directory first on the module path: in a cloned
# repository, a folder there named like a module driftcli imports later (Dask,
# multiprocessing) would run inside driftcli. Only the installed modules are meant.
if not sys.flags.safe_path and sys.path and sys.path[0] in ("", str(Path.cwd())):
    del sys.path[0]

from driftcli.cli import main

# Guarded: a local Dask cluster starts its workers by re-importing the main
# module, which must not run the command line again.
if __name__ == "__main__":
    main()
