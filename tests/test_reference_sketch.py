"""Large numeric reference columns: past the values held exactly, buckets stay right.

HOLD_VALUES is lowered so that a few thousand values exercise what happens
past a million in real use.
"""

from __future__ import annotations

import io
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftcli import api as core
from driftcli.columns import samples as sample_module
from driftcli.columns.samples import ThinSample
from driftcli.counting.buckets import Profile, cuts_of
from driftcli.errors import InputError
from driftcli.inputs import dataset as datasets
from driftcli.inputs import parquet_format as readers
from driftcli.reference import sketch
from driftcli.reference.builder import build_profile
from driftcli.reference.sketch import NumericSketch

HOLD = 4_000
ROWS = 40_000
BATCH = 1_000
BINS = 20


@pytest.fixture(autouse=True)
def small_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sketch, "HOLD_VALUES", HOLD)
    monkeypatch.setattr(sketch, "SAMPLE_VALUES", 2_048)


def batches_of(values: np.ndarray) -> list[pa.RecordBatch]:
    return [
        pa.record_batch({"x": pa.array(values[i : i + BATCH], from_pandas=True)})
        for i in range(0, len(values), BATCH)
    ]


def profile(values: np.ndarray, *, rereadable: bool) -> Profile:
    batches = batches_of(values)
    reread = (lambda names: iter(batches_of(values))) if rereadable else None
    return build_profile(iter(batches), bins=BINS, reread=reread)


def exact_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    present = values[~np.isnan(values)]
    below = [np.count_nonzero(present < e) for e in edges]
    return np.diff(np.r_[0, below, len(present)])


def ranks(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    present = np.sort(values[~np.isnan(values)])
    return np.searchsorted(present, edges) / len(present)


@given(st.integers(1, 20_000), st.lists(st.integers(0, 20_000), max_size=20), st.integers(8, 512))
@settings(max_examples=100, deadline=None)
def test_thin_sample_is_bounded_and_drawn_from_the_present_values(
    n: int, cuts: list[int], size: int
) -> None:
    values = np.arange(n, dtype=float)
    values[::3] = np.nan
    sample = ThinSample(size)
    bounds = sorted({0, n, *(c % (n + 1) for c in cuts)})
    for lo, hi in itertools.pairwise(bounds):
        sample.add(values[lo:hi])
    kept = sample.values()
    assert len(kept) == len(sample) <= size
    assert not np.isnan(kept).any()
    assert len(np.unique(kept)) == len(kept)  # each value at most once
    assert set(kept.tolist()) <= set(values[~np.isnan(values)].tolist())
    if size >= 64 and np.count_nonzero(~np.isnan(values)) > size:
        assert len(kept) > size / 4  # thinned by halves at random, never emptied


def test_thin_sample_does_not_line_up_with_a_pattern_in_the_rows() -> None:
    """Values on every other row: an every-k-th sample of rows saw all of them or none."""
    values = np.arange(200_000, dtype=float)
    values[::2] = np.nan
    sample = ThinSample(1_000)
    for i in range(0, len(values), 1_000):
        sample.add(values[i : i + 1_000])
    kept = np.sort(sample.values())
    assert len(kept) > 400
    # Spread over the whole range, like the present values (odd numbers up to 200k).
    assert np.abs(np.quantile(kept, [0.1, 0.5, 0.9]) - [20_000, 100_000, 180_000]).max() < 8_000
    assert np.all(kept % 2 == 1)


@pytest.mark.parametrize("rereadable", [True, False])
def test_shuffled_column_gets_near_quantile_edges_and_exact_counts(rereadable: bool) -> None:
    rng = np.random.default_rng(1)
    values = rng.lognormal(size=ROWS)
    values[rng.random(ROWS) < 0.02] = np.nan
    result = profile(values, rereadable=rereadable)
    feature = result.features[0]
    assert feature.edges is not None and len(feature.edges) == BINS + 1
    buckets = result.counts.features["x"].buckets
    np.testing.assert_array_equal(buckets[: BINS + 2], exact_counts(values, feature.edges))
    assert buckets[feature.missing_bucket] == np.count_nonzero(np.isnan(values))
    # Within sampling error of the whole column's quantiles (4k values held: ~0.008),
    # between the column's smallest value and its largest.
    assert feature.edges[0] == np.nanmin(values)
    assert feature.edges[-1] == np.nextafter(np.nanmax(values), np.inf)
    quantile_edges = feature.edges[1:-1]
    assert np.abs(ranks(values, quantile_edges) - np.arange(1, BINS) / BINS).max() < 0.03


@pytest.mark.parametrize("rereadable", [True, False])
def test_column_sorted_by_a_trend_still_gets_balanced_buckets(rereadable: bool) -> None:
    """The first values held are the smallest: their quantiles would crowd one end."""
    rng = np.random.default_rng(2)
    values = np.linspace(0, 100, ROWS) + rng.normal(size=ROWS)
    result = profile(values, rereadable=rereadable)
    feature = result.features[0]
    assert feature.edges is not None
    buckets = result.counts.features["x"].buckets
    np.testing.assert_array_equal(buckets[:-2], exact_counts(values, feature.edges))
    assert buckets[0] == buckets[-3] == 0  # nothing outside the column's own range
    shares = buckets[1:-3] / ROWS
    # Fine grid: steps of about 1% of the held range past it; sample: about 1% in rank.
    tolerance = 0.02
    assert np.abs(shares - 1 / BINS).max() < tolerance


def test_trend_detected_only_when_the_later_values_sit_otherwise() -> None:
    rng = np.random.default_rng(3)
    shuffled = NumericSketch(rereadable=True)
    trending = NumericSketch(rereadable=True)
    steady, rising = rng.normal(size=ROWS), np.sort(rng.normal(size=ROWS))
    for i in range(0, ROWS, BATCH):
        shuffled.add(steady[i : i + BATCH], 0, BINS)
        trending.add(rising[i : i + BATCH], 0, BINS)
    assert not shuffled.result(BINS).recount  # the buckets fixed from the hold stand
    assert trending.result(BINS).recount


def test_discrete_column_keeps_a_bucket_per_value_past_the_held_values() -> None:
    rng = np.random.default_rng(4)
    values = rng.integers(0, 6, size=ROWS).astype(float)
    values[-50:] = 9.0  # a rare value seen only late: counted in `other`
    for rereadable in (True, False):
        result = profile(values, rereadable=rereadable)
        feature, counts = result.features[0], result.counts.features["x"].buckets
        expected = [np.count_nonzero(values == v) for v in range(6)]
        if rereadable:
            assert list(feature.values) == [0, 1, 2, 3, 4, 5]
            assert list(counts[:7]) == [*expected, 50]
        else:  # the grid tracks every distinct value while there are few
            assert list(feature.values) == [0, 1, 2, 3, 4, 5, 9]
            assert list(counts[:8]) == [*expected, 50, 0]


def test_discrete_column_whose_later_values_are_new_is_bucketed_again() -> None:
    values = np.r_[np.zeros(HOLD + 1), np.arange(ROWS, dtype=float)]
    result = profile(values, rereadable=True)
    feature = result.features[0]
    assert feature.edges is not None  # no longer a handful of values
    buckets = result.counts.features["x"].buckets
    np.testing.assert_array_equal(buckets[:-2], exact_counts(values, feature.edges))


def test_reference_file_changed_between_the_two_passes_is_an_error() -> None:
    values = np.linspace(0, 1, ROWS)
    with pytest.raises(InputError, match="changed while it was read"):
        build_profile(
            iter(batches_of(values)), bins=BINS, reread=lambda names: iter(batches_of(values[:-5]))
        )


def test_reference_file_is_read_twice_only_when_a_column_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    path = tmp_path / "ref.parquet"
    steady = pa.table({"steady": rng.normal(size=ROWS)})
    pq.write_table(steady, path)
    opened: list[object] = []
    read_again: set[str] = set()
    real = readers.ParquetSource.batches_again

    def counting(source: readers.ParquetSource, columns: list[str]) -> Iterator[pa.RecordBatch]:
        opened.append(columns)
        for batch in real(source, columns):
            read_again.update(batch.schema.names)
            yield batch

    monkeypatch.setattr(readers.ParquetSource, "batches_again", counting)
    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", BATCH)
    core.build_reference(str(path))
    assert opened == []
    trend = steady.append_column("rising", pa.array(np.linspace(0, 1, ROWS)))
    pq.write_table(trend, path)
    snapshot = core.build_reference(str(path))
    assert len(opened) == 1
    assert read_again == {"rising"}  # Parquet reads just the column counted again
    rising = snapshot.profile.counts.features["rising"].buckets
    assert rising.sum() == ROWS and np.abs(rising[1:-3] / ROWS - 1 / BINS).max() < 0.02


def test_column_present_on_every_other_row_and_trending_gets_real_buckets() -> None:
    """A column with values on every other row still gets its buckets: the sample is random,
    not every k-th row."""
    values = np.arange(ROWS, dtype=float)
    values[::2] = np.nan
    result = profile(values, rereadable=True)
    feature = result.features[0]
    assert feature.edges is not None and len(feature.edges) == BINS + 1
    buckets = result.counts.features["x"].buckets
    assert np.abs(buckets[1 : BINS + 1] / (ROWS / 2) - 1 / BINS).max() < 0.02
    live = feature.count(pa.array(np.full(100, 1e9)), 100)
    assert live[BINS + 1] == 100  # beyond the reference's range: the top bucket, not `other`


def test_cyclic_trending_column_gets_balanced_buckets() -> None:
    """Hourly rows in time order: a trend plus a daily cycle (a stride of 16 saw three hours)."""
    hours = np.arange(ROWS)
    values = hours / ROWS * 5 + 8 * np.sin(2 * np.pi * (hours % 24) / 24)
    result = profile(values, rereadable=True)
    shares = result.counts.features["x"].buckets[1:-3] / ROWS
    assert np.abs(shares - 1 / BINS).max() < 0.02


def test_thin_sample_with_the_stream_size_known_starts_at_its_rate() -> None:
    """Told how many values come, the sample draws sparsely from the start and still fills."""
    values = np.arange(100_000, dtype=float)
    values[::4] = np.nan  # 75,000 present
    told = ThinSample(1_000, expected=75_000)
    assert told.rate == 1 / 128  # 75,000 / 128 = 586 values: the rate they fit at
    for i in range(0, len(values), 7_000):
        told.add(values[i : i + 7_000])
    kept = told.values()
    assert 400 < len(kept) <= 1_000 and not np.isnan(kept).any()
    assert np.abs(np.quantile(kept, [0.25, 0.5, 0.75]) - [25_000, 50_000, 75_000]).max() < 6_000


def test_a_batch_that_would_overfill_the_sample_is_drawn_at_the_lower_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not taken whole and halved after: no draw is made for values about to be thinned."""
    draws: list[tuple[int, float]] = []
    real = sample_module.chosen

    def recording(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
        draws.append((n, rate))
        return real(rng, n, rate)

    monkeypatch.setattr(sample_module, "chosen", recording)
    sample = ThinSample(1_000)
    sample.add(np.arange(10_000, dtype=float))
    assert sample.rate <= 1 / 8 and 0 < len(sample) <= 1_000
    assert (10_000, 1 / 16) in draws  # the batch itself, at the rate it fits at


def test_sketch_goes_on_from_the_held_values_before_a_batch_would_pass_the_hold() -> None:
    """Batches of 3/4 of the hold: the edges are the first batch's quantiles, not two batches'."""
    rng = np.random.default_rng(6)
    first, second = rng.normal(size=3_000), rng.normal(size=3_000) + 0.01
    sketch_ = NumericSketch(rereadable=True)
    sketch_.add(first, 0, BINS)
    assert sketch_.exact
    sketch_.add(second, 0, BINS)
    assert not sketch_.exact
    fixed = sketch_.result(BINS)
    assert not fixed.recount
    cuts, counts = fixed.cuts, fixed.counts
    expected_cuts, _ = cuts_of(np.sort(first), BINS)
    np.testing.assert_array_equal(cuts.edges, expected_cuts.edges)
    both = np.r_[first, second]
    np.testing.assert_array_equal(counts, exact_counts(both, cuts.edges))


def test_a_single_batch_larger_than_the_hold_is_held_whole() -> None:
    values = np.random.default_rng(7).normal(size=3 * HOLD)
    sketch_ = NumericSketch(rereadable=True)
    sketch_.add(values, 0, BINS)
    assert not sketch_.exact  # past the hold, with edges from all of it
    fixed = sketch_.result(BINS)
    assert not fixed.recount
    expected_cuts, _ = cuts_of(np.sort(values), BINS)
    np.testing.assert_array_equal(fixed.cuts.edges, expected_cuts.edges)


def test_second_read_of_a_dataset_reads_just_the_column_counted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(8)
    half = ROWS // 2
    rising = np.linspace(0, 1, ROWS)
    for i, day in enumerate(["day=1", "day=2"]):
        (tmp_path / day).mkdir()
        part = slice(i * half, (i + 1) * half)
        table = pa.table({"steady": rng.normal(size=half), "rising": rising[part]})
        pq.write_table(table, tmp_path / day / "part.parquet")
    read_again: set[str] = set()
    real = datasets.DatasetSource.batches_again

    def recording(source: datasets.DatasetSource, columns: list[str]) -> Iterator[pa.RecordBatch]:
        for batch in real(source, columns):
            read_again.update(batch.schema.names)
            yield batch

    monkeypatch.setattr(datasets.DatasetSource, "batches_again", recording)
    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", BATCH)
    snapshot = core.build_reference(str(tmp_path))
    assert read_again == {"rising", "day"}  # the partition column comes with every file
    counts = snapshot.profile.counts.features["rising"].buckets
    feature = next(f for f in snapshot.profile.features if f.name == "rising")
    assert feature.edges is not None
    np.testing.assert_array_equal(counts[:-2], exact_counts(rising, feature.edges))


def test_column_absent_from_most_rows_still_gets_a_full_sample() -> None:
    """The footer's row count is not taken for values to come: a column absent from the
    first 2M rows still gets a full sample (not 9 values and 9 one-value buckets)."""
    nulls = [pa.record_batch({"x": pa.nulls(100_000, pa.float64())}) for _ in range(20)]
    late = np.linspace(0, 1, 12_000)  # trending: bucketed again, from the sample
    rows = 20 * 100_000 + len(late)
    result = build_profile(
        iter(nulls + batches_of(late)),
        bins=BINS,
        reread=lambda names: iter(nulls + batches_of(late)),
        expected_rows=rows,
    )
    feature = result.features[0]
    assert feature.edges is not None and len(feature.edges) == BINS + 1
    shares = result.counts.features["x"].buckets[1 : BINS + 1] / len(late)
    assert np.abs(shares - 1 / BINS).max() < 0.02


def test_reference_of_at_most_twice_the_hold_is_held_whole() -> None:
    """Told the rows up front, a sorted column of 1.75 x the hold gets exact quantile edges
    in one read, not from the sample's edges and a second read."""
    values = np.arange(7_000, dtype=float)
    batches = [values[:3_500], values[3_500:]]
    sketch_ = NumericSketch(rereadable=True, expected=len(values))
    for batch in batches:
        sketch_.add(batch, 0, BINS)
    assert sketch_.exact
    result = build_profile(
        iter(batches_of(values)),
        bins=BINS,
        reread=lambda names: pytest.fail("read again"),
        expected_rows=len(values),
    )
    feature = result.features[0]
    expected_cuts, _ = cuts_of(values, BINS)
    np.testing.assert_array_equal(feature.edges, expected_cuts.edges)


def test_values_near_the_float_limit_give_ordered_edges_and_counts() -> None:
    """Quantiles between -1e308 and 1e308 do not overflow to inf between the edges."""
    values = (
        np.r_[np.full(500, -1e308), np.full(500, 1e308)]
        + np.r_[-np.arange(500) * 1e292, np.arange(500) * 1e292]
    )
    cuts, counts = cuts_of(np.sort(values), BINS)
    assert cuts.edges is not None
    assert np.all(np.diff(cuts.edges) > 0) and np.isfinite(cuts.edges).all()
    assert (counts >= 0).all() and counts.sum() == len(values)
    np.testing.assert_array_equal(counts, exact_counts(values, cuts.edges))


def test_parquet_reference_on_stdin_is_read_again_from_its_spool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Parquet from a stream is spooled to a file anyway: a trending column is bucketed
    from its sample and counted again from the spool, not over the fine grid."""
    rising = np.linspace(0, 1, ROWS)
    buffer = io.BytesIO()
    pq.write_table(pa.table({"rising": rising}), buffer)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(buffer.getvalue())))
    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", BATCH)
    read_again: list[list[str]] = []
    real = readers.ParquetSource.batches_again

    def recording(source: readers.ParquetSource, columns: list[str]) -> Iterator[pa.RecordBatch]:
        read_again.append(list(columns))
        yield from real(source, columns)

    monkeypatch.setattr(readers.ParquetSource, "batches_again", recording)
    snapshot = core.build_reference("-")
    assert read_again == [["rising"]]
    feature = snapshot.profile.features[0]
    assert feature.edges is not None
    counts = snapshot.profile.counts.features["rising"].buckets
    np.testing.assert_array_equal(counts[:-2], exact_counts(rising, feature.edges))
    assert np.abs(counts[1:-3] / ROWS - 1 / BINS).max() < 0.02


@pytest.mark.parametrize("absent", ["missing rows", "all-NaN batches", "column not there yet"])
def test_rows_without_the_column_count_toward_the_values_to_come(absent: str) -> None:
    """Told 206k rows of which only the last 6k have values, the sample's first rate is set
    for 6k values, not for 206k (which would leave a quarter of the sample): when the later
    values moved and the buckets are taken again from the sample, it supports that many."""
    late = np.random.default_rng(9).normal(size=6_000)
    late[HOLD:] += 100.0  # past the hold the values sit elsewhere: the buckets are redone
    many = 2_048  # more buckets asked for than the sample can fill, so its size shows
    early = {
        "missing rows": pa.nulls(BATCH, pa.float64()),
        "all-NaN batches": pa.array(np.full(BATCH, np.nan)),
    }.get(absent)

    def batches() -> Iterator[pa.RecordBatch]:
        for _ in range(200):
            without = {} if early is None else {"x": early}
            yield pa.record_batch({"y": pa.array(np.zeros(BATCH)), **without})
        for i in range(0, len(late), BATCH):
            yield pa.record_batch({"y": pa.array(np.zeros(BATCH)), "x": late[i : i + BATCH]})

    made = build_profile(
        batches(),
        reread=lambda names: batches(),
        expected_rows=200 * BATCH + len(late),
        bins=many,
    )
    [x] = [f for f in made.features if f.name == "x"]
    # 6k values at rate 1/2 or 1/4 fill over half of 2,048, a bucket per two of them;
    # counted as 206k, at rate 1/16 or lower: 375 values at most, 187 buckets.
    assert len(x.edges) > 500
    counts = made.counts.features["x"].buckets  # recounted exactly over those buckets
    assert counts[x.missing_bucket] == 200 * BATCH and counts.sum() == 200 * BATCH + len(late)
    np.testing.assert_array_equal(counts[:-2], exact_counts(late, x.edges))
