"""Build the SparkSession every stage uses.

The Kafka source's jars are fetched once by ``make services-up`` (Maven, see
``services/pom.xml``) into ``.runtime/jars/spark``; they are handed to Spark with
``spark.jars`` so nothing is downloaded when a job starts.

    from common.spark import get_spark
    spark = get_spark("stage2-streaming")

On a cluster (``SPARK_MASTER=spark://host:7077``, e.g. the one ``make cluster-up``
starts) the executors are other processes, in other folders, maybe on other
machines: they get this project's code as a zip built when the session starts
(``.runtime/spark-cluster/pyfiles/workshop-<hash>.zip``: ``common`` and
``stage1``..``stage4`` under their import names), the connector jars through
``spark.jars``, their Python from ``SPARK_EXECUTOR_PYTHON`` and the driver's
settings as environment variables. In ``local[...]`` mode nothing of this is needed:
the Python workers share the driver's folder and virtual environment.
"""
from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import re
import sys
import time
import tomllib
import zipfile
from pathlib import Path

from common.config import REPO_ROOT, Settings, get_settings

_VERSIONED_JAR = re.compile(r"^(?P<artifact>.+?)-\d[\w.\-]*\.jar$")


def _artifact(jar: Path) -> str:
    m = _VERSIONED_JAR.match(jar.name)
    return m.group("artifact") if m else jar.stem


def connector_jars(settings: Settings | None = None) -> list[Path]:
    """The Kafka-source jars, minus any artifact pyspark already ships (its own
    scala-library, slf4j, lz4 ... win, so the classpath has one copy of each)."""
    import pyspark

    s = settings or get_settings()
    jar_dir = s.downloads_dir / "jars" / "spark"
    jars = sorted(jar_dir.glob("*.jar"))
    if not jars:
        raise RuntimeError(
            f"Spark's Kafka connector jars are missing in {jar_dir}. "
            "Fetch them with: make services-up  (or: python -m services fetch)")
    shipped = {_artifact(j) for j in (Path(pyspark.__file__).parent / "jars").glob("*.jar")}
    return [j for j in jars if _artifact(j) not in shipped]


# --- the log -------------------------------------------------------------------------
QUIET_LOG4J = Path(__file__).resolve().parent / "log4j2-quiet.properties"


def driver_java_options(s: Settings) -> str:
    """The driver JVM's options: the settings' own, and the project's quieter log
    configuration unless VERBOSE=1 (then Spark's default one, with all its warnings)."""
    if s.verbose or not QUIET_LOG4J.exists():
        return s.spark_driver_java_options
    return f"{s.spark_driver_java_options} -Dlog4j2.configurationFile={QUIET_LOG4J.as_uri()}".strip()


# --- the project's code for a cluster's executors -------------------------------------
SECRET_SETTINGS = ("es_api_key", "es_username", "es_password")   # never put in Spark's visible conf


def is_local(master: str) -> bool:
    """True for ``local``, ``local[2]``, ``local[*]``: executors live in the driver's process."""
    return master == "local" or master.startswith("local[")


def code_packages(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Import name -> folder of every package of the project (pyproject's package-dir:
    ``stage2`` lives in ``01.stage2``; ``common`` in ``common``)."""
    tool = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    dirs = tool.get("package-dir", {})
    names = ["common", *dirs]
    return {name: root / dirs.get(name, name) for name in names}


def code_zip_bytes(root: Path = REPO_ROOT) -> bytes:
    """A zip of the project's Python packages under their import names (``stage2/enrich.py``),
    with their package data, and nothing else (no caches, no Node modules, no tests).
    The same code gives the same bytes (fixed dates, sorted entries)."""
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"].get("package-data", {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, folder in code_packages(root).items():
            patterns = ["*.py", *data.get(name, [])]
            # top-level files only: a stage's subfolders (kibana/, public/ ...) hold no Python modules
            for f in sorted(folder.iterdir()):
                if f.is_file() and any(fnmatch.fnmatch(f.name, pat) for pat in patterns):
                    info = zipfile.ZipInfo(f"{name}/{f.name}", date_time=(2020, 1, 1, 0, 0, 0))
                    info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
                    zf.writestr(info, f.read_bytes())
    return buf.getvalue()


def build_code_zip(s: Settings) -> Path:
    """Write the code zip to ``.runtime/spark-cluster/pyfiles/workshop-<hash>.zip`` (named by
    its content, so concurrent jobs never replace a file another one ships) and return it."""
    payload = code_zip_bytes()
    folder = s.runtime_dir / "spark-cluster" / "pyfiles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"workshop-{hashlib.sha256(payload).hexdigest()[:12]}.zip"
    if not path.exists():
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        tmp.write_bytes(payload)
        os.replace(tmp, path)
        for old in folder.glob("workshop-*.zip"):          # earlier versions of the code, unused for a day
            if old != path and time.time() - old.stat().st_mtime > 86400:
                old.unlink(missing_ok=True)
    return path


def executor_python(s: Settings) -> str:
    """The executors' Python: SPARK_EXECUTOR_PYTHON, or this virtual environment's."""
    return s.spark_executor_python or sys.executable


def cluster_conf(s: Settings) -> dict[str, str]:
    """What a session on a cluster sets beyond local mode: executor size and Python, and
    the driver's settings as the executors' environment (code there that calls
    get_settings() sees the same names; the secrets stay out: they travel inside the
    tasks that need them, not in Spark's environment page)."""
    conf = {"spark.executor.memory": s.spark_executor_memory, "spark.executor.cores": str(s.spark_executor_cores),
            "spark.pyspark.python": executor_python(s),
            "spark.executorEnv.PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", "ignore::FutureWarning")}
    for name, value in s.model_dump().items():
        if value is not None and name not in SECRET_SETTINGS:
            conf[f"spark.executorEnv.{name.upper()}"] = str(value)
    return conf


def ship_code(spark, s: Settings) -> Path:
    """Give the executors this project's code (once per SparkContext). The driver keeps
    importing it from its checkout: the zip is kept off the driver's own sys.path."""
    sc = spark.sparkContext
    path = build_code_zip(s)
    if path.name not in getattr(sc, "_python_includes", []):
        before = list(sys.path)
        sc.addPyFile(str(path))
        sys.path[:] = before
    return path


def get_spark(app_name: str, settings: Settings | None = None, kafka: bool = True,
              extra_conf: dict | None = None):
    from pyspark.sql import SparkSession

    s = settings or get_settings()
    local = is_local(s.spark_master)
    # Python workers must use this interpreter (our venv), not whatever python3 is on PATH;
    # on a cluster, the executors' (pyspark reads PYSPARK_PYTHON when the context starts).
    os.environ["PYSPARK_PYTHON"] = sys.executable if local else executor_python(s)
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    # the address Spark binds to: the settings' (otherwise Spark looks it up from the
    # hostname, and warns when that resolves to a loopback address)
    os.environ.setdefault("SPARK_LOCAL_IP", s.bind_host)
    builder = (
        SparkSession.builder.appName(app_name)
        .master(s.spark_master)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", s.spark_driver_memory)     # docs/memory.md
        .config("spark.driver.extraJavaOptions", driver_java_options(s))
        .config("spark.sql.shuffle.partitions", str(s.spark_shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", s.bind_host)
        .config("spark.driver.host", s.bind_host)
        .config("spark.sql.streaming.stateStore.providerClass",
                "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider")
        .config("spark.local.dir", str(s.runtime_dir / "spark-tmp"))
    )
    # The connector jars go on every session, not only Kafka ones: getOrCreate()
    # hands back an existing session unchanged, and jars cannot be added later.
    try:
        builder = builder.config("spark.jars", ",".join(str(j) for j in connector_jars(s)))
    except RuntimeError:
        if kafka:
            raise
    if local:
        # the Python workers are forked from a daemon that has their libraries loaded already
        # (common/pydaemon.py, docs/memory.md); on a cluster the executors keep Spark's own
        builder = builder.config("spark.python.daemon.module", s.spark_python_daemon)
    for k, v in {**({} if local else cluster_conf(s)), **(extra_conf or {})}.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    if not local:
        ship_code(spark, s)
    return spark
