"""`check` by chunks of time or rows: the chunking its options ask for, and the reports
of a chunked check (the table is rendered by check.py with the whole check's)."""

from typing import TYPE_CHECKING

from driftcli.cli.runtime import Context

if TYPE_CHECKING:
    from driftcli.results import CheckResult, Timeline
    from driftcli.settings import BySlice, Chunking
    from driftcli.sliced import SlicedCheck


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


def grouping_for(
    context: Context,
    by: str | None,
    every: str | None,
    timezone: str | None,
    chunk_rows: int | None,
    fail_on_any_chunk: bool,
) -> "tuple[Chunking | None, BySlice | None]":
    """The chunks and the slices the options ask for (at most one of them)."""
    chunking = chunking_for(context, by, every, timezone, chunk_rows, fail_on_any_chunk)
    return chunking, slicing_for(context, chunking)


def slicing_for(context: Context, chunking: "Chunking | None") -> "BySlice | None":
    """The slices the options (or DRIFTCLI_SLICE, the config's `slice`) ask for, refused
    with chunks or before a Dask cluster would be started."""
    from driftcli.errors import UsageError
    from driftcli.settings import slicing_of

    resolved = context.resolved
    slicing = slicing_of(resolved.values.slice, resolved.values.max_slices)
    if slicing is not None and chunking is not None:
        raise UsageError(
            "--slice cannot go with chunks (--by, --chunk-rows): a check is sliced or chunked",
            hint="check the slices of each chunk's data apart, or leave out --slice",
        )
    if slicing is not None and (resolved.engine() != "local" or resolved.scheduler()):
        from driftcli.api.references import slices_need_local_engine

        raise slices_need_local_engine()
    return slicing


def warnings_of(result: "CheckResult | Timeline | SlicedCheck") -> list[str]:
    """What stderr says beside the report of a check, a chunked or a sliced check."""
    from driftcli.output.lines import timeline_warnings, warnings
    from driftcli.results import Timeline
    from driftcli.sliced import SlicedCheck

    if isinstance(result, SlicedCheck):
        return warnings(result.whole)
    return timeline_warnings(result) if isinstance(result, Timeline) else warnings(result)
