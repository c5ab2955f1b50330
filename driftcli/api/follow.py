"""`ingest --follow`: a log file followed from where the window's last ingest of it stopped.

The window's newest segment records, for each followed file, its identity
and the offset just past the last line stored (store/positions.py), written
by the same rename that stores the rows. So a restart, after a clean stop
or a kill -9, resumes at the first line not yet stored: no line is lost or
stored twice. Rows that age out of a bounded window do not move the
position back: they were ingested, and are not read again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from driftcli.api.common import Input, hint_skipping
from driftcli.choices import InputFormat
from driftcli.errors import UsageError, option
from driftcli.inputs.follow import FollowSource, Spot
from driftcli.inputs.nested import parse_json_path
from driftcli.inputs.sniff import compression_of_path, format_of_path
from driftcli.settings import Settings
from driftcli.store import Window
from driftcli.store.positions import FilePosition


@contextlib.contextmanager
def followed(
    spec: Input,
    window: Window,
    input_format: InputFormat | None,
    skip_bad_lines: bool,
    settings: Settings,
    on_warning: Callable[[str], None] | None,
) -> Iterator[FollowSource]:
    """The log file `spec`, opened to be followed from the window's position in it."""
    path = _one_file(spec)
    fmt = input_format or format_of_path(Path(path))
    if fmt is not None and fmt is not InputFormat.JSONL:
        raise UsageError(
            f"{path}: {option('follow')} reads JSON lines, not {fmt.value}",
            hint="log one JSON object per line, or pipe another format: tail -F FILE | "
            "driftcli ingest -",
        )
    if compression_of_path(Path(path)):
        raise UsageError(
            f"{path}: a compressed file is written whole, not appended to: it cannot be followed",
            hint=f"ingest it once: driftcli ingest {path}",
        )
    source = FollowSource(path, None, on_warning)
    known = window.position(source.key)
    source.start = None if known is None else _spot(known)
    source.bad_lines.skip = skip_bad_lines
    source.max_line_bytes = settings.max_line_bytes
    source.max_columns = settings.max_columns
    if settings.json_path:
        source.json_path = parse_json_path(settings.json_path)
    hint_skipping(source)
    try:
        yield source
    finally:
        source.close()


def position_of(spot: Spot) -> FilePosition:
    """A follow's spot as the store keeps it."""
    return FilePosition(
        spot.path, spot.device, spot.inode, spot.fingerprint, spot.fingerprint_bytes, spot.offset
    )


def _spot(position: FilePosition) -> Spot:
    return Spot(
        position.source,
        position.device,
        position.inode,
        position.fingerprint,
        position.fingerprint_bytes,
        position.offset,
    )


def _one_file(spec: Input) -> str:
    if not isinstance(spec, str) or spec == "-":
        raise UsageError(
            f"{option('follow')} follows one log file, not stdin or several files",
            hint=f"driftcli ingest {option('follow')} /var/log/app.log",
        )
    return spec
