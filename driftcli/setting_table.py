"""Every setting a flag, a DRIFTCLI_* variable or the config file may give, declared once.

Each field of `Values` is one setting's whole declaration: its type (the
annotation, which mypy checks against its parser's), its parser
(config_values.py), its default, the commands that take it and what a
config file driftcli found by itself may do with it. The environment
variable (`DRIFTCLI_<NAME>`), the config key, `--show-config` and the
table in docs/configuration.md are derived from it; `Given` holds what
the user typed, one optional field per setting (tests/test_config.py keeps
the two equal).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Generic, TypeVar

from driftcli import config_values as parse
from driftcli.choices import Correction, JointMethod
from driftcli.settings import (
    DEFAULT_BINS,
    DEFAULT_EVIDENCE,
    DEFAULT_MAX_COLUMNS,
    DEFAULT_MAX_LINE_BYTES,
    DEFAULT_METRIC,
    DEFAULT_QUALITY_POINTS,
    DEFAULT_QUALITY_RATIO,
)

T = TypeVar("T")


class Trust(Enum):
    """What a config file driftcli found by itself (in the working directory, perhaps a
    cloned repository's) may do with a setting; a file named with --config may do all."""

    ANY = "any value"
    LOWER_ONLY = "only lower it"
    """A limit: a found file may tighten it, never loosen it (config_file.py)."""
    LOCAL_ONLY = "not choose Dask"
    """The engine: a cluster starts processes and listens on this machine."""
    NEVER = "not set it"
    """A command to run, a file to write: only the user's."""
    NOT_CONNECTED = "not name one to connect to"
    """A Dask scheduler: its protocol carries pickles and the data (config.py)."""


CHECK, REFERENCE, INGEST, STORE = "check", "reference", "ingest", "status, history"
"""The commands, as the docs' table names them: which take a setting's flag."""


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting's declaration (a field of `Values` carries it)."""

    parse: Callable[[Any], T]
    default: T
    commands: tuple[str, ...]
    trust: Trust = Trust.ANY
    name: str = ""
    """Filled from the field's name by `SETTINGS`."""

    @property
    def env(self) -> str:
        return f"DRIFTCLI_{self.name.upper()}"


def setting(
    parse: Callable[[Any], T],
    default: T,
    *commands: str,
    trust: Trust = Trust.ANY,
) -> T:
    """A field of `Values`: typed as its value, carrying its `Setting`."""
    declared = Setting(parse, default, commands, trust)
    return dataclasses.field(default=default, metadata={"setting": declared})


_CHECKS = (CHECK, INGEST)
_READS = (CHECK, REFERENCE, INGEST)
_COUNTS = (CHECK, REFERENCE)
_MONITORS = (CHECK, INGEST)


@dataclass(frozen=True)
class Values:
    """The effective value of every setting (config.py `resolve`)."""

    threshold: float | None = setting(parse.threshold, None, *_CHECKS)
    """None: each metric's own default threshold."""
    metric: str = setting(parse.metric, DEFAULT_METRIC, CHECK)
    alpha: float | None = setting(parse.p_value, None, CHECK)
    evidence: float = setting(parse.p_value, DEFAULT_EVIDENCE, CHECK)
    correction: Correction = setting(parse.correction, Correction.HOLM, CHECK)  # noqa: RUF009
    bins: int = setting(parse.bins, DEFAULT_BINS, *_COUNTS)
    min_rows: int | None = setting(parse.rows, None, CHECK)
    features: tuple[str, ...] = setting(parse.names, (), *_COUNTS)
    exclude: tuple[str, ...] = setting(parse.names, (), *_COUNTS)
    max_drift_share: float | None = setting(parse.share, None, CHECK)
    fail_on: tuple[str, ...] = setting(parse.names, (), CHECK)
    store: str = setting(parse.text, ".driftcli", *_READS, STORE)
    engine: str = setting(parse.engine, "local", *_COUNTS, trust=Trust.LOCAL_ONLY)
    scheduler: str | None = setting(parse.text, None, *_COUNTS, trust=Trust.NOT_CONNECTED)
    skip_bad_lines: bool = setting(parse.flag, False, *_READS)
    delimiter: str | None = setting(parse.delimiter, None, *_READS)
    decimal: str | None = setting(parse.decimal, None, *_READS)
    max_columns: int = setting(parse.rows, DEFAULT_MAX_COLUMNS, *_READS, trust=Trust.LOWER_ONLY)
    max_line_bytes: int = setting(
        parse.size, DEFAULT_MAX_LINE_BYTES, *_READS, trust=Trust.LOWER_ONLY
    )
    json_path: str | None = setting(parse.text, None, *_READS)
    metrics: str | None = setting(parse.text, None, *_MONITORS, trust=Trust.NEVER)
    on_drift: str | None = setting(parse.text, None, *_MONITORS, trust=Trust.NEVER)
    on_drift_also: tuple[str, ...] = setting(parse.names, (), *_MONITORS)
    hook_timeout: float | None = setting(parse.seconds, None, *_MONITORS)
    slice: str | None = setting(parse.text, None, *_COUNTS)
    """The column whose values are checked apart (docs/slices.md)."""
    max_slices: int | None = setting(parse.rows, None, *_COUNTS)
    joint: bool = setting(parse.flag, False, CHECK)
    """Also test the features' joint distribution (scoring/joint.py)."""
    joint_method: JointMethod = setting(  # noqa: RUF009
        parse.joint_method, JointMethod.QDA, CHECK
    )
    """The joint test's classifier (scoring/joint_models.py)."""
    missing_ratio: float = setting(parse.ratio, DEFAULT_QUALITY_RATIO, CHECK)
    missing_points: float = setting(parse.points, DEFAULT_QUALITY_POINTS, CHECK)
    unseen_ratio: float = setting(parse.ratio, DEFAULT_QUALITY_RATIO, CHECK)
    unseen_points: float = setting(parse.points, DEFAULT_QUALITY_POINTS, CHECK)
    invalid_ratio: float = setting(parse.ratio, DEFAULT_QUALITY_RATIO, CHECK)
    invalid_points: float = setting(parse.points, DEFAULT_QUALITY_POINTS, CHECK)


@dataclass(frozen=True)
class Given:
    """What the user gave on the command line, as the flags typed it; None: not given.

    `resolve` parses each with its setting's parser, as it does a config value."""

    threshold: float | None = None
    metric: str | None = None
    alpha: float | None = None
    evidence: float | None = None
    correction: Correction | str | None = None
    bins: int | None = None
    min_rows: int | None = None
    features: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    max_drift_share: float | None = None
    fail_on: tuple[str, ...] | None = None
    store: str | None = None
    engine: str | None = None
    scheduler: str | None = None
    skip_bad_lines: bool | None = None
    delimiter: str | None = None
    decimal: str | None = None
    max_columns: int | None = None
    max_line_bytes: str | int | None = None
    json_path: str | None = None
    metrics: str | None = None
    on_drift: str | None = None
    on_drift_also: tuple[str, ...] | None = None
    hook_timeout: float | None = None
    slice: str | None = None
    max_slices: int | None = None
    joint: bool | None = None
    joint_method: JointMethod | str | None = None
    missing_ratio: float | None = None
    missing_points: float | None = None
    unseen_ratio: float | None = None
    unseen_points: float | None = None
    invalid_ratio: float | None = None
    invalid_points: float | None = None


SETTINGS: tuple[Setting[Any], ...] = tuple(
    dataclasses.replace(field.metadata["setting"], name=field.name) for field in fields(Values)
)
"""Every setting, in the order `--show-config` and the docs list them."""

BY_NAME: dict[str, Setting[Any]] = {declared.name: declared for declared in SETTINGS}
"""The settings by config key: the keys a config file may hold."""
