"""A damaged store: every damage is exit 2 naming the file, and no stored row is lost.

Each case damages one file of a valid store, then runs the commands that
read or write it, and compares the store before and after: a value its
writer could not have written is refused, never acted on (window.json's
`max_rows: 0` used to delete the window), and only regular files are opened
(a named pipe used to hang every command).
"""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from driftcli.cli import app
from driftcli.store.codec import checksum
from driftcli.store.rows import FILE_KEY, write_rows
from driftcli.store.segments import CHECKSUM_KEY as SEGMENT_SUM
from driftcli.store.segments import SEGMENT_KEY
from driftcli.store.snapshot import CHECKSUM_KEY as SNAPSHOT_SUM
from driftcli.store.snapshot import SNAPSHOT_KEY
from tests.conftest import ROOT, SAMPLE, Invoke, run_driftcli, store_contents, window_ids

LIVE = SAMPLE / "live_ok.csv"


@pytest.fixture
def store(tmp_path: Path, invoke: Invoke) -> Path:
    """A valid store: a reference, and a window of at most 1,000 rows holding 500 in 5
    segments (100 rows each: too large to be merged in a window of 1,000)."""
    root = tmp_path / "store"
    assert invoke("reference", SAMPLE / "ref.parquet", "--store", root).exit_code == 0
    result = invoke("ingest", LIVE, "--store", root, "--flush-rows", "100", "--window-size", "1000")
    assert result.exit_code == 0, result.stderr
    assert len(segments(root)) == 5
    return root


def rows_in(root: Path) -> int:
    """The rows the window holds, as `status` counts them."""
    status = run_driftcli("status", "--store", root, "-f", "json", cwd=root.parent)
    assert status.returncode == 0, status.stderr
    return int(json.loads(status.stdout)["windows"][0]["rows"])


def segments(root: Path) -> list[Path]:
    return sorted((root / "windows" / "live").glob("seg-*.parquet"))


def rewrite_footer(path: Path, key: bytes, sum_key: bytes, change: Callable[[Any], None]) -> None:
    """Change a footer's document, its checksums made to match (so the values are what
    is checked, not the checksums)."""
    table = pq.read_table(path)
    document = json.loads(table.schema.metadata[key])
    change(document)
    raw = json.dumps(document).encode()
    with path.open("wb") as out:  # as driftcli writes it: the whole file's checksum too
        write_rows(table.replace_schema_metadata({key: raw, sum_key: checksum(raw)}), out)


def commands(root: Path) -> dict[str, list[str | Path]]:
    return {
        "check": ["check", "--store", root],
        "status": ["status", "--store", root],
        "ingest": ["ingest", LIVE, "--store", root, "--flush-rows", "100"],
    }


def in_process(args: list[str | Path]) -> tuple[int, bytes]:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stderr.encode()


def in_a_process(args: list[str | Path]) -> tuple[int, bytes]:
    """For what could hang: a real process, with a timeout."""
    result = run_driftcli(*args, cwd=Path.cwd(), timeout=60)
    return result.returncode, result.stderr


def assert_refused(
    root: Path,
    message: str,
    which: tuple[str, ...] = ("check", "status", "ingest"),
    run: Callable[[list[str | Path]], tuple[int, bytes]] = in_process,
) -> None:
    """Every command in `which` exits 2 with `message`, and the store is as it was."""
    before = store_contents(root)
    for name in which:
        code, stderr = run(commands(root)[name])
        assert code == 2, (name, stderr)
        assert message.encode() in stderr, (name, stderr)
        assert b"internal error" not in stderr
        assert store_contents(root) == before, name


# --- window.json -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ('{"max_rows": 0}', "max_rows must be a whole number of at least 1, not 0"),
        ('{"max_rows": -5}', "max_rows must be a whole number of at least 1, not -5"),
        ('{"max_rows": 1e400}', "max_rows must be a whole number of at least 1, not inf"),
        ('{"max_rows": "10"}', 'max_rows must be a whole number of at least 1, not "10"'),
        ('{"max_rows": true}', "max_rows must be a whole number of at least 1, not true"),
        ('{"max_rows": 1e30}', "max_rows must be a whole number of at least 1, not 1e+30"),
        ("{}", "max_rows is missing"),
        ("[1]", "the document must be an object, not [1]"),
        ("not json", "not JSON"),
    ],
)
def test_impossible_window_settings_delete_nothing(
    store: Path, tmp_path: Path, body: str, why: str
) -> None:
    settings = store / "windows" / "live" / "window.json"
    settings.write_text(body)
    assert_refused(store, f"{settings}: corrupt window settings ({why})",
                   ("status", "ingest"))  # fmt: skip
    assert len(window_ids(store, column="age")) == 500
    assert run_driftcli("check", "--store", store, cwd=tmp_path).returncode == 0  # never needed
    fixed = run_driftcli(*commands(store)["ingest"], "--window-size", "700", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr  # a bound given anew replaces it
    assert json.loads(settings.read_text()) == {"max_rows": 700}
    assert rows_in(store) == 700


def test_a_new_window_size_is_written_only_once_the_rows_are_safe(
    store: Path, tmp_path: Path
) -> None:
    last = segments(store)[-1]
    last.write_bytes(last.read_bytes()[:-40])  # a damaged segment: the append fails
    before = store_contents(store)
    result = run_driftcli(*commands(store)["ingest"], "--window-size", "50", cwd=tmp_path)
    assert result.returncode == 2
    assert f"{last}: corrupt window segment".encode() in result.stderr
    assert store_contents(store) == before  # no window.json written, nothing trimmed


# --- segment footers -------------------------------------------------------------


def _bucket(value: object) -> Callable[[Any], None]:
    def change(doc: Any) -> None:
        doc["counts"]["features"]["age"]["buckets"][0] = value

    return change


def _short(doc: Any) -> None:
    doc["counts"]["features"]["age"]["buckets"] = doc["counts"]["features"]["age"]["buckets"][:3]


def _rows(doc: Any) -> None:
    doc["rows"] += 1


def _counted_rows(doc: Any) -> None:
    doc["counts"]["rows"] += 7


def _lost_feature(doc: Any) -> None:
    del doc["counts"]["features"]["income"]


def _ingested(key: str, value: object) -> Callable[[Any], None]:
    def change(doc: Any) -> None:
        doc[key] = value

    return change


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_bucket(-5000), "counts.features.age.buckets[0] must be a whole number of at least 0"),
        (_bucket(10**30), "counts.features.age.buckets[0] must be at most"),
        (_bucket(2.5), "counts.features.age.buckets[0] must be a whole number"),
        (_bucket(None), "counts.features.age.buckets[0] must be a whole number"),
        (_short, "counts.features.age.buckets add up to"),
        (_rows, "rows says 101, but the file holds 100"),
        (_counted_rows, "counts.features.age.buckets add up to 100, not the 107 rows"),
        (_lost_feature, "counts lack the feature 'income'"),
        (_ingested("first_ingested", "garbage"),
         'first_ingested must be a time in ISO 8601 with its UTC offset, not "garbage"'),
        (_ingested("last_ingested", "2026-13-01T00:00:00+00:00"), "last_ingested must be a time"),
        (_ingested("last_ingested", "2026-01-01T00:00:00"), "last_ingested must be a time"),
        (_ingested("first_ingested", 1700000000), "first_ingested must be text"),
    ],
)  # fmt: skip
def test_impossible_segment_counts_are_refused(
    store: Path, tmp_path: Path, change: Callable[[Any], None], why: str
) -> None:
    first = segments(store)[0]
    rewrite_footer(first, SEGMENT_KEY, SEGMENT_SUM, change)
    which = ("check", "ingest") if change is _lost_feature else ("check", "status", "ingest")
    # (status reads no counts: a feature missing from them is found by those that do)
    assert_refused(store, "corrupt window segment", which)
    result = run_driftcli("check", "--store", store, cwd=tmp_path)
    assert f"{first}: corrupt window segment (".encode() in result.stderr
    assert why.encode() in result.stderr
    assert b"hint: remove the file to drop its rows from the window" in result.stderr


def test_a_short_bucket_vector_that_adds_up_is_refused(store: Path, tmp_path: Path) -> None:
    def shortened(doc: Any) -> None:
        age = doc["counts"]["features"]["age"]
        age["buckets"] = [doc["rows"], 0, 0]

    rewrite_footer(segments(store)[1], SEGMENT_KEY, SEGMENT_SUM, shortened)
    assert_refused(store, "has 3 buckets, not the 24 of its feature", ("check",))


def test_a_footer_that_does_not_match_its_checksum_is_refused(store: Path, tmp_path: Path) -> None:
    first = segments(store)[0]
    table = pq.read_table(first)
    metadata = dict(table.schema.metadata)
    metadata[SEGMENT_KEY] = metadata[SEGMENT_KEY].replace(b'"rows": 100', b'"rows": 100 ')
    pq.write_table(table.replace_schema_metadata(metadata), first)
    assert_refused(store, "the footer does not match its checksum")


def test_segments_written_before_checksums_are_still_read(store: Path, tmp_path: Path) -> None:
    for path in segments(store):
        table = pq.read_table(path)
        document = json.loads(table.schema.metadata[SEGMENT_KEY])
        del document["file_checksum"]
        old = {SEGMENT_KEY: json.dumps(document).encode()}  # as 0.1.0 wrote them
        pq.write_table(table.replace_schema_metadata(old), path)
    result = run_driftcli("check", "--store", store, "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["live"]["rows"] == 500
    promoted = run_driftcli("reference", "--from-window", "live", "--store", store, "-o",
                            tmp_path / "promoted.parquet", cwd=tmp_path)  # fmt: skip
    assert promoted.returncode == 0, promoted.stderr  # their rows are read, unchecked


# --- a checksum of every segment's bytes --------------------------------------------


def _data_pages(path: Path) -> range:
    """The bytes of a Parquet file before its footer: its pages and their headers."""
    data = path.read_bytes()
    return range(4, len(data) - 8 - int.from_bytes(data[-8:-4], "little"))


def _flip(path: Path, at: int, bit: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1 << bit
    path.write_bytes(bytes(data))


def test_a_flipped_byte_in_a_segments_data_pages_is_an_error_naming_it(
    store: Path, tmp_path: Path
) -> None:
    first = segments(store)[0]
    pages = _data_pages(first)
    _flip(first, pages.start + len(pages) // 2)
    before = store_contents(store)
    promote = ["reference", "--from-window", "live", "--store", store]
    for args in (promote, [*promote, "-o", tmp_path / "new.parquet"]):
        result = run_driftcli(*args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        said = f"error: {first}: corrupt window segment (its bytes do not match their checksum)"
        assert said.encode() in result.stderr
        assert b"hint: remove the file to drop its rows from the window" in result.stderr
    assert store_contents(store) == before and not (tmp_path / "new.parquet").exists()
    # A check reads the segment's footer, whose counts carry their own checksum.
    result = run_driftcli("check", "--store", store, "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("where", ["footer", "checksum key", "checksum value"])
def test_a_segment_whose_checksum_is_damaged_is_an_error(
    store: Path, tmp_path: Path, where: str
) -> None:
    first = segments(store)[0]
    data = first.read_bytes()
    key = data.rfind(FILE_KEY)
    at = {"footer": _data_pages(first).stop + 10, "checksum key": key + 3,
          "checksum value": key + len(FILE_KEY) + 2 + 3}[where]  # fmt: skip
    _flip(first, at, 1)
    result = run_driftcli("reference", "--from-window", "live", "--store", store, "-o",
                          tmp_path / "new.parquet", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    assert f"error: {first}: corrupt window segment (".encode() in result.stderr


def test_a_flipped_byte_in_the_reference_sample_is_an_error_naming_it(
    store: Path, tmp_path: Path
) -> None:
    reference = store / "reference.parquet"
    pages = _data_pages(reference)
    _flip(reference, pages.start + len(pages) // 3, 4)
    said = f"{reference}: corrupt driftcli snapshot (its bytes do not match their checksum)"
    assert_refused(store, said)


# --- the reference snapshot and the marker --------------------------------------


def _first_edges(doc: Any) -> None:
    doc["features"][0]["edges"] = list(reversed(doc["features"][0]["edges"]))


def _kind(doc: Any) -> None:
    doc["features"][0]["kind"] = "colour"


def _bins(doc: Any) -> None:
    doc["settings"]["bins"] = 1


def _ref_counts(doc: Any) -> None:
    doc["counts"]["features"]["age"]["buckets"][0] = -5000


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_first_edges, "features[0].edges must be increasing"),
        (_kind, "features[0].kind must be numeric or categorical"),
        (_bins, "settings.bins must be a whole number of at least 2"),
        (_ref_counts, "counts.features.age.buckets[0] must be a whole number of at least 0"),
        (_ingested("created", "yesterday"), "created must be a time in ISO 8601"),
    ],
)
def test_an_impossible_reference_snapshot_is_refused(
    store: Path, tmp_path: Path, change: Callable[[Any], None], why: str
) -> None:
    reference = store / "reference.parquet"
    rewrite_footer(reference, SNAPSHOT_KEY, SNAPSHOT_SUM, change)
    assert_refused(store, f"{reference}: corrupt driftcli snapshot ({why}",
                   ("check", "status", "ingest"))  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        '{"kind": "driftcli-store", "format_version": 1e400}',
        '{"kind": "other", "format_version": 1}',
        '{"kind": "driftcli-store", "format_version": "1"}',
        "\x00" * 10,
    ],
)
def test_a_damaged_store_marker_is_refused(store: Path, tmp_path: Path, body: str) -> None:
    (store / "driftcli-store.json").write_text(body)
    assert_refused(store, "driftcli-store.json: corrupt or foreign store marker")


# --- not regular files ------------------------------------------------------------


@pytest.mark.parametrize(
    "victim",
    ["reference.parquet", "windows/live/seg-000000000001.parquet", "windows/live/window.json",
     "driftcli-store.json", ".lock"],
)  # fmt: skip
def test_a_named_pipe_in_the_store_is_refused_without_waiting(
    store: Path, tmp_path: Path, victim: str
) -> None:
    path = store / victim
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    started = time.monotonic()
    message = "is not a regular file"
    which = (
        ("status", "ingest") if victim.endswith("window.json") else ("check", "status", "ingest")
    )
    assert_refused(store, message, which, run=in_a_process)  # a process: a hang would time out
    assert time.monotonic() - started < 60  # each command answered at once; none hung
    result = run_driftcli("status", "--store", store, cwd=tmp_path, timeout=30)
    assert f"{path}: is not a regular file".encode() in result.stderr


@pytest.mark.parametrize("victim", ["checks.jsonl", "history.json"])
def test_a_named_pipe_in_the_history_is_refused_without_waiting(
    store: Path, tmp_path: Path, victim: str
) -> None:
    (store / "history").mkdir(exist_ok=True)
    path = store / "history" / victim
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    for args in (["check"], ["history"], ["history", "--keep", "5"]):
        result = run_driftcli(*args, "--store", store, cwd=tmp_path, timeout=30)
        # A check still gives its verdict: only its record is lost, and said to be.
        assert result.returncode == (0 if args == ["check"] else 2), (args, result.stderr)
        assert f"{path}: is not a regular file (a named pipe)".encode() in result.stderr
    assert stat.S_ISFIFO(path.lstat().st_mode)


def test_a_file_in_place_of_the_windows_directory_is_refused(store: Path) -> None:
    windows = store / "windows"
    for segment in segments(store):
        segment.unlink()
    (windows / "live" / "window.json").unlink(missing_ok=True)
    (windows / "live").rmdir()
    windows.rmdir()
    windows.write_text("not a directory\n")
    assert_refused(store, f"{windows}: is not a directory (a regular file)")


def _replace_live(store: Path, what: str) -> str:
    """windows/live replaced by something that is not a window's directory; the words
    driftcli must say of it."""
    live = store / "windows" / "live"
    for path in live.iterdir():
        path.unlink()
    live.rmdir()
    if what == "a regular file":
        live.write_text("not a window\n")
    elif what == "a named pipe":
        os.mkfifo(live)
    elif what == "a link to a directory":
        (store.parent / "elsewhere").mkdir()
        live.symlink_to(store.parent / "elsewhere")
        return f"{live}: is a symbolic link"
    return f"{live}: is not a directory ({what})"


@pytest.mark.parametrize("what", ["a regular file", "a named pipe", "a link to a directory"])
def test_a_window_that_is_not_a_directory_is_never_left_out_of_a_report(
    store: Path, tmp_path: Path, invoke: Invoke, what: str
) -> None:
    other = invoke("ingest", LIVE, "--store", store, "--window", "canary")
    assert other.exit_code == 0, other.stderr
    said = _replace_live(store, what)
    assert_refused(store, said, run=in_a_process)  # status used to list canary alone, exit 0
    result = run_driftcli("status", "--store", store, "-f", "json", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == b""


def test_a_segment_named_past_twelve_digits_is_an_error_naming_it(
    store: Path, tmp_path: Path
) -> None:
    last = segments(store)[-1]
    renamed = last.with_name("seg-1000000000000.parquet")
    last.rename(renamed)
    assert_refused(store, f"{renamed}: not a segment name driftcli writes")


def test_no_segment_is_written_past_the_last_number(store: Path, tmp_path: Path) -> None:
    last = segments(store)[-1]
    renamed = last.with_name("seg-999999999999.parquet")
    last.rename(renamed)
    assert_refused(store, f"{renamed}: the last segment number a window can have", ("ingest",))
    assert not list(renamed.parent.glob("seg-1*.parquet"))
    assert rows_in(store) == 500  # status and the files agree
    result = run_driftcli("check", "--store", store, "-f", "json", cwd=tmp_path)
    assert json.loads(result.stdout)["live"]["rows"] == 500


def test_files_that_are_no_part_of_the_store_are_warned_of(store: Path, tmp_path: Path) -> None:
    (store / "windows" / "not a window").mkdir()
    (store / "windows" / "live" / "notes.txt").write_text("mine\n")
    (store / "windows" / "live" / ".DS_Store").write_text("")  # hidden files are not ours
    for args in (["status"], ["check"], ["ingest", LIVE]):
        result = run_driftcli(*args, "--store", store, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        notes = f"warning: {store}/windows/live/notes.txt: not a file of a window: ignored"
        assert result.stderr.count(notes.encode()) == 1, (args, result.stderr)
        assert b"DS_Store" not in result.stderr
    said = f"warning: {store}/windows/not a window: not a window name, so not a window of the store"
    status = run_driftcli("status", "--store", store, cwd=tmp_path)
    assert said.encode() in status.stderr


def _cut(keep: int) -> Callable[[bytes], bytes]:
    return lambda data: data[:keep]


def _zero_thrift(data: bytes) -> bytes:
    length = int.from_bytes(data[-8:-4], "little")
    return data[: -8 - length] + bytes(length) + data[-8:]


def _garble_schema(data: bytes) -> bytes:
    at = data.find(b"ARROW:schema") + 40
    return data[:at] + b"********" + data[at + 8 :]


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (_cut(-20), "no Parquet footer: cut short, or not Parquet"),
        (_cut(4), "too short to be Parquet"),
        (_cut(0), "empty"),
        (_zero_thrift, "its Parquet footer is garbled"),
        (_garble_schema, "the schema in its footer is garbled"),
    ],
)
def test_a_damaged_segment_footer_is_said_in_words(
    store: Path, damage: Callable[[bytes], bytes], words: str
) -> None:
    first = segments(store)[0]
    first.write_bytes(damage(first.read_bytes()))
    assert_refused(store, f"{first}: corrupt window segment ({words})")


def test_arrow_messages_are_cut_short_and_printable() -> None:
    from driftcli.store.rows import damage_in_words

    said = damage_in_words(OSError("Unheard of: \x1b[31m" + "x" * 500 + ". More"))
    assert said.startswith("unreadable Parquet: Unheard of: [31mxxx")
    assert len(said) < 120 and said.isprintable()
    assert damage_in_words(pa.ArrowInvalid("")) == "unreadable Parquet (ArrowInvalid)"


def test_a_directory_in_place_of_a_segment_is_refused(store: Path, tmp_path: Path) -> None:
    first = segments(store)[0]
    first.unlink()
    first.mkdir()
    assert_refused(store, "is not a regular file (a directory)")


# --- a read-only store --------------------------------------------------------------

_READ_ONLY = """
import errno, os, sys
root = os.path.realpath(sys.argv.pop(1))
def refused(path):
    try:
        return os.path.realpath(os.fspath(path)).startswith(root)
    except TypeError:
        return False
def guard(call, writes=lambda *a, **k: True):
    def guarded(path, *args, **kwargs):
        if writes(path, *args, **kwargs) and refused(path):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return call(path, *args, **kwargs)
    return guarded
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
os.open = guard(os.open, lambda path, flags, *a, **k: flags & WRITE)
for name in ("mkdir", "replace", "rename", "unlink", "rmdir"):
    setattr(os, name, guard(getattr(os, name)))
from driftcli.cli import main
sys.argv[0] = "driftcli"
main()
"""


def read_only_run(
    root: Path, args: list[str | Path], cwd: Path, how: str
) -> subprocess.CompletedProcess[bytes]:
    """driftcli with `root` read-only: a read-only bind mount where the system allows
    one (unshare), else the same errors (EROFS) raised for every write under it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "driftcli", *map(str, args)]
    if how == "mount":
        mount = f'mount --bind -o ro "{root}" "{root}" && exec "$@"'
        shell = ["unshare", "-rm", "sh", "-c", mount, "sh", *command]
        done = subprocess.run(shell, cwd=cwd, env=env, capture_output=True, timeout=120)
        if not (done.returncode == 127 or b"unshare" in done.stderr or b"mount" in done.stderr):
            return done
    command = [sys.executable, "-c", _READ_ONLY, str(root), *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=120)


@pytest.mark.parametrize("how", ["mount", "simulated"])
@pytest.mark.parametrize("lock", ["lock file", "no lock file"])
def test_a_read_only_store_can_be_read(store: Path, tmp_path: Path, how: str, lock: str) -> None:
    if lock == "no lock file":
        (store / ".lock").unlink()
    before = store_contents(store)
    for args in (["check", "--store", store], ["status", "--store", store]):
        result = read_only_run(store, args, tmp_path, how)
        assert result.returncode == 0, result.stderr
        unlocked = b"cannot lock the store here (read-only), so it is read without its lock"
        assert (unlocked in result.stderr) == (lock == "no lock file")
        if args[0] == "check":  # a check of a window records itself, where it can
            assert b"the check is not recorded in the history" in result.stderr
    for args in (["ingest", LIVE, "--store", store], ["reference", LIVE, "--store", store]):
        result = read_only_run(store, args, tmp_path, how)
        assert result.returncode == 2
        assert b"cannot write to the store: read-only file system" in result.stderr
    assert store_contents(store) == before


# --- files the user may not read --------------------------------------------------

_NO_PERMISSION = ["windows", "windows/live", "windows/live/seg-000000000001.parquet",
                  "reference.parquet"]  # fmt: skip


def without_permission(store: Path, args: list[str | Path]) -> tuple[int, bytes]:
    """driftcli in a process that file permissions bind: as root, without the
    capabilities that let root pass them (setpriv); skipped where neither is possible."""
    command = [sys.executable, "-m", "driftcli", *map(str, args)]
    if os.geteuid() == 0:
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
    except FileNotFoundError:
        pytest.skip("setpriv is needed to drop root's power over permissions")
    if b"setpriv:" in done.stderr:
        pytest.skip("setpriv cannot drop capabilities here")
    return done.returncode, done.stderr


def simulated_permission(victim: Path) -> Callable[[list[str | Path]], tuple[int, bytes]]:
    """driftcli in this process, with every read of `victim` refused as by `chmod 000`."""

    def denied(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    def run(args: list[str | Path]) -> tuple[int, bytes]:
        originals = (Path.iterdir, Path.lstat, pq.read_metadata, pq.read_table)
        iterdir, lstat, read_metadata, read_table = originals

        def listing(self: Path) -> Any:
            return denied(self) if self == victim else iterdir(self)

        def looking(self: Path) -> os.stat_result:
            return denied(self) if self.parent == victim else lstat(self)  # type: ignore[func-returns-value]

        def named(source: object) -> bool:  # a path, not a buffer already read
            return isinstance(source, str | os.PathLike) and Path(source) == victim

        def meta(path: str, *a: Any, **k: Any) -> Any:
            return denied(path) if named(path) else read_metadata(path, *a, **k)

        def table(path: str, *a: Any, **k: Any) -> Any:
            return denied(path) if named(path) else read_table(path, *a, **k)

        def opening(self: Path, *a: Any, **k: Any) -> Any:
            return denied(self) if self == victim else open_path(self, *a, **k)

        open_path = Path.open
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Path, "iterdir", listing)
            patch.setattr(Path, "lstat", looking)
            patch.setattr(Path, "open", opening)
            patch.setattr(pq, "read_metadata", meta)
            patch.setattr(pq, "read_table", table)
            return in_process(args)

    return run


@pytest.mark.parametrize("how", ["chmod 000", "simulated"])
@pytest.mark.parametrize("victim", _NO_PERMISSION)
def test_a_file_the_user_may_not_read_is_permission_denied_not_damage(
    store: Path, victim: str, how: str
) -> None:
    path = store / victim
    before = store_contents(store)
    if how == "simulated":
        run = simulated_permission(path)
    else:
        path.chmod(0)
        run = functools.partial(without_permission, store)
    try:
        for name in ("check", "status", "ingest"):
            code, stderr = run(commands(store)[name])
            assert code == 2, (name, stderr)
            assert f"{path}".encode() in stderr and b"permission denied" in stderr, (name, stderr)
            for wrong in (b"corrupt", b"remove", b"internal error", b"not a driftcli"):
                assert wrong not in stderr, (name, stderr)
    finally:
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert store_contents(store) == before


# --- left-overs of killed writers ----------------------------------------------


def test_a_killed_writers_temp_file_is_removed_by_the_next_writer(
    store: Path, tmp_path: Path
) -> None:
    leftover = store / ".tmp-0123456789abcdef.parquet"  # what a killed `reference` leaves
    leftover.write_bytes(b"half a snapshot")
    assert run_driftcli("status", "--store", store, cwd=tmp_path).returncode == 0
    assert leftover.exists()  # readers leave it (they hold no write lock) and ignore it
    assert run_driftcli(*commands(store)["ingest"], cwd=tmp_path).returncode == 0
    assert not leftover.exists()  # any writer clears the store's left-overs, not only `reference`
    leftover.write_bytes(b"half a snapshot")
    assert run_driftcli("check", "--store", store, cwd=tmp_path).returncode == 0
    assert not leftover.exists()  # a check of the window records itself: a writer too


def test_a_failed_ingest_into_a_new_store_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    for data in (bad, tmp_path / "missing.csv"):
        result = run_driftcli("ingest", data, "--store", tmp_path / "new", "--window-size", "5",
                              cwd=tmp_path)  # fmt: skip
        assert result.returncode == 2
        assert not (tmp_path / "new").exists()


# --- compaction: few segments, every row once ------------------------------------


def test_many_small_flushes_keep_few_segments_and_every_row(tmp_path: Path, invoke: Invoke) -> None:
    root = tmp_path / "store"
    rows = "".join(json.dumps({"id": i, "x": i % 13}) + "\n" for i in range(6000))
    result = invoke("ingest", "-", "--store", root, "--flush-rows", "20", "--window-size", "4000",
                    input=rows.encode())  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert window_ids(root) == list(range(2000, 6000))
    assert len(segments(root)) <= 40  # 200 flushes, not 200 segments


def test_a_merge_cut_short_by_a_crash_counts_no_row_twice(store: Path, tmp_path: Path) -> None:
    first, second = segments(store)[:2]
    absorbed = first.read_bytes()
    table = pa.concat_tables([pq.read_table(first), pq.read_table(second)])

    def merged(doc: Any) -> None:
        doc["rows"] = 200
        doc["supersedes"] = [1]
        doc["counts"] = None
        doc["reference_id"] = None

    pq.write_table(table, second)
    meta = pq.read_table(segments(store)[2]).schema.metadata
    pq.write_table(table.replace_schema_metadata({SEGMENT_KEY: meta[SEGMENT_KEY]}), second)
    rewrite_footer(second, SEGMENT_KEY, SEGMENT_SUM, merged)
    assert first.read_bytes() == absorbed  # the crash came before its removal
    result = run_driftcli("check", "--store", store, "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["live"]["rows"] == 500  # not 600
    assert run_driftcli(*commands(store)["ingest"], cwd=tmp_path).returncode == 0
    assert not first.exists()  # the next writer removed the left-over
    assert rows_in(store) == 1000


def test_supersedes_without_a_checksum_removes_nothing(store: Path, tmp_path: Path) -> None:
    last = segments(store)[-1]
    table = pq.read_table(last)
    document = json.loads(table.schema.metadata[SEGMENT_KEY])
    document["supersedes"] = [1, 2, 3, 4]
    pq.write_table(table.replace_schema_metadata({SEGMENT_KEY: json.dumps(document)}), last)
    assert_refused(store, "supersedes other segments without a checksum")
    assert len(segments(store)) == 5


def test_a_merge_claiming_more_rows_than_it_holds_removes_nothing(
    store: Path, tmp_path: Path
) -> None:
    last = segments(store)[-1]

    def claims(doc: Any) -> None:
        doc["supersedes"] = [1, 2, 3, 4]  # 400 rows, in a segment of 100

    rewrite_footer(last, SEGMENT_KEY, SEGMENT_SUM, claims)
    assert_refused(
        store,
        f"{last}: corrupt window segment (it says it absorbed segments 1, 2, 3, 4, which "
        "hold 400 rows, but it holds 100)",
    )
    assert len(segments(store)) == 5


def test_kill_9_at_any_moment_of_small_flushes_loses_no_reported_row(tmp_path: Path) -> None:
    """Flushes every 10 rows merge and trim all the time; killed at random moments,
    the window is always a run of whole rows with every reported one in it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    root = tmp_path / "store"
    rng = random.Random(15)
    sent = 0
    for run in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-m", "driftcli", "ingest", "-", "--store", str(root),
             "--flush-rows", "10", "--window-size", "100000", "--verbose"],
            cwd=tmp_path, env=env, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write("".join(json.dumps({"id": sent + i}) + "\n" for i in range(400)).encode())
        proc.stdin.flush()
        reported = 0
        wanted = rng.randint(20, 380)
        while reported < wanted:
            line = proc.stderr.readline().decode()
            assert line, f"run {run}: driftcli ended early"
            if line.startswith("stored "):
                reported += int(line.split()[1].replace(",", ""))
        time.sleep(rng.random() * 0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdin.close()
        proc.stderr.close()
        ids = window_ids(root)
        assert ids == list(range(len(ids))), f"run {run}: rows lost or doubled"
        assert len(ids) >= sent + reported
        status = run_driftcli("status", "--store", root, "-f", "json", cwd=tmp_path)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["windows"][0]["rows"] == len(ids)
        sent = len(ids)


def test_a_lock_file_the_user_may_not_open_is_named(store: Path) -> None:
    lock = store / ".lock"
    before = store_contents(store)
    lock.chmod(0)
    try:
        for args in (["status"], ["check"], ["history"]):
            code, stderr = without_permission(store, [*args, "--store", store])
            assert code == 0, (args, stderr)
            said = f"warning: {lock}: cannot open the store's lock (permission denied), so the "
            assert (said + "store is read without it").encode() in stderr, (args, stderr)
        code, stderr = without_permission(store, commands(store)["ingest"])
        assert code == 2
        assert f"error: {lock}: cannot open the store's lock: permission denied".encode() in stderr
        assert b"read-only" not in stderr
    finally:
        lock.chmod(0o644)
    assert store_contents(store) == before


@pytest.mark.parametrize("what", ["a file for the directory", "a named pipe", "nested settings"])
def test_status_warns_of_a_history_that_cannot_record(
    store: Path, tmp_path: Path, what: str
) -> None:
    history = store / "history"
    if what == "a file for the directory":
        history.write_text("not a directory\n")
        damaged = f"{history}: is not a directory (a regular file)"
    elif what == "a named pipe":
        history.mkdir()
        os.mkfifo(history / "checks.jsonl")
        damaged = f"{history}/checks.jsonl: is not a regular file (a named pipe)"
    else:
        history.mkdir()
        (history / "history.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
        damaged = f"{history}/history.json: corrupt history settings (nested too deep)"
    result = run_driftcli("status", "--store", store, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr  # the windows and reference are whole
    assert f"warning: {damaged}".encode() in result.stderr
    assert b"checks of windows cannot be recorded" in result.stderr
