/**
 * Opens the dashboard in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core, no browser download) and reports what a person would see, as
 * one JSON object on stdout. tests/e2e/test_dashboard_browser.py runs it while
 * it feeds documents into Elasticsearch, and makes the assertions.
 *
 *   DASHBOARD_URL=http://127.0.0.1:3000 NOTICE_NAME=probe-1 \
 *   REDIS_URL=redis://127.0.0.1:6379/0 REDIS_OFFERS_CHANNEL=offers \
 *   SCREENSHOT_DIR=.runtime/screenshots node 03.stage4/testkit/browser_probe.js
 *
 * It checks every chart for drawn data, reads the numbers of the "last 30 minutes
 * by level" chart (Spark's and Elasticsearch's), reads the totals twice, publishes one
 * SMS-offer notice on Redis and times its arrival in the feed, then one for
 * customer 0 after track 0 (ids like any other: "customer 0", "track 0"), records every
 * change of the "plays" total with its time (for the update latency), collects
 * console errors and requests that leave the dashboard's origin, and saves
 * screenshots at 1280x800 and at phone width (390x844).
 * With PROBE=down it only reports what the page says while the engines are unreachable.
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { chromium } = require('playwright-core');
const { createClient } = require('redis');

const env = process.env;
const base = env.DASHBOARD_URL || 'http://127.0.0.1:3000';
const shots = env.SCREENSHOT_DIR || path.resolve(__dirname, '..', '..', '.runtime', 'screenshots');
const CHROMIUM_ARGS = [   // headless: playwright adds --headless itself
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** In the page: how much each chart has drawn (elements with a non-empty box). */
function measureCharts() {
  const drawn = (selector) => [...document.querySelectorAll(selector)]
    .filter((el) => { const b = el.getBBox(); return b.width > 0 && b.height > 0; }).length;
  return {
    timeline: drawn('#chart-timeline .c3-area'),
    device: drawn('#chart-device .c3-chart-arc path'),
    gender: drawn('#chart-gender .c3-chart-arc path'),
    age: drawn('#chart-age .c3-bar'),
    level: drawn('#chart-level .c3-bar'),
    tracks: drawn('#chart-tracks .c3-bar'),
    artists: drawn('#chart-artists .c3-bar'),
    window: drawn('#chart-window .c3-bar'),
    genderTracks: drawn('#gender-tracks .c3-bar'),
    shadedStates: document.querySelectorAll('#map path.state[data-plays]:not([data-plays="0"])').length,
    mapStates: document.querySelectorAll('#map path.state').length,
  };
}

/**
 * In the page: the "last 30 minutes by level" chart's levels, numbers on the bars
 * and caption, and the genders of "top 10 tracks by gender".
 */
function readWindowChart() {
  const texts = (selector) => [...document.querySelectorAll(`#chart-window ${selector}`)].map((t) => t.textContent);
  return {
    at: Date.now(),
    levels: texts('.c3-axis-x .tick text'),
    spark: texts('.c3-texts-spark text'),
    elasticsearch: texts('.c3-texts-elasticsearch text'),
    caption: document.getElementById('window-caption').textContent,
    genders: [...document.querySelectorAll('#gender-tracks h3')].map((h) => h.textContent),
  };
}

const readTotals = (page) => page.evaluate(() => Object.fromEntries(
  ['events', 'listeners', 'interest', 'sms'].map((k) => [k, document.getElementById(`total-${k}`).textContent]),
));

/** PROBE=down: the engines are unreachable; report what the page says instead of breaking. */
async function probeEnginesDown(page, result) {
  await page.goto(base, { waitUntil: 'load' });
  await page.waitForFunction(() => document.getElementById('status-es').textContent.startsWith('waiting'),
    null, { timeout: 15000 }).catch(() => {});
  await sleep(3000);                                    // a few refreshes while down
  result.statusText = await page.evaluate(() => ['status-es', 'status-redis']
    .map((id) => document.getElementById(id).textContent));
  result.notice = await page.evaluate(() => document.getElementById('notice').textContent);
  result.totalsFirst = await readTotals(page);
}

async function main() {
  const result = { consoleErrors: [], foreignRequests: [], screenshots: [] };
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-chromium-'));   // new, empty profile
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 },
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => result.consoleErrors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) result.foreignRequests.push(r.url());
    });

    if (env.PROBE === 'down') return await probeEnginesDown(page, result);

    await page.goto(base, { waitUntil: 'load' });
    // Record every change of the plays total with the wall-clock time it became visible.
    await page.evaluate(() => {
      window.probeMarker = 'same page';                 // gone if the page reloads
      window.totalsSeen = [];
      const el = document.getElementById('total-events');
      const record = () => window.totalsSeen.push([Date.now(), Number(el.textContent.replace(/,/g, '')) || 0]);
      new MutationObserver(record).observe(el, { childList: true, characterData: true, subtree: true });
    });
    result.observingSince = Date.now();

    // Every chart drawn with data (waits up to 30 s: charts appear on the first snapshot).
    const started = Date.now();
    for (;;) {
      result.charts = await page.evaluate(measureCharts);
      if (Object.values(result.charts).every((n) => n > 0) || Date.now() - started > 30000) break;
      await sleep(250);
    }

    result.totalsFirst = await readTotals(page);
    result.windowChart = await page.evaluate(readWindowChart);
    await sleep(6000);
    result.totalsSecond = await readTotals(page);

    // An SMS offer published on Redis shows up in the feed.
    const redis = createClient({ url: env.REDIS_URL || 'redis://127.0.0.1:6379/0' });
    await redis.connect();
    const notice = {
      type: 'sms_offer', customer_id: 4242, name: env.NOTICE_NAME || 'Probe Listener', level: 'Free',
      track_id: 10, title: 'Blue Monday', offer: 'ADV_REDUCED_1DAY', at: new Date().toISOString(),
    };
    const channel = env.REDIS_OFFERS_CHANNEL || 'offers';
    const publishedAt = Date.now();
    result.noticeSubscribers = await redis.publish(channel, JSON.stringify(notice));
    result.noticeInFeed = await page.waitForFunction(
      (name) => document.getElementById('feed').textContent.includes(name), notice.name, { timeout: 10000 },
    ).then(() => true, () => false);
    result.noticeLatencyMs = Date.now() - publishedAt;
    // Customer 0 after track 0, unknown by name and title (stage 3 sends ids as strings, names empty):
    // the feed line names the ids, 0 like any other.
    await redis.publish(channel, JSON.stringify({
      type: 'sms_offer', customer_id: '0', name: '', level: 'Free', track_id: '0', title: '',
      offer: 'ADV_REDUCED_1DAY', at: new Date().toISOString(),
    }));
    await redis.close();
    result.zeroIdsInFeed = await page.waitForFunction(
      () => document.querySelector('#feed li').textContent.includes('customer 0 (Free) after “track 0”'),
      null, { timeout: 10000 },
    ).then(() => true, () => false);
    result.feedFirstLine = await page.evaluate(() => document.querySelector('#feed li').textContent);

    await sleep(3000);   // a few more snapshots for the latency record
    result.samePage = await page.evaluate(() => window.probeMarker === 'same page');
    result.totalsSeen = await page.evaluate(() => window.totalsSeen);
    result.statusText = await page.evaluate(() => ['status-es', 'status-redis', 'status-index']
      .map((id) => document.getElementById(id).textContent));

    fs.mkdirSync(shots, { recursive: true });
    const shoot = async (name, fullPage) => {
      const file = path.join(shots, name);
      await page.screenshot({ path: file, fullPage });
      result.screenshots.push(file);
    };
    result.overflow = {};
    await shoot('dashboard-1280x800.png', false);
    await shoot('dashboard-1280-full.png', true);
    result.overflow.desktop = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(1500);                                     // c3 redraws on resize
    result.overflow.phone = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    result.chartsPhone = await page.evaluate(measureCharts);
    await shoot('dashboard-390-phone.png', true);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
