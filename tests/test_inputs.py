"""Reading every format, from a path and from stdin, into the same batches."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftcli.api import check
from driftcli.choices import InputFormat
from driftcli.errors import InputError, UsageError
from driftcli.inputs import open_source
from driftcli.reference.builder import build_profile
from tests.conftest import Invoke, raises_told, read_all_batches, told

FORMATS = ["csv", "parquet", "jsonl"]


def feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def profile_from(spec: str, input_format: InputFormat | None = None) -> object:
    with open_source(spec, input_format) as source:
        return build_profile(source.batches())


def summary(profile: object) -> list[tuple[str, str, list[int], list[str]]]:
    return [
        (
            f.name,
            f.kind.value,
            profile.counts.features[f.name].buckets.tolist(),  # type: ignore[attr-defined]
            f.labels(),
        )
        for f in profile.features  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("via", ["path", "stdin", "gzip-path", "gzip-stdin"])
def test_every_format_and_route_gives_the_same_profile(
    fmt: str, via: str, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = summary(profile_from(str(sample / "ref.parquet")))
    path = sample / f"ref.{fmt}"
    if via.startswith("gzip"):
        zipped = tmp_path / f"ref.{fmt}.gz"
        zipped.write_bytes(gzip.compress(path.read_bytes()))
        path = zipped
    if via.endswith("stdin"):
        feed_stdin(monkeypatch, path.read_bytes())
        got = profile_from("-")
    else:
        got = profile_from(str(path))
    assert got.counts.rows == 2000  # type: ignore[attr-defined]
    assert summary(got) == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_is_sniffed_without_a_suffix(fmt: str, sample: Path, tmp_path: Path) -> None:
    bare = tmp_path / "data"
    bare.write_bytes((sample / f"live_ok.{fmt}").read_bytes())
    with open_source(str(bare)) as source:
        assert source.format.value == fmt
        assert sum(b.num_rows for b in source.batches()) == 500


JSONL_AFTER_NULLS = b'null\n{"x": 1.5}\n{"x": 2.5}\n'
JSONL_AFTER_SCALARS = b'7\n"note"\ntrue\n[1]\n{"x": 1.5}\n'


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        (JSONL_AFTER_NULLS, "jsonl"),  # jq -c .features, a first log line without features
        (b"null\nnull\n", "jsonl"),  # not a one-column CSV named null
        (JSONL_AFTER_SCALARS, "jsonl"),
        (b"\xef\xbb\xbf\n\n  null\n", "jsonl"),
        (b"x\n1\n2\n3\n", "csv"),  # one column of numbers: the header is not JSON
        (b"0\n1\n2\n3\n", "csv"),  # a header that reads as a number, no object below
        (b'"x"\n1\nnull\n2\n', "csv"),  # a quoted header
        (b"NaN\n1\n", "csv"),
        (b"a,b\n1,2\n", "csv"),
    ],
)
@pytest.mark.parametrize("via", ["path", "stdin"])
def test_json_lines_are_told_from_csv_by_their_first_lines(
    body: bytes, fmt: str, via: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "data"  # no suffix: the content decides
    bare.write_bytes(body)
    if via == "stdin":
        feed_stdin(monkeypatch, body)
    with open_source("-" if via == "stdin" else str(bare), skip_bad_lines=True) as source:
        assert source.format.value == fmt
        list(source.batches())


@pytest.mark.parametrize("via", ["path", "stdin"])
def test_a_first_null_line_is_a_bad_json_line(
    via: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "data"
    bare.write_bytes(JSONL_AFTER_NULLS)
    if via == "stdin":
        feed_stdin(monkeypatch, JSONL_AFTER_NULLS)
    spec = "-" if via == "stdin" else str(bare)
    with (
        pytest.raises(InputError, match=r": line 1: expected a JSON object, got null"),
        open_source(spec) as source,
    ):
        list(source.batches())
    if via == "stdin":
        feed_stdin(monkeypatch, JSONL_AFTER_NULLS)
    with open_source(spec, skip_bad_lines=True) as source:
        rows = pa.Table.from_batches(list(source.batches()))
        assert rows.column("x").to_pylist() == [1.5, 2.5]
        assert (source.bad_lines.count, source.bad_lines.first) == (1, [1])


@pytest.mark.parametrize(
    ("head", "decided"),
    [
        (b"nu", False),
        (b"null", False),  # the line may go on
        (b"null\n", True),
        (b"5\n", False),  # a CSV header named 5, or JSON values before an object
        (b'5\n{"x"', False),
        (b'5\n{"x": 1}\n', True),
        (b"name\n", True),
        (b"{", False),  # too few bytes for the compression
        (b'{"x"', True),
    ],
)
def test_a_stream_is_peeked_at_until_its_format_is_settled(head: bytes, decided: bool) -> None:
    from driftcli.inputs.sniff import sniffable

    assert sniffable(head) is decided
    assert sniffable(head, format_known=True) is (len(head) >= 4)


def test_input_format_overrides_the_suffix(sample: Path, tmp_path: Path) -> None:
    odd = tmp_path / "rows.txt.csv"
    odd.write_bytes((sample / "live_ok.jsonl").read_bytes())
    with open_source(str(odd), InputFormat.JSONL) as source:
        assert source.format is InputFormat.JSONL
        assert sum(b.num_rows for b in source.batches()) == 500


def test_zstd_is_read(sample: Path, tmp_path: Path) -> None:
    packed = tmp_path / "live.csv.zst"
    with pa.output_stream(str(packed), compression="zstd") as out:
        out.write((sample / "live_ok.csv").read_bytes())
    assert sum(b.num_rows for b in read_all_batches(str(packed))) == 500


def test_jsonl_with_bom_blank_lines_and_no_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n{"a": 2}\n   \n{"a": 3}')
    batches = read_all_batches(str(path))
    assert pa.Table.from_batches(batches).column("a").to_pylist() == [1, 2, 3]


def test_jsonl_with_types_varying_by_line_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n{"a": "two"}\n{"a": 3.5, "b": true}\n')
    table = pa.Table.from_batches(read_all_batches(str(path)))
    assert table.column("a").to_pylist() == ["1", "two", "3.5"]
    assert table.column("b").to_pylist() == [None, None, True]


def test_jsonl_runs_keep_line_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import driftcli.inputs.cutting as cutting

    monkeypatch.setattr(cutting, "RUN_BYTES", 64)
    lines = [f'{{"a": {i}}}' for i in range(40)]
    lines[33] = '{"a": 1,,}'
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"line 34: not valid JSON"):
        read_all_batches(str(path))


def test_jsonl_cutting_keeps_every_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import driftcli.inputs.cutting as cutting

    monkeypatch.setattr(cutting, "RUN_BYTES", 100)
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(f'{{"a": {i}, "s": "{"x" * (i % 30)}"}}\n' for i in range(1000)))
    table = pa.Table.from_batches(read_all_batches(str(path)))
    assert table.column("a").to_pylist() == list(range(1000))


def test_csv_is_read_in_several_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import driftcli.inputs.cutting as cutting

    monkeypatch.setattr(cutting, "RUN_BYTES", 1 << 10)
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n" + "".join(f"{i},x{i % 3}\n" for i in range(5000)))
    batches = read_all_batches(str(path))
    assert len(batches) > 5
    assert sum(b.num_rows for b in batches) == 5000


def test_parquet_is_read_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    import driftcli.inputs.parquet_format as readers

    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", 1000)
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"x": np.arange(10_000.0)}), path, row_group_size=3000)
    batches = read_all_batches(str(path))
    assert max(b.num_rows for b in batches) <= 1000
    assert sum(b.num_rows for b in batches) == 10_000


def test_dash_on_a_terminal_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(io.BytesIO(b"")))
    with pytest.raises(UsageError, match="stdin is a terminal"), open_source("-"):
        pass


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (None, "absent.csv", "no such file"),
        (b"", "empty.csv", "file is empty"),
        (b"[1, 2]\n", "array.json", "JSON array"),
        (b"PAR1 this is not parquet at all PAR1", "garbage.parquet", "cannot read as Parquet"),
        (b'{"a": 1}\n{"a": 2\n', "broken.jsonl", "line 2: not valid JSON"),
        (b'{"a": 1}\n[1]\n', "listy.jsonl", "line 2: expected a JSON object, got an array"),
        (b"a,b\n1,2\n3,4,5\n", "ragged.csv", "line 3: row has 3 fields, the header has 2"),
        (b"a,a\n1,2\n", "dup.csv", "names column 'a' twice"),
        (b"\x1f\x8bnot really gzip", "fake.csv.gz", "cannot read"),
    ],
)
def test_unreadable_inputs_raise_input_errors_naming_the_file(
    tmp_path: Path, content: bytes | None, name: str, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_all_batches(str(path))
    assert str(caught.value).startswith(str(path))


def test_an_empty_directory_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "_SUCCESS").touch()
    (tmp_path / ".hidden.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match="matches no data files"):
        read_all_batches(str(tmp_path))


def test_truncated_parquet_is_an_input_error(sample: Path, tmp_path: Path) -> None:
    whole = (sample / "ref.parquet").read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="cannot read as Parquet"):
        read_all_batches(str(cut))


def test_parquet_on_stdin_is_spooled(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, (sample / "live_ok.parquet").read_bytes())
    with open_source("-") as source:
        assert source.format is InputFormat.PARQUET
        assert sum(b.num_rows for b in source.batches()) == 500


def test_error_messages_do_not_echo_row_contents(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\nsecret-value,4,5\n")
    with pytest.raises(InputError) as caught:
        read_all_batches(str(path))
    assert "secret-value" not in str(caught.value)


def test_csv_quoted_newlines_survive_cutting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftcli.inputs.cutting as cutting

    monkeypatch.setattr(cutting, "RUN_BYTES", 40)
    rows = "".join(f'{i},"note {i}\nsecond line, with comma"\r\n' for i in range(200))
    path = tmp_path / "notes.csv"
    path.write_text('id,"multi\nline header"\r\n' + rows)
    table = pa.Table.from_batches(read_all_batches(str(path)))
    assert table.column_names == ["id", "multi\nline header"]
    assert table.column("id").to_pylist() == [str(i) for i in range(200)]
    assert table.column(1)[5].as_py() == "note 5\nsecond line, with comma"


def test_csv_bad_row_is_named_by_its_line_even_from_stdin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = 'a,b\n1,"two\nlines"\n3,4\n5,6,7\n'
    feed_stdin(monkeypatch, data.encode())
    with pytest.raises(InputError, match=r"<stdin>: line 5: row has 3 fields, the header has 2"):
        read_all_batches("-")


@pytest.mark.parametrize(
    ("fmt", "content", "bad"),
    [
        ("jsonl", b'{"a": 1}\n{"a": 2,}\n{"a": 3}\n[4]\n{"a": 5}\n', [2, 4]),
        ("csv", b"a,b\n1,2\n3\n4,5\n6,7,8\n9,10\n", [3, 5]),
        ("csv", b"a,b\n1,2\n\xff\xfe,3\n4,5\n", [3]),
    ],
)
def test_skip_bad_lines_keeps_the_good_ones(
    tmp_path: Path, fmt: str, content: bytes, bad: list[int]
) -> None:
    path = tmp_path / f"rows.{fmt}"
    path.write_bytes(content)
    with open_source(str(path), skip_bad_lines=True) as source:
        pieces = [p for p in source.pieces() if p is not None]
        assert source.bad_lines.count == len(bad)
        assert source.bad_lines.first == bad
    rows = sum(p.table.num_rows for p in pieces)
    assert rows == content.count(b"\n") - len(bad) - (fmt == "csv")
    lines = np.concatenate([p.row_lines() for p in pieces]).tolist()
    assert not set(lines) & set(bad)


def test_row_lines_map_rows_to_input_lines(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n{"a": 3}\n')
    with open_source(str(path)) as source:
        [piece] = [p for p in source.pieces() if p is not None]
    assert piece.row_lines().tolist() == [1, 3, 4]
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text('a\n1\n"2\n2"\n\n3\n')
    with open_source(str(csv_path)) as source:
        [piece] = [p for p in source.pieces() if p is not None]
    assert piece.row_lines().tolist() == [2, 3, 5, 6]  # one column: line 5 is a missing value
    csv_path.write_text('a,b\n1,1\n"2\n2",2\n\n3,3\n')
    with open_source(str(csv_path)) as source:
        [piece] = [p for p in source.pieces() if p is not None]
    assert piece.row_lines().tolist() == [2, 3, 6]


def test_slow_stream_delivers_rows_within_the_latency(tmp_path: Path) -> None:
    import subprocess
    import time

    script = (
        "import sys, time\n"
        'sys.stdout.write(\'{"a": 1}\\n{"a": 2}\\n\'); sys.stdout.flush()\n'
        "time.sleep(30)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert writer.stdout is not None
        from driftcli.inputs.content import Content
        from driftcli.inputs.jsonl_format import JsonlSource
        from driftcli.inputs.streams import FdReader, PeekStream

        stream = PeekStream(FdReader(writer.stdout.fileno()))
        source = JsonlSource("<pipe>", Content(stream=stream))
        started = time.monotonic()
        for piece in source.pieces(max_latency=0.2):
            if piece is not None:
                assert piece.table.column("a").to_pylist() == [1, 2]
                break
        assert time.monotonic() - started < 5
        for ticks, piece in enumerate(source.pieces(max_latency=0.1), start=1):
            assert piece is None  # nothing more arrives: the caller still gets control
            if ticks == 3:
                break
    finally:
        writer.kill()
        writer.wait()
        if writer.stdout is not None:
            writer.stdout.close()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("run", [7, 64, 1000])
def test_stream_cutting_with_small_buffers_keeps_every_row_and_line(
    fmt: str, run: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftcli.inputs.cutting as cutting

    monkeypatch.setattr(cutting, "RUN_BYTES", run)
    if fmt == "csv":
        body = "\ufeffid,note\n" + "".join(
            f'{i},"n{i}{chr(10) * (i % 3 == 0)}x"\n' for i in range(300)
        )
    else:
        body = "\ufeff" + "".join(f'{{"id": {i}, "s": "{"y" * (i % 90)}"}}\n' for i in range(300))
    feed_stdin(monkeypatch, body.encode() + b'{"id": 300}' * (fmt == "jsonl"))
    with open_source("-") as source:
        pieces = [p for p in source.pieces() if p is not None]
    ids = [int(v) for p in pieces for v in p.table.column("id").to_pylist()]
    assert ids == list(range(300 + (fmt == "jsonl")))
    lines = np.concatenate([p.row_lines() for p in pieces]).tolist()
    if fmt == "jsonl":
        assert lines == list(range(1, 302))
    else:  # every third note spans two lines
        expected, line = [], 2
        for i in range(300):
            expected.append(line)
            line += 2 if i % 3 == 0 else 1
        assert lines == expected


def test_parquet_says_how_many_rows_it_holds_before_it_is_read(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": list(range(1_234))}), tmp_path / "rows.parquet")
    with open_source(str(tmp_path / "rows.parquet")) as source:
        assert source.known_rows() == 1_234
    pq.write_table(pa.table({"x": list(range(766))}), tmp_path / "more.parquet")
    with open_source(str(tmp_path)) as source:  # a directory of Parquet files
        assert source.known_rows() == 2_000
    (tmp_path / "rows.csv").write_text("x\n1\n2\n")
    with open_source(str(tmp_path / "rows.csv")) as source:
        assert source.known_rows() is None


def test_streams_are_read_again_only_when_spooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parquet from a stream is spooled to a file, so it can be read twice; CSV cannot."""
    import pyarrow.parquet as pq

    feed_stdin(monkeypatch, b"x\n1\n2\n")
    with open_source("-") as source:
        assert not source.rereadable
    buffer = io.BytesIO()
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "y": ["a", "b", "c"]}), buffer)
    feed_stdin(monkeypatch, buffer.getvalue())
    with open_source("-") as source:
        assert source.rereadable
        first = pa.Table.from_batches(list(source.batches()))
        again = pa.Table.from_batches(list(source.batches_again(["x"])))
    assert first.num_rows == again.num_rows == 3
    assert again.column_names == ["x"] and again.column("x").to_pylist() == [1.0, 2.0, 3.0]


def write_lines(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def normal_rows(n: int, seed: int, key: str = "x") -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    return [{key: round(float(v), 4)} for v in rng.normal(size=n)]


def test_sparse_keys_in_the_slow_json_path_line_up(tmp_path: Path) -> None:
    rows = [{"a": 1}, {"b": "x"}, {"a": "two", "c": True}, {}, {"b": "y"}]
    table = pa.Table.from_batches(read_all_batches(str(write_lines(tmp_path / "r.jsonl", rows))))
    assert table.num_rows == 5
    assert table.column("a").to_pylist() == ["1", None, "two", None, None]
    assert table.column("b").to_pylist() == [None, "x", None, None, "y"]
    assert table.column("c").to_pylist() == [None, None, True, None, None]


def test_one_stray_string_in_a_json_reference_keeps_the_feature_numeric(tmp_path: Path) -> None:
    ref_rows = normal_rows(2000, 1)
    ref_rows[5] = {"x": "n/a"}
    ref = write_lines(tmp_path / "ref.jsonl", ref_rows)
    live = write_lines(tmp_path / "live.jsonl", normal_rows(500, 2))
    [x] = check(str(live), str(ref)).features
    assert x.kind.value == "numeric" and x.status.value == "ok"
    assert x.reference_invalid == 1


def test_date_strings_in_json_are_text_as_in_csv(tmp_path: Path) -> None:
    days = [f"2024-01-0{1 + i % 7}" for i in range(300)]
    jsonl = write_lines(tmp_path / "d.jsonl", [{"day": d} for d in days])
    (tmp_path / "d.csv").write_text("day\n" + "\n".join(days) + "\n")
    for live, ref in [(jsonl, jsonl), (jsonl, tmp_path / "d.csv"), (tmp_path / "d.csv", jsonl)]:
        [day] = check(str(live), str(ref)).features
        assert day.kind.value == "categorical" and day.status.value == "ok", (live, ref)
        assert day.live_invalid == 0


def test_a_date_column_keeps_its_place_in_json_lines_as_in_csv(tmp_path: Path) -> None:
    rows = [{"amount": i * 1.5, "day": f"2024-01-0{1 + i % 7}", "city": "c" + str(i % 3)}
            for i in range(300)]  # fmt: skip
    jsonl = write_lines(tmp_path / "r.jsonl", rows)
    csv = tmp_path / "r.csv"
    csv.write_text(
        "amount,day,city\n" + "".join(f"{r['amount']},{r['day']},{r['city']}\n" for r in rows)
    )
    for path in (jsonl, csv):
        [batch] = read_all_batches(str(path))
        assert batch.schema.names == ["amount", "day", "city"], path
        assert [f.name for f in check(str(path), str(path)).features] == ["amount", "day", "city"]


@pytest.mark.parametrize("words", [("true", "false"), ("True", "False"), ("TRUE", "FALSE")])
def test_booleans_match_across_formats_and_spellings(
    tmp_path: Path, words: tuple[str, str]
) -> None:
    flags = [i % 3 == 0 for i in range(300)]
    pq.write_table(pa.table({"flag": flags}), tmp_path / "b.parquet")
    (tmp_path / "b.csv").write_text(
        "flag\n" + "\n".join(words[0] if f else words[1] for f in flags)
    )
    write_lines(tmp_path / "b.jsonl", [{"flag": f} for f in flags])
    names = ["b.parquet", "b.csv", "b.jsonl"]
    for live in names:
        for ref in names:
            [flag] = check(str(tmp_path / live), str(tmp_path / ref)).features
            assert flag.status.value == "ok" and flag.score == pytest.approx(0, abs=1e-12), (
                live,
                ref,
            )


def test_bool_among_numbers_in_json_is_invalid(tmp_path: Path) -> None:
    rows = normal_rows(300, 3)
    rows[10] = {"x": True}
    ref = write_lines(tmp_path / "ref.jsonl", normal_rows(2000, 4))
    [x] = check(str(write_lines(tmp_path / "live.jsonl", rows)), str(ref)).features
    assert x.live_invalid == 1


def test_named_pipe_is_read_once_as_a_stream(tmp_path: Path, sample: Path) -> None:
    fifo = tmp_path / "live.jsonl"
    os.mkfifo(fifo)
    payload = (sample / "live_drift.jsonl").read_bytes()

    def feed() -> None:
        with open(fifo, "wb") as out:
            out.write(payload)

    writer = threading.Thread(target=feed)
    writer.start()
    result = check(str(fifo), str(sample / "ref.parquet"))
    writer.join(timeout=30)
    assert result.live.rows == 500 and result.drift


def test_stray_quote_in_csv_does_not_swallow_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftcli.inputs.cutting as text_formats

    monkeypatch.setattr(text_formats, "RUN_BYTES", 256)
    lines = [f"{i},plain text {i}" for i in range(2000)]
    lines[100] = '100,a 5" screen'
    path = tmp_path / "q.csv"
    path.write_text("id,note\n" + "\n".join(lines) + "\n")
    table = pa.Table.from_batches(read_all_batches(str(path)))
    assert table.num_rows == 2000
    assert table.column("note")[100].as_py() == 'a 5" screen'


def test_csv_row_longer_than_a_parse_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import driftcli.inputs.cutting as text_formats

    monkeypatch.setattr(text_formats, "PARSE_BLOCK_BYTES", 1 << 12)
    path = tmp_path / "long.csv"
    path.write_text("a,b\n1,short\n2," + "x" * 300_000 + "\n3,short\n")
    table = pa.Table.from_batches(read_all_batches(str(path)))
    assert table.column("a").to_pylist() == ["1", "2", "3"]


def test_json_line_longer_than_a_parse_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driftcli.inputs.cutting as text_formats

    monkeypatch.setattr(text_formats, "PARSE_BLOCK_BYTES", 1 << 12)
    path = write_lines(tmp_path / "long.jsonl", [{"a": 1, "s": "x"}, {"a": 2, "s": "y" * 50_000}])
    table = pa.Table.from_batches(read_all_batches(str(path)))
    assert table.column("a").to_pylist() == [1, 2]


def test_invalid_utf8_in_json_names_the_line(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"name": "ok", "v": 1}\n{"name": "Jos\xe9 SECRET", "v": 2}\n')
    result = invoke("check", path, "--ref", path)
    assert result.exit_code == 2
    assert f"{path}: line 2: not valid JSON (not valid UTF-8)" in result.stderr
    assert "SECRET" not in result.stderr


# --- CSV separators ------------------------------------------------------------


def separated(sample: Path, separator: str) -> bytes:
    """The sample reference as CSV with another field separator."""
    import csv

    out = io.StringIO()
    rows = csv.reader(io.StringIO((sample / "ref.csv").read_text(), newline=""))
    csv.writer(out, delimiter=separator, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
@pytest.mark.parametrize("via", ["path", "stdin", "gzip-stdin"])
def test_the_csv_separator_is_sniffed(
    separator: str, via: str, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = summary(profile_from(str(sample / "ref.csv")))
    data = separated(sample, separator)
    if via == "path":
        path = tmp_path / "ref.csv"
        path.write_bytes(data)
        got = profile_from(str(path))
    else:
        feed_stdin(monkeypatch, gzip.compress(data) if via == "gzip-stdin" else data)
        got = profile_from("-")
    assert summary(got) == expected


@pytest.mark.parametrize(
    ("text", "separator"),
    [
        ("x,y;z\n1;2\n3;4\n", ";"),  # both split the header; the lines agree with ';' only
        ("x,y;z\n1,2\n3,4\n", ","),
        ("a;b\n1,5;2,25\n", ";"),  # decimal commas
        ("amount\n1\n2\n", ","),  # one column: nothing to sniff
        ('"a;b",c\n1,2\n', ","),  # a quoted name holding ';'
    ],
)
def test_the_sniffer_takes_the_separator_the_lines_agree_with(text: str, separator: str) -> None:
    from driftcli.inputs.csv_format import sniff_delimiter

    assert sniff_delimiter(text.encode()) == separator


def test_a_given_separator_is_used_for_every_csv_input(sample: Path, tmp_path: Path) -> None:
    path = tmp_path / "ref.txt"
    path.write_bytes(separated(sample, "|"))
    with open_source(str(path), InputFormat.CSV, delimiter="|") as source:
        got = build_profile(source.batches())
    assert summary(got) == summary(profile_from(str(sample / "ref.csv")))


@pytest.mark.parametrize(("separator", "word"), [(";", "semicolon"), ("\t", "tab")])
def test_a_file_read_as_one_merged_column_is_an_error_that_names_its_separator(
    sample: Path, tmp_path: Path, separator: str, word: str
) -> None:
    path = tmp_path / "ref.csv"
    path.write_bytes(separated(sample, separator))
    with raises_told(InputError) as caught, open_source(str(path), delimiter=",") as source:
        next(source.batches())
    message = str(caught.value)
    assert message.startswith(f"{path}: the CSV header reads as one column, 'age")
    assert f"with the separator comma; its fields look separated by {word}s" in message
    assert told(caught.value, hint=True).startswith(f"pass --delimiter {word}")


def test_an_empty_line_of_a_one_column_csv_is_a_missing_value(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("x\n1.5\n\n2.5\n\nabc\n" + "".join(f"{i / 7:.3f}\n" for i in range(195)))
    with open_source(str(path)) as source:
        profile = build_profile(source.pieces())
    counts = profile.counts.features["x"]
    [feature] = profile.features
    assert profile.counts.rows == 200
    assert counts.buckets[feature.missing_bucket] == 2
    assert [str(at).rsplit("/", 1)[-1] for at in counts.invalid_at] == ["one.csv:6"]


def test_an_empty_line_of_a_csv_with_several_columns_is_no_row(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("x,y\n1,2\n\n3,4\n")
    with open_source(str(path)) as source:
        assert build_profile(source.pieces()).counts.rows == 2


# --- files that change while read ----------------------------------------------


def _rows_file(path: Path, rows: int) -> None:
    """`rows` rows of (a, b) in the format the suffix names; Parquet in row groups of 10,000."""
    table = pa.table({"a": list(range(rows)), "b": [f"x{i % 7}" for i in range(rows)]})
    if path.suffix == ".parquet":
        pq.write_table(table, path, row_group_size=10_000)
        return
    if ".jsonl" in path.suffixes:
        text = "".join(json.dumps(row) + "\n" for row in table.to_pylist())
    else:
        text = "a,b\n" + "".join(f"{i},x{i % 7}\n" for i in range(rows))
    opened = gzip.open if path.suffix == ".gz" else open
    with opened(path, "wt") as out:
        out.write(text)


@pytest.mark.parametrize("name", ["rows.csv", "rows.jsonl", "rows.csv.gz", "rows.parquet"])
@pytest.mark.parametrize("left", [0, 1000])
def test_a_file_that_shrinks_while_read_is_an_error_naming_it(
    name: str, left: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """logrotate's copytruncate: the file is cut short between two reads. It used to be
    memory-mapped, and the next touch of a page past the new end killed the process (SIGBUS);
    pyarrow's Parquet batches just stop, as if the file had ended."""
    import driftcli.inputs.cutting as cutting
    import driftcli.inputs.parquet_format as parquet_format

    monkeypatch.setattr(cutting, "RUN_BYTES", 1 << 14)
    monkeypatch.setattr(parquet_format, "PARQUET_BATCH_ROWS", 10_000)
    path = tmp_path / name
    _rows_file(path, 200_000)
    size = path.stat().st_size
    with open_source(str(path)) as source:
        batches = source.batches()
        first = next(batches)
        assert first.num_rows > 0
        os.truncate(path, left)
        with pytest.raises(InputError) as caught:
            for _ in batches:
                pass
    assert caught.value.message.startswith(
        f"{path}: shrank from {size:,} to {left:,} bytes while it was read"
    )
    assert "copytruncate" in (caught.value.hint or "")


def test_a_parquet_file_whose_batches_end_early_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fewer rows than the footer says is never taken for the whole file."""
    path = tmp_path / "rows.parquet"
    _rows_file(path, 50_000)
    real = pq.ParquetFile.iter_batches

    def short(self: pq.ParquetFile, *args: object, **kwargs: object) -> object:
        return (b for i, b in enumerate(real(self, *args, **kwargs)) if i == 0)  # type: ignore[arg-type]

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", short)
    with open_source(str(path)) as source, pytest.raises(InputError) as caught:
        list(source.batches())
    assert "its Parquet footer says 50,000 rows, but only" in caught.value.message


def test_a_file_that_grows_while_read_is_read_as_it_was_when_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log still written to: the rows up to its length when reading began."""
    import driftcli.inputs.cutting as cutting

    monkeypatch.setattr(cutting, "RUN_BYTES", 1 << 10)
    path = tmp_path / "growing.csv"
    path.write_text("a,b\n" + "".join(f"{i},x\n" for i in range(1000)))
    with open_source(str(path)) as source:
        batches = source.batches()
        rows = next(batches).num_rows
        with path.open("a") as out:
            out.write("".join(f"{i},y\n" for i in range(1000, 2000)))
        rows += sum(b.num_rows for b in batches)
    assert rows == 1000


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_text_files_are_read_not_memory_mapped(suffix: str, tmp_path: Path) -> None:
    """A mapped file that another process truncates kills its reader with SIGBUS."""
    path = tmp_path / f"rows.{suffix}"
    _rows_file(path, 1000)
    with open_source(str(path)) as source:
        batches = source.batches()
        next(batches)
        maps = Path("/proc/self/maps").read_text() if Path("/proc/self/maps").exists() else ""
        list(batches)
    assert str(path) not in maps


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_a_proc_file_is_read_as_a_stream(tmp_path: Path) -> None:
    """/proc files say they hold 0 bytes, but hold text: read to their end, as a pipe is."""
    assert Path("/proc/self/status").stat().st_size == 0
    with open_source("/proc/self/status", InputFormat.CSV, delimiter=":") as source:
        rows = sum(b.num_rows for b in source.batches())
        lines = Path("/proc/self/status").read_text().count("\n")
    assert rows == lines - 1  # all but the header


# --- JSON lines in bounded memory (jsonl_bounds.py) -----------------------------


def _rows_of(spec: str, **options: object) -> list[dict[str, object]]:
    with open_source(spec, **options) as source:  # type: ignore[arg-type]
        return [
            {k: v for k, v in row.items() if v is not None}
            for batch in source.batches()
            for row in batch.to_pylist()
        ]


@pytest.mark.parametrize("cells", [2_000, 10_000], ids=["in parts", "against first lines"])
@pytest.mark.parametrize(
    "shape", ["regular", "new keys late", "a type widens late", "ids as keys", "bad line"]
)
def test_json_lines_read_in_bounded_parts_give_the_same_rows(
    shape: str, cells: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a run is parsed whole, against its first lines' columns (3,000 lines of 2
    keys: 6,000 cells), or in parts, the rows are the same (a bad line named at its
    number)."""
    import driftcli.inputs.jsonl_bounds as bounds

    splits: list[int] = []
    real_parts = bounds.parts

    def counted(run: object) -> object:
        splits.append(1)
        return real_parts(run)  # type: ignore[arg-type]

    rows: list[dict[str, object]] = [{"a": i % 7, "b": f"x{i % 3}"} for i in range(3000)]
    if shape == "new keys late":
        rows[2500]["late"] = 1
    elif shape == "a type widens late":
        rows[2900]["a"] = 2.5
    elif shape == "ids as keys":
        rows = [{f"id_{i}": 1, "a": i % 7} for i in range(3000)]
    lines = [json.dumps(r) for r in rows]
    if shape == "bad line":
        lines[2000] = "{not json"
    path = tmp_path / f"{shape}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    whole = _rows_of(str(path), skip_bad_lines=True, max_columns=10_000)
    monkeypatch.setattr(bounds, "CELLS", cells)  # every run is too costly to parse whole
    monkeypatch.setattr(bounds, "_PROBE_LINES", 64)
    monkeypatch.setattr(bounds, "parts", counted)
    parts = _rows_of(str(path), skip_bad_lines=True, max_columns=10_000)
    assert parts == whole
    regular = shape == "regular" and cells == 10_000
    assert bool(splits) is not regular  # parsed against its first lines, or in parts
    assert len(whole) == 3000 - (shape == "bad line")
    if shape == "bad line":
        with pytest.raises(InputError, match=r": line 2001: not valid JSON"):
            _rows_of(str(path))


def test_json_parts_keep_within_the_bound() -> None:
    from driftcli.inputs.cutting import Run, jsonl_cut
    from driftcli.inputs.jsonl_bounds import CELLS, parts

    raw = b"".join(b'{"k%d": 1, "a": 2}\n' % i for i in range(20_000)) + b'{"last": 1}'
    cut = jsonl_cut(memoryview(raw))
    run = Run(memoryview(raw), 1, cut.newlines + 1, cut.breaks)
    split = list(parts(run))
    assert b"".join(bytes(p.data) for p in split) == raw
    assert [p.first_line for p in split] == list(np.cumsum([1] + [p.lines for p in split[:-1]]))
    assert sum(p.lines for p in split) == 20_001
    for part in split:
        assert bytes(part.data).count(b":") * part.lines <= CELLS


# --- CSV decimal marks ---------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "separator", "mark"),
    [
        ("36;29406,04;BR\n37;52284,5;GB\n", ";", ","),  # pandas: sep=";", decimal=","
        ("36\t29406,04\n37\t\n", "\t", ","),  # a missing value does not count against it
        ("36;29406.04\n37;52284.5\n", ";", "."),
        ("36;12,5 kg\n37;1,5\n", ";", "."),  # a unit: text, not a number
        ("Smith, J.;3\nDoe, A.;4\n", ";", "."),  # commas in text
        ("36;1,5;2.5\n", ";", ","),  # a comma column among point columns: the points still read
        ('36,"1,5"\n', ",", "."),  # comma-separated: never sniffed
    ],
)
def test_the_sniffer_tells_a_decimal_comma(lines: str, separator: str, mark: str) -> None:
    from driftcli.inputs.csv_format import sniff_decimal

    assert sniff_decimal(lines.encode(), separator) == mark


def european(table: pa.Table) -> bytes:
    """`table` as pandas' to_csv(sep=";", decimal=",") writes it: decimal commas, no quotes."""

    def cell(value: object) -> str:
        if value is None:
            return ""
        return repr(value).replace(".", ",") if isinstance(value, float) else str(value)

    lines = [";".join(table.column_names)]
    lines += [";".join(cell(v) for v in row.values()) for row in table.to_pylist()]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("via", ["path", "stdin"])
def test_decimal_commas_read_as_the_same_numbers(
    via: str, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = summary(profile_from(str(sample / "ref.parquet")))
    data = european(pq.read_table(sample / "ref.parquet"))
    assert b"29406,04" in data
    if via == "path":
        path = tmp_path / "ref.csv"
        path.write_bytes(data)
        got = profile_from(str(path))
    else:
        feed_stdin(monkeypatch, data)
        got = profile_from("-")
    assert summary(got) == expected


def test_a_given_decimal_mark_is_used_and_a_wrong_one_is_warned_of(
    sample: Path, tmp_path: Path
) -> None:
    from driftcli.results import NUMBER_TEXT

    path = tmp_path / "ref.txt"
    path.write_bytes(european(pq.read_table(sample / "ref.parquet")))
    with open_source(str(path), InputFormat.CSV, decimal=",") as source:
        assert summary(build_profile(source.batches())) == summary(
            profile_from(str(sample / "ref.parquet"))
        )
    with open_source(str(path), InputFormat.CSV, decimal=".") as source:
        profile = build_profile(source.batches())
    assert profile.skipped == {"income": NUMBER_TEXT}  # not "like an identifier"
