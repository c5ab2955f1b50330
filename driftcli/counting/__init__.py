"""Count rows over the reference's buckets: counts, and the counter that makes them."""
