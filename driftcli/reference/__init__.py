"""Profile: the reference fixes each feature's kind and buckets.

kinds.py is the one place that decides which columns become features and of
what kind (counting/buckets.py is the bucket model); sketch.py keeps a large numeric
column in bounded memory; builder.py builds the reference in one pass on
this machine, summary.py from mergeable summaries on an engine.
"""
