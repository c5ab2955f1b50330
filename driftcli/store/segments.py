"""One segment file of a live window: its rows, and a footer that says what they are.

    seg-<n>.parquet    n in 12 digits: the window's segments in the order written

A segment's rows are Parquet (rows.py), summed whole; its footer holds a
JSON document (key `driftcli.segment`) with the row count, the ingest
times, the counts over the reference's buckets and, for a merged segment,
the segments it absorbed, with a SHA-256 of the document beside it. Every
value read back is checked against the file it describes (codec.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from driftcli.counting.buckets import Feature
from driftcli.counting.counter import count_batches
from driftcli.counting.counts import Counts
from driftcli.errors import StoreError
from driftcli.store.codec import (
    FORMAT_VERSION,
    Damaged,
    checked_document,
    checksum,
    decode_counts,
    encode_counts,
    field,
    matching,
    moment,
    text,
    whole,
)
from driftcli.store.durable import atomic_write
from driftcli.store.positions import FilePosition, decode_positions, encode_positions
from driftcli.store.rows import FILE_CHECKSUM, REMOVE_HINT, read_failure, sealed, write_rows

SEGMENT_KEY = b"driftcli.segment"
CHECKSUM_KEY = b"driftcli.segment.sha256"
"""The SHA-256 of the footer document, beside it (segments before 0.2.0 have none)."""

SEGMENT_NAME = re.compile(r"seg-(\d{12})\.parquet")
LAST_SEGMENT = 10**12 - 1
"""Segment numbers have 12 digits: none is written past this one."""


def segment_name(number: int) -> str:
    return f"seg-{number:012d}.parquet"


@dataclass(frozen=True)
class Segment:
    """One segment file of a window, as its footer describes it."""

    path: Path
    number: int
    rows: int
    first_ingested: str
    last_ingested: str
    reference_id: str | None
    counts: Counts | None
    supersedes: tuple[int, ...] = ()
    """Segments merged into this one (compaction.py): any still on disk are left-overs."""
    sealed: bool = False
    """The file carries a checksum of all its bytes (rows.py), checked when its rows are read."""
    positions: tuple[FilePosition, ...] = ()
    """How far each followed file is ingested, as of this segment (positions.py)."""


def write_segment(
    path: Path,
    table: pa.Table,
    number: int,
    features: list[Feature] | None,
    reference_id: str | None,
    ingested: tuple[str, str],
    *,
    counts: Counts | None = None,
    supersedes: tuple[int, ...] = (),
    positions: tuple[FilePosition, ...] = (),
) -> Segment:
    """Write one segment file (atomically), counted over `features` unless `counts`
    are given, with its footer and the footer's checksum; `ingested`: the times its
    first and last rows were."""
    first_ingested, last_ingested = ingested
    if counts is None and features is not None and reference_id is not None:
        counts = count_batches(features, table.to_batches())
    footer: dict[str, Any] = {
        "kind": "window-segment",
        "format_version": FORMAT_VERSION,
        "rows": table.num_rows,
        "first_ingested": first_ingested,
        "last_ingested": last_ingested,
        "reference_id": reference_id if counts is not None else None,
        "counts": encode_counts(counts) if counts is not None else None,
        "file_checksum": FILE_CHECKSUM,
    }
    if supersedes:
        footer["supersedes"] = list(supersedes)
    if positions:
        footer["positions"] = encode_positions(positions)
    document = json.dumps(footer, allow_nan=False).encode()
    stamp = {SEGMENT_KEY: document, CHECKSUM_KEY: checksum(document)}
    stamped = table.replace_schema_metadata(stamp)
    atomic_write(path, lambda out: write_rows(stamped, out))
    return Segment(
        path,
        number,
        table.num_rows,
        first_ingested,
        last_ingested,
        footer["reference_id"],
        counts,
        supersedes,
        sealed=True,
        positions=positions,
    )


def check_counts(
    segments: list[Segment], features: list[Feature] | None, reference_id: str | None
) -> None:
    """Counts over the current buckets that do not fit them: damage, found before a write."""
    for segment in segments:
        if features and segment.counts is not None and segment.reference_id == reference_id:
            try:
                matching(segment.counts, features)
            except Damaged as exc:
                raise StoreError(
                    f"{segment.path}: corrupt window segment ({exc})", hint=REMOVE_HINT
                ) from None


def absorbed(segments: list[Segment]) -> set[int]:
    """The numbers of the segments a merge absorbed, once every merge's claim checks out.

    A merged segment holds the rows of those it absorbed (compaction.py), and
    they stay on disk only until the next append: one that claims more rows
    than it holds is damaged, and nothing is removed on its word.
    """
    rows = {s.number: s.rows for s in segments}
    for segment in segments:
        claimed = sum(rows.get(n, 0) for n in segment.supersedes)
        if claimed > segment.rows:
            numbers = ", ".join(str(n) for n in segment.supersedes)
            raise StoreError(
                f"{segment.path}: corrupt window segment (it says it absorbed segments "
                f"{numbers}, which hold {claimed:,} rows, but it holds {segment.rows:,})",
                hint=REMOVE_HINT,
            )
    return {n for s in segments for n in s.supersedes}


def read_segment_footer(path: Path, number: int) -> Segment:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(str(path))
    except (pa.ArrowException, OSError) as exc:
        raise read_failure(path, exc, "window segment", REMOVE_HINT) from None
    stamp = metadata.metadata or {}
    if SEGMENT_KEY not in stamp:
        raise StoreError(f"{path}: not a driftcli window segment")
    try:
        return _decode_footer(path, number, stamp, metadata.num_rows)
    except Damaged as exc:
        raise StoreError(f"{path}: corrupt window segment ({exc})", hint=REMOVE_HINT) from None


def _decode_footer(path: Path, number: int, stamp: dict[bytes, bytes], file_rows: int) -> Segment:
    """A segment's footer, every value checked against the file it describes."""
    doc = checked_document(stamp[SEGMENT_KEY], stamp.get(CHECKSUM_KEY))
    if field(doc, "kind") != "window-segment":
        raise Damaged("kind must be window-segment")
    version = whole(field(doc, "format_version"), "format_version", 1)
    if version > FORMAT_VERSION:
        raise StoreError(
            f"{path}: written by a newer driftcli (format {version})", hint="upgrade driftcli"
        )
    rows = whole(field(doc, "rows"), "rows")
    if rows != file_rows:
        raise Damaged(f"rows says {rows:,}, but the file holds {file_rows:,}")
    counts = doc.get("counts")
    decoded = decode_counts(counts) if counts is not None else None
    if decoded is not None and decoded.rows != rows:
        raise Damaged(f"counts.rows says {decoded.rows:,}, not the {rows:,} rows")
    reference_id = doc.get("reference_id")
    supersedes = doc.get("supersedes", [])
    if not isinstance(supersedes, list):
        raise Damaged("supersedes must be a list")
    if supersedes and CHECKSUM_KEY not in stamp:
        # Segments are removed on its word: only a footer its checksum vouches for says so.
        raise Damaged("supersedes other segments without a checksum")
    return Segment(
        path=path,
        number=number,
        rows=rows,
        first_ingested=moment(field(doc, "first_ingested"), "first_ingested"),
        last_ingested=moment(field(doc, "last_ingested"), "last_ingested"),
        reference_id=None if reference_id is None else text(reference_id, "reference_id", 64),
        counts=decoded,
        supersedes=tuple(whole(n, "supersedes[]", 1, number - 1) for n in supersedes),
        sealed=sealed(doc),
        positions=decode_positions(doc["positions"]) if "positions" in doc else (),
    )
