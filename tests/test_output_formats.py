"""The output formats are registered once (driftcli/output/formats.py): each has its
renderer of every kind of result, `--format` offers exactly them, `check` has a report-file
option for each that has one, and the listing commands offer the formats that render
listings."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftcli.choices import ListingFormat, OutputFormat
from driftcli.cli import app
from driftcli.output.formats import FORMATS, REPORT_FILE_FORMATS, format_help, renderer
from driftcli.output.html import HtmlReport
from driftcli.output.json import JsonReport
from driftcli.output.junit import JunitReport
from driftcli.output.markdown import MarkdownReport
from driftcli.output.table import TableReport
from driftcli.report import Renderer

SAMPLE = Path(__file__).parent.parent / "sample_data"

# Each format module also tells mypy its renderer is a `Renderer` (an `if TYPE_CHECKING:`
# line at its end), so a kind of result a renderer lacks fails `make lint`.
_RENDERERS: tuple[Renderer[object], ...] = (
    TableReport(),
    JsonReport(),
    MarkdownReport(),
    JunitReport(),
    HtmlReport(),
)


def test_every_output_format_is_registered_once_with_its_renderer() -> None:
    assert list(FORMATS) == list(OutputFormat)
    for name, found in FORMATS.items():
        made = renderer(name)
        assert type(made).__name__ == found.renderer
        assert type(made).__module__.startswith(found.module)
        for method in ("check", "timeline", "sliced"):
            assert callable(getattr(made, method)), (name, method)
    assert {type(r).__name__ for r in _RENDERERS} == {f.renderer for f in FORMATS.values()}


def test_listing_formats_are_the_formats_that_render_listings() -> None:
    listing = {f.name.value for f in FORMATS.values() if f.listings}
    assert {f.value for f in ListingFormat} == listing
    for name in listing:
        module = importlib.import_module(FORMATS[OutputFormat(name)].module)
        made = getattr(module, FORMATS[OutputFormat(name)].renderer)()
        for method in ("reference", "status", "history"):
            assert inspect.ismethod(getattr(made, method)), (name, method)


def _options(command: str) -> str:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", re.sub(r"[│╭╮╰╯─]", " ", result.output))


def test_check_offers_every_format_and_a_report_file_option_each() -> None:
    said = _options("check")
    assert "--format <" + "|".join(f.value for f in FORMATS) + ">" in said
    assert format_help() in said
    for name in REPORT_FILE_FORMATS:
        found = FORMATS[name]
        assert found.file_help is not None
        assert f"{found.file_flag} <path> {found.file_help}" in said


@pytest.mark.parametrize("command", ["reference", "status", "history"])
def test_listing_commands_offer_the_listing_formats(command: str) -> None:
    said = _options(command)
    assert "--format <" + "|".join(f.value for f in ListingFormat) + ">" in said
    assert format_help(tuple(OutputFormat(f) for f in ListingFormat)) in said


@pytest.mark.parametrize("name", REPORT_FILE_FORMATS)
def test_each_report_file_is_what_format_writes_to_stdout(
    name: OutputFormat, tmp_path: Path
) -> None:
    """`--<format> FILE` and `--format <format>` write the same report."""
    live, ref = str(SAMPLE / "live_drift.parquet"), str(SAMPLE / "ref.parquet")
    target = tmp_path / f"report.{name.value}"
    runner = CliRunner()
    to_file = runner.invoke(
        app, ["check", live, "--ref", ref, "-q", FORMATS[name].file_flag, str(target)]
    )
    assert to_file.exit_code == 1, to_file.output
    to_stdout = runner.invoke(app, ["check", live, "--ref", ref, "--format", name.value])
    assert to_stdout.exit_code == 1
    assert target.read_text(encoding="utf-8") == to_stdout.stdout
