"""Bucket counts: per feature a count vector over its buckets, for some set of rows.

Counts over the same buckets merge by adding: that is what makes windows,
streaming and counting on many workers simple.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from driftcli.columns.values import TypeClass
from driftcli.results import Location

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

LOCATIONS_KEPT = 5
"""Where the first few invalid values of a feature are, kept to name them."""


@dataclass
class FeatureCounts:
    """Counts of one feature over its buckets, what types its values came as, and
    where its first invalid values are."""

    buckets: IntArray
    types: TypeClass = TypeClass.NONE
    invalid_at: tuple[Location, ...] = ()

    def merge(self, other: FeatureCounts) -> FeatureCounts:
        return FeatureCounts(
            self.buckets + other.buckets,
            self.types | other.types,
            (self.invalid_at + other.invalid_at)[:LOCATIONS_KEPT],
        )

    @property
    def rows(self) -> int:
        return int(self.buckets.sum())


@dataclass
class Counts:
    """Bucket counts of every feature over a set of rows."""

    rows: int
    features: dict[str, FeatureCounts]
    columns: list[str] = field(default_factory=list)
    """Every column name seen in the data, in order of first appearance."""
    samples: dict[str, FloatArray] = field(default_factory=dict)
    """Bounded random samples of raw values, for the features that asked for them."""
    featureless: int = 0
    """Rows left out of `rows`: they held none of the features (counting/featureless.py)."""
    featureless_at: tuple[Location, ...] = ()

    def merge(self, other: Counts) -> Counts:
        """Counts of the union of both row sets (same features, same buckets)."""
        features = {
            name: counts.merge(other.features[name]) for name, counts in self.features.items()
        }
        columns = self.columns + [c for c in other.columns if c not in set(self.columns)]
        return Counts(
            self.rows + other.rows,
            features,
            columns,
            featureless=self.featureless + other.featureless,
            featureless_at=(self.featureless_at + other.featureless_at)[:LOCATIONS_KEPT],
        )
