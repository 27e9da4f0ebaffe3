"""Build the SparkSession every stage uses.

The Kafka source's jars are fetched once by ``make services-up`` (Maven, see
``services/pom.xml``) into ``.runtime/jars/spark``; they are handed to Spark with
``spark.jars`` so nothing is downloaded when a job starts.

    from common.spark import get_spark
    spark = get_spark("stage2-streaming")
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from common.config import Settings, get_settings

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


def get_spark(app_name: str, settings: Settings | None = None, kafka: bool = True,
              extra_conf: dict | None = None):
    from pyspark.sql import SparkSession

    s = settings or get_settings()
    # Workers must use this interpreter (our venv), not whatever python3 is on PATH.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    builder = (
        SparkSession.builder.appName(app_name)
        .master(s.spark_master)
        .config("spark.ui.enabled", "false")
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
    for k, v in (extra_conf or {}).items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
