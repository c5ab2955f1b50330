"""Hostile inputs: memory stays bounded, nothing crashes, every message says what is wrong.

Each case shows its exit code and message, and for the commands that write,
the store before and after. Memory is measured as the peak RSS of a real
driftcli process (`ru_maxrss` of the children of a small helper process: on
Linux a child's peak starts from its parent's at fork, and pytest's is large).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftcli.errors import InputError
from driftcli.inputs import cutting, open_source
from driftcli.inputs.jsonl_format import MAX_JSON_DEPTH
from driftcli.settings import DEFAULT_MAX_COLUMNS
from tests.conftest import ROOT, SAMPLE, Invoke, run_driftcli, store_contents, window_ids

MiB = 1 << 20
LONG_LINE = 256 * MiB
MEMORY_BOUND = 1 << 30

REF = str(SAMPLE / "ref.parquet")

_PEAK = """
import json, resource, subprocess, sys
stdin = open(sys.argv[1], "rb") if sys.argv[1] != "-" else subprocess.DEVNULL
done = subprocess.run(sys.argv[2:], capture_output=True, stdin=stdin)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": done.returncode, "peak": peak,
                  "stdout": done.stdout.decode(errors="replace"),
                  "stderr": done.stderr.decode(errors="replace")}))
"""


def peak_run(*args: str | Path, cwd: Path, stdin: str = "-") -> dict[str, object]:
    """Run driftcli from a small helper process: its exit code, output and peak RSS."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", _PEAK, stdin, sys.executable, "-m", "driftcli"]
    out = subprocess.run(
        [*command, *map(str, args)], cwd=cwd, env=env, capture_output=True, check=True, timeout=300
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def _write_long(write: object, prefix: bytes, suffix: bytes) -> None:
    """`prefix`, then 256 MiB of the same line, then `suffix`: streamed, never held whole."""
    block = b"x" * MiB
    write(prefix)  # type: ignore[operator]
    for _ in range(LONG_LINE // MiB):
        write(block)  # type: ignore[operator]
    write(suffix)  # type: ignore[operator]


CSV_ROWS = b"".join(b"%d,%d\n" % (i, i % 5) for i in range(200))
JSONL_ROWS = b"".join(b'{"a": %d, "b": %d}\n' % (i, i % 5) for i in range(200))
LONG = {"long.csv.gz": 4, "long.jsonl.zst": 3, "long.csv": 4}
"""The file, and its line that is 256 MiB long (after two good rows; 200 follow it)."""


@pytest.fixture(scope="module")
def long_lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 256 MiB line in .csv.gz, in .jsonl.zst and in a plain .csv (a hole: no disk used)."""
    where = tmp_path_factory.mktemp("long")
    with gzip.open(where / "long.csv.gz", "wb", compresslevel=1) as out:
        _write_long(out.write, b"a,b\n1,2\n3,4\n5,", b"\n" + CSV_ROWS)
    with pa.CompressedOutputStream(str(where / "long.jsonl.zst"), "zstd") as out:
        _write_long(out.write, b'{"a": 1, "b": 2}\n{"a": 3, "b": 4}\n{"a": "', b'"}\n' + JSONL_ROWS)
    with (where / "long.csv").open("wb") as out:
        out.write(b"a,b\n1,2\n3,4\n5,")
        out.seek(LONG_LINE, 1)  # read back as NUL bytes, all on line 4
        out.write(b"\n" + CSV_ROWS)
    return where


# --- 1. one long line: refused (or skipped) in bounded memory ----------------


@pytest.mark.parametrize("name", list(LONG))
def test_a_256_mib_line_is_refused_in_bounded_memory(long_lines: Path, name: str) -> None:
    result = peak_run("check", name, "--ref", REF, cwd=long_lines)
    assert result["code"] == 2
    stderr = str(result["stderr"])
    line = LONG[name]
    assert (
        f"error: {name}: line {line}: longer than the line limit of 64 MiB (--max-line-bytes)\n"
        in (stderr)
    )
    assert "hint: pass --skip-bad-lines to count and skip such lines" in stderr
    assert "Traceback" not in stderr
    assert int(str(result["peak"])) < MEMORY_BOUND


@pytest.mark.parametrize("name", list(LONG))
def test_skip_bad_lines_skips_a_256_mib_line_and_reads_the_rest(
    long_lines: Path, name: str
) -> None:
    result = peak_run(
        "check", name, "--ref", name, "--skip-bad-lines", "-f", "json", cwd=long_lines
    )
    assert result["code"] == 0, result["stderr"]
    document = json.loads(str(result["stdout"]))
    assert document["live"]["rows"] == 202  # the two before it, the 200 after it
    assert document["live"]["skipped_lines"] == 1
    assert f"warning: {name}: skipped 1 bad line ({LONG[name]})" in str(result["stderr"])
    assert int(str(result["peak"])) < MEMORY_BOUND


def test_a_256_mib_line_on_stdin_is_refused_in_bounded_memory(long_lines: Path) -> None:
    result = peak_run("check", "-", "--ref", REF, cwd=long_lines, stdin="long.csv.gz")
    assert result["code"] == 2
    assert "error: <stdin>: line 4: longer than the line limit of 64 MiB" in str(result["stderr"])
    assert int(str(result["peak"])) < MEMORY_BOUND


def test_ingest_of_a_256_mib_line_stores_nothing_past_it(long_lines: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    refused = peak_run(
        "ingest", "long.csv.gz", "--store", store, "--flush-rows", "1", cwd=long_lines
    )
    assert refused["code"] == 2
    assert "error: long.csv.gz: line 4: longer than the line limit" in str(refused["stderr"])
    stored = [int(a) for a in window_ids(store, column="a")]  # CSV values are stored as text
    assert stored == [1, 3]  # the rows before it, flushed one by one
    before = store_contents(store)
    skipped = peak_run("ingest", "long.csv.gz", "--store", store, "--skip-bad-lines",
                       "--window", "w", cwd=long_lines)  # fmt: skip
    assert skipped["code"] == 0, skipped["stderr"]
    assert "skipped 1 bad line: 4" in str(skipped["stderr"])
    assert [int(a) for a in window_ids(store, "w", column="a")] == [1, 3, *range(200)]
    after = store_contents(store)
    assert {k: v for k, v in after.items() if "windows/w/" not in k} == before
    assert int(str(skipped["peak"])) < MEMORY_BOUND


def test_the_line_limit_can_be_raised_and_lowered(tmp_path: Path, invoke: Invoke) -> None:
    rows = [b"a,b"] + [b"%d,%s" % (i, b"y" * (i * 10)) for i in range(1, 40)]
    (tmp_path / "d.csv").write_bytes(b"\n".join(rows) + b"\n")
    lowered = invoke("check", tmp_path / "d.csv", "--ref", tmp_path / "d.csv",
                     "--max-line-bytes", "100")  # fmt: skip
    assert lowered.exit_code == 2
    # line 11 holds "10," and 100 bytes of y: 103 bytes, the first over 100
    assert "error: " + str(tmp_path / "d.csv") + ": line 11: longer than the line limit of " in (
        lowered.stderr
    )
    assert "100 bytes (--max-line-bytes)" in lowered.stderr
    assert invoke("check", tmp_path / "d.csv", "--ref", tmp_path / "d.csv",
                  "--max-line-bytes", "1KiB", "--exit-zero").exit_code in (0, 2)  # fmt: skip
    skipped = invoke("check", tmp_path / "d.csv", "--ref", tmp_path / "d.csv",
                     "--max-line-bytes", "100", "--skip-bad-lines", "-f", "json")  # fmt: skip
    document = json.loads(skipped.stdout)
    assert document["live"]["rows"] == 9 and document["live"]["skipped_lines"] == 30


@pytest.mark.parametrize(
    ("value", "where"),
    [("0", "flag"), ("lots", "flag"), ("-5", "env"), ("1e3", "config")],
)
def test_a_bad_line_limit_is_a_usage_error(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch, value: str, where: str
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["check", str(SAMPLE / "live_ok.csv"), "--ref", REF]
    if where == "flag":
        args += ["--max-line-bytes", value]
    elif where == "env":
        monkeypatch.setenv("DRIFTCLI_MAX_LINE_BYTES", value)
    else:
        (tmp_path / "driftcli.toml").write_text(f'max_line_bytes = "{value}"\n')
    result = invoke(*args)
    assert result.exit_code == 2
    assert "max_line_bytes must be a size in bytes of at least 1" in result.stderr.replace(
        "--max-line-bytes", "max_line_bytes"
    ).replace("DRIFTCLI_MAX_LINE_BYTES", "max_line_bytes")


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    lengths=st.lists(st.integers(0, 300), min_size=1, max_size=40),
    run=st.sampled_from([16, 64, 256]),
    limit=st.integers(1, 400),
    stream=st.booleans(),
    final_newline=st.booleans(),
)
def test_lines_over_the_limit_are_exactly_the_ones_skipped(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lengths: list[int],
    run: int,
    limit: int,
    stream: bool,
    final_newline: bool,
) -> None:
    """Whatever the run size, the limit and the route (mapped or streamed): a line
    longer than the limit is refused at its number, or skipped, and no other."""
    monkeypatch.setattr(cutting, "RUN_BYTES", run)
    lines = [json.dumps({"i": i, "pad": "p" * n}) for i, n in enumerate(lengths)]
    data = ("\n".join(lines) + ("\n" if final_newline else "")).encode()
    path = tmp_path / f"{run}-{limit}-{stream}.jsonl"
    path.write_bytes(data)
    long = [i + 1 for i, line in enumerate(lines) if len(line.encode()) > limit]
    spec = "-" if stream else str(path)
    if stream:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with open_source(spec, skip_bad_lines=True, max_line_bytes=limit) as source:
        kept = [r["i"] for b in source.batches() for r in b.to_pylist()]
        assert source.bad_lines.count == len(long)
    assert kept == [i for i in range(len(lines)) if i + 1 not in long]
    if stream:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with open_source(spec, max_line_bytes=limit) as source:
        if long:
            with pytest.raises(InputError, match=f": line {long[0]}: longer than the line limit"):
                list(source.batches())
        else:
            assert sum(b.num_rows for b in source.batches()) == len(lines)


# --- 2. deep nesting: a bad line, not a crash ---------------------------------


def _deep(kind: str, depth: int) -> str:
    if kind == "objects":
        return '{"a": ' + '{"x": ' * depth + "1" + "}" * depth + "}"
    if kind == "arrays":
        return '{"a": ' + "[" * depth + "1" + "]" * depth + "}"
    return '{"a": ' + "[" * depth  # unclosed


@pytest.fixture
def deep_file(tmp_path: Path) -> Path:
    good = [json.dumps({"a": i % 7, "b": "x"}) for i in range(60)]
    lines = good[:30] + [_deep(k, 10_000) for k in ("objects", "arrays", "unclosed")] + good[30:]
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("command", ["check", "reference", "ingest"])
def test_json_nested_10000_deep_is_a_bad_line_for_every_command(
    deep_file: Path, tmp_path: Path, command: str
) -> None:
    store = tmp_path / "store"
    args: list[str | Path] = {
        "check": ["check", deep_file, "--ref", deep_file],
        "reference": ["reference", deep_file],
        "ingest": ["ingest", deep_file],
    }[command]
    result = run_driftcli(*args, "--store", store, cwd=tmp_path)
    assert result.returncode == 2  # not -11 (SIGSEGV) nor an internal error
    assert (
        f"error: {deep_file}: line 31: nested deeper than {MAX_JSON_DEPTH} levels "
        "(the JSON nesting limit)"
    ).encode() in result.stderr
    assert not store.exists()  # nothing written, not even an empty store
    skipped = run_driftcli(*args, "--store", store, "--skip-bad-lines", cwd=tmp_path)
    assert skipped.returncode in (0, 1), skipped.stderr
    assert b"skipped 3 bad line" in skipped.stderr
    if command == "ingest":
        assert len(window_ids(store, column="a")) == 60


def test_the_nesting_limit_is_exact_and_strings_do_not_count(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    lines = [
        _deep("arrays", MAX_JSON_DEPTH - 1),  # with the object around it: exactly the limit
        _deep("arrays", MAX_JSON_DEPTH),  # one more
        json.dumps({"a": "[" * 5000, "b": "{" * 5000}),  # brackets in strings are text
        json.dumps({"a": '\\"' + "[" * 500}),  # an escaped quote does not end the string
    ]
    path.write_text("\n".join(lines) + "\n")
    with open_source(str(path), skip_bad_lines=True) as source:
        rows = sum(b.num_rows for b in source.batches())
        assert source.bad_lines.first == [2]
    assert rows == 3


@pytest.mark.parametrize("kind", ["objects", "arrays", "mixed"])
def test_every_nesting_the_limit_accepts_is_stored_and_read_back(
    tmp_path: Path, invoke: Invoke, kind: str
) -> None:
    # Parquet reads back no schema deeper than 100 levels (a list takes two):
    # such a column is stored as nulls, never as a segment no command can read.
    def nested(depth: int) -> str:
        if kind != "mixed":
            return _deep(kind, depth)
        opened = "".join("[" if i % 2 else '{"x": ' for i in range(depth))
        closed = "".join("]" if i % 2 else "}" for i in reversed(range(depth)))
        return '{"a": ' + opened + "1" + closed + "}"

    store = tmp_path / "store"
    for depth in (1, 30, 49, 50, 60, 80, MAX_JSON_DEPTH - 1):
        path = tmp_path / f"d{depth}.jsonl"
        rows = [json.dumps({"age": i}) for i in range(40)]
        path.write_text("\n".join([*rows, nested(depth), *rows]) + "\n")
        ingested = invoke("ingest", path, "--store", store, "--window", f"w{depth}")
        assert ingested.exit_code == 0, (depth, ingested.stderr)
        again = invoke("ingest", path, "--store", store, "--window", f"w{depth}")
        assert again.exit_code == 0, (depth, again.stderr)  # reads the segment back
        snapshot = tmp_path / f"r{depth}.parquet"
        made = invoke("reference", path, "-o", snapshot, "--quiet")
        assert made.exit_code == 0, (depth, made.stderr)
        checked = invoke("check", path, "--ref", snapshot, "--exit-zero")
        assert checked.exit_code == 0, (depth, checked.stderr)
        assert "not a driftcli snapshot" not in checked.stderr
    status = invoke("status", "--store", store, "-f", "json")
    assert status.exit_code == 0, status.stderr
    assert {w["rows"] for w in json.loads(status.stdout)["windows"]} == {162}


# --- 9. clear messages for inputs that are not what they seem -----------------


def test_a_parquet_file_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays([pa.array([1.0, 2.0] * 50)] * 2, names=["x", "x"])
    pq.write_table(table, path)
    for args in (["check", path, "--ref", path], ["check", path, "--ref", REF],
                 ["reference", path, "--store", tmp_path / "s"]):  # fmt: skip
        result = run_driftcli(*args, cwd=tmp_path)
        assert result.returncode == 2
        assert f"error: {path}: Parquet file names column 'x' twice".encode() in result.stderr
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("route", ["gzip file", "gzip stdin", "/dev/zero"])
def test_nul_bytes_are_said_to_be_not_text(tmp_path: Path, route: str) -> None:
    zipped = tmp_path / "zeros.csv.gz"
    zipped.write_bytes(gzip.compress(bytes(1 << 20)))
    args: list[str | Path] = {"gzip file": [zipped], "gzip stdin": ["-"],
                              "/dev/zero": ["/dev/zero"]}[route]  # fmt: skip
    stdin = zipped.read_bytes() if route == "gzip stdin" else None
    result = run_driftcli("check", *args, "--ref", REF, cwd=tmp_path, input=stdin, timeout=60)
    assert result.returncode == 2
    assert b"line 1 holds NUL bytes, so it is not UTF-8 text" in result.stderr
    assert b"internal error" not in result.stderr


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_utf16_and_utf32_files_are_named_as_such(
    tmp_path: Path, invoke: Invoke, encoding: str, suffix: str
) -> None:
    path = tmp_path / f"wide.{suffix}"
    text = "a,b\n1,2\n3,4\n" if suffix == "csv" else '{"a": 1}\n{"a": 2}\n'
    bom = {"utf-16-be": "\ufeff"}.get(encoding, "")  # utf-16 and utf-32 write their own
    path.write_bytes((bom + text).encode(encoding))
    result = invoke("check", path, "--ref", REF)
    assert result.exit_code == 2
    name = encoding.upper()[:6]
    assert f"is {name} text (it starts with a {name} byte-order mark); driftcli reads UTF-8" in (
        result.stderr
    )
    assert f"hint: convert it first: iconv -f {name} -t UTF-8" in result.stderr
    assert "fields" not in result.stderr


@pytest.mark.parametrize("command", ["check", "reference", "ingest"])
def test_a_lone_surrogate_escape_in_json_is_a_bad_line(
    tmp_path: Path, invoke: Invoke, command: str
) -> None:
    """`"\\ud800"` is valid JSON, but no character: it was an internal error
    (UnicodeEncodeError). A pair is one character, and an escaped backslash is text."""
    rows = [json.dumps({"a": i % 5, "s": "x"}) for i in range(60)]
    rows[10] = '{"a": 1, "s": "\\ud800"}'
    rows[20] = '{"\\udc00": 1}'
    rows[30] = '{"a": 2, "s": "\\ud83d\\ude00"}'  # a pair: one character
    rows[40] = '{"a": 3, "s": "\\\\ud800"}'  # an escaped backslash, then text
    path = tmp_path / "lone.jsonl"
    path.write_text("\n".join(rows) + "\n")
    store = tmp_path / "store"
    args: list[str | Path] = {
        "check": ["check", path, "--ref", path],
        "reference": ["reference", path, "--store", store],
        "ingest": ["ingest", path, "--store", store],
    }[command]
    refused = invoke(*args)
    assert refused.exit_code == 2
    assert f"error: {path}: line 11: holds a surrogate escape without its pair" in refused.stderr
    assert "internal error" not in refused.stderr
    skipped = invoke(*args, "--skip-bad-lines", *(["--exit-zero"] if command == "check" else []))
    assert skipped.exit_code == 0, skipped.stderr
    assert "skipped 2 bad lines" in skipped.stderr and "11, 21" in skipped.stderr


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("side", ["live", "reference"])
def test_a_proc_file_is_read_not_refused_as_empty(
    tmp_path: Path, invoke: Invoke, side: str
) -> None:
    """A /proc file says it holds 0 bytes: it was an internal error (ValueError: cannot mmap
    an empty file); it is read to its end, as a pipe is."""
    proc = "/proc/self/status"
    args = [proc, "--ref", REF] if side == "live" else [REF, "--ref", proc]
    result = invoke("check", *args, "--input-format" if side == "live" else "--ref-format",
                    "csv", "--delimiter", ":", "-f", "json")  # fmt: skip
    assert result.exit_code == 2
    # It is read: its header (`Name:\tpython`) gives columns no other input has.
    if side == "live":
        assert f"error: {proc}: has none of the reference's features" in result.stderr
    else:
        assert "hint: check that both inputs are the same kind of data; reference features: " \
            "Name, " in result.stderr  # fmt: skip
    assert "internal error" not in result.stderr and "empty" not in result.stderr


def test_a_5000_character_path_is_too_long_not_internal(tmp_path: Path) -> None:
    name = "a" * 5000
    result = run_driftcli("check", name, "--ref", REF, cwd=tmp_path)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "file name too long" in message and "(5,000 characters)" in message
    assert len(message) < 400 and "internal error" not in message
    store = run_driftcli("check", "--store", name, cwd=tmp_path)
    assert store.returncode == 2 and b"file name too long" in store.stderr


@pytest.mark.parametrize("length", [300, 5000])
def test_a_reference_path_too_long_is_said_as_for_live_data(
    tmp_path: Path, invoke: Invoke, length: int
) -> None:
    name = str(tmp_path / ("a" * length + ".csv"))
    live = invoke("check", name, "--ref", REF)
    ref = invoke("check", str(SAMPLE / "live_ok.csv"), "--ref", name)
    assert ref.exit_code == live.exit_code == 2
    assert "file name too long" in ref.stderr and "internal error" not in ref.stderr
    assert ref.stderr == live.stderr


def test_a_symbolic_link_loop_is_named_as_one(tmp_path: Path, invoke: Invoke) -> None:
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    for args in (["check", loop, "--ref", REF], ["check", str(SAMPLE / "live_ok.csv"),
                 "--ref", loop], ["check", "--config", loop]):  # fmt: skip
        result = invoke(*args)
        assert result.exit_code == 2
        assert "too many levels of symbolic links (a symbolic link loop?)" in result.stderr
        assert "no such file" not in result.stderr


def test_config_that_is_a_directory_or_a_pipe_is_named_as_such(
    tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke("check", "--config", "/tmp")
    assert result.exit_code == 2
    assert "error: --config /tmp: is a directory, not a config file" in result.stderr
    os.mkfifo(tmp_path / "driftcli.toml")
    monkeypatch.chdir(tmp_path)
    found = run_driftcli("check", "--show-config", cwd=tmp_path, timeout=30)  # never waits
    assert found.returncode == 2
    assert b"driftcli.toml: is not a regular file (a named pipe or a device?)" in found.stderr


# --- 10. a bad line mid-stream: the good lines before it are kept -------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("route", ["file", "stdin"])
def test_a_bad_line_keeps_the_flushes_before_it(tmp_path: Path, fmt: str, route: str) -> None:
    """With --flush-rows 100 and a bad line 251st, the 200 rows that two flushes would
    have stored are stored (the piece held them all); the 50 after the last flush are not."""
    if fmt == "jsonl":
        good = [json.dumps({"id": i, "x": i / 2}) for i in range(300)]
        lines, bad_line = [*good[:250], "{not json", *good[250:]], 251
    else:
        good = [f"{i},{i / 2}" for i in range(300)]
        lines, bad_line = ["id,x", *good[:250], "1,2,3", *good[250:]], 252
    path = tmp_path / f"bad.{fmt}"
    path.write_text("\n".join(lines) + "\n")
    store = tmp_path / "store"
    args = [path] if route == "file" else ["-"]
    stdin = path.read_bytes() if route == "stdin" else None
    result = run_driftcli("ingest", *args, "--flush-rows", "100", "--store", store,
                          "--input-format", fmt, cwd=tmp_path, input=stdin)  # fmt: skip
    assert result.returncode == 2
    assert f": line {bad_line}: ".encode() in result.stderr
    assert [int(i) for i in window_ids(store)] == list(range(200))


def test_a_value_of_the_wrong_type_keeps_the_flushes_before_it(
    tmp_path: Path, invoke: Invoke
) -> None:
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(json.dumps({"id": i, "x": i / 3}) + "\n" for i in range(500)))
    store = tmp_path / "store"
    assert invoke("reference", ref, "--store", store).exit_code == 0
    rows = [json.dumps({"id": i, "x": i / 2}) for i in range(150)]
    rows[120] = json.dumps({"id": 120, "x": "not a number"})
    result = invoke("ingest", "-", "--flush-rows", "50", "--store", store,
                    input=("\n".join(rows) + "\n").encode())  # fmt: skip
    assert result.exit_code == 2
    assert "<stdin>: line 121: x: value is not of the reference's type" in result.stderr
    assert window_ids(store) == list(range(100))


# --- 11. a file truncated while read (logrotate's copytruncate) ---------------

SHRINKING_ROWS = 3_000_000
"""About 100 MB of CSV: six runs, so a read seen past the first is far from done."""


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("shrinking") / "big.csv"
    pad = "p" * 24
    with where.open("w") as out:
        out.write("id,x,pad\n")
        for start in range(0, SHRINKING_ROWS, 100_000):
            out.write("".join(f"{i},{i % 97},{pad}\n" for i in range(start, start + 100_000)))
    return where


def _read_position(pid: int, path: Path) -> int:
    """How far process `pid` has read `path` through a descriptor (0 if it has none open)."""
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir() if fds.exists() else []:
        try:
            if fd.readlink() != path:
                continue
            info = (Path(f"/proc/{pid}/fdinfo") / fd.name).read_text()
        except OSError:  # closed meanwhile
            continue
        return int(info.split("pos:", 1)[1].split()[0])
    return 0


def _truncated_while_read(
    args: list[str | Path], path: Path, cwd: Path, ready: Callable[[], bool] = lambda: True
) -> subprocess.CompletedProcess[bytes]:
    """driftcli run on `path`, which is truncated to nothing once a piece of it was read
    (and `ready()`)."""
    command = [sys.executable, "-m", "driftcli", *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:  # fmt: skip
        while process.poll() is None and (
            _read_position(process.pid, path) < cutting.RUN_BYTES or not ready()
        ):
            time.sleep(0.002)
        os.truncate(path, 0)
        stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.skipif(not Path("/proc/self/fdinfo").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("command", ["check", "check --ref", "reference", "ingest"])
def test_a_file_truncated_while_read_is_an_error_naming_it(
    big_csv: Path, tmp_path: Path, command: str
) -> None:
    """Not a death by SIGBUS (exit 135, no message), as when inputs were memory-mapped;
    the rows an ingest stored before it stay stored."""
    path = tmp_path / "app.csv"
    path.write_bytes(big_csv.read_bytes())
    size = path.stat().st_size
    store = tmp_path / "store"
    args: list[str | Path] = {
        "check": ["check", path, "--ref", REF],
        "check --ref": ["check", str(SAMPLE / "live_ok.csv"), "--ref", path],
        "reference": ["reference", path, "--store", store],
        "ingest": ["ingest", path, "--store", store, "--flush-rows", "100000",
                   "--window-size", "10000000", "--verbose"],
    }[command]  # fmt: skip
    # An ingest is cut once it has stored rows (a cut at its first read would leave none).
    stored = (
        (lambda: any(store.glob("windows/live/seg-*.parquet")))
        if command == "ingest"
        else (lambda: True)
    )
    result = _truncated_while_read(args, path, tmp_path, stored)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert f"error: {path}: shrank from {size:,} to 0 bytes while it was read" in stderr
    assert "internal error" not in stderr and "Traceback" not in stderr
    if command == "ingest":
        told = [int(line.rsplit(" ", 1)[1].replace(",", "")) for line in stderr.splitlines()
                if line.startswith("stored ")]  # fmt: skip
        assert told and told[-1] > 0, stderr
        assert [int(i) for i in window_ids(store, column="id")] == list(range(told[-1]))
    elif command == "reference":
        assert not store.exists()


# --- 12. many columns: refused at the column limit, in bounded memory -----------

WIDE = 100_000
AT_LIMIT = DEFAULT_MAX_COLUMNS
AT_LIMIT_ROWS = 12_000
"""Past the values each column holds in a reference that wide (sketch.hold_for)."""


@pytest.fixture(scope="module")
def wide_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 columns of 20 rows as CSV and as JSON lines (the same keys on every line);
    JSON lines whose keys are ids, a new one on each of 20,000 lines; and 2,000 columns
    of 12,000 rows, at the default limit."""
    where = tmp_path_factory.mktemp("wide")
    rows = [",".join(str((r * 7 + c) % 10) for c in range(WIDE)) for r in range(20)]
    (where / "wide.csv").write_text(",".join(f"c{c}" for c in range(WIDE)) + "\n"
                                    + "\n".join(rows) + "\n")  # fmt: skip
    keys = ", ".join(f'"k{c}": VALUE' for c in range(WIDE))
    (where / "wide.jsonl").write_text(
        "".join("{" + keys.replace("VALUE", str(r)) + "}\n" for r in range(20))
    )
    (where / "ids.jsonl").write_text(
        "".join(f'{{"user_{i}": 1, "age": {i % 50}}}\n' for i in range(20_000))
    )
    values = [str(v) for v in range(AT_LIMIT + 100)]
    with (where / "at_limit.csv").open("w") as out:
        out.write(",".join(f"c{c}" for c in range(AT_LIMIT)) + "\n")
        for r in range(AT_LIMIT_ROWS):  # each column a shifted run of numbers
            out.write(",".join(values[r % 100 : r % 100 + AT_LIMIT]) + "\n")
    return where


@pytest.mark.parametrize("command", ["check", "reference", "ingest"])
def test_a_csv_header_past_the_column_limit_is_refused_before_it_is_parsed(
    wide_inputs: Path, tmp_path: Path, command: str
) -> None:
    """100,000 columns of 20 rows: `check` peaked at 1.5 GB, `reference` at 2.5 GB (94 s)."""
    store = tmp_path / "store"
    args: list[str | Path] = {
        "check": ["check", "wide.csv", "--ref", REF],
        "reference": ["reference", "wide.csv", "--store", store],
        "ingest": ["ingest", "wide.csv", "--store", store],
    }[command]
    result = peak_run(*args, cwd=wide_inputs)
    assert result["code"] == 2
    assert (
        "error: wide.csv: line 1: the CSV header holds 100,000 fields (by comma), more than "
        "the column limit of 2,000 (--max-columns)\n"
    ) in str(result["stderr"])
    assert "hint: if the data really has that many columns, raise the limit: --max-columns N" in (
        str(result["stderr"])
    )
    assert int(str(result["peak"])) < 300 * MiB
    assert not store.exists()


@pytest.mark.parametrize("command", ["check", "reference", "ingest"])
def test_a_json_line_of_more_keys_than_the_column_limit_is_a_bad_line(
    wide_inputs: Path, tmp_path: Path, command: str
) -> None:
    """100,000 keys on each of 20 lines: 0.9 GB before; refused before Arrow parses them."""
    store = tmp_path / "store"
    args: list[str | Path] = {
        "check": ["check", "wide.jsonl", "--ref", REF],
        "reference": ["reference", "wide.jsonl", "--store", store],
        "ingest": ["ingest", "wide.jsonl", "--store", store],
    }[command]
    result = peak_run(*args, cwd=wide_inputs)
    assert result["code"] == 2
    assert (
        "error: wide.jsonl: line 1: holds 100,000 keys, more than the column limit of 2,000 "
        "(--max-columns)\n"
    ) in str(result["stderr"])
    assert int(str(result["peak"])) < 300 * MiB
    skipped = peak_run(*args, "--skip-bad-lines", cwd=wide_inputs)
    if command == "ingest":
        assert skipped["code"] == 0
        assert "skipped 20 bad lines" in str(skipped["stderr"])
    else:
        assert skipped["code"] == 2
        assert "wide.jsonl: no data rows" in str(skipped["stderr"])  # all 20 skipped
    assert int(str(skipped["peak"])) < 300 * MiB


@pytest.mark.parametrize("limit", [None, "100000"])
def test_json_keys_that_are_ids_cost_bounded_memory(wide_inputs: Path, limit: str | None) -> None:
    """A new key on each line: Arrow would build a 20,000-row column for each of 20,000
    keys (3.4 GB for a 430 KB file). Parsed in bounded parts, it stops at the limit, or,
    with the limit raised, is read (`age` is the only feature in common)."""
    args = ["check", "ids.jsonl", "--ref", REF, *(["--max-columns", limit] if limit else [])]
    result = peak_run(*args, cwd=wide_inputs)
    stderr = str(result["stderr"])
    assert result["code"] == 2 if limit is None else result["code"] in (0, 1, 2)
    if limit is None:
        assert "error: ids.jsonl: has more than 2,000 columns (the column limit, " in stderr
    else:
        assert "column limit" not in stderr and "internal error" not in stderr
    assert int(str(result["peak"])) < MEMORY_BOUND


def test_a_parquet_file_past_the_column_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({f"c{i}": [1.0, 2.0] for i in range(101)}), path)
    result = run_driftcli("check", path, "--ref", REF, "--max-columns", "100", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        f"error: {path}: has 101 columns, more than the column limit of 100 (--max-columns)"
    ).encode() in result.stderr


@pytest.mark.parametrize("command", ["check", "reference"])
def test_columns_at_the_default_limit_are_read_within_the_memory_bound(
    wide_inputs: Path, tmp_path: Path, command: str
) -> None:
    args: list[str | Path] = {
        "check": ["check", "at_limit.csv", "--ref", "at_limit.csv", "--exit-zero", "-q"],
        "reference": ["reference", "at_limit.csv", "--store", tmp_path / "store", "-q"],
    }[command]
    result = peak_run(*args, cwd=wide_inputs)
    assert result["code"] in (0, 2), result["stderr"]  # 20 rows may judge nothing: no verdict
    assert "column limit" not in str(result["stderr"])
    assert int(str(result["peak"])) < MEMORY_BOUND


def test_the_column_limit_can_be_raised_or_lowered_and_a_found_config_only_lowers_it(
    wide_inputs: Path, tmp_path: Path, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    live = str(SAMPLE / "live_ok.csv")
    lowered = invoke("check", live, "--ref", REF, "--max-columns", "4")
    assert lowered.exit_code == 2
    assert "has 5 columns, more than the column limit of 4 (--max-columns)" in lowered.stderr
    monkeypatch.setenv("DRIFTCLI_MAX_COLUMNS", "3")
    assert "more than the column limit of 3" in invoke("check", live, "--ref", REF).stderr
    monkeypatch.delenv("DRIFTCLI_MAX_COLUMNS")
    (tmp_path / "driftcli.toml").write_text("max_columns = 4\n")
    assert "more than the column limit of 4" in invoke("check", live, "--ref", REF).stderr
    (tmp_path / "driftcli.toml").write_text("max_columns = 200000\n")
    raised = invoke("check", live, "--ref", REF)
    assert raised.exit_code == 2
    assert "sets max_columns = 200,000, above the default of 2,000, but only a limit you " \
        "give may raise it" in raised.stderr  # fmt: skip
    given = invoke("check", live, "--ref", REF, "--config", tmp_path / "driftcli.toml")
    assert given.exit_code == 0, given.stderr
