"""The options several commands share (cli/options.py): every whole number has a range."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcli.settings import MAX_COUNT
from driftcli.store.codec import MAX_COUNT as STORE_MAX_COUNT
from tests.conftest import SAMPLE, Invoke

LIVE = str(SAMPLE / "live_ok.csv")
REF = str(SAMPLE / "ref.parquet")

WHOLE_NUMBER_OPTIONS = {
    "check --bins": ["check", LIVE, "--ref", REF, "--bins"],
    "check --min-rows": ["check", LIVE, "--ref", REF, "--min-rows"],
    "check --chunk-rows": ["check", LIVE, "--ref", REF, "--chunk-rows"],
    "reference --bins": ["reference", LIVE, "--bins"],
    "reference --sample-size": ["reference", LIVE, "--sample-size"],
    "ingest --window-size": ["ingest", LIVE, "--window-size"],
    "ingest --flush-rows": ["ingest", LIVE, "--flush-rows"],
    "ingest --check-every": ["ingest", LIVE, "--check-every"],
    "history --keep": ["history", "--keep"],
    "check --max-columns": ["check", LIVE, "--ref", REF, "--max-columns"],
    "ingest --max-columns": ["ingest", LIVE, "--max-columns"],
}


@pytest.mark.parametrize("value", [1 << 63, 10**30, MAX_COUNT + 1])
@pytest.mark.parametrize(
    "args", list(WHOLE_NUMBER_OPTIONS.values()), ids=list(WHOLE_NUMBER_OPTIONS)
)
def test_a_whole_number_past_the_range_is_a_usage_error_naming_it(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], value: int
) -> None:
    """9223372036854775808 (2**63) crashed `ingest --window-size` with an internal error."""
    monkeypatch.chdir(tmp_path)
    result = invoke(*args, str(value))
    assert result.exit_code == 2
    option = args[-1]
    assert result.stderr.startswith(
        f"error: {option} must be at most 4,611,686,018,427,387,904 (2**62), not {value}\n"
    )
    assert "internal error" not in result.stderr
    assert not (tmp_path / ".driftcli").exists()


def test_the_largest_count_is_the_stores() -> None:
    assert MAX_COUNT == STORE_MAX_COUNT


@pytest.mark.parametrize("variable", ["DRIFTCLI_BINS", "DRIFTCLI_MIN_ROWS"])
def test_a_whole_number_past_the_range_in_the_environment_names_it(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, str(1 << 63))
    result = invoke("check", LIVE, "--ref", REF)
    assert result.exit_code == 2
    assert f"error: {variable} must be at most 4,611,686,018,427,387,904, not " in result.stderr


def test_the_help_lists_the_metrics_and_engines_there_are(invoke: Invoke) -> None:
    from driftcli.cli.options import METRIC_CHOICES
    from driftcli.scoring.metrics import METRICS

    assert f"<{'|'.join(METRICS)}>" == METRIC_CHOICES
    assert f"--metric {METRIC_CHOICES}" in invoke("check", "--help").stdout
    for command in ("check", "reference"):
        assert "--engine <local|dask>" in invoke(command, "--help").stdout


def test_features_is_spelt_the_same_on_every_command(invoke: Invoke) -> None:
    import typer.main

    from driftcli.cli import app

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        shown = {o for p in command.params if not p.hidden for o in getattr(p, "opts", [])}
        assert "--feature" not in shown, name
        hidden = {o for p in command.params if p.hidden for o in getattr(p, "opts", [])}
        if name == "history":
            assert "--features" in shown and "--feature" in hidden  # the old name still works
