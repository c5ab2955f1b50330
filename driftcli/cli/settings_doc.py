"""The settings table of docs/configuration.md, made from the settings' declarations
(setting_table.py).

    python -m driftcli.cli.settings_doc docs/configuration.md     # or: make docs

rewrites the table between its two markers; a test compares it with what this makes.
"""

import sys
from pathlib import Path
from typing import Any

from driftcli.config import shown_value
from driftcli.errors import flag_of
from driftcli.setting_table import SETTINGS, Trust

BEGIN = "<!-- settings table: made by `make docs` from driftcli/setting_table.py -->"
END = "<!-- end of settings table -->"


def render() -> str:
    """The table, one row a setting, between its markers."""
    head = ("config key", "flag", "environment variable", "default", "commands")
    rows = [
        "| " + " | ".join(head) + " | a found config file may |",
        "|---|---|---|---|---|---|",
    ]
    rows += [
        f"| `{s.name}` | `{flag_of(s.name)}` | `{s.env}` | {_default(s.name, s.default)} "
        f"| {', '.join(s.commands)} | {_trust(s.trust)} |"
        for s in SETTINGS
    ]
    return "\n".join([BEGIN, *rows, END])


def _default(name: str, value: Any) -> str:
    if name == "threshold":
        return "each metric's own"
    text = shown_value(name, value)
    return "-" if text == "-" else f"`{text}`"


def _trust(trust: Trust) -> str:
    return "set it" if trust is Trust.ANY else trust.value


def rewrite(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    page.write_text(before + render() + after, encoding="utf-8")


if __name__ == "__main__":
    rewrite(Path(sys.argv[1]))
