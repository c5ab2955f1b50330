"""How far a followed file has been ingested, as the window's newest segment records it.

    "positions": {"/var/log/app.log": {"device": 64768, "inode": 1311, "offset": 52113,
                  "fingerprint": "<sha-256 hex>", "fingerprint_bytes": 1024}}

Written in the footer of the segment that stores the rows up to that
offset, so the rows and the position are made durable by the same rename:
a crash leaves both or neither. Every append copies the newest segment's
positions forward (another ingest's rows included), so the newest segment
always holds them all, and rows that age out of the window take no
position with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from driftcli.store.codec import Damaged, field, text, whole

MAX_POSITIONS = 1024
"""No window records more followed files than this (the oldest recorded are dropped)."""


@dataclass(frozen=True)
class FilePosition:
    """A followed file (by identity) and the offset just past the last line stored."""

    source: str
    """The followed path, absolute."""
    device: int
    inode: int
    fingerprint: str
    """SHA-256 (hex) of the file's first `fingerprint_bytes` bytes."""
    fingerprint_bytes: int
    offset: int


def with_position(
    positions: tuple[FilePosition, ...], new: FilePosition | None
) -> tuple[FilePosition, ...]:
    """The positions, with `new` in place of the one of its file."""
    if new is None:
        return positions
    kept = tuple(p for p in positions if p.source != new.source)
    return (*kept, new)[-MAX_POSITIONS:]


def encode_positions(positions: tuple[FilePosition, ...]) -> dict[str, Any]:
    return {
        p.source: {
            "device": p.device,
            "inode": p.inode,
            "fingerprint": p.fingerprint,
            "fingerprint_bytes": p.fingerprint_bytes,
            "offset": p.offset,
        }
        for p in positions
    }


def decode_positions(doc: Any) -> tuple[FilePosition, ...]:
    """The positions of a footer, every value checked (`Damaged` if one is not as written)."""
    if not isinstance(doc, dict) or len(doc) > MAX_POSITIONS:
        raise Damaged(f"positions must be an object of at most {MAX_POSITIONS:,} files")
    found = []
    for source, spot in doc.items():
        at = f"positions[{text(source, 'positions key', 4096)!r}]"
        fingerprint = text(field(spot, "fingerprint", at), f"{at}.fingerprint", 64)
        if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
            raise Damaged(f"{at}.fingerprint must be a SHA-256 in hex")
        position = FilePosition(
            source=source,
            device=whole(field(spot, "device", at), f"{at}.device"),
            inode=whole(field(spot, "inode", at), f"{at}.inode"),
            fingerprint=fingerprint,
            fingerprint_bytes=whole(
                field(spot, "fingerprint_bytes", at), f"{at}.fingerprint_bytes"
            ),
            offset=whole(field(spot, "offset", at), f"{at}.offset"),
        )
        if position.fingerprint_bytes > position.offset:
            raise Damaged(f"{at}.fingerprint_bytes must be at most its offset")
        found.append(position)
    return tuple(found)
