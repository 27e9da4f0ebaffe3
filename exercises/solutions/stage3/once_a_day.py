"""Exercise 3.4, a worked solution: one offer per customer per day, even on replays.

stage3.offers.queue_offers does the rule below on each partition of a micro-batch,
and makes it stick with one Lua script per candidate play:

    SET sms:offered:<id>:<day> <event_id> NX EX 172800
    only if that was new: XADD sms:offers ... ; PUBLISH offers ...

NX makes the first play of the day win; the key remembers WHICH play won, so a
replayed micro-batch finds its own event id there, flags the same document again
and adds nothing to the stream.
"""
from __future__ import annotations

from stage3.offers import OFFER_LEVELS, period_of


def first_plays(docs: list[dict], targets: set[int]) -> dict[str, int]:
    """{offer_id: event_id}: for each Free or Silver target and day, the earliest play."""
    winners: dict[str, int] = {}
    # time order first ('YYYY-MM-DD HH:MM:SS' sorts as text), so the first play seen wins
    for doc in sorted(docs, key=lambda d: (str(d["datetime"]), d["event_id"])):
        cid = int(doc["customer_id"])
        # a target is a customer the model picked; the level is checked again at play
        # time, because a customer may have become Gold since the model scored them
        if cid not in targets or doc.get("level") not in OFFER_LEVELS:
            continue
        day = period_of(doc["datetime"])                 # the UTC date, 'YYYY-MM-DD'
        winners.setdefault(f"{cid}-{day}", int(doc["event_id"]))   # the offer_id of offer_message
    return winners


def queued_offer_ids(r, stream: str) -> list[str]:
    """The offer_id of every entry of the stream, oldest first."""
    # XRANGE - + reads the whole stream; fine for a small one (use COUNT pages for a big one)
    return [fields["offer_id"] for _, fields in r.xrange(stream, "-", "+")]


def winning_play(r, settings, customer_id: int, day: str) -> int | None:
    """The event id of the play that queued this customer's offer on this day, or None."""
    value = r.get(f"{settings.redis_offered_prefix}{customer_id}:{day}")
    return int(value) if value is not None else None


if __name__ == "__main__":
    # the real stage, after make stage3: who got today's offers, and which play queued them
    from common.clients import redis_client
    from common.config import get_settings

    s = get_settings()
    r = redis_client(s)
    ids = queued_offer_ids(r, s.redis_offers_stream)
    print(f"{len(ids)} offers in {s.redis_offers_stream}, {len(set(ids))} different")
    for offer in ids[:5]:
        cid, day = offer.split("-", 1)
        print(offer, "queued by play", winning_play(r, s, int(cid), day))
