"""The store: snapshots, windows, trimming, durability checks, safety."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftcli.api import build_reference, check, check_window, load_reference
from driftcli.errors import StoreError, UsageError
from driftcli.store import Store
from driftcli.store.snapshot import SNAPSHOT_KEY, read_snapshot, write_snapshot
from tests.conftest import Invoke


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store", create=True)


@pytest.fixture
def snapshot(sample: Path) -> object:
    return build_reference(str(sample / "ref.parquet"), sample_rows=500)


def numbered(start: int, n: int) -> pa.Table:
    return pa.table(
        {"i": np.arange(start, start + n), "x": np.random.default_rng(start).normal(size=n)}
    )


def test_snapshot_round_trips_exactly(snapshot: object, tmp_path: Path) -> None:
    path = tmp_path / "ref.parquet"
    write_snapshot(snapshot, path)  # type: ignore[arg-type]
    loaded = read_snapshot(path)
    original = snapshot.profile  # type: ignore[attr-defined]
    assert [f.name for f in loaded.profile.features] == [f.name for f in original.features]
    for a, b in zip(loaded.profile.features, original.features, strict=True):
        assert a.labels() == b.labels() and a.kind == b.kind and a.source_type == b.source_type
        if a.edges is not None:
            np.testing.assert_array_equal(a.edges, b.edges)
        np.testing.assert_array_equal(
            loaded.profile.counts.features[a.name].buckets, original.counts.features[b.name].buckets
        )
    assert loaded.reference_id == snapshot.reference_id  # type: ignore[attr-defined]
    assert loaded.sample.num_rows == 500
    assert loaded.source.rows == 2000
    # Readable by any Parquet reader, with the profile as JSON in the footer.
    document = json.loads(pq.read_metadata(path).metadata[SNAPSHOT_KEY])
    assert document["kind"] == "reference-snapshot" and document["format_version"] == 1
    assert pq.read_table(path).num_rows == 500


def test_snapshot_with_infinite_discrete_values_round_trips(tmp_path: Path) -> None:
    data = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x": [1.0, float("inf"), float("-inf"), 2.0] * 25}), data)
    snap = build_reference(str(data))
    write_snapshot(snap, tmp_path / "s.parquet")
    loaded = read_snapshot(tmp_path / "s.parquet")
    assert loaded.profile.features[0].labels()[:4] == ["-inf", "1", "2", "inf"]


def test_snapshot_as_ref_gives_the_same_scores_as_raw_data(
    snapshot: object, sample: Path, tmp_path: Path
) -> None:
    path = tmp_path / "snap.parquet"
    write_snapshot(snapshot, path)  # type: ignore[arg-type]
    live = str(sample / "live_drift.csv")
    from_raw = check(live, str(sample / "ref.parquet"))
    from_snapshot = check(live, str(path))
    assert [f.score for f in from_snapshot.features] == [f.score for f in from_raw.features]
    assert from_snapshot.reference.name == str(sample / "ref.parquet")


def test_the_snapshot_sample_holds_only_the_features_unless_asked(
    invoke: Invoke, sample: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(7)
    n = 400
    table = pq.read_table(sample / "ref.parquet").slice(0, n)
    table = table.append_column("email", pa.array([f"user{i}@example.com" for i in range(n)]))
    table = table.append_column("tags", pa.array([[int(v)] for v in rng.integers(0, 9, n)]))
    table = table.append_column("secret", pa.array(rng.normal(size=n)))
    data = tmp_path / "ref.parquet"
    pq.write_table(table, data)
    features = ["age", "income", "score", "country", "device"]

    def sampled(*args: str) -> list[str]:
        out = tmp_path / "snap.parquet"
        result = invoke("reference", data, "-o", out, "--exclude", "secret", *args)
        assert result.exit_code == 0, result.stderr
        return pq.read_table(out).column_names

    assert sampled() == features
    skipped = read_snapshot(tmp_path / "snap.parquet").profile.skipped
    assert set(skipped) == {"email", "tags"}  # an identifier, an unsupported type
    assert sampled("--features", "age") == ["age"]
    assert sampled("--sample-all-columns") == [*features, "email", "tags"]  # never --exclude'd
    api = build_reference(str(data), sample_rows=100)  # secret is a feature here
    assert api.sample.column_names == [*features, "secret"]


def test_window_keeps_exactly_the_last_n_rows(store: Store) -> None:
    window = store.window("live")
    for start in range(0, 3000, 700):
        window.append(numbered(start, 700), features=None, reference_id=None, max_rows=1000)
    rows = pa.concat_tables(list(window.tables()))
    assert rows.column("i").to_pylist() == list(range(3500 - 1000, 3500))
    assert sum(s.rows for s in window.segments()) == 1000


def test_window_bound_after_three_times_its_size_in_one_append(store: Store) -> None:
    window = store.window("w")
    window.append(numbered(0, 100), features=None, reference_id=None, max_rows=250)
    window.append(numbered(100, 750), features=None, reference_id=None)
    rows = pa.concat_tables(list(window.tables()))
    assert rows.column("i").to_pylist() == list(range(600, 850))
    assert window.max_rows() == 250  # remembered from the first append


def test_window_counts_equal_counting_its_rows(
    store: Store, snapshot: object, sample: Path
) -> None:
    features = snapshot.profile.features  # type: ignore[attr-defined]
    rid = snapshot.reference_id  # type: ignore[attr-defined]
    table = pq.read_table(sample / "live_drift.parquet")
    window = store.window("live")
    for start in range(0, 500, 120):
        window.append(table.slice(start, 120), features=features, reference_id=rid)
    direct = check(str(sample / "live_drift.parquet"), str(sample / "ref.parquet"))
    stored = check_window(window, snapshot)  # type: ignore[arg-type]
    for a, b in zip(stored.features, direct.features, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-9)
        np.testing.assert_array_equal(a.live, b.live)


def test_segments_counted_over_other_buckets_are_recounted(
    store: Store, snapshot: object, sample: Path
) -> None:
    table = pq.read_table(sample / "live_drift.parquet")
    window = store.window("live")
    window.append(table, features=None, reference_id=None)  # ingested before any reference
    coarse = build_reference(str(sample / "ref.parquet"), replace_bins(5))
    for reference in (snapshot, coarse):
        direct = check(
            str(sample / "live_drift.parquet"),
            str(sample / "ref.parquet"),
            replace_bins(reference.bins),
        )  # type: ignore[attr-defined]
        stored = check_window(window, reference)  # type: ignore[arg-type]
        assert [f.score for f in stored.features] == pytest.approx(
            [f.score for f in direct.features], abs=1e-9
        )


def replace_bins(bins: int) -> object:
    from driftcli.settings import Settings

    return Settings(bins=bins, max_categories=bins)


@pytest.mark.parametrize("name", ["../x", "..", ".", "a/b", "", "-rf", "x" * 65, "a b"])
def test_window_names_cannot_escape_the_store(store: Store, name: str) -> None:
    with pytest.raises(UsageError, match="invalid window name"):
        store.window(name)


def test_symlinks_inside_the_store_are_not_followed(store: Store, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.root / "windows").mkdir()
    (store.root / "windows" / "live").symlink_to(outside)
    with pytest.raises(StoreError, match="symbolic link"):
        store.window("live").append(numbered(0, 5), features=None, reference_id=None)
    assert list(outside.iterdir()) == []
    store.reference_path.symlink_to(outside / "ref.parquet")
    with pytest.raises(StoreError, match="symbolic link"):
        store.load_reference()


def test_store_files_follow_the_umask(tmp_path: Path, snapshot: object) -> None:
    old = os.umask(0o002)
    try:
        home = Store.open(tmp_path / "s", create=True)
        home.save_reference(snapshot)  # type: ignore[arg-type]
        home.window("live").append(numbered(0, 5), features=None, reference_id=None)
    finally:
        os.umask(old)
    for path in (tmp_path / "s").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert not mode & stat.S_IWOTH, path
        if path.is_file() and path.name != ".lock":
            assert mode & stat.S_IRGRP, path  # umask 002: not tempfile's private 0600


def test_a_directory_with_other_files_is_not_taken_for_a_store(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="is not a driftcli store"):
        Store.open(tmp_path, create=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_missing_store_and_missing_reference(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no driftcli store at"):
        Store.open(tmp_path / "nope", create=False)
    home = Store.open(tmp_path / "new", create=True)
    with pytest.raises(StoreError, match="no reference in the store"):
        home.load_reference()


def test_corrupt_and_foreign_files_are_store_errors(store: Store, snapshot: object) -> None:
    store.save_reference(snapshot)  # type: ignore[arg-type]
    window = store.window("live")
    window.append(numbered(0, 10), features=None, reference_id=None)
    segment = next(window.path.glob("seg-*.parquet"))
    segment.write_bytes(segment.read_bytes()[:-30])
    with pytest.raises(StoreError, match="corrupt window segment"):
        window.segments()
    pq.write_table(numbered(0, 3), segment)  # a Parquet file, but not one of ours
    with pytest.raises(StoreError, match="not a driftcli window segment"):
        window.segments()
    store.reference_path.write_bytes(b"garbage")
    with pytest.raises(StoreError, match="not a driftcli snapshot"):
        store.load_reference()


def test_snapshot_from_a_newer_version_is_refused(snapshot: object, tmp_path: Path) -> None:
    path = tmp_path / "future.parquet"
    write_snapshot(snapshot, path)  # type: ignore[arg-type]
    table = pq.read_table(path)
    document = json.loads(table.schema.metadata[SNAPSHOT_KEY])
    document["format_version"] = 99
    pq.write_table(table.replace_schema_metadata({SNAPSHOT_KEY: json.dumps(document)}), path)
    with pytest.raises(StoreError, match="newer driftcli"):
        read_snapshot(path)
    with pytest.raises(StoreError, match="newer driftcli"):
        load_reference(str(path))


def test_left_over_temp_files_are_ignored_and_cleaned(store: Store) -> None:
    window = store.window("live")
    window.append(numbered(0, 5), features=None, reference_id=None)
    leftover = window.path / ".tmp-deadbeef.parquet"
    leftover.write_bytes(b"half a file")
    assert sum(s.rows for s in window.segments()) == 5
    window.append(numbered(5, 5), features=None, reference_id=None)
    assert not leftover.exists()


def test_type_families_are_written_by_name_and_read_as_numbers_too(
    snapshot: object, tmp_path: Path
) -> None:
    import hashlib

    from driftcli.store.codec import decode_feature, encode_feature

    doc = json.loads(pq.read_metadata(_written(snapshot, tmp_path)).metadata[SNAPSHOT_KEY])
    types = {f["name"]: f["source_type"] for f in doc["features"]}
    assert types["income"] == ["number"] and types["country"] == ["text"]
    assert doc["counts"]["features"]["income"]["types"] == ["number"]
    features = snapshot.profile.features  # type: ignore[attr-defined]
    # As driftcli 0.1 wrote them, by number: read alike, and the reference keeps its id.
    old = [encode_feature(f) | {"source_type": int(f.source_type)} for f in features]
    for doc_of_01, feature in zip(old, features, strict=True):
        read = decode_feature(doc_of_01)
        assert read.source_type == feature.source_type and read.labels() == feature.labels()
    digest = hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:16]
    assert snapshot.reference_id == digest  # type: ignore[attr-defined]


def _written(snapshot: object, tmp_path: Path) -> Path:
    path = tmp_path / "snap.parquet"
    write_snapshot(snapshot, path)  # type: ignore[arg-type]
    return path


def _special(kind: str, path: Path) -> None:
    """Make a file of `kind` at `path`: what `reference -o` must never replace."""
    if kind == "named pipe":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "socket":
        import socket

        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    else:
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of its own


@pytest.mark.parametrize("kind", ["device", "named pipe", "socket", "directory"])
def test_reference_output_over_a_special_file_is_refused(
    tmp_path: Path, sample: Path, kind: str
) -> None:
    from typer.testing import CliRunner

    from driftcli.cli import app

    target = tmp_path / "out.parquet"
    _special(kind, target)
    before = target.lstat()
    args = ["reference", str(sample / "ref.csv"), "-o", str(target)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert f"{target}: is not a regular file (a {kind})" in result.stderr
    assert "Traceback" not in result.stderr
    after = target.lstat()
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]  # no temp file left


def test_reference_output_through_a_link_replaces_its_target(tmp_path: Path, sample: Path) -> None:
    from typer.testing import CliRunner

    from driftcli.cli import app

    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "ref.parquet"
    target.write_bytes(b"old")
    link = tmp_path / "link.parquet"
    link.symlink_to(target)
    dangling = tmp_path / "dangling.parquet"
    dangling.symlink_to(tmp_path / "real" / "new.parquet")
    for output in (link, dangling):
        args = ["reference", str(sample / "ref.csv"), "-o", str(output), "--quiet"]
        assert CliRunner().invoke(app, args).exit_code == 0
        assert output.is_symlink()
    assert read_snapshot(link).source.rows == read_snapshot(target).source.rows > 0
    assert read_snapshot(tmp_path / "real" / "new.parquet").source.rows > 0


@pytest.mark.parametrize("wrap", ["list", "struct", "map", "list of struct"])
def test_rows_are_stored_whole_exactly_as_deep_as_parquet_reads_them(
    tmp_path: Path, wrap: str
) -> None:
    import io

    from driftcli.store.rows import read_rows, write_rows

    kind: pa.DataType = pa.int64()
    for depth in range(1, 120):
        if wrap == "list" or (wrap == "list of struct" and depth % 2):
            kind = pa.list_(kind)
        elif wrap == "map":
            kind = pa.map_(pa.string(), kind)
        else:
            kind = pa.struct([("x", kind)])
        table = pa.table({"n": [1, 2], "a": pa.nulls(2, kind)})
        plain = io.BytesIO()
        pq.write_table(table, plain)
        try:
            pq.read_table(io.BytesIO(plain.getvalue()))
            readable = True
        except OSError:
            readable = False
        path = tmp_path / "rows.parquet"
        with path.open("wb") as out:
            write_rows(table, out)
        back = read_rows(path)
        assert back.column("n").to_pylist() == [1, 2]
        assert back.schema.field("a").type == (kind if readable else pa.null()), depth
