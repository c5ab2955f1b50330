"""What an engine runs on each fragment (a file of the input), and how the results merge.

Workers receive a fragment's path and the buckets, never the reference's
rows, and send back count vectors, a bounded sample, or a reference
summary (reference/summary.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import pyarrow as pa

from driftcli.choices import InputFormat, Kind
from driftcli.columns.samples import ValueReservoir
from driftcli.counting.buckets import Feature
from driftcli.counting.chunking import Chunker, chunker_of
from driftcli.counting.counter import Counter
from driftcli.counting.counts import Counts
from driftcli.counting.featureless import Featureless
from driftcli.engine.engines import Engine
from driftcli.errors import DriftcliError, UsageError, option
from driftcli.grouping import Chunking
from driftcli.inputs.dataset import DatasetSource, open_dataset
from driftcli.inputs.dispatch import json_path_of
from driftcli.inputs.piece import SKIP_HINT, BadLines
from driftcli.inputs.urls import is_url
from driftcli.parallel import serial
from driftcli.reference.summary import Summary, summarize
from driftcli.settings import DEFAULT_MAX_COLUMNS, DEFAULT_MAX_LINE_BYTES, Settings

R = TypeVar("R")


@dataclass(frozen=True)
class Fragment:
    """One file of an input (its hive partitions are read from its path)."""

    path: str
    format: InputFormat
    delimiter: str | None = None
    """The CSV field separator; None: sniffed."""
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    """The line limit the worker reads it with (docs/limits.md)."""
    name: str = ""
    """What messages call the file: its path as the user gave it (by default, `path`)."""
    skip_bad_lines: bool = False
    max_columns: int = DEFAULT_MAX_COLUMNS
    json_path: tuple[str, ...] = ()
    """The keys of the object each JSON line's features are read from (--json-path)."""
    decimal: str | None = None
    """The CSV decimal mark; None: sniffed."""


@dataclass(frozen=True)
class Skipped:
    """The bad lines reads skipped: how many, and the first line numbers, as one input's
    `BadLines` keeps them."""

    count: int = 0
    first: tuple[int, ...] = ()

    def merge(self, other: Skipped) -> Skipped:
        first = sorted(self.first + other.first)[: BadLines().keep_first]
        return Skipped(self.count + other.count, tuple(first))


@dataclass(frozen=True)
class Done(Generic[R]):
    """What a worker sends back for a fragment: its result and the bad lines it skipped,
    or the error that stopped it.

    The error travels as a value: raised on a worker, it would be logged there
    with a traceback (on this terminal, for a local cluster) and retried as if
    the worker had died, and the first fragment to fail would win, not the
    first in the input's order.
    """

    result: R | None
    skipped: Skipped = Skipped()
    error: DriftcliError | None = None


def fragments_of(
    spec: str | Sequence[str], input_format: InputFormat | None, settings: Settings
) -> list[Fragment]:
    """The files of an input, for an engine to hand out, each to be read with the
    reading settings (separator, decimal mark, limits, bad lines, --json-path)."""
    specs = [spec] if isinstance(spec, str) else list(spec)
    if "-" in specs:
        raise UsageError(
            "Dask workers cannot read stdin", hint=f"give files, or use {option('engine')} local"
        )
    source = open_dataset(specs, input_format)

    def where(path: str) -> str:  # workers may run elsewhere: absolute paths, URLs as they are
        return path if is_url(path) else str(Path(path).resolve())

    json_path = settings.json_path
    keys = json_path_of(source, json_path) if json_path else ()
    return [
        Fragment(
            where(p),
            source.format,
            settings.delimiter,
            settings.max_line_bytes,
            p,
            settings.skip_bad_lines,
            settings.max_columns,
            json_path=keys,
            decimal=settings.decimal,
        )
        for p in source.files
    ]


def _read(fragment: Fragment, work: Callable[[DatasetSource], R]) -> Done[R]:
    """`work` over the fragment's source, read as the local engine reads a file of it."""
    name = fragment.name or fragment.path
    source = DatasetSource(name, fragment.format, [fragment.path], [name])
    source.delimiter = fragment.delimiter
    source.decimal = fragment.decimal
    source.max_line_bytes = fragment.max_line_bytes
    source.json_path = fragment.json_path
    source.max_columns = fragment.max_columns
    source.bad_lines.skip = fragment.skip_bad_lines
    source.bad_lines.hint = SKIP_HINT
    try:
        with serial():
            result = work(source)
    except DriftcliError as exc:
        return Done(None, error=exc)
    finally:
        source.close()
    return Done(result, Skipped(source.bad_lines.count, tuple(source.bad_lines.first)))


def _gathered(parts: list[Done[R]]) -> tuple[list[R], Skipped]:
    """The fragments' results in order and the bad lines they skipped, or the error of
    the first fragment that failed (the one the local engine, reading in order, meets)."""
    for part in parts:
        if part.error is not None:
            raise part.error
    results = [part.result for part in parts if part.result is not None]
    return results, functools.reduce(Skipped.merge, (part.skipped for part in parts), Skipped())


def count_fragment(
    fragment_and_seed: tuple[Fragment, int], features: list[Feature], sampled: frozenset[str]
) -> Done[tuple[Counts, dict[str, ValueReservoir]]]:
    """Counts of one fragment over the buckets, and its raw-value samples (with keys)."""
    fragment, seed = fragment_and_seed

    def count(batches: Iterator[pa.RecordBatch]) -> tuple[Counts, dict[str, ValueReservoir]]:
        counter = Counter(features, sampled, seed=seed)
        featureless = Featureless([f.name for f in features])
        for batch in batches:
            featureless.note_batch(batch)
            counter.add(batch)
        counts = counter.result()
        counts.featureless = featureless.count
        return counts, counter.reservoirs()

    return _read(fragment, lambda source: count(source.batches()))


def chunk_fragment(
    fragment_and_seed: tuple[Fragment, int],
    features: list[Feature],
    sampled: frozenset[str],
    by: Chunking,
    name: str,
) -> Done[Chunker]:
    """One fragment's rows cut into chunks and counted (rows keep their file's line
    numbers, to locate what a chunk's rows hold); `name`: the whole input's, for messages."""
    fragment, seed = fragment_and_seed

    def cut(source: DatasetSource) -> Chunker:
        chunker = chunker_of(by, features, sampled, name, seed=seed)
        for piece in source.pieces():
            if piece is not None:
                chunker.add(piece)
        return chunker

    return _read(fragment, cut)


def summarize_fragment(
    fragment_and_seed: tuple[Fragment, int], sample_rows: int, kinds: dict[str, Kind]
) -> Done[Summary]:
    fragment, seed = fragment_and_seed
    return _read(fragment, lambda source: summarize(source.batches(), seed, sample_rows, kinds))


def count_with(
    engine: Engine, fragments: list[Fragment], features: list[Feature], sampled: set[str]
) -> tuple[Counts, Skipped]:
    """Map counting over the fragments, merge by adding (samples: the union's bottom-k)."""
    task = functools.partial(count_fragment, features=features, sampled=frozenset(sampled))
    done = engine.map(task, [(f, 1_000_003 * (i + 1)) for i, f in enumerate(fragments)])
    parts, skipped = _gathered(done)
    counts, reservoirs = parts[0]
    for more, more_reservoirs in parts[1:]:
        counts = counts.merge(more)
        reservoirs = {n: r.merge(more_reservoirs[n]) for n, r in reservoirs.items()}
    counts.samples = {name: r.values() for name, r in reservoirs.items()}
    return counts, skipped


def chunk_with(
    engine: Engine,
    fragments: list[Fragment],
    features: list[Feature],
    sampled: set[str],
    by: Chunking,
    name: str,
) -> tuple[Chunker, Skipped]:
    """Map cutting into chunks over the fragments (for a chunking whose `refusal` allows
    it: by time); merge their chunks key by key, in the input's order (counts add up;
    samples: the union's bottom-k)."""
    task = functools.partial(
        chunk_fragment, features=features, sampled=frozenset(sampled), by=by, name=name
    )
    done = engine.map(task, [(f, 1_000_003 * (i + 1)) for i, f in enumerate(fragments)])
    parts, skipped = _gathered(done)
    chunker = parts[0]
    for more in parts[1:]:
        chunker.merge(more)
    return chunker, skipped


def summarize_with(
    engine: Engine, fragments: list[Fragment], sample_rows: int, kinds: dict[str, Kind]
) -> tuple[Summary, Skipped]:
    """Map summarising over the fragments; merge them in order (kinds.py decides a kind
    from the first values, as the one-pass builder does)."""
    task = functools.partial(summarize_fragment, sample_rows=sample_rows, kinds=kinds)
    done = engine.map(task, [(f, 7919 * (i + 1)) for i, f in enumerate(fragments)])
    parts, skipped = _gathered(done)
    return functools.reduce(Summary.merge, parts), skipped
