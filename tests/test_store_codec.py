"""The store's JSON codec checks what it decodes: a damaged count names where it is."""

from __future__ import annotations

from typing import Any

import pytest

from driftcli.store.codec import Damaged, decode_counts


def counts(buckets: list[Any]) -> dict[str, Any]:
    return {
        "rows": 3,
        "columns": ["x"],
        "features": {"x": {"buckets": buckets, "types": ["number"]}},
    }


def test_whole_counts_decode_as_a_vector() -> None:
    decoded = decode_counts(counts([1, 0, 2]))
    assert decoded.features["x"].buckets.tolist() == [1, 0, 2]
    assert decoded.features["x"].buckets.dtype.name == "int64"


@pytest.mark.parametrize("bad", [True, -1, 1.5, "1", None, 2**70])
def test_a_count_that_is_not_a_whole_number_is_named(bad: object) -> None:
    with pytest.raises(Damaged, match=r"^counts\.features\.x\.buckets\[1\] must be "):
        decode_counts(counts([1, bad, 2]))


def test_counts_that_do_not_add_up_to_the_rows_are_damaged() -> None:
    with pytest.raises(Damaged, match="add up to 4, not the 3 rows"):
        decode_counts(counts([1, 1, 2]))
