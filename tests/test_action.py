"""The GitHub Action (action.yml): its shell steps, run here as a runner would run them.

GitHub runs a `shell: bash` step as `bash --noprofile --norc -eo pipefail`, with
the step's `env:` evaluated; the tests do the same, with `${{ ... }}` filled in
from the inputs, a temporary runner directory, and files for the job summary
and the step outputs. The steps that `uses:` other actions (setup-python,
upload-artifact) are only read.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = {step["name"]: step for step in ACTION["runs"]["steps"]}
CHECK = STEPS["Check for drift"]


def evaluate(text: str, inputs: dict[str, str], runner_temp: Path) -> str:
    """`${{ inputs.x }}`, `${{ github.action_path }}` and the install step's outputs filled in.

    The install step's outputs are what it leaves for this test: driftcli's `bin`
    is the directory of the Python running the tests, where driftcli is installed.
    """
    known = {f"inputs.{name}": value for name, value in inputs.items()}
    known |= {
        "github.action_path": str(ROOT),
        "steps.install.outputs.bin": str(Path(sys.executable).parent),
        "steps.install.outputs.reports": str(runner_temp / "driftcli-test" / "report"),
    }

    def value(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression not in known:
            pytest.fail(f"action.yml uses {expression!r}, which this test does not know")
        return known[expression]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


def run_check(tmp_path: Path, **given: str) -> Run:
    """The check step's script, as the runner runs it, with these inputs."""
    inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    inputs |= {name.replace("_", "-"): value for name, value in given.items()}
    runner = tmp_path / "runner"
    runner.mkdir(exist_ok=True)
    outputs, summary = runner / "output", runner / "summary.md"
    env = {key: evaluate(str(v), inputs, runner) for key, v in CHECK["env"].items()}
    Path(env["REPORTS"]).mkdir(parents=True, exist_ok=True)
    # No driftcli on PATH: the step must call the one the install step made.
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if not (Path(p) / "driftcli").exists())  # fmt: skip
    env |= {"PATH": path, "HOME": str(tmp_path), "GITHUB_OUTPUT": str(outputs),
            "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(runner)}  # fmt: skip
    script = runner / "check.sh"
    script.write_text(evaluate(CHECK["run"], inputs, runner))
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    written = outputs.read_text() if outputs.exists() else ""
    pairs = dict(line.split("=", 1) for line in written.splitlines() if "=" in line)
    return Run(done.returncode, done.stdout, done.stderr, pairs,
               summary.read_text() if summary.exists() else "")  # fmt: skip


def test_the_action_is_composite_with_the_inputs_a_workflow_needs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert {"live", "ref", "threshold", "metric", "args", "python-version"} <= set(ACTION["inputs"])
    assert set(ACTION["outputs"]) == {"exit-code", "html", "junit", "markdown"}
    install = STEPS["Install driftcli"]
    assert install["env"]["DRIFTCLI_ACTION_PATH"] == "${{ github.action_path }}"
    assert (
        'install --disable-pip-version-check --quiet \\\n  "$DRIFTCLI_ACTION_PATH"'
        in (install["run"])
    )
    python = STEPS["Set up Python"]
    assert python["uses"].startswith("actions/setup-python@")
    upload = STEPS["Upload the report"]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"].startswith("always()")
    assert upload["with"]["path"] == "${{ steps.install.outputs.reports }}"
    assert all(step.get("shell", "bash") == "bash" for step in STEPS.values() if "run" in step)


def test_the_job_keeps_its_own_python_and_path() -> None:
    """Later steps of the job must not run driftcli's virtualenv or setup-python's Python."""
    assert STEPS["Set up Python"]["with"]["update-environment"] is False
    for step in STEPS.values():
        assert "GITHUB_PATH" not in step.get("run", "") and "GITHUB_ENV" not in step.get("run", "")


def test_the_install_step_makes_a_directory_per_use(tmp_path: Path) -> None:
    """Two uses of the action in one job must not write over each other's reports."""
    install = STEPS["Install driftcli"]
    head = install["run"].split('"$home/venv/bin/python" -m pip')[0]  # up to the download
    fake_python = tmp_path / "bin" / "python3"
    fake_python.parent.mkdir()
    fake_python.write_text('#!/bin/sh\nmkdir -p "$3/bin"\n')  # `python3 -m venv DIR`
    fake_python.chmod(0o755)
    homes = []
    for _ in range(2):
        outputs = tmp_path / "out"
        outputs.unlink(missing_ok=True)
        script = head + 'mkdir "$home/report"\necho "reports=$home/report" >> "$GITHUB_OUTPUT"\n'
        env = {"RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(outputs),
               "DRIFTCLI_PYTHON": str(fake_python), "PATH": os.environ["PATH"]}  # fmt: skip
        subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                       env=env, check=True)  # fmt: skip
        homes.append(outputs.read_text().strip())
    assert homes[0] != homes[1] and all(Path(h.split("=", 1)[1]).is_dir() for h in homes)


def test_drift_fails_the_step_with_a_summary_junit_and_html(tmp_path: Path) -> None:
    run = run_check(tmp_path, live="sample_data/live_drift.parquet", ref="sample_data/ref.parquet")
    assert run.code == 1, run.stderr
    assert run.outputs["exit-code"] == "1"
    assert "::error title=driftcli::drift found" in run.stdout
    assert "DRIFT: 3 of 5 features drifted" in run.stdout  # the table, in the log
    assert run.summary.startswith(
        "### driftcli: DRIFT (3 of 5 features drifted, 3 failed a data-quality rule)"
    )
    assert "histogram ref / live" in run.summary
    suite = ET.parse(run.outputs["junit"]).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "6"  # drift, and quality, of 3
    html = Path(run.outputs["html"]).read_text(encoding="utf-8")
    assert html.count('<svg class="chart"') == 5
    assert Path(run.outputs["markdown"]).read_text().startswith("### driftcli: DRIFT")
    # The upload step takes what the check wrote.
    uploaded = Path(evaluate(STEPS["Upload the report"]["with"]["path"], {}, tmp_path / "runner"))
    assert uploaded == Path(run.outputs["html"]).parent
    assert {p.name for p in uploaded.iterdir()} == {"driftcli.xml", "driftcli.html", "driftcli.md"}


def test_no_drift_passes(tmp_path: Path) -> None:
    run = run_check(tmp_path, live="sample_data/live_ok.parquet", ref="sample_data/ref.parquet")
    assert run.code == 0, run.stderr
    assert run.outputs["exit-code"] == "0" and "::error" not in run.stdout
    assert run.summary.startswith("### driftcli: no drift (0 of 5 features drifted)")
    assert Path(run.outputs["html"]).is_file()


def test_trouble_fails_the_step_with_exit_2(tmp_path: Path) -> None:
    run = run_check(tmp_path, live="no/such.parquet", ref="sample_data/ref.parquet")
    assert run.code == 2
    assert run.outputs["exit-code"] == "2"
    assert "error: no/such.parquet: no such file" in run.stderr
    assert "::error title=driftcli::driftcli could not check (exit 2)" in run.stdout
    assert run.summary.startswith("### driftcli: could not check (exit 2)")
    # No report was written, so no output names one for a later step to read.
    assert not {"html", "junit", "markdown"} & set(run.outputs)


def test_threshold_metric_and_extra_args_reach_driftcli(tmp_path: Path) -> None:
    spaced = tmp_path / "my data" / "live.parquet"
    spaced.parent.mkdir()
    shutil.copy(ROOT / "sample_data/live_drift.parquet", spaced)
    report = tmp_path / "r.json"
    run = run_check(
        tmp_path, live=f"'{spaced}'", ref="sample_data/ref.parquet", threshold="5",
        metric="psi", args=f"--exclude 'income,device' --missing-points inf --json {report}",
    )  # fmt: skip
    assert run.code == 0, run.stderr  # no score is above 5, and the missing rule is off
    doc = json.loads(report.read_text())
    assert doc["settings"]["metric"] == "psi" and doc["settings"]["threshold"] == 5.0
    assert [f["name"] for f in doc["features"]] == ["age", "score", "country"]
    assert doc["live"]["source"] == str(spaced)


def test_inputs_are_never_run_as_shell(tmp_path: Path) -> None:
    planted = tmp_path / "planted"
    run = run_check(
        tmp_path, live="sample_data/live_ok.parquet", ref="sample_data/ref.parquet",
        args=f"$(touch {planted}) `touch {planted}`",
    )  # fmt: skip
    assert not planted.exists()
    assert run.code == 2  # driftcli was handed the words themselves, and refused them


@pytest.mark.parametrize("given", [{"args": "--exclude 'x"}, {"live": '"live.parquet'}])
def test_inputs_the_shell_cannot_split_still_set_the_outputs_and_the_summary(
    tmp_path: Path, given: dict[str, str]
) -> None:
    inputs = {"live": "sample_data/live_ok.parquet", "ref": "sample_data/ref.parquet"} | given
    run = run_check(tmp_path, **inputs)
    assert run.code == 2 and "driftcli action: cannot split" in run.stderr
    assert run.outputs["exit-code"] == "2"  # as docs/ci.md promises a later step
    assert "::error title=driftcli::driftcli could not check (exit 2)" in run.stdout
    assert run.summary.startswith("### driftcli: could not check (exit 2)")
    assert not {"html", "junit", "markdown"} & set(run.outputs)


def test_ci_docs_show_a_workflow_using_the_action() -> None:
    ci = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", ci, re.S)
    workflows = [yaml.safe_load(b) for b in blocks if "driftcli" in b and "uses:" in b]
    steps = [s for w in workflows for job in w["jobs"].values() for s in job["steps"]]
    ours = [s for s in steps if "driftcli" in str(s.get("uses", ""))]
    assert ours, "docs/ci.md has no workflow step that uses the action"
    for step in ours:
        assert set(step.get("with", {})) <= set(ACTION["inputs"]), step
