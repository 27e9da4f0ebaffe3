"""The pure parts of running on a Spark cluster: the code zip the executors get
(common/spark.py) and the master's and workers' command lines and health rule
(services/spark_cluster.py). The real cluster: tests/e2e/test_spark_cluster.py."""
from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from common import spark as cspark
from common.config import REPO_ROOT, Settings
from services import spark_cluster
from services.system import cmdline_matches


def names_in(payload: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(payload)).namelist()


def test_the_zip_holds_the_packages_under_their_import_names():
    names = names_in(cspark.code_zip_bytes())
    assert {n.split("/")[0] for n in names} == {"common", "stage1", "stage2", "stage3", "stage4"}
    for module in ("common/config.py", "common/spark.py", "stage2/__init__.py", "stage2/enrich.py",
                   "stage2/interest.py", "stage3/offers.py", "stage1/shipper.py"):
        assert module in names, module
    assert not [n for n in names if "__pycache__" in n or "node_modules" in n or ".stage" in n]
    assert all(n.endswith(".py") for n in names)          # no Kibana files, no Node code


def test_the_zip_follows_pyprojects_package_dirs():
    assert cspark.code_packages() == {"common": REPO_ROOT / "common", "stage1": REPO_ROOT / "00.stage1",
                                      "stage2": REPO_ROOT / "01.stage2", "stage3": REPO_ROOT / "02.stage3",
                                      "stage4": REPO_ROOT / "03.stage4"}


def test_the_same_code_gives_the_same_zip_and_file(tmp_path):
    assert cspark.code_zip_bytes() == cspark.code_zip_bytes()
    s = Settings(runtime_dir=tmp_path)
    first = cspark.build_code_zip(s)
    assert first == cspark.build_code_zip(s) and first.parent == tmp_path / "spark-cluster" / "pyfiles"
    assert first.name.startswith("workshop-") and first.read_bytes() == cspark.code_zip_bytes()


def test_the_zip_alone_imports_the_stages(tmp_path):
    """Without site-packages (-S: no editable install) and outside the repository,
    the stages import from the zip."""
    zip_path = cspark.build_code_zip(Settings(runtime_dir=tmp_path))
    out = subprocess.run([sys.executable, "-S", "-c", "import common, stage1, stage2, stage3, stage4; "
                          "print(stage2.__file__)"], env={"PYTHONPATH": str(zip_path)},
                         cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{zip_path}/stage2/__init__.py"


@pytest.mark.parametrize("master,local", [("local[2]", True), ("local", True), ("local[*]", True),
                                          ("spark://127.0.0.1:7077", False), ("yarn", False)])
def test_local_masters(master, local):
    assert cspark.is_local(master) is local


def test_cluster_conf_sizes_executors_and_forwards_settings_but_no_secrets():
    s = Settings(spark_executor_memory="700m", spark_executor_cores=1, index_stage2="t_x_enriched",
                 es_password="hunter2", es_username="elastic", es_api_key="k3y")
    conf = cspark.cluster_conf(s)
    assert conf["spark.executor.memory"] == "700m" and conf["spark.executor.cores"] == "1"
    assert conf["spark.pyspark.python"] == sys.executable            # default: this venv's python
    assert conf["spark.executorEnv.INDEX_STAGE2"] == "t_x_enriched"
    assert not [k for k in conf if any(x in k for x in ("ES_PASSWORD", "ES_API_KEY", "ES_USERNAME"))]
    assert "hunter2" not in conf.values() and "k3y" not in conf.values()
    other = cspark.cluster_conf(Settings(spark_executor_python="/opt/py/bin/python3"))
    assert other["spark.pyspark.python"] == "/opt/py/bin/python3"


def test_master_and_worker_command_lines(tmp_path):
    s = Settings(runtime_dir=tmp_path, spark_master_port=17077, spark_master_webui_port=18088,
                 spark_worker_cores=1, spark_worker_memory="900m")
    m = spark_cluster.master_command(s)
    assert m[0].endswith("pyspark/bin/spark-class") and m[1] == spark_cluster.MASTER_CLASS
    assert " --host 127.0.0.1 --port 17077 --webui-port 18088 " in " ".join(m) + " "
    w = spark_cluster.worker_command(s, 2, tmp_path / "w2")
    joined = " ".join(w)
    assert w[1] == spark_cluster.WORKER_CLASS and w[-1] == "spark://127.0.0.1:17077"
    assert f"--cores 1 --memory 900m --work-dir {tmp_path / 'w2'} --webui-port 0" in joined
    assert spark_cluster.status_url(s) == "http://127.0.0.1:18088/json/"


def test_pid_files_are_trusted_only_for_this_runtimes_daemons(tmp_path):
    """A pid is signalled only if its command line is that daemon's, of this runtime folder."""
    s, other = Settings(runtime_dir=tmp_path / "a"), Settings(runtime_dir=tmp_path / "b")
    java = "/usr/bin/java -cp x -Xmx256m "
    worker1 = java + " ".join(spark_cluster.worker_command(s, 1, tmp_path / "w1")[1:])
    assert cmdline_matches(worker1, spark_cluster.worker(s, 1).markers())
    assert not cmdline_matches(worker1, spark_cluster.worker(s, 2).markers())
    assert not cmdline_matches(worker1, spark_cluster.worker(other, 1).markers())
    assert not cmdline_matches(worker1, spark_cluster.master(s).markers())
    master = java + " ".join(spark_cluster.master_command(s)[1:])
    assert cmdline_matches(master, spark_cluster.master(s).markers())


def test_daemons_run_apart_from_any_application(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARK_MASTER", "spark://elsewhere:7077")
    monkeypatch.setenv("PYSPARK_PYTHON", "/somewhere/python")
    s = Settings(runtime_dir=tmp_path, spark_daemon_memory="300m")
    env = spark_cluster.daemon_env(s, tmp_path / "w1")
    assert env["SPARK_DAEMON_MEMORY"] == "300m" and env["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert env["SPARK_WORKER_DIR"] == str(tmp_path / "w1")
    assert env["SPARK_LOCAL_DIRS"] == str(tmp_path / "w1" / "tmp")
    assert "SPARK_MASTER" not in env and "PYSPARK_PYTHON" not in env
    assert [d.name for d in spark_cluster.daemons(s)] == ["spark-master", "spark-worker-1", "spark-worker-2"]


def test_healthy_means_every_worker_alive():
    alive = {"state": "ALIVE"}
    assert spark_cluster.alive_workers(None) == 0
    assert spark_cluster.alive_workers({"status": "STANDBY", "workers": [alive, alive]}) == 0
    assert spark_cluster.alive_workers({"status": "ALIVE", "workers": [alive, {"state": "DEAD"}]}) == 1
    assert spark_cluster.alive_workers({"status": "ALIVE", "workers": [alive, alive]}) == 2


def test_worker_dirs_must_match_the_worker_count(tmp_path):
    with pytest.raises(spark_cluster.ServiceError, match="3 worker folders"):
        spark_cluster.up(Settings(runtime_dir=tmp_path), worker_dirs=[Path("a"), Path("b"), Path("c")])
