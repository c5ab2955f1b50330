"""Mergeable summaries of reference fragments, for engines that count in parts.

On one machine the reference is profiled in one exact pass (reference/builder.py). An
engine that reads a dataset's files on many workers instead builds the
reference in two passes:

1. each worker summarises its files: row count, per column the type it
   arrived as, missing and invalid counts, exact label counts, and a uniform
   random sample of numeric values (bottom-k keys, so samples of different
   files merge into one uniform sample exactly); summaries merge by adding;
2. the buckets are fixed from the merged summary (numeric edges at the
   sample's quantiles, the most frequent labels), and every worker counts
   its files over those buckets; counts merge by adding, so the reference's
   counts are exact.

Accuracy: with a sample of S values (default 2^16), each numeric edge sits
at the quantile k/B of the reference within about sqrt(q(1-q)/S) in rank
(0.2% at the median for S = 2^16), and a numeric column with at most B
distinct values keeps one bucket per value when all of them show in the
sample (a value rarer than about 1/S may land in `other`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from driftcli.choices import Kind
from driftcli.columns.samples import Reservoir, ValueReservoir
from driftcli.columns.values import TypeClass, read_numbers, tally_texts, type_class
from driftcli.counting.buckets import (
    Feature,
    categorical_buckets,
    cuts_of,
    numeric_feature,
    with_range,
    without_range,
)
from driftcli.reference.kinds import (
    NO_VALUES,
    FirstValues,
    Selection,
    Unsupported,
    decide_kind,
    is_untyped,
    skipped_by_name,
    skipped_by_values,
)

SUMMARY_SAMPLE_VALUES = 1 << 16
"""Numeric values per column each summary keeps for the edges."""


@dataclass
class ColumnSummary:
    """What some rows hold of one column, mergeable; exact counts come later."""

    values: ValueReservoir
    first: FirstValues | None = None
    """The column in the first batch where it had values: what its kind is decided on."""
    arrow_field: pa.Field | None = None
    numeric_present: int = 0
    """Present values that read as numbers."""
    low: float = math.inf
    high: float = -math.inf
    """The smallest and largest of them (the sample's may fall short of both)."""
    labels: dict[str, int] = field(default_factory=dict)

    def add(
        self, column: pa.Array | pa.ChunkedArray, arrow_field: pa.Field, forced: Kind | None
    ) -> None:
        if self.arrow_field is None:
            self.arrow_field = arrow_field
        if column.null_count == len(column):
            return
        untyped = is_untyped(arrow_field)
        if self.first is None:
            self.first = FirstValues.of(column, untyped)
        family = type_class(column.type)
        # Numbers where the column may be numeric: numbers, untyped text, or text
        # the config forces to numeric; labels where it may be categorical.
        if family is TypeClass.NUMBER or (
            family is TypeClass.TEXT and (untyped or forced is Kind.NUMERIC)
        ):
            numbers = read_numbers(column)
            present = numbers.values[~(numbers.missing | numbers.invalid)]
            self.numeric_present += len(present)
            self.values.add(present)
            if len(present):
                self.low = min(self.low, float(present.min()))
                self.high = max(self.high, float(present.max()))
        if family is not TypeClass.OTHER:
            tally = tally_texts(column)
            for label, n in zip(tally.labels.to_pylist(), tally.counts.tolist(), strict=True):
                self.labels[label] = self.labels.get(label, 0) + n

    def merge(self, other: ColumnSummary) -> ColumnSummary:
        """This summary's rows, then the other's (its first values count only if this
        one had none)."""
        labels = dict(self.labels)
        for label, n in other.labels.items():
            labels[label] = labels.get(label, 0) + n
        return ColumnSummary(
            values=self.values.merge(other.values),
            first=self.first if self.first is not None else other.first,
            arrow_field=self.arrow_field if self.arrow_field is not None else other.arrow_field,
            numeric_present=self.numeric_present + other.numeric_present,
            low=min(self.low, other.low),
            high=max(self.high, other.high),
            labels=labels,
        )


@dataclass
class Summary:
    """A summary of some of the reference's rows (a file, or the merge of several)."""

    sample: Reservoir
    """A uniform sample of whole rows, for the snapshot."""
    rows: int = 0
    columns: dict[str, ColumnSummary] = field(default_factory=dict)

    def merge(self, other: Summary) -> Summary:
        columns = dict(self.columns)
        for name, column in other.columns.items():
            columns[name] = columns[name].merge(column) if name in columns else column
        return Summary(self.sample.merge(other.sample), self.rows + other.rows, columns)


def summarize(
    batches: Iterable[pa.RecordBatch],
    seed: int,
    sample_rows: int = 0,
    kinds: dict[str, Kind] | None = None,
) -> Summary:
    """Summarise one fragment's rows; `seed` must differ between fragments.

    `kinds`: the kinds the config forces, so text forced numeric is read as numbers.
    """
    summary = Summary(Reservoir(sample_rows, seed))
    for batch in batches:
        summary.rows += batch.num_rows
        summary.sample.add(batch)
        for index, name in enumerate(batch.schema.names):
            if name not in summary.columns:
                reservoir = ValueReservoir(SUMMARY_SAMPLE_VALUES, seed * 1000 + index)
                summary.columns[name] = ColumnSummary(reservoir)
            forced = (kinds or {}).get(name)
            summary.columns[name].add(batch.column(name), batch.schema.field(name), forced)
    return summary


def features_from(summary: Summary, selection: Selection) -> tuple[list[Feature], dict[str, str]]:
    """The buckets, fixed from a merged summary, and the columns not scored (with why)."""
    features: list[Feature] = []
    skipped: dict[str, str] = {}
    for name, column in summary.columns.items():
        if not selection.wants(name):
            continue
        built = _feature(name, column, selection)
        if isinstance(built, str):
            skipped[name] = built
        else:
            features.append(built)
    return features, skipped


def _feature(name: str, column: ColumnSummary, selection: Selection) -> Feature | str:
    """One column's feature, or why it is not scored: the rules of kinds.py."""
    if column.arrow_field is not None:
        why = skipped_by_name(name, column.arrow_field, selection.chosen(name))
        if why is not None:
            return why
    if column.first is None:
        return NO_VALUES
    kind = decide_kind(column.first, selection.kind_of(name))
    if isinstance(kind, Unsupported):
        return kind.why(name)
    why = skipped_by_values(kind, column.numeric_present, column.labels, name)
    if why is not None:
        return why
    source = column.first.source_type
    if kind is Kind.NUMERIC:
        values = np.sort(column.values.values())
        cuts, counts = without_range(*cuts_of(values, selection.bins_of(name)))
        cuts, _ = with_range(cuts, counts, column.low, column.high)
        return numeric_feature(name, source, cuts)
    labels = column.labels
    return categorical_buckets(name, labels, selection.categories_of(name), source)[0]
