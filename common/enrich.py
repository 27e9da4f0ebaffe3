"""Stage-2 enrichment as pure functions: an event + its customer + its track -> one document.

No I/O here: the streaming job fetches the customer hashes from Redis (one
pipelined round trip per partition) and the catalog from ``data/music.csv``, and
hands them to these functions; the unit tests hand them dictionaries.

    from common.enrich import enrich_event
    enrich_event({"event_id": 1, "customer_id": 42, "track_id": 7, ...},
                 customer={b"name": b"Ann", b"gender": b"female", b"age": b"31", ...},
                 track={"title": "Blue", "artist": "Lee", "length": 210})
    -> {..., "customer_known": True, "name": "Ann", "gender": "female", "age": 31,
        "title": "Blue", "artist": "Lee", "length": 210}

Parsing a Kafka value is ``common.events.parse_event`` (the same rules as stage 1).
"""
from __future__ import annotations

from typing import Mapping

from common.schema import ENRICHED_FIELDS

# Redis hash field -> (document field, converter). The hash is written by
# 01.stage2/import_customers.py (see the shared contract in its docstring).
CUSTOMER_HASH_TO_DOC = {
    "name": ("name", str),
    "gender": ("gender", str),
    "age": ("age", int),
    "age_band": ("age_band", str),
    "level": ("level", str),
    "campaign": ("campaign", int),
    "zip": ("customer_zip", str),
    "linked_with_apps": ("linked_with_apps", int),
}
TRACK_TO_DOC = ("title", "artist", "length")

assert {doc for doc, _ in CUSTOMER_HASH_TO_DOC.values()} | set(TRACK_TO_DOC) | {"customer_known"} \
    == {f.name for f in ENRICHED_FIELDS}, "enrichment and common.schema.ENRICHED_FIELDS disagree"


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def customer_fields(customer_hash: Mapping | None) -> dict:
    """Document fields from a Redis customer hash (bytes or str keys/values).

    An empty or missing hash means an unknown customer: ``customer_known`` is
    False and the customer fields are left out (the event is kept, not dropped).
    """
    if not customer_hash:
        return {"customer_known": False}
    flat = {_text(k): _text(v) for k, v in customer_hash.items()}
    out: dict = {"customer_known": True}
    for hash_field, (doc_field, convert) in CUSTOMER_HASH_TO_DOC.items():
        value = flat.get(hash_field)
        if value not in (None, ""):
            out[doc_field] = convert(value)
    return out


def track_fields(track: Mapping | None) -> dict:
    """title, artist and length of a catalog row; nothing for an unknown track."""
    if not track:
        return {}
    return {name: track[name] for name in TRACK_TO_DOC if track.get(name) is not None}


def enrich_event(event: dict, customer: Mapping | None, track: Mapping | None) -> dict:
    """A parsed event (``common.events.parse_event``) + customer hash + catalog row
    -> the stage-2 document (``common.schema.STAGE2_DOC_FIELDS``)."""
    return {**event, **customer_fields(customer), **track_fields(track)}


def catalog_from_rows(rows) -> dict[int, dict]:
    """music.csv rows (TrackId, Title, Artist, Length) -> {track_id: {title, artist, length}}."""
    return {int(r["TrackId"]): {"title": str(r["Title"]), "artist": str(r["Artist"]),
                                "length": int(r["Length"])}
            for r in rows}


# --- I/O: one Kafka partition of one micro-batch, run on a Spark executor -------
# The streaming job hands each partition's records to ``index_partition``. It is
# here, in an importable module, so Spark's Python workers can import it (a
# function defined in a script's __main__ could not be found by them).
_CLIENTS: dict = {}


def _clients(settings):
    """One ES and one Redis client per Python worker, reused across micro-batches."""
    from common.clients import es_client, redis_client

    key = (settings.es_url, settings.redis_url)
    if key not in _CLIENTS:
        _CLIENTS[key] = (es_client(settings, check=False), redis_client(settings, check=False))
    return _CLIENTS[key]


# The counts each partition returns to the driver (one row per partition).
PARTITION_COUNTS = ("records", "indexed", "rejected", "unknown_customers", "oldest_ms", "finished_ms")
PARTITION_COUNTS_DDL = ", ".join(f"{name} LONG" for name in PARTITION_COUNTS)


def index_partition_arrow(batches, settings, catalog: dict, index: str, stage3: bool = False,
                          naive: bool = False):
    """``mapInArrow`` entry point: yields ``index_partition``'s counts as one Arrow row."""
    import pyarrow as pa

    counts = index_partition(batches, settings, catalog, index, stage3=stage3, naive=naive)
    yield pa.RecordBatch.from_pydict({k: pa.array([counts[k]], pa.int64()) for k in PARTITION_COUNTS})


def index_partition(batches, settings, catalog: dict, index: str, stage3: bool = False,
                    naive: bool = False) -> dict:
    """Parse, enrich and index one partition's Kafka records; returns its counts.

    ``batches``: Arrow record batches with the Kafka source's value, topic,
    partition, offset and timestamp columns (``mapInArrow``): the values come
    over as whole columns, not one Python Row object per record.
    Batched (default): ONE Redis pipeline for all the partition's customers and
    bulk requests of ``settings.bulk_size`` documents. ``naive``: one HGETALL and
    one index request per record, as the original demo did (for the benchmark).
    """
    import time

    import pyarrow.compute as pc

    from common.events import Rejected, parse_event
    from common.sinks import EsBulkSink, read_hashes

    es, r = _clients(settings)
    sink = EsBulkSink(es, index, settings.index_deadletter, source="stage2-streaming",
                      chunk_size=settings.bulk_size)
    events, rejected, oldest_us = [], [], []
    for batch in batches:
        if not batch.num_rows:
            continue
        oldest_us.append(pc.min(batch["timestamp"]).value)    # microseconds since the epoch
        for i, value in enumerate(batch["value"].to_pylist()):  # bytes, one C call per batch
            parsed = parse_event(value)
            if isinstance(parsed, Rejected):
                # where = topic-partition-offset: a replayed batch rewrites the same dead letter
                where = "-".join(str(batch[col][i].as_py()) for col in ("topic", "partition", "offset"))
                rejected.append((parsed.reason, parsed.raw, where))
            else:
                events.append(parsed)

    prefix = settings.redis_customer_prefix
    if naive:
        docs = [enrich_event(e, r.hgetall(f"{prefix}{e['customer_id']}"), catalog.get(e["track_id"]))
                for e in events]
    else:
        # Each customer and each track is looked up and converted ONCE per
        # partition (a busy partition sees the same customers again and again);
        # every event then only merges three small dicts.
        ids = sorted({e["customer_id"] for e in events})
        customers = {c: customer_fields(h) for c, h in
                     zip(ids, read_hashes(r, [f"{prefix}{c}" for c in ids]))}
        tracks = {t: track_fields(catalog.get(t)) for t in {e["track_id"] for e in events}}
        docs = [{**e, **customers[e["customer_id"]], **tracks[e["track_id"]]} for e in events]
    if stage3:
        from common.offers import queue_offers
        queue_offers(r, docs, settings)     # adds ad_target / send_event to each doc

    if naive:
        for doc in docs:
            es.index(index=index, id=str(doc["event_id"]), document=doc)
        failed = 0
    else:
        failed = len(sink.write(docs).failed)   # refused documents are dead-lettered by the sink
    sink.write_deadletters(rejected)
    return {"records": len(events) + len(rejected), "indexed": len(docs) - failed,
            "rejected": len(rejected) + failed,
            "unknown_customers": sum(1 for d in docs if not d["customer_known"]),
            "oldest_ms": min(oldest_us) // 1000 if oldest_us else None,
            "finished_ms": int(time.time() * 1000)}
