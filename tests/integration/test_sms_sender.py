"""The SMS sender against the real Redis and a real local HTTP server.

- a webhook that fails twice then succeeds -> exactly one delivery
- a webhook that always fails -> the offer ends in the dead-letter stream
- the sender killed (SIGKILL) with pending offers, then restarted -> each offer
  in the outbox exactly once, nothing left pending, and one outcome per offer
  (clicked or not, the simulated customer's deterministic answer)
- a replayed offer records no second outcome; the drift switch mirrors the answers
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


class FlakyWebhook:
    """A real HTTP server on 127.0.0.1 that answers 500 to the first ``failures`` POSTs."""

    def __init__(self, failures: int):
        self.failures, self.requests, self.delivered = failures, 0, []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.requests += 1
                ok = hook.requests > hook.failures
                if ok:
                    hook.delivered.append((self.headers["Idempotency-Key"], body))
                self.send_response(200 if ok else 500)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def names(unique):
    prefix = f"t_{unique}"
    return {"redis_offers_stream": f"{prefix}:offers", "redis_offers_dead_stream": f"{prefix}:offers:dead",
            "redis_offers_channel": f"{prefix}:channel", "redis_sms_sent_counter": f"{prefix}:sent",
            "redis_outcomes_hash": f"{prefix}:outcomes", "redis_drift_key": f"{prefix}:drift",
            "sms_max_attempts": 3}


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
    assert hook.requests == 3
    assert [key for key, _ in hook.delivered] == [offer_id]
    assert "Cust 1" in hook.delivered[0][1]["text"]
    assert counts == {"delivered": 1, "duplicates": 0, "dead": 0, "retries": 2, "clicked": 0}
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
    assert hook.requests == s.sms_max_attempts == 3
    assert counts["dead"] == 1 and counts["delivered"] == 0
    [(_, dead)] = r.xrange(s.redis_offers_dead_stream)
    assert dead["offer_id"] == offer_id and "500" in dead["error"] and dead["attempts"] == "3"
    assert r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] == 0
    assert r.get(s.redis_sms_sent_counter) is None
    assert not r.sismember(sms.delivered_set(s), offer_id)


def _outbox_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["offer_id"] for line in path.read_text().splitlines() if line.strip()]


def _start_sender(names: dict, outbox: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, **{k.upper(): str(v) for k, v in names.items()}}
    return subprocess.Popen([sys.executable, str(REPO / "02.stage3/sms_sender.py"), "--outbox", str(outbox),
                             "--consumer", "killed-and-back", *extra], cwd=REPO, env=env)


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_sender_resumes_pending_offers_and_delivers_each_once(redis_and_settings, names, tmp_path):
    r, s = redis_and_settings
    outbox = tmp_path / "outbox.jsonl"
    offer_ids = queue(r, s, 60)

    first = _start_sender(names, outbox, "--rate", "20")
    try:
        _wait_for(lambda: len(_outbox_ids(outbox)) >= 10, 60, "the first deliveries")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    pending_at_kill = r.xpending(s.redis_offers_stream, sms.GROUP)["pending"]
    assert pending_at_kill > 0, "the kill should leave read-but-unacknowledged offers"
    assert len(_outbox_ids(outbox)) < 60

    second = _start_sender(names, outbox, "--duration", "120")
    try:
        _wait_for(lambda: r.get(s.redis_sms_sent_counter) == "60", 90, "all 60 offers delivered")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0

    delivered = _outbox_ids(outbox)
    assert sorted(delivered) == sorted(offer_ids)          # each exactly once
    assert r.xpending(s.redis_offers_stream, sms.GROUP)["pending"] == 0
    assert r.scard(sms.delivered_set(s)) == 60

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
