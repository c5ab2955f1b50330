"""Mergeable summaries of reference fragments, for engines that count in parts.

On one machine the reference is profiled in one exact pass (profile.py). An
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

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from driftcli.profile import (
    ID_DISTINCT_SHARE,
    ID_MIN_ROWS,
    TEXT_NUMERIC_SHARE,
    Feature,
    Kind,
    categorical_buckets,
    name_key,
    numeric_buckets,
)
from driftcli.sample import Reservoir, ValueReservoir
from driftcli.values import (
    PARTITION_KEY,
    UNTYPED_KEY,
    TypeClass,
    read_numbers,
    tally_texts,
    type_class,
)

SUMMARY_SAMPLE_VALUES = 1 << 16
"""Numeric values per column each summary keeps for the edges."""


@dataclass
class ColumnSummary:
    """What some rows hold of one column, mergeable; exact counts come later."""

    values: ValueReservoir
    types: TypeClass = TypeClass.NONE
    untyped: bool = False
    partition: bool = False
    numeric_present: int = 0
    """Present values that read as numbers."""
    text_present: int = 0
    """Present values of a text or boolean column."""
    labels: dict[str, int] = field(default_factory=dict)

    def add(self, column: pa.Array | pa.ChunkedArray, untyped: bool) -> None:
        if column.null_count == len(column):
            return
        family = type_class(column.type)
        self.types |= family
        self.untyped = self.untyped or untyped
        # Text is read as numbers only where its type is unknown (CSV).
        if family is TypeClass.NUMBER or (family is TypeClass.TEXT and untyped):
            numbers = read_numbers(column)
            present = numbers.values[~(numbers.missing | numbers.invalid)]
            self.numeric_present += len(present)
            self.values.add(present)
        if family in (TypeClass.TEXT, TypeClass.BOOL):
            tally = tally_texts(column)
            self.text_present += int(tally.counts.sum())
            for label, n in zip(tally.labels.to_pylist(), tally.counts.tolist(), strict=True):
                self.labels[label] = self.labels.get(label, 0) + n

    def merge(self, other: ColumnSummary) -> ColumnSummary:
        labels = dict(self.labels)
        for label, n in other.labels.items():
            labels[label] = labels.get(label, 0) + n
        return ColumnSummary(
            values=self.values.merge(other.values),
            types=self.types | other.types,
            untyped=self.untyped or other.untyped,
            partition=self.partition or other.partition,
            numeric_present=self.numeric_present + other.numeric_present,
            text_present=self.text_present + other.text_present,
            labels=labels,
        )

    def kind(self) -> Kind | None:
        """Numbers are numeric; text is, when untyped and 99% of it reads as numbers."""
        if self.types & TypeClass.BOOL:
            return Kind.CATEGORICAL
        if self.types & TypeClass.TEXT:
            readable = self.numeric_present / self.text_present if self.text_present else 0.0
            numeric = self.untyped and readable >= TEXT_NUMERIC_SHARE
            return Kind.NUMERIC if numeric else Kind.CATEGORICAL
        if self.types & TypeClass.NUMBER:
            return Kind.NUMERIC
        return None


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


def summarize(batches: Iterable[pa.RecordBatch], seed: int, sample_rows: int = 0) -> Summary:
    """Summarise one fragment's rows; `seed` must differ between fragments."""
    summary = Summary(Reservoir(sample_rows, seed))
    for batch in batches:
        summary.rows += batch.num_rows
        summary.sample.add(batch)
        for index, name in enumerate(batch.schema.names):
            if name not in summary.columns:
                reservoir = ValueReservoir(SUMMARY_SAMPLE_VALUES, seed * 1000 + index)
                summary.columns[name] = ColumnSummary(reservoir)
            field_ = batch.schema.field(name)
            untyped = bool(field_.metadata and UNTYPED_KEY in field_.metadata)
            summary.columns[name].partition = bool(
                field_.metadata and PARTITION_KEY in field_.metadata
            )
            summary.columns[name].add(batch.column(name), untyped)
    return summary


def features_from(
    summary: Summary,
    *,
    bins: int,
    max_categories: int,
    columns: set[str] | None = None,
    exclude: frozenset[str] = frozenset(),
    kinds: dict[str, Kind] | None = None,
    bins_for: dict[str, int] | None = None,
) -> tuple[list[Feature], dict[str, str]]:
    """The buckets, fixed from a merged summary, and the columns not scored (with why)."""
    features: list[Feature] = []
    skipped: dict[str, str] = {}
    for name, column in summary.columns.items():
        key = name_key(name)
        if key in exclude or (columns is not None and key not in columns):
            continue
        if columns is None and column.partition:
            skipped[name] = "a hive partition directory; name it in --features to score it"
            continue
        own_bins = (bins_for or {}).get(key, bins)
        own_categories = (bins_for or {}).get(key, max_categories)
        kind = (kinds or {}).get(name) or column.kind()
        source = column.types | (TypeClass.UNTYPED if column.untyped else TypeClass.NONE)
        if kind is None:
            nothing = column.types is TypeClass.NONE
            skipped[name] = "no values in the reference" if nothing else "unsupported type"
            continue
        if kind is Kind.NUMERIC:
            values = np.sort(column.values.values())
            if not len(values):
                skipped[name] = "no values in the reference"
                continue
            feature, _ = numeric_buckets(name, values, own_bins, source)
        else:
            present = sum(column.labels.values())
            if present >= ID_MIN_ROWS and len(column.labels) >= ID_DISTINCT_SHARE * present:
                skipped[name] = "nearly every value is distinct, like an identifier; --exclude it"
                continue
            feature, _ = categorical_buckets(name, column.labels, own_categories, source)
        features.append(feature)
    return features, skipped
