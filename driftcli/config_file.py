"""The config file: where it is (`driftcli.toml`, else `[tool.driftcli]` in
`pyproject.toml`, or the file `--config` names) and its driftcli table, read with bounds.

It may have come with a cloned repository: anything but a regular file is
refused, and so is a file too large, or nested too deep, to read in a moment;
and the limits that bound memory it may lower, never raise.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from driftcli.errors import UsageError, option, os_reason, path_shown
from driftcli.settings import DEFAULT_MAX_COLUMNS, DEFAULT_MAX_LINE_BYTES, size_text


def find_config(
    directory: Path, explicit: Path | None = None
) -> tuple[Path, dict[str, Any]] | None:
    """The config file and its driftcli table, if there is one."""
    if explicit is not None:
        _regular_file(explicit, f"{option('config')} {path_shown(explicit)}", required=True)
        return explicit, _table(explicit)
    own = directory / "driftcli.toml"
    if _regular_file(own, str(own)):
        return own, _table(own)
    project = directory / "pyproject.toml"
    if _regular_file(project, str(project)):
        table = _table(project)
        if table is not None:
            return project, table
    return None


def _regular_file(path: Path, label: str, *, required: bool = False) -> bool:
    """Is there a config file at `path`? Anything there but a regular file is an error:
    reading a named pipe would wait forever, and a directory is not a file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if required:
            raise UsageError(f"{label}: no such file") from None
        return False
    except OSError as exc:
        raise UsageError(f"{label}: {os_reason(exc)}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{label}: is a directory, not a config file")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{label}: is not a regular file (a named pipe or a device?)")
    return True


MAX_CONFIG_BYTES = 1 << 20
"""A config file is a page of settings; a larger one is not read."""
MAX_KEY_PARTS = 1000
"""Dotted parts of one key (`a.b.c`): TOML's parser takes time in the square of them."""


def _table(path: Path) -> dict[str, Any]:
    # Imported here: most runs have no config file, and start-up is paid by every run.
    import tomllib

    try:
        with path.open("rb") as file:
            raw = file.read(MAX_CONFIG_BYTES + 1)
        text = raw.decode("utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise UsageError(f"{path}: larger than {size_text(MAX_CONFIG_BYTES)}, not a config file")
    _refuse_long_keys(path, text)
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from exc
    except RecursionError:
        raise UsageError(
            f"{path}: nested too deep to read (arrays or tables inside one another)"
        ) from None
    if path.name == "pyproject.toml":
        tool = document.get("tool", {})
        table = tool.get("driftcli") if isinstance(tool, dict) else None
        if table is None:
            return None  # type: ignore[return-value]
        if not isinstance(table, dict):
            raise UsageError(f"{path}: [tool.driftcli] must be a table")
        return table
    return document


def _refuse_long_keys(path: Path, text: str) -> None:
    """A key of more dotted parts than `MAX_KEY_PARTS` (counted generously: dots before
    a line's first `=`, or in a `[table]` line) is refused before TOML reads it."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.split("=", 1)[0].count(".") >= MAX_KEY_PARTS:
            raise UsageError(
                f"{path}: line {number}: a key of more than {MAX_KEY_PARTS:,} dotted parts"
            )


def lower_only(path: Path, limit: int) -> None:
    """A config file driftcli found (it came with the directory, perhaps a cloned
    repository) may lower the line limit, never raise it: the limit is what bounds
    the memory a hostile input can cost."""
    if limit <= DEFAULT_MAX_LINE_BYTES:
        return
    size = next(
        (f"{limit >> shift}{unit}" for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10))
         if limit % (1 << shift) == 0),
        str(limit),
    )  # fmt: skip
    raise UsageError(
        f"{path}: sets max_line_bytes = {size_text(limit)}, above the default of "
        f"{size_text(DEFAULT_MAX_LINE_BYTES)}, but only a limit you give may raise it, not "
        "a config file driftcli found in the directory",
        hint=f"to use it: {option('max_line_bytes')} {size}, or DRIFTCLI_MAX_LINE_BYTES={size}, "
        f"or {option('config')} {path}",
    )


def fewer_columns_only(path: Path, limit: int) -> None:
    """As for the line limit: a config file driftcli found may lower the column limit
    (a bound on memory), never raise it."""
    if limit <= DEFAULT_MAX_COLUMNS:
        return
    raise UsageError(
        f"{path}: sets max_columns = {limit:,}, above the default of {DEFAULT_MAX_COLUMNS:,}, "
        "but only a limit you give may raise it, not a config file driftcli found in the "
        "directory",
        hint=f"to use it: {option('max_columns')} {limit}, or DRIFTCLI_MAX_COLUMNS={limit}, "
        f"or {option('config')} {path}",
    )
