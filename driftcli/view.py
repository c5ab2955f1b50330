"""Which features a human report shows, and in which order (--sort, --only-failing).

Light, like results.py: the CLI builds a View from its flags, the table,
Markdown and HTML renderers arrange the features by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from driftcli.choices import SortOrder
from driftcli.results import FeatureResult, Status

_SEVERITY = {Status.MISSING: 0, Status.TYPE_CHANGED: 0, Status.DRIFT: 0, Status.UNCERTAIN: 1}


@dataclass(frozen=True)
class View:
    """Which features a human report shows, in which order (--sort, --only-failing)."""

    sort: SortOrder = SortOrder.DRIFT
    only_failing: bool = False
    """Only the features that drifted or are uncertain; the others counted in a line."""

    def arrange(self, features: list[FeatureResult]) -> tuple[list[FeatureResult], int]:
        """The features to show, in order, and how many were left out."""
        kept = [f for f in features if self.failing(f)] if self.only_failing else list(features)
        if self.sort is SortOrder.NAME:
            kept.sort(key=lambda f: f.name)
        elif self.sort is SortOrder.SCORE:
            kept.sort(key=lambda f: -_score_key(f))
        elif self.sort is SortOrder.DRIFT:
            kept.sort(key=lambda f: (_SEVERITY.get(f.status, 2), -_score_key(f)))
        return kept, len(features) - len(kept)

    @staticmethod
    def failing(f: FeatureResult) -> bool:
        return f.drift or f.status is Status.UNCERTAIN


def _score_key(f: FeatureResult) -> float:
    """A missing feature's (absent) score sorts first: it counts as drift."""
    return float("inf") if f.score is None else f.score


DEFAULT_VIEW = View()
"""Every feature, drifted first, then by score."""
