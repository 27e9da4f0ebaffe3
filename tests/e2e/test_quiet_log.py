"""A bounded stage-2 run prints none of Spark's warnings a learner cannot act on;
with VERBOSE=1 Spark's own default log (and those warnings) comes back.

The whole stage as ``make stage2 MAX_EVENTS=...`` runs it (``run_stage2 --max-events``),
against the real engines, its stdout and stderr captured together. The quiet log is
common/log4j2-quiet.properties, handed to the driver JVM by common/spark.py.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from common.config import REPO_ROOT
from tests.e2e.test_stage2 import SAMPLE, isolated  # noqa: F401  (the fixture: names of this test's own)

pytestmark = pytest.mark.e2e

# what a learner used to see at every run, and cannot do anything about
UNACTIONABLE = [
    "resolves to a loopback address",                              # Utils: SPARK_LOCAL_IP now set
    "Set SPARK_LOCAL_IP if you need to bind to another address",
    "spark.sql.adaptive.enabled is not supported in streaming",     # ResolveWriteToStream
    "Disabling AQE since AQE is not supported",                     # MicroBatchExecution
    "Failed to cancel job group",                                   # DAGScheduler, at the bounded stop
    "Unable to load native-hadoop library",                         # NativeCodeLoader
    "spark.local.dir will be overridden",                           # SparkConf
    "dev.ludovic.netlib",                                           # Spark ML's native BLAS
    "Truncated the string representation of a plan",               # SparkStringUtils
    "Using Spark's default log4j profile",
    'Setting default log level to "WARN"',
]


def bounded_run(env: dict, tmp_path, events: int = 300) -> str:
    source = tmp_path / "source.csv"
    source.write_text("\n".join((SAMPLE / "tracks.csv").read_text().splitlines()[:1000]) + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "stage2.run_stage2", "--max-events", str(events), "--rate", "200",
         "--live-file", str(tmp_path / "live.csv"), "--source", str(source)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert f"done: {events} records, {events} indexed" in proc.stdout, proc.stdout[-4000:]
    return proc.stdout


def test_a_bounded_stage2_run_is_quiet(isolated, tmp_path):  # noqa: F811
    _, env = isolated
    env = {k: v for k, v in env.items() if k not in ("VERBOSE", "SPARK_LOCAL_IP")}
    out = bounded_run(env, tmp_path)
    printed = [w for w in UNACTIONABLE if w in out]
    assert not printed, f"the quiet log still prints {printed}:\n{out[-4000:]}"
    # the configuration file itself was read without complaint (log4j's own status errors)
    assert " main ERROR " not in out and "StatusLogger" not in out, out[-4000:]


def test_verbose_brings_sparks_default_log_back(isolated, tmp_path):  # noqa: F811
    _, env = isolated
    env = {**{k: v for k, v in env.items() if k != "SPARK_LOCAL_IP"}, "VERBOSE": "1"}
    out = bounded_run(env, tmp_path)
    printed = [w for w in UNACTIONABLE if w in out]
    assert "Using Spark's default log4j profile" in printed, out[-4000:]
    assert any(" WARN " in line and any(w in line for w in UNACTIONABLE) for line in out.splitlines()), \
        out[-4000:]
