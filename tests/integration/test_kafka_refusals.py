"""Kafka refusing a message for what it is, against the real broker: a message too big
for its topic is a dead letter (sent on as a short stand-in that the stage-2 job
dead-letters as kafka_rejected), and the good messages Kafka failed in the same batch
land once. (The cluster refusing writes for its own state, too few in-sync replicas
after a broker loss, is waited out: tests/e2e/test_multinode.py, on three brokers.)"""
from __future__ import annotations

import os

import pytest

from common.clients import _admin, delete_topics, ensure_topic, read_topic
from common.config import get_settings
from common.events import Rejected, parse_event
from common.sinks import KafkaEventProducer
from tests.stage1_data import track_lines

pytestmark = pytest.mark.integration


def set_topic_config(topic: str, **config: str) -> None:
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

    entries = [ConfigEntry(k.replace("_", "."), v, incremental_operation=AlterConfigOpType.SET)
               for k, v in config.items()]
    admin = _admin(get_settings())
    for future in admin.incremental_alter_configs([ConfigResource("topic", topic, incremental_configs=entries)]).values():
        future.result(timeout=30)


@pytest.fixture
def topic(engines, unique):
    name = f"t_kref_{unique}"
    ensure_topic(name, partitions=2)
    yield name
    delete_topics([name])


def test_a_message_too_big_for_its_topic_becomes_a_dead_letter_and_the_rest_of_its_batch_lands(topic):
    set_topic_config(topic, max_message_bytes="2000")
    good = track_lines(40)
    big = b"9,9,9,2026-01-01 00:00:00,1," + os.urandom(3000).hex().encode()   # under max_line_bytes, over 2000
    producer = KafkaEventProducer(get_settings(), topic)
    for line in good[:20] + [big] + good[20:]:
        producer.send(line, key=b"9")                     # one key: one partition, one batch
    assert producer.flush(timeout=30) == 41
    assert producer.rejected == 1

    received = read_topic(topic, 41, timeout=10)
    values = [r.value for r in received]
    assert sorted(v for v in values if v in good) == sorted(good)
    stand_ins = [v for v in values if v not in good]
    assert len(stand_ins) == 1 and len(values) == 41
    rejected = parse_event(stand_ins[0])
    assert isinstance(rejected, Rejected) and rejected.reason == "kafka_rejected"
    assert rejected.raw.startswith("MSG_SIZE_TOO_LARGE, 6028 bytes, first bytes: 9,9,9,")
