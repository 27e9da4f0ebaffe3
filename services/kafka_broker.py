"""Kafka: one KRaft broker (broker and controller in one JVM), run from the fetched jars.

    python -m services up kafka

writes ``.runtime/kafka/server.properties`` and ``log4j2.properties``, formats
the storage once (``.runtime/data/kafka``), then starts ``kafka.Kafka`` in the
background and writes its pid to ``.runtime/run/kafka.pid``. Log in
``.runtime/logs/kafka.log``, rolled over at 10 MB, 5 old files kept (the JVM's
own output in ``kafka.out``). Each partition keeps at most 7 days or 512 MB of
messages. Healthy means a message produced to ``_workshop_health`` is read back.
"""
from __future__ import annotations

import base64
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from common.config import Settings
from services.fetch import kafka_jars, versions
from services.system import ServiceError, find_jdk, log_dir, pid_file, write_pid_file

HEALTH_TOPIC = "_workshop_health"


@dataclass(frozen=True)
class Broker:
    """One broker JVM (KRaft, broker and controller in one): the single one of ``make
    services-up``, or one of the three of ``make cluster-up`` (services/multinode.py)."""
    name: str                # its pid file's name: kafka, kafka-2 ...
    node_id: int
    port: int
    controller_port: int
    voters: str              # controller.quorum.voters: every controller of the cluster
    base: Path               # its server.properties and log4j2.properties
    data: Path
    log: Path
    heap: str
    replicas: int = 1        # copies of Kafka's own topics (consumer offsets, transactions)

    def markers(self) -> list[str]:
        """The broker's command line ends with its main class and its properties file."""
        return ["kafka.Kafka", str(self.base / "server.properties")]


def single(s: Settings) -> Broker:
    """The one broker of ``make services-up``."""
    return Broker("kafka", 1, s.kafka_port, s.kafka_controller_port, f"1@{s.bind_host}:{s.kafka_controller_port}",
                  s.runtime_dir / "kafka", s.runtime_dir / "data" / "kafka", log_dir(s) / "kafka.log", s.kafka_heap)


def log(s: Settings) -> Path:
    return single(s).log


def cmdline_markers(s: Settings) -> list[str]:
    return single(s).markers()


def _write_config(s: Settings, b: Broker) -> tuple[Path, Path]:
    """server.properties and log4j2.properties under ``b.base``."""
    props = b.base / "server.properties"
    # with three copies, a write is acknowledged (acks=all) once two have it: one broker may die
    min_isr = max(1, b.replicas - 1)
    props.write_text("\n".join([
        "process.roles=broker,controller", f"node.id={b.node_id}",
        f"controller.quorum.voters={b.voters}",
        f"listeners=PLAINTEXT://{s.bind_host}:{b.port},CONTROLLER://{s.bind_host}:{b.controller_port}",
        # what clients are told to connect to: must be reachable from the clients
        f"advertised.listeners=PLAINTEXT://{s.bind_host}:{b.port}",
        "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={b.data}", f"num.partitions={s.kafka_partitions}",
        f"default.replication.factor={b.replicas}", f"min.insync.replicas={min_isr}",
        f"offsets.topic.replication.factor={b.replicas}", f"transaction.state.log.replication.factor={b.replicas}",
        f"transaction.state.log.min.isr={min_isr}", f"share.coordinator.state.topic.replication.factor={b.replicas}",
        f"share.coordinator.state.topic.min.isr={min_isr}",
        "group.initial.rebalance.delay.ms=0", "auto.create.topics.enable=true",
        # Topic data is bounded: a partition keeps at most 7 days (Kafka's default, stated) and
        # 512 MB; retention removes whole segments, so segments are 128 MB (default 1 GB).
        "log.retention.hours=168", "log.retention.bytes=536870912", "log.segment.bytes=134217728", "",
    ]))
    log4j = b.base / "log4j2.properties"
    # the broker's own log rolls over at 10 MB and keeps 5 old files: at most 60 MB
    log4j.write_text("\n".join([
        "status = error", "appender.file.type = RollingFile", "appender.file.name = file",
        f"appender.file.fileName = {b.log}", f"appender.file.filePattern = {b.log}.%i",
        "appender.file.layout.type = PatternLayout", "appender.file.layout.pattern = [%d] %p %m (%c)%n",
        "appender.file.policies.type = Policies",
        "appender.file.policies.size.type = SizeBasedTriggeringPolicy", "appender.file.policies.size.size = 10MB",
        "appender.file.strategy.type = DefaultRolloverStrategy", "appender.file.strategy.max = 5",
        "rootLogger.level = INFO", "rootLogger.appenderRef.file.ref = file", "",
    ]))
    return props, log4j


def start(s: Settings) -> None:
    start_broker(s, single(s))


def start_broker(s: Settings, b: Broker, cluster_id: str | None = None) -> None:
    """Write the broker's configuration, format its storage once (with ``cluster_id``,
    the same for every broker of a cluster; a fresh one by default), start it."""
    jars = kafka_jars(s)
    java = find_jdk(17, f"Kafka {versions()['KAFKA_VERSION']}") / "bin" / "java"
    b.base.mkdir(parents=True, exist_ok=True)
    b.data.mkdir(parents=True, exist_ok=True)
    b.log.parent.mkdir(parents=True, exist_ok=True)
    props, log4j = _write_config(s, b)
    classpath = f"{jars}/*"
    if not (b.data / "meta.properties").exists():
        # KRaft storage is formatted once with a cluster id (given as --cluster-id=<id>:
        # a base64 id may start with "-", which would read as an option after a bare -t)
        cluster_id = cluster_id or new_cluster_id()
        res = subprocess.run([str(java), "-cp", classpath, f"-Dlog4j2.configurationFile={log4j}",
                              "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(props)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise ServiceError(f"formatting Kafka storage failed: {(res.stdout + res.stderr).strip()[-400:]}")
    out = open(b.log.with_suffix(".out"), "ab")
    proc = subprocess.Popen(
        # its heap is a setting (KAFKA_HEAP, docs/memory.md); a workshop's few topics need little
        [str(java), f"-Xms{b.heap}", f"-Xmx{b.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
         f"-Dlog4j2.configurationFile={log4j}", "-cp", classpath, "kafka.Kafka", str(props)],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    write_pid_file(pid_file(s, b.name), proc.pid)


def new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def healthy(s: Settings) -> bool:
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
