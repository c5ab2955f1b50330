"""`driftcli history`: the store's record of checks, per feature, over time."""

from typing import Annotated

import typer

from driftcli.choices import ListingFormat
from driftcli.cli.app import app
from driftcli.cli.options import (
    ConfigOption,
    DebugOption,
    FeaturesOption,
    ListingFormatOption,
    QuietOption,
    StoreOption,
    at_most_max_count,
    split_names,
)
from driftcli.cli.reports import write_listing
from driftcli.cli.runtime import note, prepare
from driftcli.setting_table import Given


@app.command(short_help="Show the store's record of checks, per feature, over time.")
def history(
    window: Annotated[
        str | None,
        typer.Option("--window", "-w", help="Only the checks of this window.", show_default=False),
    ] = None,
    features: FeaturesOption = None,
    feature: Annotated[
        list[str] | None,
        typer.Option("--feature", hidden=True, help="The old name of --features."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only the checks since this time (2026-03-01, 2026-03-01T12:00+01:00; UTC "
            "without an offset) or this long ago (12h, 7d, 2w).",
            metavar="TIME",
            show_default=False,
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(
            help="From now on keep only the last N checks (default 1,000; 0 records none), "
            "and drop older ones now.",
            min=0,
            callback=at_most_max_count,
            metavar="N",
            show_default=False,
        ),
    ] = None,
    output_format: ListingFormatOption = ListingFormat.TABLE,
    store: StoreOption = None,
    quiet: QuietOption = False,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Show every recorded check of the store's windows: per feature, its score over the
    checks (a sparkline), its latest status, and when it last drifted.

    Each driftcli check of a stored window, and each ingest --check-every check, is
    recorded (the last 1,000 by default; see --keep). With --quiet, nothing is printed
    but errors (for --keep in a script).
    """
    from driftcli import api

    context = prepare(Given(store=str(store) if store else None), config, debug)
    home = context.run(lambda: context.store(create=False, quiet=quiet))
    if keep is not None:
        dropped = context.run(lambda: api.keep_history(home, keep))
        if not quiet:
            note(f"the history keeps the last {keep:,} checks; {dropped:,} older ones dropped")
    names = split_names([*(features or []), *(feature or [])]) or ()
    found = context.run(lambda: api.read_history(home, window=window, features=names, since=since))
    if quiet:
        return
    context.run(lambda: write_listing(output_format, lambda listing: listing.history(found)))
