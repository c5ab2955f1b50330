"""Compare: scores (metrics.py), p-values (significance.py), and verdicts (compare.py)."""
