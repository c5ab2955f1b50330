"""Counting many chunks at once (counting/grouped.py): each row in the bucket
`Feature.count` counts it in, and every chunk's counts those of its rows alone."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from driftcli.counting.buckets import Feature
from driftcli.counting.counter import count_pieces
from driftcli.counting.grouped import GroupedCounts
from driftcli.inputs import Piece
from driftcli.reference.builder import build_profile
from driftcli.reference.kinds import Selection


@pytest.fixture(scope="module")
def features() -> list[Feature]:
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "x": rng.normal(size=500),  # quantile edges
            "d": rng.integers(0, 4, 500).astype(float),  # a bucket per value
            "c": rng.choice(["a", "b", "c"], 500),
            "k": pa.array(rng.choice(["u", "v"], 500)).dictionary_encode(),
        }
    )
    return build_profile(iter([table]), Selection()).features


def live(seed: int, rows: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows).astype(object)
    x[rng.random(rows) < 0.1] = None
    d = rng.choice([0.0, 1.0, 2.0, 7.5, np.nan], rows)
    c = rng.choice(["a", "b", "new", "", "TRUE"], rows).astype(object)
    c[rng.random(rows) < 0.1] = None
    text = [str(v) if v is not None else None for v in x]
    text = [("oops" if i % 7 == 3 else t) for i, t in enumerate(text)]
    return pa.table(
        {
            "x": pa.array(text, pa.string()),  # text numbers, some invalid
            "d": d,
            "c": pa.array(c.tolist(), pa.string()),
            "k": pa.array(rng.choice(["u", "w", None], rows).tolist()).dictionary_encode(),
        }
    )


def test_each_row_is_in_the_bucket_feature_count_counts_it_in(features: list[Feature]) -> None:
    table = live(1, 300)
    for feature in features:
        bucket = feature.place(table.column(feature.name), table.num_rows)
        counted = np.bincount(bucket, minlength=feature.n_buckets)
        assert counted.tolist() == feature.count(table.column(feature.name), 300).tolist()
    absent = features[0].place(None, 5)
    assert absent.tolist() == [features[0].missing_bucket] * 5


def test_a_column_of_another_type_is_invalid_and_nulls_missing(features: list[Feature]) -> None:
    column = pa.array([[1], None, [2]])
    for feature in features:
        assert feature.place(column, 3).tolist() == [
            feature.invalid_bucket,
            feature.missing_bucket,
            feature.invalid_bucket,
        ]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8), st.integers(0, 1000))
@example([30, 12], 3)  # a few pieces: counted piece by piece
@example([5, 1, 9, 30, 2, 7], 4)  # many: a bucket per row, one count
def test_every_chunk_counts_its_own_rows(
    features: list[Feature], sizes: list[int], seed: int
) -> None:
    table = live(seed, sum(sizes))
    bounds = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    keys = [10 * i for i in range(len(sizes))]
    grouped = GroupedCounts(features)
    piece = Piece(table, None, 0, None, "log")
    grouped.add(piece, keys, bounds)
    found = grouped.counts()
    assert [key for key, _ in found] == keys
    for (_, counts), start, end in zip(found, bounds, bounds[1:], strict=False):
        part = table.slice(int(start), int(end - start))
        whole = count_pieces(features, [Piece(part, None, int(start), None, "log")])
        assert counts.rows == whole.rows and counts.columns == whole.columns
        for name, expected in whole.features.items():
            got = counts.features[name]
            assert got.buckets.tolist() == expected.buckets.tolist()
            assert got.types == expected.types
            assert [str(a) for a in got.invalid_at] == [str(a) for a in expected.invalid_at]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 12), st.integers(1, 200), st.integers(0, 1000))
@example(3, 60, 5)
def test_every_group_of_rows_in_no_order_counts_its_own_rows(
    features: list[Feature], groups: int, rows: int, seed: int
) -> None:
    """Slices: a group's rows anywhere in the piece, counted as its rows alone would be,
    numbers group by group over their values in group order, the rest a bucket per row."""
    table = live(seed, rows)
    which = np.random.default_rng(seed).integers(0, groups, rows)
    present = np.flatnonzero(np.bincount(which, minlength=groups))
    renumber = np.zeros(groups, np.int64)
    renumber[present] = np.arange(len(present))
    grouped = GroupedCounts(features)
    grouped.add_groups(Piece(table, None, 0, None, "log"), present.tolist(), renumber[which])
    found = dict(grouped.counts())
    assert sorted(found) == present.tolist()
    for key, counts in found.items():
        mine = np.flatnonzero(which == key)
        part = table.take(pa.array(mine))
        alone = count_pieces(features, [Piece(part, None, 0, None, "log")])
        assert counts.rows == alone.rows == len(mine)
        for name, expected in alone.features.items():
            got = counts.features[name]
            assert got.buckets.tolist() == expected.buckets.tolist(), name
            assert got.types == expected.types
            # Where: the group's first invalid rows, by their place in the whole piece.
            at = [str(a) for a in got.invalid_at]
            assert len(at) == len(expected.invalid_at)
