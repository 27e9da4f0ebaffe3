"""The live customer profiles: each customer's listening profile, kept current as plays arrive.

A profile is what stage 3 trains on (common.profiles.PROFILE_COLUMNS): the share
of the customer's plays in each part of the day, the mobile share, distinct
tracks over plays, and the number of plays. Spark's state keeps, per customer,
the *counts* behind it (plays, plays per part of the day, mobile plays, the set
of tracks played, the latest play); after each micro-batch the customers with
new plays get their profile recomputed by common.profiles.profile_from_counts,
the one definition the generator and stage 3 use too, and written to the index
``ba_profiles``, one document per customer (``_id`` = customer_id):

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

from dataclasses import dataclass, field
from datetime import datetime, timezone

from common.profiles import PROFILE_COLUMNS, TIME_OF_DAY, profile_from_counts, time_of_day_index
from common.pyworker import settle

# Like the interest list: Spark's per-group cost (~1 ms) is far more than the
# counting, so the state is kept per bucket of customers (customer_id % PROFILE_BUCKETS).
PROFILE_BUCKETS = 32

PLAYS_DDL = "event_id LONG, customer_id INT, track_id INT, ismobile INT, played_at TIMESTAMP"
# One state row per bucket, as parallel arrays: one entry per customer, and one per
# (customer, track) played, so distinct tracks are counted exactly.
PROFILE_STATE_DDL = ("customer ARRAY<INT>, plays ARRAY<LONG>, morning ARRAY<LONG>, afternoon ARRAY<LONG>, "
                     "evening ARRAY<LONG>, night ARRAY<LONG>, mobile_plays ARRAY<LONG>, last_play_ms ARRAY<LONG>, "
                     "track_customer ARRAY<INT>, track_id ARRAY<INT>")
# One output row per customer whose profile changed in the micro-batch.
PROFILE_OUTPUT_DDL = ("customer_id INT, morning DOUBLE, afternoon DOUBLE, evening DOUBLE, night DOUBLE, "
                      "mobile DOUBLE, distinct_ratio DOUBLE, plays LONG, last_play_ms LONG")


@dataclass
class Counts:
    """What is kept of one customer's plays: enough to compute the profile exactly."""
    plays: int = 0
    parts: list[int] = field(default_factory=lambda: [0] * len(TIME_OF_DAY))   # plays per TIME_OF_DAY
    mobile_plays: int = 0
    last_play_ms: int = 0
    tracks: set[int] = field(default_factory=set)

    def add(self, track_id: int, part: int, ismobile: int, played_ms: int) -> None:
        self.plays += 1
        self.parts[part] += 1
        self.mobile_plays += ismobile
        self.last_play_ms = max(self.last_play_ms, played_ms)
        self.tracks.add(track_id)


def counts_from_state(row) -> dict[int, Counts]:
    """A bucket's state row (PROFILE_STATE_DDL) -> customer_id -> Counts."""
    customer, plays, morning, afternoon, evening, night, mobile, last, track_customer, track_id = row
    counts = {int(c): Counts(int(n), [int(m), int(a), int(e), int(g)], int(mob), int(ms))
              for c, n, m, a, e, g, mob, ms in zip(customer, plays, morning, afternoon, evening, night,
                                                   mobile, last)}
    for c, t in zip(track_customer, track_id):
        counts[int(c)].tracks.add(int(t))
    return counts


def state_from_counts(counts: dict[int, Counts]) -> tuple:
    """The inverse of counts_from_state."""
    customers = sorted(counts)
    pairs = [(c, t) for c in customers for t in sorted(counts[c].tracks)]
    return (customers, [counts[c].plays for c in customers],
            *([counts[c].parts[i] for c in customers] for i in range(len(TIME_OF_DAY))),
            [counts[c].mobile_plays for c in customers], [counts[c].last_play_ms for c in customers],
            [c for c, _ in pairs], [t for _, t in pairs])


def profiles_of(counts: dict[int, Counts], customers: list[int]):
    """The output rows (PROFILE_OUTPUT_DDL) of ``customers``, with common.profiles'
    arithmetic applied to all of them at once (numpy arrays)."""
    import numpy as np
    import pandas as pd

    kept = [counts[c] for c in customers]
    profile = profile_from_counts(
        plays=np.array([k.plays for k in kept], dtype=np.int64),
        parts={part: np.array([k.parts[i] for k in kept], dtype=np.int64) for i, part in enumerate(TIME_OF_DAY)},
        mobile_plays=np.array([k.mobile_plays for k in kept], dtype=np.int64),
        distinct_tracks=np.array([len(k.tracks) for k in kept], dtype=np.int64))
    return pd.DataFrame({"customer_id": customers, **profile,
                         "last_play_ms": [k.last_play_ms for k in kept]})


def update_profiles(key, frames, state):
    """``applyInPandasWithState`` function for one bucket of customers: add the
    bucket's new plays to its customers' counts; yield the changed profiles."""
    settle()          # once per worker: common/pyworker.py
    watermark = max(state.getCurrentWatermarkMs(), 0)
    counts = counts_from_state(state.get) if state.exists else {}
    changed = set()
    for frame in frames:
        # numpy datetime64 (UTC, the session time zone) -> epoch milliseconds
        played_ms = frame["played_at"].to_numpy().astype("datetime64[ms]").astype("int64")
        parts = time_of_day_index(frame["played_at"].dt.hour.to_numpy())
        for c, t, mobile, part, ms in zip(frame["customer_id"].tolist(), frame["track_id"].tolist(),
                                          frame["ismobile"].tolist(), parts.tolist(), played_ms.tolist()):
            if ms > watermark:        # late plays are dropped (Spark drops them too)
                counts.setdefault(c, Counts()).add(t, part, mobile, ms)
                changed.add(c)
    if changed:
        yield profiles_of(counts, sorted(changed))
        state.update(state_from_counts(counts))


# --- I/O: parse the Kafka records, write one partition of profiles ----------------
def plays_with_device_from_kafka(frames):
    """mapInPandas: Kafka records (value, timestamp) -> (event_id, customer_id, track_id,
    ismobile, played_at) of the well-formed events, each judged against its Kafka
    timestamp (the enrichment query dead-letters the rest)."""
    settle()          # once per worker: common/pyworker.py
    import pandas as pd

    from common.events import parse_kafka_records

    for frame in frames:
        plays = parse_kafka_records(frame["value"], frame["timestamp"])
        yield pd.DataFrame({
            "event_id": pd.Series([p["event_id"] for p in plays], dtype="int64"),
            "customer_id": pd.Series([p["customer_id"] for p in plays], dtype="int32"),
            "track_id": pd.Series([p["track_id"] for p in plays], dtype="int32"),
            "ismobile": pd.Series([p["ismobile"] for p in plays], dtype="int32"),
            "played_at": pd.to_datetime(pd.Series([p["datetime"] for p in plays], dtype="object"),
                                        format="%Y-%m-%d %H:%M:%S"),
        })


def utc_text(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def profile_doc(row, updated_at: str) -> dict:
    """An output row of update_profiles -> a ``ba_profiles`` document (common.schema.PROFILE_FIELDS)."""
    doc = {"customer_id": int(row.customer_id)}
    doc.update({name: float(getattr(row, name)) for name in PROFILE_COLUMNS if name != "plays"})
    doc.update(plays=int(row.plays), last_play=utc_text(row.last_play_ms), updated_at=updated_at)
    return doc


def write_profiles_partition(rows, settings, updated_at: str) -> int:
    """Index each profile as a whole document, ``_id`` = customer_id; returns how many."""
    from elasticsearch import helpers

    from stage2.enrich import worker_clients

    docs = [profile_doc(row, updated_at) for row in rows]
    if docs:
        es, _ = worker_clients(settings)
        helpers.bulk(es, ({"_index": settings.index_profiles, "_id": str(d["customer_id"]), "_source": d}
                          for d in docs), chunk_size=settings.bulk_size, max_retries=5)
    return len(docs)


# --- the query ----------------------------------------------------------------------
def live_profiles(kafka, settings):
    """The streaming DataFrame of changed profiles: plays -> event-time watermark ->
    per-bucket counts (update_profiles). The streaming job starts it in update mode
    (start_profiles_query there); the state is checkpointed with the offsets, so a
    replayed batch starts from the state before it."""
    from pyspark.sql import functions as F

    plays = (kafka.select("value", "timestamp")
             .mapInPandas(plays_with_device_from_kafka, PLAYS_DDL)
             .withWatermark("played_at", f"{settings.interest_lateness_minutes} minutes")
             # a record Kafka holds twice (the shipper re-sends after a crash) is one play;
             # a copy that comes later than the watermark is dropped as late anyway
             .dropDuplicatesWithinWatermark(["event_id"])
             .withColumn("bucket", F.col("customer_id") % PROFILE_BUCKETS))
    return (plays.groupBy("bucket")
            .applyInPandasWithState(update_profiles, outputStructType=PROFILE_OUTPUT_DDL,
                                    stateStructType=PROFILE_STATE_DDL, outputMode="Update",
                                    timeoutConf="NoTimeout"))   # customers are few: state kept for good
