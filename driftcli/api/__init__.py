"""The library API the CLI and the tests both call: verbs that return dataclasses.

It never prints and never exits. `check("live.parquet", "ref.parquet")`
returns a `CheckResult`, whose `drift` is the verdict behind the exit code;
`build_reference`, `check_window`, `ingest` and `store_status` work with the
on-disk store. This is the one place that wires the stages together.
"""

from driftcli.api.checks import check, check_against, check_inputs, check_window
from driftcli.api.common import Input
from driftcli.api.ingest import IngestHooks, IngestInterrupted, IngestOptions, ingest
from driftcli.api.references import build_reference, load_reference, reference_from_window, restrict
from driftcli.api.status import store_status

__all__ = [
    "IngestHooks",
    "IngestInterrupted",
    "IngestOptions",
    "Input",
    "build_reference",
    "check",
    "check_against",
    "check_inputs",
    "check_window",
    "ingest",
    "load_reference",
    "reference_from_window",
    "restrict",
    "store_status",
]
