"""stage3.offers.queue_offers against the real Redis: one offer per target
customer per day, Free and Silver only, documents flagged, notices published,
replays idempotent, two round trips per partition, and a lost reply retried (issue 12)."""
from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_and_settings(engines, unique):
    from common.clients import redis_client
    from common.config import Settings

    p = f"t_{unique}"
    s = Settings(redis_targets_set=f"{p}:targets", redis_offered_prefix=f"{p}:offered:",
                 redis_offers_stream=f"{p}:offers", redis_offers_channel=f"{p}:channel")
    r = redis_client(s)
    yield r, s
    keys = list(r.scan_iter(f"{p}*"))
    if keys:
        r.delete(*keys)


def play(event_id, customer_id, when, level, track_id=7):
    return {"event_id": event_id, "customer_id": customer_id, "track_id": track_id, "datetime": when,
            "level": level, "name": f"Cust {customer_id}", "title": f"Track {track_id}"}


class PipelineHook:
    """The real client, except that each pipeline's ``execute()`` goes through
    ``self.on_execute(run)``, ``run`` being the real call."""

    def __init__(self, r):
        self.r = r

    def pipeline(self, *a, **k):
        pipe = self.r.pipeline(*a, **k)
        execute = pipe.execute
        pipe.execute = lambda *ea, **ek: self.on_execute(lambda: execute(*ea, **ek))
        return pipe

    def on_execute(self, run):
        return run()

    def __getattr__(self, name):
        return getattr(self.r, name)


class CountingRedis(PipelineHook):
    """Passes everything to the real client and counts network round trips."""

    def __init__(self, r):
        super().__init__(r)
        self.round_trips = 0

    def smismember(self, *a, **k):
        self.round_trips += 1
        return self.r.smismember(*a, **k)

    def on_execute(self, run):
        self.round_trips += 1
        return run()


def test_one_offer_per_target_per_day_and_flags(redis_and_settings):
    from stage3.offers import queue_offers

    r, s = redis_and_settings
    r.sadd(s.redis_targets_set, 1, 2, 3)        # 3 is Gold: a target but never offered
    sub = r.pubsub()
    sub.subscribe(s.redis_offers_channel)
    sub.get_message(timeout=1)                   # the subscribe confirmation

    batch1 = [
        play(103, 1, "2026-01-05 09:30:00", "Free"),
        play(101, 1, "2026-01-05 08:00:00", "Free"),     # the customer's first play of the day
        play(102, 1, "2026-01-05 08:05:00", "Free"),
        play(201, 2, "2026-01-05 23:59:59", "Silver"),
        play(301, 3, "2026-01-05 10:00:00", "Gold"),
        play(401, 4, "2026-01-05 10:00:00", "Free"),     # not a target
        {"event_id": 501, "customer_id": 5, "track_id": 7, "datetime": "2026-01-05 10:00:00"},  # unknown
    ]
    counting = CountingRedis(r)
    sent = queue_offers(counting, batch1, s)
    assert counting.round_trips == 2
    assert sent == {101, 201}
    flags = {d["event_id"]: (d["ad_target"], d["send_event"]) for d in batch1}
    assert flags == {103: (True, 0), 101: (True, 1), 102: (True, 0), 201: (True, 1),
                     301: (True, 0), 401: (False, 0), 501: (False, 0)}

    # a later micro-batch: customer 1 again the same day (nothing), and the next day (one more)
    batch2 = [play(104, 1, "2026-01-05 21:00:00", "Free"), play(105, 1, "2026-01-06 00:00:01", "Free")]
    assert queue_offers(r, batch2, s) == {105}

    offers = [f for _, f in r.xrange(s.redis_offers_stream)]
    assert sorted((o["offer_id"], o["track_id"]) for o in offers) == [
        ("1-2026-01-05", "7"), ("1-2026-01-06", "7"), ("2-2026-01-05", "7")]
    assert {o["offer"] for o in offers} == {"ADV_REDUCED_1DAY"}
    assert {o["name"] for o in offers} == {"Cust 1", "Cust 2"}

    notices = []
    deadline = time.monotonic() + 5
    while len(notices) < 3 and time.monotonic() < deadline:
        m = sub.get_message(timeout=0.5)
        if m and m["type"] == "message":
            notices.append(json.loads(m["data"]))
    sub.close()
    assert sorted((n["type"], n["customer_id"]) for n in notices) == [
        ("sms_offer", "1"), ("sms_offer", "1"), ("sms_offer", "2")]

    # the day key expires after two days
    assert 0 < r.ttl(f"{s.redis_offered_prefix}1:2026-01-05") <= 2 * 24 * 3600


def test_replayed_batch_queues_nothing_new_and_keeps_the_flag(redis_and_settings):
    from stage3.offers import queue_offers

    r, s = redis_and_settings
    r.sadd(s.redis_targets_set, 1)
    batch = [play(11, 1, "2026-02-01 12:00:00", "Free"), play(12, 1, "2026-02-01 12:10:00", "Free")]
    assert queue_offers(r, [dict(d) for d in batch], s) == {11}
    # Spark replays the micro-batch after a restart: same documents, same ids
    replay = [dict(d) for d in batch]
    assert queue_offers(r, replay, s) == {11}
    assert [d["send_event"] for d in replay] == [1, 0]
    assert r.xlen(s.redis_offers_stream) == 1


def test_no_targets_means_one_round_trip_and_no_offers(redis_and_settings):
    from stage3.offers import queue_offers

    r, s = redis_and_settings
    counting = CountingRedis(r)
    docs = [play(1, 9, "2026-02-01 12:00:00", "Free")]
    assert queue_offers(counting, docs, s) == set()
    assert counting.round_trips == 1
    assert docs[0]["ad_target"] is False and docs[0]["send_event"] == 0
    assert not r.exists(s.redis_offers_stream)


def test_exploration_and_short_periods(redis_and_settings):
    """OFFER_EXPLORE_SHARE: a stable share of non-target Free/Silver customers get the
    offer too (reason 'explore'); OFFER_PERIOD_SECONDS=60: one offer a minute."""
    from stage3.offers import explored, queue_offers

    r, s = redis_and_settings
    s = s.model_copy(update={"offer_explore_share": 0.5, "offer_period_seconds": 60})
    r.sadd(s.redis_targets_set, 1)
    minute = "2026-03-01T10:00:00"
    others = range(2, 202)
    docs = [play(1000 + c, c, "2026-03-01 10:00:30", "Free" if c % 3 else "Gold") for c in [1, *others]]
    sent = queue_offers(r, [dict(d) for d in docs], s)
    want_explored = {c for c in others if c % 3 and explored(c, minute, 0.5)}
    assert 40 < len(want_explored) < 95                       # about half of the 133 Free ones
    assert sent == {1001} | {1000 + c for c in want_explored}
    reasons = {o["customer_id"]: (o["reason"], o["day"]) for _, o in r.xrange(s.redis_offers_stream)}
    assert reasons["1"] == ("target", minute)
    assert {c for c, (why, _) in reasons.items() if why == "explore"} == {str(c) for c in want_explored}

    # a replay queues nothing new; the next minute is a new period for the target
    assert queue_offers(r, [dict(d) for d in docs], s) == sent
    assert queue_offers(r, [play(5000, 1, "2026-03-01 10:01:05", "Free")], s) == {5000}
    assert r.xlen(s.redis_offers_stream) == len(sent) + 1
    assert 0 < r.ttl(f"{s.redis_offered_prefix}1:{minute}") <= 120


def test_offers_stream_is_bounded_by_maxlen(redis_and_settings):
    """SMS_STREAM_MAXLEN: XADD ... MAXLEN ~ n keeps sms:offers near n entries (whole blocks trimmed)."""
    from stage3.offers import queue_offers

    r, s = redis_and_settings
    s = s.model_copy(update={"sms_stream_maxlen": 100})
    r.sadd(s.redis_targets_set, *range(1, 1001))
    docs = [play(c, c, "2026-04-01 10:00:00", "Free") for c in range(1, 1001)]
    assert len(queue_offers(r, docs, s)) == 1000
    assert 100 <= r.xlen(s.redis_offers_stream) < 300


# --- a lost reply (issue 12) ---------------------------------------------------------
# The pipeline ran, the connection broke before Redis's answer came back, and
# common.retry runs it again. The retry must give the same answer as the first
# call: the offer is queued once, and the play that queued it is still flagged
# send_event=1 (the day key holds its event_id, so the script says "queued, by this
# play" again), or the document would never show the offer it caused.


class LosesFirstReply(PipelineHook):
    """The real client, except that the first pipeline's reply is lost after Redis ran it."""

    def __init__(self, r):
        super().__init__(r)
        self.lost = 0

    def on_execute(self, run):
        import redis

        result = run()
        if not self.lost:
            self.lost += 1
            raise redis.ConnectionError("connection reset before the reply (test)")
        return result


def test_a_lost_reply_retried_flags_the_same_plays_and_queues_once(redis_and_settings):
    from stage3.offers import queue_offers

    r, s = redis_and_settings
    r.sadd(s.redis_targets_set, 1, 2)
    batch = [play(11, 1, "2026-02-01 12:00:00", "Free"), play(12, 1, "2026-02-01 12:10:00", "Free"),
             play(21, 2, "2026-02-01 13:00:00", "Silver"), play(31, 3, "2026-02-01 13:00:00", "Free")]

    flaky = LosesFirstReply(r)
    first = [dict(d) for d in batch]
    assert queue_offers(flaky, first, s) == {11, 21}        # the retry's answer
    assert flaky.lost == 1
    assert [d["send_event"] for d in first] == [1, 0, 1, 0]
    assert r.xlen(s.redis_offers_stream) == 2                # ran twice, queued once

    # the whole batch again (a replayed micro-batch): the same flags, nothing new queued
    again = [dict(d) for d in batch]
    assert queue_offers(r, again, s) == {11, 21}
    assert [(d["ad_target"], d["send_event"]) for d in again] == [(d["ad_target"], d["send_event"]) for d in first]
    assert sorted(f["offer_id"] for _, f in r.xrange(s.redis_offers_stream)) == ["1-2026-02-01", "2-2026-02-01"]
