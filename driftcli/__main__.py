"""`python -m driftcli` runs the command line."""

from driftcli.cli import main

main()
