"""Fuzzing: mutated CSV, JSON lines and Parquet bytes, and a valid store's files mutated.

Whatever the bytes, driftcli exits 0, 1 or 2, prints no traceback and no
"internal error" without --debug, is not killed by a signal, and never loses
a row a store held before. The cases run in one warm worker process (a
signal that kills it fails the test with the case that did), seeded and
bounded by `max_examples`.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, seed, settings
from hypothesis import strategies as st

from driftcli.store.codec import checksum
from tests.conftest import ROOT, SAMPLE, window_segments

_WORKER = r"""
import json, os, sys, traceback
from typer.testing import CliRunner
from driftcli.cli import app
runner = CliRunner()
for line in sys.stdin:
    args, cwd = json.loads(line)
    os.chdir(cwd)
    result = runner.invoke(app, args)
    escaped = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        escaped = "".join(traceback.format_exception(result.exception))
    print(json.dumps({"code": result.exit_code, "stdout": result.stdout,
                      "stderr": result.stderr, "escaped": escaped}), flush=True)
"""

CASE_SECONDS = 60


class Worker:
    """A process running driftcli commands in-process, one request line at a time."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.stdout = ""
        """What the last command wrote to stdout."""

    def _start(self) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER], env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def run(self, args: list[str | Path], cwd: Path) -> tuple[int, str]:
        """Exit code and stderr of `driftcli ARGS`; fails the test on anything else."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([[str(a) for a in args], str(cwd)]) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], CASE_SECONDS)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            code = self.proc.wait()
            self.close()
            pytest.fail(f"driftcli {args}: {'hung' if not ready else f'died ({code})'}")
        answer: dict[str, Any] = json.loads(line)
        assert answer["escaped"] is None, f"{args}: {answer['escaped']}"
        code, stderr = int(answer["code"]), str(answer["stderr"])
        self.stdout = str(answer["stdout"])
        assert code in (0, 1, 2), (args, code, stderr)
        assert "Traceback" not in stderr, (args, stderr)
        assert "internal error" not in stderr, (args, stderr)
        return code, stderr

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
            self.proc = None


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    running = Worker()
    yield running
    running.close()


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small valid inputs in each format, a reference snapshot, and a valid store."""
    where = tmp_path_factory.mktemp("valid")
    table = pq.read_table(SAMPLE / "live_ok.parquet").slice(0, 200)
    pq.write_table(table, where / "live.parquet")
    pcsv.write_csv(table, where / "live.csv")
    (where / "live.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in table.to_pylist()), encoding="utf-8"
    )
    runner = Worker()
    try:
        runner.run(["reference", SAMPLE / "ref.parquet", "-o", where / "ref.snapshot.parquet"],
                   where)  # fmt: skip
        store = where / "store"
        runner.run(["reference", SAMPLE / "ref.parquet", "--store", store], where)
        ids = pa.table({"id": list(range(300)), "age": [float(i % 60) for i in range(300)]})
        pq.write_table(ids, where / "ids.parquet")
        runner.run(["ingest", where / "ids.parquet", "--store", store, "--flush-rows", "50",
                    "--window-size", "100000"], where)  # fmt: skip
    finally:
        runner.close()
    return where


OPERATIONS = ("flip", "set", "insert", "delete", "duplicate", "truncate")

mutations = st.lists(
    st.tuples(
        st.sampled_from(OPERATIONS),
        st.one_of(st.floats(0, 1), st.floats(0.9, 1)),  # Parquet keeps its footer at the end
        st.binary(max_size=8),
        st.integers(1, 200),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, changes: list[tuple[str, float, bytes, int]]) -> bytes:
    out = bytearray(data)
    for op, where, payload, span in changes:
        i = min(int(where * len(out)), max(len(out) - 1, 0))
        if op == "flip" and out:
            out[i] ^= 1 << (span % 8)
        elif op == "set":
            out[i : i + len(payload)] = payload
        elif op == "insert":
            out[i:i] = payload
        elif op == "delete":
            del out[i : i + span]
        elif op == "duplicate":
            out[i:i] = out[i : i + span]
        elif op == "truncate":
            del out[i:]
    return bytes(out)


FRAGMENTS = {
    "deep arrays": b'{"a": ' + b"[" * 20_000 + b"1" + b"]" * 20_000 + b"}\n",
    "deep objects": b'{"a": ' + b'{"x": ' * 5_000 + b"1" + b"}" * 5_001 + b"\n",
    "long line": b"x" * 300_000 + b"\n",  # over a --max-line-bytes of 100k
    "long field": b'"' + b"y" * 200_000 + b'"\n',  # over the csv module's 128 KiB
    "NULs": b"\x00" * 5_000,
    "UTF-16 mark": b"\xff\xfe",
    "UTF-8 mark": b"\xef\xbb\xbf",
    "blank lines": b"\r\n\r\n",
    "quote": b'"',
    "not UTF-8": b"\xc3\x28",
    "not objects": b"null\n[1, 2]\n",
}
"""Hostile pieces spliced in, by name (their bytes would make long example reprs)."""

spliced = st.lists(st.tuples(st.floats(0, 1), st.sampled_from(sorted(FRAGMENTS))), max_size=2)


def splice(data: bytes, pieces: list[tuple[float, str]]) -> bytes:
    """The pieces inserted at the start of a line (a hostile line among good ones)."""
    for where, name in pieces:
        i = data.find(b"\n", int(where * len(data))) + 1 or len(data)
        data = data[:i] + FRAGMENTS[name] + data[i:]
    return data


FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@seed(15)
@FUZZ
@given(
    changes=mutations,
    pieces=spliced,
    role=st.sampled_from(["live", "ref", "ingest"]),
    skip=st.booleans(),
    limit=st.sampled_from([None, "100KiB"]),
)
def test_mutated_inputs_exit_0_1_or_2_with_a_message(
    worker: Worker,
    valid: Path,
    tmp_path_factory: pytest.TempPathFactory,
    fmt: str,
    changes: list[tuple[str, float, bytes, int]],
    pieces: list[tuple[float, str]],
    role: str,
    skip: bool,
    limit: str | None,
) -> None:
    case = tmp_path_factory.mktemp("case")
    data = splice(mutate((valid / f"live.{fmt}").read_bytes(), changes), pieces)
    path = case / f"mutated.{fmt}"
    path.write_bytes(data)
    flags = ["--skip-bad-lines"] if skip else []
    flags += ["--max-line-bytes", limit] if limit else []
    if role == "live":
        worker.run(["check", path, "--ref", valid / "ref.snapshot.parquet", *flags], case)
    elif role == "ref":
        worker.run(["check", valid / "live.csv", "--ref", path, *flags], case)
    else:
        store = case / "store"
        code, stderr = worker.run(
            ["ingest", path, "--store", store, "--flush-rows", "7", *flags], case
        )
        if code == 0:
            stored = int(stderr.split("ingested ", 1)[1].split(" rows", 1)[0].replace(",", ""))
            if stored:  # else nothing was written, not even the store
                status, _ = worker.run(["status", "--store", store, "-f", "json"], case)
                assert status == 0
            assert stored == (_window_rows(store) if store.exists() else 0)


def _window_rows(store: Path) -> int:
    return sum(pq.read_metadata(p).num_rows for p in _live_segments(store))


def _live_segments(store: Path) -> list[Path]:
    return window_segments(store)


def _ids(path: Path) -> set[int]:
    """The ids a segment file holds, or none if it cannot be read."""
    try:
        return set(pq.read_table(path, columns=["id"]).column("id").to_pylist())
    except (pa.ArrowException, OSError, KeyError):
        return set()


STORE_FILES = ("driftcli-store.json", "reference.parquet", "windows/live/window.json", "segment")

ODD_VALUES = (0, -5, -5000, 1, 10**30, 1e400, 2.5, "10", "", True, None, [], {}, [0], "inf")

json_changes = st.lists(
    st.tuples(st.integers(0, 10_000), st.sampled_from(["replace", "delete"]),
              st.sampled_from(ODD_VALUES)),
    min_size=1, max_size=3,
)  # fmt: skip


def _places(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) of a JSON document, depth first."""
    found: list[tuple[Any, Any]] = []
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    )
    for key, value in items:
        found.append((doc, key))
        found += _places(value)
    return found


def mutate_json(raw: bytes, changes: list[tuple[int, str, Any]]) -> bytes:
    """The document with some of its values replaced by ones no writer writes, or dropped."""
    doc = json.loads(raw)
    for index, how, value in changes:
        places = _places(doc)
        if not places:
            break
        container, key = places[index % len(places)]
        if how == "delete" and isinstance(container, dict):
            del container[key]
        elif how == "delete":
            container.pop(key)
        else:
            container[key] = value
    return json.dumps(doc).encode()


def _damage(
    target: Path,
    victim: str,
    changes: list[tuple[str, float, bytes, int]],
    values: list[tuple[int, str, Any]],
    in_footer: bool,
    resign: bool,
) -> None:
    """Damage a store file: its bytes, or the values of its JSON (a footer's, re-signed
    with a matching checksum or not)."""
    if not in_footer:
        target.write_bytes(mutate(target.read_bytes(), changes))
    elif target.suffix == ".json":
        target.write_bytes(mutate_json(target.read_bytes(), values))
    else:
        key = b"driftcli.snapshot" if victim == "reference.parquet" else b"driftcli.segment"
        table = pq.read_table(target)
        stamp = dict(table.schema.metadata)
        stamp[key] = mutate_json(stamp[key], values)
        if resign:
            stamp[key + b".sha256"] = checksum(stamp[key])
        pq.write_table(table.replace_schema_metadata(stamp), target)


@seed(15)
@FUZZ
@given(
    changes=mutations,
    values=json_changes,
    victim=st.sampled_from(STORE_FILES),
    which=st.integers(0, 10),
    in_footer=st.booleans(),
    resign=st.booleans(),
)
def test_a_damaged_store_file_loses_no_row_a_later_command_could_keep(
    worker: Worker,
    valid: Path,
    tmp_path_factory: pytest.TempPathFactory,
    changes: list[tuple[str, float, bytes, int]],
    values: list[tuple[int, str, Any]],
    victim: str,
    which: int,
    in_footer: bool,
    resign: bool,
) -> None:
    case = tmp_path_factory.mktemp("store")
    store = case / "store"
    shutil.copytree(valid / "store", store)
    files = _live_segments(store)
    target = files[which % len(files)] if victim == "segment" else store / victim
    others = [p for p in files if p != target]
    kept = set().union(*(_ids(p) for p in others))  # rows in files the damage left alone
    _damage(target, victim, changes, values, in_footer, resign)
    bound = _bound(store / "windows/live/window.json")
    more = case / "more.jsonl"
    more.write_text("".join(json.dumps({"id": 1000 + i, "age": i}) + "\n" for i in range(30)))
    for args in (["ingest", more, "--store", store, "--flush-rows", "10"],
                 ["check", "--store", store], ["status", "--store", store]):  # fmt: skip
        worker.run(args, case)
    after = set().union(*(_ids(p) for p in (store / "windows/live").glob("seg-*.parquet")))
    if bound is not None and 1 <= bound < len(kept) + 30:
        return  # a bound still valid, made smaller: trimming to it is what it asks
    assert kept <= after, sorted(kept - after)[:10]


def _bound(settings_path: Path) -> int | None:
    """The window's bound as its (damaged) settings still say it, or None if they do not."""
    try:
        value = json.loads(settings_path.read_bytes())["max_rows"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- flipped bytes in a segment's pages: an error naming it, or the same values --------


PROMOTE = ["reference", "--from-window", "live", "--store", "store", "-o", "promoted.parquet"]


@pytest.fixture(scope="module")
def undamaged(worker: Worker, valid: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """What a check of the valid store's window gives."""
    case = tmp_path_factory.mktemp("undamaged")
    shutil.copytree(valid / "store", case / "store")
    code, _ = worker.run(["check", "--store", "store", "-f", "json"], case)
    check = code, worker.stdout
    assert worker.run(PROMOTE, case)[0] == 0  # a promotion of the undamaged window works
    return check


@seed(24)
@FUZZ
@given(
    which=st.integers(0, 10),
    places=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 7)), min_size=1, max_size=3),
)
def test_flipped_bytes_in_a_segments_pages_are_never_read_as_values(
    worker: Worker,
    valid: Path,
    undamaged: Any,
    tmp_path_factory: pytest.TempPathFactory,
    which: int,
    places: list[tuple[float, int]],
) -> None:
    """A bit flipped anywhere in a segment's data pages (their headers included): every
    command either fails naming the segment, or gives exactly what it gave before."""
    case = tmp_path_factory.mktemp("flipped")
    store = case / "store"
    shutil.copytree(valid / "store", store)
    files = _live_segments(store)
    target = files[which % len(files)]
    data = bytearray(target.read_bytes())
    pages = range(4, len(data) - 8 - int.from_bytes(data[-8:-4], "little"))
    for where, bit in places:
        data[pages[min(int(where * len(pages)), len(pages) - 1)]] ^= 1 << bit
    assume(data != target.read_bytes())  # two flips of one bit undo each other
    target.write_bytes(bytes(data))
    check = undamaged
    named = f"store/windows/live/{target.name}: corrupt window segment"
    code, stderr = worker.run(["check", "--store", "store", "-f", "json"], case)
    assert (code, worker.stdout) == check or (code == 2 and named in stderr), stderr
    code, stderr = worker.run(PROMOTE, case)
    assert code == 2 and named in stderr, stderr  # the promotion reads every row
    assert not (case / "promoted.parquet").exists()
    more = case / "more.jsonl"
    more.write_text("".join(json.dumps({"id": 1000 + i, "age": i}) + "\n" for i in range(30)))
    code, stderr = worker.run(["ingest", more, "--store", "store", "--flush-rows", "10"], case)
    assert code == 0 or named in stderr, stderr  # a merge or a trim may read it
    if code == 0:  # no merge read the segment: it is still there, and still found
        assert target.exists() and worker.run(PROMOTE, case)[0] == 2
