"""`check` by chunks of time or rows: the chunking its options ask for, and the reports
of a chunked check (the table is rendered by check.py with the whole check's)."""

from typing import TYPE_CHECKING

from driftcli.cli.runtime import Context

if TYPE_CHECKING:
    from driftcli.results import CheckResult, Timeline
    from driftcli.settings import Chunking


def chunking_for(
    context: Context,
    by: str | None,
    every: str | None,
    timezone: str | None,
    chunk_rows: int | None,
    fail_on_any_chunk: bool,
) -> "Chunking | None":
    """The chunks the options ask for, refused before a Dask cluster would be started."""
    from driftcli.errors import UsageError
    from driftcli.settings import ByRows, chunking_of

    chunking = chunking_of(by, every, timezone, chunk_rows)
    if fail_on_any_chunk and chunking is None:
        raise UsageError(
            "--fail-on-any-chunk needs chunks: --by COLUMN --every 1d, or --chunk-rows N"
        )
    resolved = context.resolved
    if isinstance(chunking, ByRows) and (resolved.engine() != "local" or resolved.scheduler()):
        from driftcli.api.timeline import rows_need_one_reader

        raise rows_need_one_reader()
    return chunking


def warnings_of(result: "CheckResult | Timeline") -> list[str]:
    """What stderr says beside the report of a check or a chunked check."""
    from driftcli.output.lines import timeline_warnings, warnings
    from driftcli.results import Timeline

    return timeline_warnings(result) if isinstance(result, Timeline) else warnings(result)
