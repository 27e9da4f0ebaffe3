"""The interest list: which customers keep replaying which track.

The rule, exactly: a customer is *interested* in a track when they played it at
least ``min_plays`` times (3 by default) with the first and the last of those
plays at most ``window`` apart in event time (30 minutes by default, inclusive:
30:00 counts, 30:01 does not).

For the interest document we report the *densest* such window: the most plays of
the track that fit in one window, and, among equally dense windows, the earliest.
That makes the result a pure function of the set of plays, whatever order they
arrive in, so a pandas oracle can compute the same thing.

    from datetime import datetime, timedelta
    from stage2.interest import densest_window
    t = datetime(2024, 5, 1, 8, 0)
    densest_window([t, t + timedelta(minutes=10), t + timedelta(minutes=30)],
                   min_plays=3, window=timedelta(minutes=30))
    -> InterestWindow(first_play=t, last_play=t + 30min, plays=3)

``update_interest_list`` runs the same rule inside Spark's stateful streaming
API (``applyInPandasWithState``), one state per bucket of customers.

Why applyInPandasWithState and not the newer transformWithStateInPandas: both
work on pyspark 4.1, but the newer API makes a round trip to the JVM for each
state read and write of each key; with thousands of keys per micro-batch that
was ~4 ms per key here (6,000 plays took 24 s). applyInPandasWithState ships
states in bulk, but still costs about 1 ms per group, hence the buckets below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from common.pyworker import settle

# Columns emitted for each (customer, track) whose densest window changed.
INTEREST_OUTPUT_DDL = ("customer_id INT, track_id INT, first_play TIMESTAMP, "
                       "last_play TIMESTAMP, plays INT")


@dataclass(frozen=True)
class InterestWindow:
    first_play: Any     # datetime (or epoch ms when the input is epoch ms)
    last_play: Any
    plays: int


def densest_window(times: Sequence, min_plays: int, window) -> InterestWindow | None:
    """The window with the most plays whose first and last are at most ``window``
    apart (earliest on ties), or None when no window reaches ``min_plays``.

    ``times`` are datetimes with a ``timedelta`` window, or epoch milliseconds with a
    window in milliseconds; any order, duplicates allowed.
    """
    ordered = sorted(times)
    best: InterestWindow | None = None
    start = 0
    # Two pointers: for each play taken as the window's last, move the first
    # forward until the span fits. Strict ">" keeps the earliest of equal windows.
    for end, last in enumerate(ordered):
        while last - ordered[start] > window:
            start += 1
        plays = end - start + 1
        if plays >= min_plays and (best is None or plays > best.plays):
            best = InterestWindow(ordered[start], last, plays)
    return best


def better(candidate: InterestWindow | None, current: InterestWindow | None) -> bool:
    """True when ``candidate`` should replace ``current``: more plays, or as many
    plays but starting earlier (a late play can reveal an earlier window)."""
    if candidate is None:
        return False
    if current is None:
        return True
    return (candidate.plays, -_as_number(candidate.first_play)) > \
        (current.plays, -_as_number(current.first_play))


def _as_number(t) -> float:
    return t.timestamp() if hasattr(t, "timestamp") else t


# --- the rule as Spark state: applyInPandasWithState, one state per bucket of customers
# Spark's per-group overhead in applyInPandasWithState is about a millisecond, far
# more than the rule itself (microseconds). So the state is kept per *bucket*
# (customer_id % INTEREST_BUCKETS): a handful of groups per micro-batch, each
# holding the recent plays and emitted windows of many customers.
INTEREST_BUCKETS = 32
# State row of a bucket, as parallel arrays (epoch milliseconds):
#   plays_*: the recent plays, only those that can still share a window with a
#            play that is not late, with their event ids (a record that Kafka holds
#            twice is one play);   best_*: the densest window emitted per pair.
INTEREST_STATE_DDL = ("plays_customer ARRAY<INT>, plays_track ARRAY<INT>, plays_ms ARRAY<LONG>, "
                      "plays_event ARRAY<LONG>, best_customer ARRAY<INT>, best_track ARRAY<INT>, best_first ARRAY<LONG>, "
                      "best_last ARRAY<LONG>, best_plays ARRAY<INT>")


def update_interest_list(key, frames, state, min_plays: int, window_ms: int):
    """``applyInPandasWithState`` function for one bucket of customers.

    Drops late plays (at or before the watermark; Spark drops them too) and
    plays already counted (same event id: the shipper may send a record twice
    after a crash), and for every (customer, track) that got new plays recomputes
    the densest window over its recent plays; yields the pairs whose window got
    better. An event-time timeout forgets plays once the watermark has passed
    them by ``window_ms``: a copy of a forgotten play is late anyway, so the
    state stays bounded and still no play counts twice.
    """
    settle()          # once per worker: common/pyworker.py
    import pandas as pd

    watermark = max(state.getCurrentWatermarkMs(), 0)
    (p_cust, p_track, p_ms, p_event, b_cust, b_track, b_first, b_last, b_plays) = (
        state.get if state.exists else ([], [], [], [], [], [], [], [], []))
    # a play older than watermark - window cannot share a window with any accepted play
    recent: dict[tuple, list[int]] = {}
    events: dict[int, tuple] = {}          # event id -> (pair, ms) of every recent play
    for c, t, ms, e in zip(p_cust, p_track, p_ms, p_event):
        if ms > watermark - window_ms:
            recent.setdefault((int(c), int(t)), []).append(int(ms))
            events[int(e)] = ((int(c), int(t)), int(ms))
    changed = set()
    if not state.hasTimedOut:
        for frame in frames:
            # numpy datetime64 (UTC, the session time zone) -> epoch milliseconds
            ms = frame["played_at"].to_numpy().astype("datetime64[ms]").astype("int64")
            for e, c, t, m in zip(frame["event_id"].tolist(), frame["customer_id"].tolist(),
                                  frame["track_id"].tolist(), ms.tolist()):
                if m > watermark and e not in events:
                    recent.setdefault((c, t), []).append(m)
                    events[e] = ((c, t), m)
                    changed.add((c, t))
    best = {(int(c), int(t)): InterestWindow(int(f), int(la), int(n))
            for c, t, f, la, n in zip(b_cust, b_track, b_first, b_last, b_plays)}
    out = []
    for pair in sorted(changed):
        found = densest_window(recent[pair], min_plays, window_ms)
        if better(found, best.get(pair)):
            best[pair] = found
            out.append((*pair, found.first_play, found.last_play, found.plays))
    if out:
        frame = pd.DataFrame(out, columns=["customer_id", "track_id", "first_play", "last_play", "plays"])
        frame["first_play"] = pd.to_datetime(frame["first_play"], unit="ms")
        frame["last_play"] = pd.to_datetime(frame["last_play"], unit="ms")
        yield frame

    kept = list(events.items())          # [(event id, (pair, ms)), ...]
    if kept or best:
        state.update(([p[0] for _, (p, _) in kept], [p[1] for _, (p, _) in kept], [m for _, (_, m) in kept],
                      [e for e, _ in kept],
                      [k[0] for k in best], [k[1] for k in best],
                      [w.first_play for w in best.values()], [w.last_play for w in best.values()],
                      [w.plays for w in best.values()]))
        if kept:
            state.setTimeoutTimestamp(max(m for _, (_, m) in kept) + window_ms)
    else:
        state.remove()


# --- I/O: write one partition of interest updates, on a Spark executor ----------
def interest_doc(row) -> dict:
    """An output row of update_interest_list -> a ``ba_interest`` document."""
    from datetime import timezone

    # Spark hands Python naive datetimes in the machine's local zone; event times are UTC.
    def utc(t):
        return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    return {"customer_id": int(row.customer_id), "track_id": int(row.track_id),
            "first_play": utc(row.first_play), "last_play": utc(row.last_play),
            "plays": int(row.plays)}


def write_interest_partition(rows, settings) -> int:
    """SADD each track to ``interest:{customer_id}`` (one pipeline) and upsert the
    interest documents, ``_id`` = ``{customer_id}-{track_id}``; returns how many.
    Each set expires ``interest_ttl_seconds`` after its last new track, so a
    customer who stopped listening does not keep a key in Redis for good."""
    from elasticsearch import helpers

    from stage2.enrich import worker_clients

    docs = [interest_doc(row) for row in rows]
    if not docs:
        return 0
    es, r = worker_clients(settings)
    pipe = r.pipeline(transaction=False)
    for d in docs:
        key = f"{settings.redis_interest_prefix}{d['customer_id']}"
        pipe.sadd(key, d["track_id"])
        pipe.expire(key, settings.interest_ttl_seconds)
    pipe.execute()
    helpers.bulk(es, ({"_index": settings.index_interest, "_id": f"{d['customer_id']}-{d['track_id']}",
                       "_source": d} for d in docs), chunk_size=settings.bulk_size, max_retries=5)
    return len(docs)


INTEREST_PLAYS_DDL = "event_id LONG, customer_id INT, track_id INT, played_at TIMESTAMP"


def plays_with_ids_from_kafka(frames):
    """mapInPandas: Kafka records (value, and timestamp when selected) -> the
    well-formed plays as INTEREST_PLAYS_DDL (same parser as everywhere; the
    enrichment query dead-letters the rest, so they are simply skipped here)."""
    settle()          # once per worker: common/pyworker.py
    import pandas as pd

    from common.events import parse_kafka_records

    for frame in frames:
        plays = parse_kafka_records(frame["value"], frame["timestamp"] if "timestamp" in frame else None)
        yield pd.DataFrame({
            "event_id": pd.Series([p["event_id"] for p in plays], dtype="int64"),
            "customer_id": pd.Series([p["customer_id"] for p in plays], dtype="int32"),
            "track_id": pd.Series([p["track_id"] for p in plays], dtype="int32"),
            "played_at": pd.to_datetime(pd.Series([p["datetime"] for p in plays], dtype="object"),
                                        format="%Y-%m-%d %H:%M:%S"),
        })


# --- the query ----------------------------------------------------------------------
def interest_updates(kafka, settings):
    """The streaming DataFrame of new or denser interest windows: plays (each judged
    against its Kafka timestamp) -> event-time watermark -> per-bucket state
    (update_interest_list). The streaming job writes it in update mode."""
    from pyspark.sql import functions as F

    plays = (kafka.select("value", "timestamp")
             .mapInPandas(plays_with_ids_from_kafka, INTEREST_PLAYS_DDL)
             # Plays older than (latest event time seen - lateness) are dropped as too late.
             .withWatermark("played_at", f"{settings.interest_lateness_minutes} minutes")
             .withColumn("bucket", F.col("customer_id") % INTEREST_BUCKETS))
    min_plays, window_ms = settings.interest_min_plays, settings.interest_window_minutes * 60_000
    return (plays.groupBy("bucket")
            .applyInPandasWithState(
                lambda key, frames, state: update_interest_list(key, frames, state, min_plays, window_ms),
                outputStructType=INTEREST_OUTPUT_DDL, stateStructType=INTEREST_STATE_DDL,
                outputMode="Update", timeoutConf="EventTimeTimeout"))
