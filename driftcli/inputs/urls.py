"""Inputs behind fsspec URLs (s3://, gs://, abfs://, http://, memory://...)."""

from __future__ import annotations

import re
from typing import Any

from driftcli.errors import UsageError

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(spec: str) -> bool:
    """An fsspec URL, not a local path."""
    return bool(_URL.match(spec))


def url_filesystem(spec: str) -> tuple[Any, str]:
    """The fsspec filesystem for a URL, and the path within it."""
    try:
        import fsspec
    except ImportError:
        raise UsageError(
            f"{spec}: reading URLs needs fsspec",
            hint="pip install fsspec (and e.g. s3fs for s3://)",
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(spec)
    except (ImportError, ValueError) as exc:
        raise UsageError(
            f"{spec}: no filesystem for this URL is installed ({exc})",
            hint="install the fsspec package for it, e.g. s3fs, gcsfs, adlfs",
        ) from None
    return fs, path
