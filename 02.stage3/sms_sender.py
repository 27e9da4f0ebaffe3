"""Stage 3: the SMS sender. Delivers the offers the streaming job queued.

Reads the Redis stream ``sms:offers`` as the consumer group ``sms-sender`` and,
for each offer: skips it if its offer_id was already delivered, sends it through
a pluggable sender, then in one MULTI records the delivery, counts it
(``sms:sent_total``), publishes ``{"type": "sms_sent", ...}`` on ``offers`` and
acknowledges it (XACK). With simulated customers (the default when data/ exists,
see stage3.outcomes) the same MULTI also records whether the customer took the
offer (HSETNX sms:outcomes <offer_id>): one outcome per offer, however often it
is replayed; the retrainer learns from them. A failed send is retried with exponential backoff; after
``SMS_MAX_ATTEMPTS`` failures the offer is copied to ``sms:offers:dead`` with the
error, and acknowledged.

Nothing is lost: an offer read but not acknowledged stays in the group's
pending list; on start the sender first re-reads its own pending offers, then
claims those another sender left idle (XAUTOCLAIM). Nothing is sent twice: the
delivered offer_ids are a Redis set checked before every send, the outbox file
refuses an offer_id it already holds, and the webhook gets an Idempotency-Key.

Usage:
    python -m stage3.sms_sender                         # outbox file .runtime/sms_outbox.jsonl
    python -m stage3.sms_sender --webhook http://127.0.0.1:8000/sms   # or SMS_WEBHOOK_URL
    python -m stage3.sms_sender --max-events 100 --duration 60 --rate 50
    python 02.stage3/sms_sender.py --until-idle 3       # deliver what is queued, then exit
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from common.bounded import Bounds, add_bounded_args, stop_on_signals
from common.config import Settings, get_settings
from stage3.offers import offer_notice
from stage3.outcomes import SimulatedCustomers, drift_since, outcome_record

GROUP = "sms-sender"
MESSAGE = "Hi {name}! Enjoying \"{title}\"? Go Gold for a day at a reduced price: reply GOLD. (offer {offer_id})"


def render_sms(offer: dict) -> str:
    return MESSAGE.format(**offer)


def delivered_set(settings: Settings) -> str:
    return f"{settings.redis_offers_stream}:delivered"


# --- senders: anything with send(offer) that raises on failure ----------------------------
class OutboxFileSender:
    """Appends one JSON line per SMS to a file: the default, so the workshop needs no SMS provider.

    The file is the receiving side, and it is idempotent: an offer_id already in
    it is not written again (this covers a crash between writing and recording).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.seen = set()
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    self.seen.add(json.loads(line)["offer_id"])
                except (ValueError, KeyError):
                    pass   # a torn last line from a crash mid-write is ignored

    def send(self, offer: dict) -> None:
        if offer["offer_id"] in self.seen:
            return
        line = json.dumps({"offer_id": offer["offer_id"], "customer_id": offer["customer_id"],
                           "text": render_sms(offer), "sent_at": _now()}) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:   # one write() call per line
            f.write(line)
        self.seen.add(offer["offer_id"])

    def __str__(self):
        return f"outbox file {self.path}"


class WebhookSender:
    """HTTP POST of the offer and its text; any non-2xx answer is a failure."""

    def __init__(self, url: str, timeout: float = 5.0):
        self.url, self.timeout = url, timeout
        self.session = requests.Session()

    def send(self, offer: dict) -> None:
        body = {**offer, "text": render_sms(offer)}
        # the receiver can drop a repeat (a crash between its 200 and our XACK) by this key
        resp = self.session.post(self.url, json=body, timeout=self.timeout,
                                 headers={"Idempotency-Key": offer["offer_id"]})
        resp.raise_for_status()

    def __str__(self):
        return f"webhook {self.url}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- the consumer ----------------------------------------------------------------------
class SmsSender:
    def __init__(self, r, settings: Settings, sender, consumer: str = "sender-1",
                 backoff: float = 0.2, claim_idle_ms: int = 60_000, customers: SimulatedCustomers | None = None):
        self.r, self.s, self.sender, self.consumer = r, settings, sender, consumer
        self.backoff, self.claim_idle_ms = backoff, claim_idle_ms
        self.customers = customers          # None: record no outcomes
        self.stream = settings.redis_offers_stream
        self.counts = {"delivered": 0, "duplicates": 0, "dead": 0, "retries": 0, "clicked": 0}
        self._drift_at, self._drift_read = None, 0.0
        try:   # id 0: a new group also reads the offers queued before the sender first ran
            r.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def pending_batches(self, count: int):
        """First our own pending offers (a previous run of us died), then idle ones of others."""
        while True:
            got = self.r.xreadgroup(GROUP, self.consumer, {self.stream: "0"}, count=count)
            entries = got[0][1] if got else []
            if not entries:
                break
            gone = [i for i, f in entries if not f]   # trimmed from the stream: nothing to send
            if gone:
                self.r.xack(self.stream, GROUP, *gone)
            yield [(i, f) for i, f in entries if f]
        start = "0-0"
        while True:
            start, entries, *_ = self.r.xautoclaim(self.stream, GROUP, self.consumer,
                                                   self.claim_idle_ms, start, count=count)
            if entries:
                yield [(i, f) for i, f in entries if f]
            if start in ("0-0", b"0-0"):
                break

    def new_batch(self, count: int, block_ms: int):
        got = self.r.xreadgroup(GROUP, self.consumer, {self.stream: ">"}, count=count, block=block_ms)
        return got[0][1] if got else []

    def handle(self, msg_id, offer: dict) -> str:
        """Deliver one offer; returns 'delivered', 'duplicate' or 'dead'."""
        if self.r.sismember(delivered_set(self.s), offer["offer_id"]):
            self.r.xack(self.stream, GROUP, msg_id)
            self.counts["duplicates"] += 1
            return "duplicate"
        error = None
        for attempt in range(self.s.sms_max_attempts):
            if attempt:
                self.counts["retries"] += 1
                time.sleep(self.backoff * 2 ** (attempt - 1))   # 0.2, 0.4, 0.8, 1.6 s ...
            try:
                self.sender.send(offer)
                break
            except Exception as exc:   # any failure of the provider is retried the same way
                error = f"{type(exc).__name__}: {exc}"
        else:
            tx = self.r.pipeline(transaction=True)
            tx.xadd(self.s.redis_offers_dead_stream,
                    {**offer, "error": error[:500], "attempts": self.s.sms_max_attempts, "failed_at": _now()})
            tx.xack(self.stream, GROUP, msg_id)
            tx.execute()
            self.counts["dead"] += 1
            print(f"dead letter: offer {offer['offer_id']} after {self.s.sms_max_attempts} attempts: {error}",
                  flush=True)
            return "dead"
        notice = offer_notice("sms_sent", offer, _now())
        tx = self.r.pipeline(transaction=True)
        self.record_outcome(tx, offer)
        tx.sadd(delivered_set(self.s), offer["offer_id"])
        tx.incr(self.s.redis_sms_sent_counter)
        tx.publish(self.s.redis_offers_channel, json.dumps(notice))
        tx.xack(self.stream, GROUP, msg_id)
        tx.execute()
        self.counts["delivered"] += 1
        return "delivered"

    def record_outcome(self, tx, offer: dict) -> None:
        """Queue, in the delivery's MULTI, whether the simulated customer takes the offer."""
        if self.customers is None:
            return
        now = time.time()
        if now - self._drift_read > 1.0:        # the teacher's switch, read at most once a second
            self._drift_at, self._drift_read = drift_since(self.r, self.s), now
        drifted = self._drift_at is not None and now >= self._drift_at
        clicked = self.customers.clicks(offer["offer_id"], int(offer["customer_id"]), drifted)
        if clicked is None:
            return                              # a customer the synthetic data does not know
        self.counts["clicked"] += int(clicked)
        tx.hsetnx(self.s.redis_outcomes_hash, offer["offer_id"], outcome_record(offer, clicked, drifted, _now()))

    def run(self, bounds: Bounds | None = None, until_idle: float | None = None, stop=None) -> dict:
        """Deliver until ``bounds`` says so (--max-events offers, --duration, at
        most --rate per second), nothing new came for ``until_idle`` seconds, or
        ``stop`` (a threading.Event) is set."""
        bounds = bounds or Bounds()
        last_seen = time.monotonic()
        handled = 0

        def done() -> bool:
            idle = until_idle is not None and time.monotonic() - last_seen >= until_idle
            return idle or bounds.done(handled, stop)

        def batches():
            yield from self.pending_batches(count=100)
            while not done():
                yield self.new_batch(count=100, block_ms=500)

        for batch in batches():
            if batch:
                last_seen = time.monotonic()
            for msg_id, offer in batch:
                if done():
                    return self.counts
                while not bounds.due(handled):    # providers limit messages per second; so can we
                    time.sleep(0.01)
                self.handle(msg_id, _decoded(offer))
                handled += 1
        return self.counts


def _decoded(fields: dict) -> dict:
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in fields.items()}


def make_sender(settings: Settings, webhook: str | None, outbox: Path | None):
    url = webhook or settings.sms_webhook_url
    return WebhookSender(url) if url else OutboxFileSender(outbox or settings.runtime_dir / "sms_outbox.jsonl")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_bounded_args(ap, what="offers")
    ap.add_argument("--webhook", help="POST each SMS here (default: SMS_WEBHOOK_URL, else the outbox file)")
    ap.add_argument("--outbox", type=Path, help="outbox file (default .runtime/sms_outbox.jsonl)")
    ap.add_argument("--consumer", default=os.environ.get("SMS_CONSUMER", "sender-1"),
                    help="consumer name in the group; keep it across restarts to resume its pending offers")
    ap.add_argument("--until-idle", type=float, help="stop once no offer came for this many seconds (drain)")
    ap.add_argument("--backoff", type=float, default=0.2, help="first retry delay in seconds (doubles each time)")
    ap.add_argument("--no-outcomes", action="store_true", help="do not simulate whether customers take the offer")
    args = ap.parse_args(argv)

    from common.clients import redis_client

    settings = get_settings()
    sender = make_sender(settings, args.webhook, args.outbox)
    customers = None
    if not args.no_outcomes and (settings.data_dir / "tracks.csv").exists():
        customers = SimulatedCustomers.from_data(settings)
    bounds, stop = Bounds.from_args(args), stop_on_signals()    # the clock of --rate starts now
    app = SmsSender(redis_client(settings), settings, sender, args.consumer, args.backoff, customers=customers)
    print(f"sms sender: {settings.redis_offers_stream} -> {sender} (consumer {args.consumer})", flush=True)
    counts = app.run(bounds, args.until_idle, stop)
    print(f"sms sender: delivered {counts['delivered']}, already sent {counts['duplicates']}, "
          f"dead-lettered {counts['dead']}, retries {counts['retries']}, taken by {counts['clicked']} "
          f"customers in {bounds.elapsed():.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
