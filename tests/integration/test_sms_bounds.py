"""What stage 3's SMS side appends is bounded (issue 12), against the real Redis:

* the delivered offer ids live in one set per UTC day (``sms:offers:delivered:<day>``),
  each expiring SMS_DELIVERED_TTL_SECONDS after its last delivery (a single set whose
  expiry each delivery pushed back would never expire under steady traffic);
* ``sms:outcomes`` keeps the OUTCOMES_MAX most recent outcomes (a sorted set by
  delivery time beside it says which are oldest), in the delivery's own script;
* the outbox file is rotated to ``<file>.1`` at SMS_OUTBOX_MAX_BYTES, and a sender
  reading it incrementally follows the rotation (no offer written twice).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from stage3 import sms_sender as sms
from stage3.outcomes import SimulatedCustomers, outcomes_by_time, read_outcomes

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_and_settings(engines, unique):
    from common.clients import redis_client
    from common.config import Settings

    p = f"t_{unique}"
    s = Settings(redis_offers_stream=f"{p}:offers", redis_offers_dead_stream=f"{p}:offers:dead",
                 redis_offers_channel=f"{p}:channel", redis_sms_sent_counter=f"{p}:sent",
                 redis_outcomes_hash=f"{p}:outcomes", redis_drift_key=f"{p}:drift",
                 sms_claim_idle_seconds=2, outcomes_max=5)
    r = redis_client(s)
    yield r, s
    keys = list(r.scan_iter(f"{p}*"))
    if keys:
        r.delete(*keys)


def queue(r, s, customers, day: str = "2026-01-05") -> list[str]:
    from stage3.offers import offer_message

    ids = []
    for cid in customers:
        msg = offer_message({"customer_id": cid, "name": f"Cust {cid}", "level": "Free",
                             "track_id": 7, "title": "Blue"}, day, f"{day}T10:00:00+00:00")
        r.xadd(s.redis_offers_stream, msg)
        ids.append(msg["offer_id"])
    return ids


def outbox_ids(*paths: Path) -> list[str]:
    return [json.loads(line)["offer_id"] for p in paths if p.exists() for line in p.read_text().splitlines()]


def test_delivered_sets_are_per_day_and_outcomes_keep_the_most_recent(redis_and_settings, tmp_path):
    r, s = redis_and_settings
    customers = SimulatedCustomers({cid: 0.0 for cid in range(1, 9)})
    outbox = sms.OutboxFileSender(tmp_path / "outbox.jsonl")
    first = queue(r, s, range(1, 4))
    sms.SmsSender(r, s, outbox, customers=customers).run(until_idle=0.3)
    later = queue(r, s, range(4, 9))
    sms.SmsSender(r, s, outbox, customers=customers).run(until_idle=0.3)

    # the delivered ids: in today's set, which expires; no endless set under the old name
    today = sms.delivered_set(s)
    assert today.endswith(sms._today()) and today in sms.delivered_sets(s)
    assert r.smembers(today) == set(first + later)
    assert 0 < r.ttl(today) <= s.sms_delivered_ttl_seconds
    assert not r.exists(f"{s.redis_offers_stream}:delivered")
    assert sms.delivered_count(r, s) == 8
    assert len(sms.delivered_sets(s)) == 8        # today and the 7 days a set may outlive its day

    # 8 outcomes recorded, the 5 most recent kept (OUTCOMES_MAX=5), in the hash's own format
    assert set(r.hkeys(s.redis_outcomes_hash)) == set(later)
    assert r.zrange(outcomes_by_time(s), 0, -1) == later
    assert sorted(read_outcomes(r, s)["customer_id"]) == list(range(4, 9))

    # a replayed offer adds no outcome and drops none
    queue(r, s, [8])
    sms.SmsSender(r, s, outbox, customers=customers).run(until_idle=0.3)
    assert set(r.hkeys(s.redis_outcomes_hash)) == set(later)
    assert outbox_ids(tmp_path / "outbox.jsonl") == first + later


def test_outbox_is_rotated_and_readers_follow_the_rotation(tmp_path):
    path, old = tmp_path / "outbox.jsonl", tmp_path / "outbox.jsonl.1"

    def offer(n):
        return {"offer_id": f"{n}-2026-01-05", "customer_id": str(n), "name": f"Cust {n}", "title": "Blue"}

    line_bytes = len(json.dumps({"offer_id": offer(1)["offer_id"], "customer_id": "1",
                                 "text": sms.render_sms(offer(1)), "sent_at": sms._now()})) + 1
    limit = 3 * line_bytes + 10                   # three lines fit, the fourth rotates
    writer = sms.OutboxFileSender(path, max_bytes=limit)
    reader = sms.OutboxFileSender(path, max_bytes=limit)   # another sender on the same file
    for n in (1, 2, 3):
        writer.send(offer(n))
    assert not old.exists() and outbox_ids(path) == [offer(n)["offer_id"] for n in (1, 2, 3)]
    reader.catch_up()
    reader.send(offer(3))                         # already in the file: not written again
    writer.send(offer(4))                         # rotates: 1..3 move to .1
    writer.send(offer(5))
    assert outbox_ids(old) == [offer(n)["offer_id"] for n in (1, 2, 3)]
    assert outbox_ids(path) == [offer(n)["offer_id"] for n in (4, 5)]
    assert path.stat().st_size <= limit

    # the reader was in the file that is now .1: it finishes it, then reads the new one
    reader.send(offer(5))
    reader.send(offer(2))
    assert outbox_ids(old, path) == [offer(n)["offer_id"] for n in (1, 2, 3, 4, 5)]
    reader.send(offer(6))
    assert outbox_ids(path)[-1] == offer(6)["offer_id"]
    # a sender started now reads both files: nothing of either is sent again
    fresh = sms.OutboxFileSender(path, max_bytes=limit)
    for n in range(1, 7):
        fresh.send(offer(n))
    assert outbox_ids(old, path) == [offer(n)["offer_id"] for n in (1, 2, 3, 4, 5, 6)]
    # one old file is kept: after two more rotations 1..3 are gone, the rest is bounded
    for n in range(7, 13):
        writer.send(offer(n))
    assert path.stat().st_size <= limit and old.stat().st_size <= limit
    assert offer(1)["offer_id"] not in outbox_ids(old, path)
    assert outbox_ids(old, path)[-1] == offer(12)["offer_id"]
