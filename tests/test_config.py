"""Settings from flags, DRIFTCLI_* environment and config files: precedence and errors."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
import typer.main

from driftcli.choices import Kind
from driftcli.cli import app
from driftcli.config import resolve
from driftcli.errors import UsageError
from driftcli.setting_table import SETTINGS, Given, Setting
from tests.conftest import Invoke, raises_told, told


def test_precedence_flags_over_environment_over_file_over_defaults(tmp_path: Path) -> None:
    (tmp_path / "driftcli.toml").write_text('threshold = 0.3\nmetric = "psi"\nbins = 10\n')
    env = {"DRIFTCLI_THRESHOLD": "0.4", "DRIFTCLI_METRIC": "js"}
    resolved = resolve(Given(threshold=0.7), env, tmp_path)
    assert resolved.values.threshold == 0.7 and resolved.sources["threshold"] == "flag"
    assert resolved.values.metric == "js" and resolved.sources["metric"] == "DRIFTCLI_METRIC"
    assert resolved.values.bins == 10
    assert resolved.sources["bins"] == str(tmp_path / "driftcli.toml")
    assert resolved.values.alpha is None and resolved.sources["alpha"] == "default"


def test_pyproject_tool_table_and_per_feature_overrides(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.driftcli]\nthreshold = 0.3\nexclude = ["id"]\n\n'
        '[tool.driftcli.features.income]\nthreshold = 0.2\nmetric = "psi"\n\n'
        '[tool.driftcli.features.zip]\nkind = "categorical"\nbins = 5\n'
    )
    settings = resolve(Given(), {}, tmp_path).settings()
    assert settings.threshold == 0.3 and settings.exclude == ("id",)
    income = settings.for_feature("income")
    assert income.threshold == 0.2 and income.metric == "psi"
    assert settings.for_feature("zip").kind is Kind.CATEGORICAL
    assert settings.for_feature("zip").bins == 5


def test_driftcli_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.driftcli]\nthreshold = 0.9\n")
    (tmp_path / "driftcli.toml").write_text("threshold = 0.1\n")
    assert resolve(Given(), {}, tmp_path).values.threshold == 0.1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("treshold = 0.3\n", "unknown key 'treshold'"),
        ('threshold = "high"\n', "threshold must be a number, not 'high'"),
        ("bins = 2.5\n", "bins must be a whole number"),
        ('correction = "bonferroni"\n', "correction must be one of holm, bh, none"),
        ("[features.x]\nthreshhold = 1\n", "features.x: unknown key 'threshhold'"),
        ('[features.x]\nkind = "text"\n', "features.x.kind must be numeric or categorical"),
        ("threshold = \n", "not valid TOML"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "driftcli.toml").write_text(text)
    with pytest.raises(UsageError, match=message) as caught:
        resolve(Given(), {}, tmp_path)
    assert str(tmp_path / "driftcli.toml") in str(caught.value)


DEEP = 500_000

OUT_OF_RANGE = [
    ("threshold = -1\n", "threshold must be a number of at least 0, not -1"),
    ("threshold = inf\n", "threshold must be a number of at least 0, not inf"),
    ("threshold = nan\n", "threshold must be a number of at least 0, not nan"),
    ("threshold = 1" + "0" * 400 + "\n", "threshold must be a number of at least 0, not 1000"),
    ("evidence = nan\n", "evidence must be between 0 and 1, not nan"),
    ("evidence = 0\n", "evidence must be between 0 and 1, not 0"),
    ("alpha = 2\n", "alpha must be between 0 and 1, not 2"),
    ("min_rows = -1\n", "min_rows must be at least 1, not -1"),
    ("min_rows = 9223372036854775808\n", "min_rows must be at most 4,611,686,018,427,387,904"),
    ("bins = 1\n", "bins must be at least 2, not 1"),
    ("max_drift_share = 1\n", "max_drift_share must be at least 0 and below 1, not 1"),
    ("[features.x]\ncolour = 1\n", "features.x: unknown key 'colour'"),
    ("[features.x]\nthreshold = -1\n", "features.x.threshold must be a number of at least 0"),
    ("[features.x]\nbins = 99999999999999999999\n", "features.x.bins must be at most"),
]


@pytest.mark.parametrize(("text", "message"), OUT_OF_RANGE)
@pytest.mark.parametrize("name", ["driftcli.toml", "pyproject.toml"])
def test_values_out_of_range_name_the_file_and_the_key(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """They used to be checked only as settings, in messages naming a flag the user never
    gave (`--threshold must be ...` for a line of driftcli.toml)."""
    prefix = "tool.driftcli." if name == "pyproject.toml" else ""
    if prefix:
        text = "[tool.driftcli]\n" + text.replace("[features.", "[tool.driftcli.features.")
    (tmp_path / name).write_text(text)
    with pytest.raises(UsageError) as caught:
        resolve(Given(), {}, tmp_path)
    assert caught.value.message.startswith(f"{tmp_path / name}: {prefix}{message}")
    assert len(caught.value.message) < len(str(tmp_path)) + 200  # a huge value is cut short


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = " + "[" * DEEP + "]" * DEEP + "\n", "nested too deep to read"),
        ("features = " + "[" * 900 + "]" * 900 + "\n", "nested too deep to read"),
        ("x = " + "{a = " * 100_000 + "1" + "}" * 100_000 + "\n", "nested too deep to read"),
        ("[" + ".".join(["a"] * DEEP) + "]\nb = 1\n", ": a key of more than 1,000 dotted parts"),
        ("x = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n", "larger than 1 MiB, not a config"),
    ],
    ids=["deep array", "deep names", "deep inline tables", "long dotted key", "huge"],
)
@pytest.mark.parametrize("name", ["driftcli.toml", "pyproject.toml"])
def test_a_config_file_nested_too_deep_is_an_error_naming_it(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """A 500,000-deep array was a RecursionError; a 500,000-part dotted key took minutes."""
    if name == "pyproject.toml":
        text = "[tool.driftcli]\n" + text
    (tmp_path / name).write_text(text)
    with pytest.raises(UsageError) as caught:
        resolve(Given(), {}, tmp_path)
    assert caught.value.message.startswith(f"{tmp_path / name}: ")
    assert message in caught.value.message


def test_numbers_from_the_environment_are_checked_like_the_files(tmp_path: Path) -> None:
    environ = {"DRIFTCLI_THRESHOLD": "0.3", "DRIFTCLI_BINS": "12", "DRIFTCLI_EVIDENCE": "0.01"}
    values = resolve(Given(), environ, tmp_path).values
    assert (values.threshold, values.bins, values.evidence) == (0.3, 12, 0.01)
    with pytest.raises(UsageError, match="DRIFTCLI_EVIDENCE must be between 0 and 1, not nan"):
        resolve(Given(), {"DRIFTCLI_EVIDENCE": "nan"}, tmp_path)
    with pytest.raises(UsageError, match=r"DRIFTCLI_MIN_ROWS must be a whole number, not '1\.5'"):
        resolve(Given(), {"DRIFTCLI_MIN_ROWS": "1.5"}, tmp_path)


def test_typo_gets_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "driftcli.toml").write_text("treshold = 0.3\n")
    with pytest.raises(UsageError) as caught:
        resolve(Given(), {}, tmp_path)
    assert caught.value.hint is not None and "did you mean 'threshold'" in caught.value.hint


def test_bad_environment_value_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="DRIFTCLI_ALPHA must be a number, not 'tiny'"):
        resolve(Given(), {"DRIFTCLI_ALPHA": "tiny"}, tmp_path)


def test_cli_reads_the_config_and_shows_it(
    invoke: Invoke, sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text(
        'exclude = ["country"]\n'
        "[features.income]\nthreshold = 5.0\n"
        "[features.device]\nexclude = true\n"
    )
    doc = json.loads(
        invoke(
            "check", sample / "live_drift.parquet", "--ref", sample / "ref.parquet", "-f", "json"
        ).stdout
    )
    names = [f["name"] for f in doc["features"]]
    assert names == ["age", "income", "score"]
    income = next(f for f in doc["features"] if f["name"] == "income")
    assert income["threshold"] == 5.0 and income["status"] == "ok"
    shown = invoke("check", "--show-config", "--metric", "psi")
    assert shown.exit_code == 0
    assert f"config file: {tmp_path / 'driftcli.toml'}" in shown.stdout
    rows = {line.split()[0]: line.split()[1:] for line in shown.stdout.splitlines()[1:]}
    assert rows["metric"] == ["psi", "(flag)"]
    assert rows["features.income.threshold"][0] == "5.0"


def test_cli_config_error_exits_2(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text("metrik = 'kl'\n")
    result = invoke("check", "--show-config")
    assert result.exit_code == 2
    assert "unknown key 'metrik'" in result.stderr and "did you mean 'metric'" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[features.incme]\nthreshold = 0.2\n", "config [features.incme]: 'incme' is not a column"),
        ("[features.income]\nbins = 1\n", "features.income.bins must be at least 2"),
    ],
)
def test_per_feature_config_is_checked(
    invoke: Invoke,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sample: Path,
    text: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text(text)
    result = invoke("check", sample / "live_drift.parquet", "--ref", sample / "ref.parquet")
    assert result.exit_code == 2 and message in result.stderr


def test_top_level_features_list_in_the_config(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text('features = ["age", "country"]\n')
    doc = json.loads(
        invoke(
            "check", sample / "live_drift.parquet", "--ref", sample / "ref.parquet", "-f", "json"
        ).stdout
    )
    assert [f["name"] for f in doc["features"]] == ["age", "country"]


@pytest.mark.parametrize(
    ("flags", "env", "text", "where"),
    [
        ({}, {"DRIFTCLI_METRIC": "kll"}, "", "DRIFTCLI_METRIC: unknown metric 'kll'"),
        ({"metric": "kll"}, {}, "", "--metric: unknown metric 'kll'"),
        ({}, {}, 'metric = "kll"\n', "metric: unknown metric 'kll'"),
        ({}, {}, '[features.x]\nmetric = "kll"\n', "features.x.metric: unknown metric 'kll'"),
    ],
)
def test_a_misspelt_metric_gets_a_suggestion_wherever_it_is_set(
    tmp_path: Path, flags: dict[str, str], env: dict[str, str], text: str, where: str
) -> None:
    (tmp_path / "driftcli.toml").write_text(text)
    with raises_told(UsageError, match=where) as caught:
        resolve(Given(**flags), env, tmp_path)
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("did you mean 'kl'? choose one of kl, psi")


def test_the_metric_names_the_config_knows_are_the_metrics() -> None:
    from driftcli.choices import BUCKET_METRIC_NAMES, METRIC_NAMES, SAMPLE_METRIC_NAMES
    from driftcli.scoring.metrics import METRICS, Reads
    from driftcli.settings import DEFAULT_METRIC

    assert tuple(METRICS) == METRIC_NAMES and METRIC_NAMES[0] == DEFAULT_METRIC
    assert tuple(n for n, m in METRICS.items() if m.reads is Reads.BUCKETS) == BUCKET_METRIC_NAMES
    assert tuple(n for n, m in METRICS.items() if m.reads is Reads.SAMPLES) == SAMPLE_METRIC_NAMES


def test_a_misspelt_metric_in_library_settings_gets_a_suggestion() -> None:
    from driftcli.api.common import validated
    from driftcli.settings import Settings

    with pytest.raises(UsageError, match="unknown metric 'hellingr'") as caught:
        validated(Settings(metric="hellingr"))
    assert caught.value.hint is not None and "did you mean 'hellinger'" in caught.value.hint


def test_show_config_spells_values_as_the_config_file_does(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "driftcli.toml").write_text(
        'skip_bad_lines = true\nexclude = ["id", "ts"]\n[features.income]\nthreshold = 0.2\n'
    )
    text = invoke("check", "--show-config").stdout
    rows = {line.split()[0]: line.split()[1] for line in text.splitlines()[1:]}
    assert rows["skip_bad_lines"] == "true" and "True" not in text
    shown = invoke("check", "--show-config", "--format", "json", "--bins", "12")
    assert shown.exit_code == 0
    doc = json.loads(shown.stdout)
    assert doc["config_file"] == str(tmp_path / "driftcli.toml")
    settings = doc["settings"]
    assert settings["skip_bad_lines"] == {"value": True, "source": str(tmp_path / "driftcli.toml")}
    assert settings["bins"] == {"value": 12, "source": "flag"}
    assert settings["exclude"]["value"] == ["id", "ts"]
    assert settings["threshold"] == {"value": None, "source": "default"}
    assert settings["correction"]["value"] == "holm"
    assert doc["features"] == {
        "income": {"threshold": {"value": 0.2, "source": str(tmp_path / "driftcli.toml")}}
    }


@pytest.mark.parametrize(
    ("given", "size"),
    [
        ("64MiB", 64 << 20), ("64MB", 64_000_000), ("64mb", 64_000_000), ("64M", 64 << 20),
        ("512KiB", 512 << 10), ("512kB", 512_000), ("1GiB", 1 << 30), ("1GB", 10**9),
        ("1.5KiB", 1536), ("100", 100), ("100B", 100), (" 2 MiB ", 2 << 20), (4096, 4096),
    ],
)  # fmt: skip
def test_sizes_read_decimal_and_binary_units_exactly(
    tmp_path: Path, given: str | int, size: int
) -> None:
    flags = {"max_line_bytes": given}
    assert resolve(Given(**flags), {}, tmp_path).values.max_line_bytes == size
    environ = {"DRIFTCLI_MAX_LINE_BYTES": str(given)}
    assert resolve(Given(), environ, tmp_path).values.max_line_bytes == size
    config = tmp_path / "given.toml"
    config.write_text(f"max_line_bytes = {given!r}\n".replace("'", '"'))
    assert resolve(Given(), {}, tmp_path, config).values.max_line_bytes == size


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("1EiB", "must be a size of at most 1 GiB, the highest line limit, not '1EiB'"),
        ("2GiB", "must be a size of at most 1 GiB"),
        ("99999999999999999999999", "must be a size of at most 1 GiB"),
        (99999999999999999999, "must be a size of at most 1 GiB"),
        ("64XB", "must be a size with a known unit: kB, MB, GB (powers of 1000) or KiB"),
        ("0.5", "must be a whole number of bytes, not '0.5'"),
        ("0", "must be a size in bytes of at least 1"),
        ("lots", "must be a size in bytes of at least 1"),
        (True, "must be a size in bytes of at least 1"),
    ],
)
def test_a_size_out_of_range_or_with_an_unknown_unit_says_so(
    tmp_path: Path, given: str | int, why: str
) -> None:
    with raises_told(UsageError) as caught:
        resolve(Given(max_line_bytes=given), {}, tmp_path)
    assert f"--max-line-bytes {why}" in told(caught.value)


@pytest.mark.parametrize("where", ["driftcli.toml", "pyproject.toml"])
def test_a_found_config_may_lower_the_line_limit_but_not_raise_it(
    tmp_path: Path, where: str
) -> None:
    table = "[tool.driftcli]\n" if where == "pyproject.toml" else ""
    path = tmp_path / where
    path.write_text(f'{table}max_line_bytes = "1MiB"\n')
    assert resolve(Given(), {}, tmp_path).values.max_line_bytes == 1 << 20
    path.write_text(f'{table}max_line_bytes = "65MiB"\n')
    with raises_told(UsageError) as caught:
        resolve(Given(), {}, tmp_path)
    assert caught.value.message == (
        f"{path}: sets max_line_bytes = 65 MiB, above the default of 64 MiB, but only a limit "
        "you give may raise it, not a config file driftcli found in the directory"
    )
    assert told(caught.value, hint=True) == (
        f"to use it: --max-line-bytes 65MiB, or DRIFTCLI_MAX_LINE_BYTES=65MiB, or --config {path}"
    )
    assert resolve(Given(), {}, tmp_path, path).values.max_line_bytes == 65 << 20
    assert resolve(Given(max_line_bytes="1GiB"), {}, tmp_path).values.max_line_bytes == 1 << 30
    environ = {"DRIFTCLI_MAX_LINE_BYTES": "128MiB"}
    assert resolve(Given(), environ, tmp_path).values.max_line_bytes == 128 << 20


def test_library_settings_hold_the_line_limit_to_its_range() -> None:
    from driftcli.settings import MAX_LINE_BYTES, Settings, validate

    for wrong in (0, MAX_LINE_BYTES + 1):
        with raises_told(UsageError, match="--max-line-bytes must be from 1 byte to 1 GiB"):
            validate(Settings(max_line_bytes=wrong), ("kl",))


def test_what_the_user_gives_has_a_field_for_every_setting() -> None:
    assert [f.name for f in fields(Given)] == [s.name for s in SETTINGS]


@pytest.mark.parametrize("declared", SETTINGS, ids=lambda s: s.name)
def test_each_setting_has_its_flag_on_the_commands_it_names(declared: Setting[object]) -> None:
    root = typer.main.get_command(app)
    context = root.make_context("driftcli", [], resilient_parsing=True)
    taking = []
    for name in root.list_commands(context):  # type: ignore[attr-defined]
        command = root.get_command(context, name)  # type: ignore[attr-defined]
        flags = {flag for param in command.params for flag in param.opts}
        if "--" + declared.name.replace("_", "-") in flags and (name, declared.name) not in _OWN:
            taking.append(name)
    assert taking == sorted(", ".join(declared.commands).split(", "))


_OWN = {("history", "features")}
"""Flags named as a setting that are a command's own: history's --features picks the
features shown."""


def test_a_setting_in_a_library_message_is_its_flag_on_the_command_line() -> None:
    from driftcli.settings import Settings, validate

    with raises_told(UsageError, match="^--bins must be at least 2, not 1$") as caught:
        validate(Settings(bins=1), ("kl",))
    assert str(caught.value) == "bins must be at least 2, not 1"
