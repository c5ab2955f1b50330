"""The closed sets a user names on the command line or in the config file.

Kept apart from the readers, the statistics and the renderers so that the
CLI can declare its options without importing pyarrow or numpy
(`driftcli --help` stays fast).
"""

from __future__ import annotations

from enum import StrEnum


class InputFormat(StrEnum):
    """The file formats driftcli reads."""

    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"


class OutputFormat(StrEnum):
    """How a check's result is written to stdout."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    JUNIT = "junit"
    HTML = "html"


class ListingFormat(StrEnum):
    """How `reference`, `status` and `history` write what they made or found: for people or
    programs (the output formats that render listings: output/formats.py)."""

    TABLE = "table"
    JSON = "json"


BUCKET_METRIC_NAMES = ("kl", "psi", "js", "hellinger")
"""The metrics scored on the bucket counts (scoring/metrics.py defines them, `Reads.BUCKETS`;
a test keeps the two equal). Named here for the CLI, which lists them without numpy."""
SAMPLE_METRIC_NAMES = ("ks", "wasserstein")
"""The metrics scored on raw samples of a numeric feature's values (`Reads.SAMPLES`)."""
METRIC_NAMES = BUCKET_METRIC_NAMES + SAMPLE_METRIC_NAMES
"""The metrics a user can name; the first is the default."""


class Correction(StrEnum):
    """How p-values are adjusted for testing many features at once."""

    HOLM = "holm"
    """Holm-Bonferroni: controls the chance of any false alarm (family-wise)."""
    BH = "bh"
    """Benjamini-Hochberg: controls the expected share of false alarms among alarms."""
    NONE = "none"


class Kind(StrEnum):
    """How a feature is bucketed: the reference decides, the config may override."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class JointMethod(StrEnum):
    """The joint test's classifier (scoring/joint_models.py)."""

    QDA = "qda"
    """A quadratic discriminant on the features' normal scores, in numpy (the default)."""
    BOOSTING = "boosting"
    """scikit-learn's gradient boosting (the `driftcli[joint]` extra)."""


class EngineName(StrEnum):
    """Where counting runs."""

    LOCAL = "local"
    DASK = "dask"


class TimeUnit(StrEnum):
    """The units a chunk's length is given in (`--every 30m`, `1h`, `1d`, `1w`)."""

    MINUTE = "m"
    HOUR = "h"
    DAY = "d"
    WEEK = "w"

    @property
    def seconds(self) -> int:
        return {"m": 60, "h": 3_600, "d": 86_400, "w": 604_800}[self.value]


class SortOrder(StrEnum):
    """How the table, Markdown and HTML reports order the features (--sort)."""

    DRIFT = "drift"
    """Drifted first, then uncertain, then by score, highest first (the default)."""
    SCORE = "score"
    NAME = "name"
    INPUT = "input"
    """As the reference's columns come."""
