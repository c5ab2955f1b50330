"""The store: the reference snapshot and named live windows, on disk, written atomically.

root.py is the directory (marker, lock, reference); window.py the live
windows and their segments; snapshot.py the reference snapshot file;
history.py the record of checks; codec.py the JSON form of buckets and
counts; durable.py atomic writes and locks.
"""

from driftcli.store.root import DEFAULT_STORE, Store
from driftcli.store.window import Window

__all__ = ["DEFAULT_STORE", "Store", "Window"]
