"""What a check finds of a feature beside its verdict: data-quality findings, the
statistics a combined p-value comes from, and what moved.

Light (no numpy), so renderers and the CLI can import these names cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class QualityRule(StrEnum):
    """A data-quality rule, judged beside drift (scoring/quality.py)."""

    MISSING = "missing"
    """The share of missing values rose."""
    UNSEEN = "unseen"
    """The share of values the reference never had rose: categories it did not have (or
    not among those it kept), numbers outside its range."""
    INVALID = "invalid"
    """The share of values that do not read as the feature's type rose."""


class QualityStatus(StrEnum):
    """How a data-quality rule came out."""

    OK = "ok"
    """No evident rise."""
    SMALL = "small"
    """An evident rise, below the rule's limits: reported, not failed."""
    FAIL = "fail"
    """An evident rise past both of the rule's limits: fails the check."""


@dataclass(frozen=True)
class QualityFinding:
    """One data-quality rule applied to one feature."""

    rule: QualityRule
    status: QualityStatus
    reference_rows: int
    """Reference rows the rule counts (missing, invalid, or of values live rows had
    and the reference did not)."""
    live_rows: int
    reference_share: float
    live_share: float
    p_value: float | None
    """One-sided: could chance give a live share this much higher? None: not computed
    (no rise, or a chunk where it could not change the status)."""
    p_bound: bool
    """`p_value` is an upper bound: no Monte Carlo draw reached the observed count."""
    ratio: float
    """The rule's limit on live share / reference share."""
    points: float
    """The rule's limit on the rise, in percentage points."""
    reason: str | None = None

    @property
    def failed(self) -> bool:
        return self.status is QualityStatus.FAIL


@dataclass(frozen=True)
class PValuePart:
    """One statistic of a combined test, and its share of the evidence level."""

    test: str
    p_value: float
    method: str
    weight: float
    bound: bool = False


@dataclass(frozen=True)
class Move:
    """A bucket whose share changed, and how much it adds to the feature's score."""

    bucket: str
    """The bucket's label, as JSON's `buckets` name it."""
    ref_share: float
    live_share: float
    contribution: float
    """Its term of the metric's sum (its change in share for ks and wasserstein)."""


@dataclass(frozen=True)
class SummaryStats:
    """A numeric feature's values on one side, estimated from its bucket counts."""

    mean: float
    values: int
    """How many values (not missing, not invalid) they summarise."""
    p05: float
    p50: float
    p95: float
    at_least: tuple[str, ...] = ()
    """Quantiles above the reference's top bucket edge: given as that edge, a lower bound."""
    at_most: tuple[str, ...] = ()
    """Quantiles below its bottom edge: given as that edge, an upper bound."""


@dataclass(frozen=True)
class Stats:
    """A numeric feature summarised on both sides."""

    ref: SummaryStats
    live: SummaryStats
