"""`driftcli reference`: build the reference snapshot from data, or promote a window."""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from driftcli.choices import InputFormat, ListingFormat
from driftcli.cli.app import app
from driftcli.cli.options import (
    BinsOption,
    ConfigOption,
    DebugOption,
    DecimalOption,
    DelimiterOption,
    EngineOption,
    ExcludeOption,
    FeaturesOption,
    InputFormatOption,
    JsonPathOption,
    ListingFormatOption,
    MaxColumnsOption,
    MaxLineBytesOption,
    MaxSlicesOption,
    QuietOption,
    SchedulerOption,
    SkipBadLinesOption,
    SliceOption,
    StoreOption,
    at_most_max_count,
    split_names,
)
from driftcli.cli.reports import write_listing
from driftcli.cli.runtime import Context, fail, prepare, warn
from driftcli.errors import UsageError
from driftcli.setting_table import Given

if TYPE_CHECKING:
    from driftcli.store.snapshot import Snapshot


@app.command(short_help="Build the reference snapshot from data, or promote a window.")
def reference(
    data: Annotated[
        str | None,
        typer.Argument(
            help="Reference data: a CSV, Parquet or JSON-lines file, or - for stdin.",
            metavar="DATA",
            show_default=False,
        ),
    ] = None,
    from_window: Annotated[
        str | None,
        typer.Option(
            "--from-window",
            help="Promote this live window to be the new reference, instead of DATA.",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the snapshot to this file instead of the store (usable as --ref).",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
    bins: BinsOption = None,
    features: FeaturesOption = None,
    exclude: ExcludeOption = None,
    skip_bad_lines: SkipBadLinesOption = False,
    delimiter: DelimiterOption = None,
    decimal: DecimalOption = None,
    max_line_bytes: MaxLineBytesOption = None,
    max_columns: MaxColumnsOption = None,
    slice_column: SliceOption = None,
    max_slices: MaxSlicesOption = None,
    config: ConfigOption = None,
    sample_size: Annotated[
        int,
        typer.Option(
            help="Raw rows kept in the snapshot as a uniform sample.",
            min=0,
            callback=at_most_max_count,
        ),
    ] = 10_000,
    sample_all_columns: Annotated[
        bool,
        typer.Option(
            "--sample-all-columns",
            help="Keep every column in the snapshot's sample rows; by default only the "
            "features' (identifiers and other columns not scored are left out).",
        ),
    ] = False,
    input_format: InputFormatOption = None,
    json_path: JsonPathOption = None,
    output_format: ListingFormatOption = ListingFormat.TABLE,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Build the reference snapshot from DATA (or promote a window) and store it."""
    if (data is None) == (from_window is None):
        fail("give either DATA or --from-window NAME", "driftcli reference DATA")
    given = Given(
        bins=bins,
        features=split_names(features),
        exclude=split_names(exclude),
        store=str(store) if store else None,
        engine=engine,
        scheduler=scheduler,
        skip_bad_lines=skip_bad_lines or None,
        delimiter=delimiter,
        decimal=decimal,
        max_line_bytes=max_line_bytes,
        max_columns=max_columns,
        json_path=json_path,
        slice=slice_column,
        max_slices=max_slices,
    )
    context = prepare(given, config, debug)

    def run() -> "tuple[Snapshot, str]":
        from driftcli.store.snapshot import export_snapshot

        sample = _Sample(sample_size, sample_all_columns)
        snapshot = _build(context, data, from_window, sample, input_format)
        if output is not None:
            export_snapshot(snapshot, output)
            return snapshot, str(output)
        home = context.store(create=True)
        home.save_reference(snapshot)
        return snapshot, str(home.reference_path)

    snapshot, where = context.run(run)
    if snapshot.source.skipped_lines and not quiet:
        from driftcli.output.lines import skipped_note

        warn(skipped_note(snapshot.source))
    if quiet:
        return

    context.run(
        lambda: write_listing(output_format, lambda listing: listing.reference(snapshot, where))
    )


def _build(
    context: Context,
    data: str | None,
    from_window: str | None,
    sample: "_Sample",
    input_format: InputFormat | None,
) -> "Snapshot":
    """The snapshot: promoted from a window, or built from DATA."""
    from driftcli import api
    from driftcli.grouping import slicing_of

    values = context.resolved.values
    slicing = slicing_of(values.slice, values.max_slices)
    if from_window is not None:
        store = context.store(create=False)
        return api.reference_from_window(
            store,
            from_window,
            context.settings,
            sample_rows=sample.rows,
            sample_all_columns=sample.all_columns,
            slicing=slicing,
        )
    if data is None:
        raise UsageError("give either DATA or --from-window NAME")
    with context.engine() as counting:
        return api.build_reference(
            data,
            context.settings,
            input_format,
            sample_rows=sample.rows,
            sample_all_columns=sample.all_columns,
            engine=counting,
            slicing=slicing,
        )


@dataclass(frozen=True)
class _Sample:
    """What the snapshot keeps of the raw rows: how many, and whether every column."""

    rows: int
    all_columns: bool
