"""`driftcli status`: what the store holds."""

from driftcli.choices import ListingFormat
from driftcli.cli.app import app
from driftcli.cli.options import (
    ConfigOption,
    DebugOption,
    ListingFormatOption,
    QuietOption,
    StoreOption,
)
from driftcli.cli.reports import write_listing
from driftcli.cli.runtime import prepare
from driftcli.setting_table import Given


@app.command(short_help="Show the store: reference, windows, their sizes.")
def status(
    store: StoreOption = None,
    output_format: ListingFormatOption = ListingFormat.TABLE,
    quiet: QuietOption = False,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Show what the store holds: the reference, the windows, their rows and time spans.

    With --quiet, only whether the store can be read: exit 0, or 2 and the error.
    """
    from driftcli.api import store_status

    context = prepare(Given(store=str(store) if store else None), config, debug)
    state = context.run(lambda: store_status(context.store(create=False, quiet=quiet)))
    if quiet:
        return
    context.run(lambda: write_listing(output_format, lambda listing: listing.status(state)))
