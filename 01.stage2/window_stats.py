"""Plays per sliding window, counted by Spark itself: "the last 30 minutes, every 5 minutes".

A third query of the stage-2 job (the enrichment and the interest list are the
other two). From event time, not arrival time:

    window     30 minutes long, a new one every 5 minutes (a sliding window), so
               each play counts in 6 windows; windows start on the clock's
               5-minute marks and cover [start, start + 30 min)
    keys       the play's state (from its zip), the customer's level (Free /
               Silver / Gold, from cust.csv) and the device (mobile / pc)
    watermark  10 minutes behind the latest play seen: a window whose end is at
               or behind the watermark is final (Spark forgets it, and a late
               play no longer counts in it; it still counts in its later windows)
    duplicates a record Kafka holds twice (same event id) counts once in each window
    output     update mode: each trigger writes only the windows whose count
               changed, upserted into ba_stats with the id
               <dimension>-<key>-<window start>, so a late play replaces the
               window's earlier count instead of adding a document

    event time  09:40   09:45   09:50   09:55   10:00   10:05   10:10
    play at 10:07 ---------------------------------------------x
    its windows   [09:40 ........................ 10:10)
                          [09:45 ........................ 10:15)
                                  ...                 [10:05 ...... 10:35)
    A play exactly at 10:05:00 starts counting in [10:05, 10:35) and is not in
    [09:35, 10:05). With the latest play at 10:30 the watermark is 10:20, so
    [09:45, 10:15) and [09:50, 10:20) are final: a play stamped 10:12 that
    arrives now is left out of them, and counted in [09:55, 10:25) ... [10:10, 10:40).

Window length, slide and lateness are settings (STATS_WINDOW_MINUTES,
STATS_SLIDE_MINUTES, STATS_LATENESS_MINUTES); the index is INDEX_STATS.
"""
from __future__ import annotations

from datetime import timezone

from common.pyworker import settle

STATS_INPUT_DDL = "event_id LONG, customer_id INT, played_at TIMESTAMP, state STRING, device STRING"
DIMENSIONS = ("state", "level", "device")
UNKNOWN = "unknown"      # a play without a known state or customer level


def plays_for_stats(frames):
    """mapInPandas: Kafka records (value, timestamp) -> (event_id, customer_id, played_at,
    state, device) of the well-formed plays, each judged against its Kafka timestamp
    (the enrichment query dead-letters the rest)."""
    settle()          # once per worker: common/pyworker.py
    import pandas as pd

    from common.events import parse_kafka_records

    for frame in frames:
        plays = parse_kafka_records(frame["value"], frame["timestamp"])
        yield pd.DataFrame({
            "event_id": pd.Series([p["event_id"] for p in plays], dtype="int64"),
            "customer_id": pd.Series([p["customer_id"] for p in plays], dtype="int32"),
            "played_at": pd.to_datetime(pd.Series([p["datetime"] for p in plays], dtype="object"),
                                        format="%Y-%m-%d %H:%M:%S"),
            "state": pd.Series([p.get("state", UNKNOWN) for p in plays], dtype="object"),
            "device": pd.Series(["mobile" if p["ismobile"] else "pc" for p in plays], dtype="object"),
        })


def stats_doc_id(dimension: str, key: str, window_start: str) -> str:
    """Deterministic: the same window and key always land on the same document."""
    return f"{dimension}-{key}-{window_start.replace(' ', 'T')}"


def _utc_text(t) -> str:
    # Spark hands Python naive datetimes in the machine's local zone; event times are UTC.
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def write_stats_partition(rows, settings) -> int:
    """Upsert one partition of changed window counts into the stats index; returns how many."""
    from elasticsearch import helpers

    from stage2.enrich import worker_clients

    docs = [{"window_start": _utc_text(r.window.start), "window_end": _utc_text(r.window.end),
             "dimension": r.dimension, "key": r.key, "plays": int(r.plays)} for r in rows]
    if not docs:
        return 0
    es, _ = worker_clients(settings)
    helpers.bulk(es, ({"_index": settings.index_stats, "_id": stats_doc_id(d["dimension"], d["key"], d["window_start"]),
                       "_source": d} for d in docs), chunk_size=settings.bulk_size, max_retries=5)
    return len(docs)


def windowed_counts(records, settings):
    """The streaming DataFrame of counts: window, dimension, key, plays (the
    streaming job starts it in update mode, see start_stats_query there)."""
    from pyspark.sql import functions as F

    from common.customers import level_label
    from common.readers import iter_customers

    spark = records.sparkSession
    levels = spark.createDataFrame(
        [(c.cust_id, level_label(c.level)) for _, c, _ in iter_customers(settings.data_dir / "cust.csv") if c],
        "customer_id INT, level STRING")
    plays = (records.select("value", "timestamp")
             .mapInPandas(plays_for_stats, STATS_INPUT_DDL)
             .withWatermark("played_at", f"{settings.stats_lateness_minutes} minutes")
             # a stream-static join: every play meets the customers table (small: broadcast)
             .join(F.broadcast(levels), "customer_id", "left")
             .fillna(UNKNOWN, subset=["state", "level"]))
    # one row per play and window it falls in (6 of them)
    windowed = plays.select(F.window("played_at", f"{settings.stats_window_minutes} minutes",
                                     f"{settings.stats_slide_minutes} minutes").alias("window"),
                            "event_id", *DIMENSIONS)
    # A record Kafka holds twice (the shipper re-sends after a crash) counts once.
    # Deduplicating per (event, window) keeps Spark's rule for late plays: a copy,
    # like any row, is dropped only in the windows that are final, and the
    # deduplication forgets an event's window when that window becomes final.
    distinct = windowed.dropDuplicates(["event_id", "window"])
    # one row per play, window and dimension: (window, "state", "CA"), (window, "level", "Free") ...
    keyed = distinct.select("window", F.explode(F.array(*[
        F.struct(F.lit(d).alias("dimension"), F.col(d).alias("key")) for d in DIMENSIONS])).alias("k"))
    return (keyed.groupBy("window", F.col("k.dimension").alias("dimension"), F.col("k.key").alias("key"))
            .agg(F.count("*").alias("plays")))
