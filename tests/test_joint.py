"""Joint drift (`--joint`): a relation between features that changed while every
marginal stayed is drift, evident and material, with the features that carry it; by
the numpy quadratic discriminant (the default, no extra) or gradient boosting."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.conftest import ROOT, run_driftcli, write_table

needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="needs the driftcli[joint] extra"
)


def correlated(rows: int, rho: float, seed: int) -> pa.Table:
    """Two standard normals correlated `rho`, and a categorical column that never moves."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(rows)
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(rows)
    plan = rng.choice(np.array(["free", "pro", "team"]), rows)
    return pa.table({"x": x, "y": y, "plan": plan})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("joint")
    return {
        "ref": write_table(correlated(5000, 0.8, 1), where / "ref.parquet"),
        "flipped": write_table(correlated(5000, -0.8, 2), where / "flipped.csv"),
        "same": write_table(correlated(5000, 0.8, 3), where / "same.csv"),
    }


def check_json(files: dict[str, Path], live: str, *more: str) -> tuple[int, dict]:
    done = run_driftcli(
        "check", files[live], "--ref", files["ref"], "--joint", "--format", "json", *more,
        cwd=files["ref"].parent,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr.decode()
    return done.returncode, json.loads(done.stdout)


def test_a_flipped_correlation_is_joint_drift_and_no_feature_drift(files: dict[str, Path]) -> None:
    code, report = check_json(files, "flipped")
    assert code == 1
    assert [f["status"] for f in report["features"]] == ["ok", "ok", "ok"]
    joint = report["joint"]
    assert joint["drift"] is True and joint["status"] == "drift"
    assert joint["score"] > 0.8 and joint["threshold"] == 0.62
    assert joint["score_lower"] < joint["score"] < joint["score_upper"]
    assert joint["score_upper"] - joint["score_lower"] < 0.03
    assert joint["small"] is False and joint["reason"] is None
    assert joint["p_value"] < 1e-10
    assert "quadratic discriminant" in joint["method"] and "Mann-Whitney" in joint["method"]
    assert {c["feature"] for c in joint["contributors"][:2]} == {"x", "y"}
    assert all(c["importance"] > 0.1 for c in joint["contributors"][:2])
    assert report["decision"]["rule"] == "the features' joint distribution drifted (--joint)"


def test_without_joint_the_flip_is_not_seen_and_there_is_no_joint_section(
    files: dict[str, Path],
) -> None:
    done = run_driftcli(
        "check",
        files["flipped"],
        "--ref",
        files["ref"],
        "--format",
        "json",
        cwd=files["ref"].parent,
    )
    assert done.returncode == 0
    assert "joint" not in json.loads(done.stdout)


@pytest.mark.parametrize("seed", [3, 11, 12])
def test_no_change_is_no_joint_drift(tmp_path: Path, files: dict[str, Path], seed: int) -> None:
    live = write_table(correlated(3000, 0.8, seed), tmp_path / "live.csv")
    done = run_driftcli(
        "check", live, "--ref", files["ref"], "--joint", "--format", "json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout.decode()
    joint = json.loads(done.stdout)["joint"]
    assert joint["status"] == "ok" and joint["drift"] is False
    assert abs(joint["score"] - 0.5) < 0.05


def test_joint_from_the_config_file_and_in_the_table(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    (tmp_path / "driftcli.toml").write_text("joint = true\n")
    done = run_driftcli("check", files["flipped"], "--ref", files["ref"], cwd=tmp_path)
    assert done.returncode == 1
    text = done.stdout.decode()
    assert re.search(
        r"joint: drift: AUC 0\.[89]\d\d \(0\.\d{3} to 0\.\d{3}, material from 0\.62\)", text
    )
    assert "moved together: " in text


def test_an_evident_change_below_the_threshold_is_ok_and_small_with_its_reason(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal(5000)
    nudged = correlated(5000, 0.8, 4).set_column(0, "x", pa.array(x + 0.2))
    live = write_table(
        nudged.set_column(1, "y", pa.array(0.8 * x + 0.6 * rng.standard_normal(5000))),
        tmp_path / "live.parquet",
    )
    code, report = check_json({**files, "live": live}, "live")
    assert code == 0  # nothing material: not the joint change, nor any feature's
    joint = report["joint"]
    assert joint["status"] == "ok" and joint["small"] is True and joint["drift"] is False
    assert joint["p_value"] < 0.005 and joint["score_upper"] < 0.62
    assert joint["reason"].startswith("small: the joint change is evident (p ")
    assert joint["contributors"] == []
    done = run_driftcli("check", live, "--ref", files["ref"], "--joint", cwd=tmp_path)
    assert "; small: the joint change is evident" in done.stdout.decode()


def test_live_rows_from_stdin(files: dict[str, Path]) -> None:
    done = run_driftcli(
        "check", "-", "--ref", files["ref"], "--joint", "--format", "json",
        cwd=files["ref"].parent, input=files["flipped"].read_bytes(),
    )  # fmt: skip
    assert done.returncode == 1
    assert json.loads(done.stdout)["joint"]["drift"] is True


@pytest.mark.parametrize("output", ["markdown", "html"])
def test_markdown_and_html_say_it(files: dict[str, Path], output: str) -> None:
    done = run_driftcli(
        "check", files["flipped"], "--ref", files["ref"], "--joint", "--format", output,
        cwd=files["ref"].parent,
    )  # fmt: skip
    assert done.returncode == 1
    assert re.search(
        r"joint: drift: AUC 0\.\d{3} \(0\.\d{3} to 0\.\d{3}, material", done.stdout.decode()
    )


def test_a_stored_window(tmp_path: Path, files: dict[str, Path]) -> None:
    for command in (["reference", files["ref"]], ["ingest", files["flipped"]]):
        assert run_driftcli(*command, cwd=tmp_path).returncode == 0
    done = run_driftcli("check", "--joint", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr.decode()
    assert json.loads(done.stdout)["joint"]["drift"] is True


def test_boosting_without_scikit_learn_is_exit_2_with_the_extra_to_install(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    # A package named sklearn that fails to import stands for one not installed.
    (tmp_path / "sklearn").mkdir()
    (tmp_path / "sklearn" / "__init__.py").write_text("raise ImportError('no sklearn')\n")
    done = run_driftcli(
        "check", files["flipped"], "--ref", files["ref"], "--joint",
        "--joint-method", "boosting",
        cwd=tmp_path, env={"PYTHONPATH": f"{tmp_path}:{ROOT}"},
    )  # fmt: skip
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "--joint-method boosting needs scikit-learn" in err
    assert "pip install 'driftcli[joint]'" in err and "Traceback" not in err


def test_the_default_method_needs_no_scikit_learn(tmp_path: Path, files: dict[str, Path]) -> None:
    (tmp_path / "sklearn").mkdir()
    (tmp_path / "sklearn" / "__init__.py").write_text("raise ImportError('no sklearn')\n")
    done = run_driftcli(
        "check", files["flipped"], "--ref", files["ref"], "--joint", "--format", "json",
        cwd=tmp_path, env={"PYTHONPATH": f"{tmp_path}:{ROOT}"},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr.decode()
    assert json.loads(done.stdout)["joint"]["drift"] is True


@needs_sklearn
def test_boosting_from_the_flag_and_the_config_file(tmp_path: Path, files: dict[str, Path]) -> None:
    code, report = check_json(files, "flipped", "--joint-method", "boosting")
    assert code == 1 and report["joint"]["drift"] is True
    assert "gradient boosting" in report["joint"]["method"]
    assert report["joint"]["threshold"] == 0.59
    (tmp_path / "driftcli.toml").write_text('joint = true\njoint_method = "boosting"\n')
    done = run_driftcli(
        "check", files["flipped"], "--ref", files["ref"], "--format", "json", cwd=tmp_path
    )
    assert done.returncode == 1
    assert "gradient boosting" in json.loads(done.stdout)["joint"]["method"]


def test_an_unknown_method_in_the_config_is_exit_2_naming_the_key(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    (tmp_path / "driftcli.toml").write_text('joint = true\njoint_method = "forest"\n')
    done = run_driftcli("check", files["flipped"], "--ref", files["ref"], cwd=tmp_path)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "joint_method" in err and "qda" in err and "Traceback" not in err


def test_refused_by_chunks(tmp_path: Path, files: dict[str, Path]) -> None:
    done = run_driftcli(
        "check", files["flipped"], "--ref", files["ref"], "--joint", "--chunk-rows", "1000",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2 and b"--joint" in done.stderr


def test_refused_on_the_dask_engine(files: dict[str, Path], dask: object) -> None:
    from driftcli import api
    from driftcli.errors import UsageError
    from driftcli.settings import Settings

    with pytest.raises(UsageError, match=r"^joint does not run on the dask engine"):
        api.check([str(files["flipped"])], str(files["ref"]), Settings(joint=True), engine=dask)  # type: ignore[arg-type]


def test_ingest_check_every_with_joint_from_the_config_alerts_on_a_joint_drift(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    (tmp_path / "driftcli.toml").write_text("joint = true\n")
    assert run_driftcli("reference", files["ref"], cwd=tmp_path).returncode == 0
    done = run_driftcli("ingest", files["flipped"], "--check-every", "2500", cwd=tmp_path)
    assert done.returncode == 1, done.stderr.decode()
    alerts = [a for a in done.stderr.decode().splitlines() if a.startswith("[DRIFT]")]
    # Both checks see the flip; no feature drifted, so every alert is the joint one.
    assert len(alerts) == 2
    assert all(
        a.startswith("[DRIFT] joint=") and " status=drift score=0." in a and " metric=auc " in a
        for a in alerts
    )
    assert {"x", "y"} <= set(alerts[-1].split()[1].removeprefix("joint=").split(","))
    assert alerts[-1].endswith(" window=live rows=5000")
    history = run_driftcli("history", "--format", "json", cwd=tmp_path)
    assert history.returncode == 0 and len(json.loads(history.stdout)["checks"]) == 2


def test_ingest_check_every_with_boosting_and_no_scikit_learn_stores_nothing(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    (tmp_path / "driftcli.toml").write_text('joint = true\njoint_method = "boosting"\n')
    assert run_driftcli("reference", files["ref"], cwd=tmp_path).returncode == 0
    # A module set to None in sys.modules is one Python cannot import: not installed.
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['sklearn'] = None\n")
    done = run_driftcli(
        "ingest", files["flipped"], "--check-every", "2500",
        cwd=tmp_path, env={"PYTHONPATH": f"{hide}:{ROOT}"},
    )  # fmt: skip
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "--joint-method boosting needs scikit-learn" in err and "Traceback" not in err
    status = json.loads(run_driftcli("status", "--format", "json", cwd=tmp_path).stdout)
    assert all(w["rows"] == 0 for w in status.get("windows", [])), status


def test_without_joint_nothing_about_it_in_the_ingest_alerts(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    assert run_driftcli("reference", files["ref"], cwd=tmp_path).returncode == 0
    done = run_driftcli("ingest", files["flipped"], "--check-every", "2500", cwd=tmp_path)
    assert done.returncode == 0 and b"[DRIFT]" not in done.stderr


@needs_sklearn
def test_the_boosting_classifier_runs_on_one_openmp_thread(tmp_path: Path) -> None:
    # In a fresh process: scikit-learn's OpenMP runtime is loaded by its first import,
    # and a limit set before that import reaches nothing (threads then spin on a busy host).
    script = tmp_path / "threads.py"
    script.write_text(
        "import numpy as np, pyarrow as pa\n"
        "import driftcli.scoring.joint as joint\n"
        "import driftcli.scoring.joint_models as models\n"
        "from driftcli.choices import JointMethod\n"
        "from driftcli.columns.values import TypeClass\n"
        "from driftcli.counting.buckets import Cuts, numeric_feature\n"
        "seen = []\n"
        "def watched(model, x, y, **kwargs):\n"
        "    from threadpoolctl import threadpool_info\n"
        "    info = threadpool_info()\n"
        "    seen.extend(i['num_threads'] for i in info if i['user_api'] == 'openmp')\n"
        "    return fit(model, x, y, **kwargs)\n"
        "from sklearn.ensemble import HistGradientBoostingClassifier as model\n"
        "fit, model.fit = model.fit, watched\n"
        "cuts = Cuts(edges=np.array([0.0]), values=None)\n"
        "rng = np.random.default_rng(1)\n"
        "table = lambda: pa.table({'x': rng.standard_normal(400)})\n"
        "joint.joint_test(table(), table(), [numeric_feature('x', TypeClass.NUMBER, cuts)],\n"
        "                 method=JointMethod.BOOSTING)\n"
        "print(seen)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "4"}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, check=True)
    assert json.loads(done.stdout) == [1], done.stdout


def test_refused_on_the_dask_engine_from_the_command_line_and_the_config(
    tmp_path: Path, files: dict[str, Path], cluster: str
) -> None:
    (tmp_path / "driftcli.toml").write_text("joint = true\n")
    done = run_driftcli(
        "check", files["flipped"], "--ref", files["ref"], "--engine", "dask",
        "--scheduler", cluster, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "--joint does not run on the dask engine" in err and "Traceback" not in err
    assert "local engine" in err
