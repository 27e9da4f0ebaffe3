// The whole server: page and libraries served locally, engines that are down
// reported (not crashing), recovery when Redis or Elasticsearch comes back, and notices
// (SMS offers, model rounds) and snapshots (with the model status) pushed to the page over
// Server-Sent Events.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');
const { createClient } = require('redis');
const { createDashboard } = require('../server');
const { readConfig } = require('../lib/config');
const { unique } = require('../testkit/helpers');

const quiet = { log() {}, warn() {}, error() {} };

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** Polls `check` (async, returns a value or undefined) until it returns something. */
async function waitFor(check, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function startDashboard(env) {
  const config = readConfig({ ...process.env, DASHBOARD_REFRESH_MS: '200', ...env });
  const dashboard = createDashboard(config, quiet);
  const server = await dashboard.start(0, '127.0.0.1');
  const base = `http://127.0.0.1:${server.address().port}`;
  const snapshot = async () => (await fetch(`${base}/api/snapshot`)).json();
  return { dashboard, base, snapshot };
}

function startRedis(port) {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' });
}

test('serves the page and every library locally while both engines are down', async () => {
  const [esPort, redisPort] = [await freePort(), await freePort()];
  const { dashboard, base, snapshot } = await startDashboard({
    ES_URL: `http://127.0.0.1:${esPort}`, REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
  });
  try {
    const s = await waitFor(async () => {
      const snap = await snapshot();
      return snap.status.elasticsearch === 'down' && snap;
    }, 'a snapshot');
    assert.equal(s.status.redis, 'down');
    assert.equal(s.totals.events, null);
    assert.equal(s.model, null);                 // Redis down: no model status (the page keeps what it shows)

    const page = await (await fetch(base)).text();
    const assets = [...page.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.includes('/vendor/c3/c3.min.js') && assets.includes('/app.js'), assets.join(' '));
    for (const asset of [...assets, '/vendor/us-atlas/states-10m.json']) {
      const res = await fetch(base + asset);
      assert.equal(res.status, 200, asset);
      await res.arrayBuffer();
    }
  } finally {
    await dashboard.stop();
  }
});

test('recovers when Redis comes back, and subscribes again after a restart', async () => {
  const redisPort = await freePort();
  const url = `redis://127.0.0.1:${redisPort}/0`;
  const channel = `t_${unique()}`;
  const { dashboard, snapshot } = await startDashboard({ REDIS_URL: url, REDIS_OFFERS_CHANNEL: channel });
  let redis = null;
  const publishUntilRelayed = async (name) => {
    const publisher = createClient({ url });
    await publisher.connect();
    // PUBLISH returns the number of subscribers; wait until the relay is one of them.
    await waitFor(async () => (await publisher.publish(channel, JSON.stringify({ type: 'sms_offer', name }))) === 1,
      'the relay to subscribe');
    await publisher.close();
    await waitFor(() => dashboard.relay.recent.some((n) => n.name === name), `notice ${name}`);
  };
  try {
    assert.equal((await waitFor(snapshot, 'a snapshot')).status.redis !== 'up', true);
    redis = startRedis(redisPort);
    await waitFor(async () => (await snapshot()).status.redis === 'up', 'redis up');
    await publishUntilRelayed('first');

    redis.kill();
    await once(redis, 'exit');
    await waitFor(async () => (await snapshot()).status.redis === 'down', 'redis down');
    redis = startRedis(redisPort);
    await waitFor(async () => (await snapshot()).status.redis === 'up', 'redis up again', 20000);
    await publishUntilRelayed('second');
  } finally {
    await dashboard.stop();
    if (redis && redis.exitCode === null) redis.kill();
  }
});

/** A TCP forwarder on `port` to the real Elasticsearch: the engine "coming back" on that port. */
async function forwardTo(target, port) {
  const { hostname, port: targetPort } = new URL(target);
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(targetPort || 9200), hostname);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

test('recovers when Elasticsearch comes back', async () => {
  const port = await freePort();
  const { dashboard, snapshot } = await startDashboard({ ES_URL: `http://127.0.0.1:${port}` });
  let forwarder = null;
  try {
    await waitFor(async () => (await snapshot()).status.elasticsearch === 'down', 'elasticsearch down');
    await sleep(1000);                     // several failed refreshes
    forwarder = await forwardTo(readConfig().esUrl, port);
    // within two refreshes: the client tries the node again, it does not stay marked dead
    await waitFor(async () => (await snapshot()).status.elasticsearch === 'up', 'elasticsearch up', 5000);
  } finally {
    await dashboard.stop();
    if (forwarder) forwarder.close();
  }
});

/** Reads Server-Sent Events from `url`, calling onEvent(name, data) until it returns true. */
async function readEvents(url, onEvent, timeoutMs = 20000) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(url, { signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = (frame.match(/^event: (.*)$/m) || [])[1];
        const data = (frame.match(/^data: (.*)$/m) || [])[1];
        if (name && (await onEvent(name, JSON.parse(data)))) return;
      }
    }
  } catch (err) {
    if (controller.signal.aborted) throw new Error(`no matching event within ${timeoutMs} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

test('pushes snapshots and relayed notices to the page (real Elasticsearch and Redis)', async () => {
  const name = `t_${unique()}`;
  const channel = `${name}:offers`;
  const smsSentCounter = `${name}:sms_sent_total`;      // the Python setting redis_sms_sent_counter
  const modelStatus = `${name}:model_status`;            // the Python setting redis_model_status
  const { dashboard, base } = await startDashboard({
    INDEX_STAGE1: `${name}_1`, INDEX_STAGE2: `${name}_2`, INDEX_STAGE3: `${name}_3`,
    INDEX_INTEREST: `${name}_interest`, REDIS_OFFERS_CHANNEL: channel, REDIS_SMS_SENT_COUNTER: smsSentCounter,
    REDIS_MODEL_STATUS: modelStatus,
  });
  const publisher = createClient({ url: dashboard.config.redisUrl });
  await publisher.connect();
  await publisher.set(smsSentCounter, 11);
  await publisher.hSet(modelStatus, { current_version: 'v0002', current_error: '0.0800', last_verdict: 'passed' });
  const round = {
    type: 'model_round', version: 'v0003', error: 0.41, verdict: 'refused',
    reason: 'test error 0.410 is above the threshold 0.250', current: 'v0002', at: new Date().toISOString(),
  };
  // customer 0 and track 0, as strings like stage 3 sends them: ids like any other
  const notice = {
    type: 'sms_sent', customer_id: '0', name: 'Grace Hopper', level: 'Silver', track_id: '0', title: 'Hey Ya!',
  };
  const seen = [];
  const notices = [];
  let published = false;
  try {
    await readEvents(`${base}/events`, async (event, data) => {
      seen.push(`${event}(es ${data.status ? data.status.elasticsearch : '-'})`);
      if (event === 'snapshot' && data.status.elasticsearch === 'up' && data.status.redis === 'up') {
        assert.equal(data.index, null);            // none of the unique indices exists
        assert.equal(data.totals.interestLists, 0);
        assert.equal(data.totals.smsSent, 11);     // read from REDIS_SMS_SENT_COUNTER, not the default key
        // read from REDIS_MODEL_STATUS, not the default key
        assert.deepEqual(data.model, { current_version: 'v0002', current_error: '0.0800', last_verdict: 'passed' });
        if (!published) {
          published = true;
          await publisher.publish(channel, JSON.stringify(notice));
          await publisher.publish(channel, JSON.stringify(round));
        }
      }
      if (event === 'notice') {
        notices.push(data);
        return notices.length === 2;
      }
      return false;
    });
    assert.ok(seen.filter((e) => e.startsWith('snapshot')).length >= 2, seen.join(','));
    assert.deepEqual(notices, [notice, round]);      // an SMS notice and a model round, in order
  } catch (err) {
    err.message += ` (events seen: ${seen.slice(-5).join(', ')})`;
    throw err;
  } finally {
    await publisher.del([smsSentCounter, modelStatus]);
    await publisher.close();
    await dashboard.stop();
  }
});
