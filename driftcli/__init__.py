"""driftcli: per-feature drift detection for ML data, with a CI-friendly exit code."""

__version__ = "0.1.0"
