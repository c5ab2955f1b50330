"""Inputs behind fsspec URLs (s3://, gs://, abfs://, http://, memory://...)."""

from __future__ import annotations

import re
from typing import Any

from driftcli.errors import UsageError

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")

# What `pip install` needs for each protocol, as fsspec's registry names it.
_PACKAGES = {
    "http": "aiohttp requests",
    "https": "aiohttp requests",
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "az": "adlfs",
    "adl": "adlfs",
    "hf": "huggingface_hub",
    "sftp": "paramiko",
    "ssh": "paramiko",
    "smb": "smbprotocol",
    "webhdfs": "requests",
    "oci": "ocifs",
    "github": "requests",
}


def is_url(spec: str) -> bool:
    """An fsspec URL, not a local path."""
    return bool(_URL.match(spec))


def protocol_of(spec: str) -> str:
    """The URL's protocol, lower case (`s3` for `s3://bucket/key`)."""
    return spec.split("://", 1)[0].lower()


def url_filesystem(spec: str) -> tuple[Any, str]:
    """The fsspec filesystem for a URL, and the path within it."""
    protocol = protocol_of(spec)
    needed = _PACKAGES.get(protocol)
    try:
        import fsspec
    except ImportError:
        raise UsageError(
            f"{spec}: reading URLs needs fsspec",
            hint=f"pip install fsspec {needed or ''}".rstrip(),
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(spec)
    except ImportError:
        raise UsageError(
            f"{spec}: reading {protocol}:// URLs needs a package that is not installed",
            hint=f"pip install {needed}" if needed else _registry_hint(protocol),
        ) from None
    except ValueError:
        raise UsageError(
            f"{spec}: fsspec knows no filesystem for {protocol}:// URLs",
            hint="see https://filesystem-spec.readthedocs.io for the protocols it reads",
        ) from None
    return fs, path


def _registry_hint(protocol: str) -> str:
    """What fsspec's own registry says a protocol needs."""
    from fsspec.registry import known_implementations

    known = known_implementations.get(protocol, {})
    return str(known.get("err") or f"install the fsspec filesystem for {protocol}://")
