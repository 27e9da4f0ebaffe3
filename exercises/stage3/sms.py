"""Exercise 3.5: an SMS provider with a length limit, and the delivery report (20 minutes).

The SMS sender (stage3.sms_sender.SmsSender) reads the offers stream as the consumer
group "sms-sender" and hands each offer to a sender: any object with send(offer)
that raises on failure. A failed send is retried (SMS_MAX_ATTEMPTS times in all),
then the offer goes to the dead-letter stream with the error's message, and is
acknowledged. A delivered one is recorded in the set of its day, "<stream>:delivered:<YYYY-MM-DD>"
(UTC): one set per day, each expiring a week after its last delivery, so none grows forever.

Real SMS providers limit a text's length (160 characters for one plain SMS).

Your task:
  1. ShortSmsSender(limit).send(offer): the text is render_sms(offer); a text of at
     most `limit` characters is "sent" (append (offer_id, text) to self.sent); a
     longer one raises an exception whose message says the text's length.
  2. delivery_report(r, settings) -> {"queued": ..., "pending": ..., "delivered": ..., "dead": ...}:
       queued     entries in the offers stream (settings.redis_offers_stream)
       pending    read by the group but not acknowledged yet
       delivered  offer ids in the delivered sets, added up: one SCARD per set of
                  stage3.sms_sender.delivered_sets(settings) (today's and the days before it)
       dead       entries in the dead-letter stream (settings.redis_offers_dead_stream)

The checker picks a limit near the middle of its offers' lengths, queues them on a
stream of its own, runs the stage's SmsSender with your sender, then lets a
"crashed" consumer read three more offers without acknowledging them.

Check:  make check-stage3 EX=3.5

한국어
------
과제 3.5 (20분): 길이 제한이 있는 SMS 업체, 그리고 발송 보고서.
SMS 발송기(stage3.sms_sender.SmsSender)는 제안 stream을 consumer group "sms-sender"로 읽어 제안을
sender(실패하면 예외를 던지는 send(offer)를 가진 객체)에 넘깁니다. 실패하면 모두 SMS_MAX_ATTEMPTS번까지
다시 시도하고, 그래도 안 되면 오류 메시지와 함께 dead letter stream으로 보내고 ack합니다. 전달된
제안은 그날의 set "<stream>:delivered:<YYYY-MM-DD>"(UTC)에 기록됩니다. 실제 SMS 업체는 길이를
제한합니다(일반 SMS 한 통은 160자).
할 일:
  1. ShortSmsSender(limit).send(offer): 문자는 render_sms(offer)입니다. `limit`자 이하이면 "보냄"
     (self.sent에 (offer_id, text)를 추가), 더 길면 길이를 밝히는 메시지로 예외를 던집니다.
  2. delivery_report(r, settings) -> {"queued", "pending", "delivered", "dead"}: stream의 항목 수,
     group이 읽었지만 아직 ack하지 않은 수(pending 목록), stage3.sms_sender.delivered_sets(settings)의
     set마다 SCARD를 더한 수, dead letter stream의 항목 수.
"""
from __future__ import annotations

from stage3.sms_sender import GROUP, delivered_sets, render_sms   # noqa: F401  (you will use them)


class ShortSmsSender:
    """A provider that refuses any text longer than ``limit`` characters."""

    def __init__(self, limit: int = 160):
        self.limit = limit
        self.sent: list[tuple[str, str]] = []      # (offer_id, text) of each SMS sent

    def send(self, offer: dict) -> None:
        raise NotImplementedError("send: render_sms(offer); too long -> raise, else append to self.sent")


def delivery_report(r, settings) -> dict:
    """What became of the offers: queued, pending, delivered, dead."""
    raise NotImplementedError("delivery_report: XLEN, XPENDING, SCARD of each delivered set (summed), XLEN")


if __name__ == "__main__":
    from common.clients import redis_client
    from common.config import get_settings

    s = get_settings()
    print(delivery_report(redis_client(s), s))
