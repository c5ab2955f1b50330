"""`python -m driftcli` runs the command line."""

from driftcli.cli import main

# Guarded: a local Dask cluster starts its workers by re-importing the main
# module, which must not run the command line again.
if __name__ == "__main__":
    main()
