// The dashboard on a shared network: it binds beyond loopback only with ALLOW_REMOTE_BIND=yes,
// does not say what it runs (no X-Powered-By),
// serves at most DASHBOARD_MAX_CLIENTS pages at once (503 beyond, with the reason), and a
// page that stops reading misses frames instead of making the server buffer them.
// The engines are not needed: the dashboard runs with Elasticsearch and Redis unreachable.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');
const { createDashboard } = require('../server');
const { readConfig, bindProblem } = require('../lib/config');
const { SseClients } = require('../lib/sse');

const quiet = { log() {}, warn() {}, error() {} };

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

async function unusedPort() {
  const server = net.createServer();
  const port = await listen(server);
  server.close();
  return port;
}

async function startDashboard(env) {
  const [esPort, redisPort] = [await unusedPort(), await unusedPort()];
  const config = readConfig({
    ES_URL: `http://127.0.0.1:${esPort}`, REDIS_URL: `redis://127.0.0.1:${redisPort}/0`, ...env,
  });
  const dashboard = createDashboard(config, quiet);
  const server = await dashboard.start(0, '127.0.0.1');
  return { dashboard, base: `http://127.0.0.1:${server.address().port}` };
}

/** Opens an event stream and waits for its first bytes; abort() closes it. */
async function openStream(url) {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  if (res.status === 200) {
    const reader = res.body.getReader();
    await reader.read();
    return { status: 200, abort: () => controller.abort() };
  }
  return { status: res.status, text: await res.text() };
}

test('binds beyond loopback only when ALLOW_REMOTE_BIND=yes confirms it', () => {
  for (const host of ['127.0.0.1', '::1', 'localhost']) assert.equal(bindProblem(host, false), null);
  const refused = bindProblem('0.0.0.0', readConfig({}).allowRemoteBind);
  assert.equal(refused.refused, true);
  assert.match(refused.message, /ALLOW_REMOTE_BIND=yes/);
  const allowed = bindProblem('0.0.0.0', readConfig({ ALLOW_REMOTE_BIND: 'yes' }).allowRemoteBind);
  assert.equal(allowed.refused, false);
  assert.match(allowed.message, /^WARNING/);
  assert.equal(readConfig({ ALLOW_REMOTE_BIND: 'True' }).allowRemoteBind, true);     // as run_stage4 passes it
  assert.equal(readConfig({ ALLOW_REMOTE_BIND: 'False' }).allowRemoteBind, false);
});

test('does not send X-Powered-By', async () => {
  const { dashboard, base } = await startDashboard({});
  try {
    for (const path of ['/healthz', '/', '/api/snapshot']) {
      const res = await fetch(base + path);
      await res.arrayBuffer();
      assert.equal(res.headers.get('x-powered-by'), null, path);
    }
  } finally {
    await dashboard.stop();
  }
});

test('serves at most DASHBOARD_MAX_CLIENTS pages, then 503 with the reason', async () => {
  const { dashboard, base } = await startDashboard({ DASHBOARD_MAX_CLIENTS: '2' });
  const open = [];
  try {
    open.push(await openStream(`${base}/events`), await openStream(`${base}/events`));
    assert.deepEqual(open.map((s) => s.status), [200, 200]);
    const refused = await openStream(`${base}/events`);
    assert.equal(refused.status, 503);
    assert.match(refused.text, /already serves 2 pages \(DASHBOARD_MAX_CLIENTS\)/);
    open.shift().abort();                               // one page closes: room for another
    for (let i = 0; dashboard.pages.size > 1 && i < 50; i += 1) await sleep(20);
    const again = await openStream(`${base}/events`);
    assert.equal(again.status, 200);
    open.push(again);
  } finally {
    open.forEach((s) => s.abort());
    await dashboard.stop();
  }
});

test('a page that stops reading misses frames instead of filling the server memory', async () => {
  const pages = new SseClients(5);
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    pages.add(req, res);
  });
  const port = await listen(server);
  // a client that sends its request and then reads nothing
  const stalled = net.connect(port, '127.0.0.1');
  await once(stalled, 'connect');
  stalled.pause();
  stalled.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  try {
    for (let i = 0; pages.size === 0 && i < 100; i += 1) await sleep(10);
    const frame = `event: snapshot\ndata: ${'x'.repeat(1 << 20)}\n\n`;     // 1 MB
    for (let i = 0; i < 64; i += 1) {                                        // 64 MB offered
      pages.broadcast(frame);
      await sleep(5);                                                        // let the socket flush what it can
    }
    const [page] = pages.stats();
    assert.ok(page.blocked && page.skipped > 0, JSON.stringify(page));
    // what waits in memory for that page: the frame that filled the buffer, not 64 of them
    assert.ok(page.buffered <= 2 * frame.length, `buffered ${page.buffered} bytes`);

    // it reads again: once drained, it gets frames again
    stalled.resume();
    stalled.on('data', () => {});
    for (let i = 0; pages.stats()[0].blocked && i < 200; i += 1) await sleep(10);
    const skipped = pages.stats()[0].skipped;
    assert.equal(pages.stats()[0].blocked, false);
    pages.broadcast('event: snapshot\ndata: {}\n\n');
    assert.equal(pages.stats()[0].skipped, skipped);
  } finally {
    stalled.destroy();
    pages.endAll();
    server.close();
  }
});
