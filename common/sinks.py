"""Where events go: Elasticsearch (bulk), Kafka (keyed producer), Redis (batched reads).

    es = es_client(settings)                             # common.clients
    ensure_index(es, "ba_realtime", STAGE1_DOC_FIELDS)
    result = EsBulkSink(es, "ba_realtime", settings.index_deadletter).write(docs)
    result.indexed, result.failed                        # failed: per-document errors

    with KafkaEventProducer(settings, "realtime") as producer:
        producer.send(b"1,42,7,...", key=b"42", source="1234:0")   # source: header, optional
        producer.flush()                                 # raises if a send failed

    read_hashes(redis, ["customer:1", "customer:2"])   # one round trip -> [dict, dict]
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from elasticsearch import Elasticsearch, helpers

from common.clients import WritesRefused
from common.config import Settings
from common.events import RAW_KEEP_BYTES, Rejected, deadletter_doc, kafka_rejected_line, too_long_line
from common.retry import error_type, kafka_bad_record, refused_types
from common.schema import Field, es_index_template


# --- Elasticsearch ---------------------------------------------------------------
def ensure_index(es: Elasticsearch, index: str, fields: tuple[Field, ...],
                 refresh_interval: str = "1s") -> None:
    """Install the index template rendered from common.schema and create the index.

    Idempotent. The template is named after the index, so recreating a deleted
    index (``make reset``) gets the same mappings again."""
    body = es_index_template(index, fields, refresh_interval=refresh_interval)
    es.indices.put_index_template(name=index, **body)
    if not es.indices.exists(index=index):
        es.options(ignore_status=400).indices.create(index=index)   # 400: created meanwhile


def set_refresh_interval(es: Elasticsearch, index: str, interval: str) -> None:
    """``"-1"`` turns periodic refresh off (faster bulk loads), ``"1s"`` turns it back on."""
    es.indices.put_settings(index=index, settings={"index": {"refresh_interval": interval}})


@dataclass
class BulkResult:
    indexed: int = 0
    failed: list[dict] = field(default_factory=list)   # {"_id", "error", "doc"} per failure


def deadletter_id(source: str, raw: str, where: str = "") -> str:
    """A stable id, so shipping the same rejected line twice stores it once."""
    return hashlib.sha1(f"{source}\x00{where}\x00{raw}".encode()).hexdigest()


def bulk_or_wait(es: Elasticsearch, actions: list[dict], chunk_size: int) -> int:
    """helpers.bulk of ``actions``; raises WritesRefused if Elasticsearch refused any of
    them for its own state (so call_with_retry waits and sends them all again: the
    actions carry fixed ids). Any other refusal raises helpers.BulkIndexError."""
    try:
        ok, _ = helpers.bulk(es, actions, chunk_size=chunk_size, max_retries=5)
    except helpers.BulkIndexError as e:
        refused = refused_types(next(iter(item.values())) for item in e.errors)
        if refused:
            raise WritesRefused(refused) from e
        raise
    return ok


class EsBulkSink:
    """Bulk-index documents with ``event_id`` as ``_id`` (re-runs overwrite, never duplicate).

    Documents Elasticsearch refuses for what they hold (a mapping error, say) are
    returned in ``BulkResult.failed`` and written to the dead-letter index, so one
    bad document never stops the stream. Documents it refuses for its own state (a
    read-only index, a full queue: is_refusal) raise WritesRefused, and transport
    errors (the cluster is down) raise too: the caller waits (call_with_retry),
    writes the same documents again and must not commit its offset before."""

    def __init__(self, es: Elasticsearch, index: str, deadletter_index: str,
                 source: str = "shipper", id_field: str = "event_id", chunk_size: int = 2000):
        self.es, self.index, self.deadletter_index = es, index, deadletter_index
        self.source, self.id_field, self.chunk_size = source, id_field, chunk_size

    def _actions(self, docs):
        for doc in docs:
            yield {"_index": self.index, "_id": str(doc[self.id_field]), "_source": doc}

    def write(self, docs: list[dict]) -> BulkResult:
        result = BulkResult()
        by_id = {str(d[self.id_field]): d for d in docs}
        for ok, item in helpers.streaming_bulk(
                self.es, self._actions(docs), chunk_size=self.chunk_size,
                raise_on_error=False, raise_on_exception=True,
                max_retries=5, initial_backoff=1,         # retries 429 (cluster busy) only
                # only what we read back from each item: a much shorter response
                filter_path="errors,items.*._id,items.*.status,items.*.error"):
            if ok:
                result.indexed += 1
            else:
                info = item["index"]
                result.failed.append({"_id": info.get("_id"), "status": info.get("status"),
                                      "error": info.get("error"), "doc": by_id.get(str(info.get("_id")))})
        refused = refused_types(result.failed)
        if refused:
            # the engine's state, not the documents': send them all again later (same ids)
            raise WritesRefused(refused)
        if result.failed:
            self.write_deadletters([
                (f"index_error: {error_type(f['error'])}", json.dumps(f["doc"]), f["_id"])
                for f in result.failed])
        return result

    def write_deadletters(self, rejected: list[tuple[str, str, str]]) -> int:
        """Store (reason, raw, where) triples in the dead-letter index; returns how many."""
        if not rejected:
            return 0
        now = datetime.now(timezone.utc)
        actions = [{"_index": self.deadletter_index,
                    "_id": deadletter_id(self.source, raw, where),
                    "_source": deadletter_doc(Rejected(reason, raw), self.source, now)}
                   for reason, raw, where in rejected]
        return bulk_or_wait(self.es, actions, self.chunk_size)

    def refresh(self) -> None:
        """Make everything written so far searchable now."""
        self.es.indices.refresh(index=self.index)
        self.es.options(ignore_status=404).indices.refresh(index=self.deadletter_index)


# --- Kafka -------------------------------------------------------------------------
# The Kafka header naming a line's place in its source file ('inode:byte offset'). A
# shipper that crashed between its Kafka flush and its offset commit sends up to a batch
# of lines again: new offsets in Kafka, the same header, so the stage-2 job derives the
# same dead-letter id from it (see source_of) and stores a duplicated bad line once.
SOURCE_HEADER = "source_position"


def source_of(headers) -> str | None:
    """The SOURCE_HEADER value among a record's headers: Spark's list of
    {"key", "value"} rows (includeHeaders) or confluent_kafka's (key, value) pairs."""
    for header in headers or ():
        key, value = (header.get("key"), header.get("value")) if isinstance(header, dict) else header
        if key == SOURCE_HEADER and value:
            return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return None


class KafkaEventProducer:
    """A keyed producer that waits for every in-sync replica (acks=all).

    Messages with the same key (the customer id) land in the same partition, so
    one customer's plays stay in order. ``flush`` raises if any send since the
    last flush failed, so a caller commits its offset only after a clean flush.
    The producer is idempotent: a send that librdkafka retries is still stored
    once. Used as a context manager it flushes on exit, also on Ctrl-C.

    A value longer than the max_line_bytes setting (far below the ~1 MiB a broker
    takes) is never handed to librdkafka, which would fail the whole flush with
    MSG_SIZE_TOO_LARGE, again on every retry: its short stand-in
    (common.events.too_long_line) is sent instead, so the stage-2 job
    dead-letters it as line_too_long. ``cut`` counts them.

    A message that fails is sorted by its error (common.retry.kafka_bad_record).
    Refused for what it is (too big for the topic, invalid for it: tried once more
    alone, since Kafka fails a whole batch for one such message): its stand-in
    (common.events.kafka_rejected_line) goes instead, a dead letter downstream;
    ``rejected`` counts them. Refused for the cluster's state (no leader during a
    failover, too few in-sync replicas, no acknowledgement in time): librdkafka
    retries those itself until message.timeout.ms, storing each message once; after
    that ``flush`` raises WritesRefused, and the next ``flush`` sends the same messages
    again. (Then a message the broker wrote but could not acknowledge is in the topic
    twice, with the same source header; downstream a play is keyed by its event id.)"""

    # librdkafka settings; keys are librdkafka's own names
    CONFIG = {"acks": "all",
              "enable.idempotence": True,       # retries never duplicate a message
              # key -> partition as Java clients (and Logstash) do it; librdkafka's
              # own default hashes differently
              "partitioner": "murmur2_random",
              "linger.ms": 20,                  # wait up to 20 ms to fill a batch...
              "batch.size": 256 * 1024,         # ...of up to 256 KiB per partition
              "compression.type": "lz4",        # text shrinks ~3x; lz4 is the cheapest codec to (de)compress
              "message.timeout.ms": 30_000}     # give up (and raise in flush) after 30 s

    def __init__(self, settings: Settings, topic: str | None = None, **overrides):
        from common.clients import kafka_producer

        self.topic = topic or settings.kafka_topic
        self.producer = kafka_producer(settings, {**self.CONFIG, **overrides})
        self.max_value_bytes = settings.max_line_bytes
        self.cut = self.rejected = 0
        self._sent = 0
        self._failed: list = []          # (error, message) from librdkafka's delivery reports
        self._again: list = []           # messages the cluster refused: sent again by the next flush

    def _delivered(self, err, msg) -> None:      # called by librdkafka inside poll/flush
        if err is not None:
            self._failed.append((err, msg))

    def _produce(self, value: bytes, key: bytes | None, headers) -> None:
        while True:
            try:
                self.producer.produce(self.topic, value=value, key=key, headers=headers,
                                      on_delivery=self._delivered)
                return
            except BufferError:          # local queue full: let librdkafka send some first
                self.producer.poll(0.1)

    def send(self, value: bytes, key: bytes | None = None, source: str | None = None) -> None:
        """Queue one message. ``source``: where the line came from (the shipper's
        'inode:offset'), sent as the SOURCE_HEADER header, so a line the shipper
        sends again after a crash is known as the same line downstream."""
        if len(value) > self.max_value_bytes:
            value = too_long_line(value[:RAW_KEEP_BYTES], len(value))
            self.cut += 1
        headers = [(SOURCE_HEADER, source.encode())] if source else None
        self._produce(value, key, headers)
        self._sent += 1

    def flush(self, timeout: float = 60) -> int:
        """Wait until everything sent so far is acknowledged; returns how many.
        Raises WritesRefused (the cluster takes no writes now) or TimeoutError; call it
        again to send the refused messages once more."""
        for msg in self._again:
            self._produce(msg.value(), msg.key(), msg.headers())
        self._again = []
        left = self.producer.flush(timeout)
        failed, self._failed = self._failed, []
        self._again = [msg for err, msg in failed if not kafka_bad_record(err)]
        refused = [err.name() for err, _ in failed if not kafka_bad_record(err)]
        for msg in [msg for err, msg in failed if kafka_bad_record(err)]:
            refused += self._send_alone(msg, timeout)
        if self._again:
            raise WritesRefused(refused, engine="Kafka")
        if left:
            raise TimeoutError(f"{left} Kafka messages not acknowledged after {timeout} s")
        sent, self._sent = self._sent, 0
        return sent

    def _send_alone(self, msg, timeout: float) -> list[str]:
        """A message failed as a bad record: Kafka fails the whole batch for one such
        message, so send it once more on its own; if it fails again, its stand-in.
        Returns the errors of a send the cluster refused (then it waits in ``_again``)."""
        from confluent_kafka import KafkaException

        self._produce(msg.value(), msg.key(), msg.headers())
        self.producer.flush(timeout)
        failed, self._failed = self._failed, []
        if failed and kafka_bad_record(failed[0][0]):
            self.rejected += 1
            self._produce(kafka_rejected_line(failed[0][0].name(), msg.value() or b""), msg.key(), msg.headers())
            self.producer.flush(timeout)
            failed, self._failed = self._failed, []
            if failed and kafka_bad_record(failed[0][0]):
                raise KafkaException(failed[0][0])      # not even the short stand-in fits: a bug
        self._again += [m for _, m in failed]        # refused for the cluster's state: with the others
        return [e.name() for e, _ in failed]

    def close(self) -> None:
        self.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- Redis -------------------------------------------------------------------------
def read_hashes(client, keys: list[str]) -> list[dict]:
    """HGETALL for many keys in one round trip (a pipeline); ``{}`` for a missing key.

    One request per key would cost a network round trip each: with 1,000 events
    per micro-batch that is the difference between ~1 ms and ~100 ms+."""
    if not keys:
        return []
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    return [dict(h) for h in pipe.execute()]
