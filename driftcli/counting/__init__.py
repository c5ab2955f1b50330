"""Count rows over the reference's buckets: the bucket model, counts, and the counters."""
