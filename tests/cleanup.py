"""Removing what a test created on the shared engines, by its unique prefix."""
from __future__ import annotations

import os
import signal
import subprocess

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


def stage3_names(prefix: str) -> dict[str, str]:
    """Settings fields (topic, indices, Redis keys) of a stage-3 run under names of its own."""
    p = prefix
    return {"kafka_topic": p, "index_stage3": f"{p}_stage3", "index_interest": f"{p}_interest",
            "index_stats": f"{p}_stats", "index_profiles": f"{p}_profiles",
            "index_deadletter": f"{p}_dead", "redis_customer_prefix": f"{p}:customer:",
            "redis_interest_prefix": f"{p}:interest:", "redis_targets_set": f"{p}:targets",
            "redis_target_prefix": f"{p}:target:", "redis_offered_prefix": f"{p}:offered:",
            "redis_offers_stream": f"{p}:offers", "redis_offers_dead_stream": f"{p}:offers:dead",
            "redis_offers_channel": f"{p}:channel", "redis_sms_sent_counter": f"{p}:sent",
            "redis_outcomes_hash": f"{p}:outcomes", "redis_model_status": f"{p}:model"}


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a process still running and everything below it (a Spark JVM too), then reap it."""
    from tools.memwatch import tree_pids

    if proc.poll() is not None:
        return
    for pid in tree_pids([proc.pid]):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
