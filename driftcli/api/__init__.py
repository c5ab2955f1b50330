"""The library API the CLI and the tests both call: verbs that return dataclasses.

It never prints and never exits. `check("live.parquet", "ref.parquet")`
returns a `CheckResult`, whose `drift` is the verdict behind the exit code;
`check_timeline` cuts the live data into chunks of time or rows and returns
a `Timeline`; `build_reference`, `check_window`, `ingest`, `store_status` and
`read_history` work with the on-disk store. This is the one place that wires
the stages together.
"""

from driftcli.api.checks import check, check_against, check_inputs, check_window
from driftcli.api.common import Input
from driftcli.api.history import keep_history, read_history, record_check
from driftcli.api.ingest import (
    IngestFailed,
    IngestHooks,
    IngestInterrupted,
    IngestOptions,
    ingest,
)
from driftcli.api.references import build_reference, load_reference, reference_from_window, restrict
from driftcli.api.slices import check_slices, check_slices_of, holds_slices
from driftcli.api.status import store_status
from driftcli.api.timeline import check_timeline, check_timeline_of

__all__ = [
    "IngestFailed",
    "IngestHooks",
    "IngestInterrupted",
    "IngestOptions",
    "Input",
    "build_reference",
    "check",
    "check_against",
    "check_inputs",
    "check_slices",
    "check_slices_of",
    "check_timeline",
    "check_timeline_of",
    "check_window",
    "holds_slices",
    "ingest",
    "keep_history",
    "load_reference",
    "read_history",
    "record_check",
    "reference_from_window",
    "restrict",
    "store_status",
]
