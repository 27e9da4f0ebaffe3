"""stage3.offers.queue_offers when Redis's reply is lost (issue 12), against the real
Redis: the pipeline ran, the connection broke before the answer came back, and
common.retry runs it again. The retry must give the same answer as the first
call: the offer is queued once, and the play that queued it is still flagged
send_event=1 (the day key holds its event_id, so the script says "queued, by this
play" again), or the document would never show the offer it caused."""
from __future__ import annotations

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


class LosesFirstReply:
    """The real client, except that the first pipeline's reply is lost after Redis ran it."""

    def __init__(self, r):
        self.r, self.lost = r, 0

    def pipeline(self, *a, **k):
        import redis

        pipe, outer = self.r.pipeline(*a, **k), self
        execute = pipe.execute

        def execute_then_lose(*ea, **ek):
            result = execute(*ea, **ek)
            if not outer.lost:
                outer.lost += 1
                raise redis.ConnectionError("connection reset before the reply (test)")
            return result
        pipe.execute = execute_then_lose
        return pipe

    def __getattr__(self, name):
        return getattr(self.r, name)


def play(event_id, customer_id, when, level="Free"):
    return {"event_id": event_id, "customer_id": customer_id, "track_id": 7, "datetime": when,
            "level": level, "name": f"Cust {customer_id}", "title": "Blue"}


def test_a_lost_reply_retried_flags_the_same_plays_and_queues_once(redis_and_settings):
    from stage3.offers import queue_offers

    r, s = redis_and_settings
    r.sadd(s.redis_targets_set, 1, 2)
    batch = [play(11, 1, "2026-02-01 12:00:00"), play(12, 1, "2026-02-01 12:10:00"),
             play(21, 2, "2026-02-01 13:00:00", "Silver"), play(31, 3, "2026-02-01 13:00:00")]

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
