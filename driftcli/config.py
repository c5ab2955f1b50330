"""Settings from flags, DRIFTCLI_* environment variables and a config file.

Precedence, highest first: command-line flags, then environment variables,
then the config file, then the defaults. The config file is `driftcli.toml`
in the working directory, else the `[tool.driftcli]` table of
`pyproject.toml` there (or the file `--config` names):

    threshold = 0.3
    metric = "kl"
    exclude = ["id"]
    [features.income]          # [tool.driftcli.features.income] in pyproject.toml
    threshold = 0.2

A key the file does not know, or a value of the wrong type, is an error
naming the file and the key: a typo must not silently change a CI gate.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftcli.choices import Correction
from driftcli.config_file import fewer_columns_only, find_config, lower_only
from driftcli.config_values import (
    REAL,
    WHOLE,
    Unknown,
    bins,
    correction,
    decimal,
    delimiter,
    engine,
    flag,
    kind,
    metric,
    names,
    p_value,
    points,
    ratio,
    rows,
    seconds,
    share,
    size,
    text,
    threshold,
)
from driftcli.errors import UsageError, did_you_mean
from driftcli.settings import (
    DEFAULT_BINS,
    DEFAULT_EVIDENCE,
    DEFAULT_MAX_COLUMNS,
    DEFAULT_MAX_LINE_BYTES,
    DEFAULT_METRIC,
    QUALITY_DEFAULTS,
    QUALITY_KEYS,
    FeatureSettings,
    Settings,
    size_text,
)

GLOBAL_KEYS: dict[str, Callable[[Any], Any]] = {
    "threshold": threshold,
    "metric": metric,
    "alpha": p_value,
    "evidence": p_value,
    "correction": correction,
    "bins": bins,
    "min_rows": rows,
    "features": names,
    "exclude": names,
    "max_drift_share": share,
    "fail_on": names,
    "store": text,
    "engine": engine,
    "scheduler": text,
    "skip_bad_lines": flag,
    "delimiter": delimiter,
    "decimal": decimal,
    "max_columns": rows,
    "max_line_bytes": size,
    "json_path": text,
    "metrics": text,
    "on_drift": text,
    "on_drift_also": names,
    "hook_timeout": seconds,
    "slice": text,
    "max_slices": rows,
    "joint": flag,
    **{key: ratio if key.endswith("_ratio") else points for key in QUALITY_KEYS},
}
"""Settings the config file, the environment (DRIFTCLI_<KEY>) and flags may give."""

FEATURE_KEYS: dict[str, Callable[[Any], Any]] = {
    "threshold": threshold,
    "metric": metric,
    "kind": kind,
    "bins": bins,
    "exclude": flag,
    **{key: ratio if key.endswith("_ratio") else points for key in QUALITY_KEYS},
}

DEFAULTS: dict[str, Any] = {
    "threshold": None,
    "metric": DEFAULT_METRIC,
    "alpha": None,
    "evidence": DEFAULT_EVIDENCE,
    "correction": Correction.HOLM,
    "bins": DEFAULT_BINS,
    "min_rows": None,
    "features": (),
    "exclude": (),
    "max_drift_share": None,
    "fail_on": (),
    "store": ".driftcli",
    "engine": "local",
    "scheduler": None,
    "skip_bad_lines": False,
    "delimiter": None,
    "decimal": None,
    "max_columns": DEFAULT_MAX_COLUMNS,
    "max_line_bytes": DEFAULT_MAX_LINE_BYTES,
    "json_path": None,
    "metrics": None,
    "on_drift": None,
    "on_drift_also": (),
    "hook_timeout": None,
    "slice": None,
    "max_slices": None,
    **QUALITY_DEFAULTS,
    "joint": False,
}


@dataclass
class Resolved:
    """The effective settings, and where each came from."""

    values: dict[str, Any]
    sources: dict[str, str]
    features: dict[str, FeatureSettings] = field(default_factory=dict)
    config_path: Path | None = None
    config_given: bool = False
    """Was the config file named by the user (`--config`), not found in the directory?"""

    def scheduler(self) -> str | None:
        """The Dask scheduler to connect to, if the user named one.

        A config file driftcli found by itself (driftcli.toml or pyproject.toml
        in the working directory) came with the directory, perhaps a cloned
        repository: an address in it is never connected to (a `UsageError`),
        loopback included, for Dask's protocol carries pickles and the data.
        With the local engine it is irrelevant, so it is ignored, not refused.
        """
        address: str | None = self.values["scheduler"]
        found = self.config_path is not None and not self.config_given
        if not address or not found or self.sources["scheduler"] != str(self.config_path):
            return address
        if self.values["engine"] == "local":
            return None
        raise UsageError(
            f"{self.config_path}: sets scheduler = {address!r}, but driftcli connects only to "
            "a scheduler you name, not one from a config file it found in the directory",
            hint=f"to use it: --scheduler {address}, or DRIFTCLI_SCHEDULER={address}, or "
            f"--config {self.config_path}",
        )

    def engine(self) -> str:
        """The engine to count with: `local`, or `dask` if the user asked for it.

        A config file driftcli found by itself may not choose Dask (a
        `UsageError`): a cluster starts processes and listens on this machine,
        which a cloned repository does not get to decide.
        """
        engine: str = self.values["engine"]
        found = self.config_path is not None and not self.config_given
        if engine == "local" or not found or self.sources["engine"] != str(self.config_path):
            return engine
        raise UsageError(
            f"{self.config_path}: sets engine = {engine!r}, but only you choose the engine, "
            "not a config file driftcli found in the directory",
            hint=f"to use it: --engine {engine}, or DRIFTCLI_ENGINE={engine}, or "
            f"--config {self.config_path}",
        )

    def settings(self) -> Settings:
        v = self.values
        return Settings(
            threshold=v["threshold"],
            bins=v["bins"],
            max_categories=v["bins"],
            min_rows=v["min_rows"],
            features=v["features"],
            exclude=v["exclude"],
            metric=v["metric"],
            alpha=v["alpha"],
            evidence=v["evidence"],
            correction=v["correction"],
            max_drift_share=v["max_drift_share"],
            fail_on=v["fail_on"],
            overrides=tuple(self.features.items()),
            skip_bad_lines=v["skip_bad_lines"],
            delimiter=v["delimiter"],
            decimal=v["decimal"],
            max_columns=v["max_columns"],
            max_line_bytes=v["max_line_bytes"],
            joint=v["joint"],
            json_path=v["json_path"],
            **{key: v[key] for key in QUALITY_KEYS},
        )


def resolve(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    directory: Path | None = None,
    config: Path | None = None,
) -> Resolved:
    """Merge flags > DRIFTCLI_* environment > config file > defaults, checking every value."""
    environ = os.environ if environ is None else environ
    found = find_config(directory or Path.cwd(), config)
    path, table = found if found else (None, {})
    where = str(path) if path else ""
    prefix = "tool.driftcli." if path and path.name == "pyproject.toml" else ""
    file_values, features = _parse_table(table or {}, where, prefix)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, parse in GLOBAL_KEYS.items():
        env_name = f"DRIFTCLI_{key.upper()}"
        if flags.get(key) is not None:
            flag = f"--{key.replace('_', '-')}"
            values[key], sources[key] = _checked(parse, flags[key], flag), "flag"
        elif environ.get(env_name, "") != "":
            values[key], sources[key] = _from_env(env_name, environ[env_name], parse), env_name
        elif key in file_values:
            values[key], sources[key] = file_values[key], where
        else:
            values[key], sources[key] = DEFAULTS[key], "default"
    if path is not None and config is None and sources["max_line_bytes"] == where:
        lower_only(path, values["max_line_bytes"])
    if path is not None and config is None and sources["max_columns"] == where:
        fewer_columns_only(path, values["max_columns"])
    return Resolved(values, sources, features, path, config_given=config is not None)


def _parse_table(
    table: dict[str, Any], where: str, prefix: str
) -> tuple[dict[str, Any], dict[str, FeatureSettings]]:
    values: dict[str, Any] = {}
    features: dict[str, FeatureSettings] = {}
    for key, value in table.items():
        if key == "features" and isinstance(value, dict):
            for name, options in value.items():
                features[name] = _feature_settings(name, options, where, prefix)
            continue
        parse = GLOBAL_KEYS.get(key)
        if parse is None:
            raise UsageError(
                f"{where}: unknown key {prefix + key!r}", hint=did_you_mean(key, GLOBAL_KEYS, _KEYS)
            )
        values[key] = _checked(parse, value, f"{where}: {prefix}{key}")
    return values, features


def _feature_settings(name: str, options: Any, where: str, prefix: str) -> FeatureSettings:
    label = f"{where}: {prefix}features.{name}"
    if not isinstance(options, dict):
        raise UsageError(f"{label} must be a table")
    parsed = {}
    for key, value in options.items():
        parse = FEATURE_KEYS.get(key)
        if parse is None:
            raise UsageError(
                f"{label}: unknown key {key!r}", hint=did_you_mean(key, FEATURE_KEYS, _KEYS)
            )
        parsed[key] = _checked(parse, value, f"{label}.{key}")
    return FeatureSettings(**parsed)


def _checked(parse: Callable[[Any], Any], value: Any, label: str) -> Any:
    try:
        return parse(value)
    except Unknown as exc:
        raise UsageError(
            f"{label}: unknown {exc.what} {value!r}", hint=did_you_mean(str(value), exc.known)
        ) from None
    except TypeError as exc:
        raise UsageError(f"{label} must be {exc}, not {_value_text(value)}") from None


def _value_text(value: Any) -> str:
    """A value as a message shows it: its repr, cut short (a config value may be huge)."""
    try:
        text = repr(value)
    except RecursionError:
        text = f"a {type(value).__name__} nested too deep to show"
    return text if len(text) <= 80 else text[:60] + "..." + text[-10:]


_TRUE_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _from_env(name: str, raw: str, parse: Callable[[Any], Any]) -> Any:
    value: Any = raw
    if parse is flag:
        value = _TRUE_WORDS.get(raw.strip().lower(), raw)
    if parse in WHOLE or parse in REAL:
        try:
            value = int(raw) if parse in WHOLE else float(raw)
        except ValueError:
            kind = "a whole number" if parse in WHOLE else "a number"
            raise UsageError(f"{name} must be {kind}, not {_value_text(raw)}") from None
    return _checked(parse, value, name)


_KEYS = "known keys:"


def describe(resolved: Resolved) -> list[tuple[str, str, str]]:
    """(key, value, source) rows for --show-config, per-feature settings last."""
    rows = [
        (key, size_text(value) if key == "max_line_bytes" else _shown(value), source)
        for key, value, source in _effective(resolved)
    ]
    if resolved.values["threshold"] is None:
        rows[0] = ("threshold", "each metric's default", resolved.sources["threshold"])
    return rows


def describe_json(resolved: Resolved) -> dict[str, Any]:
    """--show-config as a JSON document: each setting's value (null: the default of its
    metric, for `threshold`) and where it came from."""
    settings: dict[str, Any] = {}
    features: dict[str, dict[str, Any]] = {}
    for key, value, source in _effective(resolved):
        entry = {"value": _plain(value), "source": source}
        if key.startswith("features."):
            name, option = key.removeprefix("features.").rsplit(".", 1)
            features.setdefault(name, {})[option] = entry
        else:
            settings[key] = entry
    path = resolved.config_path
    return {"config_file": str(path) if path else None, "settings": settings, "features": features}


def _effective(resolved: Resolved) -> list[tuple[str, Any, str]]:
    """(key, value, source) for every global setting, then the per-feature ones set."""
    rows = [(key, resolved.values[key], resolved.sources[key]) for key in GLOBAL_KEYS]
    where = str(resolved.config_path) if resolved.config_path else ""
    if not resolved.config_given and where:
        # What a found config may not decide (Resolved.scheduler, .engine; cli/monitor.py).
        unused = {"scheduler", "metrics", "on_drift"}
        unused |= {"engine"} if resolved.values["engine"] != "local" else set()
        rows = [
            (key, value, f"{source}; not used: found, not given")
            if key in unused and source == where
            else (key, value, source)
            for key, value, source in rows
        ]
    for name, options in resolved.features.items():
        for key in FEATURE_KEYS:
            value = getattr(options, key)
            if value not in (None, False):
                rows.append((f"features.{name}.{key}", value, where))
    return rows


def _shown(value: Any) -> str:
    """A value as the config file would spell it (`true`, not Python's `True`)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(value) if value else "-"
    if value == "\t":
        return "tab"
    return str(getattr(value, "value", value))


def _plain(value: Any) -> Any:
    """A value as JSON holds it: enums by their value, tuples as lists."""
    if isinstance(value, tuple):
        return list(value)
    return getattr(value, "value", value)
