"""What an engine runs on each fragment (a file of the input), and how the results merge.

Workers receive a fragment's path and the buckets, never the reference's
rows, and send back count vectors, a bounded sample, or a reference
summary (reference/summary.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from driftcli.choices import InputFormat, Kind
from driftcli.columns.samples import ValueReservoir
from driftcli.counting.counter import Counter
from driftcli.counting.counts import Counts
from driftcli.counting.featureless import Featureless
from driftcli.engine.engines import Engine
from driftcli.errors import UsageError
from driftcli.inputs.dataset import DatasetSource, open_dataset
from driftcli.inputs.dispatch import json_path_of
from driftcli.inputs.urls import is_url
from driftcli.parallel import serial
from driftcli.reference.buckets import Feature
from driftcli.reference.summary import Summary, summarize
from driftcli.settings import DEFAULT_MAX_LINE_BYTES


@dataclass(frozen=True)
class Fragment:
    """One file of an input (its hive partitions are read from its path)."""

    path: str
    format: InputFormat
    delimiter: str | None = None
    """The CSV field separator; None: sniffed."""
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    """The line limit the worker reads it with (docs/limits.md)."""
    json_path: tuple[str, ...] = ()
    """The keys of the object each JSON line's features are read from (--json-path)."""


def fragments_of(
    spec: str | Sequence[str],
    input_format: InputFormat | None,
    delimiter: str | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    json_path: str | None = None,
) -> list[Fragment]:
    """The files of an input, for an engine to hand out."""
    specs = [spec] if isinstance(spec, str) else list(spec)
    if "-" in specs:
        raise UsageError("Dask workers cannot read stdin", hint="give files, or use --engine local")
    source = open_dataset(specs, input_format)

    def where(path: str) -> str:  # workers may run elsewhere: absolute paths, URLs as they are
        return path if is_url(path) else str(Path(path).resolve())

    keys = json_path_of(source, json_path) if json_path else ()
    return [
        Fragment(where(p), source.format, delimiter, max_line_bytes, keys) for p in source.files
    ]


def _batches(fragment: Fragment) -> Iterator[pa.RecordBatch]:
    source = DatasetSource(fragment.path, fragment.format, [fragment.path])
    source.delimiter = fragment.delimiter
    source.max_line_bytes = fragment.max_line_bytes
    source.json_path = fragment.json_path
    try:
        yield from source.batches()
    finally:
        source.close()


def count_fragment(
    fragment_and_seed: tuple[Fragment, int], features: list[Feature], sampled: frozenset[str]
) -> tuple[Counts, dict[str, ValueReservoir]]:
    """Counts of one fragment over the buckets, and its raw-value samples (with keys)."""
    fragment, seed = fragment_and_seed
    counter = Counter(features, sampled, seed=seed)
    featureless = Featureless([f.name for f in features])
    with serial():
        for batch in _batches(fragment):
            featureless.note_batch(batch)
            counter.add(batch)
    counts = counter.result()
    counts.featureless = featureless.count
    return counts, counter.reservoirs()


def summarize_fragment(
    fragment_and_seed: tuple[Fragment, int], sample_rows: int, kinds: dict[str, Kind]
) -> Summary:
    fragment, seed = fragment_and_seed
    with serial():
        return summarize(_batches(fragment), seed, sample_rows, kinds)


def count_with(
    engine: Engine, fragments: list[Fragment], features: list[Feature], sampled: set[str]
) -> Counts:
    """Map counting over the fragments, merge by adding (samples: the union's bottom-k)."""
    task = functools.partial(count_fragment, features=features, sampled=frozenset(sampled))
    parts = engine.map(task, [(f, 1_000_003 * (i + 1)) for i, f in enumerate(fragments)])
    counts, reservoirs = parts[0]
    for more, more_reservoirs in parts[1:]:
        counts = counts.merge(more)
        reservoirs = {n: r.merge(more_reservoirs[n]) for n, r in reservoirs.items()}
    counts.samples = {name: r.values() for name, r in reservoirs.items()}
    return counts


def summarize_with(
    engine: Engine, fragments: list[Fragment], sample_rows: int, kinds: dict[str, Kind]
) -> Summary:
    """Map summarising over the fragments; merge them in order (kinds.py decides a kind
    from the first values, as the one-pass builder does)."""
    task = functools.partial(summarize_fragment, sample_rows=sample_rows, kinds=kinds)
    parts = engine.map(task, [(f, 7919 * (i + 1)) for i, f in enumerate(fragments)])
    return functools.reduce(Summary.merge, parts)
