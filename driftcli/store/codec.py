"""The JSON form of buckets and counts, as snapshots and window segments store them.

Versioned by the files that hold it (`FORMAT_VERSION`); readable by any
JSON reader. Floats that JSON cannot hold (infinities) are written as text;
type families as lists of names (`["text", "untyped"]`; files of driftcli
0.1 hold their number, which is still read).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from driftcli.choices import Kind
from driftcli.columns.values import TypeClass
from driftcli.counting.counts import Counts, FeatureCounts
from driftcli.reference.buckets import Feature
from driftcli.results import Location

FORMAT_VERSION = 1
"""The version of every store file's format: snapshots, markers, segments."""


def buckets_id(features: list[Feature]) -> str:
    import hashlib  # here: a check of files never needs it, and start-up counts

    # The number form of source_type, as 0.1 wrote it: a reference keeps its id, so
    # windows ingested against it are not counted again.
    docs = [encode_feature(f) | {"source_type": int(f.source_type)} for f in features]
    canonical = json.dumps(docs, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _encode_float(value: float) -> float | str:
    # JSON has no infinities; discrete numeric values may be +-inf.
    return value if math.isfinite(value) else repr(float(value))


def _decode_float(value: float | str) -> float:
    return float(value)


def _encode_types(types: TypeClass) -> list[str]:
    return [str(flag.name).lower() for flag in TypeClass if flag and flag in types]


def _decode_types(value: int | list[str]) -> TypeClass:
    if isinstance(value, int):
        return TypeClass(value)
    types = TypeClass.NONE
    for name in value:
        types |= TypeClass[name.upper()]
    return types


def encode_feature(feature: Feature) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": feature.name,
        "kind": feature.kind.value,
        "source_type": _encode_types(feature.source_type),
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
        source_type=_decode_types(doc["source_type"]),
        edges=floats("edges"),
        values=floats("values"),
        categories=tuple(str(c) for c in categories) if categories is not None else None,
    )


def encode_counts(counts: Counts) -> dict[str, Any]:
    return {
        "rows": counts.rows,
        "columns": counts.columns,
        "features": {
            name: {"buckets": fc.buckets.tolist(), "types": _encode_types(fc.types)}
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
                _decode_types(fc["types"]),
                tuple(_decode_location(at) for at in fc.get("invalid_at", ())),
            )
            for name, fc in doc["features"].items()
        },
        columns=[str(c) for c in doc["columns"]],
    )
