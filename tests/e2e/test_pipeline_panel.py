"""The dashboard's Pipeline panel in headless Chromium, drawing a lag that really grows.

A live file and a Kafka topic of the test's own, the shipper between them, and no
streaming job: only the progress its listener would have left in Redis after a batch
that processed nothing (the topic's offsets 0). Plays are appended at 30/s, so the
Kafka -> Spark lag the collector measures (Kafka's end offsets minus that progress)
grows by ~60 per sample. The dashboard (03.stage4/run_stage4.py, which starts the
collector, here every 2 s) is opened at 1280 px and at 390 px: the panel's enrich
row turns red (grew at each of the last 3 samples), its sparkline rises, its number
matches Kafka's offsets, the file row stays normal; nothing overflows. Screenshots
land in .runtime/screenshots/ (pipeline-panel-*.png).

    .venv/bin/python -m pytest -s tests/e2e/test_pipeline_panel.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from common.config import REPO_ROOT, Settings
from stage1.shipper import default_offset_file
from tests.cleanup import drop_test_resources
from tests.e2e.test_dashboard_browser import CHROMIUM, SCREENSHOTS, STAGE4, free_port, start_dashboard, stop_dashboard
from tests.e2e.test_pipeline_lag import plays

PANEL_PROBE = r"""
const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
const { chromium } = require('playwright-core');
const env = process.env;
(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-pipeline-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env.CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const result = { consoleErrors: [], views: {} };
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => result.consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(env.DASHBOARD_URL, { waitUntil: 'load' });
    await page.waitForSelector('#pipeline .pipe-row.growing[data-key="kafka:enrich"]', { timeout: 90000 });
    fs.mkdirSync(env.SCREENSHOT_DIR, { recursive: true });
    for (const [name, width, height] of [['desktop', 1280, 900], ['phone', 390, 844]]) {
      await page.setViewportSize({ width, height });
      await new Promise((resolve) => setTimeout(resolve, 2500));      // a fresh snapshot at this width
      result.views[name] = await page.evaluate(() => ({
        rows: [...document.querySelectorAll('#pipeline .pipe-row')].map((r) => ({
          key: r.dataset.key, className: r.className,
          hop: r.querySelector('.hop').textContent, what: r.querySelector('.what').textContent,
          now: r.querySelector('.now').textContent, detail: r.querySelector('.detail').textContent,
          polylines: [...r.querySelectorAll('.spark polyline')].map((p) => p.getAttribute('points')),
          sparkWidth: r.querySelector('.spark').getBoundingClientRect().width,
          color: getComputedStyle(r.querySelector('.now')).color,
        })),
        caption: document.getElementById('pipeline-caption').textContent,
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        panelOverflow: document.getElementById('pipeline').scrollWidth - document.getElementById('pipeline').clientWidth,
      }));
      const shots = [path.join(env.SCREENSHOT_DIR, `pipeline-panel-${width}.png`),
                     path.join(env.SCREENSHOT_DIR, `pipeline-page-${width}.png`)];
      await page.locator('#pipeline').screenshot({ path: shots[0] });
      await page.screenshot({ path: shots[1] });
      result.views[name].screenshots = shots;
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
})().catch((err) => { console.error(err); process.exit(1); });
"""


@pytest.mark.e2e
def test_pipeline_panel_draws_a_growing_lag(engines, unique, tmp_path):
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} missing: run make setup"
    p = f"t_{unique}"
    names = {"kafka_topic": p, "live_file": str(tmp_path / "live.csv"),
             "redis_pipeline_progress": f"{p}:progress", "redis_pipeline_samples": f"{p}:samples",
             "index_pipeline": f"{p}_pipeline", "index_deadletter": f"{p}_dead",
             "index_stage1": f"{p}_1", "index_stage2": f"{p}_2", "index_stage3": f"{p}_3",
             "index_interest": f"{p}_interest", "index_stats": f"{p}_stats",
             "redis_offers_stream": f"{p}:offers", "redis_offers_dead_stream": f"{p}:offers:dead",
             "redis_model_status": f"{p}:model", "redis_offers_channel": f"{p}:channel",
             "pipeline_interval_seconds": "2"}
    s = Settings(**names)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **{k.upper(): v for k, v in names.items()}}
    s.live_file.touch()
    from common.clients import ensure_topic, redis_client, topic_end_offsets

    ensure_topic(p, settings=s)
    r = redis_client(s)
    # what the job's listener leaves after a batch that processed nothing, 20 rows/s, every 2 s
    r.hset(f"{s.redis_pipeline_progress}:{p}", "stage2:enrich", json.dumps({
        "app": "stage2", "query": "enrich", "batch_id": 0, "published_at": time.time(),
        "end_offsets": {p: {"0": 0, "1": 0}}, "input_rows_per_s": 20.0, "processed_rows_per_s": 40.0,
        "batch_seconds": 0.5, "interval_seconds": 2.0, "watermark": None, "max_offsets_behind_latest": 0}))
    shipper = subprocess.Popen([sys.executable, "-m", "stage1.shipper", "--sink", "kafka", "--live-file",
                                str(s.live_file), "--topic", p], cwd=REPO_ROOT, env=env,
                               stdout=open(tmp_path / "shipper.log", "w"), stderr=subprocess.STDOUT)
    appending = threading.Event()

    def append():
        first = 0
        while not appending.wait(0.5):
            with open(s.live_file, "a") as f:
                f.write("".join(line + "\n" for line in plays(first, 15)))
            first += 15

    writer = threading.Thread(target=append, daemon=True)
    server = None
    port = free_port()
    try:
        writer.start()
        server = start_dashboard(env, port)               # with its collector
        probe = subprocess.run(
            ["node", "-e", PANEL_PROBE], cwd=STAGE4, timeout=180, capture_output=True, text=True,
            env={**os.environ, "DASHBOARD_URL": f"http://127.0.0.1:{port}", "CHROMIUM": CHROMIUM,
                 "SCREENSHOT_DIR": str(SCREENSHOTS)})
        appending.set()
        assert probe.returncode == 0, probe.stderr[-3000:]
        seen = json.loads(probe.stdout.strip().splitlines()[-1])
        in_kafka = sum(topic_end_offsets(p, s).values())
        print(json.dumps(seen, indent=1, ensure_ascii=False))
        assert seen["consoleErrors"] == [], seen["consoleErrors"]
        for name, view in seen["views"].items():
            rows = {row["key"]: row for row in view["rows"]}
            assert list(rows)[:2] == ["file", "kafka:enrich"], list(rows)
            enrich = rows["kafka:enrich"]
            assert "growing" in enrich["className"] and enrich["color"] == "rgb(198, 40, 40)", (name, enrich)
            shown = int(enrich["now"].split()[0].replace(",", ""))
            assert 60 < shown <= in_kafka, (name, shown, in_kafka)          # Kafka's offsets, never more
            points = [tuple(map(float, pt.split(","))) for pt in " ".join(enrich["polylines"]).split()]
            assert len(points) >= 4 and points[-1][1] < points[0][1], (name, points)   # rising (y grows downwards)
            assert "growing" not in rows["file"]["className"], rows["file"]  # the shipper keeps up
            assert rows["es"]["hop"] == "Spark → Elasticsearch" and "offers" in rows, rows
            assert "Every engine answers" in view["caption"], view["caption"]
            assert view["overflow"] == 0 and view["panelOverflow"] <= 0, (name, view["overflow"], view["panelOverflow"])
            assert enrich["sparkWidth"] >= 150, enrich
            for shot in view["screenshots"]:
                assert os.path.getsize(shot) > 5_000, shot
        docs = server and _pipeline_docs(s)
        assert docs and docs[-1]["kafka_lag"] > 0, docs[-3:]              # the collector's documents too
    finally:
        appending.set()
        stop_dashboard(server)
        shipper.terminate()
        shipper.wait(timeout=30)
        r.delete(f"{s.redis_pipeline_progress}:{p}", s.redis_pipeline_samples, f"{s.redis_pipeline_samples}:collector")
        default_offset_file(s, "kafka", p, s.live_file).unlink(missing_ok=True)
        drop_test_resources(s, p, (s.index_pipeline,))


def _pipeline_docs(s: Settings) -> list[dict]:
    from common.clients import es_client

    es = es_client(s)
    es.indices.refresh(index=s.index_pipeline)
    hits = es.search(index=s.index_pipeline, size=100, sort=[{"sampled_at": "asc"}])["hits"]["hits"]
    return [h["_source"] for h in hits]
