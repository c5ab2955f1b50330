"""The settings of a check, their defaults, and the rules they must obey.

`config.py` merges flags, environment and config file into a `Settings`;
every stage reads its part of it. No numpy here: the CLI builds settings
before it imports the heavy stages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from driftcli.choices import Correction, Kind
from driftcli.errors import UsageError

DEFAULT_BINS = 20
DEFAULT_MAX_CATEGORIES = 20
DEFAULT_METRIC = "kl"
DEFAULT_SMOOTHING = 0.5
"""Jeffreys prior: half a count added to every bucket, so no probability is zero."""
DEFAULT_MAX_LINE_BYTES = 64 << 20
"""The longest line (CSV record, JSON line) read: memory stays within the chunk
size plus this, whatever the input holds (docs/limits.md)."""
DEFAULT_EVIDENCE = 0.005
"""A feature drifts only if its p-value is below this: chance alone then flags
fewer than one feature in 200 whose distribution did not change."""


def size_text(size: int) -> str:
    """`64 MiB`, `1,000 bytes`: a size as people read it."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor:,} {unit}"
    return f"{size:,} bytes"


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
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    """A longer input line is a bad line (an error, or skipped with `skip_bad_lines`)."""

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
        raise UsageError(f"--bins must be at least 2, not {settings.bins}")
    if settings.max_categories < 1:
        raise UsageError(f"the category cap must be at least 1, not {settings.max_categories}")
    thresholds = [("--threshold", settings.threshold)] + [
        (f"features.{n}.threshold", o.threshold) for n, o in settings.overrides
    ]
    for option, value in thresholds:
        if value is not None and not (value >= 0 and math.isfinite(value)):
            raise UsageError(f"{option} must be a number of at least 0, not {value}")
    if not 0 < settings.evidence < 1:
        raise UsageError(f"--evidence must be between 0 and 1, not {settings.evidence}")
    for option, metric in [("--metric", settings.metric)] + [
        (f"features.{n}.metric", o.metric) for n, o in settings.overrides if o.metric
    ]:
        if metric not in metrics:
            raise UsageError(
                f"{option}: unknown metric {metric!r}", hint=f"choose one of {', '.join(metrics)}"
            )
    if settings.alpha is not None and not 0 < settings.alpha < 1:
        raise UsageError(f"--alpha must be between 0 and 1, not {settings.alpha}")
    share = settings.max_drift_share
    if share is not None and not 0 <= share < 1:
        raise UsageError(f"--max-drift-share must be at least 0 and below 1, not {share}")
    if settings.min_rows is not None and settings.min_rows < 1:
        raise UsageError(f"--min-rows must be at least 1, not {settings.min_rows}")
    for feature_name, override in settings.overrides:
        if override.bins is not None and override.bins < 2:
            raise UsageError(
                f"features.{feature_name}.bins must be at least 2, not {override.bins}"
            )
    if settings.max_line_bytes < 1:
        raise UsageError(f"--max-line-bytes must be at least 1, not {settings.max_line_bytes}")
    overlap = set(settings.features) & set(settings.exclude)
    if overlap:
        raise UsageError(f"{sorted(overlap)[0]!r} is both selected and excluded")
