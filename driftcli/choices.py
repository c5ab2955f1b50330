"""The closed sets a user names on the command line or in the config file.

Kept apart from the readers, the statistics and the renderers so that the
CLI can declare its options without importing pyarrow or numpy
(`driftcli --help` stays fast).
"""

from __future__ import annotations

from enum import Enum


class InputFormat(str, Enum):
    """The file formats driftcli reads."""

    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"


class OutputFormat(str, Enum):
    """How a check's result is written to stdout."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    JUNIT = "junit"
    HTML = "html"


class ListingFormat(str, Enum):
    """How `reference` and `status` write what they made or found: for people or programs."""

    TABLE = "table"
    JSON = "json"


METRIC_NAMES = ("kl", "psi", "js", "hellinger", "ks", "wasserstein")
"""The metrics a user can name (scoring/metrics.py defines them; a test keeps the two equal)."""


class Correction(str, Enum):
    """How p-values are adjusted for testing many features at once."""

    HOLM = "holm"
    """Holm-Bonferroni: controls the chance of any false alarm (family-wise)."""
    BH = "bh"
    """Benjamini-Hochberg: controls the expected share of false alarms among alarms."""
    NONE = "none"


class Kind(str, Enum):
    """How a feature is bucketed: the reference decides, the config may override."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class EngineName(str, Enum):
    """Where counting runs."""

    LOCAL = "local"
    DASK = "dask"
