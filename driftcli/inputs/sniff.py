"""Which format and compression an input has: from the flag, the suffix, or the first bytes."""

from __future__ import annotations

from pathlib import Path

from driftcli.choices import InputFormat
from driftcli.errors import InputError

UTF8_BOM = b"\xef\xbb\xbf"
SNIFF_BYTES = 4
HEAD_BYTES = 1 << 12
"""How much of an input is read to sniff its compression and format."""

_SUFFIX_FORMATS = {
    ".csv": InputFormat.CSV,
    ".parquet": InputFormat.PARQUET,
    ".pq": InputFormat.PARQUET,
    ".jsonl": InputFormat.JSONL,
    ".ndjson": InputFormat.JSONL,
    ".json": InputFormat.JSONL,
}
_SUFFIX_COMPRESSION = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
_MAGIC_COMPRESSION = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}


def format_of_path(path: Path) -> InputFormat | None:
    """The format a file's suffix names (a compression suffix looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _SUFFIX_COMPRESSION:
        suffixes = suffixes[:-1]
    return _SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None


def compression_of_path(path: Path) -> str | None:
    """The compression a file's last suffix names (`.gz`, `.zst`)."""
    suffixes = [s.lower() for s in path.suffixes]
    return _SUFFIX_COMPRESSION.get(suffixes[-1]) if suffixes else None


def sniff_compression(head: bytes) -> str | None:
    for magic, codec in _MAGIC_COMPRESSION.items():
        if head.startswith(magic):
            return codec
    return None


def sniffable(head: bytes) -> bool:
    """Enough bytes to tell the compression and the format apart."""
    return len(head) >= SNIFF_BYTES and bool(head.removeprefix(UTF8_BOM).strip())


def sniff_format(head: bytes, name: str) -> InputFormat:
    """`PAR1` is Parquet, `{` (or `[`) JSON lines, anything else CSV."""
    if head.startswith(b"PAR1"):
        return InputFormat.PARQUET
    text = head.removeprefix(UTF8_BOM).lstrip()
    if text.startswith((b"{", b"[")):
        return InputFormat.JSONL  # the JSON lines reader explains that arrays are not read
    if not text:
        raise InputError(f"{name}: no data (only whitespace)")
    return InputFormat.CSV
