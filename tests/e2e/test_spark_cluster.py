"""Stages 2 and 3 on a real Spark standalone cluster, with the same results as in local mode.

One cluster for the module (services/spark_cluster.py: a master and two 1-core
workers, on free ports, with a private runtime folder), each worker in its own
working directory outside the repository. The executors run a Python that
imports pyspark, pandas, pyarrow, redis and elasticsearch but NOT this project
(a virtual environment whose .pth lists the main one's site-packages: the
editable install's finder there is not loaded), so the stages only work if
common/spark.py ships the code. Then:

* stage 2, bounded (run_stage2 --max-events ... --rate 1000): test_stage2's own
  checks (every play indexed once, the pandas-joined oracle, the dead letters),
  and the interest list equal to the pandas oracle;
* stage 3, bounded: test_stage3's own checks (one SMS per target and day, the
  flags on the documents);
* and each time: the application ran on the master, its executors' logs are in
  both worker folders and the executors' Python started there.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

from common.config import Settings
from common.schema import EVENT_COLUMNS
from services import spark_cluster
from tests.e2e import test_stage2 as local_stage2
from tests.e2e import test_stage3 as local_stage3
from tests.e2e.test_stage2 import isolated  # noqa: F401  (fixture: stage 2's isolated names)
from tests.e2e.test_stage3 import stage3  # noqa: F401    (fixture: stage 3's isolated names)
from tests.integration.test_streaming_job import pandas_interest_oracle

pytestmark = pytest.mark.e2e

# Imported by the executors' Python at its start: says where and as what it started.
SITECUSTOMIZE = """import os
with open("/proc/self/cmdline", "rb") as cmd, open({log!r}, "a") as fh:
    fh.write(os.getcwd() + "\\t" + cmd.read().replace(b"\\0", b" ").decode() + "\\n")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def executor_python(root: Path) -> tuple[Path, Path]:
    """A virtual environment that imports the main one's packages but not the project;
    returns its python and the log where it notes each start."""
    venv = root / "executor-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # a path line in a .pth goes on sys.path; the .pth files inside it (the editable install's) are not read
    (purelib / "workshop_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    starts = root / "python-starts.log"
    (purelib / "sitecustomize.py").write_text(SITECUSTOMIZE.format(log=str(starts)))
    return python, starts


@pytest.fixture(scope="module")
def cluster(engines, tmp_path_factory):
    root = tmp_path_factory.mktemp("spark-cluster")
    python, starts = executor_python(root)
    s = Settings(runtime_dir=root / "runtime", spark_master_port=free_port(), spark_master_webui_port=free_port())
    workers = [root / "worker-1", root / "worker-2"]
    try:
        spark_cluster.up(s, worker_dirs=workers)
        yield {"settings": s, "python": python, "starts": starts, "workers": workers, "root": root,
               "env": {"SPARK_MASTER": spark_cluster.master_url(s), "SPARK_EXECUTOR_PYTHON": str(python)}}
    finally:
        spark_cluster.down(s)


def test_the_executors_python_cannot_import_the_project(cluster):
    deps = subprocess.run([str(cluster["python"]), "-c", "import pyspark, pandas, pyarrow, redis, elasticsearch"],
                          cwd=cluster["root"], capture_output=True, text=True)
    assert deps.returncode == 0, deps.stderr
    for package in ("common", "stage2", "stage3"):
        own = subprocess.run([str(cluster["python"]), "-c", f"import {package}"], cwd=cluster["root"],
                             capture_output=True, text=True)
        assert own.returncode != 0 and "ModuleNotFoundError" in own.stderr, package
    state = spark_cluster.cluster_state(cluster["settings"])
    assert spark_cluster.alive_workers(state) == 2 and state["cores"] == 2
    assert {w["host"] for w in state["workers"]} == {"127.0.0.1"}


def ran_on_the_workers(cluster, app_name: str, apps_before: int) -> None:
    """The application ran on the cluster: the master lists it, each worker folder holds
    its executor's log, and the executors' Python started in each worker folder."""
    state = spark_cluster.cluster_state(cluster["settings"])
    apps = state["completedapps"] + state["activeapps"]
    assert len(apps) > apps_before and app_name in {a["name"] for a in apps}
    app_id = max((a for a in apps if a["name"] == app_name), key=lambda a: a["starttime"])["id"]
    starts = cluster["starts"].read_text().splitlines()
    for work_dir in cluster["workers"]:
        logs = list((work_dir / app_id).glob("*/stderr"))
        assert logs, f"no executor of {app_id} in {work_dir}"
        assert "Successfully registered with driver" in logs[0].read_text()
        where = [line for line in starts if line.startswith(str(work_dir / app_id))]
        assert any("pyspark.daemon" in line or "pyspark.worker" in line for line in where), (work_dir, starts)


def test_stage2_on_the_cluster_matches_local_mode(cluster, isolated, tmp_path):  # noqa: F811
    s, env = isolated
    before = len(spark_cluster.cluster_state(cluster["settings"])["completedapps"])
    # test_stage2's own bounded run and checks, with the job's executors on the cluster
    local_stage2.test_bounded_stage2_run_matches_the_pandas_oracle((s, {**env, **cluster["env"]}), tmp_path)

    # the interest list (stateful, on the executors) equals the pandas oracle of the plays replayed
    from common.events import Rejected, parse_event
    lines = [line for line in (tmp_path / "live.csv").read_text().splitlines()
             if not isinstance(parse_event(line), Rejected)]
    events = pd.DataFrame([line.split(",") for line in lines], columns=EVENT_COLUMNS)
    events = events.astype({"customer_id": int, "track_id": int}).assign(
        datetime=pd.to_datetime(events["datetime"]))
    expected = pandas_interest_oracle(events, s.interest_min_plays, f"{s.interest_window_minutes}min")
    interest = local_stage2.docs_of(s, s.index_interest)
    assert len(expected) >= 3
    assert {r["_id"]: (r["first_play"], r["last_play"], r["plays"]) for r in interest.to_dict("records")} == expected
    ran_on_the_workers(cluster, "stage2-streaming", before)


def test_stage3_on_the_cluster_matches_local_mode(cluster, stage3):  # noqa: F811
    s, env, tmp = stage3
    before = len(spark_cluster.cluster_state(cluster["settings"])["completedapps"])
    # test_stage3's own bounded run and checks (SMS per target and day, document flags)
    local_stage3.test_targets_get_one_sms_per_day_and_documents_are_flagged((s, {**env, **cluster["env"]}, tmp))
    ran_on_the_workers(cluster, "stage3-streaming", before)
