"""Buckets fixed by the reference, and counting batches over them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftcli.choices import Kind
from driftcli.columns.values import UNTYPED_KEY, TypeClass
from driftcli.counting.buckets import categorical_buckets, numeric_buckets
from driftcli.counting.counter import count_batches
from driftcli.reference.builder import build_profile
from driftcli.results import Status
from driftcli.scoring.compare import compare
from driftcli.settings import Settings


def profile_of(**columns: list[object] | np.ndarray) -> object:
    return build_profile([pa.record_batch({k: pa.array(v) for k, v in columns.items()})])


def test_numeric_edges_are_reference_quantiles_with_open_outer_bins() -> None:
    values = np.random.default_rng(0).normal(size=10_000)
    feature, counts = numeric_buckets("x", np.sort(values), bins=20)
    assert feature.edges is not None
    # The quantiles k/20, between the reference's smallest value and the next float
    # above its largest: the outer buckets hold what lies outside its range.
    inner = np.quantile(values, np.arange(1, 20) / 20)
    np.testing.assert_allclose(feature.edges[1:-1], inner)
    assert feature.edges[0] == values.min()
    assert feature.edges[-1] == np.nextafter(values.max(), np.inf)
    assert feature.n_value_buckets == 22
    assert counts.sum() == 10_000
    assert counts[0] == counts[21] == 0
    assert counts[1:21].min() >= 499 and counts[1:21].max() <= 501  # (nearly) equal
    # Live values outside the reference range land in the outer bins; its extremes do not.
    live = feature.count(pa.array([-1e9, 1e9, 0.0, values.min(), values.max()]), 5)
    assert live[0] == 1 and live[21] == 1 and live[1] == 1 and live[20] == 1
    assert live.sum() == 5


def test_duplicate_edges_are_merged() -> None:
    values = np.r_[np.zeros(800), np.linspace(1, 2, 200)]
    feature, counts = numeric_buckets("x", np.sort(values), bins=20)
    assert feature.edges is not None
    assert len(np.unique(feature.edges)) == len(feature.edges)
    assert len(feature.edges) < 19
    assert counts.sum() == 1000


def test_low_cardinality_numeric_gets_a_bucket_per_value_and_other() -> None:
    values = np.sort(np.array([0, 1, 1, 2, 2, 2, 5] * 10, dtype=float))
    feature, counts = numeric_buckets("kids", values, bins=20)
    assert feature.values is not None and feature.edges is None
    assert list(feature.values) == [0, 1, 2, 5]
    assert list(counts) == [10, 20, 30, 10, 0]  # last is `other`
    live = feature.count(pa.array([1.0, 3.0, 7.0, 5.0, None]), 5)
    assert feature.labels() == ["0", "1", "2", "5", "other", "missing", "invalid"]
    assert list(live) == [0, 1, 0, 1, 2, 1, 0]


def test_categorical_keeps_most_frequent_labels_and_counts_the_rest_as_other() -> None:
    tallies = {"a": 50, "b": 30, "c": 30, "d": 5, "e": 1}
    feature, counts = categorical_buckets("c", tallies, max_categories=3)
    assert feature.categories == ("a", "b", "c")  # ties broken by label
    assert list(counts) == [50, 30, 30, 6]
    live = feature.count(pa.array(["a", "zzz", None, "", "c"]), 5)
    assert list(live) == [1, 0, 1, 1, 2, 0]  # "" is missing, like an empty CSV cell


def test_missing_and_nan_go_to_the_missing_bucket() -> None:
    profile = profile_of(x=[float(i) for i in range(100)] + [None, float("nan")])
    [feature] = profile.features
    ref = profile.counts.features["x"].buckets
    assert ref[feature.missing_bucket] == 2
    assert ref.sum() == 102


def test_infinities_are_values_in_the_outer_bins() -> None:
    values = [float(i) for i in range(100)] + [float("inf"), float("-inf")]
    profile = profile_of(x=values)
    [feature] = profile.features
    assert feature.edges is not None and np.all(np.isfinite(feature.edges))
    ref = profile.counts.features["x"].buckets
    assert ref[feature.missing_bucket] == 0
    assert ref[0] >= 1 and ref[feature.n_value_buckets - 1] >= 1


def untyped_batch(column: list[str]) -> pa.RecordBatch:
    """A text column as the CSV reader marks it: of unknown type."""
    field = pa.field("x", pa.string(), metadata={UNTYPED_KEY: b"1"})
    return pa.record_batch([pa.array(column)], schema=pa.schema([field]))


def test_text_numbers_in_csv_are_numeric_and_bad_ones_invalid() -> None:
    column = [str(i) for i in range(300)] + ["abc", " 12 ", "1e3", ""]
    profile = build_profile([untyped_batch(column)])
    [feature] = profile.features
    assert feature.kind is Kind.NUMERIC
    ref = profile.counts.features["x"].buckets
    assert ref[feature.invalid_bucket] == 1
    assert ref[feature.missing_bucket] == 1
    assert ref.sum() == 304


def test_text_is_categorical_unless_the_source_is_untyped() -> None:
    column = [str(i % 7) for i in range(100)]
    typed = build_profile([pa.record_batch({"x": pa.array(column)})])
    assert typed.features[0].kind is Kind.CATEGORICAL
    untyped = build_profile([untyped_batch(column)])
    assert untyped.features[0].kind is Kind.NUMERIC


def test_string_in_numeric_live_column_is_invalid() -> None:
    profile = profile_of(x=np.arange(100.0))
    live = count_batches(profile.features, [pa.record_batch({"x": pa.array(["5", "oops", None])})])
    feature = profile.features[0]
    counts = live.features["x"].buckets
    assert counts[feature.invalid_bucket] == 1
    assert counts[feature.missing_bucket] == 1
    assert live.features["x"].types is TypeClass.TEXT


def test_booleans_are_categorical_and_match_text_true_false() -> None:
    profile = profile_of(flag=[True, False, True, None] * 10)
    [feature] = profile.features
    assert feature.kind is Kind.CATEGORICAL
    assert set(feature.categories or ()) == {"true", "false"}
    live = count_batches(profile.features, [pa.record_batch({"flag": pa.array(["true", "false"])})])
    assert live.features["flag"].buckets[: feature.n_value_buckets].sum() == 2


def test_unsupported_and_empty_columns_are_skipped_with_a_reason() -> None:
    batch = pa.record_batch(
        {
            "x": pa.array(np.arange(50.0)),
            "nested": pa.array([[1, 2]] * 50),
            "empty": pa.nulls(50),
        }
    )
    profile = build_profile([batch])
    assert [f.name for f in profile.features] == ["x"]
    assert "unsupported type" in profile.skipped["nested"]
    assert "no values" in profile.skipped["empty"]


def test_identifier_like_text_column_is_skipped() -> None:
    ids = [f"user-{i}" for i in range(500)]
    profile = profile_of(id=ids, x=np.arange(500.0))
    assert "identifier" in profile.skipped["id"]


def test_column_absent_from_some_batches_counts_as_missing_there() -> None:
    first = pa.record_batch({"x": pa.array(np.arange(100.0))})
    second = pa.record_batch({"y": pa.array(["a"] * 30)})
    profile = build_profile([first, second])
    x = profile.counts.features["x"].buckets
    y = profile.counts.features["y"].buckets
    assert x[profile.features[0].missing_bucket] == 30
    assert y[profile.features[1].missing_bucket] == 100
    assert profile.counts.rows == 130


def test_dictionary_columns_count_like_plain_text() -> None:
    labels = ["a", "b", "c", "a", None] * 20
    plain = profile_of(c=labels)
    encoded = build_profile([pa.record_batch({"c": pa.array(labels).dictionary_encode()})])
    assert encoded.features[0].categories == plain.features[0].categories
    np.testing.assert_array_equal(
        encoded.counts.features["c"].buckets, plain.counts.features["c"].buckets
    )


@pytest.mark.parametrize("index_type", [pa.int8(), pa.uint8(), pa.int16(), pa.int64()])
def test_dictionary_with_small_full_index_type_and_nulls_is_counted(
    index_type: pa.DataType,
) -> None:
    """Nulls are counted even when the dictionary's size does not fit its int8 indices."""
    from driftcli.columns.values import tally_texts

    size = 128 if index_type == pa.int8() else 120
    indices = pa.array([0, None, size - 1, 0], index_type)
    column = pa.DictionaryArray.from_arrays(indices, pa.array([f"v{i}" for i in range(size)]))
    tally = tally_texts(column)
    assert dict(zip(tally.labels.to_pylist(), tally.counts.tolist(), strict=True)) == {
        "v0": 2,
        f"v{size - 1}": 1,
    }
    assert tally.missing == 1


finite_values = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False) | st.none(), min_size=1, max_size=300
)


@settings(max_examples=60, deadline=None)
@given(finite_values, finite_values, st.integers(0, 299))
def test_counts_are_additive_and_order_free(
    ref: list[float | None], live: list[float | None], cut: int
) -> None:
    profile = build_profile([pa.record_batch({"x": pa.array([*ref, 1.0], pa.float64())})])
    whole = count_batches(profile.features, [pa.record_batch({"x": pa.array(live, pa.float64())})])
    cut = min(cut, len(live))
    parts = [live[:cut], live[cut:]]
    split = [
        count_batches(profile.features, [pa.record_batch({"x": pa.array(p, pa.float64())})])
        for p in parts
    ]
    merged = split[0].merge(split[1])
    np.testing.assert_array_equal(merged.features["x"].buckets, whole.features["x"].buckets)
    shuffled = list(reversed(live))
    reordered = count_batches(
        profile.features, [pa.record_batch({"x": pa.array(shuffled, pa.float64())})]
    )
    np.testing.assert_array_equal(reordered.features["x"].buckets, whole.features["x"].buckets)
    assert whole.features["x"].buckets.sum() == len(live)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=1, max_size=200))
def test_reference_counts_equal_counting_the_reference_again(labels: list[str | None]) -> None:
    batch = pa.record_batch({"c": pa.array(labels, pa.string())})
    profile = build_profile([batch])
    if not profile.features:
        assert "no values" in profile.skipped["c"]
        return
    again = count_batches(profile.features, [batch])
    np.testing.assert_array_equal(again.features["c"].buckets, profile.counts.features["c"].buckets)


@pytest.mark.parametrize("bins", [2, 5, 20, 50])
def test_reference_counts_equal_counting_numeric_reference_again(bins: int) -> None:
    values = np.random.default_rng(bins).lognormal(size=3_000)
    values[::37] = np.nan
    batch = pa.record_batch({"x": pa.array(values)})
    profile = build_profile([batch], bins=bins)
    again = count_batches(profile.features, [batch])
    np.testing.assert_array_equal(again.features["x"].buckets, profile.counts.features["x"].buckets)


def test_a_small_continuous_reference_gets_quantile_buckets_not_one_per_value() -> None:
    # 20 distinct values are at most --bins, but none repeats: bucketed by
    # value, every fresh live value would land in `other` and drift.
    values = np.sort(np.random.default_rng(1).normal(size=20))
    feature, counts = numeric_buckets("x", values, bins=20)
    assert feature.values is None and feature.edges is not None
    assert feature.n_value_buckets == 12  # two reference rows a bucket, and its range
    assert list(counts) == [0, *[2] * 10, 0]


def test_values_that_repeat_keep_a_bucket_per_value_even_in_a_tiny_reference() -> None:
    feature, counts = numeric_buckets("flag", np.sort(np.array([0.0, 1, 0, 1, 1, 0])), bins=20)
    assert feature.values is not None and list(feature.values) == [0, 1]
    assert list(counts) == [3, 3, 0]


def test_fresh_data_is_not_drift_against_a_twenty_row_reference() -> None:
    rng = np.random.default_rng(2)
    ref = pa.record_batch({f"x{i}": rng.normal(size=20) for i in range(200)})
    live = pa.record_batch({f"x{i}": rng.normal(size=50) for i in range(200)})
    profile = build_profile([ref])
    results = compare(profile, count_batches(profile.features, [live]), Settings())
    assert sum(r.status is Status.DRIFT for r in results) <= 2
