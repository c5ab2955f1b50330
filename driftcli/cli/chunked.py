"""`check` by chunks of time or rows, or by slices: the grouping its options ask for,
refused before a Dask cluster would be started when the grouping cannot run on it."""

from typing import TYPE_CHECKING

from driftcli.cli.runtime import Context

if TYPE_CHECKING:
    from driftcli.choices import EngineName
    from driftcli.grouping import BySlice, Chunking


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
    from driftcli.grouping import chunking_of

    chunking = chunking_of(by, every, timezone, chunk_rows)
    if fail_on_any_chunk and chunking is None:
        raise UsageError(
            "--fail-on-any-chunk needs chunks: --by COLUMN --every 1d, or --chunk-rows N"
        )
    refused = chunking.refusal(_engine(context)) if chunking is not None else None
    if refused is not None:
        raise refused
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
    from driftcli.grouping import slicing_of

    resolved = context.resolved
    slicing = slicing_of(resolved.values.slice, resolved.values.max_slices)
    if slicing is not None and chunking is not None:
        raise UsageError(
            "--slice cannot go with chunks (--by, --chunk-rows): a check is sliced or chunked",
            hint="check the slices of each chunk's data apart, or leave out --slice",
        )
    refused = slicing.refusal(_engine(context)) if slicing is not None else None
    if refused is not None:
        raise refused
    return slicing


def _engine(context: Context) -> "EngineName":
    """The engine the check will count on: Dask when a scheduler is named."""
    from driftcli.choices import EngineName

    resolved = context.resolved
    if resolved.scheduler():
        return EngineName.DASK
    return EngineName(resolved.engine())
