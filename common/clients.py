"""Connections to the engines, built from the one settings object (common.config).

Each factory checks the engine answers, and when it does not, raises
``EngineUnavailable`` with the URL it tried and the fix:

    from common.clients import es_client, redis_client, kafka_producer, kafka_consumer
    es = es_client()            # EngineUnavailable: Elasticsearch is not reachable at
                                # http://127.0.0.1:9200 ... start it with: make services-up
"""
from __future__ import annotations

from common.config import Settings, get_settings

FIX = "start it with: make services-up"


class EngineUnavailable(RuntimeError):
    def __init__(self, engine: str, url: str, cause: object = ""):
        super().__init__(f"{engine} is not reachable at {url} ({cause}); {FIX}")


def es_client(settings: Settings | None = None, check: bool = True):
    from elasticsearch import Elasticsearch

    s = settings or get_settings()
    es = Elasticsearch(**s.es_client_kwargs())
    if check:
        try:
            es.cluster.health()   # (GET / is not served by the minimal distribution)
        except Exception as exc:   # connection refused, timeout, TLS: all mean "not there"
            raise EngineUnavailable("Elasticsearch", s.es_url, type(exc).__name__) from exc
    return es


def redis_client(settings: Settings | None = None, check: bool = True):
    """A Redis client that returns ``str`` (decode_responses=True)."""
    import redis

    s = settings or get_settings()
    client = redis.Redis.from_url(s.redis_url, decode_responses=True)
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise EngineUnavailable("Redis", s.redis_url, type(exc).__name__) from exc
    return client


def _kafka_common(s: Settings) -> dict:
    return {"bootstrap_servers": s.kafka_bootstrap_servers.split(","),
            "security_protocol": s.kafka_security_protocol}


def kafka_producer(settings: Settings | None = None, **config):
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    s = settings or get_settings()
    try:
        return KafkaProducer(**_kafka_common(s), **config)
    except KafkaError as exc:   # NoBrokersAvailable when nothing listens
        raise EngineUnavailable("Kafka", s.kafka_bootstrap_servers, type(exc).__name__) from exc


def kafka_consumer(*topics: str, settings: Settings | None = None, **config):
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    s = settings or get_settings()
    try:
        return KafkaConsumer(*topics, **_kafka_common(s), **config)
    except KafkaError as exc:
        raise EngineUnavailable("Kafka", s.kafka_bootstrap_servers, type(exc).__name__) from exc


def ensure_topic(topic: str, partitions: int | None = None, settings: Settings | None = None) -> None:
    """Create ``topic`` with ``settings.kafka_partitions`` partitions if it does not exist."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    s = settings or get_settings()
    try:
        admin = KafkaAdminClient(**_kafka_common(s))
    except KafkaError as exc:
        raise EngineUnavailable("Kafka", s.kafka_bootstrap_servers, type(exc).__name__) from exc
    try:
        if topic not in admin.list_topics():
            admin.create_topics([NewTopic(topic, partitions or s.kafka_partitions, 1)])
    except TopicAlreadyExistsError:
        pass   # another process created it meanwhile
    finally:
        admin.close()
