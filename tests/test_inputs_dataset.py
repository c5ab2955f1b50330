"""Several files as one input: directories, globs, lists, hive partitions."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftcli.api import check
from driftcli.errors import InputError, UsageError
from driftcli.settings import Settings
from tests.conftest import Invoke, read_all_batches, write_table


def split_sample(sample: Path, root: Path, fmt: str, parts: int = 4) -> Path:
    """The drifted live rows written as `parts` files under day=N/ directories."""
    table = pq.read_table(sample / "live_drift.parquet")
    size = table.num_rows // parts
    for i in range(parts):
        folder = root / f"day={i + 1}"
        folder.mkdir(parents=True)
        write_table(table.slice(i * size, size), folder / f"part-{i}.{fmt}")
    (root / "_SUCCESS").touch()
    return root


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_directory_equals_single_file(sample: Path, tmp_path: Path, fmt: str) -> None:
    root = split_sample(sample, tmp_path / "live", fmt)
    whole = check(str(sample / "live_drift.parquet"), str(sample / "ref.parquet"))
    parts = check(str(root), str(sample / "ref.parquet"))
    assert [f.score for f in parts.features] == [f.score for f in whole.features]
    assert parts.live.rows == 500
    assert parts.new_columns == ["day"]  # the hive partition became a column, not scored


def test_glob_and_list_of_files(sample: Path, tmp_path: Path) -> None:
    root = split_sample(sample, tmp_path / "live", "parquet")
    whole = check(str(sample / "live_drift.parquet"), str(sample / "ref.parquet"))
    by_glob = check(str(root / "day=*" / "*.parquet"), str(sample / "ref.parquet"))
    listed = sorted(str(p) for p in root.rglob("*.parquet"))
    by_list = check(listed, str(sample / "ref.parquet"))
    for result in (by_glob, by_list):
        assert [f.score for f in result.features] == [f.score for f in whole.features]
        assert result.new_columns == ["day"]  # partitions come from the paths, however named


def test_partition_values_are_typed_by_their_values(tmp_path: Path) -> None:
    for day in (1, 2):
        for country in ("DE", "FR"):
            folder = tmp_path / f"day={day}" / f"country={country}"
            folder.mkdir(parents=True)
            pq.write_table(pa.table({"x": [1.0, 2.0, 3.0]}), folder / "p.parquet")
    table = pa.Table.from_batches(read_all_batches(str(tmp_path)))
    assert table.num_rows == 12
    result = check(str(tmp_path), str(tmp_path))
    assert [f.name for f in result.features] == ["x"]
    assert set(result.skipped) == {"day", "country"}  # partitions: not scored by default
    chosen = check(str(tmp_path), str(tmp_path), Settings(features=("x", "day", "country")))
    kinds = {f.name: f.kind.value for f in chosen.features}
    assert kinds == {"x": "numeric", "day": "numeric", "country": "categorical"}


def test_mixed_formats_and_empty_globs_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.jsonl").write_text(json.dumps({"x": 1}) + "\n")
    with pytest.raises(InputError, match="mixes file formats"):
        read_all_batches(str(tmp_path))
    with pytest.raises(InputError, match="matches no data files"):
        read_all_batches(str(tmp_path / "*.parquet"))


def test_errors_name_the_file_inside_the_dataset(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"x": 1}\n')
    (tmp_path / "b.jsonl").write_text('{"x": 1}\n{"x": 2,,}\n')
    with pytest.raises(InputError, match=r"b\.jsonl: line 2: not valid JSON"):
        read_all_batches(str(tmp_path))


def test_cli_takes_several_live_files(invoke: Invoke, sample: Path) -> None:
    doc = json.loads(
        invoke(
            "check", sample / "live_drift.csv", sample / "live_drift.csv",
            "--ref", sample / "ref.parquet", "-f", "json",
        ).stdout
    )  # fmt: skip
    assert doc["live"]["rows"] == 1000 and doc["drift"]
    mixed = invoke(
        "check", sample / "live_ok.csv", sample / "live_ok.jsonl", "--ref", sample / "ref.csv"
    )
    assert mixed.exit_code == 2 and "mixes file formats (csv, jsonl)" in mixed.stderr


def test_fsspec_urls_single_files_directories_and_globs(sample: Path, tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    table = pq.read_table(sample / "live_drift.parquet")
    for i, fmt in enumerate(["parquet", "csv", "jsonl"]):
        local = write_table(table.slice(i * 100, 100), tmp_path / f"part.{fmt}")
        memory.pipe(f"/drift/day={i}/part.{fmt}", local.read_bytes())
        memory.pipe(f"/csv/day={i}/part.csv", (sample / "live_drift.csv").read_bytes())
    memory.pipe("/one/live.jsonl", (sample / "live_drift.jsonl").read_bytes())
    whole = check(str(sample / "live_drift.jsonl"), str(sample / "ref.parquet"))
    one = check("memory:///one/live.jsonl", str(sample / "ref.parquet"))
    assert [f.score for f in one.features] == [f.score for f in whole.features]
    folder = check("memory:///csv", str(sample / "ref.parquet"))
    assert folder.live.rows == 1500 and folder.new_columns == ["day"]
    globbed = check("memory:///csv/day=*/part.csv", str(sample / "ref.parquet"))
    assert globbed.live.rows == 1500
    with pytest.raises(InputError, match="no such file"):
        check("memory:///nope.csv", str(sample / "ref.parquet"))
    with pytest.raises(InputError, match="mixes file formats"):
        check("memory:///drift", str(sample / "ref.parquet"))


@pytest.mark.parametrize(
    ("url", "needed"),
    [
        ("http://example.com/live.csv", "pip install 'driftcli[remote]'"),
        ("https://example.com/live.csv", "pip install 'driftcli[remote]'"),
        ("s3://bucket/live.csv", "pip install 'driftcli[remote]'"),
        ("gs://bucket/live.csv", "pip install gcsfs"),
        ("abfs://container/live.csv", "pip install adlfs"),
    ],
)
def test_a_url_whose_filesystem_is_missing_names_the_package_it_needs(
    monkeypatch: pytest.MonkeyPatch, url: str, needed: str
) -> None:
    fsspec = pytest.importorskip("fsspec")

    def missing(spec: str) -> None:
        raise ImportError("the filesystem's package is not installed")

    monkeypatch.setattr(fsspec.core, "url_to_fs", missing)
    with pytest.raises(UsageError, match="URLs needs a package that is not installed") as caught:
        check(url, "sample_data/ref.parquet")
    assert caught.value.hint == needed


def test_a_url_of_an_unknown_protocol_says_so() -> None:
    pytest.importorskip("fsspec")
    with pytest.raises(UsageError, match="fsspec knows no filesystem for nosuch:// URLs"):
        check("nosuch://x/live.csv", "sample_data/ref.parquet")


@pytest.mark.parametrize("where", ["local", "memory"])
def test_a_glob_that_matches_directories_reads_them_as_directories(
    sample: Path, tmp_path: Path, where: str
) -> None:
    root = split_sample(sample, tmp_path / "live", "parquet")
    (root / "day=1" / "_SUCCESS").touch()
    ref = str(sample / "ref.parquet")
    if where == "memory":
        fsspec = pytest.importorskip("fsspec")
        memory = fsspec.filesystem("memory")
        for path in root.rglob("*"):
            if path.is_file():
                memory.pipe(f"/globbed/{path.relative_to(root).as_posix()}", path.read_bytes())
        directory, pattern = "memory:///globbed", "memory:///globbed/day=*"
    else:
        directory, pattern = str(root), str(root / "day=*")
    whole = check(directory, ref)
    globbed = check(pattern, ref)
    assert globbed.live.rows == whole.live.rows == 500
    assert [f.score for f in globbed.features] == [f.score for f in whole.features]
    assert globbed.new_columns == ["day"]
    recursive = check(str(root / "**") if where == "local" else pattern, ref)
    assert recursive.live.rows == 500  # a file matched both itself and by its directory: once


@contextlib.contextmanager
def http_server(directory: Path) -> Iterator[str]:
    """`python -m http.server` serving `directory` (it takes no range requests): its URL."""
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=directory,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        port = re.search(r"port (\d+)", line)
        assert port, line
        yield f"http://127.0.0.1:{port.group(1)}"
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout:
            server.stdout.close()


def test_an_http_server_without_range_requests_is_read_as_a_stream(
    sample: Path, tmp_path: Path
) -> None:
    pytest.importorskip("fsspec")
    pytest.importorskip("aiohttp")
    lines = (sample / "live_drift.csv").read_bytes().splitlines(keepends=True)
    big = lines[0] + b"".join(lines[1:]) * 400  # past fsspec's 5 MB block: ranges needed
    assert len(big) > 6_000_000
    (tmp_path / "live.csv").write_bytes(big)
    pq.write_table(pq.read_table(sample / "live_drift.parquet"), tmp_path / "live.parquet")
    ref = str(sample / "ref.parquet")
    local = check(str(tmp_path / "live.csv"), ref)
    with http_server(tmp_path) as url:
        remote = check(f"{url}/live.csv", ref)
        assert remote.live.rows == local.live.rows == 200_000
        assert [f.score for f in remote.features] == [f.score for f in local.features]
        parquet = check(f"{url}/live.parquet", ref)  # spooled, as from stdin
        assert parquet.live.rows == 500
        with pytest.raises(InputError, match="no such file"):
            check(f"{url}/nope.csv", ref)
    with pytest.raises(InputError, match="cannot read") as caught:
        check(f"{url}/live.csv", ref)  # the server is gone: an input error, not an internal one
    assert caught.value.message.startswith(f"{url}/live.csv: cannot read: ")
