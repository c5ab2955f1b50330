"""Inputs behind fsspec URLs (s3://, gs://, abfs://, http://, memory://...)."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from typing import Any

from driftcli.errors import DriftcliError, InputError, UsageError

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")

# What `pip install` needs for each protocol, as fsspec's registry names it
# (driftcli's `remote` extra brings fsspec and the http(s) and s3 ones).
_REMOTE = "'driftcli[remote]'"
_PACKAGES = {
    "http": _REMOTE,
    "https": _REMOTE,
    "s3": _REMOTE,
    "s3a": _REMOTE,
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
            hint=f"pip install {needed}"
            if needed == _REMOTE
            else f"pip install fsspec {needed or ''}".rstrip(),
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


@contextlib.contextmanager
def url_errors(spec: str) -> Iterator[None]:
    """What fsspec and its clients raise (a refused connection, a server's error) as an
    `InputError` naming the URL, never an internal error."""
    try:
        yield
    except DriftcliError:
        raise
    except FileNotFoundError:
        raise InputError(f"{spec}: no such file") from None
    except Exception as exc:  # any failure of fsspec or its client is this input's error
        raise InputError(
            f"{spec}: cannot read: {type(exc).__name__}: {str(exc)[:200]}",
            hint="check the URL and that its server answers, then run again",
        ) from exc


def open_url_file(fs: Any, path: str, spec: str) -> UrlReader:
    """A file behind a URL, opened to be read once from its start.

    Over HTTP(S), as one plain GET: fsspec would otherwise read a file larger
    than its block in range requests, which many servers (`python -m
    http.server`, some CDNs and proxies) do not take; driftcli reads a URL's
    bytes in order, once, which any server can serve.
    """
    options = {"block_size": 0} if protocol_of(spec) in ("http", "https") else {}
    return UrlReader(fs.open(path, "rb", **options), spec)


class UrlReader(io.RawIOBase):
    """An fsspec file read forward; a failure of the transfer is an `InputError` naming the URL.

    fsspec and its HTTP client raise what they like (ValueError, aiohttp's
    errors), which would otherwise be an internal error.
    """

    def __init__(self, file: Any, spec: str) -> None:
        super().__init__()
        self._file = file
        self.spec = spec

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with url_errors(self.spec):
            data = self._file.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            super().close()


def _registry_hint(protocol: str) -> str:
    """What fsspec's own registry says a protocol needs."""
    from fsspec.registry import known_implementations

    known = known_implementations.get(protocol, {})
    return str(known.get("err") or f"install the fsspec filesystem for {protocol}://")
