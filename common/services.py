"""The service manager: fetch, start, check and stop the local engines.

    python -m common.services fetch            download the engines once (Maven Central)
    python -m common.services up [kafka ...]   start them (idempotent) and wait until healthy
    python -m common.services status           one line per engine: URL and state
    python -m common.services logs             last lines of every engine's log
    python -m common.services down             stop what this project started (pid files)
    python -m common.services reset            down, then wipe data, checkpoints and offsets

Everything lives in ``.runtime/`` (git-ignored): ``jars/`` and ``elasticsearch-<v>/``
(downloads, kept by reset; ``DOWNLOADS_DIR`` moves them), ``data/`` (engine data), ``logs/``, ``run/`` (pid files).
Versions come from ``services/versions.env``; the Maven descriptor is
``services/pom.xml``. Every engine binds to ``settings.bind_host`` (127.0.0.1).

Failures raise :class:`ServiceError` whose message is one line naming the cause
and the fix; the CLI prints it and exits 1.
"""
from __future__ import annotations

import argparse
import base64
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from common.config import REPO_ROOT, Settings, get_settings

VERSIONS_FILE = REPO_ROOT / "services" / "versions.env"
POM = REPO_ROOT / "services" / "pom.xml"
ES_USER = "workshop-es"          # Elasticsearch refuses to run as root
ENGINES = ("redis", "elasticsearch", "kafka")
HEALTH_TOPIC = "_workshop_health"


class ServiceError(RuntimeError):
    """A failure with a one-line message that says what went wrong and how to fix it."""


def versions() -> dict[str, str]:
    out = {}
    for line in VERSIONS_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


# --- small helpers ----------------------------------------------------------------
def _say(msg: str) -> None:
    print(msg, flush=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped) is not alive
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _tail(path: Path, n: int = 15) -> str:
    if not path.exists():
        return f"(no log at {path})"
    lines = path.read_text(errors="replace").splitlines()[-n:]
    return "\n".join("    " + l for l in lines)


def java_major(java: Path | str) -> int | None:
    """Major version of a ``java`` binary (17 for 17.0.15), or None if it does not run."""
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 else major   # "1.8" -> 8


def _jdk_candidates() -> list[Path]:
    """JDK homes in order of preference: ES_JAVA_HOME, JAVA_HOME, the ``java`` on
    PATH (the machine's default JDK), then the usual install folders."""
    homes = [os.environ.get(v) for v in ("ES_JAVA_HOME", "JAVA_HOME")]
    cands = [Path(h) for h in homes if h]
    which = shutil.which("java")
    if which:
        cands.append(Path(which).resolve().parent.parent)
    for pattern in ("/usr/lib/jvm/*", "/Library/Java/JavaVirtualMachines/*/Contents/Home", "/opt/java/*"):
        cands += sorted(Path("/").glob(pattern.lstrip("/")), reverse=True)
    seen, out = set(), []
    for c in cands:
        if c not in seen and (c / "bin" / "java").exists():
            seen.add(c)
            out.append(c)
    return out


def find_jdk(min_major: int, purpose: str) -> Path:
    """The home of a JDK with at least ``min_major``; the newest-listed first."""
    found = []
    for home in _jdk_candidates():
        major = java_major(home / "bin" / "java")
        if major is not None:
            found.append(f"{home} ({major})")
            if major >= min_major:
                return home
    have = ", ".join(found) or "none"
    raise ServiceError(
        f"{purpose} needs a JDK {min_major}+ but found {have}: install one "
        f"(Debian/Ubuntu: apt-get install openjdk-{min_major}-jdk-headless, or Temurin {min_major}+; "
        f"macOS: brew install openjdk@{min_major}) and point ES_JAVA_HOME/JAVA_HOME at it")


# --- fetching -------------------------------------------------------------------
def _mvn(profile: str | None, goal: list[str], what: str) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServiceError("Maven (mvn) is not installed, so the engines cannot be fetched: "
                           "apt-get install maven (Debian/Ubuntu) or brew install maven (macOS)")
    v = versions()
    cmd = [mvn, "-B", "-q", "-f", str(POM),
           f"-Dkafka.version={v['KAFKA_VERSION']}", f"-Dspark.version={v['SPARK_VERSION']}",
           f"-Dscala.binary={v['SCALA_BINARY']}", f"-Dlog4j.version={v['LOG4J_VERSION']}"]
    if profile:
        cmd += ["-P", profile]
    res = subprocess.run(cmd + goal, capture_output=True, text=True)
    if res.returncode != 0:
        detail = (res.stdout + res.stderr).strip().splitlines()
        hint = next((l for l in detail if "ERROR" in l), detail[-1] if detail else "")
        raise ServiceError(f"download of {what} refused or failed ({hint.strip()[:300]}): check that "
                           "Maven Central is reachable (proxy settings in ~/.m2/settings.xml) and retry "
                           "make services-up")


# which versions each set of jars depends on: a change to any other line of
# versions.env must not trigger a new download
JAR_VERSION_KEYS = {"kafka": ("KAFKA_VERSION", "SCALA_BINARY", "LOG4J_VERSION"),
                    "spark": ("SPARK_VERSION", "SCALA_BINARY")}


def _fetch_jars(settings: Settings, name: str, profile: str, what: str) -> Path:
    target = settings.downloads_dir / "jars" / name
    stamp = target / ".fetched"
    v = versions()
    wanted = " ".join(f"{k}={v[k]}" for k in JAR_VERSION_KEYS[name])
    if stamp.exists() and stamp.read_text() == wanted:
        return target
    _say(f"  fetching {what} from Maven Central (once) ...")
    # download next to the target, then swap: a running engine never sees a half-filled folder
    staging = target.with_name(name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _mvn(profile, ["dependency:copy-dependencies", "-DincludeScope=runtime",
                   f"-DoutputDirectory={staging}"], what)
    (staging / ".fetched").write_text(wanted)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _extract_zip(zip_path: Path, dest: Path) -> None:
    """Unzip keeping the executable bits (Python's zipfile drops them)."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            out = zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(out, mode)


def es_home(settings: Settings) -> Path:
    return settings.downloads_dir / f"elasticsearch-{versions()['ES_VERSION']}"


def _fetch_elasticsearch(settings: Settings) -> Path:
    home = es_home(settings)
    if (home / "bin" / "elasticsearch").exists():
        return home
    version = versions()["ES_VERSION"]
    _say(f"  fetching Elasticsearch {version} from Maven Central (once, ~100 MB) ...")
    downloads = settings.downloads_dir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    _mvn(None, ["dependency:copy",
                f"-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip",
                f"-DoutputDirectory={downloads}"], f"Elasticsearch {version}")
    tmp = settings.downloads_dir / "es-unpack"
    shutil.rmtree(tmp, ignore_errors=True)
    _extract_zip(downloads / f"elasticsearch-{version}.zip", tmp)
    (tmp / f"elasticsearch-{version}").rename(home)
    shutil.rmtree(tmp, ignore_errors=True)
    return home


def _ensure_redis_installed() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    system = platform.system()
    if system == "Darwin":
        raise ServiceError("redis-server is not installed: run  brew install redis  then make services-up")
    if not Path("/etc/debian_version").exists():
        raise ServiceError("redis-server is not installed: install Redis 7 with your OS package manager")
    if os.geteuid() != 0:
        raise ServiceError("redis-server is not installed: run  sudo apt-get install -y redis-server  "
                           "then make services-up")
    _say("  installing redis-server from the OS packages (apt-get) ...")
    # policy-rc.d stops the package from starting its own system-wide Redis on
    # port 6379: we run our own, with our config, under .runtime/.
    policy = Path("/usr/sbin/policy-rc.d")
    created = not policy.exists()
    if created:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "redis-server"]):
            res = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if res.returncode != 0:
                raise ServiceError(f"apt-get could not install redis-server ({res.stderr.strip()[-200:]}): "
                                   "check the Debian package mirror and run apt-get install redis-server")
    finally:
        if created:
            policy.unlink()
    return shutil.which("redis-server") or "/usr/bin/redis-server"


def fetch(settings: Settings | None = None) -> None:
    s = settings or get_settings()
    _fetch_jars(s, "kafka", "kafka", f"Apache Kafka {versions()['KAFKA_VERSION']}")
    _fetch_jars(s, "spark", "spark", f"Spark's Kafka source {versions()['SPARK_VERSION']}")
    _fetch_elasticsearch(s)
    _ensure_redis_installed()


# --- the engines ------------------------------------------------------------------
@dataclass
class Engine:
    name: str
    port: Callable[[Settings], int]
    url: Callable[[Settings], str]
    start: Callable[[Settings], None]
    healthy: Callable[[Settings], bool]
    timeout: int
    log: Callable[[Settings], Path]
    port_env: str


def _run_dir(s: Settings) -> Path:
    d = s.runtime_dir / "run"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _log_dir(s: Settings) -> Path:
    d = s.runtime_dir / "logs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def pid_file(s: Settings, name: str) -> Path:
    return _run_dir(s) / f"{name}.pid"


def our_pid(s: Settings, name: str) -> int | None:
    """The pid this project started for ``name``, if that process still runs."""
    f = pid_file(s, name)
    try:
        pid = int(f.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


# Redis ------------------------------------------------------------------------------
def _start_redis(s: Settings) -> None:
    binary = _ensure_redis_installed()
    data = s.runtime_dir / "data" / "redis"
    data.mkdir(parents=True, exist_ok=True)
    conf = s.runtime_dir / "redis.conf"
    conf.write_text("\n".join([
        f"bind {s.bind_host}", f"port {s.redis_port}", f"dir {data}",
        "daemonize yes", f"pidfile {pid_file(s, 'redis')}", f"logfile {_log_dir(s) / 'redis.log'}",
        # append-only file: a restart of Redis loses no offer, target or interest list
        "appendonly yes", "appendfsync everysec", 'save ""', "",
    ]))
    subprocess.run([binary, str(conf)], check=True)


def _redis_healthy(s: Settings) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(s.redis_url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


# Elasticsearch ----------------------------------------------------------------------
def _es_user_prefix(paths: list[Path]) -> list[str]:
    """Elasticsearch will not run as root: run it as a dedicated system user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
                       check=True)
    for p in paths:
        subprocess.run(["chown", "-R", f"{ES_USER}:", str(p)], check=True)
    # the user must be able to walk down to .runtime/ (e.g. /root/... is 700)
    for parent in paths[0].parents:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
    return ["runuser", "-u", ES_USER, "--"]


def max_map_count() -> int | None:
    try:
        return int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):
        return None


def _start_elasticsearch(s: Settings) -> None:
    home = _fetch_elasticsearch(s)
    jdk = find_jdk(21, f"Elasticsearch {versions()['ES_VERSION']}")
    base = s.runtime_dir / "elasticsearch"
    conf, data, logs = base / "config", s.runtime_dir / "data" / "elasticsearch", _log_dir(s) / "elasticsearch"
    for d in (data, logs):
        d.mkdir(parents=True, exist_ok=True)
    # a fresh copy of the distribution's config each start (keystore, jvm.options ...)
    shutil.rmtree(conf, ignore_errors=True)
    shutil.copytree(home / "config", conf)
    lines = [
        "cluster.name: workshop", "node.name: node-1",
        f"path.data: {data}", f"path.logs: {logs}",
        f"network.host: {s.bind_host}", f"http.port: {s.es_port}", "transport.port: 9300-9399",
        "discovery.type: single-node",
        # a learner's laptop disk is often >90% full; don't turn indices read-only for that
        "cluster.routing.allocation.disk.threshold_enabled: false",
        "action.destructive_requires_name: false",
        # loopback-only workshop node: no TLS, no passwords (otherwise ES 9 turns
        # on security with generated certificates at first start)
        "xpack.security.enabled: false",
    ]
    mmc = max_map_count()
    if mmc is not None and mmc < 262144:
        # too few memory-map areas for mmapfs; niofs works without changing the kernel
        lines.append("node.store.allow_mmap: false")
    (conf / "elasticsearch.yml").write_text("\n".join(lines) + "\n")
    pidf = pid_file(s, "elasticsearch")
    pidf.unlink(missing_ok=True)
    prefix = _es_user_prefix([base, data, logs, home])
    if prefix:
        subprocess.run(["chown", f"{ES_USER}:", str(pidf.parent)], check=True)
    env = dict(os.environ, ES_JAVA_HOME=str(jdk), ES_PATH_CONF=str(conf),
               ES_JAVA_OPTS=f"-Xms{s.es_heap} -Xmx{s.es_heap}")
    env.pop("JAVA_HOME", None)
    out = logs / "startup.log"
    with open(out, "ab") as fh:
        res = subprocess.run(prefix + [str(home / "bin" / "elasticsearch"), "-d", "-p", str(pidf)],
                             env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=str(base))
    if res.returncode != 0:
        raise ServiceError(f"Elasticsearch failed to start (exit {res.returncode}); last lines of {out}:\n"
                           + _tail(out))


def _es_healthy(s: Settings) -> bool:
    import requests

    try:
        r = requests.get(f"{s.es_url}/_cluster/health", params={"wait_for_status": "yellow", "timeout": "1s"},
                         timeout=5)
        return r.ok and r.json().get("status") in ("yellow", "green")
    except requests.RequestException:
        return False


def _es_log(s: Settings) -> Path:
    return _log_dir(s) / "elasticsearch" / "workshop.log"


# Kafka ----------------------------------------------------------------------------
def _kafka_java(s: Settings) -> Path:
    return find_jdk(17, f"Kafka {versions()['KAFKA_VERSION']}") / "bin" / "java"


def _start_kafka(s: Settings) -> None:
    jars = _fetch_jars(s, "kafka", "kafka", f"Apache Kafka {versions()['KAFKA_VERSION']}")
    java = _kafka_java(s)
    base = s.runtime_dir / "kafka"
    data = s.runtime_dir / "data" / "kafka"
    base.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    props = base / "server.properties"
    props.write_text("\n".join([
        "process.roles=broker,controller", "node.id=1",
        f"controller.quorum.voters=1@{s.bind_host}:{s.kafka_controller_port}",
        f"listeners=PLAINTEXT://{s.bind_host}:{s.kafka_port},CONTROLLER://{s.bind_host}:{s.kafka_controller_port}",
        # what clients are told to connect to: must be reachable from the clients
        f"advertised.listeners=PLAINTEXT://{s.bind_host}:{s.kafka_port}",
        "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data}", f"num.partitions={s.kafka_partitions}",
        "offsets.topic.replication.factor=1", "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1", "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0", "auto.create.topics.enable=true", "",
    ]))
    log4j = base / "log4j2.properties"
    log4j.write_text("\n".join([
        "status = error", "appender.file.type = File", "appender.file.name = file",
        f"appender.file.fileName = {_log_dir(s) / 'kafka.log'}",
        "appender.file.layout.type = PatternLayout", "appender.file.layout.pattern = [%d] %p %m (%c)%n",
        "rootLogger.level = INFO", "rootLogger.appenderRef.file.ref = file", "",
    ]))
    classpath = f"{jars}/*"
    if not (data / "meta.properties").exists():
        # KRaft storage is formatted once with a fresh cluster id
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        res = subprocess.run([str(java), "-cp", classpath, f"-Dlog4j2.configurationFile={log4j}",
                              "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise ServiceError(f"formatting Kafka storage failed: {(res.stdout + res.stderr).strip()[-400:]}")
    out = open(_log_dir(s) / "kafka.out", "ab")
    proc = subprocess.Popen(
        [str(java), "-Xms512m", "-Xmx512m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
         f"-Dlog4j2.configurationFile={log4j}", "-cp", classpath, "kafka.Kafka", str(props)],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    pid_file(s, "kafka").write_text(str(proc.pid))


def _kafka_healthy(s: Settings) -> bool:
    """A real round trip: produce one message and read it back."""
    from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

    from common.clients import kafka_config

    token = uuid.uuid4().hex.encode()
    delivered = []
    consumer = None
    try:
        producer = Producer(kafka_config(s, {"acks": "all", "message.timeout.ms": 10_000}))
        producer.produce(HEALTH_TOPIC, token, on_delivery=lambda err, msg: delivered.append((err, msg)))
        producer.flush(12)
        if not delivered or delivered[0][0] is not None:
            return False
        meta = delivered[0][1]
        consumer = Consumer(kafka_config(s, {"group.id": "workshop-health", "enable.auto.commit": False}))
        consumer.assign([TopicPartition(HEALTH_TOPIC, meta.partition(), meta.offset())])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            record = consumer.poll(0.5)
            if record is not None and not record.error():
                return record.value() == token
        return False
    except (KafkaException, BufferError, OSError):
        return False
    finally:
        if consumer is not None:
            consumer.close()


ENGINE_TABLE: dict[str, Engine] = {
    "redis": Engine("redis", lambda s: s.redis_port, lambda s: s.redis_url, _start_redis, _redis_healthy,
                    30, lambda s: _log_dir(s) / "redis.log", "REDIS_PORT"),
    "elasticsearch": Engine("elasticsearch", lambda s: s.es_port, lambda s: s.es_url, _start_elasticsearch,
                            _es_healthy, 240, _es_log, "ES_PORT"),
    "kafka": Engine("kafka", lambda s: s.kafka_port, lambda s: s.kafka_bootstrap_servers, _start_kafka,
                    _kafka_healthy, 120, lambda s: _log_dir(s) / "kafka.log", "KAFKA_PORT"),
}
ALIASES = {"es": "elasticsearch", "elastic": "elasticsearch"}


def _names(names) -> list[str]:
    if not names:
        return list(ENGINES)
    out = []
    for n in names:
        n = ALIASES.get(n, n)
        if n not in ENGINE_TABLE:
            raise ServiceError(f"unknown engine {n!r}: choose from {', '.join(ENGINES)}")
        out.append(n)
    return out


def _wait_healthy(s: Settings, eng: Engine, pid_check: bool = True) -> None:
    start = time.monotonic()
    deadline = start + eng.timeout
    while time.monotonic() < deadline:
        if eng.healthy(s):
            return
        # Redis and Elasticsearch daemonize and write their pid file a moment
        # later: only a missing process after that grace means it died.
        if pid_check and our_pid(s, eng.name) is None and time.monotonic() - start > 10:
            break                            # it died: no point waiting
        time.sleep(0.5)
    state = "exited" if our_pid(s, eng.name) is None else f"was not healthy after {eng.timeout}s"
    hint = _diagnose(eng, eng.log(s))
    raise ServiceError(f"{eng.name} {state}{hint}; last lines of {eng.log(s)}:\n{_tail(eng.log(s))}")


def _diagnose(eng: Engine, log: Path) -> str:
    text = log.read_text(errors="replace")[-20000:] if log.exists() else ""
    if "Address already in use" in text or "BindException" in text:
        return f" (a port it needs is taken: free it or change {eng.port_env})"
    if "OutOfMemoryError" in text or "Cannot allocate memory" in text or "exit code 137" in text:
        return " (not enough memory: close other programs or lower ES_HEAP)"
    if "max virtual memory areas vm.max_map_count" in text:
        return " (raise it: sudo sysctl -w vm.max_map_count=262144)"
    return ""


def available_memory_mb() -> int | None:
    """MemAvailable from /proc/meminfo, or None where there is none (macOS)."""
    try:
        info = dict(l.split(":", 1) for l in Path("/proc/meminfo").read_text().splitlines())
        return int(info["MemAvailable"].split()[0]) // 1024
    except (OSError, KeyError, ValueError):
        return None


def _preflight_memory() -> None:
    avail_mb = available_memory_mb()
    if avail_mb is not None and avail_mb < 2500:
        _say(f"  warning: only {avail_mb} MB of memory available; the engines need about 2.5 GB "
             "(close other programs if they fail to start)")


def up(names=None, settings: Settings | None = None) -> None:
    """Start the engines (all by default) and wait until each is healthy. Idempotent."""
    s = settings or get_settings()
    _preflight_memory()
    for name in _names(names):
        eng = ENGINE_TABLE[name]
        url, port = eng.url(s), eng.port(s)
        pid = our_pid(s, name)
        if pid is not None:
            _wait_healthy(s, eng)
            _say(f"  {name:<14} {url:<28} already running (pid {pid})")
            continue
        if port_open(s.bind_host, port):
            raise ServiceError(
                f"port {port} ({name}) is already in use by a process this project did not start: "
                f"stop it (see: ss -ltnp 'sport = :{port}') or set {eng.port_env} to a free port")
        t0 = time.monotonic()
        _say(f"  {name:<14} {url:<28} starting ...")
        eng.start(s)
        _wait_healthy(s, eng)
        _say(f"  {name:<14} {url:<28} healthy after {time.monotonic() - t0:.0f}s "
             f"(pid {our_pid(s, name)})")
    if "kafka" in _names(names):
        from common.clients import ensure_topic

        ensure_topic(s.kafka_topic, settings=s)     # the events topic, with its partitions


def _stop_pid(pid: int, timeout: float = 60) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _pid_alive(pid):
        time.sleep(0.3)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def down(names=None, settings: Settings | None = None) -> None:
    """Stop only the processes this project started (their pid files)."""
    s = settings or get_settings()
    for name in reversed(_names(names)):      # kafka first, redis last
        pid = our_pid(s, name)
        if pid is None:
            _say(f"  {name:<14} not running")
        else:
            _stop_pid(pid)
            _say(f"  {name:<14} stopped (pid {pid})")
        pid_file(s, name).unlink(missing_ok=True)


def status(settings: Settings | None = None) -> dict[str, str]:
    s = settings or get_settings()
    states = {}
    for name in ENGINES:
        eng = ENGINE_TABLE[name]
        pid = our_pid(s, name)
        if pid is not None:
            state = f"running, healthy (pid {pid})" if eng.healthy(s) else f"running, NOT healthy (pid {pid})"
        elif port_open(s.bind_host, eng.port(s)):
            state = "port in use by a process this project did not start"
        else:
            state = "stopped"
        states[name] = state
        _say(f"  {name:<14} {eng.url(s):<28} {state}")
    return states


def logs(settings: Settings | None = None, lines: int = 20) -> None:
    s = settings or get_settings()
    for name in ENGINES:
        log = ENGINE_TABLE[name].log(s)
        _say(f"==> {name}: {log}")
        _say(_tail(log, lines))


def reset(settings: Settings | None = None) -> None:
    """Stop the engines and wipe engine data, checkpoints, offsets and live files.
    Downloads (jars, the Elasticsearch distribution) are kept."""
    s = settings or get_settings()
    down(settings=s)
    wiped = [s.runtime_dir / "data", s.checkpoint_dir, s.runtime_dir / "offsets", s.runtime_dir / "stage3",
             s.runtime_dir / "spark-tmp", s.runtime_dir / "elasticsearch"]
    for p in wiped:
        shutil.rmtree(p, ignore_errors=True)
    for f in [s.live_file, s.runtime_dir / "sms_outbox.jsonl"]:
        f.unlink(missing_ok=True)
    _say("  wiped engine data, checkpoints, offsets and the live file (downloads kept)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m common.services", description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["fetch", "up", "down", "status", "logs", "reset"])
    p.add_argument("engines", nargs="*", help=f"some of: {', '.join(ENGINES)} (default: all)")
    a = p.parse_args(argv)
    try:
        if a.command == "fetch":
            fetch()
        elif a.command == "up":
            _say("==> starting the engines (data and logs under .runtime/)")
            fetch()
            up(a.engines)
        elif a.command == "down":
            down(a.engines)
        elif a.command == "status":
            status()
        elif a.command == "logs":
            logs()
        elif a.command == "reset":
            reset()
    except ServiceError as e:
        print(f"ERROR: {e}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
