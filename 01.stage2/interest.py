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

In Spark (``interest_windows``) the rule is a windowed aggregation, kept in
Spark's state store in the JVM: per (customer, track) and event-time window of
*twice* the rule's span, sliding by the span (60-minute windows every 30 minutes),
the times of its plays. Any run of plays at most 30 minutes apart lies whole in
one of those windows (the one that starts at the last half-hour mark at or before
its first play), so the densest run over all windows is the densest run there is:

    event time  10:00        10:30        11:00        11:30
    windows     [10:00 ................... 11:00)
                             [10:30 ................... 11:30)
    plays at 10:40, 10:55, 11:10 (30 min apart at most) lie whole in [10:30, 11:30)

Only windows holding ``min_plays`` plays or more leave Spark; the driver finds
their densest run (densest_window) and keeps, per (customer, track), the best
one of the batch, reads the documents Elasticsearch holds for those pairs, and
writes only the windows that are better (``better_than_indexed``): the index
keeps the best window of all batches. A window Spark forgets (the watermark
passed its end) can no longer change: every play that could still arrive in it
is late.

Measured and not kept (bench/README.md, "Which design, measured"): the same rule in Python state per customer
or per bucket of customers (applyInPandasWithState, transformWithStateInPandas,
transformWithState), which cost 0.6-1.2 ms per customer and micro-batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


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


# --- the rule in Spark: plays per (customer, track) and window, in the state store -------
def interest_windows(plays, settings):
    """The streaming DataFrame of (customer, track, window) whose plays changed and
    can hold an interest: plays (stage2.plays) -> event-time watermark -> one copy
    of each event -> the play times per (customer, track, window). The streaming
    job writes it in update mode."""
    from pyspark.sql import functions as F

    span = settings.interest_window_minutes
    distinct = (plays.withWatermark("played_at", f"{settings.interest_lateness_minutes} minutes")
                # a record Kafka holds twice is one play; a play at or before the watermark is late
                .dropDuplicatesWithinWatermark(["event_id"]))
    return (distinct
            .groupBy("customer_id", "track_id", F.window("played_at", f"{2 * span} minutes", f"{span} minutes"))
            .agg(F.collect_list("played_at").alias("times"))
            .filter(F.size("times") >= settings.interest_min_plays))


def best_per_pair(rows, min_plays: int, window) -> dict[tuple[int, int], InterestWindow]:
    """interest_windows' rows of one micro-batch -> the best InterestWindow per
    (customer_id, track_id) among them (pairs with no window of min_plays left out)."""
    best: dict[tuple[int, int], InterestWindow] = {}
    for row in rows:
        found = densest_window(row.times, min_plays, window)
        pair = (int(row.customer_id), int(row.track_id))
        if better(found, best.get(pair)):
            best[pair] = found
    return best


# --- writing: Redis and Elasticsearch, from the driver ---------------------------------
def interest_doc(customer_id: int, track_id: int, found: InterestWindow) -> dict:
    """One (customer, track) and its best window -> a ``ba_interest`` document."""
    from stage2.plays import utc_text

    return {"customer_id": customer_id, "track_id": track_id, "first_play": utc_text(found.first_play),
            "last_play": utc_text(found.last_play), "plays": found.plays}


def better_than_indexed(es, best: dict, settings) -> dict:
    """The pairs of ``best`` whose window beats the one indexed (or that have none).
    One reader and writer of the index, the interest query, so a read-then-write is safe;
    a micro-batch replayed after a crash finds its own windows indexed and writes nothing."""
    if not best:
        return {}
    ids = [f"{c}-{t}" for c, t in best]
    found = es.mget(index=settings.index_interest, ids=ids)["docs"]
    indexed = {(d["_source"]["customer_id"], d["_source"]["track_id"]): d["_source"]
               for d in found if d.get("found")}
    docs = {pair: interest_doc(*pair, window) for pair, window in best.items()}
    return {pair: doc for pair, doc in docs.items() if beats(doc, indexed.get(pair))}


def beats(doc: dict, indexed: dict | None) -> bool:
    """``better`` for two interest documents: more plays, or as many starting earlier
    (first_play is "YYYY-MM-DD HH:MM:SS", so the text orders like the time)."""
    if indexed is None:
        return True
    return doc["plays"] > indexed["plays"] or (doc["plays"] == indexed["plays"]
                                               and doc["first_play"] < indexed["first_play"])


def interest_actions(docs: dict, settings) -> list[dict]:
    """Bulk actions: each better window indexed whole, ``_id`` = ``{customer_id}-{track_id}``."""
    return [{"_index": settings.index_interest, "_id": f"{c}-{t}", "_source": doc}
            for (c, t), doc in sorted(docs.items())]


def add_to_redis(r, best: dict, settings) -> None:
    """SADD each track to ``interest:{customer_id}`` (one pipeline). Each set expires
    ``interest_ttl_seconds`` after its last new track, so a customer who stopped
    listening does not keep a key in Redis for good."""
    pipe = r.pipeline(transaction=False)
    for customer, track in sorted(best):
        key = f"{settings.redis_interest_prefix}{customer}"
        pipe.sadd(key, track)
        pipe.expire(key, settings.interest_ttl_seconds)
    pipe.execute()
