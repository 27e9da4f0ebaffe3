"""Removing what a test created on the shared engines, by its unique prefix."""
from __future__ import annotations

from common.config import Settings


def drop_test_resources(s: Settings, prefix: str, templates: tuple[str, ...]) -> None:
    """Delete the indices ``prefix_*`` and the index templates ``templates`` in
    Elasticsearch, the Redis keys ``prefix:*`` and the Kafka topic ``s.kafka_topic``."""
    from common.clients import delete_topics, es_client, redis_client

    es, r = es_client(s), redis_client(s)
    es.options(ignore_status=404).indices.delete(index=f"{prefix}_*")
    for name in templates:
        es.options(ignore_status=404).indices.delete_index_template(name=name)
    keys = list(r.scan_iter(f"{prefix}:*"))
    if keys:
        r.delete(*keys)
    delete_topics([s.kafka_topic], s)
