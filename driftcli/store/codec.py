"""The JSON form of buckets and counts, as snapshots and window segments store them.

Versioned by the files that hold it (`FORMAT_VERSION`); readable by any
JSON reader. Floats that JSON cannot hold (infinities) are written as text;
type families as lists of names (`["text", "untyped"]`; files of driftcli
0.1 hold their number, which is still read).

Decoding checks every value against what the encoder could have written
(types, ranges, lengths, counts that add up to the rows), so a damaged file
is a `Damaged` error naming the value, never rows invented or lost.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from driftcli.choices import Kind
from driftcli.columns.values import TypeClass
from driftcli.counting.buckets import Feature
from driftcli.counting.counts import Counts, FeatureCounts
from driftcli.counting.slicing import SliceProfile, SliceValues
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


MAX_COUNT = 1 << 62
"""No count a store holds is larger: sums of them still fit in 64 bits."""


class Damaged(ValueError):
    """A store document holds a value its writer could not have written."""


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def field(doc: Any, key: str, where: str = "") -> Any:
    """`doc[key]`, where `doc` must be a JSON object that has `key`."""
    if not isinstance(doc, dict):
        raise Damaged(f"{where or 'the document'} must be an object, not {_shown(doc)}")
    if key not in doc:
        raise Damaged(f"{where}{'.' if where else ''}{key} is missing")
    return doc[key]


def whole(value: Any, what: str, at_least: int = 0, at_most: int = MAX_COUNT) -> int:
    """A whole number in [at_least, at_most] (JSON's 1e400, true, "5" and -5 are not)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < at_least:
        raise Damaged(f"{what} must be a whole number of at least {at_least}, not {_shown(value)}")
    if value > at_most:
        raise Damaged(f"{what} must be at most {at_most:,}, not {_shown(value)}")
    return value


def text(value: Any, what: str, longest: int = 1 << 16) -> str:
    """Text of at most `longest` characters, all of them Unicode (no lone surrogate, which
    JSON's `\\ud800` can carry but no output can write)."""
    if not isinstance(value, str) or len(value) > longest:
        raise Damaged(f"{what} must be text, not {_shown(value)}")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise Damaged(f"{what} must be Unicode text, not a lone surrogate") from None
    return value


def moment(value: Any, what: str) -> str:
    """An instant as driftcli writes it: ISO 8601 with its UTC offset (clock.now_utc)."""
    from datetime import datetime

    written = text(value, what, 64)
    try:
        parsed = datetime.fromisoformat(written)
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None:
        raise Damaged(f"{what} must be a time in ISO 8601 with its UTC offset, not {_shown(value)}")
    return written


def texts(value: Any, what: str) -> list[str]:
    if not isinstance(value, list):
        raise Damaged(f"{what} must be a list, not {_shown(value)}")
    return [text(v, f"{what}[{i}]") for i, v in enumerate(value)]


def _number(value: Any, what: str) -> float:
    """A float as written: a JSON number, or the text of an infinity."""
    if isinstance(value, str) and value in ("inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Damaged(f"{what} must be a number, not {_shown(value)}")
    return float(value)


def _increasing(value: Any, what: str) -> np.ndarray:
    if not isinstance(value, list):
        raise Damaged(f"{what} must be a list, not {_shown(value)}")
    numbers = np.array([_number(v, f"{what}[{i}]") for i, v in enumerate(value)], np.float64)
    if len(numbers) > 1 and not bool(np.all(np.diff(numbers) > 0)):
        raise Damaged(f"{what} must be increasing")
    return numbers


def _encode_types(types: TypeClass) -> list[str]:
    return [str(flag.name).lower() for flag in TypeClass if flag and flag in types]


_TYPE_NAMES = {str(flag.name).lower(): flag for flag in TypeClass if flag}


def _decode_types(value: Any, what: str) -> TypeClass:
    """Type families: a list of their names, or (files of 0.1) their number."""
    if not isinstance(value, list):
        return TypeClass(whole(value, what, 0, int(sum(_TYPE_NAMES.values()))))
    types = TypeClass.NONE
    for i, name in enumerate(value):
        flag = _TYPE_NAMES.get(text(name, f"{what}[{i}]"))
        if flag is None:
            raise Damaged(
                f"{what}[{i}] must be one of {', '.join(_TYPE_NAMES)}, not {_shown(name)}"
            )
        types |= flag
    return types


def decode_feature(doc: Any, where: str = "feature") -> Feature:
    """A feature's buckets, checked: a kind, a type, and exactly one bucket definition."""
    name = text(field(doc, "name", where), f"{where}.name")
    kind_text = text(field(doc, "kind", where), f"{where}.kind")
    try:
        kind = Kind(kind_text)
    except ValueError:
        raise Damaged(
            f"{where}.kind must be numeric or categorical, not {_shown(kind_text)}"
        ) from None
    source_type = _decode_types(field(doc, "source_type", where), f"{where}.source_type")
    given = [key for key in ("edges", "values", "categories") if key in doc]
    expected = ["categories"] if kind is Kind.CATEGORICAL else ["edges", "values"]
    if len(given) != 1 or given[0] not in expected:
        raise Damaged(f"{where} must have exactly one of {' or '.join(expected)}")
    categories = None
    if given[0] == "categories":
        categories = tuple(texts(doc["categories"], f"{where}.categories"))
        if len(set(categories)) != len(categories):
            raise Damaged(f"{where}.categories must be distinct")
    return Feature(
        name=name,
        kind=kind,
        source_type=source_type,
        edges=_increasing(doc["edges"], f"{where}.edges") if "edges" in doc else None,
        values=_increasing(doc["values"], f"{where}.values") if "values" in doc else None,
        categories=categories,
    )


def _decode_location(doc: Any, where: str) -> Location:
    unit = "line" if isinstance(doc, dict) and "line" in doc else "row"
    source = text(field(doc, "source", where), f"{where}.source")
    return Location(source, whole(field(doc, unit, where), f"{where}.{unit}", 1), unit)


def decode_counts(doc: Any, where: str = "counts") -> Counts:
    """Counts, checked: whole, non-negative, and every feature's adding up to the rows."""
    rows = whole(field(doc, "rows", where), f"{where}.rows")
    features_doc = field(doc, "features", where)
    if not isinstance(features_doc, dict):
        raise Damaged(f"{where}.features must be an object")
    features = {}
    for name, fc in features_doc.items():
        at = f"{where}.features.{name}"
        buckets = field(fc, "buckets", at)
        if not isinstance(buckets, list) or len(buckets) < 2:
            raise Damaged(f"{at}.buckets must be a list of counts")
        vector = _whole_vector(buckets, f"{at}.buckets")
        if int(vector.sum()) != rows:
            raise Damaged(f"{at}.buckets add up to {int(vector.sum()):,}, not the {rows:,} rows")
        invalid_at = fc.get("invalid_at", [])
        if not isinstance(invalid_at, list):
            raise Damaged(f"{at}.invalid_at must be a list")
        features[str(name)] = FeatureCounts(
            vector,
            _decode_types(field(fc, "types", at), f"{at}.types"),
            tuple(_decode_location(x, f"{at}.invalid_at[{i}]") for i, x in enumerate(invalid_at)),
        )
    return Counts(
        rows=rows,
        features=features,
        columns=texts(field(doc, "columns", where), f"{where}.columns"),
    )


def _whole_vector(values: list[Any], where: str) -> npt.NDArray[np.int64]:
    """A list of whole numbers, each as `whole` checks it: at once where all are (a sliced
    reference holds tens of thousands), one by one to name the first that is not."""
    if (
        values
        and all(type(v) is int for v in values)
        and 0 <= min(values) <= max(values) <= MAX_COUNT
    ):
        return np.array(values, np.int64)
    return np.array([whole(v, f"{where}[{i}]") for i, v in enumerate(values)], np.int64)


def matching(counts: Counts, features: list[Feature], where: str = "counts") -> Counts:
    """The counts, if they hold every feature over its buckets (`Damaged` if not)."""
    for feature in features:
        fc = counts.features.get(feature.name)
        if fc is None:
            raise Damaged(f"{where} lack the feature {feature.name!r}")
        if len(fc.buckets) != feature.n_buckets:
            raise Damaged(
                f"{where}.features.{feature.name} has {len(fc.buckets)} buckets, "
                f"not the {feature.n_buckets} of its feature"
            )
    return counts


def encode_slices(slices: SliceProfile) -> dict[str, Any]:
    values = slices.values
    return {
        "column": values.column,
        "max_slices": slices.max_slices,
        "named": list(values.named),
        "has_other": values.has_other,
        "known": None if values.known is None else sorted(values.known, key=_value_order),
        "groups": [
            {"group": group, "counts": encode_counts(counts)}
            for group, counts in sorted(slices.counts.items())
        ],
    }


def _value_order(value: str | None) -> tuple[bool, str]:
    return value is not None, value or ""


def decode_slices(doc: Any, features: list[Feature]) -> SliceProfile:
    """The reference per slice, every value checked (`Damaged` if one is wrong)."""
    where = "slices"
    named = field(doc, "named", where)
    if not isinstance(named, list) or not all(v is None or isinstance(v, str) for v in named):
        raise Damaged("slices.named must be a list of texts (or null)")
    known = field(doc, "known", where)
    if known is not None and (
        not isinstance(known, list) or not all(v is None or isinstance(v, str) for v in known)
    ):
        raise Damaged("slices.known must be a list of texts (or null)")
    has_other = field(doc, "has_other", where)
    if not isinstance(has_other, bool):
        raise Damaged("slices.has_other must be true or false")
    groups = field(doc, "groups", where)
    if not isinstance(groups, list):
        raise Damaged("slices.groups must be a list")
    counts = {}
    for i, item in enumerate(groups):
        at = f"slices.groups[{i}]"
        group = whole(field(item, "group", at), f"{at}.group")
        if group > len(named) + 1:
            raise Damaged(f"{at}.group {group} is no slice")
        counts[group] = matching(decode_counts(field(item, "counts", at), at), features, at)
    values = SliceValues(
        text(field(doc, "column", where), "slices.column"),
        tuple(named),
        has_other,
        None if known is None else frozenset(known),
    )
    limit = whole(field(doc, "max_slices", where), "slices.max_slices", 1)
    return SliceProfile(values, counts, limit)


def checksum(document: bytes) -> bytes:
    """The checksum stored beside a footer document: a SHA-256, in hex."""
    import hashlib

    return hashlib.sha256(document).hexdigest().encode()


def checked_document(raw: bytes | None, digest: bytes | None) -> Any:
    """A footer's JSON document, if its checksum (written since 0.2.0) matches it."""
    if raw is None:
        raise Damaged("the footer document is missing")
    if digest is not None and digest != checksum(raw):
        raise Damaged("the footer does not match its checksum")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise Damaged(f"the footer is not JSON ({type(exc).__name__})") from None
