"""The service manager against real engines.

``test_from_nothing`` starts a second, private set of engines (own ports, own
.runtime folder sharing only the downloads), checks each one for real, then
stops them and checks none of our processes is left; on the way it checks that
the pid files are ours alone and that the Elasticsearch user owns only its own
folders. The shared engines that the other tests use are not touched.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest

import services
from common.config import REPO_ROOT, Settings, get_settings

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_settings(engines):
    """Settings for a private set of engines; the downloads are shared, not re-fetched.
    Kept under .runtime/ (not pytest's 0700 tmp folder) so the Elasticsearch user can enter it."""
    shared = get_settings()
    runtime = shared.runtime_dir / f"test-private-{uuid.uuid4().hex[:8]}"
    runtime.mkdir(parents=True)
    s = Settings(runtime_dir=runtime, downloads_dir=shared.downloads_dir, kafka_port=_free_port(),
                 kafka_controller_port=_free_port(), es_port=_free_port(), redis_port=_free_port())
    yield s
    services.down(settings=s)
    shutil.rmtree(runtime, ignore_errors=True)


def test_from_nothing_up_check_down(private_settings, capsys):
    s = private_settings
    for name in services.ENGINES:
        assert services.our_pid(s, name) is None
    services.up(settings=s)
    pids = {n: services.our_pid(s, n) for n in services.ENGINES}
    assert all(pids.values()), pids

    # the pid files: ours, writable by no one else (down signals what they name)
    run = s.runtime_dir / "run"
    for path in [run, *(services.pid_file(s, n) for n in services.ENGINES)]:
        st = path.stat()
        assert st.st_uid == os.geteuid() and not st.st_mode & 0o022, f"{path}: uid {st.st_uid}, mode {st.st_mode:o}"
    if os.geteuid() == 0:      # Elasticsearch runs as its own user: it owns its folders, nothing else
        es_uid = pwd.getpwnam(services.system.ES_USER).pw_uid
        for own in (s.runtime_dir / "data" / "elasticsearch", s.runtime_dir / "logs" / "elasticsearch"):
            assert own.stat().st_uid == es_uid, own
        for not_own in (s.runtime_dir, s.runtime_dir / "data", s.runtime_dir / "logs", run):
            assert not_own.stat().st_uid == 0, not_own

    # Kafka: a message produced is consumed
    from common.clients import ensure_topic, read_topic
    from common.sinks import KafkaEventProducer

    topic = f"t_{uuid.uuid4().hex[:8]}"
    ensure_topic(topic, settings=s)
    with KafkaEventProducer(s, topic) as producer:
        producer.send(b"hello", key=b"42")
    got = [(r.key, r.value) for r in read_topic(topic, 2, s, timeout=5)]   # asks for 2: exactly 1 comes
    assert got == [(b"42", b"hello")]

    # Elasticsearch: a bulk-indexed document is found by a search
    from elasticsearch import Elasticsearch, helpers

    es = Elasticsearch(**s.es_client_kwargs())
    ok, errors = helpers.bulk(es, [{"_index": "probe", "_id": "1", "msg": "found me"}], refresh=True)
    assert ok == 1 and not errors
    hits = es.search(index="probe", query={"match": {"msg": "found"}})["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["1"]

    # Redis: a hash round-trips
    import redis

    r = redis.Redis.from_url(s.redis_url, decode_responses=True)
    r.hset("customer:1", mapping={"name": "Ada", "level": "Gold"})
    assert r.hgetall("customer:1") == {"name": "Ada", "level": "Gold"}

    # Idempotent: a second up changes nothing and says so
    capsys.readouterr()
    services.up(settings=s)
    out = capsys.readouterr().out
    assert out.count("already running") == 3
    assert {n: services.our_pid(s, n) for n in services.ENGINES} == pids

    services.down(settings=s)
    time.sleep(0.5)
    for name, pid in pids.items():
        assert not services.system.pid_alive(pid), f"{name} (pid {pid}) still running after down"
        assert not services.port_open("127.0.0.1", services.ENGINE_TABLE[name].port(s))


def test_down_does_not_signal_a_pid_that_is_not_the_engine(tmp_path, capsys):
    """A pid file naming a process that is not the engine (a reused pid): left alone."""
    s = Settings(runtime_dir=tmp_path)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        services.system.write_pid_file(services.pid_file(s, "kafka"), sleeper.pid)
        assert services.our_pid(s, "kafka") is None
        services.down(["kafka"], settings=s)
        out = capsys.readouterr().out
        assert f"pid {sleeper.pid}, which is not kafka" in out and "not signalled" in out, out
        time.sleep(0.2)
        assert sleeper.poll() is None, "down signalled a process that is not Kafka"
        assert not services.pid_file(s, "kafka").exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_binding_beyond_loopback_is_refused_without_the_confirmation(tmp_path):
    env = dict(os.environ, BIND_HOST="0.0.0.0", RUNTIME_DIR=str(tmp_path), REDIS_PORT=str(_free_port()))
    env.pop("ALLOW_REMOTE_BIND", None)
    res = subprocess.run([sys.executable, "-m", "services", "up", "redis"], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "NO authentication" in res.stderr and "ALLOW_REMOTE_BIND=yes" in res.stderr
    assert "starting ..." not in res.stdout and not (tmp_path / "run" / "redis.pid").exists()


def test_port_taken_by_foreign_listener_fails_with_the_port(tmp_path):
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen(1)
        port = foreign.getsockname()[1]
        env = dict(os.environ, REDIS_PORT=str(port), RUNTIME_DIR=str(tmp_path))
        res = subprocess.run([sys.executable, "-m", "services", "up", "redis"], cwd=REPO_ROOT,
                             env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode != 0
    assert f"port {port}" in res.stderr and "already in use" in res.stderr, res.stderr


def test_spark_reads_kafka_with_fetched_jars(engines, unique, settings):
    """The SparkSession from common.spark reads a topic through the local connector jars."""
    from common.sinks import KafkaEventProducer
    from common.spark import connector_jars, get_spark

    assert any(j.name.startswith("spark-sql-kafka-0-10") for j in connector_jars(settings))
    topic = f"t_{unique}"
    with KafkaEventProducer(settings, topic) as producer:     # lz4-compressed, as the shipper sends
        for i in range(5):
            producer.send(f"line {i}".encode(), key=str(i).encode())
    spark = get_spark("test-kafka-read", settings)
    df = (spark.read.format("kafka")
          .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
          .option("subscribe", topic).option("startingOffsets", "earliest").load())
    values = sorted(r.value.decode() for r in df.select("value").collect())
    assert values == [f"line {i}" for i in range(5)]
    # no --packages / ivy download happened: the jars came from .runtime/jars/spark
    assert "spark.jars.packages" not in dict(spark.sparkContext.getConf().getAll())


# --- ENGINES=external: engines this project did not start (docker compose, a shared cluster) ---
def _services(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, ENGINES="external", **env))


def test_external_engines_are_checked_not_started_nor_stopped(engines, settings):
    """The shared engines stand in for external ones: up and down leave them as they are."""
    pids = {n: services.our_pid(settings, n) for n in services.ENGINES}
    res = _services("up")
    assert res.returncode == 0, res.stderr
    assert "already in use" not in res.stdout + res.stderr
    assert res.stdout.count("healthy (external)") == 3, res.stdout
    assert "starting" not in res.stdout
    res = _services("down")
    assert res.returncode == 0 and "nothing stopped" in res.stdout, res.stdout + res.stderr
    assert {n: services.our_pid(settings, n) for n in services.ENGINES} == pids      # same processes


@pytest.mark.parametrize("env, url, setting", [
    ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "redis://127.0.0.1:1/0", "REDIS_URL"),
    ({"ES_PORT": "1"}, "http://127.0.0.1:1", "ES_URL"),
])
def test_unreachable_external_engine_fails_with_one_line(engines, env, url, setting):
    res = _services("up", **env)
    assert res.returncode == 1
    errors = [l for l in res.stderr.splitlines() if not l.startswith("warning: ")]   # e.g. .env's mode
    (line,) = errors                                    # one line: which URL, what to do
    assert line.startswith("ERROR: ") and f"not reachable at {url} " in line and setting in line, line
