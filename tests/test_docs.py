"""The docs stay true: the command reference is the code's --help, and links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from driftcli.cli.helpdoc import render

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks/README.md"]


def test_the_command_reference_is_the_commands_help() -> None:
    written = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == render(), "docs/cli.md is stale: run `make docs`"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_files(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_readme_is_short_and_shows_both_set_up_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "make demo" in readme and "make test" in readme


def readme_commands() -> list[str]:
    """The README's shell examples that run driftcli (comments cut), in order: the `sh`
    blocks (a `bash` block shows a service that runs until stopped, as `ingest --follow`)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for block in re.findall(r"```sh\n(.*?)```", readme, re.DOTALL)
             for line in block.splitlines()]  # fmt: skip
    commands = [re.split(r"\s+# ", line)[0].strip() for line in lines]
    return [c for c in commands if re.match(r"(driftcli |.*\| driftcli )", c)]


def test_the_readme_examples_run_on_the_files_they_name(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    commands = readme_commands()
    assert any("--by ts" in c for c in commands) and any(" ingest " in c for c in commands)
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("DRIFTCLI_STORE", None)
    for command in commands:
        if command.startswith("jq ") and shutil.which("jq") is None:
            continue
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode in (0, 1), f"{command}: {done.stderr}"
        assert "error:" not in done.stderr, command
