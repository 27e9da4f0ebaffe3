"""Live targeting: queue one SMS offer per target customer per day.

Stage 3's streaming job (stage3.streaming_job) plugs ``queue_offers`` into
stage 2's enrichment: it runs once per partition of each micro-batch, on the
enriched documents, before they are indexed:

    from stage3.offers import queue_offers
    sent = queue_offers(r, docs, settings)   # docs: the partition's enriched documents
    # every doc now also has ad_target (bool) and send_event (0/1); sent = their event_ids with 1

With ``OFFER_EXPLORE_SHARE`` above 0, a stable random share of the Free/Silver
customers who are NOT targets get the offer too (``reason: explore``): without
them the model would only ever learn how its own picks answer, and could never
notice that someone it passed over would now click (see stage3.outcomes).
``OFFER_PERIOD_SECONDS`` (a day by default) is how often one customer may get
an offer; the drift scenario shortens it so a workshop sees several rounds.

This module also owns the offer's contract: the stream entry (``offer_message``)
and the notice published on the ``offers`` channel (``offer_notice``), which the
SMS sender (stage3.sms_sender) and the dashboard read.

Two round trips per partition, never one per event:
  1. SMISMEMBER ad_targets <customer ids>       which customers are targets?
  2. one pipeline with a small Lua script per Free/Silver target play, which
     atomically does  SET sms:offered:<id>:<day> <event_id> NX EX 2d (two periods)
     and, only if that key was new, XADD sms:offers MAXLEN ~ SMS_STREAM_MAXLEN + PUBLISH offers.
The script returns 1 when this play is *the* play that queued the offer. A
replayed micro-batch (after a restart) runs it again with the same event_id:
the key already holds that event_id, so the same document gets send_event=1
again and no second offer is queued. That is also why both round trips may simply
be repeated when Redis goes away: they wait for it (common.retry) and go on.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from common.retry import call_with_retry
from common.schema import OFFER_NAME
from stage3.outcomes import uniform
from stage3.targets import targets_among

DAY = 24 * 3600
OFFER_LEVELS = {"Free", "Silver"}          # Gold customers have nothing to upgrade to

_QUEUE_ONCE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', unpack(cjson.decode(ARGV[3])))
  redis.call('PUBLISH', KEYS[3], ARGV[4])
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""


def day_of(value) -> str:
    """'YYYY-MM-DD' of an event's datetime (a 'YYYY-MM-DD HH:MM:SS' string or a datetime)."""
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else str(value)[:10]


def period_of(value, seconds: int = DAY) -> str:
    """The offer period an event falls in: its day (the default), or for a shorter
    period its start, e.g. '2026-11-28T10:02:00' for 60 s periods."""
    if seconds == DAY:
        return day_of(value)
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    epoch = int(when.replace(tzinfo=timezone.utc).timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def explored(customer_id: int, period: str, share: float) -> bool:
    """Is this non-target customer in this period's random exploration share? Stable:
    the same customer and period always give the same answer (replays agree)."""
    return share > 0 and uniform(f"explore:{customer_id}:{period}") < share


# what a notice on the offers channel carries besides its type and time
NOTICE_FIELDS = ("customer_id", "name", "level", "track_id", "title", "offer")


def offer_notice(kind: str, offer: dict, at: str) -> dict:
    """The pub/sub notice for the dashboard: kind 'sms_offer' (queued) or 'sms_sent' (delivered)."""
    return {"type": kind, **{k: offer.get(k) for k in NOTICE_FIELDS}, "at": at}


def offer_message(doc: dict, day: str, queued_at: str, reason: str = "target") -> dict:
    """The stream entry for one offer (all values strings, as Redis stores them)."""
    return {
        "offer_id": f"{doc['customer_id']}-{day}", "customer_id": str(doc["customer_id"]),
        "name": str(doc.get("name") or ""), "level": str(doc.get("level") or ""),
        "track_id": str(doc["track_id"]), "title": str(doc.get("title") or ""),
        "offer": OFFER_NAME, "day": day, "queued_at": queued_at, "reason": reason,
    }


def queue_offers(r, docs: list[dict], settings) -> set[int]:
    """Flag ``docs`` in place (ad_target, send_event) and queue this period's offers.

    Returns the event_ids whose document gets ``send_event = 1``.
    """
    for doc in docs:
        doc["ad_target"], doc["send_event"] = False, 0
    customers = sorted({int(d["customer_id"]) for d in docs if d.get("customer_id") is not None})
    if not customers:
        return set()
    targets = call_with_retry(lambda: targets_among(r, settings, customers), "Redis", settings.redis_url)
    period = settings.offer_period_seconds

    # plays in time order, so the first play of the period is the one that queues the offer
    candidates = []
    for doc in sorted((d for d in docs if d.get("customer_id") is not None), key=lambda d: str(d["datetime"])):
        cid = int(doc["customer_id"])
        doc["ad_target"] = cid in targets
        if doc.get("level") not in OFFER_LEVELS:
            continue
        day = period_of(doc["datetime"], period)
        if doc["ad_target"]:
            candidates.append((doc, day, "target"))
        elif explored(cid, day, settings.offer_explore_share):
            candidates.append((doc, day, "explore"))
    if not candidates:
        return set()

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def queue_all():      # a new pipeline per try: a failed one forgets its commands
        pipe = r.pipeline(transaction=False)
        for doc, day, reason in candidates:
            msg = offer_message(doc, day, now, reason)
            notice = offer_notice("sms_offer", msg, now)
            fields = [x for kv in msg.items() for x in kv]   # XADD wants field, value, field, value ...
            # EVAL sends the script text each time: no SCRIPT LOAD round trip, ever
            pipe.eval(_QUEUE_ONCE, 3, f"{settings.redis_offered_prefix}{doc['customer_id']}:{day}",
                      settings.redis_offers_stream, settings.redis_offers_channel,
                      str(doc["event_id"]), 2 * period, json.dumps(fields), json.dumps(notice),
                      settings.sms_stream_maxlen)
        return pipe.execute()

    sent = set()
    for (doc, _, _), queued in zip(candidates, call_with_retry(queue_all, "Redis", settings.redis_url)):
        if queued:
            doc["send_event"] = 1
            sent.add(int(doc["event_id"]))
    return sent
