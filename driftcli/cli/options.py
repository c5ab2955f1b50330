"""The options several commands share, declared once.

No `from __future__ import annotations` in the cli package: Typer would then
evaluate every option's annotation from its string at each start.
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from driftcli.choices import (
    BUCKET_METRIC_NAMES,
    METRIC_NAMES,
    SAMPLE_METRIC_NAMES,
    InputFormat,
    ListingFormat,
    OutputFormat,
)
from driftcli.output.formats import FORMATS, format_help
from driftcli.settings import MAX_COUNT


def at_most_max_count(value: int | None) -> int | None:
    """The upper bound of every whole-number option (their lower bounds are Typer's `min`):
    past it a count would overflow the 64-bit integers it is counted with."""
    if value is not None and value > MAX_COUNT:
        raise typer.BadParameter(f"{value} is not in the range x<={MAX_COUNT:,} (2**62).")
    return value


StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Store directory (default: .driftcli; or DRIFTCLI_STORE, or store in the config).",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file (default: driftcli.toml, else [tool.driftcli] in pyproject.toml).",
        show_default=False,
    ),
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="Show the traceback of an internal error.")
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help=format_help())]
ListingFormatOption = Annotated[
    ListingFormat,
    typer.Option("--format", "-f", help=format_help(tuple(OutputFormat(f) for f in ListingFormat))),
]


def report_file_option(name: OutputFormat) -> Any:
    """`--json FILE`, `--html FILE`...: a report file, as the format's registration says."""
    found = FORMATS[name]
    return typer.Option(found.file_flag, help=found.file_help, show_default=False)


InputFormatOption = Annotated[
    InputFormat | None,
    typer.Option(
        "--input-format",
        help="Format of the input when neither suffix nor content tells it.",
        show_default=False,
    ),
]
ThresholdOption = Annotated[
    float | None,
    typer.Option(
        help="Drift when the change (the score less its noise at these counts) may be above "
        "this, and chance cannot explain it (default: the metric's own; kl 0.1).",
        min=0.0,
        show_default=False,
    ),
]
METRIC_CHOICES = f"<{'|'.join(METRIC_NAMES)}>"
"""The metrics, as --help lists them (from choices.py: scoring/metrics.py imports numpy)."""
MetricOption = Annotated[
    str | None,
    typer.Option(
        help=f"{BUCKET_METRIC_NAMES[0]} (default), {', '.join(BUCKET_METRIC_NAMES[1:])}; "
        f"on raw numeric samples: {', '.join(SAMPLE_METRIC_NAMES)}.",
        metavar=METRIC_CHOICES,
        show_default=False,
    ),
]
BinsOption = Annotated[
    int | None,
    typer.Option(
        help="Quantile bins per numeric feature, and the cap on categories "
        "(used when a reference is built from data) [default: 20].",
        min=2,
        callback=at_most_max_count,
        show_default=False,
    ),
]
FeaturesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--features",
        help="Only these features (comma-separated or repeated).",
        metavar="NAMES",
        show_default=False,
    ),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude", help="Leave these features out.", metavar="NAMES", show_default=False
    ),
]
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Where to count: local (default) or dask (pip install 'driftcli[dask]').",
        metavar="<local|dask>",
        show_default=False,
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler address (tcp://HOST:8786); without it, a local Dask cluster.",
        show_default=False,
    ),
]
SliceOption = Annotated[
    str | None,
    typer.Option(
        "--slice",
        help="Per slice too: the rows of each of the reference's most frequent values of "
        "COLUMN, the rest together as other (docs/slices.md).",
        metavar="COLUMN",
        show_default=False,
    ),
]
MaxSlicesOption = Annotated[
    int | None,
    typer.Option(
        "--max-slices",
        help="With --slice: how many values are slices of their own [default: 20].",
        metavar="N",
        min=1,
        show_default=False,
    ),
]
SkipBadLinesOption = Annotated[
    bool,
    typer.Option(
        "--skip-bad-lines",
        help="Count and skip malformed lines (and, for ingest, values of the wrong type) "
        "instead of stopping at the first.",
    ),
]
DelimiterOption = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        "-d",
        help="CSV field separator: a character, or comma, tab, semicolon, pipe "
        "(default: sniffed from the first lines).",
        metavar="SEP",
        show_default=False,
    ),
]
DecimalOption = Annotated[
    str | None,
    typer.Option(
        "--decimal",
        help="CSV decimal mark: . or , (default: sniffed from the first lines; a comma "
        "when numbers read 1234,5).",
        metavar="MARK",
        show_default=False,
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print nothing but errors: the exit code tells the result."),
]
MaxLineBytesOption = Annotated[
    str | None,
    typer.Option(
        "--max-line-bytes",
        help="Longest input line read, in bytes or with a unit (64MiB is 64*1024*1024, "
        "64MB 64*1000*1000; at most 1GiB); a longer line is a bad line [default: 64MiB].",
        metavar="SIZE",
        show_default=False,
    ),
]
MaxColumnsOption = Annotated[
    int | None,
    typer.Option(
        "--max-columns",
        help="Most columns an input may have (a CSV header, JSON keys, a Parquet schema); "
        "a wider one is an error [default: 2,000].",
        metavar="N",
        min=1,
        callback=at_most_max_count,
        show_default=False,
    ),
]


def _quality(rule: str, limit: str, what: str) -> Any:
    """A data-quality rule's limit: the rule fails past both its ratio and its points."""
    if limit == "ratio":
        told = f"Fail on {what} at this many times the reference's share, and "
        told += f"--{rule}-points above it [default: 2; inf: never]."
    else:
        told = f"Fail on {what} this many percentage points above the reference's share, "
        told += f"and --{rule}-ratio times it [default: 1; inf: never]."
    low = 1.0 if limit == "ratio" else 0.0
    return typer.Option(f"--{rule}-{limit}", help=told, min=low, show_default=False)


MissingRatioOption = Annotated[float | None, _quality("missing", "ratio", "missing values")]
MissingPointsOption = Annotated[float | None, _quality("missing", "points", "missing values")]
UnseenRatioOption = Annotated[
    float | None, _quality("unseen", "ratio", "values the reference never had")
]
UnseenPointsOption = Annotated[
    float | None, _quality("unseen", "points", "values the reference never had")
]
InvalidRatioOption = Annotated[float | None, _quality("invalid", "ratio", "invalid values")]
InvalidPointsOption = Annotated[float | None, _quality("invalid", "points", "invalid values")]
WindowOption = Annotated[
    str, typer.Option("--window", "-w", help="Name of the live window in the store.")
]


def split_names(values: list[str] | None) -> tuple[str, ...] | None:
    """Repeated and comma-separated names (None if none); `--exclude ""` names the unnamed
    column."""
    names: list[str] = []
    for value in values or []:
        parts = value.split(",") if "," in value else [value]
        names += [part for part in parts if part.strip() or len(parts) == 1]
    return tuple(dict.fromkeys(names)) or None


JsonPathOption = Annotated[
    str | None,
    typer.Option(
        "--json-path",
        help="Read each JSON line's features from the object at these keys "
        "(features, request.features); lines without it are rows without features.",
        metavar="KEYS",
        show_default=False,
    ),
]
MetricsOption = Annotated[
    Path | None,
    typer.Option(
        "--metrics",
        help="Write each check's results to FILE in the Prometheus text format, atomically "
        "(for node_exporter's textfile collector; docs/monitoring.md).",
        metavar="FILE",
        show_default=False,
    ),
]
OnDriftOption = Annotated[
    str | None,
    typer.Option(
        "--on-drift",
        help="Run CMD when a check finds drift: the JSON report on its stdin, "
        "DRIFTCLI_VERDICT, DRIFTCLI_WINDOW, DRIFTCLI_DRIFTED in its environment "
        "(split like a shell line, run without a shell; docs/monitoring.md).",
        metavar="CMD",
        show_default=False,
    ),
]
OnDriftAlsoOption = Annotated[
    list[str] | None,
    typer.Option(
        "--on-drift-also",
        help="Run the --on-drift hook also for these statuses: uncertain.",
        metavar="STATUSES",
        show_default=False,
    ),
]
HookTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--hook-timeout",
        help="Seconds the --on-drift hook may run before it is killed [default: 30].",
        metavar="SECONDS",
        min=0.1,
        show_default=False,
    ),
]
