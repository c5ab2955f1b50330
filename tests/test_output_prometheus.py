"""`--metrics FILE`: the Prometheus text format, read back with prometheus_client's own parser."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftcli.choices import Kind
from driftcli.output.prometheus import CheckRun, escape_label, render_metrics
from driftcli.records import IngestReport
from driftcli.results import CheckResult, Decision, FeatureResult, SourceInfo, Status, Verdict
from driftcli.settings import Settings
from tests.conftest import ROOT, SAMPLE, run_driftcli

REF = str(SAMPLE / "ref.parquet")
LIVE_DRIFT = str(SAMPLE / "live_drift.csv")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a metrics text, by name and labels, as Prometheus parses it."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def feature(name: str, status: Status, score: float | None = 0.5) -> FeatureResult:
    return FeatureResult(
        name=name,
        kind=Kind.NUMERIC,
        status=status,
        score=score,
        p_value=None if score is None else 1e-9,
        threshold=0.1,
        min_rows=10,
        labels=("a", "b", "missing", "invalid"),
        reference=np.array([50, 50, 0, 0]),
        live=np.array([20, 80, 0, 0]),
    )


def result(*features: FeatureResult) -> CheckResult:
    drift = any(f.drift for f in features)
    return CheckResult(
        features=list(features),
        reference=SourceInfo("ref.parquet", "parquet", 100),
        live=SourceInfo("live.csv", "csv", 100),
        settings=Settings(),
        decision=Decision(Verdict.DRIFT if drift else Verdict.NO_DRIFT, "rule"),
    )


def test_every_feature_gets_its_score_threshold_p_value_drift_and_rows() -> None:
    run = CheckRun(
        result(feature("income", Status.DRIFT), feature("age", Status.OK)), "live", 1e9, 0.25
    )
    found = samples(render_metrics(run))
    income = (("feature", "income"), ("metric", "kl"), ("window", "live"))
    assert found[("driftcli_feature_score", income)] == 0.5
    assert found[("driftcli_feature_threshold", income)] == 0.1
    at = (("feature", "income"), ("window", "live"))
    assert found[("driftcli_feature_p_value", at)] == 1e-9
    assert found[("driftcli_feature_drift", at)] == 1
    assert found[("driftcli_feature_drift", (("feature", "age"), ("window", "live")))] == 0
    assert found[("driftcli_feature_rows", at)] == 100
    assert found[("driftcli_feature_status", (*at[:1], ("status", "drift"), at[1]))] == 1
    assert found[("driftcli_feature_status", (*at[:1], ("status", "ok"), at[1]))] == 0
    assert found[("driftcli_check_timestamp_seconds", (("window", "live"),))] == 1e9
    assert found[("driftcli_check_duration_seconds", (("window", "live"),))] == 0.25
    assert found[("driftcli_check_drift", (("window", "live"),))] == 1


def test_every_status_counting_as_drift_sets_the_drift_gauge() -> None:
    for status in Status:
        text = render_metrics(CheckRun(result(feature("f", status)), "live", 0, 0))
        gauge = samples(text)[("driftcli_feature_drift", (("feature", "f"), ("window", "live")))]
        assert gauge == float(status.is_drift)


def test_a_feature_without_a_score_has_no_score_sample_rather_than_a_zero() -> None:
    text = render_metrics(CheckRun(result(feature("gone", Status.MISSING, None)), "live", 0, 0))
    names = {name for name, _ in samples(text)}
    assert "driftcli_feature_score" not in names
    assert "driftcli_feature_drift" in names


@pytest.mark.parametrize("name", ['say "hi"', "back\\slash", "two\nlines", "ünï", "a,b=c}"])
def test_any_feature_name_is_an_escaped_label(name: str) -> None:
    text = render_metrics(CheckRun(result(feature(name, Status.OK)), 'w"in', 0, 0))
    labels = dict(next(k for k in samples(text) if k[0] == "driftcli_feature_drift")[1])
    assert labels == {"feature": name, "window": 'w"in'}
    assert "\n" not in escape_label(name)


def test_an_ingest_reports_rows_read_skipped_and_stored() -> None:
    report = IngestReport(rows_read=120, rows_stored=110, skipped_lines=10, window_rows=110)
    found = samples(render_metrics(None, report, "live"))
    at = (("window", "live"),)
    assert found[("driftcli_ingest_rows_read_total", at)] == 120
    assert found[("driftcli_ingest_lines_skipped_total", at)] == 10
    assert found[("driftcli_ingest_rows_stored_total", at)] == 110
    assert found[("driftcli_ingest_window_rows", at)] == 110


def test_check_writes_the_metrics_file_and_exit_code_is_unchanged(tmp_path: Path) -> None:
    metrics = tmp_path / "driftcli.prom"
    ran = run_driftcli("check", LIVE_DRIFT, "--ref", REF, "--metrics", metrics, cwd=tmp_path)
    assert ran.returncode == 1
    found = samples(metrics.read_text())
    assert found[("driftcli_check_drift", (("window", LIVE_DRIFT),))] == 1
    assert oct(metrics.stat().st_mode & 0o777) != oct(0o600)  # readable by a collector
    assert [p.name for p in tmp_path.iterdir()] == ["driftcli.prom"]  # no temporary left


def test_a_metrics_file_that_cannot_be_written_is_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "driftcli.prom"
    ran = run_driftcli("check", LIVE_DRIFT, "--ref", REF, "--metrics", target, cwd=tmp_path)
    assert ran.returncode == 1
    assert b"warning: --metrics" in ran.stderr


def test_a_config_found_in_the_directory_may_not_choose_the_metrics_file(tmp_path: Path) -> None:
    (tmp_path / "driftcli.toml").write_text('metrics = "elsewhere.prom"\n')
    ran = run_driftcli("check", LIVE_DRIFT, "--ref", REF, cwd=tmp_path)
    assert ran.returncode == 2
    assert not (tmp_path / "elsewhere.prom").exists()


REWRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from pathlib import Path
    from driftcli.cli.monitor import replace_file
    target = Path(sys.argv[1])
    deadline = time.monotonic() + float(sys.argv[3])
    i = 0
    while time.monotonic() < deadline:
        # Bodies of very different sizes: a torn read would show.
        lines = "".join(f'driftcli_x{{n="{j}"}} {i}\\n' for j in range(1 + (i % 7) * 500))
        replace_file(target, "# TYPE driftcli_x gauge\\n" + lines)
        i += 1
    """
)


def test_a_reader_never_sees_a_partial_file_while_another_process_rewrites_it(
    tmp_path: Path,
) -> None:
    target = tmp_path / "driftcli.prom"
    target.write_text('# TYPE driftcli_x gauge\ndriftcli_x{n="0"} 0\n')
    writer = subprocess.Popen([sys.executable, "-c", REWRITER, str(target), str(ROOT), "3"])
    reads = 0
    try:
        while writer.poll() is None:
            text = target.read_text()
            found = [s for f in text_string_to_metric_families(text) for s in f.samples]
            assert len({s.value for s in found}) == 1, "the samples of one write only"
            assert len(found) % 500 == 1, "every sample of that write"
            reads += 1
    finally:
        writer.wait(timeout=30)
    assert writer.returncode == 0
    assert reads > 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["driftcli.prom"]


def test_ingest_writes_its_counts_and_its_latest_check(tmp_path: Path) -> None:
    store, metrics = tmp_path / "store", tmp_path / "ingest.prom"
    assert run_driftcli("reference", REF, "--store", store, cwd=tmp_path).returncode == 0
    live = (SAMPLE / "live_drift.csv").read_bytes()
    rows = live.count(b"\n") - 1
    ran = run_driftcli(
        "ingest", "-", "--store", store, "--check-every", "200", "--metrics", metrics,
        "--window-size", "100000", cwd=tmp_path, input=live,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stderr.decode()
    found = samples(metrics.read_text())
    at = (("window", "live"),)
    assert found[("driftcli_ingest_rows_read_total", at)] == rows
    assert found[("driftcli_ingest_rows_stored_total", at)] == rows
    assert found[("driftcli_check_drift", at)] == 1
    assert found[("driftcli_check_rows", at)] == rows - rows % 200


def test_a_metrics_file_read_while_a_following_ingest_rewrites_it_is_always_whole(
    tmp_path: Path,
) -> None:
    """A real `ingest --follow --check-every --metrics` rewrites the file at every check
    while a log is written by another process; every read, parsed by Prometheus' own
    parser, is one whole exposition, and the counts only grow."""
    from tests.test_inputs_follow import follower, stop

    store, log, metrics = tmp_path / "store", tmp_path / "app.log", tmp_path / "driftcli.prom"
    assert run_driftcli("reference", REF, "--store", store, cwd=tmp_path).returncode == 0
    lines = (SAMPLE / "live_drift.jsonl").read_text().splitlines(keepends=True)
    writer = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(log), str(SAMPLE / "live_drift.jsonl"), "4"]
    )
    process = follower(store, log, "--check-every", "50", "--metrics", str(metrics))
    seen: list[float] = []
    texts = set()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and (not seen or seen[-1] < 4 * len(lines)):
            if not metrics.exists():
                time.sleep(0.05)
                continue
            text = metrics.read_text()
            found = samples(text)
            at = (("window", "live"),)
            # The last series written: a torn read would lack it.
            assert ("driftcli_ingest_window_rows", at) in found, text[-300:]
            assert ("driftcli_check_timestamp_seconds", at) in found
            seen.append(found[("driftcli_ingest_rows_read_total", at)])
            texts.add(text)
    finally:
        writer.wait(timeout=60)
        err = stop(process)
    assert seen and seen[-1] == 4 * len(lines), err.decode()[-2000:]
    assert seen == sorted(seen)
    assert len(texts) > 5  # read while it was being rewritten, not once at the end
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".log") == [
        "driftcli.prom",
        "store",
    ]


APPENDER = textwrap.dedent(
    """
    import sys, time
    log, source, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lines = open(source).read().splitlines(keepends=True)
    with open(log, "a") as out:
        for _ in range(times):
            for start in range(0, len(lines), 25):
                out.write("".join(lines[start : start + 25]))
                out.flush()
                time.sleep(0.02)
    """
)


def test_metrics_to_dash_is_a_usage_error_not_a_file_named_dash(tmp_path: Path) -> None:
    ran = run_driftcli("check", LIVE_DRIFT, "--ref", REF, "--metrics", "-", cwd=tmp_path)
    assert ran.returncode == 2
    assert b"--metrics -: the metrics take a file path" in ran.stderr
    assert list(tmp_path.iterdir()) == []


def test_metrics_to_a_named_pipe_are_written_into_it_not_renamed_over_it(tmp_path: Path) -> None:
    import os
    import stat
    import threading

    pipe = tmp_path / "metrics.fifo"
    os.mkfifo(pipe)
    read: list[str] = []
    reader = threading.Thread(target=lambda: read.append(pipe.read_text()))
    reader.start()
    ran = run_driftcli("check", LIVE_DRIFT, "--ref", REF, "--metrics", pipe, cwd=tmp_path)
    reader.join(timeout=60)
    assert ran.returncode == 1, ran.stderr.decode()
    assert b"warning" not in ran.stderr
    assert samples(read[0])[("driftcli_check_drift", (("window", LIVE_DRIFT),))] == 1
    assert stat.S_ISFIFO(pipe.stat().st_mode)


def test_the_prometheus_parser_is_a_dev_dependency_not_a_users() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = {
        extra: {req.split(">")[0].split("[")[0] for req in reqs}
        for extra, reqs in project["optional-dependencies"].items()
    }
    assert "prometheus_client" in named["dev"]
    assert not any("prometheus_client" in names for extra, names in named.items() if extra != "dev")
    assert not any(req.startswith("prometheus") for req in project["dependencies"])


def test_a_sliced_check_s_metrics_and_hook_say_the_drifted_slice_the_exit_code_says(
    tmp_path: Path,
) -> None:
    """Income moves in DE only: the whole check is no drift, the sliced check drift (exit 1).
    The metrics' verdict is the exit code's, each slice has its series, and the hook hears
    which feature drifted and where."""
    from tests.conftest import write_table
    from tests.test_api_slices import people

    write_table(people(20_000, 1), tmp_path / "ref.parquet")
    write_table(people(10_000, 3, {"DE": 0.6}), tmp_path / "de.csv")
    metrics, seen = tmp_path / "driftcli.prom", tmp_path / "hook.txt"
    hook = f"{sys.executable} -c \"import os; open('{seen}', 'w').write(' '.join("
    hook += "os.environ[n] for n in ('DRIFTCLI_VERDICT', 'DRIFTCLI_DRIFTED', "
    hook += "'DRIFTCLI_DRIFTED_SLICES')))\""
    args = ["check", "de.csv", "--ref", "ref.parquet", "--slice", "country"]
    ran = run_driftcli(*args, "--metrics", metrics, "--on-drift", hook, cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr.decode()
    found = samples(metrics.read_text())
    at = (("window", "de.csv"),)
    assert found[("driftcli_check_drift", at)] == 1
    assert found[("driftcli_check_verdict", (("verdict", "drift"), *at))] == 1
    assert found[("driftcli_check_drifted_features", at)] == 0  # the whole check's
    assert found[("driftcli_check_drifted_slices", at)] == 1
    slices = {dict(k[1])["slice"]: v for k, v in found.items() if k[0] == "driftcli_slice_drift"}
    assert slices == {"DE": 1, "FR": 0, "US": 0, "IT": 0, "ES": 0}
    rows = sum(v for k, v in found.items() if k[0] == "driftcli_slice_rows")
    assert rows == 10_000
    cells = {
        (dict(k[1])["slice"], dict(k[1])["feature"]): v
        for k, v in found.items()
        if k[0] == "driftcli_slice_feature_drift"
    }
    assert [cell for cell, drift in cells.items() if drift] == [("DE", "income")]
    assert seen.read_text() == "drift income DE"
    unsliced = run_driftcli("check", "de.csv", "--ref", "ref.parquet", "--metrics", metrics,
                            cwd=tmp_path)  # fmt: skip
    assert unsliced.returncode == 0
    assert not [k for k in samples(metrics.read_text()) if "slice" in k[0]]
