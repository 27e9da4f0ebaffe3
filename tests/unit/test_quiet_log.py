"""The project's quiet Spark log (common/log4j2-quiet.properties, used by common/spark.py):
what it drops and what it keeps, read from the file itself. A real run: tests/e2e/test_quiet_log.py."""
from __future__ import annotations

import re

from common import spark as cspark
from common.config import Settings


def properties() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in cspark.QUIET_LOG4J.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def logger_levels() -> dict[str, str]:
    p = properties()
    return {p[k]: p[k.removesuffix(".name") + ".level"] for k in p if k.startswith("logger.") and k.endswith(".name")}


def dropped(message: str) -> bool:
    """True when the console filter denies ``message`` (Java's regex, here Python's: same syntax)."""
    regex = properties()["appender.console.filter.unactionable.regex"]
    return re.fullmatch(regex, message) is not None


def test_the_root_stays_at_warn_and_no_logger_hides_errors():
    p = properties()
    assert p["rootLogger.level"] == "warn"
    assert set(logger_levels().values()) <= {"warn", "error"}      # an ERROR always shows
    assert p["appender.console.filter.unactionable.onMismatch"] == "NEUTRAL"


def test_the_warnings_nobody_can_act_on_are_dropped():
    levels = logger_levels()
    for logger in ("org.apache.hadoop.util.NativeCodeLoader", "dev.ludovic.netlib",
                   "org.apache.spark.util.SparkStringUtils"):
        assert levels[logger] == "error", logger
    for message in ("Failed to cancel job group 8472085e-efb1-4beb-a107-aa786089d5e6. Cannot find active jobs for it.",
                    "spark.sql.adaptive.enabled is not supported in streaming DataFrames/Datasets and will be disabled.",
                    "Disabling AQE since AQE is not supported in stateful workloads.",
                    "Note that spark.local.dir will be overridden by the value set by the cluster manager "
                    "(via SPARK_LOCAL_DIRS in standalone/kubernetes and LOCAL_DIRS in YARN)."):
        assert dropped(message), message


def test_warnings_a_learner_can_act_on_still_show():
    for message in ("Current batch is falling behind. The trigger interval is 2000 milliseconds, "
                    "but spent 7073 milliseconds",
                    "Temporary checkpoint location created which is deleted normally when the query didn't fail",
                    "Failed to cancel job 3",
                    "The configuration key 'spark.sql.x' has been deprecated"):
        assert not dropped(message), message


def test_the_driver_gets_the_file_unless_verbose():
    quiet = cspark.driver_java_options(Settings(spark_driver_java_options="-XX:+UseSerialGC"))
    assert quiet == f"-XX:+UseSerialGC -Dlog4j2.configurationFile={cspark.QUIET_LOG4J.as_uri()}"
    verbose = cspark.driver_java_options(Settings(spark_driver_java_options="-XX:+UseSerialGC", verbose=True))
    assert verbose == "-XX:+UseSerialGC"
