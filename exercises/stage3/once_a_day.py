"""Exercise 3.4: one offer per customer per day, even on replays (20 minutes).

Stage 3's streaming job calls stage3.offers.queue_offers on each partition of each
micro-batch. For every play of a Free or Silver customer who is in the target set,
in time order, one small Lua script runs in Redis:

    SET sms:offered:<customer_id>:<day> <event_id> NX EX 172800
    only if that key is new:  XADD sms:offers {offer_id, customer_id, ..., day}
                              PUBLISH offers {...}

The offer id is "<customer_id>-<day>", day = the play's UTC date 'YYYY-MM-DD'
(stage3.offers.offer_message). The checker runs queue_offers twice on the sample
plays (the second run is a replay, in another order), with keys of its own, and
compares what Redis holds with your answers.

Given: docs, the enriched plays: dicts with event_id, customer_id, datetime
('YYYY-MM-DD HH:MM:SS'), level ('Free', 'Silver', 'Gold'), track_id, name, title;
targets, a set of customer ids (the model's picks; some may be Gold by now).

Your task:
  1. first_plays(docs, targets) -> {offer_id: event_id of the play that queues it}
  2. queued_offer_ids(r, stream) -> the offer_id of every entry of the stream, oldest first
  3. winning_play(r, settings, customer_id, day) -> the event id the key
     f"{settings.redis_offered_prefix}{customer_id}:{day}" holds, as an int, or None

Check:  make check-stage3 EX=3.4

한국어
------
과제 3.4 (20분): 재처리해도 고객당 하루 한 번만 제안하기.
3단계 streaming job은 micro-batch의 partition마다 stage3.offers.queue_offers를 부릅니다. 광고
대상 set에 있는 Free·Silver 고객의 재생마다, 시간 순으로 Redis에서 작은 Lua 스크립트가 돕니다:
키 sms:offered:<customer_id>:<day>가 새로 만들어질 때만 XADD와 PUBLISH를 합니다. 제안 id는
"<customer_id>-<day>"이고 day는 재생의 UTC 날짜 'YYYY-MM-DD'입니다. 채점기는 샘플 재생으로
queue_offers를 두 번(두 번째는 순서를 바꾼 재처리) 돌리고 Redis의 내용을 여러분의 답과 비교합니다.
할 일:
  1. first_plays(docs, targets) -> {offer_id: 그 제안을 큐에 넣은 재생의 event_id}
  2. queued_offer_ids(r, stream) -> stream 항목마다의 offer_id, 오래된 것부터
  3. winning_play(r, settings, customer_id, day) -> 키 f"{settings.redis_offered_prefix}{customer_id}:{day}"가
     담은 event id(int), 없으면 None
"""
from __future__ import annotations

from stage3.offers import OFFER_LEVELS, period_of     # noqa: F401  (you may use them)


def first_plays(docs: list[dict], targets: set[int]) -> dict[str, int]:
    """{offer_id: event_id}: for each Free or Silver target and day, the earliest play."""
    raise NotImplementedError("first_plays: per (target, day), the earliest play of a Free/Silver target")


def queued_offer_ids(r, stream: str) -> list[str]:
    """The offer_id of every entry of the stream, oldest first."""
    raise NotImplementedError("queued_offer_ids: XRANGE the stream, the offer_id field of each entry")


def winning_play(r, settings, customer_id: int, day: str) -> int | None:
    """The event id of the play that queued this customer's offer on this day, or None."""
    raise NotImplementedError("winning_play: GET the offered key, as an int")


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
