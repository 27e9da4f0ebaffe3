"""Stage-2 enrichment: a play + its customer + its track -> one document.

The pure part (no I/O), which the unit tests feed with dictionaries:

    from stage2.enrich import enrich_event
    enrich_event({"event_id": 1, "customer_id": 42, "track_id": 7, ...},
                 customer={"name": "Ann", "gender": "female", "age": "31", ...},   # the Redis hash
                 track={"title": "Blue", "artist": "Lee", "length": 210})          # from music.csv
    -> {..., "customer_known": True, "name": "Ann", "gender": "female", "age": 31,
        "title": "Blue", "artist": "Lee", "length": 210}

and ``index_partition``, which the streaming job runs on the Spark executors for
each Kafka partition of each micro-batch: parse (common.events.parse_event, the
same rules as stage 1), look every customer up with ONE pipelined Redis round
trip, add the track, bulk-index, dead-letter what cannot be parsed. It lives in
this importable module, not in the job's script, so Spark's Python workers can
import it (a function of a script's ``__main__`` could not be found by them).

Every Redis and Elasticsearch request of a partition is retried with bounded
backoff while the engine is away (common.retry), so a restarting engine only
delays the micro-batch; a replayed request rewrites the same ids.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Callable, Mapping

from common.pyworker import settle
from common.schema import ENRICHED_FIELDS
from stage2.import_customers import HASH_TO_DOC, customer_fields

TRACK_TO_DOC = ("title", "artist", "length")

assert {doc for doc, _ in HASH_TO_DOC.values()} | set(TRACK_TO_DOC) | {"customer_known"} \
    == {f.name for f in ENRICHED_FIELDS}, "enrichment and common.schema.ENRICHED_FIELDS disagree"


def track_fields(track: Mapping | None) -> dict:
    """title, artist and length of a catalog row; nothing for an unknown track."""
    if not track:
        return {}
    return {name: track[name] for name in TRACK_TO_DOC if track.get(name) is not None}


def enrich_event(event: dict, customer: Mapping | None, track: Mapping | None) -> dict:
    """A parsed event + its customer hash + its catalog row -> the stage-2 document
    (``common.schema.STAGE2_DOC_FIELDS``)."""
    return {**event, **customer_fields(customer), **track_fields(track)}


# --- on the executors: one Kafka partition of one micro-batch -------------------------
_CLIENTS: dict = {}


def worker_clients(settings):
    """One Elasticsearch and one Redis client per Python worker, reused across batches."""
    from common.clients import es_client, redis_client

    key = (settings.es_url, settings.redis_url)
    if key not in _CLIENTS:
        _CLIENTS[key] = (es_client(settings, check=False), redis_client(settings, check=False))
    return _CLIENTS[key]


# What each partition reports to the driver (one row per partition). "own" counts
# the records of this bounded run (see JobOptions.first_event_id); the rest is backlog.
PARTITION_COUNTS = ("records", "own", "indexed", "rejected", "unknown_customers", "oldest_ms", "finished_ms")
PARTITION_COUNTS_DDL = ", ".join(f"{name} LONG" for name in PARTITION_COUNTS)

# A hook sees each partition's documents before they are indexed and may add
# fields to them; stage 3 plugs its live targeting in here. Called as
# hook(redis_client, docs, settings) on the executor.
BeforeIndex = Callable[[object, list, object], object]


def kafka_times(column) -> list:
    """An Arrow column of Kafka timestamps -> naive UTC datetimes (None where missing),
    the ``received_at`` that common.events.parse_event judges a play's time against."""
    import pyarrow as pa

    epoch = datetime(1970, 1, 1)
    tz = getattr(column.type, "tz", None)
    micros = column.cast(pa.timestamp("us", tz)).cast(pa.int64()).to_pylist()   # UTC, whatever tz says
    return [None if us is None else epoch + timedelta(microseconds=us) for us in micros]


def deadletter_where(batch, i: int) -> str:
    """Where record ``i`` of an Arrow batch came from, for its dead letter's id: the
    topic and the line's place in the shipper's file (its SOURCE_HEADER), so a line the
    shipper sent twice after a crash is one dead letter; without that header the
    topic-partition-offset, so a replayed micro-batch rewrites the same dead letter."""
    from common.sinks import source_of

    topic = batch["topic"][i].as_py()
    if "headers" in batch.schema.names:
        position = source_of(batch["headers"][i].as_py())
        if position:
            return f"{topic}@{position}"
    return "-".join(str(batch[col][i].as_py()) for col in ("topic", "partition", "offset"))


def index_partition_arrow(batches, settings, catalog: dict, index: str, naive: bool = False,
                          before_index: BeforeIndex | None = None, own_ids: tuple[int, int] | None = None):
    """``mapInArrow`` entry point: yields ``index_partition``'s counts as one Arrow row."""
    settle()          # once per worker: common/pyworker.py
    import pyarrow as pa

    counts = index_partition(batches, settings, catalog, index, naive, before_index, own_ids)
    yield pa.RecordBatch.from_pydict({k: pa.array([counts[k]], pa.int64()) for k in PARTITION_COUNTS})


def index_partition(batches, settings, catalog: dict, index: str, naive: bool = False,
                    before_index: BeforeIndex | None = None, own_ids: tuple[int, int] | None = None) -> dict:
    """Parse, enrich and index one partition's Kafka records; returns its counts.

    ``batches``: Arrow record batches with the Kafka source's value, topic,
    partition, offset, timestamp and (optional) headers columns: the values come
    over as whole columns, not one Python Row object per record. Each play is
    judged against its record's Kafka timestamp (``received_at``).
    Batched (default): ONE Redis pipeline for all the partition's customers and
    bulk requests of ``settings.bulk_size`` documents. ``naive``: one HGETALL and
    one index request per record, as the original demo did (for the benchmark).
    ``own_ids`` = (first, end): records whose event id is in [first, end) are this run's.
    """
    import pyarrow.compute as pc

    from common.events import Rejected, event_id_of, parse_event
    from common.retry import call_with_retry
    from common.sinks import EsBulkSink, read_hashes

    def from_redis(call):
        return call_with_retry(call, "Redis", settings.redis_url)

    def to_elasticsearch(call):
        return call_with_retry(call, "Elasticsearch", settings.es_url)

    es, r = worker_clients(settings)
    sink = EsBulkSink(es, index, settings.index_deadletter, source="stage2-streaming",
                      chunk_size=settings.bulk_size)
    events, rejected, oldest_us, own = [], [], [], 0
    for batch in batches:
        if not batch.num_rows:
            continue
        oldest_us.append(pc.min(batch["timestamp"]).value)    # microseconds since the epoch
        received = kafka_times(batch["timestamp"])
        for i, value in enumerate(batch["value"].to_pylist()):  # bytes, one C call per batch
            # judged against the time the record reached Kafka, as the other queries judge it
            parsed = parse_event(value, received_at=received[i],
                                 max_lead_seconds=settings.max_event_lead_seconds)
            event_id = parsed.get("event_id") if isinstance(parsed, dict) else event_id_of(value)
            own += own_ids is None or (event_id is not None and own_ids[0] <= event_id < own_ids[1])
            if isinstance(parsed, Rejected):
                rejected.append((parsed.reason, parsed.raw, deadletter_where(batch, i)))
            else:
                events.append(parsed)

    prefix = settings.redis_customer_prefix
    if naive:
        docs = [enrich_event(e, from_redis(lambda e=e: r.hgetall(f"{prefix}{e['customer_id']}")),
                             catalog.get(e["track_id"]))
                for e in events]
    else:
        # Each customer and each track is looked up and converted ONCE per
        # partition (a busy partition sees the same customers again and again);
        # every event then only merges three small dicts.
        ids = sorted({e["customer_id"] for e in events})
        hashes = from_redis(lambda: read_hashes(r, [f"{prefix}{c}" for c in ids]))
        customers = {c: customer_fields(h) for c, h in zip(ids, hashes)}
        tracks = {t: track_fields(catalog.get(t)) for t in {e["track_id"] for e in events}}
        docs = [{**e, **customers[e["customer_id"]], **tracks[e["track_id"]]} for e in events]
    if before_index is not None:
        from_redis(lambda: before_index(r, docs, settings))

    if naive:
        for doc in docs:
            to_elasticsearch(lambda doc=doc: es.index(index=index, id=str(doc["event_id"]), document=doc))
        failed = 0
    else:
        # refused documents are dead-lettered by the sink
        failed = len(to_elasticsearch(lambda: sink.write(docs)).failed)
    to_elasticsearch(lambda: sink.write_deadletters(rejected))
    return {"records": len(events) + len(rejected), "own": own, "indexed": len(docs) - failed,
            "rejected": len(rejected) + failed,
            "unknown_customers": sum(1 for d in docs if not d["customer_known"]),
            "oldest_ms": min(oldest_us) // 1000 if oldest_us else None,
            "finished_ms": int(time.time() * 1000)}
