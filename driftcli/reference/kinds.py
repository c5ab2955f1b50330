"""Which reference columns become features, of what kind, and why others do not.

The one place that decides it: the one-pass builder on this machine
(builder.py) and the mergeable summaries an engine builds in parts
(summary.py) both ask these functions, so the same data gives the same
features, kinds and reasons on either engine. A kind is decided from the
first batch in which the column has values (both builders see the same
batches: the same single-file readers cut them).
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from driftcli.choices import Kind
from driftcli.columns.times import ISO_TIME
from driftcli.columns.values import PARTITION_KEY, UNTYPED_KEY, TypeClass, share_numeric, type_class
from driftcli.errors import option
from driftcli.results import NUMBER_TEXT
from driftcli.settings import DEFAULT_BINS, DEFAULT_MAX_CATEGORIES, Settings, name_key

TEXT_NUMERIC_SHARE = 0.99
"""Text of unknown type (CSV) is numeric when at least this share of its first values
read as numbers."""
ID_MIN_ROWS = 100
ID_DISTINCT_SHARE = 0.9
"""A categorical column with this share of distinct values is taken for an identifier."""

UNNAMED = f"an unnamed column (a saved row index?); name it in {option('features')}"
PARTITION = f"a hive partition directory; name it in {option('features')} to score it"
NO_VALUES = "no values in the reference"
IDENTIFIER = f"nearly every value is distinct, like an identifier; {option('exclude')} it"

LOOKED_AT = 1000
"""How many distinct labels of an identifier-like column are read to tell what it holds."""
BY_TIME = f"the time column, used by {option('by')}"
"""Why the --by column of a chunked check is not a feature."""


def time_reason(name: str) -> str:
    """Why a column of times is not a feature, and how to check over time with it."""
    return f"a time; to check over time: {option('by')} {shlex.quote(name)} {option('every')} 1d"


_NUMBER_LIKE = re.compile(r"[+-]?[$€£¥]?\s?\d[\d.,'\s]*%?")
"""A number as people write it, separators and a unit sign or two included."""

_UNNAMED_NAME = re.compile(r"\s*|Unnamed: \d+")
"""Names pandas gives an index column saved without a name."""


@dataclass(frozen=True)
class Selection:
    """Which columns of the reference to take, and how: from --features, --exclude,
    --bins and the config's per-feature sections. Names match by `name_key`."""

    columns: frozenset[str] | None = None
    """Only these (None: every column)."""
    exclude: frozenset[str] = frozenset()
    kinds: Mapping[str, Kind] = field(default_factory=dict)
    """Kinds the config forces, by exact name."""
    bins: int = DEFAULT_BINS
    max_categories: int = DEFAULT_MAX_CATEGORIES
    own_bins: Mapping[str, int] = field(default_factory=dict)
    """Bins (and category cap) of the columns the config names."""

    @classmethod
    def of(cls, settings: Settings) -> Selection:
        overrides = dict(settings.overrides)
        return cls(
            columns=frozenset(name_key(c) for c in settings.features) or None,
            exclude=frozenset(name_key(c) for c in settings.excluded()),
            kinds={n: o.kind for n, o in overrides.items() if o.kind is not None},
            bins=settings.bins,
            max_categories=settings.max_categories,
            own_bins={name_key(n): o.bins for n, o in overrides.items() if o.bins is not None},
        )

    def wants(self, name: str) -> bool:
        key = name_key(name)
        return key not in self.exclude and (self.columns is None or key in self.columns)

    def chosen(self, name: str) -> bool:
        """Named by the user: taken even if its name or origin would leave it out."""
        return self.columns is not None and name_key(name) in self.columns

    def kind_of(self, name: str) -> Kind | None:
        return self.kinds.get(name)

    def bins_of(self, name: str) -> int:
        return self.own_bins.get(name_key(name), self.bins)

    def categories_of(self, name: str) -> int:
        return self.own_bins.get(name_key(name), self.max_categories)


def skipped_by_name(name: str, field: pa.Field, chosen: bool) -> str | None:
    """Why a column is left out before any of its values is read; None to read it.

    An unnamed column (a pandas row index) and a hive partition directory are
    left out unless the user named them (`chosen`).
    """
    if chosen:
        return None
    if _UNNAMED_NAME.fullmatch(name):
        return UNNAMED
    if is_partition(field):
        return PARTITION
    return None


def is_partition(field: pa.Field) -> bool:
    return bool(field.metadata and PARTITION_KEY in field.metadata)


def is_untyped(field: pa.Field) -> bool:
    """Text whose type the reader could not know (CSV, JSON lines that disagree)."""
    return bool(field.metadata and UNTYPED_KEY in field.metadata)


@dataclass(frozen=True)
class FirstValues:
    """What a kind is decided on: the column in the first batch where it has values."""

    family: TypeClass
    untyped: bool
    numeric_share: float
    """The share of its present values that read as numbers (1.0 unless untyped text)."""
    arrow_type: str
    time: bool = False
    """Timestamps or dates (an Arrow type of times; times in text are told by their values)."""

    @classmethod
    def of(cls, column: pa.Array | pa.ChunkedArray, untyped: bool) -> FirstValues:
        family = type_class(column.type)
        share = share_numeric(column) if untyped and family is TypeClass.TEXT else 1.0
        kind = column.type
        time = pa.types.is_timestamp(kind) or pa.types.is_date(kind)
        return cls(family, untyped, share, str(kind), time)

    @property
    def source_type(self) -> TypeClass:
        """What the feature remembers it arrived as (a later type change is drift)."""
        return self.family | (TypeClass.UNTYPED if self.untyped else TypeClass.NONE)


@dataclass(frozen=True)
class Unsupported:
    """A column whose values no kind can read (nested, times...)."""

    reason: str
    time: bool = False
    """A column of times: said so, with how to check over time instead."""

    def why(self, name: str) -> str:
        """The reason column `name` is not scored."""
        return time_reason(name) if self.time else self.reason


def decide_kind(first: FirstValues, forced: Kind | None) -> Kind | Unsupported:
    """The feature's kind, or why the column cannot be scored.

    A kind the config forces applies where the values can be read so (any
    plain type as categories; numbers and text as numbers). Otherwise
    numbers are numeric, text categorical (numeric when untyped and nearly
    all of it reads as numbers), booleans categorical.
    """
    family = first.family
    if forced is Kind.CATEGORICAL and family is not TypeClass.OTHER:
        return Kind.CATEGORICAL
    if forced is Kind.NUMERIC and family in (TypeClass.NUMBER, TypeClass.TEXT):
        return Kind.NUMERIC
    if family is TypeClass.NUMBER:
        return Kind.NUMERIC
    if family is TypeClass.TEXT:
        numeric = first.untyped and first.numeric_share >= TEXT_NUMERIC_SHARE
        return Kind.NUMERIC if numeric else Kind.CATEGORICAL
    if family is TypeClass.BOOL:
        return Kind.CATEGORICAL
    return Unsupported(f"unsupported type {first.arrow_type}", time=first.time)


def skipped_by_values(
    kind: Kind, numbers: int, labels: dict[str, int], name: str = ""
) -> str | None:
    """Why column `name`, read whole, cannot be scored; None if it can.

    `numbers`: a numeric column's present values; `labels`: a categorical
    column's label counts. A column of nearly all distinct labels is not a
    feature: said to be times, or numbers driftcli cannot read, when its
    labels look so, else an identifier.
    """
    if kind is Kind.NUMERIC:
        return None if numbers else NO_VALUES
    present = sum(labels.values())
    if present >= ID_MIN_ROWS and len(labels) >= ID_DISTINCT_SHARE * present:
        if _mostly(ISO_TIME, labels):
            return time_reason(name)
        return NUMBER_TEXT if _mostly(_NUMBER_LIKE, labels) else IDENTIFIER
    return None


def _mostly(pattern: re.Pattern[str], labels: Iterable[str]) -> bool:
    """Do nearly all of the first labels match `pattern`?"""
    first = list(itertools.islice(labels, LOOKED_AT))
    matching = sum(1 for label in first if pattern.fullmatch(label.strip()))
    return bool(first) and matching >= TEXT_NUMERIC_SHARE * len(first)
