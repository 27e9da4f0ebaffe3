"""Connections to the engines, built from the one settings object (common.config).

Each factory checks the engine answers, and when it does not, raises
``EngineUnavailable`` with the URL it tried and the fix:

    from common.clients import es_client, redis_client, kafka_producer, read_topic
    es = es_client()            # EngineUnavailable: Elasticsearch is not reachable at
                                # http://127.0.0.1:9200 ... start it with: make services-up
"""
from __future__ import annotations

import logging
import time
from typing import NamedTuple

from common.config import Settings, get_settings

FIX = "start it with: make services-up"


class EngineUnavailable(RuntimeError):
    def __init__(self, engine: str, url: str, cause: object = ""):
        super().__init__(f"{engine} is not reachable at {url} ({cause}); {FIX}")


class WritesRefused(EngineUnavailable):
    """The engine answers but takes no writes now. Elasticsearch: a read-only or closed
    index (a full disk makes an index read-only by itself), a full write queue (429), no
    shard to write to yet (503). Kafka: no leader for a partition, fewer in-sync replicas
    than ``min.insync.replicas``, a message not acknowledged in time. Waited out like an
    engine that is down, and the same records are sent again; never a reason to
    dead-letter them."""

    def __init__(self, reasons, engine: str = "Elasticsearch"):
        self.reasons, self.engine = sorted(set(reasons)), engine
        RuntimeError.__init__(self, f"{engine} takes no writes now: " + ", ".join(self.reasons))


def es_client(settings: Settings | None = None, check: bool = True):
    from elasticsearch import Elasticsearch
    from elasticsearch.serializer import OrjsonSerializer

    s = settings or get_settings()
    # orjson turns documents into JSON in C, ~5x faster than the standard library:
    # the bulk writers spend a good share of their time on exactly that.
    # A bulk request may take longer than a ping, but a paused node must not hold a
    # caller for long: 3x the engine timeout (30 s by default), then common.retry.
    kwargs = {**s.es_client_kwargs(), "request_timeout": 3 * s.engine_timeout_seconds}
    es = Elasticsearch(**kwargs, serializer=OrjsonSerializer())
    if check:
        try:
            es.cluster.health()   # (GET / is not served by the minimal distribution)
        except Exception as exc:   # connection refused, timeout, TLS: all mean "not there"
            raise EngineUnavailable("Elasticsearch", s.es_url, type(exc).__name__) from exc
    return es


def redis_client(settings: Settings | None = None, check: bool = True):
    """A Redis client that returns ``str`` (decode_responses=True)."""
    import redis

    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    s = settings or get_settings()
    # Timeouts, so a paused Redis cannot block a caller forever; redis-py's own
    # retry covers a blip (reconnects up to 3 times, 0.1-1 s apart); longer
    # outages are waited out by the caller with common.retry.
    client = redis.Redis.from_url(
        s.redis_url, decode_responses=True,
        socket_timeout=s.engine_timeout_seconds, socket_connect_timeout=s.engine_timeout_seconds,
        health_check_interval=30, retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 3),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError])
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise EngineUnavailable("Redis", s.redis_url, type(exc).__name__) from exc
    return client


# --- Kafka: confluent-kafka, the Python binding of librdkafka (C) ----------------
# Chosen for speed: producing a message costs ~2-4 µs of CPU here, against ~20 µs
# with the pure-Python kafka-python; the shipper is a hot loop of exactly that.
# librdkafka's own log lines (e.g. "Connect to ... failed" while a broker starts)
# go to this logger, silent unless an application configures logging; errors
# that matter still reach the caller as exceptions or failed deliveries.
KAFKA_LOG = logging.getLogger("kafka")
KAFKA_LOG.addHandler(logging.NullHandler())


class KafkaRecord(NamedTuple):
    key: bytes | None
    value: bytes | None
    partition: int
    offset: int


def kafka_config(s: Settings, config: dict | None = None) -> dict:
    """librdkafka settings (dotted names, e.g. ``{"linger.ms": 20}``) with the broker address."""
    return {"bootstrap.servers": s.kafka_bootstrap_servers,
            "security.protocol": s.kafka_security_protocol,
            "logger": KAFKA_LOG,
            **(config or {})}


def _check_broker(client, s: Settings, timeout: float = 5) -> None:
    """librdkafka connects lazily; ask for metadata so a missing broker fails now."""
    from confluent_kafka import KafkaException

    try:
        client.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise EngineUnavailable("Kafka", s.kafka_bootstrap_servers, exc.args[0].str()) from exc


def kafka_producer(settings: Settings | None = None, config: dict | None = None):
    """A confluent_kafka.Producer (see common.sinks.KafkaEventProducer for the keyed,
    acknowledged way the shipper uses it)."""
    from confluent_kafka import Producer

    s = settings or get_settings()
    producer = Producer(kafka_config(s, config))
    _check_broker(producer, s)
    return producer


def read_topic(topic: str, count: int, settings: Settings | None = None, timeout: float = 15) -> list[KafkaRecord]:
    """The first ``count`` records of ``topic`` (all partitions, from the beginning),
    or fewer if ``timeout`` seconds pass first. For tests and notebooks."""
    import uuid

    from confluent_kafka import Consumer

    s = settings or get_settings()
    consumer = Consumer(kafka_config(s, {"group.id": f"read-{uuid.uuid4().hex[:8]}",
                                         "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    records: list[KafkaRecord] = []
    try:
        _check_broker(consumer, s)
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=count - len(records), timeout=0.5):
                if not m.error():
                    records.append(KafkaRecord(m.key(), m.value(), m.partition(), m.offset()))
    finally:
        consumer.close()
    return records


def topic_end_offsets(topic: str, settings: Settings | None = None, timeout: float = 10) -> dict[int, int]:
    """{partition: offset the next record will get} for every partition of ``topic``."""
    import uuid

    from confluent_kafka import Consumer, TopicPartition

    s = settings or get_settings()
    consumer = Consumer(kafka_config(s, {"group.id": f"offsets-{uuid.uuid4().hex[:8]}",
                                         "enable.auto.commit": False}))
    try:
        _check_broker(consumer, s)
        partitions = consumer.list_topics(topic, timeout=timeout).topics[topic].partitions
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)[1]
                for p in sorted(partitions)}
    finally:
        consumer.close()


def _admin(s: Settings):
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(kafka_config(s))
    _check_broker(admin, s)
    return admin


def replication(settings: Settings, brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a new topic on ``brokers`` brokers:
    the settings, or by default one copy per broker (at most 3) and all copies but one
    (at least 1). With acks=all, a write is acknowledged once min.insync.replicas copies
    have it: on three brokers (3, 2), any one broker may die and no acknowledged play is lost."""
    factor = settings.kafka_replication_factor or max(1, min(3, brokers))
    return factor, settings.kafka_min_insync_replicas or max(1, factor - 1)


def ensure_topic(topic: str, partitions: int | None = None, settings: Settings | None = None) -> None:
    """Create ``topic`` with ``settings.kafka_partitions`` partitions if it does not exist,
    replicated as ``replication`` says for the brokers the cluster has."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import NewTopic

    s = settings or get_settings()
    admin = _admin(s)
    meta = admin.list_topics(timeout=10)
    if topic in meta.topics:
        return
    factor, min_insync = replication(s, len(meta.brokers))
    future = admin.create_topics([NewTopic(topic, partitions or s.kafka_partitions, factor,
                                           config={"min.insync.replicas": str(min_insync)})])[topic]
    try:
        future.result(timeout=30)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:   # created meanwhile: fine
            raise


def delete_topics(topics: list[str], settings: Settings | None = None) -> None:
    """Delete ``topics``; one that does not exist is not an error."""
    from confluent_kafka import KafkaError, KafkaException

    s = settings or get_settings()
    admin = _admin(s)          # keep a reference: the futures die with their client
    for future in admin.delete_topics(list(topics), operation_timeout=30).values():
        try:
            future.result(timeout=30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
