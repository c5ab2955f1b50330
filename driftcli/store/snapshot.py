"""The reference snapshot file, and the JSON form of profiles and counts.

A snapshot is one Parquet file: its rows are a bounded sample of the
reference's raw rows, and its footer (key `driftcli.snapshot`) holds a JSON
document with everything else: the feature kinds and buckets, the exact
counts over every reference row, the row count, the source, the creation
time, the tool and format versions. Any Parquet reader (pandas, DuckDB)
reads the sample; `json.loads(pq.read_metadata(path).metadata[b"driftcli.snapshot"])`
reads the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from driftcli import __version__
from driftcli.counting.buckets import Profile
from driftcli.counting.slicing import SliceProfile
from driftcli.errors import StoreError, flag_names, named_flags
from driftcli.results import SourceInfo
from driftcli.store.codec import (
    FORMAT_VERSION,
    Damaged,
    buckets_id,
    checked_document,
    checksum,
    decode_counts,
    decode_feature,
    decode_slices,
    encode_counts,
    encode_feature,
    encode_slices,
    field,
    matching,
    moment,
    text,
    whole,
)
from driftcli.store.durable import atomic_write, output_target
from driftcli.store.rows import (
    FILE_CHECKSUM,
    NotSealed,
    read_failure,
    read_sealed,
    sealed,
    write_rows,
)

SNAPSHOT_KEY = b"driftcli.snapshot"
CHECKSUM_KEY = b"driftcli.snapshot.sha256"
"""The SHA-256 of the snapshot document, beside it (files before 0.2.0 have none)."""


@dataclass
class Snapshot:
    """A profiled reference, as stored: buckets, exact counts, a sample of rows."""

    profile: Profile
    source: SourceInfo
    created: str
    """When the snapshot was made, ISO 8601 in UTC."""
    bins: int
    max_categories: int
    sample: pa.Table
    tool_version: str = __version__
    restricted_from: str | None = None
    """The reference id of the snapshot this one keeps only some features of."""
    slices: SliceProfile | None = None
    """The reference per slice (`reference --slice COLUMN`)."""

    @property
    def reference_id(self) -> str:
        """A fingerprint of the buckets: counts made over other buckets do not mix."""
        return buckets_id(self.profile.features)

    @property
    def whole_reference_id(self) -> str:
        """The fingerprint of the whole reference, before --features or --exclude: what
        the store's history records, so that it changes only when the reference does."""
        return self.restricted_from or self.reference_id


def encode_snapshot(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "kind": "reference-snapshot",
        "format_version": FORMAT_VERSION,
        "tool_version": snapshot.tool_version,
        "created": snapshot.created,
        "reference_id": snapshot.reference_id,
        "source": {
            "name": snapshot.source.name,
            "format": snapshot.source.format,
            "rows": snapshot.source.rows,
        },
        "settings": {"bins": snapshot.bins, "max_categories": snapshot.max_categories},
        "features": [encode_feature(f) for f in snapshot.profile.features],
        "counts": encode_counts(snapshot.profile.counts),
        # As the command line says them: the words older driftclis wrote and read.
        "skipped": {name: flag_names(why) for name, why in snapshot.profile.skipped.items()},
        "sample_rows": snapshot.sample.num_rows,
        "file_checksum": FILE_CHECKSUM,
    } | ({"slices": encode_slices(snapshot.slices)} if snapshot.slices is not None else {})


def decode_snapshot(doc: Any, sample: pa.Table) -> Snapshot:
    """A snapshot from its footer document, every value checked (`Damaged` if one is wrong)."""
    features = [decode_feature(f, f"features[{i}]") for i, f in enumerate(_listed(doc, "features"))]
    if len({f.name for f in features}) != len(features):
        raise Damaged("features name a feature twice")
    counts = matching(decode_counts(field(doc, "counts")), features)
    source = field(doc, "source")
    settings = field(doc, "settings")
    skipped = field(doc, "skipped")
    if not isinstance(skipped, dict):
        raise Damaged("skipped must be an object")
    return Snapshot(
        profile=Profile(
            features,
            counts,
            {text(k, "skipped"): named_flags(text(v, f"skipped.{k}")) for k, v in skipped.items()},
        ),
        source=SourceInfo(
            text(field(source, "name", "source"), "source.name"),
            text(field(source, "format", "source"), "source.format"),
            whole(field(source, "rows", "source"), "source.rows"),
        ),
        created=moment(field(doc, "created"), "created"),
        bins=whole(field(settings, "bins", "settings"), "settings.bins", 2),
        max_categories=whole(
            field(settings, "max_categories", "settings"), "settings.max_categories", 1
        ),
        sample=sample,
        tool_version=text(field(doc, "tool_version"), "tool_version"),
        slices=decode_slices(doc["slices"], features) if "slices" in doc else None,
    )


def _listed(doc: Any, key: str) -> list[Any]:
    value = field(doc, key)
    if not isinstance(value, list):
        raise Damaged(f"{key} must be a list")
    return value


def export_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write the snapshot to a file the user named, outside any store.

    A link there is followed; a device, named pipe or directory is refused,
    never replaced (see `durable.output_target`).
    """
    write_snapshot(snapshot, output_target(path))


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write the snapshot atomically: readers see the old file or the new one."""
    document = json.dumps(encode_snapshot(snapshot), allow_nan=False).encode()
    stamp = {SNAPSHOT_KEY: document, CHECKSUM_KEY: checksum(document)}
    table = snapshot.sample.replace_schema_metadata(stamp)

    atomic_write(path, lambda out: write_rows(table, out))


def snapshot_document(path: Path) -> dict[str, Any] | None:
    """The snapshot document in a Parquet footer; None for a file that is not a snapshot.

    Raises `StoreError` for a snapshot this version cannot read, or whose
    footer is damaged.
    """
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(str(path)).metadata or {}
    except (pa.ArrowException, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise read_failure(path, exc, "driftcli snapshot") from None
        return None
    raw = metadata.get(SNAPSHOT_KEY)
    if raw is None:
        return None
    try:
        doc = checked_document(raw, metadata.get(CHECKSUM_KEY))
        if field(doc, "kind") != "reference-snapshot":
            raise Damaged("kind must be reference-snapshot")
        version = whole(field(doc, "format_version"), "format_version", 1)
    except Damaged as exc:
        raise StoreError(f"{path}: corrupt driftcli snapshot ({exc})") from None
    if version > FORMAT_VERSION:
        raise StoreError(
            f"{path}: written by a newer driftcli (snapshot format {version}, "
            f"this version reads up to {FORMAT_VERSION})",
            hint="upgrade driftcli",
        )
    return dict(doc)


def read_snapshot(path: Path) -> Snapshot:
    """Load a snapshot file; `StoreError` if it is not one or is damaged."""
    doc = snapshot_document(path)
    if doc is None:
        raise StoreError(f"{path}: not a driftcli snapshot")
    try:
        return decode_snapshot(doc, read_sealed(path, sealed(doc)))
    except (Damaged, NotSealed) as exc:
        raise StoreError(f"{path}: corrupt driftcli snapshot ({exc})") from None
    except (pa.ArrowException, OSError) as exc:
        raise read_failure(path, exc, "driftcli snapshot") from None
