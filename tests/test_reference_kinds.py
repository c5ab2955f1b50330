"""Kinds and skip rules: one decision, whichever builder runs (reference/kinds.py).

The one-pass builder (this machine) and the summary builder (an engine: in
this process with a distributed stand-in, and on a real Dask cluster) must
give the same features, kinds and reasons on the same data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftcli.api import build_reference
from driftcli.choices import Kind
from driftcli.engine import LocalEngine
from driftcli.errors import flag_names, plain_names
from driftcli.reference.kinds import (
    IDENTIFIER,
    NO_VALUES,
    PARTITION,
    UNNAMED,
    FirstValues,
    decide_kind,
    time_reason,
)
from driftcli.results import NUMBER_TEXT
from driftcli.settings import FeatureSettings, Settings
from driftcli.store.snapshot import Snapshot
from tests.conftest import Invoke, write_table

T = TypeVar("T")
R = TypeVar("R")


class SummariesHere(LocalEngine):
    """The summary builder's two passes, run in this process."""

    distributed = True

    def map(self, function: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [function(item) for item in items]


def tricky_table(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    numbers_as_text = [f"{v:.1f}" for v in rng.normal(size=n)]
    return pa.table(
        {
            "Unnamed: 0": np.arange(n),
            "x": rng.normal(size=n),
            "flag": rng.random(n) < 0.3,
            "label": rng.choice(["a", "b", "c"], n),
            "user_id": [f"u{seed}-{i}" for i in range(n)],
            "empty": pa.nulls(n, pa.float64()),
            "tags": pa.array([[1, 2]] * n),
            "text_number": numbers_as_text,
            "code": rng.integers(0, 4, n),
            "when": pa.array(1_764_547_200 + 60 * np.arange(n) + seed, pa.timestamp("s", "UTC")),
            "when_text": [f"2026-12-01T{i // 60 % 24:02}:{i % 60:02}:{seed:02}Z" for i in range(n)],
            "amount": [f"{v:,.2f}" for v in rng.lognormal(8, 1, n)],  # thousands separators
        }
    )


def describe(snapshot: Snapshot) -> tuple[list[tuple[str, Kind]], dict[str, str]]:
    profile = snapshot.profile
    return [(f.name, f.kind) for f in profile.features], dict(profile.skipped)


SETTINGS = {
    "defaults": Settings(),
    "forced kinds": Settings(
        overrides=(
            ("flag", FeatureSettings(kind=Kind.NUMERIC)),  # a boolean cannot be numbers
            ("code", FeatureSettings(kind=Kind.CATEGORICAL)),
            ("text_number", FeatureSettings(kind=Kind.NUMERIC)),  # typed text, read as numbers
        )
    ),
    "unnamed chosen": Settings(features=("Unnamed: 0", "x", "label")),
    "excluded": Settings(exclude=("user_id", "tags")),
}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Two Parquet files under hive partitions; the second adds a column."""
    root = tmp_path / "ref"
    for day in (1, 2):
        folder = root / f"day={day}"
        folder.mkdir(parents=True)
        table = tricky_table(300, seed=day)
        if day == 2:
            table = table.append_column("late", pa.array(np.arange(300.0)))
        pq.write_table(table, folder / "part.parquet")
    return root


@pytest.mark.parametrize("case", list(SETTINGS))
def test_one_pass_and_summaries_agree_on_features_kinds_and_reasons(
    dataset: Path, case: str
) -> None:
    settings = SETTINGS[case]
    here = describe(build_reference(str(dataset), settings))
    summaries = describe(build_reference(str(dataset), settings, engine=SummariesHere()))
    assert summaries == here


def test_the_rules_are_those_of_kinds_py(dataset: Path) -> None:
    features, skipped = describe(build_reference(str(dataset)))
    assert dict(features) == {
        "x": Kind.NUMERIC,
        "flag": Kind.CATEGORICAL,
        "label": Kind.CATEGORICAL,
        "text_number": Kind.CATEGORICAL,  # typed text (Parquet) stays labels
        "code": Kind.NUMERIC,
        "late": Kind.NUMERIC,
    }
    assert skipped["Unnamed: 0"] == UNNAMED
    assert skipped["day"] == PARTITION
    assert skipped["user_id"] == IDENTIFIER
    assert skipped["empty"] == NO_VALUES
    assert skipped["tags"].startswith("unsupported type list")
    assert skipped["when"] == time_reason("when")  # an Arrow timestamp: not "unsupported"
    assert skipped["when_text"] == time_reason("when_text")  # not "like an identifier"
    # The library names the settings; the command line says the flags.
    assert plain_names(time_reason("when")) == "a time; to check over time: by when every 1d"
    assert flag_names(time_reason("when")) == "a time; to check over time: --by when --every 1d"
    assert skipped["amount"] == NUMBER_TEXT
    forced, _ = describe(build_reference(str(dataset), SETTINGS["forced kinds"]))
    assert dict(forced)["flag"] is Kind.CATEGORICAL
    assert dict(forced)["code"] is Kind.CATEGORICAL
    assert dict(forced)["text_number"] is Kind.NUMERIC


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_untyped_text_is_numeric_when_nearly_all_of_it_reads_as_numbers(
    tmp_path: Path, fmt: str
) -> None:
    rng = np.random.default_rng(0)
    values: list[Any] = [round(float(v), 2) for v in rng.normal(size=1000)]
    mostly = list(values)
    mostly[10] = "oops"  # 99.9% numbers
    half = [v if i % 2 else "word" for i, v in enumerate(values)]
    path = tmp_path / f"ref.{fmt}"
    if fmt == "csv":  # CSV has no types: every column is text of unknown type
        text = pa.table({"mostly": [str(v) for v in mostly], "half": [str(v) for v in half]})
        write_table(text, path)
    else:  # JSON lines whose types disagree from line to line are text of unknown type
        import json

        rows = (json.dumps({"mostly": a, "half": b}) for a, b in zip(mostly, half, strict=True))
        path.write_text("\n".join(rows) + "\n")
    here = describe(build_reference(str(path)))
    summaries = describe(build_reference(str(path), engine=SummariesHere()))
    assert here == summaries
    assert dict(here[0]) == {"mostly": Kind.NUMERIC, "half": Kind.CATEGORICAL}


def test_decide_kind_table() -> None:
    from driftcli.columns.values import TypeClass

    def first(family: TypeClass, untyped: bool = False, share: float = 1.0) -> FirstValues:
        return FirstValues(family, untyped, share, "t")

    assert decide_kind(first(TypeClass.NUMBER), None) is Kind.NUMERIC
    assert decide_kind(first(TypeClass.NUMBER), Kind.CATEGORICAL) is Kind.CATEGORICAL
    assert decide_kind(first(TypeClass.TEXT, True, 0.995), None) is Kind.NUMERIC
    assert decide_kind(first(TypeClass.TEXT, True, 0.9), None) is Kind.CATEGORICAL
    assert decide_kind(first(TypeClass.TEXT), Kind.NUMERIC) is Kind.NUMERIC
    assert decide_kind(first(TypeClass.BOOL), Kind.NUMERIC) is Kind.CATEGORICAL
    assert not isinstance(decide_kind(first(TypeClass.OTHER), Kind.CATEGORICAL), Kind)


@pytest.mark.parametrize("case", ["defaults", "forced kinds"])
def test_a_dask_cluster_agrees_too(dataset: Path, dask: Any, case: str) -> None:
    settings = SETTINGS[case]
    assert describe(build_reference(str(dataset), settings, engine=dask)) == describe(
        build_reference(str(dataset), settings)
    )


def test_unnamed_and_space_padded_columns_can_be_chosen(invoke: Invoke, tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 5},{(i * 7) % 11}\n" for i in range(300))
    ref = tmp_path / "ref.csv"
    ref.write_text(",age, income\n" + rows)
    live = tmp_path / "live.csv"
    live.write_text(
        ",age, income\n" + "".join(f"{i + 1000},{i % 5},{(i * 7) % 11}\n" for i in range(300))
    )
    doc = json.loads(invoke("check", live, "--ref", ref, "-f", "json").stdout)
    assert [f["name"] for f in doc["features"]] == ["age", " income"]  # the pandas index is skipped
    assert doc["skipped"][0]["name"] == "" and not doc["drift"]
    doc = json.loads(
        invoke("check", live, "--ref", ref, "-f", "json", "--features", "income").stdout
    )
    assert [f["name"] for f in doc["features"]] == [" income"]
    doc = json.loads(invoke("check", live, "--ref", ref, "-f", "json", "--features", ",age").stdout)
    assert [f["name"] for f in doc["features"]] == ["age"]
    result = invoke("check", live, "--ref", ref, "-f", "json", "--features", "")
    assert [f["name"] for f in json.loads(result.stdout)["features"]] == [""]
    assert result.exit_code == 1  # the row index does drift, when asked for


def test_both_builders_bucket_a_small_reference_alike(tmp_path: Path) -> None:
    """Twenty continuous values get quantile buckets, a repeated code one per value."""
    root = tmp_path / "small"
    rng = np.random.default_rng(5)
    for part in (1, 2):
        folder = root / f"part={part}"
        folder.mkdir(parents=True)
        table = pa.table({"x": rng.normal(size=10), "code": rng.integers(0, 3, 10) * 1.0})
        pq.write_table(table, folder / "data.parquet")

    def buckets(snapshot: Snapshot) -> dict[str, tuple[str, list[float]]]:
        out = {}
        for f in snapshot.profile.features:
            kind, cuts = ("edges", f.edges) if f.edges is not None else ("values", f.values)
            out[f.name] = (kind, [] if cuts is None else cuts.tolist())
        return out

    here = buckets(build_reference(str(root)))
    assert here == buckets(build_reference(str(root), engine=SummariesHere()))
    # 10 buckets for 20 rows, between the smallest value and the largest.
    assert here["x"][0] == "edges" and len(here["x"][1]) == 11
    assert here["code"] == ("values", [0.0, 1.0, 2.0])
