"""The SMS sender against the real Redis and a real local HTTP server.

- a webhook that fails twice then succeeds -> exactly one delivery
- a webhook that always fails -> the offer ends in the dead-letter stream
- the sender killed (SIGKILL) with pending offers, then restarted -> each offer
  in the outbox exactly once, nothing left pending, and one outcome per offer
  (clicked or not, the simulated customer's deterministic answer)
- a replayed offer records no second outcome; the drift switch mirrors the answers
- several senders at once (issue 12): two senders deliver each offer exactly once; an
  entry missing a field and one handed out too often go to the dead stream; a
  redirecting webhook is refused; a slow one times out; Redis killed and restarted
  under a running sender: it waits, then delivers everything exactly once
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from common.bounded import Bounds
from stage3 import sms_sender as sms

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


class LocalWebhook:
    """A real HTTP server on 127.0.0.1. Each POST is answered by ``reply(headers, body)``,
    which returns the status and extra response headers."""

    delay = 0.0

    def __init__(self):
        self.posts = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"null")
                hook.posts += 1
                status, headers = hook.reply(self.headers, body)
                time.sleep(hook.delay)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reply(self, headers, body) -> tuple[int, dict]:
        raise NotImplementedError

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FlakyWebhook(LocalWebhook):
    """Answers 500 to the first ``failures`` POSTs, then 200 (and keeps what it delivered)."""

    def __init__(self, failures: int):
        self.failures, self.delivered = failures, []
        super().__init__()

    def reply(self, headers, body):
        if self.posts <= self.failures:
            return 500, {}
        self.delivered.append((headers["Idempotency-Key"], body))
        return 200, {}


@pytest.fixture
def names(unique):
    prefix = f"t_{unique}"
    return {"redis_offers_stream": f"{prefix}:offers", "redis_offers_dead_stream": f"{prefix}:offers:dead",
            "redis_offers_channel": f"{prefix}:channel", "redis_sms_sent_counter": f"{prefix}:sent",
            "redis_outcomes_hash": f"{prefix}:outcomes", "redis_drift_key": f"{prefix}:drift",
            "sms_max_attempts": 3, "sms_claim_idle_seconds": 2}


@pytest.fixture
def redis_and_settings(engines, names, unique):
    from common.clients import redis_client
    from common.config import Settings

    s = Settings(**names)
    r = redis_client(s)
    yield r, s
    keys = list(r.scan_iter(f"t_{unique}*"))
    if keys:
        r.delete(*keys)


def queue(r, s, n: int, day: str = "2026-01-05") -> list[str]:
    from stage3.offers import offer_message

    ids = []
    for cid in range(1, n + 1):
        msg = offer_message({"customer_id": cid, "name": f"Cust {cid}", "level": "Free",
                             "track_id": 7, "title": "Blue"}, day, "2026-01-05T10:00:00+00:00")
        r.xadd(s.redis_offers_stream, msg)
        ids.append(msg["offer_id"])
    return ids


def test_webhook_failing_twice_then_succeeding_delivers_once(redis_and_settings):
    r, s = redis_and_settings
    hook = FlakyWebhook(failures=2)
    try:
        [offer_id] = queue(r, s, 1)
        app = sms.SmsSender(r, s, sms.WebhookSender(hook.url), backoff=0.01)
        counts = app.run(Bounds(max_events=1))
    finally:
        hook.close()
    assert hook.posts == 3
    assert [key for key, _ in hook.delivered] == [offer_id]
    assert "Cust 1" in hook.delivered[0][1]["text"]
    assert counts == {"delivered": 1, "duplicates": 0, "dead": 0, "retries": 2, "clicked": 0, "in_flight": 0}
    assert r.get(s.redis_sms_sent_counter) == "1"
    assert r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] == 0
    assert r.xlen(s.redis_offers_dead_stream) == 0

    # the same offer queued again (e.g. a replay) is recognised and not sent twice
    queue(r, s, 1)
    assert app.run(Bounds(max_events=1))["duplicates"] == 1
    assert len(hook.delivered) == 1


def test_webhook_always_failing_ends_in_dead_letter_stream(redis_and_settings):
    r, s = redis_and_settings
    hook = FlakyWebhook(failures=10**6)
    try:
        [offer_id] = queue(r, s, 1)
        counts = sms.SmsSender(r, s, sms.WebhookSender(hook.url), backoff=0.01).run(Bounds(max_events=1))
    finally:
        hook.close()
    assert hook.posts == s.sms_max_attempts == 3
    assert counts["dead"] == 1 and counts["delivered"] == 0
    [(_, dead)] = r.xrange(s.redis_offers_dead_stream)
    assert dead["offer_id"] == offer_id and "500" in dead["error"] and dead["attempts"] == "3"
    assert dead["dead_reason"] == "send_failed"
    assert r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] == 0
    assert r.get(s.redis_sms_sent_counter) is None
    assert not r.sismember(sms.delivered_set(s), offer_id)


def _outbox_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["offer_id"] for line in path.read_text().splitlines() if line.strip()]


def _start_sender(names: dict, outbox: Path, *extra: str, **popen) -> subprocess.Popen:
    """The sender as its own process, under its default (unique) consumer name."""
    env = {**os.environ, **{k.upper(): str(v) for k, v in names.items()}}
    env.pop("SMS_CONSUMER", None)
    return subprocess.Popen([sys.executable, str(REPO / "02.stage3/sms_sender.py"), "--outbox", str(outbox),
                             *extra], cwd=REPO, env=env, **popen)


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _frozen_holding_offers(proc, r, s) -> bool:
    """Freeze the sender (SIGSTOP); True if it holds a read, unacknowledged offer, else let it go on."""
    proc.send_signal(signal.SIGSTOP)
    if r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] > 0:
        return True
    proc.send_signal(signal.SIGCONT)
    return False


def test_killed_sender_resumes_pending_offers_and_delivers_each_once(redis_and_settings, names, tmp_path):
    r, s = redis_and_settings
    outbox = tmp_path / "outbox.jsonl"
    offer_ids = queue(r, s, 60)

    first = _start_sender(names, outbox, "--rate", "20")
    try:
        _wait_for(lambda: len(_outbox_ids(outbox)) >= 10, 60, "the first deliveries")
        _wait_for(lambda: _frozen_holding_offers(first, r, s), 10, "the sender holding an offer")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    pending_at_kill = r.xpending(s.redis_offers_stream, sms.GROUP)["pending"]
    assert pending_at_kill > 0, "the kill should leave read-but-unacknowledged offers"
    assert len(_outbox_ids(outbox)) < 60

    # another name: it takes the killed sender's offers over once idle SMS_CLAIM_IDLE_SECONDS (2 s here)
    second = _start_sender(names, outbox, "--duration", "120")
    try:
        _wait_for(lambda: r.get(s.redis_sms_sent_counter) == "60", 90, "all 60 offers delivered")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0

    delivered = _outbox_ids(outbox)
    assert sorted(delivered) == sorted(offer_ids)          # each exactly once
    assert r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] == 0
    assert sms.delivered_count(r, s) == 60                 # across a UTC midnight too

    # one outcome per offer, across the kill, each the simulated customer's fixed answer
    from stage3.outcomes import SimulatedCustomers
    outcomes = {k: json.loads(v) for k, v in r.hgetall(s.redis_outcomes_hash).items()}
    assert sorted(outcomes) == sorted(offer_ids)
    truth = SimulatedCustomers.from_data(s)
    for offer_id, outcome in outcomes.items():
        assert outcome["clicked"] == int(truth.clicks(offer_id, outcome["customer_id"], drifted=False))
        assert outcome["drifted"] == 0


def test_outcomes_once_per_offer_and_the_drift_switch(redis_and_settings, tmp_path):
    from stage3.outcomes import SimulatedCustomers, read_outcomes, set_drift, uniform

    r, s = redis_and_settings
    # customer 1 clicks with p = 0.88, customer 2 with p = 0.12 (z = +2 / -2)
    customers = SimulatedCustomers({1: 2.0, 2: -2.0})
    app = sms.SmsSender(r, s, sms.OutboxFileSender(tmp_path / "out.jsonl"), customers=customers)
    ids = queue(r, s, 2)
    app.run(Bounds(max_events=2))
    first = r.hgetall(s.redis_outcomes_hash)
    assert sorted(first) == sorted(ids)

    # the same offers queued again (a replayed micro-batch): duplicates, no second outcome
    queue(r, s, 2)
    assert app.run(Bounds(max_events=2))["duplicates"] == 2
    assert r.hgetall(s.redis_outcomes_hash) == first

    # the teacher's switch: from now on the customers answer the mirrored model
    set_drift(r, s, 0.0)
    app._drift_read = 0.0                   # read the switch at once (it is cached for a second)
    later = queue(r, s, 2, day="2026-01-06")
    app.run(Bounds(max_events=2))
    frame = read_outcomes(r, s)
    assert len(frame) == 4 and frame["drifted"].sum() == 2
    for offer_id in later:
        got = json.loads(r.hget(s.redis_outcomes_hash, offer_id))
        cid = got["customer_id"]
        p_drifted = 1 / (1 + 2.718281828 ** ({1: 2.0, 2: -2.0}[cid]))   # sigmoid(-z)
        assert got["drifted"] == 1 and got["clicked"] == int(uniform(offer_id) < p_drifted)


# --- several senders, bad entries, bounds, a webhook that misbehaves, Redis going away -----------
class SlowOutbox(sms.OutboxFileSender):
    """The outbox file, a few milliseconds per SMS, so two senders overlap."""

    def send(self, offer):
        time.sleep(0.01)
        super().send(offer)


def test_two_senders_at_once_deliver_each_offer_exactly_once(redis_and_settings, tmp_path):
    from common.clients import redis_client

    r, s = redis_and_settings
    s = s.model_copy(update={"sms_claim_idle_seconds": 1})
    offer_ids = queue(r, s, 100)
    queue(r, s, 100)                        # every offer twice (a replay): both senders may hold one at once
    outbox = tmp_path / "outbox.jsonl"
    senders = [sms.SmsSender(redis_client(s), s, SlowOutbox(outbox), consumer=f"sender-{n}") for n in (1, 2)]
    threads = [threading.Thread(target=app.run, kwargs={"until_idle": 2.5}) for app in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(_outbox_ids(outbox)) == sorted(offer_ids)              # each exactly once
    assert all(app.counts["delivered"] > 0 for app in senders)           # both did their share
    assert sum(app.counts["delivered"] for app in senders) == 100
    assert r.get(s.redis_sms_sent_counter) == "100"
    assert r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] == 0
    # the per-offer keys and the delivered set expire (SMS_DELIVERED_TTL_SECONDS)
    assert 0 < r.ttl(sms.sent_key(s, offer_ids[0])) <= s.sms_delivered_ttl_seconds
    assert 0 < r.ttl(sms.delivered_set(s)) <= s.sms_delivered_ttl_seconds


def test_entry_missing_offer_id_is_dead_lettered_and_the_sender_goes_on(redis_and_settings, tmp_path):
    r, s = redis_and_settings
    r.xadd(s.redis_offers_stream, {"customer_id": "5", "name": "No Id", "title": "Blue"})
    r.xadd(s.redis_offers_stream, {"offer_id": "6-2026-01-05", "customer_id": "six", "name": "x", "title": "y"})
    [offer_id] = queue(r, s, 1)
    outbox = tmp_path / "outbox.jsonl"
    counts = sms.SmsSender(r, s, sms.OutboxFileSender(outbox)).run(until_idle=0.5)
    assert counts["dead"] == 2 and counts["delivered"] == 1
    assert _outbox_ids(outbox) == [offer_id]
    first, second = [f for _, f in r.xrange(s.redis_offers_dead_stream)]
    assert first["dead_reason"] == "invalid_entry" and "offer_id" in first["error"] and first["name"] == "No Id"
    assert second["dead_reason"] == "invalid_entry" and "not a number" in second["error"]
    assert r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] == 0


def test_an_offer_handed_out_too_often_is_dead_lettered(redis_and_settings, tmp_path):
    r, s = redis_and_settings
    s = s.model_copy(update={"sms_max_deliveries": 2, "sms_claim_idle_seconds": 0.2})
    [offer_id] = queue(r, s, 1)
    app = sms.SmsSender(r, s, sms.OutboxFileSender(tmp_path / "outbox.jsonl"))
    # two senders read it and died before acknowledging it (a poison offer would do that)
    [[_, [(msg_id, _)]]] = r.xreadgroup(sms.GROUP, "died-1", {s.redis_offers_stream: ">"})
    r.xclaim(s.redis_offers_stream, sms.GROUP, "died-2", 0, [msg_id])
    time.sleep(0.3)
    counts = app.run(until_idle=0.5)               # its reclaim would be the third delivery
    assert counts["dead"] == 1 and counts["delivered"] == 0
    [(_, dead)] = r.xrange(s.redis_offers_dead_stream)
    assert (dead["offer_id"], dead["dead_reason"], dead["stream_id"]) == (offer_id, "too_many_deliveries", msg_id)
    assert r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] == 0


def test_dead_stream_is_bounded(redis_and_settings):
    r, s = redis_and_settings
    s = s.model_copy(update={"sms_stream_maxlen": 100})
    for n in range(400):
        r.xadd(s.redis_offers_stream, {"customer_id": str(n)})       # no offer_id: every one dead
    sms.SmsSender(r, s, sms.OutboxFileSender(Path(os.devnull))).run(until_idle=0.3)
    assert 100 <= r.xlen(s.redis_offers_dead_stream) < 400            # ~ trims whole blocks of entries


class OneAnswer(LocalWebhook):
    """Answers every POST the same way, after ``delay`` seconds."""

    def __init__(self, status: int, headers: dict | None = None, delay: float = 0.0):
        self.status, self.headers, self.delay = status, headers or {}, delay
        super().__init__()

    def reply(self, headers, body):
        return self.status, self.headers


def test_redirecting_webhook_is_refused_and_a_slow_one_times_out(redis_and_settings):
    r, s = redis_and_settings
    elsewhere = OneAnswer(200)
    redirecting = OneAnswer(307, {"Location": elsewhere.url})
    slow = OneAnswer(200, delay=3)
    try:
        [offer_id] = queue(r, s, 1)
        counts = sms.SmsSender(r, s, sms.WebhookSender(redirecting.url), backoff=0.01).run(until_idle=0.5)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            sms.WebhookSender(slow.url, timeout=0.5).send({"offer_id": "1-x", "name": "n", "title": "t"})
        assert time.monotonic() - started < 2
    finally:
        for server in (elsewhere, redirecting, slow):
            server.close()
    assert (redirecting.posts, elsewhere.posts) == (1, 0)      # not retried, not followed
    assert counts["dead"] == 1 and counts["delivered"] == 0
    [(_, dead)] = r.xrange(s.redis_offers_dead_stream)
    assert dead["offer_id"] == offer_id and dead["dead_reason"] == "refused" and "307" in dead["error"]


class OwnRedis:
    """A redis-server of this test's own on a free port (never the shared one), with every
    write on disk before its reply (appendfsync always), so kill -9 loses nothing acknowledged."""

    def __init__(self, folder: Path):
        import shutil
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.folder, self.binary = folder, shutil.which("redis-server")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "always",
                                      "--save", ""], stdout=subprocess.DEVNULL)
        import redis
        _wait_for(lambda: _answers(redis.Redis(port=self.port)), 10, "our redis-server")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def _answers(client) -> bool:
    import redis
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def test_sender_waits_for_redis_and_then_delivers_everything_once(names, tmp_path):
    from common.clients import redis_client
    from common.config import Settings

    own = OwnRedis(tmp_path)
    own.start()
    try:
        s = Settings(**names, redis_url=own.url)
        r = redis_client(s)
        offer_ids = queue(r, s, 30)
        outbox, log = tmp_path / "outbox.jsonl", tmp_path / "sender.log"
        with open(log, "w") as out:
            sender = _start_sender({**names, "redis_url": own.url, "engine_retry_cap_seconds": 1}, outbox,
                                   "--rate", "10", "--no-outcomes", stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_for(lambda: len(_outbox_ids(outbox)) >= 5, 30, "the first deliveries")
            own.kill()
            _wait_for(lambda: "unreachable" in log.read_text(), 15, "the sender's status line")
            time.sleep(1.5)
            assert sender.poll() is None, log.read_text()                # waiting, not dead
            own.start()
            _wait_for(lambda: r.get(s.redis_sms_sent_counter) == "30", 30, "all 30 offers delivered")
        finally:
            sender.send_signal(signal.SIGTERM)
            assert sender.wait(timeout=30) == 0
        said = log.read_text()
        assert "Traceback" not in said and f"Redis at {own.url} is back after" in said
        assert sorted(_outbox_ids(outbox)) == sorted(offer_ids)          # each exactly once
        assert r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] == 0
    finally:
        own.kill()
