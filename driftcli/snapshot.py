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
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from driftcli import __version__
from driftcli.durable import atomic_write
from driftcli.errors import StoreError
from driftcli.profile import Counts, Feature, FeatureCounts, Kind, Profile
from driftcli.results import SourceInfo
from driftcli.text_formats import Location
from driftcli.values import TypeClass

SNAPSHOT_KEY = b"driftcli.snapshot"
FORMAT_VERSION = 1


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

    @property
    def reference_id(self) -> str:
        """A fingerprint of the buckets: counts made over other buckets do not mix."""
        return buckets_id(self.profile.features)


def buckets_id(features: list[Feature]) -> str:
    import hashlib  # here: a check of files never needs it (3 ms of start-up)

    canonical = json.dumps([encode_feature(f) for f in features], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# --- JSON encoding ----------------------------------------------------------


def _encode_float(value: float) -> float | str:
    # JSON has no infinities; discrete numeric values may be +-inf.
    return value if math.isfinite(value) else repr(float(value))


def _decode_float(value: float | str) -> float:
    return float(value)


def encode_feature(feature: Feature) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": feature.name,
        "kind": feature.kind.value,
        "source_type": int(feature.source_type),
    }
    if feature.edges is not None:
        doc["edges"] = [_encode_float(x) for x in feature.edges.tolist()]
    elif feature.values is not None:
        doc["values"] = [_encode_float(x) for x in feature.values.tolist()]
    else:
        doc["categories"] = list(feature.categories or ())
    return doc


def decode_feature(doc: dict[str, Any]) -> Feature:
    def floats(key: str) -> np.ndarray | None:
        return np.array([_decode_float(x) for x in doc[key]], np.float64) if key in doc else None

    categories = doc.get("categories")
    return Feature(
        name=str(doc["name"]),
        kind=Kind(doc["kind"]),
        source_type=TypeClass(int(doc["source_type"])),
        edges=floats("edges"),
        values=floats("values"),
        categories=tuple(str(c) for c in categories) if categories is not None else None,
    )


def encode_counts(counts: Counts) -> dict[str, Any]:
    return {
        "rows": counts.rows,
        "columns": counts.columns,
        "features": {
            name: {"buckets": fc.buckets.tolist(), "types": int(fc.types)}
            | (
                {"invalid_at": [_encode_location(at) for at in fc.invalid_at]}
                if fc.invalid_at
                else {}
            )
            for name, fc in counts.features.items()
        },
    }


def _encode_location(at: Location) -> dict[str, Any]:
    return {"source": at.source, at.unit: at.number}


def _decode_location(doc: dict[str, Any]) -> Location:
    unit = "line" if "line" in doc else "row"
    return Location(str(doc["source"]), int(doc[unit]), unit)


def decode_counts(doc: dict[str, Any]) -> Counts:
    return Counts(
        rows=int(doc["rows"]),
        features={
            name: FeatureCounts(
                np.array(fc["buckets"], np.int64),
                TypeClass(int(fc["types"])),
                tuple(_decode_location(at) for at in fc.get("invalid_at", ())),
            )
            for name, fc in doc["features"].items()
        },
        columns=[str(c) for c in doc["columns"]],
    )


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
        "skipped": snapshot.profile.skipped,
        "sample_rows": snapshot.sample.num_rows,
    }


def decode_snapshot(doc: dict[str, Any], sample: pa.Table) -> Snapshot:
    features = [decode_feature(f) for f in doc["features"]]
    counts = decode_counts(doc["counts"])
    for feature in features:
        if counts.features[feature.name].buckets.shape != (feature.n_buckets,):
            raise ValueError(f"counts of {feature.name} do not match its buckets")
    source = doc["source"]
    return Snapshot(
        profile=Profile(features, counts, {str(k): str(v) for k, v in doc["skipped"].items()}),
        source=SourceInfo(str(source["name"]), str(source["format"]), int(source["rows"])),
        created=str(doc["created"]),
        bins=int(doc["settings"]["bins"]),
        max_categories=int(doc["settings"]["max_categories"]),
        sample=sample,
        tool_version=str(doc["tool_version"]),
    )


# --- files ------------------------------------------------------------------


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write the snapshot atomically: readers see the old file or the new one."""
    document = json.dumps(encode_snapshot(snapshot), allow_nan=False).encode()
    table = snapshot.sample.replace_schema_metadata({SNAPSHOT_KEY: document})

    atomic_write(path, lambda out: write_rows(table, out))


def write_rows(table: pa.Table, out: BinaryIO) -> None:
    """Write rows as Parquet, dictionary-encoding only the text columns.

    pyarrow's default tries a dictionary for every column; on float columns,
    nearly all distinct, that tripled the write time of an ingest flush
    (measured: 20 -> 6 ms for 10k rows x 25 columns) for no smaller file.
    No column statistics either: nothing filters these files by them, and
    they took a fifth of the write (10k rows x 25 columns: 9.2 -> 7.0 ms).
    """
    import pyarrow.parquet as pq

    text = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_dictionary(f.type)
    ]
    pq.write_table(table, out, use_dictionary=text, write_statistics=False)


def snapshot_document(path: Path) -> dict[str, Any] | None:
    """The snapshot document in a Parquet footer; None for a file that is not a snapshot.

    Raises `StoreError` for a snapshot this version cannot read.
    """
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(str(path)).metadata or {}
    except (pa.ArrowException, OSError):
        return None
    raw = metadata.get(SNAPSHOT_KEY)
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
        version = int(doc["format_version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{path}: corrupt driftcli snapshot (unreadable metadata)") from exc
    if version > FORMAT_VERSION:
        raise StoreError(
            f"{path}: written by a newer driftcli (snapshot format {version}, "
            f"this version reads up to {FORMAT_VERSION})",
            hint="upgrade driftcli",
        )
    return dict(doc)


def read_snapshot(path: Path) -> Snapshot:
    """Load a snapshot file; `StoreError` if it is not one or is damaged."""
    import pyarrow.parquet as pq

    doc = snapshot_document(path)
    if doc is None:
        raise StoreError(f"{path}: not a driftcli snapshot")
    try:
        sample = pq.read_table(str(path))
        return decode_snapshot(doc, sample.replace_schema_metadata(None))
    except (pa.ArrowException, OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"{path}: corrupt driftcli snapshot ({type(exc).__name__})") from exc
