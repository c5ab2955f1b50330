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
The settings, their parsers and defaults are declared in setting_table.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftcli.config_file import fewer_columns_only, find_config, lower_only
from driftcli.config_values import (
    REAL,
    WHOLE,
    Unknown,
    bins,
    flag,
    kind,
    metric,
    points,
    ratio,
    threshold,
)
from driftcli.errors import UsageError, did_you_mean, option
from driftcli.setting_table import BY_NAME, SETTINGS, Given, Setting, Trust, Values
from driftcli.settings import QUALITY_KEYS, FeatureSettings, Settings, size_text

GLOBAL_KEYS = tuple(declared.name for declared in SETTINGS)
"""Settings the config file, the environment (DRIFTCLI_<KEY>) and flags may give."""

FEATURE_KEYS: dict[str, Callable[[Any], Any]] = {
    "threshold": threshold,
    "metric": metric,
    "kind": kind,
    "bins": bins,
    "exclude": flag,
    **{key: ratio if key.endswith("_ratio") else points for key in QUALITY_KEYS},
}
"""What a config file's `[features.NAME]` table may set (settings.FeatureSettings)."""


@dataclass
class Resolved:
    """The effective settings, and where each came from."""

    values: Values
    sources: dict[str, str]
    """Each setting's source, by its name: `flag`, a DRIFTCLI_* variable, the config
    file's path, or `default`."""
    features: dict[str, FeatureSettings] = field(default_factory=dict)
    config_path: Path | None = None
    config_given: bool = False
    """Was the config file named by the user (`--config`), not found in the directory?"""

    def found_sets(self, name: str) -> bool:
        """Does the value of setting `name` come from a config file driftcli found by itself
        (driftcli.toml or pyproject.toml in the working directory, perhaps a cloned
        repository's), not one the user named?"""
        path = self.config_path
        return path is not None and not self.config_given and self.sources[name] == str(path)

    def scheduler(self) -> str | None:
        """The Dask scheduler to connect to, if the user named one.

        An address in a found config file is never connected to (a
        `UsageError`), loopback included, for Dask's protocol carries pickles
        and the data. With the local engine it is irrelevant, so it is
        ignored, not refused.
        """
        address = self.values.scheduler
        if not address or not self.found_sets("scheduler"):
            return address
        if self.values.engine == "local":
            return None
        raise UsageError(
            f"{self.config_path}: sets scheduler = {address!r}, but driftcli connects only to "
            "a scheduler you name, not one from a config file it found in the directory",
            hint=f"to use it: {option('scheduler')} {address}, or "
            f"DRIFTCLI_SCHEDULER={address}, or {option('config')} {self.config_path}",
        )

    def engine(self) -> str:
        """The engine to count with: `local`, or `dask` if the user asked for it.

        A found config file may not choose Dask (a `UsageError`): a cluster
        starts processes and listens on this machine, which a cloned
        repository does not get to decide.
        """
        engine = self.values.engine
        if engine == "local" or not self.found_sets("engine"):
            return engine
        raise UsageError(
            f"{self.config_path}: sets engine = {engine!r}, but only you choose the engine, "
            "not a config file driftcli found in the directory",
            hint=f"to use it: {option('engine')} {engine}, or DRIFTCLI_ENGINE={engine}, "
            f"or {option('config')} {self.config_path}",
        )

    def settings(self) -> Settings:
        v = self.values
        return Settings(
            threshold=v.threshold,
            bins=v.bins,
            max_categories=v.bins,
            min_rows=v.min_rows,
            features=v.features,
            exclude=v.exclude,
            metric=v.metric,
            alpha=v.alpha,
            evidence=v.evidence,
            correction=v.correction,
            max_drift_share=v.max_drift_share,
            fail_on=v.fail_on,
            overrides=tuple(self.features.items()),
            skip_bad_lines=v.skip_bad_lines,
            delimiter=v.delimiter,
            decimal=v.decimal,
            max_columns=v.max_columns,
            max_line_bytes=v.max_line_bytes,
            json_path=v.json_path,
            joint=v.joint,
            joint_method=v.joint_method,
            missing_ratio=v.missing_ratio,
            missing_points=v.missing_points,
            unseen_ratio=v.unseen_ratio,
            unseen_points=v.unseen_points,
            invalid_ratio=v.invalid_ratio,
            invalid_points=v.invalid_points,
        )


def resolve(
    given: Given,
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
    chosen: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for declared in SETTINGS:
        name, flagged = declared.name, getattr(given, declared.name)
        if flagged is not None:
            chosen[name] = _checked(declared.parse, flagged, option(name))
            sources[name] = "flag"
        elif environ.get(declared.env, "") != "":
            chosen[name] = _from_env(declared, environ[declared.env])
            sources[name] = declared.env
        elif name in file_values:
            chosen[name], sources[name] = file_values[name], where
    values = Values(**chosen)
    sources = {declared.name: sources.get(declared.name, "default") for declared in SETTINGS}
    if path is not None and config is None:
        if sources["max_line_bytes"] == where:
            lower_only(path, values.max_line_bytes)
        if sources["max_columns"] == where:
            fewer_columns_only(path, values.max_columns)
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
        declared = BY_NAME.get(key)
        if declared is None:
            raise UsageError(
                f"{where}: unknown key {prefix + key!r}", hint=did_you_mean(key, GLOBAL_KEYS, _KEYS)
            )
        values[key] = _checked(declared.parse, value, f"{where}: {prefix}{key}")
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


def _from_env(declared: Setting[Any], raw: str) -> Any:
    name, parse = declared.env, declared.parse
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
    rows = [(key, shown_value(key, value), source) for key, value, source in _effective(resolved)]
    if resolved.values.threshold is None:
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
    rows = []
    for declared in SETTINGS:
        key = declared.name
        value, source = getattr(resolved.values, key), resolved.sources[key]
        if resolved.found_sets(key) and _distrusted(declared, value):
            source = f"{source}; not used: found, not given"
        rows.append((key, value, source))
    where = str(resolved.config_path) if resolved.config_path else ""
    for name, options in resolved.features.items():
        for key in FEATURE_KEYS:
            value = getattr(options, key)
            if value not in (None, False):
                rows.append((f"features.{name}.{key}", value, where))
    return rows


def _distrusted(declared: Setting[Any], value: Any) -> bool:
    """Would a found config file's value of this setting go unused (Resolved.scheduler,
    .engine; cli/monitor.py)? A lowered limit is used; a higher one was refused."""
    if declared.trust is Trust.LOCAL_ONLY:
        return bool(value != "local")
    return declared.trust in (Trust.NEVER, Trust.NOT_CONNECTED)


def shown_value(key: str, value: Any) -> str:
    """A setting's value as the config file would spell it (`true`, not Python's `True`;
    a size with its unit)."""
    if key == "max_line_bytes":
        return size_text(value)
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
