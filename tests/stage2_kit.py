"""What the in-process stage-2 job tests share: isolated settings, a producer that
sends lines as the shipper does, the job drained once, and an index read whole."""
from __future__ import annotations

from pathlib import Path

from common.config import Settings
from common.events import customer_key


def stage2_settings(unique: str, data_dir: Path) -> Settings:
    """Topic, indices and Redis prefixes of one test (``t_<unique>...``)."""
    return Settings(kafka_topic=f"t_{unique}", index_stage2=f"t_{unique}_enriched",
                    index_interest=f"t_{unique}_interest", index_deadletter=f"t_{unique}_dead",
                    index_stats=f"t_{unique}_stats", index_profiles=f"t_{unique}_profiles",
                    redis_customer_prefix=f"t_{unique}:customer:", redis_interest_prefix=f"t_{unique}:interest:",
                    data_dir=data_dir, trigger_interval="1 second")


def produce(s: Settings, lines: list[str | bytes]) -> int:
    """Send the lines as the shipper does; returns how many the producer had to cut."""
    from common.clients import ensure_topic
    from common.sinks import KafkaEventProducer

    ensure_topic(s.kafka_topic, settings=s)
    with KafkaEventProducer(s) as producer:
        for line in lines:
            raw = line if isinstance(line, bytes) else line.encode()
            producer.send(raw, key=customer_key(raw))
        producer.flush()          # would raise MSG_SIZE_TOO_LARGE if an oversized line were sent
        return producer.cut


def run_job(spark, s: Settings, tmp_path: Path, **options):
    """The job in this process, draining what Kafka holds (``available_now``); every
    query unless ``options`` switch some off. Run twice on one checkpoint = a restart."""
    from common.schema import STAGE2_DOC_FIELDS
    from stage2 import streaming_job as job

    opts = job.JobOptions(available_now=True, quiet=True, checkpoint_dir=tmp_path / "checkpoint", **options)
    return job.run(spark, s, opts, s.index_stage2, STAGE2_DOC_FIELDS)


def docs(s: Settings, index: str) -> dict[str, dict]:
    """Every document of ``index``: id -> source."""
    from elasticsearch import helpers

    from common.clients import es_client

    es = es_client(s)
    es.indices.refresh(index=index)
    return {h["_id"]: h["_source"] for h in helpers.scan(es, index=index, query={"query": {"match_all": {}}})}
