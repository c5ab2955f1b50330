"""The library API the CLI and the tests both call. Never prints, never exits.

`check("live.parquet", "ref.parquet")` returns a `CheckResult`; its `drift`
is the verdict behind the exit code.
"""

from __future__ import annotations

from dataclasses import dataclass

from driftcli.compare import compare, new_columns
from driftcli.errors import InputError, UsageError
from driftcli.formats import InputFormat
from driftcli.profile import Profile, build_profile, count_batches
from driftcli.readers import STDIN, open_source
from driftcli.results import DEFAULT_SETTINGS, CheckResult, Settings, SourceInfo


@dataclass(frozen=True)
class Reference:
    """A profiled reference and where it came from."""

    profile: Profile
    source: SourceInfo


def build_reference(
    spec: str, settings: Settings = DEFAULT_SETTINGS, input_format: InputFormat | None = None
) -> Reference:
    """Read the reference data and fix every selected feature's buckets."""
    _validate(settings)
    with open_source(spec, input_format) as source:
        profile = build_profile(
            source.batches(),
            bins=settings.bins,
            max_categories=settings.max_categories,
            infer_text=source.format is InputFormat.CSV,
            columns=settings.features or None,
            exclude=settings.exclude,
        )
        info = SourceInfo(source.name, source.format.value, profile.counts.rows)
    if profile.counts.rows == 0:
        raise InputError(f"{info.name}: no data rows in the reference")
    _check_selection(profile, settings, info.name)
    if not profile.features:
        reasons = "; ".join(f"{name}: {why}" for name, why in profile.skipped.items())
        detail = f" ({reasons})" if reasons else ""
        raise InputError(f"{info.name}: no column in the reference can be scored{detail}")
    return Reference(profile, info)


def check(
    live: str,
    ref: str,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    live_format: InputFormat | None = None,
    ref_format: InputFormat | None = None,
) -> CheckResult:
    """Compare live data with reference data, feature by feature."""
    if live == STDIN and ref == STDIN:
        raise UsageError("only one input can come from stdin ('-')")
    reference = build_reference(ref, settings, ref_format)
    return check_against(live, reference, settings, live_format=live_format)


def check_against(
    live: str,
    reference: Reference,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    live_format: InputFormat | None = None,
) -> CheckResult:
    """Compare live data with an already profiled reference."""
    profile = reference.profile
    with open_source(live, live_format) as source:
        counts = count_batches(profile.features, source.batches())
        info = SourceInfo(source.name, source.format.value, counts.rows)
    if counts.rows == 0:
        raise InputError(f"{info.name}: no data rows in the live data")
    return CheckResult(
        features=compare(profile, counts, settings),
        reference=reference.source,
        live=info,
        settings=settings,
        new_columns=new_columns(profile, counts, settings.exclude),
        skipped=dict(profile.skipped),
    )


def _validate(settings: Settings) -> None:
    if settings.bins < 2:
        raise UsageError(f"--bins must be at least 2, not {settings.bins}")
    if settings.max_categories < 1:
        raise UsageError(f"the category cap must be at least 1, not {settings.max_categories}")
    if not settings.threshold > 0:
        raise UsageError(f"--threshold must be above 0, not {settings.threshold}")
    if settings.min_rows is not None and settings.min_rows < 1:
        raise UsageError(f"--min-rows must be at least 1, not {settings.min_rows}")
    overlap = set(settings.features) & set(settings.exclude)
    if overlap:
        raise UsageError(f"{sorted(overlap)[0]!r} is both selected and excluded")


def _check_selection(profile: Profile, settings: Settings, name: str) -> None:
    """Names in --features / --exclude that the reference lacks are usage errors."""
    known = set(profile.counts.columns)
    for option, wanted in (("--features", settings.features), ("--exclude", settings.exclude)):
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise UsageError(
                f"{option}: {unknown[0]!r} is not a column of {name}",
                hint=f"its columns: {', '.join(profile.counts.columns[:12])}",
            )
