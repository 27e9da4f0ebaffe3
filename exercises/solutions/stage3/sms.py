"""Exercise 3.5, a worked solution: an SMS provider with a length limit, and the delivery report.

stage3.sms_sender.SmsSender only needs an object with send(offer) that raises on
failure. It retries a failure SMS_MAX_ATTEMPTS times (with backoff), then copies the
offer to the dead-letter stream WITH the exception's message, and acknowledges it.
"""
from __future__ import annotations

from stage3.sms_sender import GROUP, delivered_sets, render_sms


class ShortSmsSender:
    """A provider that refuses any text longer than ``limit`` characters."""

    def __init__(self, limit: int = 160):
        self.limit = limit
        self.sent: list[tuple[str, str]] = []      # (offer_id, text) of each SMS sent

    def send(self, offer: dict) -> None:
        text = render_sms(offer)
        if len(text) > self.limit:                 # as long as the limit still fits
            # the message is what the dead letter shows: make it say why
            raise ValueError(f"text of {len(text)} characters is over the limit of {self.limit}")
        self.sent.append((offer["offer_id"], text))


def delivery_report(r, settings) -> dict:
    """What became of the offers: queued, pending, delivered, dead."""
    stream = settings.redis_offers_stream
    return {
        # a stream keeps its entries after XACK: XLEN counts every offer ever queued
        "queued": r.xlen(stream),
        # read by some consumer of the group but not acknowledged yet (it may have crashed);
        # XPENDING's summary form counts them for the whole group
        "pending": r.xpending(stream, GROUP)["pending"],
        # the sender records each delivered offer_id in the set of its day (UTC) before it
        # acknowledges; one set per day, so each can expire: add up those that may exist
        "delivered": sum(r.scard(key) for key in delivered_sets(settings)),
        # failed SMS_MAX_ATTEMPTS times: copied here with the error, then acknowledged
        "dead": r.xlen(settings.redis_offers_dead_stream),
    }


if __name__ == "__main__":
    # the real stage: redis-cli would need four commands for this
    from common.clients import redis_client
    from common.config import get_settings

    s = get_settings()
    print(delivery_report(redis_client(s), s))
