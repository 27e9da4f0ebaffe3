"""Stage 4 in a real browser: the dashboard against a live-fed index.

Starts the dashboard (03.stage4/run_stage4.py) on a free port against a unique
stage-3 index and a unique SMS counter (the setting REDIS_SMS_SENT_COUNTER),
keeps feeding it stage-3-shaped documents with current timestamps (and writes
a few Spark-shaped window counts into a unique stats index, INDEX_STATS), and runs
03.stage4/testkit/browser_probe.js (headless Debian Chromium through
playwright-core), which reports what the page shows. Checks: every chart draws
data, the map shades states, "last 30 minutes by level" shows Spark's numbers and
Elasticsearch's (checked against the index), "top 10 tracks by gender" draws one chart
per gender, totals grow without a reload, the SMS count is the
configured counter's, an SMS offer published on Redis appears in the feed (and
one for customer 0 after track 0 names them), no console errors, no request
leaves the dashboard (no CDN), no horizontal scrolling at 1280 px or 390 px.
Then the "Model" card (MODEL_PROBE below, also headless Chromium): the promoted
version, its test error and the last round's verdict and reason from a status hash
under a unique name (the setting REDIS_MODEL_STATUS), and a model_round notice in
the feed. Screenshots land in .runtime/screenshots/. Prints the update latency:
document indexed -> its count visible in the page.

    .venv/bin/python -m pytest -s tests/e2e/test_dashboard_browser.py
"""
from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import Elasticsearch, helpers
import redis

from common.config import REPO_ROOT, Settings
from common.geo import lookup_zip
from common.schema import EVENT_DATETIME_FORMAT, INTEREST_FIELDS, STAGE3_DOC_FIELDS, STATS_FIELDS, es_index_template
from stage2.window_stats import stats_doc_id
from tools.setup_extras import chromium_path

STAGE4 = REPO_ROOT / "03.stage4"
CHROMIUM = os.environ.get("CHROMIUM") or chromium_path() or "/usr/bin/chromium"   # make setup-test installs it
SCREENSHOTS = REPO_ROOT / ".runtime" / "screenshots"

ZIPS = ["10001", "94105", "60601", "33130", "98101", "02108", "80202", "30303",
        "85004", "19103", "48226", "55401", "97205", "89101", "78701", "37203"]
TRACKS = [(10, "Blue Monday", "New Order"), (11, "Hey Ya!", "OutKast"), (12, "Ceremony", "New Order"),
          (13, "Paper Planes", "M.I.A."), (14, "Hounds of Love", "Kate Bush"), (15, "Teardrop", "Massive Attack")]
AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
SPARK_PLAYS = {"Free": 120, "Silver": 45, "Gold": 7}      # Spark's counts, made up: the page must show these

# Reads the "Model" card and the feed's model-round lines in headless Chromium (playwright-core, as
# testkit/browser_probe.js drives it) once the card shows MODEL_VERSION, and saves screenshots:
# the card alone and the whole page at 1280 px. Prints one JSON object.
MODEL_PROBE = r"""
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const { chromium } = require('playwright-core');
const env = process.env;
(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-model-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env.CHROMIUM, headless: true, viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const result = { consoleErrors: [] };
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => result.consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(env.DASHBOARD_URL, { waitUntil: 'load' });
    await page.waitForFunction((v) => document.getElementById('model-version').textContent === v,
      env.MODEL_VERSION, { timeout: 15000 }).catch(() => {});
    await page.waitForSelector('#chart-tracks .c3-bar', { timeout: 15000 }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 1500));        // c3's transitions
    result.card = await page.evaluate(() => Object.fromEntries(
      ['version', 'error', 'detail', 'verdict', 'round-text', 'reason', 'labels']
        .map((k) => [k, document.getElementById(`model-${k}`).textContent])));
    result.verdictClass = await page.evaluate(() => document.getElementById('model-verdict').className);
    result.cardBox = await page.evaluate(() => {
      const b = document.getElementById('model').getBoundingClientRect();
      return { width: b.width, height: b.height, scrollWidth: document.getElementById('model').scrollWidth };
    });
    result.roundLines = await page.evaluate(() => [...document.querySelectorAll('#feed li.model_round')]
      .map((li) => ({ className: li.className, text: li.textContent })));
    result.overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    fs.mkdirSync(env.SCREENSHOT_DIR, { recursive: true });
    result.screenshots = [path.join(env.SCREENSHOT_DIR, 'dashboard-model-card.png'),
                          path.join(env.SCREENSHOT_DIR, 'dashboard-model-1280-full.png')];
    await page.locator('#model').screenshot({ path: result.screenshots[0] });
    await page.screenshot({ path: result.screenshots[1], fullPage: true });
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    process.stdout.write(`${JSON.stringify(result)}
`);
  }
})().catch((err) => { console.error(err); process.exit(1); });
"""


def stats_window_start(t: datetime) -> datetime:
    """Start of the Spark window the page compares (lib/queries.js currentWindow): the last 5-minute mark - 25 min."""
    return t.replace(minute=t.minute - t.minute % 5, second=0, microsecond=0) - timedelta(minutes=25)


def spark_window_docs(start: datetime) -> list[dict]:
    """ba_stats documents per level for the window [start, start + 30 min), as the stage-2 job writes them."""
    text = start.strftime(EVENT_DATETIME_FORMAT)
    end = (start + timedelta(minutes=30)).strftime(EVENT_DATETIME_FORMAT)
    return [{"_id": stats_doc_id("level", key, text), "window_start": text, "window_end": end,
             "dimension": "level", "key": key, "plays": plays} for key, plays in SPARK_PLAYS.items()]


def stage3_doc(event_id: int, when: datetime, rng: random.Random) -> dict:
    """One enriched stage-3 event document (the fields of common.schema.STAGE3_DOC_FIELDS)."""
    place = lookup_zip(rng.choice(ZIPS))
    track_id, title, artist = rng.choice(TRACKS)
    customer_id = rng.randint(1, 300)
    level = rng.choice(["Free", "Free", "Silver", "Gold"])
    return {
        "event_id": str(event_id), "customer_id": str(customer_id), "track_id": str(track_id),
        "datetime": when.strftime(EVENT_DATETIME_FORMAT), "ismobile": int(rng.random() < 0.6),
        "listening_zip_code": place.zip, "location": {"lat": place.lat, "lon": place.lon},
        "state": place.state, "city": place.city, "hour": when.hour,
        "customer_known": True, "name": f"Listener {customer_id}", "gender": rng.choice(["female", "male"]),
        "age": 30, "age_band": rng.choice(AGE_BANDS), "level": level, "campaign": 1,
        "customer_zip": place.zip, "linked_with_apps": 1, "title": title, "artist": artist, "length": 240,
        "ad_target": level != "Gold", "send_event": 0,
    }


class Feeder(threading.Thread):
    """Indexes a few documents every second; remembers when each running total was indexed."""

    def __init__(self, es: Elasticsearch, index: str, first_id: int, rng: random.Random):
        super().__init__(daemon=True)
        self.es, self.index, self.next_id, self.rng = es, index, first_id, rng
        self.total = first_id
        self.indexed: list[tuple[float, int]] = []     # (wall-clock ms after the bulk returned, total)
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(1.0):
            now = datetime.now(timezone.utc)
            docs = [stage3_doc(self.next_id + i, now, self.rng) for i in range(self.rng.randint(2, 6))]
            helpers.bulk(self.es, ({"_index": self.index, "_id": d["event_id"], "_source": d} for d in docs))
            self.next_id += len(docs)
            self.total += len(docs)
            self.indexed.append((time.time() * 1000, self.total))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dashboard(env: dict, port: int, launcher: tuple[str, ...] = ("03.stage4/run_stage4.py",)) -> subprocess.Popen:
    """The stage-4 launcher (the script, or ``-m stage4.run_stage4``) on `port`; returns once the page answers."""
    server = subprocess.Popen([sys.executable, *launcher, "--port", str(port)], env=env, cwd=REPO_ROOT)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise AssertionError("the dashboard did not start")
            time.sleep(0.3)


def wait_for_snapshot_totals(port: int, timeout: float = 30) -> dict:
    """`totals` of GET /api/snapshot (what the page renders) once Elasticsearch and Redis are up."""
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/snapshot", timeout=5) as res:
            snapshot = json.load(res)
        if snapshot["status"] == {"elasticsearch": "up", "redis": "up"}:
            return snapshot["totals"]
        assert time.monotonic() < deadline, f"engines not up in the dashboard: {snapshot['status']}"
        time.sleep(0.3)


def stop_dashboard(server: subprocess.Popen | None) -> None:
    if server and server.poll() is None:
        server.terminate()
        server.wait(timeout=20)


def run_probe(env: dict, port: int, **extra: str) -> dict:
    """Runs the browser probe against the dashboard on `port`; returns its report."""
    probe = subprocess.run(
        ["node", str(STAGE4 / "testkit" / "browser_probe.js")], cwd=REPO_ROOT, timeout=180,
        capture_output=True, text=True,
        env={**env, "DASHBOARD_URL": f"http://127.0.0.1:{port}", "CHROMIUM": CHROMIUM,
             "SCREENSHOT_DIR": str(SCREENSHOTS), **extra})
    assert probe.returncode == 0, probe.stderr[-3000:]
    return json.loads(probe.stdout.strip().splitlines()[-1])


def run_model_probe(port: int, version: str) -> dict:
    """MODEL_PROBE against the dashboard on `port`: what the Model card and the feed's round lines say."""
    probe = subprocess.run(
        ["node", "-e", MODEL_PROBE], cwd=STAGE4, timeout=120, capture_output=True, text=True,   # playwright-core from 03.stage4
        env={**os.environ, "DASHBOARD_URL": f"http://127.0.0.1:{port}", "CHROMIUM": CHROMIUM,
             "SCREENSHOT_DIR": str(SCREENSHOTS), "MODEL_VERSION": version})
    assert probe.returncode == 0, probe.stderr[-3000:]
    return json.loads(probe.stdout.strip().splitlines()[-1])


def publish_until_relayed(r: redis.Redis, channel: str, notice: dict, timeout: float = 15) -> None:
    """PUBLISH returns the number of subscribers: retries until the dashboard's relay is one."""
    deadline = time.monotonic() + timeout
    while r.publish(channel, json.dumps(notice)) < 1:
        assert time.monotonic() < deadline, "the dashboard never subscribed to the offers channel"
        time.sleep(0.2)


def update_latencies(indexed: list[tuple[float, int]], seen: list[list[float]], since_ms: float) -> list[float]:
    """For each batch indexed while the page was watched: ms until the page showed a total that includes it."""
    out = []
    for at, total in indexed:
        if at < since_ms:
            continue
        shown = [t for t, value in seen if value >= total and t >= at]
        if shown:
            out.append(shown[0] - at)
    return out


def check_window_chart(chart: dict, history: list[dict], es: Elasticsearch, index: str) -> None:
    """"Last 30 minutes by level": Spark's numbers are the stats documents', Elasticsearch's the
    index's count of the window (at least the history in it, at most everything indexed since)."""
    assert chart["levels"] == list(SPARK_PLAYS), chart
    assert chart["spark"] == [str(n) for n in SPARK_PLAYS.values()], chart
    assert "updates every 30 s" in chart["caption"], chart
    # the page's snapshot is up to a refresh older than the reading: it may be either side of a 5-minute mark
    read_at = datetime.fromtimestamp(chart["at"] / 1000, timezone.utc)
    starts = {stats_window_start(read_at - timedelta(seconds=s)) for s in (0, 5)}
    for level, shown in zip(chart["levels"], map(int, chart["elasticsearch"])):
        lowest = min(sum(d["level"] == level and s <= datetime.strptime(d["datetime"], EVENT_DATETIME_FORMAT)
                         .replace(tzinfo=timezone.utc) < s + timedelta(minutes=30) for d in history) for s in starts)
        highest = max(es.count(index=index, query={"bool": {"filter": [{"term": {"level": level}}, {"range": {
            "datetime": {"gte": s.strftime(EVENT_DATETIME_FORMAT), "lt": (s + timedelta(minutes=30))
                         .strftime(EVENT_DATETIME_FORMAT)}}}]}})["count"] for s in starts)
        assert 0 < lowest <= shown <= highest, (level, lowest, shown, highest)


@pytest.mark.e2e
def test_dashboard_in_headless_chromium(engines, unique):
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} missing: run make setup-test"
    assert (STAGE4 / "node_modules" / "playwright-core").is_dir(), "run: cd 03.stage4 && npm ci"
    names = {"INDEX_STAGE1": f"t_{unique}_1", "INDEX_STAGE2": f"t_{unique}_2",
             "INDEX_STAGE3": f"t_{unique}_3", "INDEX_INTEREST": f"t_{unique}_interest",
             "INDEX_STATS": f"t_{unique}_stats",
             "REDIS_OFFERS_CHANNEL": f"t_{unique}:offers",
             # the launcher's pipeline collector writes under names of this test's own
             "REDIS_PIPELINE_SAMPLES": f"t_{unique}:pipeline_samples", "INDEX_PIPELINE": f"t_{unique}_pipeline"}
    sms_counter = f"t_{unique}:sms_sent_total"
    model_status = f"t_{unique}:model_status"
    s = Settings()
    es = Elasticsearch(**s.es_client_kwargs())
    r = redis.Redis.from_url(s.redis_url)
    index, interest, stats = names["INDEX_STAGE3"], names["INDEX_INTEREST"], names["INDEX_STATS"]
    rng = random.Random(4)
    port = free_port()
    server = feeder = None
    try:
        for name, fields in ((index, STAGE3_DOC_FIELDS), (interest, INTEREST_FIELDS), (stats, STATS_FIELDS)):
            es.indices.put_index_template(name=name, **es_index_template(name, fields))
            es.indices.create(index=name)
        # Some history: 300 plays spread over the last 30 minutes, so the chart has a shape.
        now = datetime.now(timezone.utc)
        history = [stage3_doc(i, now - timedelta(seconds=rng.uniform(0, 1790)), rng) for i in range(300)]
        helpers.bulk(es, ({"_index": index, "_id": d["event_id"], "_source": d} for d in history), refresh="wait_for")
        helpers.bulk(es, ({"_index": interest, "_id": f"{c}-10", "_source": {
            "customer_id": str(c), "track_id": "10", "first_play": now.strftime(EVENT_DATETIME_FORMAT),
            "last_play": now.strftime(EVENT_DATETIME_FORMAT), "plays": 3}} for c in (1, 2, 3)), refresh="wait_for")
        # Spark's counts for the current window, and the next one in case the test crosses a 5-minute mark
        first = stats_window_start(now)
        helpers.bulk(es, ({"_index": stats, "_id": d.pop("_id"), "_source": d}
                          for start in (first, first + timedelta(minutes=5)) for d in spark_window_docs(start)),
                     refresh="wait_for")
        # A count the default counter does not hold, so the page can only show it
        # by reading the configured counter.
        sms_sent = int(r.get(Settings.model_fields["redis_sms_sent_counter"].default) or 0) + 4321
        r.set(sms_counter, sms_sent)
        # The model status as 02.stage3/train.py publish_status writes it (strings), with a label
        # count the default hash does not hold: a round v0705 refused, v0703 still promoted.
        labels = int(r.hget(Settings.model_fields["redis_model_status"].default, "labels") or 0) + 1234
        reason = "test error 0.310 is above the threshold 0.250"
        r.hset(model_status, mapping={
            "current_version": "v0703", "current_error": "0.0612", "current_error_now": "0.0731",
            "current_trained_at": (now - timedelta(minutes=20)).isoformat(timespec="seconds"),
            "last_version": "v0705", "last_error": "0.3100", "last_verdict": "refused", "last_reason": reason,
            "last_at": now.isoformat(timespec="seconds"), "labels": str(labels), "labels_from_outcomes": "56"})

        # the probe publishes the SMS notice itself: it must use the same engines.
        # The counter's and the status hash's names are given in lower case, which the Python
        # settings accept (case-insensitive) and node's environment does not: the page reads
        # them only if run_stage4.py passes the settings under their upper-case names.
        env = {**os.environ, **names, "ES_URL": s.es_url, "REDIS_URL": s.redis_url,
               "redis_sms_sent_counter": sms_counter, "redis_model_status": model_status}
        env.pop("REDIS_SMS_SENT_COUNTER", None)
        env.pop("REDIS_MODEL_STATUS", None)
        server = start_dashboard(env, port)
        snapshot_totals = wait_for_snapshot_totals(port)
        assert snapshot_totals["smsSent"] == sms_sent, snapshot_totals
        # the round's notice, before any page opens: the server replays its recent notices to new pages
        publish_until_relayed(r, names["REDIS_OFFERS_CHANNEL"], {
            "type": "model_round", "version": "v0705", "error": 0.31, "verdict": "refused", "reason": reason,
            "current": "v0703", "at": now.isoformat(timespec="seconds")})
        feeder = Feeder(es, index, len(history), rng)
        feeder.start()
        seen = run_probe(env, port, NOTICE_NAME=f"Probe {unique}")
        feeder.stop_event.set()
        feeder.join()
        model = run_model_probe(port, "v0703")
        print(json.dumps(model, indent=1))
        print(json.dumps({k: seen[k] for k in ("charts", "chartsPhone", "windowChart", "totalsFirst", "totalsSecond",
                                                "noticeLatencyMs", "statusText", "overflow")}, indent=1))

        assert all(n > 0 for n in seen["charts"].values()), seen["charts"]
        assert seen["charts"]["gender"] == 2 and seen["charts"]["tracks"] == len(TRACKS), seen["charts"]
        assert seen["charts"]["genderTracks"] == 2 * len(TRACKS), seen["charts"]    # every title, for each gender
        assert seen["windowChart"]["genders"] == ["female", "male"], seen["windowChart"]
        check_window_chart(seen["windowChart"], history, es, index)
        states = {lookup_zip(z).state for z in ZIPS}
        assert seen["charts"]["shadedStates"] == len(states), seen["charts"]
        assert all(n > 0 for n in seen["chartsPhone"].values()), seen["chartsPhone"]

        events = [int(t["events"].replace(",", "")) for t in (seen["totalsFirst"], seen["totalsSecond"])]
        assert len(history) <= events[0] < events[1], events          # grew, no reload needed
        assert seen["samePage"], "the page reloaded"
        assert seen["totalsFirst"]["interest"] == "3", seen["totalsFirst"]
        assert seen["totalsFirst"]["sms"] == f"{sms_sent:,}", (seen["totalsFirst"], sms_sent)
        assert seen["noticeSubscribers"] == 1 and seen["noticeInFeed"], "the SMS offer never reached the feed"
        assert seen["zeroIdsInFeed"], f"customer 0 / track 0 not named in the feed: {seen['feedFirstLine']!r}"
        assert seen["statusText"][:2] == ["Elasticsearch ✓", "Redis ✓"] and index in seen["statusText"][2]

        assert seen["consoleErrors"] == [], seen["consoleErrors"]
        assert seen["foreignRequests"] == [], seen["foreignRequests"]
        assert seen["overflow"] == {"desktop": 0, "phone": 0}, seen["overflow"]
        for shot in seen["screenshots"]:
            assert os.path.getsize(shot) > 10_000, shot

        # the Model card: the promoted version, its test error, the last round's verdict and reason
        card = model["card"]
        assert (card["version"], card["error"]) == ("v0703", "test error 6.1%"), card
        assert "now 7.3% on the latest history" in card["detail"], card
        assert card["verdict"] == "refused" and model["verdictClass"] == "verdict refused", model
        assert card["round-text"].startswith("last round v0705 · test error 31.0%"), card
        assert card["reason"] == reason, card
        assert card["labels"] == f"labels: {labels:,} (56 from SMS outcomes)", card
        assert model["cardBox"]["scrollWidth"] <= model["cardBox"]["width"] + 1, model["cardBox"]   # nothing sticks out
        assert [line["className"] for line in model["roundLines"]] == ["model_round refused"], model["roundLines"]
        assert "round v0705 refused: test error 31.0%" in model["roundLines"][0]["text"], model["roundLines"]
        assert model["consoleErrors"] == [] and model["overflow"] == 0, model
        for shot in model["screenshots"]:
            assert os.path.getsize(shot) > 5_000, shot

        latencies = update_latencies(feeder.indexed, seen["totalsSeen"], seen["observingSince"])
        assert len(latencies) >= 5, (feeder.indexed, seen["totalsSeen"])
        print(f"\nupdate latency, document indexed -> visible in the page: median "
              f"{statistics.median(latencies) / 1000:.2f} s, max {max(latencies) / 1000:.2f} s "
              f"over {len(latencies)} batches; Redis notice -> feed {seen['noticeLatencyMs']} ms; "
              f"screenshots in {SCREENSHOTS}")
        assert max(latencies) < 10_000, latencies
    finally:
        if feeder:
            feeder.stop_event.set()
        stop_dashboard(server)
        es.indices.delete(index=f"t_{unique}_*", ignore_unavailable=True)
        for name in (index, interest, stats):
            es.options(ignore_status=404).indices.delete_index_template(name=name)
        r.delete(sms_counter, model_status, names["REDIS_PIPELINE_SAMPLES"], f"{names['REDIS_PIPELINE_SAMPLES']}:collector")


@pytest.mark.e2e
def test_dashboard_says_what_it_waits_for_when_engines_are_down():
    """Elasticsearch and Redis unreachable: the page loads and says so, without errors."""
    port, es_port, redis_port = free_port(), free_port(), free_port()
    env = {**os.environ, "ES_URL": f"http://127.0.0.1:{es_port}", "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "KAFKA_PORT": str(free_port())}        # the launcher's pipeline collector finds no engine either
    server = start_dashboard(env, port, launcher=("-m", "stage4.run_stage4"))
    try:
        seen = run_probe(env, port, PROBE="down")
    finally:
        stop_dashboard(server)
    assert seen["statusText"] == ["waiting for Elasticsearch", "waiting for Redis"], seen
    assert "Waiting for Elasticsearch" in seen["notice"], seen
    assert seen["totalsFirst"]["events"] == "–", seen
    assert seen["consoleErrors"] == [], seen["consoleErrors"]
