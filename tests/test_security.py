"""Security: a directory cannot send data anywhere, and names cannot drive the terminal.

A repository a user clones may carry a driftcli.toml or a pyproject.toml;
running `driftcli check` there must not connect to an address it names.
Column names, file names and values are data: they reach the screen, a
Markdown summary or a JUnit file escaped, never as terminal control codes.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftcli.config import resolve
from driftcli.errors import UsageError
from driftcli.output.texts import shown
from driftcli.setting_table import Given
from tests.conftest import SAMPLE, Invoke, run_driftcli

LIVE = str(SAMPLE / "live_ok.csv")
REF = str(SAMPLE / "ref.parquet")


# --- network destinations come from the user, not the directory --------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port on loopback that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    yield server
    server.close()


def connected(server: socket.socket) -> bool:
    try:
        peer, _ = server.accept()
    except TimeoutError:
        return False
    peer.close()
    return True


@pytest.mark.parametrize("where", ["driftcli.toml", "pyproject.toml"])
@pytest.mark.parametrize("command", ["check", "reference"])
def test_a_scheduler_in_a_found_config_file_is_never_connected_to(
    tmp_path: Path, listener: socket.socket, where: str, command: str
) -> None:
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    table = "[tool.driftcli]\n" if where == "pyproject.toml" else ""
    (tmp_path / where).write_text(f'{table}engine = "dask"\nscheduler = "{address}"\n')
    args = ["check", LIVE, "--ref", REF] if command == "check" else ["reference", REF]
    result = run_driftcli(*args, "--store", tmp_path / "store", cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert f"error: {tmp_path / where}: sets scheduler = '{address}', but driftcli connects" in (
        message
    )
    assert "only to a scheduler you name, not one from a config file it found" in message
    assert f"hint: to use it: --scheduler {address}, or DRIFTCLI_SCHEDULER={address}, or " in (
        message
    )
    assert not connected(listener)  # not even a TCP handshake
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("flag", "tcp://10.1.1.1:8786"),
        ("environment", "tcp://10.2.2.2:8786"),
        ("--config", "tcp://10.9.9.9:8786"),
    ],
)
def test_a_scheduler_the_user_names_is_used(tmp_path: Path, given: str, expected: str) -> None:
    (tmp_path / "driftcli.toml").write_text('scheduler = "tcp://10.9.9.9:8786"\n')
    flags = {"scheduler": expected} if given == "flag" else {}
    environ = {"DRIFTCLI_SCHEDULER": expected} if given == "environment" else {}
    config = tmp_path / "driftcli.toml" if given == "--config" else None
    assert resolve(Given(**flags), environ, tmp_path, config).scheduler() == expected


def test_a_found_config_may_not_ask_for_dask_but_the_user_may(tmp_path: Path) -> None:
    (tmp_path / "driftcli.toml").write_text('engine = "dask"\n')
    with pytest.raises(UsageError, match="but only you choose the engine"):
        resolve(Given(), {}, tmp_path).engine()
    assert resolve(Given(engine="dask"), {}, tmp_path).engine() == "dask"
    assert resolve(Given(), {"DRIFTCLI_ENGINE": "dask"}, tmp_path).engine() == "dask"
    assert resolve(Given(), {}, tmp_path, tmp_path / "driftcli.toml").engine() == "dask"
    assert resolve(Given(engine="local"), {}, tmp_path).engine() == "local"


@pytest.mark.parametrize("engine", ["", 'engine = "dask"\n'])
def test_a_found_scheduler_is_ignored_by_the_local_engine_and_refused_by_dask(
    tmp_path: Path, engine: str
) -> None:
    (tmp_path / "driftcli.toml").write_text(f'{engine}scheduler = "tcp://127.0.0.1:8786"\n')
    assert resolve(Given(engine="local"), {}, tmp_path).scheduler() is None
    assert resolve(Given(), {"DRIFTCLI_ENGINE": "local"}, tmp_path).scheduler() is None
    if not engine:
        assert resolve(Given(), {}, tmp_path).scheduler() is None  # local by default
    for flags in ({"engine": "dask"}, {} if engine else {"engine": "dask"}):
        with pytest.raises(UsageError, match="driftcli connects only to a scheduler you name"):
            resolve(Given(**flags), {}, tmp_path).scheduler()


def test_engine_local_runs_beside_a_found_config_naming_a_scheduler(
    tmp_path: Path, listener: socket.socket
) -> None:
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    (tmp_path / "driftcli.toml").write_text(f'engine = "dask"\nscheduler = "{address}"\n')
    args = ["check", LIVE, "--ref", REF, "--engine", "local"]
    result = run_driftcli(*args, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not connected(listener)


def test_show_config_says_a_found_scheduler_and_engine_are_not_used(tmp_path: Path) -> None:
    (tmp_path / "driftcli.toml").write_text('scheduler = "tcp://10.0.0.1:8786"\nengine = "dask"\n')
    result = run_driftcli("check", "--show-config", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.count(b"; not used: found, not given)") == 2


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_the_local_dask_cluster_listens_on_loopback_only() -> None:
    pytest.importorskip("distributed")
    from driftcli.engine import DaskEngine

    before = _listening_here()
    engine = DaskEngine()
    try:
        assert engine.client.scheduler.address.startswith("tcp://127.0.0.1:")
        # Every socket the scheduler opened here (its protocol, its HTTP endpoints:
        # health, metrics; no dashboard) is bound to loopback.
        opened = _listening_here() - before
        assert len(opened) >= 2 and all(host == "127.0.0.1" for host, _ in opened)
        assert all(
            w.startswith("tcp://127.0.0.1:") for w in engine.client.scheduler_info()["workers"]
        )
    finally:
        engine.close()


def _listening_here() -> set[tuple[str, int]]:
    """The (host, port) of every TCP socket this process listens on (IPv4 and IPv6)."""
    import ipaddress

    ours = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith("socket:["):
                ours.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state != "0A" or inode not in ours:  # 0A: LISTEN
                    continue
                address, port = local.split(":")
                raw = bytes.fromhex(address)
                # /proc writes each 32-bit word of the address in host (little-endian) order
                packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                host = ipaddress.ip_address(packed)
                mapped = getattr(host, "ipv4_mapped", None)
                found.add((str(mapped or host), int(port, 16)))
    return found


# --- names are data -------------------------------------------------------------

HOSTILE = "a\x1b[31mRED"
"""A column name that, printed raw, turns a terminal red."""


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A reference and drifted live data with hostile column names and file name."""
    ref = pa.table({HOSTILE: [float(i % 50) for i in range(2000)],
                    "x\u202eevil": ["a", "b"] * 1000, "new\nline": [1.0] * 2000})  # fmt: skip
    live = pa.table({HOSTILE: [float(i % 50) + 40 for i in range(500)],
                     "x\u202eevil": ["c"] * 500, "new\nline": [1.0] * 500})  # fmt: skip
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(live, tmp_path / "live\x1b[2J.parquet")
    return tmp_path / "ref.parquet", tmp_path / "live\x1b[2J.parquet"


def assert_no_control_codes(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text, repr(text)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_control_characters_in_names_are_shown_escaped(
    hostile: tuple[Path, Path], tmp_path: Path, fmt: str
) -> None:
    ref, live = hostile
    result = run_driftcli("check", live, "--ref", ref, "-f", fmt, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    out = result.stdout.decode()
    assert_no_control_codes(out)
    assert_no_control_codes(result.stderr.decode())
    if fmt == "markdown":  # Markdown escapes its own characters in text, none in code
        assert "a\\\\x1b\\[31mRED" in out and "x\\\\u202eevil" in out
    else:
        assert "a\\x1b[31mRED" in out and "x\\u202eevil" in out
    assert "live\\x1b[2J.parquet" in out


def test_junit_with_hostile_names_is_valid_xml(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    ref, live = hostile
    report = tmp_path / "junit.xml"
    result = run_driftcli("check", live, "--ref", ref, "--junit", report, cwd=tmp_path)
    assert result.returncode == 1
    tree = ET.fromstring(report.read_text(encoding="utf-8"))  # raw ESC would not parse
    names = [case.get("name") for case in tree.iter("testcase")]
    assert "a\\x1b[31mRED" in names and "new\\nline" in names


def test_json_keeps_names_exact(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    ref, live = hostile
    result = run_driftcli("check", live, "--ref", ref, "-f", "json", cwd=tmp_path)
    assert b"\x1b" not in result.stdout  # escaped by JSON itself
    names = [f["name"] for f in json.loads(result.stdout)["features"]]
    assert HOSTILE in names and "new\nline" in names


UNSEEN = ["x\u202eevil", "c1\x85\x9b31m", "line\u2028para\u2029", "del\x7f", "rlm\u200f"]
"""Names JSON would leave raw: a bidi override, C1 controls (NEL, CSI), the line and
paragraph separators, DEL, a right-to-left mark."""


def test_json_escapes_what_json_itself_leaves_raw(tmp_path: Path, invoke: Invoke) -> None:
    ref = pa.table({name: [float(i % 50) for i in range(2000)] for name in UNSEEN})
    live = pa.table({name: [float(i % 50) + 40 for i in range(500)] for name in UNSEEN})
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(live, tmp_path / "live.parquet")
    store = tmp_path / "store"
    assert invoke("reference", tmp_path / "ref.parquet", "--store", store).exit_code == 0
    assert invoke("ingest", tmp_path / "live.parquet", "--store", store).exit_code == 0
    outputs = {
        "check": invoke("check", tmp_path / "live.parquet", "--ref", tmp_path / "ref.parquet",
                        "-f", "json"),
        "check --store": invoke("check", "--store", store, "-f", "json"),
        "by chunks": invoke("check", tmp_path / "live.parquet", "--ref", tmp_path / "ref.parquet",
                            "--chunk-rows", "250", "-f", "json"),
        "history": invoke("history", "--store", store, "--format", "json"),
        "status": invoke("status", "--store", store, "--format", "json"),
        "reference": invoke("reference", tmp_path / "ref.parquet", "-o", tmp_path / "r.parquet",
                            "--format", "json"),
    }  # fmt: skip
    for what, result in outputs.items():
        assert result.exit_code in (0, 1), (what, result.stderr)
        raw = result.stdout
        assert not any(c in raw for c in "\u202e\x85\x9b\u2028\u2029\x7f\u200f"), what
        assert "\\u202e" in raw or what == "status", what
        text = json.dumps(json.loads(raw), ensure_ascii=False)
        assert all(name in text for name in UNSEEN) or what == "status", what


def test_alert_lines_and_errors_escape_names(tmp_path: Path, invoke: Invoke) -> None:
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(json.dumps({HOSTILE: i % 10}) + "\n" for i in range(1000)))
    store = tmp_path / "store"
    assert invoke("reference", ref, "--store", store).exit_code == 0
    drifted = "".join(json.dumps({HOSTILE: 50 + i % 3}) + "\n" for i in range(300))
    result = run_driftcli(
        "ingest", "-", "--store", store, "--check-every", "300", cwd=tmp_path,
        input=drifted.encode(),
    )  # fmt: skip
    assert result.returncode == 1
    assert b"[DRIFT] feature=a\\x1b[31mRED " in result.stderr
    assert_no_control_codes(result.stderr.decode())
    unknown = run_driftcli("check", LIVE, "--ref", REF, "--features", "b\x1b[0m", cwd=tmp_path)
    assert unknown.returncode == 2
    assert_no_control_codes(unknown.stderr.decode())


def test_show_config_escapes_what_the_config_file_says(tmp_path: Path) -> None:
    (tmp_path / "driftcli.toml").write_text(
        'store = "s\\u001b[31m"\n[features."f\\u001b"]\nbins = 3\n'
    )
    result = run_driftcli("check", "--show-config", cwd=tmp_path)
    assert result.returncode == 0
    assert_no_control_codes(result.stdout.decode())
    assert b"s\\x1b[31m" in result.stdout


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain name", "plain name"),
        ("tab\there", "tab\\there"),
        ("bell\a", "bell\\x07"),
        ("c1\x9b31m", "c1\\x9b31m"),
        ("rtl\u202eoverride", "rtl\\u202eoverride"),
        ("café ☕ 名前", "café ☕ 名前"),
        ("back\\slash", "back\\slash"),
    ],
)
def test_shown_escapes_control_characters_and_nothing_else(raw: str, escaped: str) -> None:
    assert shown(raw) == escaped
    assert shown(shown(raw)) == shown(raw)  # applying it twice changes nothing


# --- no code from the working directory runs -------------------------------------

PAYLOAD = """\
import os, sys
here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
open(os.path.join(here, "ran-%d" % os.getpid()), "w").close()
# Then step aside, so that a run where this leaks still ends as usual.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
del sys.modules["multiprocessing"]
import multiprocessing
"""
"""A `multiprocessing` package planted in a cloned repository: it leaves a file
for each process that imports it, then hands over to the real one."""


def plant(directory: Path) -> None:
    (directory / "multiprocessing").mkdir()
    (directory / "multiprocessing" / "__init__.py").write_text(PAYLOAD)


def driftcli_command(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The installed `driftcli` command, as a user types it in a directory."""
    command = Path(sys.executable).with_name("driftcli")
    if not command.exists():
        pytest.skip("the driftcli command is not installed beside this Python")
    return subprocess.run(
        [str(command), *(str(a) for a in args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        timeout=180,
        check=False,
    )


def test_python_m_driftcli_imports_nothing_from_the_working_directory(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    plant(tmp_path)
    args = ["check", LIVE, "--ref", REF, "--engine", "dask", "--store", tmp_path / "store"]
    result = run_driftcli(*args, cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["multiprocessing"]


@pytest.mark.parametrize("asked", ["--engine", "DRIFTCLI_ENGINE", "--config"])
@pytest.mark.parametrize("command", ["check", "reference"])
def test_dask_workers_never_import_code_from_the_working_directory(
    tmp_path: Path, asked: str, command: str
) -> None:
    pytest.importorskip("distributed")
    repo = tmp_path / "repo"
    repo.mkdir()
    plant(repo)
    (tmp_path / "given.toml").write_text('engine = "dask"\n')
    flags = {"--engine": ["--engine", "dask"], "--config": ["--config", tmp_path / "given.toml"]}
    args: list[str | Path] = (
        ["check", LIVE, "--ref", REF] if command == "check" else ["reference", REF]
    )
    result = driftcli_command(
        *args,
        *flags.get(asked, []),
        "--store",
        tmp_path / "store",
        cwd=repo,
        env={"DRIFTCLI_ENGINE": "dask"} if asked == "DRIFTCLI_ENGINE" else None,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in repo.iterdir()) == ["multiprocessing"]


@pytest.mark.parametrize("where", ["driftcli.toml", "pyproject.toml"])
@pytest.mark.parametrize("command", ["check", "reference"])
def test_a_found_config_may_not_choose_the_dask_engine(
    tmp_path: Path, where: str, command: str
) -> None:
    plant(tmp_path)
    table = "[tool.driftcli]\n" if where == "pyproject.toml" else ""
    (tmp_path / where).write_text(f'{table}engine = "dask"\n')
    args: list[str | Path] = (
        ["check", LIVE, "--ref", REF] if command == "check" else ["reference", REF]
    )
    result = driftcli_command(*args, "--store", tmp_path / "store", cwd=tmp_path)
    assert result.returncode == 2
    message = result.stderr.decode()
    assert f"error: {tmp_path / where}: sets engine = 'dask', but only you choose" in message
    assert (
        f"hint: to use it: --engine dask, or DRIFTCLI_ENGINE=dask, or --config {tmp_path / where}"
        in message
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["multiprocessing", where])
