"""The shared sinks against the real engines: Elasticsearch bulk (ids, per-document
errors, dead letters), the keyed Kafka producer, batched Redis hash reads."""
from __future__ import annotations

import pytest

from common.clients import delete_topics, es_client, read_topic, redis_client
from common.config import Settings
from common.events import parse_event
from common.schema import STAGE1_DOC_FIELDS, DEADLETTER_FIELDS
from common.sinks import EsBulkSink, KafkaEventProducer, ensure_index, read_hashes
from tests.stage1_data import track_lines

pytestmark = pytest.mark.integration


@pytest.fixture
def indices(engines, unique):
    es = es_client()
    names = (f"t_{unique}", f"t_dl_{unique}")
    yield es, names
    for name in names:
        es.options(ignore_status=404).indices.delete(index=name)
        es.options(ignore_status=404).indices.delete_index_template(name=name)


def test_bulk_sink_uses_event_id_and_surfaces_per_document_errors(indices):
    es, (index, deadletter) = indices
    ensure_index(es, index, STAGE1_DOC_FIELDS)
    ensure_index(es, index, STAGE1_DOC_FIELDS)          # idempotent
    ensure_index(es, deadletter, DEADLETTER_FIELDS)
    docs = [parse_event(line) for line in track_lines(50)]
    broken = dict(docs[0], event_id=999999, ismobile="not a number")   # the mapping refuses it
    sink = EsBulkSink(es, index, deadletter, source="test", chunk_size=20)

    result = sink.write(docs + [broken])
    assert result.indexed == 50
    assert [f["_id"] for f in result.failed] == ["999999"]
    assert result.failed[0]["error"]["type"] == "document_parsing_exception"

    again = sink.write(docs[:10])                       # same ids: overwritten, not added
    assert again.indexed == 10 and not again.failed
    sink.refresh()
    assert es.count(index=index)["count"] == 50
    assert es.get(index=index, id=str(docs[7]["event_id"]))["_source"] == docs[7]
    (dead,) = [h["_source"] for h in es.search(index=deadletter)["hits"]["hits"]]
    assert dead["reason"] == "index_error: document_parsing_exception"
    assert dead["source"] == "test" and "not a number" in dead["raw"]


def test_strict_mapping_comes_from_the_schema(indices):
    es, (index, _) = indices
    ensure_index(es, index, STAGE1_DOC_FIELDS)
    mapping = es.indices.get_mapping(index=index)[index]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert set(mapping["properties"]) == {f.name for f in STAGE1_DOC_FIELDS}


def test_kafka_producer_keys_by_customer_and_flushes_on_exit(engines, unique):
    from common.clients import ensure_topic

    topic = f"t_{unique}"
    ensure_topic(topic, partitions=2)
    lines = track_lines(40)
    try:
        with KafkaEventProducer(Settings(), topic) as producer:
            for line in lines:
                producer.send(line, key=line.split(b",")[1])
        # no explicit flush: leaving the block flushed
        received = read_topic(topic, len(lines))
    finally:
        delete_topics([topic])
    assert sorted(m.value for m in received) == sorted(lines)
    assert all(m.key == m.value.split(b",")[1] for m in received)
    # one customer, one partition: the per-customer order is kept
    partitions = {}
    for m in received:
        partitions.setdefault(m.key, set()).add(m.partition)
    assert all(len(p) == 1 for p in partitions.values())


def test_read_hashes_is_one_pipeline_in_key_order(engines, unique):
    r = redis_client()
    keys = [f"t_{unique}:customer:{i}" for i in range(5)]
    try:
        for i, key in enumerate(keys[:4]):
            r.hset(key, mapping={"CustID": i, "Level": i % 3})
        got = read_hashes(r, keys)
    finally:
        r.delete(*keys)
    assert got[:4] == [{"CustID": str(i), "Level": str(i % 3)} for i in range(4)]
    assert got[4] == {}
    assert read_hashes(r, []) == []
