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

from stage2.plays import utc_text

DIMENSIONS = ("state", "level", "device")
UNKNOWN = "unknown"      # a play without a known state or customer level


def stats_doc_id(dimension: str, key: str, window_start: str) -> str:
    """Deterministic: the same window and key always land on the same document."""
    return f"{dimension}-{key}-{window_start.replace(' ', 'T')}"


def stats_actions(rows, settings) -> list[dict]:
    """Bulk actions: each changed window count upserted under its deterministic id."""
    docs = [{"window_start": utc_text(r.window.start), "window_end": utc_text(r.window.end),
             "dimension": r.dimension, "key": r.key, "plays": int(r.plays)} for r in rows]
    return [{"_index": settings.index_stats, "_id": stats_doc_id(d["dimension"], d["key"], d["window_start"]),
             "_source": d} for d in docs]


def windowed_counts(plays, settings):
    """The streaming DataFrame of counts: window, dimension, key, plays (the
    streaming job starts it in update mode, see start_stats_query there), from
    the plays of stage2.plays."""
    from pyspark.sql import functions as F

    from common.customers import level_label
    from common.readers import iter_customers

    from stage2.plays import zip_states

    spark = plays.sparkSession
    levels = spark.createDataFrame(
        [(c.cust_id, level_label(c.level)) for _, c, _ in iter_customers(settings.data_dir / "cust.csv") if c],
        "customer_id INT, level STRING")
    plays = (plays.withWatermark("played_at", f"{settings.stats_lateness_minutes} minutes")
             # stream-static joins: every play meets the zip and customers tables (small: broadcast)
             .join(F.broadcast(zip_states(spark)), "zip", "left")
             .join(F.broadcast(levels), "customer_id", "left")
             .fillna(UNKNOWN, subset=["state", "level"])
             .withColumn("device", F.when(F.col("ismobile") == 1, "mobile").otherwise("pc")))
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
