"""Stage 3: the SMS sender. Delivers the offers the streaming job queued.

Reads the Redis stream ``sms:offers`` as the consumer group ``sms-sender`` and,
for each offer: takes the offer's idempotency key ``sms:offers:sent:<offer_id>``
(one Lua script, so two senders can never both take it), sends it through a
pluggable sender, then in one more script records the delivery, counts it
(``sms:sent_total``) and in the day's delivered set (``sms:offers:delivered:<UTC day>``),
publishes ``{"type": "sms_sent", ...}`` on ``offers`` and acknowledges it (XACK).
With simulated customers (the default when data/ exists, see stage3.outcomes) the
same script also records whether the customer took the offer (HSETNX sms:outcomes
<offer_id>): one outcome per offer, however often it is replayed, the most recent
OUTCOMES_MAX kept; the retrainer learns from them. A failed send is retried with
exponential backoff; after ``SMS_MAX_ATTEMPTS`` failures the offer is copied to
``sms:offers:dead`` with the error, and acknowledged. The outbox file is rotated
to ``<file>.1`` at SMS_OUTBOX_MAX_BYTES.

Several senders may run at once, each under its own consumer name (host-pid).
Nothing is lost: an offer read but not acknowledged stays in the group's pending
list; every SMS_CLAIM_IDLE_SECONDS / 2 a sender claims the offers another one
left idle longer than SMS_CLAIM_IDLE_SECONDS (XAUTOCLAIM: that sender died).
Nothing is sent twice: the idempotency key says "sent" (or "sending:<consumer>")
before every send, the outbox file refuses an offer_id it already holds, and the
webhook gets an Idempotency-Key. An offer handed out SMS_MAX_DELIVERIES times
without being acknowledged, or an entry missing a field, goes to the dead stream
with its reason. When Redis goes away the sender waits for it (common.retry).

Usage:
    python -m stage3.sms_sender                         # outbox file .runtime/sms_outbox.jsonl
    python -m stage3.sms_sender --webhook http://127.0.0.1:8000/sms   # or SMS_WEBHOOK_URL
    python -m stage3.sms_sender --max-events 100 --duration 60 --rate 50
    python 02.stage3/sms_sender.py --until-idle 3       # deliver what is queued, then exit
"""
from __future__ import annotations

import argparse
import fcntl
import json
import math
import os
import socket
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from common.bounded import Bounds, add_bounded_args, stop_on_signals
from common.clients import EngineUnavailable
from common.config import Settings, get_settings
from common.retry import call_with_retry
from stage3.offers import offer_notice
from stage3.outcomes import SimulatedCustomers, drift_since, outcome_record, outcomes_by_time

GROUP = "sms-sender"
MESSAGE = "Hi {name}! Enjoying \"{title}\"? Go Gold for a day at a reduced price: reply GOLD. (offer {offer_id})"
REQUIRED_FIELDS = ("offer_id", "customer_id", "name", "title")   # what render_sms and the outcome need
OUTBOX_REMEMBERED = 100_000    # offer_ids the outbox sender keeps in memory (the crash window needs a few)

# Take the offer before sending it: 'sent' (already delivered), another sender's
# 'sending:<consumer>' (it is sending it now), or 'ok' (ours now, for ARGV[2] seconds).
_TAKE_OFFER = """
local held = redis.call('GET', KEYS[1])
if held == 'sent' then return 'sent' end
if held and held ~= ARGV[1] then return held end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 'ok'
"""

# Record a delivery once, however often it is retried (Redis may vanish before the reply).
# KEYS[2] is the delivered set of the day; a new outcome is also entered, by time, in
# KEYS[6] (stage3.outcomes.outcomes_by_time), and the oldest outcomes beyond ARGV[9]
# are dropped from both: the history the model learns from stays bounded.
_RECORD_DELIVERY = """
if redis.call('GET', KEYS[1]) ~= 'sent' then
  redis.call('SET', KEYS[1], 'sent', 'EX', ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
  redis.call('INCR', KEYS[3])
  if ARGV[5] ~= '' and redis.call('HSETNX', KEYS[4], ARGV[2], ARGV[5]) == 1 then
    redis.call('ZADD', KEYS[6], ARGV[8], ARGV[2])
    local over = redis.call('ZCARD', KEYS[6]) - tonumber(ARGV[9])
    if over > 0 then
      local oldest = redis.call('ZPOPMIN', KEYS[6], over)
      for i = 1, #oldest, 2 do redis.call('HDEL', KEYS[4], oldest[i]) end
    end
  end
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
redis.call('XACK', KEYS[5], ARGV[6], ARGV[7])
return 1
"""


def default_consumer() -> str:
    """A name no other running sender has: two senders with one name would re-read each other's offers."""
    return os.environ.get("SMS_CONSUMER") or f"{socket.gethostname()}-{os.getpid()}"


def render_sms(offer: dict) -> str:
    return MESSAGE.format(**offer)


def delivered_set(settings: Settings, day: str | None = None) -> str:
    """The offer_ids delivered on one UTC day, 'YYYY-MM-DD' (default: today), for reports.
    One set per day, each expiring SMS_DELIVERED_TTL_SECONDS after its last delivery: a
    single set whose expiry every delivery pushed back would never expire under steady traffic."""
    return f"{settings.redis_offers_stream}:delivered:{day or _today()}"


def delivered_sets(settings: Settings) -> list[str]:
    """Every delivered set that may still exist, today's first (SMS_DELIVERED_TTL_SECONDS back)."""
    today = datetime.now(timezone.utc).date()
    days = math.ceil(settings.sms_delivered_ttl_seconds / 86400)
    return [delivered_set(settings, (today - timedelta(days=n)).isoformat()) for n in range(days + 1)]


def delivered_count(r, settings: Settings) -> int:
    """How many offers were delivered in the days the delivered sets keep (one round trip)."""
    pipe = r.pipeline(transaction=False)
    for key in delivered_sets(settings):
        pipe.scard(key)
    return sum(pipe.execute())


def sent_key(settings: Settings, offer_id: str) -> str:
    """The offer's idempotency key: 'sending:<consumer>', then 'sent' (expires like the delivered set)."""
    return f"{settings.redis_offers_stream}:sent:{offer_id}"


def invalid_offer(offer: dict) -> str | None:
    """Why a stream entry cannot be sent (a missing field, a customer_id that is no number), or None."""
    missing = [f for f in REQUIRED_FIELDS if f not in offer or (f in ("offer_id", "customer_id") and not offer[f])]
    if missing:
        return f"missing field {', '.join(missing)}"
    if not str(offer["customer_id"]).isdigit():
        return f"customer_id {offer['customer_id'][:40]!r} is not a number"
    return None


class RefusedSend(Exception):
    """A failure that retrying cannot fix (e.g. a redirect): dead-lettered at once."""


# --- senders: anything with send(offer) that raises on failure ----------------------------
class OutboxFileSender:
    """Appends one JSON line per SMS to a file: the default, so the workshop needs no SMS provider.

    The file is the receiving side, and it is idempotent: an offer_id already in
    it is not written again (this covers a crash between writing and recording).
    Before each send it reads the lines appended since it last looked (by itself
    or another sender), one line at a time, so a long file never sits in memory.

    Bounded: a line that would take the file past ``max_bytes`` (SMS_OUTBOX_MAX_BYTES)
    first renames it to ``<file>.1`` (replacing the previous old file) and starts a
    new one. Senders take a lock file (``<file>.lock``) around look-and-append, so two
    never rotate at once; a reader that was in the renamed file finishes it, then
    reads the new one from its start. At start-up both files are read.
    """

    def __init__(self, path: Path, max_bytes: int = 64 * 1024 * 1024):
        self.path = Path(path)
        self.old_path = self.path.with_name(self.path.name + ".1")
        self.max_bytes = max_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.seen: dict[str, None] = {}     # the last OUTBOX_REMEMBERED offer_ids, oldest first
        self.inode: int | None = None        # the file read so far ...
        self.read_up_to = 0                  # ... and how many of its bytes
        if self.old_path.exists():
            self._read(self.old_path, 0)
        self.catch_up()

    def _read(self, path: Path, start: int, f=None) -> int:
        """Remember the offer_ids of the complete lines from byte ``start``; returns where it stopped."""
        own = f is None
        f = open(path, "rb") if own else f
        try:
            f.seek(start)
            for line in f:
                if not line.endswith(b"\n"):
                    break                    # a line being written (or torn by a crash): read it next time
                start += len(line)
                try:
                    self.remember(json.loads(line)["offer_id"])
                except (ValueError, KeyError, TypeError):
                    pass                     # a torn line from a crash mid-write is ignored
            return start
        finally:
            if own:
                f.close()

    def catch_up(self) -> None:
        """Read what was appended since the last look, across a rotation."""
        try:
            f = open(self.path, "rb")
        except FileNotFoundError:
            return
        with f:
            st = os.fstat(f.fileno())
            if st.st_ino != self.inode:
                # another file than the one read so far: it was rotated to .1 (finish it), or
                # this is the first look
                if self.inode is not None and self.old_path.exists() \
                        and self.old_path.stat().st_ino == self.inode:
                    self._read(self.old_path, self.read_up_to)
                self.inode, self.read_up_to = st.st_ino, 0
            if st.st_size != self.read_up_to:
                self.read_up_to = self._read(self.path, self.read_up_to, f)

    def _rotate_if_full(self, adding: int) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size and size + adding > self.max_bytes:
            os.replace(self.path, self.old_path)      # the old .1 goes; the next catch_up finishes ours

    def remember(self, offer_id: str) -> None:
        self.seen[offer_id] = None
        if len(self.seen) > OUTBOX_REMEMBERED:
            del self.seen[next(iter(self.seen))]

    def send(self, offer: dict) -> None:
        line = json.dumps({"offer_id": offer["offer_id"], "customer_id": offer["customer_id"],
                           "text": render_sms(offer), "sent_at": _now()}) + "\n"
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)           # other senders: one look-rotate-append at a time
            self.catch_up()
            if offer["offer_id"] in self.seen:
                return
            self._rotate_if_full(len(line.encode()))
            with open(self.path, "a", encoding="utf-8") as f:   # one write() call per line
                f.write(line)
            self.remember(offer["offer_id"])
            self.catch_up()                  # our own line (and any other sender's before it)

    def __str__(self):
        return f"outbox file {self.path}"


class WebhookSender:
    """HTTP POST of the offer and its text; any non-2xx answer is a failure.

    A redirect is refused, not followed: following it would post the customer's
    name to another address. ``timeout`` bounds the whole request, not only each
    socket read (a server trickling its answer cannot hold the sender)."""

    def __init__(self, url: str, timeout: float = 10.0):
        self.url, self.timeout = url, timeout
        self.session = requests.Session()

    def send(self, offer: dict) -> None:
        body = {**offer, "text": render_sms(offer)}
        answer: dict = {}

        def post():
            try:   # the receiver can drop a repeat (a crash between its 200 and our XACK) by this key
                answer["resp"] = self.session.post(self.url, json=body, timeout=self.timeout, allow_redirects=False,
                                                   headers={"Idempotency-Key": offer["offer_id"]})
            except Exception as exc:      # noqa: BLE001 - handed to the caller below
                answer["error"] = exc

        worker = threading.Thread(target=post, daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise TimeoutError(f"no answer from {self.url} within {self.timeout:g} s")
        if "error" in answer:
            raise answer["error"]
        resp = answer["resp"]
        if resp.is_redirect or 300 <= resp.status_code < 400:
            raise RefusedSend(f"{resp.status_code} redirect to {resp.headers.get('Location', '?')} refused")
        resp.raise_for_status()

    def __str__(self):
        return f"webhook {self.url}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


# --- the consumer ----------------------------------------------------------------------
class SmsSender:
    def __init__(self, r, settings: Settings, sender, consumer: str | None = None,
                 backoff: float = 0.2, customers: SimulatedCustomers | None = None,
                 stop: threading.Event | None = None):
        self.r, self.s, self.sender = r, settings, sender
        self.consumer = consumer or default_consumer()
        self.backoff = backoff
        self.claim_idle = settings.sms_claim_idle_seconds
        self.customers = customers          # None: record no outcomes
        self.stop = stop                    # set: stop waiting for Redis too
        self.stream = settings.redis_offers_stream
        self.counts = {"delivered": 0, "duplicates": 0, "dead": 0, "retries": 0, "clicked": 0, "in_flight": 0}
        self._drift_at, self._drift_read = None, 0.0
        self._claim_from = "0-0"           # where the next XAUTOCLAIM pass starts
        self.redis(self._create_group)

    def redis(self, call):
        """``call()``; while Redis does not answer, wait for it (one line per retry, common.retry)."""
        return call_with_retry(call, "Redis", self.s.redis_url, stop=self.stop)

    def _create_group(self) -> None:
        try:   # id 0: a new group also reads the offers queued before the sender first ran
            self.r.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # --- where offers come from ---
    def own_pending(self, count: int):
        """Our own pending offers: a previous run under the same --consumer name died."""
        while True:
            got = self.redis(lambda: self.r.xreadgroup(GROUP, self.consumer, {self.stream: "0"}, count=count))
            entries = got[0][1] if got else []
            if not entries:
                return
            gone = [i for i, f in entries if not f]   # trimmed from the stream: nothing to send
            if gone:
                self.redis(lambda: self.r.xack(self.stream, GROUP, *gone))
            yield self.drop_overdelivered([(i, f) for i, f in entries if f])

    def reclaim(self, count: int) -> list:
        """Offers another sender read and left unacknowledged longer than SMS_CLAIM_IDLE_SECONDS
        (it died or hangs) become ours; XAUTOCLAIM also forgets those trimmed from the stream."""
        idle_ms = int(self.claim_idle * 1000)
        self._claim_from, entries, *_ = self.redis(lambda: self.r.xautoclaim(
            self.stream, GROUP, self.consumer, idle_ms, self._claim_from, count=count))
        self.forget_gone_consumers()
        return self.drop_overdelivered([(i, f) for i, f in entries if f])

    def forget_gone_consumers(self) -> None:
        """Each sender has its own name, so names of senders long gone pile up in the group:
        drop those with nothing pending, idle for twice the claim time."""
        for c in self.redis(lambda: self.r.xinfo_consumers(self.stream, GROUP)):
            if c["pending"] == 0 and c["idle"] > 2000 * self.claim_idle and c["name"] != self.consumer:
                self.redis(lambda: self.r.xgroup_delconsumer(self.stream, GROUP, c["name"]))

    def drop_overdelivered(self, entries: list) -> list:
        """Dead-letter the entries handed out more than SMS_MAX_DELIVERIES times (each time a
        sender took it and never acknowledged it: it may be what kills them); return the others."""
        if not entries:
            return entries

        def times_delivered():
            pipe = self.r.pipeline(transaction=False)
            for msg_id, _ in entries:
                pipe.xpending_range(self.stream, GROUP, msg_id, msg_id, 1)
            return [rows[0]["times_delivered"] if rows else 0 for rows in pipe.execute()]

        keep = []
        for (msg_id, fields), times in zip(entries, self.redis(times_delivered)):
            if times > self.s.sms_max_deliveries:
                self.dead_letter(msg_id, _decoded(fields), "too_many_deliveries",
                                 f"handed out {times} times without being acknowledged")
            else:
                keep.append((msg_id, fields))
        return keep

    def new_batch(self, count: int, block_ms: int):
        got = self.redis(lambda: self.r.xreadgroup(GROUP, self.consumer, {self.stream: ">"},
                                                   count=count, block=block_ms))
        return got[0][1] if got else []

    def still_ours(self, ids: list) -> set:
        """Reset the idle time of offers read a while ago and not yet sent (XCLAIM JUSTID
        counts no delivery), so no other sender takes them over; returns those still pending."""
        return set(self.redis(lambda: self.r.xclaim(self.stream, GROUP, self.consumer, 0, ids, justid=True)))

    # --- one offer ---
    def dead_letter(self, msg_id, offer: dict, reason: str, error: str, attempts: int = 0) -> None:
        """Copy the entry to the dead stream with why, and acknowledge it, in one MULTI. After
        attempts to send it (we hold its key), the key goes too: a later copy may be tried again."""
        def move():
            tx = self.r.pipeline(transaction=True)
            tx.xadd(self.s.redis_offers_dead_stream,
                    {**offer, "dead_reason": reason, "error": error[:500], "attempts": attempts,
                     "stream_id": msg_id, "failed_at": _now()},
                    maxlen=self.s.sms_stream_maxlen, approximate=True)
            tx.xack(self.stream, GROUP, msg_id)
            if attempts:
                tx.delete(sent_key(self.s, offer["offer_id"]))
            tx.execute()
        self.redis(move)
        self.counts["dead"] += 1
        print(f"dead letter ({reason}): entry {msg_id} offer {offer.get('offer_id', '?')}: {error}", flush=True)

    def handle(self, msg_id, offer: dict) -> str:
        """Deliver one offer; returns 'delivered', 'duplicate', 'in_flight' (another sender
        is sending it: left pending) or 'dead'."""
        problem = invalid_offer(offer)
        if problem:
            self.dead_letter(msg_id, offer, "invalid_entry", problem)
            return "dead"
        key = sent_key(self.s, offer["offer_id"])
        held = self.redis(lambda: self.r.eval(_TAKE_OFFER, 1, key, f"sending:{self.consumer}",
                                              max(1, int(self.claim_idle))))
        if held == "sent":
            self.redis(lambda: self.r.xack(self.stream, GROUP, msg_id))
            self.counts["duplicates"] += 1
            return "duplicate"
        if held != "ok":
            self.counts["in_flight"] += 1
            return "in_flight"
        error = None
        for attempt in range(self.s.sms_max_attempts):
            if attempt:
                self.counts["retries"] += 1
                time.sleep(self.backoff * 2 ** (attempt - 1))   # 0.2, 0.4, 0.8, 1.6 s ...
            try:
                self.sender.send(offer)
                break
            except RefusedSend as exc:
                self.dead_letter(msg_id, offer, "refused", str(exc), attempt + 1)
                return "dead"
            except Exception as exc:   # any failure of the provider is retried the same way
                error = f"{type(exc).__name__}: {exc}"
        else:
            self.dead_letter(msg_id, offer, "send_failed", error, self.s.sms_max_attempts)
            return "dead"
        notice = json.dumps(offer_notice("sms_sent", offer, _now()))
        outcome = self.outcome_of(offer)
        delivered_at = time.time()
        self.redis(lambda: self.r.eval(
            _RECORD_DELIVERY, 6, key, delivered_set(self.s), self.s.redis_sms_sent_counter,
            self.s.redis_outcomes_hash, self.stream, outcomes_by_time(self.s),
            self.s.sms_delivered_ttl_seconds, offer["offer_id"], self.s.redis_offers_channel, notice,
            outcome, GROUP, msg_id, f"{delivered_at:.6f}", self.s.outcomes_max))
        self.counts["delivered"] += 1
        return "delivered"

    def outcome_of(self, offer: dict) -> str:
        """Whether the simulated customer takes the offer (recorded with the delivery), '' for none."""
        if self.customers is None:
            return ""
        now = time.time()
        if now - self._drift_read > 1.0:        # the teacher's switch, read at most once a second
            self._drift_at, self._drift_read = self.redis(lambda: drift_since(self.r, self.s)), now
        drifted = self._drift_at is not None and now >= self._drift_at
        clicked = self.customers.clicks(offer["offer_id"], int(offer["customer_id"]), drifted)
        if clicked is None:
            return ""                           # a customer the synthetic data does not know
        self.counts["clicked"] += int(clicked)
        return outcome_record(offer, clicked, drifted, _now())

    def run(self, bounds: Bounds | None = None, until_idle: float | None = None, stop=None) -> dict:
        """Deliver until ``bounds`` says so (--max-events offers, --duration, at
        most --rate per second), nothing new came for ``until_idle`` seconds, or
        ``stop`` (a threading.Event) is set."""
        bounds = bounds or Bounds()
        self.stop = stop or self.stop
        last_seen = time.monotonic()
        handled = 0

        def done() -> bool:
            idle = until_idle is not None and time.monotonic() - last_seen >= until_idle
            return idle or bounds.done(handled, self.stop)

        def room() -> int:
            # read only what may be sent now (--rate, --max-events): an offer read but
            # waiting here would look abandoned to the other senders
            return max(1, min(100, bounds.due(handled)))

        def batches():
            yield from self.own_pending(count=100)
            next_claim = 0.0
            while not done():
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self.claim_idle / 2
                    yield self.reclaim(count=room())
                yield self.new_batch(count=room(), block_ms=500)

        for batch in batches():
            if batch:
                last_seen = time.monotonic()
            read_at, ours = time.monotonic(), None
            for n, (msg_id, offer) in enumerate(batch):
                if done():
                    return self.counts
                while not bounds.due(handled):    # providers limit messages per second; so can we
                    time.sleep(0.01)
                if time.monotonic() - read_at > self.claim_idle / 2:   # slow sends (retries): keep the rest ours
                    ours, read_at = self.still_ours([i for i, _ in batch[n:]]), time.monotonic()
                if ours is not None and msg_id not in ours:
                    continue                      # delivered by another sender meanwhile
                self.handle(msg_id, _decoded(offer))
                handled += 1
                last_seen = time.monotonic()      # idle means: nothing to do, not a slow batch
        return self.counts


def _decoded(fields: dict) -> dict:
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in fields.items()}


def make_sender(settings: Settings, webhook: str | None, outbox: Path | None):
    url = webhook or settings.sms_webhook_url
    if url:
        return WebhookSender(url, settings.sms_webhook_timeout_seconds)
    return OutboxFileSender(outbox or settings.runtime_dir / "sms_outbox.jsonl", settings.sms_outbox_max_bytes)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_bounded_args(ap, what="offers")
    ap.add_argument("--webhook", help="POST each SMS here (default: SMS_WEBHOOK_URL, else the outbox file)")
    ap.add_argument("--outbox", type=Path, help="outbox file (default .runtime/sms_outbox.jsonl)")
    ap.add_argument("--consumer", default=default_consumer(),
                    help="consumer name in the group (default SMS_CONSUMER, else host-pid); unique per running "
                         "sender; reuse a stopped sender's name to resume its pending offers at once")
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
    print(f"sms sender: {settings.redis_offers_stream} -> {sender} (consumer {args.consumer})", flush=True)
    longest_send = (settings.sms_max_attempts * settings.sms_webhook_timeout_seconds
                    + args.backoff * (2 ** (settings.sms_max_attempts - 1) - 1))
    if isinstance(sender, WebhookSender) and longest_send >= settings.sms_claim_idle_seconds:
        print(f"warning: one offer may take {longest_send:.0f} s to send (SMS_MAX_ATTEMPTS x "
              f"SMS_WEBHOOK_TIMEOUT_SECONDS + backoffs), SMS_CLAIM_IDLE_SECONDS is "
              f"{settings.sms_claim_idle_seconds:g}: another sender may send it too; raise it", flush=True)
    try:   # no check at start: a missing Redis is waited for, like one that goes away later
        app = SmsSender(redis_client(settings, check=False), settings, sender, args.consumer, args.backoff,
                        customers=customers, stop=stop)
        counts = app.run(bounds, args.until_idle, stop)
    except EngineUnavailable as exc:
        if stop.is_set():
            return 0                   # Ctrl-C while waiting for Redis
        print(f"sms sender: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"sms sender: delivered {counts['delivered']}, already sent {counts['duplicates']}, "
          f"dead-lettered {counts['dead']}, retries {counts['retries']}, taken by {counts['clicked']} "
          f"customers in {bounds.elapsed():.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
