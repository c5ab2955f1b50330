"""driftcli: per-feature drift detection for ML data, with a CI-friendly exit code."""

__version__ = "0.2.0"
