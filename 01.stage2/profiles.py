"""The live customer profiles: each customer's listening profile, kept current as plays arrive.

A profile is what stage 3 trains on (common.profiles.PROFILE_COLUMNS): the share
of the customer's plays in each part of the day, the mobile share, distinct
tracks over plays, and the number of plays. It is one streaming aggregation,
``groupBy("customer_id").agg(...)``, so Spark keeps, per customer, the *counts*
behind it in its state store (plays, plays per part of the day, mobile plays, the
set of tracks played, the latest play), all in the JVM. In update mode each
micro-batch hands over the customers whose counts changed; their profile is
common.profiles.profile_from_counts of the counts (the one definition the
generator and stage 3 use too, here applied to Spark columns), written to the
index ``ba_profiles``, one document per customer (``_id`` = customer_id):

    {"customer_id": 42, "morning": 0.25, "afternoon": 0.0, "evening": 0.5, "night": 0.25,
     "mobile": 0.75, "distinct_ratio": 0.5, "plays": 4,
     "last_play": "2024-05-01 21:30:00", "updated_at": "2024-05-01 21:30:04"}

Exact under restarts and replays: the counts live in Spark's state, which is
checkpointed with the query's offsets, so a replayed micro-batch starts again
from the state *before* it and no play is counted twice; the write replaces the
whole document (same ``_id``), so writing it again changes nothing.

Plays older than the watermark (latest play seen - interest_lateness_minutes)
are dropped, as in the interest list: a profile counts the plays that arrived in time.
A record that Kafka holds twice (same event id) counts once: Spark drops the copy
(dropDuplicatesWithinWatermark) before the counting.

The stage-2 job starts this query (``--no-profiles`` skips it). Look at one profile:

    curl '127.0.0.1:9200/ba_profiles/_doc/42?pretty'
"""
from __future__ import annotations

from datetime import datetime, timezone

from common.profiles import PROFILE_COLUMNS, TIME_OF_DAY, profile_from_counts, time_of_day
from stage2.plays import utc_text


def part_of_day(hour):
    """Spark column: the hour's part of the day (common.profiles.time_of_day, looked up
    in a 24-entry array, so the one definition of the boundaries is used)."""
    from pyspark.sql import functions as F

    return F.element_at(F.array(*[F.lit(time_of_day(h)) for h in range(24)]), hour + 1)


def profile_counts(plays):
    """Per customer: the counts behind the profile, as a (streaming) aggregation."""
    from pyspark.sql import functions as F

    part = part_of_day(F.hour("played_at"))
    return plays.groupBy("customer_id").agg(
        F.count("*").alias("plays"),
        *[F.sum((part == name).cast("long")).alias(name) for name in TIME_OF_DAY],
        F.sum("ismobile").alias("mobile_plays"),
        # streaming aggregations take no count(DISTINCT ...); a set per customer does it
        F.size(F.collect_set("track_id")).alias("distinct_tracks"),
        F.max("played_at").alias("last_play"))


def profiles_from_counts(counts):
    """The profile columns of common.profiles.profile_from_counts, from profile_counts' rows."""
    from pyspark.sql import functions as F

    profile = profile_from_counts(plays=F.col("plays"), parts={p: F.col(p) for p in TIME_OF_DAY},
                                  mobile_plays=F.col("mobile_plays"), distinct_tracks=F.col("distinct_tracks"))
    return counts.select("customer_id", *[profile[c].alias(c) for c in PROFILE_COLUMNS], "last_play")


# --- the query ----------------------------------------------------------------------
def live_profiles(plays, settings):
    """The streaming DataFrame of changed profiles: plays (stage2.plays) -> event-time
    watermark -> one copy of each event -> counts per customer (Spark state) ->
    profiles. The streaming job starts it in update mode (start_profiles_query
    there); the state is checkpointed with the offsets, so a replayed batch starts
    from the state before it."""
    distinct = (plays.withWatermark("played_at", f"{settings.interest_lateness_minutes} minutes")
                # a record Kafka holds twice (the shipper re-sends after a crash) is one play;
                # a play at or before the watermark is dropped here as late (so is a late copy)
                .dropDuplicatesWithinWatermark(["event_id"]))
    return profiles_from_counts(profile_counts(distinct))


# --- writing: the changed profiles of one micro-batch, from the driver -------------------
def profile_doc(row, updated_at: str) -> dict:
    """An output row of live_profiles -> a ``ba_profiles`` document (common.schema.PROFILE_FIELDS)."""
    doc = {"customer_id": int(row.customer_id)}
    doc.update({name: float(getattr(row, name)) for name in PROFILE_COLUMNS if name != "plays"})
    doc.update(plays=int(row.plays), last_play=utc_text(row.last_play), updated_at=updated_at)
    return doc


def profile_actions(rows, settings) -> list[dict]:
    """Bulk actions: each profile indexed as a whole document, ``_id`` = customer_id."""
    updated_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return [{"_index": settings.index_profiles, "_id": str(row.customer_id), "_source": profile_doc(row, updated_at)}
            for row in rows]
