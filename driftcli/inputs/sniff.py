"""Which format and compression an input has: from the flag, the suffix, or the first bytes."""

from __future__ import annotations

import json
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


def sniffable(head: bytes, *, format_known: bool = False) -> bool:
    """Enough bytes to tell the compression and (unless `format_known`) the format apart."""
    if len(head) < SNIFF_BYTES or not head.removeprefix(UTF8_BOM).strip():
        return False
    if format_known or sniff_compression(head) or head.startswith(b"PAR1"):
        return True
    return _text_format(head.removeprefix(UTF8_BOM), complete=False) is not None


def sniff_format(head: bytes, name: str) -> InputFormat:
    """`PAR1` is Parquet; JSON lines when the first lines say so (`_text_format`); else CSV."""
    if head.startswith(b"PAR1"):
        return InputFormat.PARQUET
    text = head.removeprefix(UTF8_BOM)
    if not text.strip():
        raise InputError(f"{name}: no data (only whitespace)")
    return (
        _text_format(text, complete=False) or _text_format(text, complete=True) or InputFormat.CSV
    )


SNIFF_LINES = 8
"""How many first lines may be read to tell JSON lines from a one-column CSV."""


def _text_format(text: bytes, *, complete: bool) -> InputFormat | None:
    """JSON lines or CSV, from the first lines of a text input; None: not decided yet.

    `{` or `[` first is JSON lines. Otherwise the first lines decide: one that
    is not a JSON value (a CSV header such as `x` or `a,b`) makes CSV; an
    object after JSON values, or a first line `null` (what `jq .features`
    prints for a log line without features; no CSV header is named that),
    makes JSON lines, so that the JSON lines reader names the line that is not
    an object. A one-column CSV whose header is a number or a quoted name
    reads as JSON values: it stays CSV, as no line of it is an object.
    `complete`: `text` is the whole input (else its last line may be cut).
    """
    if text.lstrip().startswith((b"{", b"[")):
        return InputFormat.JSONL  # the JSON lines reader explains that arrays are not read
    lines = text.split(b"\n")
    if not complete:
        lines.pop()  # maybe cut short; b"" after a final newline
    seen = 0
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line, parse_constant=_not_json)
        except ValueError:
            return InputFormat.CSV
        if isinstance(value, dict) or (seen == 0 and value is None):
            return InputFormat.JSONL
        seen += 1
        if seen == SNIFF_LINES:
            return InputFormat.CSV
    return InputFormat.CSV if complete else None


def _not_json(constant: str) -> None:
    """`NaN` and `Infinity` are Python's JSON, not JSON: a CSV header, say."""
    raise ValueError(constant)
