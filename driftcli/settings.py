"""The settings of a check, their defaults, and the rules they must obey.

`config.py` merges flags, environment and config file into a `Settings`;
every stage reads its part of it. No numpy here: the CLI builds settings
before it imports the heavy stages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from driftcli import grouping
from driftcli.choices import Correction, JointMethod, Kind
from driftcli.errors import UsageError, did_you_mean, option

DEFAULT_BINS = 20
DEFAULT_MAX_CATEGORIES = 20
DEFAULT_METRIC = "kl"
DEFAULT_SMOOTHING = 0.5
"""Jeffreys prior: half a count added to every bucket, so no probability is zero."""
DEFAULT_MAX_LINE_BYTES = 64 << 20
"""The longest line (CSV record, JSON line) read; a longer one is a bad line,
never held whole (docs/limits.md says what an accepted one costs)."""
MAX_LINE_BYTES = 1 << 30
"""The highest line limit: Arrow parses a run of lines in one block of at most
2**31 - 1 bytes (its block size and string offsets are 32-bit), and a run holds
the longest line and the lines around it, up to a run's size."""
DEFAULT_MAX_COLUMNS = 2_000
"""The most columns an input may have: each costs memory at every stage (Arrow's
parser, the counts, the reference's held values), some 0.4 MB in all, so a wider
input is an error rather than past 1 GiB (docs/limits.md says what it costs)."""
MAX_COUNT = 1 << 62
"""The largest count a setting takes (rows, bins): the store's bound on counts too
(store/codec.py), well within the 64-bit integers numpy and Arrow count with."""
MAX_HOOK_SECONDS = 86_400.0
"""The longest --hook-timeout, a day: past it a hook is surely hung, and the wait for it
must stay a time the system can count (not infinity)."""
DEFAULT_EVIDENCE = 0.005
"""A feature drifts only if its p-value is below this: chance alone then flags
fewer than one feature in 200 whose distribution did not change."""
QUALITY_RULES = ("missing", "unseen", "invalid")
"""The data-quality rules (findings.QualityRule), in the order outputs list them."""
QUALITY_KEYS = tuple(f"{rule}_{limit}" for rule in QUALITY_RULES for limit in ("ratio", "points"))
"""Each rule's limits, as settings, config keys and (with dashes) flags."""
DEFAULT_QUALITY_RATIO = 2.0
"""A data-quality rule fails when the live share is at least this many times the
reference's (and `DEFAULT_QUALITY_POINTS` above it): the share doubled."""
DEFAULT_QUALITY_POINTS = 1.0
"""... and at least this many percentage points above it: one row in a hundred more."""
QUALITY_DEFAULTS = {
    key: DEFAULT_QUALITY_RATIO if key.endswith("_ratio") else DEFAULT_QUALITY_POINTS
    for key in QUALITY_KEYS
}


# The groupings a check may cut its live rows by live in `grouping/`, a module per rule;
# named here too for a library caller, who finds every setting here (docs/timeline.md).
# The package imports them from `grouping/`.
ByRows = grouping.ByRows
BySlice = grouping.BySlice
ByTime = grouping.ByTime
Chunking = grouping.Chunking
Every = grouping.Every
chunking_of = grouping.chunking_of
parse_every = grouping.parse_every
validate_timezone = grouping.validate_timezone


def size_text(size: int) -> str:
    """`64 MiB`, `64 MB`, `1,001 bytes`: a size as people read it."""
    units = (("GiB", 1 << 30), ("GB", 10**9), ("MiB", 1 << 20), ("MB", 10**6))
    for unit, factor in (*units, ("KiB", 1 << 10), ("kB", 1000)):
        if size >= factor and size % factor == 0:
            return f"{size // factor:,} {unit}"
    return f"{size:,} bytes"


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)
_UNITS = {
    "": 1, "b": 1,
    **{p: 1 << (10 * i) for i, p in enumerate("kmgtpe", 1)},  # 64M: binary, as dd reads it
    **{f"{p}ib": 1 << (10 * i) for i, p in enumerate("kmgtpe", 1)},
    **{f"{p}b": 10 ** (3 * i) for i, p in enumerate("kmgtpe", 1)},
}  # fmt: skip
SIZE_UNITS = "kB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)"


class SizeError(ValueError):
    """A size that is not one, with what it should be."""


def parse_size(value: str | int) -> int:
    """A line limit in bytes, from a whole number or text with a unit.

    `64MB` is 64,000,000 bytes and `64MiB` 67,108,864: decimal units are
    powers of 1000, binary ones of 1024 (a bare `64M` too, as dd reads it).
    """
    if isinstance(value, str):
        match = _SIZE.fullmatch(value)
        if match is None:
            raise SizeError("a size in bytes of at least 1, such as 67108864 or 64MiB")
        number, unit = match.groups()
        factor = _UNITS.get(unit.lower())
        if factor is None:
            raise SizeError(f"a size with a known unit: {SIZE_UNITS}")
        exact = Fraction(number) * factor
        if exact.denominator != 1:
            raise SizeError("a whole number of bytes")
        value = int(exact)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SizeError("a size in bytes of at least 1, such as 67108864 or 64MiB")
    if value > MAX_LINE_BYTES:
        raise SizeError(f"a size of at most {size_text(MAX_LINE_BYTES)}, the highest line limit")
    return value


def name_key(name: str) -> str:
    """How a column name given on the command line is matched: surrounding spaces ignored."""
    return name.strip()


@dataclass(frozen=True)
class FeatureSettings:
    """Per-feature overrides from the config file; None keeps the global setting."""

    threshold: float | None = None
    metric: str | None = None
    kind: Kind | None = None
    bins: int | None = None
    exclude: bool = False
    missing_ratio: float | None = None
    missing_points: float | None = None
    unseen_ratio: float | None = None
    unseen_points: float | None = None
    invalid_ratio: float | None = None
    invalid_points: float | None = None


@dataclass(frozen=True)
class Settings:
    """The settings a check ran with; reported beside its results."""

    threshold: float | None = None
    """None: each metric's own default threshold."""
    bins: int = DEFAULT_BINS
    max_categories: int = DEFAULT_MAX_CATEGORIES
    min_rows: int | None = None
    """Fixed minimum live rows for a verdict; None: any window that could give evidence."""
    evidence: float = DEFAULT_EVIDENCE
    """A drift needs a p-value below this (without --alpha)."""
    smoothing: float = DEFAULT_SMOOTHING
    features: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    metric: str = DEFAULT_METRIC
    alpha: float | None = None
    """Evidence across features instead: adjusted p-value at or below alpha."""
    correction: Correction = Correction.HOLM
    max_drift_share: float | None = None
    """Fail only when more than this share of the scored features drift."""
    fail_on: tuple[str, ...] = ()
    """Features whose drift always fails the check."""
    overrides: tuple[tuple[str, FeatureSettings], ...] = ()
    skip_bad_lines: bool = False
    """Count and skip malformed input lines instead of stopping at the first."""
    delimiter: str | None = None
    """The CSV field separator; None: each CSV input's is sniffed (`,` `;` tab `|`)."""
    decimal: str | None = None
    """The CSV decimal mark, `.` or `,`; None: each CSV input's is sniffed."""
    max_columns: int = DEFAULT_MAX_COLUMNS
    """An input with more columns (a CSV header, JSON keys, a Parquet schema) is refused."""
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    """A longer input line is a bad line (an error, or skipped with `skip_bad_lines`)."""
    joint: bool = False
    """Also test the scored features' joint distribution (scoring/joint.py)."""
    joint_method: JointMethod = JointMethod.QDA
    """The joint test's classifier; `boosting` needs the `driftcli[joint]` extra."""
    json_path: str | None = None
    """Read each JSON line's features from the object at these dotted keys (`--json-path`)."""
    missing_ratio: float = DEFAULT_QUALITY_RATIO
    missing_points: float = DEFAULT_QUALITY_POINTS
    unseen_ratio: float = DEFAULT_QUALITY_RATIO
    unseen_points: float = DEFAULT_QUALITY_POINTS
    invalid_ratio: float = DEFAULT_QUALITY_RATIO
    invalid_points: float = DEFAULT_QUALITY_POINTS

    def quality_limits(self, rule: str, feature: str) -> tuple[float, float]:
        """A data-quality rule's (ratio, points) for a feature: its own, else the check's."""
        override = self.for_feature(feature)
        ratio = getattr(override, f"{rule}_ratio")
        points = getattr(override, f"{rule}_points")
        return (
            getattr(self, f"{rule}_ratio") if ratio is None else ratio,
            getattr(self, f"{rule}_points") if points is None else points,
        )

    def for_feature(self, name: str) -> FeatureSettings:
        for key, value in self.overrides:
            if key == name:
                return value
        return FeatureSettings()

    def excluded(self) -> tuple[str, ...]:
        """--exclude plus the features the config excludes."""
        return self.exclude + tuple(name for name, o in self.overrides if o.exclude)


DEFAULT_SETTINGS = Settings()


def validate(settings: Settings, metrics: tuple[str, ...]) -> None:
    """Raise `UsageError` for settings no check can honour; `metrics`: the known names."""
    if settings.bins < 2:
        raise UsageError(f"{option('bins')} must be at least 2, not {settings.bins}")
    if settings.max_categories < 1:
        raise UsageError(f"the category cap must be at least 1, not {settings.max_categories}")
    thresholds = [(option("threshold"), settings.threshold)] + [
        (f"features.{n}.threshold", o.threshold) for n, o in settings.overrides
    ]
    for named, value in thresholds:
        if value is not None and not (value >= 0 and math.isfinite(value)):
            raise UsageError(f"{named} must be a number of at least 0, not {value}")
    _validate_quality(settings)
    if not 0 < settings.evidence < 1:
        raise UsageError(f"{option('evidence')} must be between 0 and 1, not {settings.evidence}")
    for named, metric in [(option("metric"), settings.metric)] + [
        (f"features.{n}.metric", o.metric) for n, o in settings.overrides if o.metric
    ]:
        if metric not in metrics:
            raise UsageError(
                f"{named}: unknown metric {metric!r}", hint=did_you_mean(metric, metrics)
            )
    if settings.alpha is not None and not 0 < settings.alpha < 1:
        raise UsageError(f"{option('alpha')} must be between 0 and 1, not {settings.alpha}")
    share = settings.max_drift_share
    if share is not None and not 0 <= share < 1:
        raise UsageError(f"{option('max_drift_share')} must be at least 0 and below 1, not {share}")
    if settings.min_rows is not None and settings.min_rows < 1:
        raise UsageError(f"{option('min_rows')} must be at least 1, not {settings.min_rows}")
    for feature_name, override in settings.overrides:
        if override.bins is not None and override.bins < 2:
            raise UsageError(
                f"features.{feature_name}.bins must be at least 2, not {override.bins}"
            )
    if settings.delimiter is not None and (
        len(settings.delimiter) != 1 or settings.delimiter in '"\r\n'
    ):
        raise UsageError(
            f"{option('delimiter')} must be one character other than a quote or a newline, "
            f"not {settings.delimiter!r}"
        )
    if settings.decimal not in (None, ".", ","):
        raise UsageError(f"{option('decimal')} must be . or , not {settings.decimal!r}")
    if not 1 <= settings.max_line_bytes <= MAX_LINE_BYTES:
        raise UsageError(
            f"{option('max_line_bytes')} must be from 1 byte to {size_text(MAX_LINE_BYTES)}, "
            f"not {settings.max_line_bytes:,}"
        )
    if not 1 <= settings.max_columns <= MAX_COUNT:
        raise UsageError(
            f"{option('max_columns')} must be at least 1, not {settings.max_columns:,}"
        )
    overlap = set(settings.features) & set(settings.exclude)
    if overlap:
        raise UsageError(f"{sorted(overlap)[0]!r} is both selected and excluded")


def _validate_quality(settings: Settings) -> None:
    """A ratio of at least 1 and points of at least 0 (inf turns a rule off)."""
    sources = [("", settings)] + [(f"features.{n}.", o) for n, o in settings.overrides]
    for prefix, source in sources:
        for rule in QUALITY_RULES:
            for limit, low in (("ratio", 1.0), ("points", 0.0)):
                value = getattr(source, f"{rule}_{limit}")
                if value is None or value >= low:  # inf is a rule turned off
                    continue
                name = f"{prefix}{rule}_{limit}" if prefix else option(f"{rule}_{limit}")
                raise UsageError(
                    f"{name} must be a number of at least {low:g}, not {value}",
                    hint="inf turns the rule off",
                )
