"""The service manager's safety checks, without engines: which process a pid file may
name, pinned checksums, binding beyond loopback, ``.env``'s mode, the Elasticsearch
user's way down to its folders, and the bounds written into the engines' configs."""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from common.config import Settings, env_file_warning
from services import elasticsearch_node, kafka_broker, redis_server
from services.fetch import check_checksum, pinned_checksums, versions
from services.system import (ServiceError, blocked_folder, check_bind, cmdline_matches, is_loopback,
                             process_cmdline, secure_run_dir, write_pid_file)
from tools.doctor import runtime_check, runtime_sizes


# --- a pid is trusted only if its command line is the engine's ----------------------
def test_markers_must_end_an_argument():
    redis = "/usr/bin/redis-server 127.0.0.1:6379"
    assert cmdline_matches(redis, ["redis-server", ":6379"])
    assert not cmdline_matches("/usr/bin/redis-server 127.0.0.1:63790", ["redis-server", ":6379"])
    kafka = "java -Xmx512m -cp /r/jars/kafka/* kafka.Kafka /r/kafka/server.properties"
    assert cmdline_matches(kafka, ["kafka.Kafka", "/r/kafka/server.properties"])
    assert not cmdline_matches(kafka, ["kafka.Kafka", "/other/kafka/server.properties"])
    assert not cmdline_matches(None, ["redis-server"])          # gone or unreadable


def started(cmd: list[str]) -> subprocess.Popen:
    """``cmd`` started, once its command line shows (a fork shows Python's until exec)."""
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + 5
    while process_cmdline(proc.pid) != " ".join(cmd) and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc


def test_a_reused_pid_is_not_the_engine():
    sleeper = started(["sleep", "30"])
    try:
        line = process_cmdline(sleeper.pid)
        assert line == "sleep 30"
        assert not cmdline_matches(line, redis_server.cmdline_markers(Settings()))
    finally:
        sleeper.kill()
        sleeper.wait()


def test_pid_files_are_written_by_us_and_writable_by_no_one_else(tmp_path):
    pid = tmp_path / "kafka.pid"
    write_pid_file(pid, 1234)
    write_pid_file(pid, 5678)                                   # replaced, not appended
    assert pid.read_text() == "5678"
    assert stat.S_IMODE(pid.stat().st_mode) == 0o644 and pid.stat().st_uid == os.geteuid()


# A process that execs itself again and again, keeping a marker argument: what
# spark-class does once (bash, then the JVM). CI once saw the master "exit while
# starting" because a read during that exec gave an empty command line.
EXEC_CHAIN = ("import os, sys, time\n"
              "n = int(sys.argv[1])\n"
              "if n > 0: os.execv(sys.executable, [sys.executable, '-c', sys.argv[0], str(n - 1), 'the-marker'])\n"
              "time.sleep(0.2)\n")


def test_a_process_in_the_middle_of_exec_keeps_its_command_line():
    proc = subprocess.Popen([sys.executable, "-c", EXEC_CHAIN, "60", "the-marker"])
    lost = reads = 0
    try:
        while proc.poll() is None:
            line = process_cmdline(proc.pid)
            reads += 1
            # the last read may meet the process exiting: count only reads with it alive after
            if not cmdline_matches(line, ["the-marker"]) and proc.poll() is None:
                lost += 1
    finally:
        proc.kill()
        proc.wait()
    assert reads > 100 and lost == 0, f"{lost} of {reads} reads lost the command line"


# --- pinned SHA-256 of the downloads -------------------------------------------------
def test_checksum_accepts_the_pinned_file_and_names_both_hashes_otherwise(tmp_path):
    jar = tmp_path / "x.jar"
    jar.write_bytes(b"published bytes")
    good = hashlib.sha256(b"published bytes").hexdigest()
    check_checksum(jar, "jars/kafka/x.jar", {"jars/kafka/x.jar": good})
    bad = "0" * 64
    with pytest.raises(ServiceError) as e:
        check_checksum(jar, "jars/kafka/x.jar", {"jars/kafka/x.jar": bad})
    assert str(jar) in str(e.value) and good in str(e.value) and bad in str(e.value)
    with pytest.raises(ServiceError, match="no pinned SHA-256"):
        check_checksum(jar, "jars/kafka/x.jar", {})


def test_every_pinned_version_has_its_artifacts_pinned():
    pins, v = pinned_checksums(), versions()
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in pins.values())
    for name in (f"downloads/elasticsearch-{v['ES_VERSION']}.zip",
                 f"jars/kafka/kafka_{v['SCALA_BINARY']}-{v['KAFKA_VERSION']}.jar",
                 f"jars/kafka/log4j-core-{v['LOG4J_VERSION']}.jar",
                 f"jars/spark/spark-sql-kafka-0-10_{v['SCALA_BINARY']}-{v['SPARK_VERSION']}.jar"):
        assert name in pins, f"{name} is not pinned in services/checksums.sha256"


# --- binding beyond loopback -----------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "::1", "localhost"])
def test_loopback_binds_need_no_confirmation(host):
    assert is_loopback(host) and check_bind(host, allowed=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "workshop.example.org"])
def test_wider_binds_are_refused_unless_confirmed(host):
    with pytest.raises(ServiceError, match="ALLOW_REMOTE_BIND=yes"):
        check_bind(host, allowed=False)
    warning = check_bind(host, allowed=True)
    assert warning.startswith("WARNING") and "NO authentication" in warning


def test_allow_remote_bind_reads_yes(monkeypatch):
    monkeypatch.setenv("ALLOW_REMOTE_BIND", "yes")
    assert Settings().allow_remote_bind is True
    monkeypatch.delenv("ALLOW_REMOTE_BIND")
    assert Settings().allow_remote_bind is False


# --- .env readable by its owner only ------------------------------------------------------
def test_env_file_wider_than_0600_is_reported(tmp_path):
    env = tmp_path / ".env"
    assert env_file_warning(env) is None                        # no .env: nothing to say
    env.write_text("ES_API_KEY=secret\n")
    env.chmod(0o644)
    assert f"chmod 600 {env}" in env_file_warning(env)
    env.chmod(0o600)
    assert env_file_warning(env) is None


# --- the Elasticsearch user's way down ---------------------------------------------------
def test_a_closed_folder_on_the_way_is_named():
    nobody = 65534
    top = Path(tempfile.mkdtemp(dir="/tmp"))                    # /tmp lets everyone in (pytest's tmp does not)
    top.chmod(0o755)
    closed = top / "closed"
    target = closed / "runtime" / "data"
    target.mkdir(parents=True)
    closed.chmod(0o700)
    assert blocked_folder(target, nobody, {nobody}) == closed
    closed.chmod(0o711)                                         # others may enter, not list
    assert blocked_folder(target, nobody, {nobody}) is None
    assert blocked_folder(target, 0, {0}) is None               # root enters anything
    assert blocked_folder(target / "not" / "yet", nobody, {nobody}) is None    # we create it, 755
    shutil.rmtree(top)


# --- bounds written into the engines' configurations ----------------------------------------
def test_kafka_bounds_its_topics_and_its_own_log(tmp_path):
    s = Settings(runtime_dir=tmp_path)
    tmp_path.joinpath("kafka").mkdir()
    props, log4j = kafka_broker._write_config(s, kafka_broker.single(s))
    p = props.read_text()
    assert "log.retention.hours=168" in p and "log.retention.bytes=536870912" in p
    assert "log.segment.bytes=134217728" in p            # smaller than retention.bytes, or it never applies
    l = log4j.read_text()
    assert "RollingFile" in l and "size = 10MB" in l and "strategy.max = 5" in l


@pytest.mark.parametrize("map_count, mmap", [(262144, True), (65530, True), (65529, False), (None, True)])
def test_elasticsearch_uses_memory_maps_unless_the_kernel_allows_too_few(monkeypatch, tmp_path, map_count, mmap):
    # Linux's default 65530 is enough for a workshop node (services/elasticsearch_node.py)
    monkeypatch.setattr(elasticsearch_node, "max_map_count", lambda: map_count)
    s = Settings(runtime_dir=tmp_path)
    text = elasticsearch_node._config(s, elasticsearch_node.single(s))
    assert ("node.store.allow_mmap: false" not in text) is mmap


def test_doctor_warns_with_sizes_when_the_runtime_grows(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big").write_bytes(b"x" * 3000)
    (tmp_path / "jars").mkdir()                                 # downloads are not counted
    (tmp_path / "jars" / "k.jar").write_bytes(b"x" * 9000)
    s = Settings(runtime_dir=tmp_path, downloads_dir=tmp_path, runtime_warn_gb=1e-6)
    assert runtime_sizes(s) == {"data": 3000}
    status, _, detail = runtime_check(s)
    assert status.strip() == "warn" and "data 0.0 GB" in detail and "make reset" in detail
    assert runtime_check(Settings(runtime_dir=tmp_path, downloads_dir=tmp_path))[0].strip() == "ok"


def test_a_run_folder_others_could_write_is_made_ours_before_a_start(tmp_path):
    s = Settings(runtime_dir=tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    run.chmod(0o777)
    if os.geteuid() == 0:
        os.chown(run, 65534, 65534)          # as an earlier version left it: the Elasticsearch user's
    secure_run_dir(s)
    assert run.stat().st_uid == os.geteuid() and stat.S_IMODE(run.stat().st_mode) == 0o755
