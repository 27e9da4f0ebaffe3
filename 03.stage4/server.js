/**
 * Stage 4: the live dashboard server.
 *
 * Every DASHBOARD_REFRESH_MS (2 s) it asks Elasticsearch for the charts' numbers
 * (lib/queries.js) and Redis for the SMS counter and stage 3's model status, and
 * pushes the result to every open page over Server-Sent Events (GET /events, event
 * "snapshot"). Notices on the Redis channel `offers` (SMS offers, model rounds) are
 * pushed the moment they arrive (event "notice"). The Pipeline panel's rows come from the
 * pipeline collector's samples in Redis (lib/pipeline.js, pipeline.py). At most DASHBOARD_MAX_CLIENTS pages
 * are served at once (then 503), and a page that reads too slowly misses frames
 * instead of making the server buffer them (lib/sse.js).
 * The page and its libraries (c3, d3, topojson, the US atlas) are served from
 * this folder and node_modules: no CDN, it works offline.
 *
 * Run:   python -m stage4.run_stage4            (or: python 03.stage4/run_stage4.py, make stage4)
 *   or:  cd 03.stage4 && npm ci && node server.js
 * Then open http://127.0.0.1:3000. Configuration: environment variables, see lib/config.js.
 */
'use strict';

const path = require('node:path');
const express = require('express');
const { Client } = require('@elastic/elasticsearch');
const { readConfig, esClientOptions, bindProblem } = require('./lib/config');
const { fetchEventStats } = require('./lib/queries');
const { RedisRelay } = require('./lib/relay');
const { buildPanel } = require('./lib/pipeline');
const { SseClients } = require('./lib/sse');

/** Folder of an installed npm package, e.g. packageDir('c3') -> .../node_modules/c3 */
const packageDir = (name) => path.dirname(require.resolve(`${name}/package.json`));

function createDashboard(config = readConfig(), log = console) {
  const es = new Client(esClientOptions(config));
  const relay = new RedisRelay({
    url: config.redisUrl, channel: config.offersChannel, smsSentKey: config.smsSentKey,
    modelStatusKey: config.modelStatusKey, log,
  });
  const pages = new SseClients(config.maxClients);      // open SSE responses
  let snapshot = { status: { elasticsearch: 'starting', redis: 'starting' } };
  let timer = null;
  let stopped = false;
  let lastEsError = '';

  function push(event, data) {
    if (stopped) return;             // a refresh that was in flight when stop() ran
    pages.broadcast(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** One refresh: never throws; an engine that is down is reported in `status`. */
  async function refresh() {
    const next = { at: new Date().toISOString(), status: {}, totals: {} };
    try {
      Object.assign(next, await fetchEventStats(es, config));
      next.status.elasticsearch = 'up';
      lastEsError = '';
    } catch (err) {
      next.status.elasticsearch = 'down';
      // Log once per kind of failure, not every 2 s (messages carry changing port numbers).
      // (stop() closes the client under an in-flight refresh: not worth a warning)
      if (!stopped && err.name !== lastEsError) log.warn(`elasticsearch: ${err.name}: ${err.message} (retrying)`);
      lastEsError = err.name;
    }
    let smsSent = null;
    let model = null;
    let samples = null;
    try {
      [smsSent, model, samples] = await Promise.all([relay.smsSent(), relay.modelStatus(),
        relay.pipelineSamples(config.pipelineSamplesKey)]);
    } catch { /* Redis went away between the check and the commands */ }
    next.status.redis = relay.up && smsSent !== null && model !== null ? 'up' : 'down';
    next.model = model;              // stage 3's model status hash ({} before any round), null while Redis is down
    // the Pipeline panel (lib/pipeline.js): the collector's samples; null while Redis is down
    next.pipeline = samples === null ? null : buildPanel(samples);
    next.totals = {
      events: next.events ?? null,
      listeners: next.listeners ?? null,
      interestLists: next.interestLists ?? null,
      smsSent,
    };
    snapshot = next;
    push('snapshot', snapshot);
  }

  // Refresh after the previous refresh finished, so a slow cluster never piles up requests.
  async function loop() {
    await refresh();
    if (!stopped) timer = setTimeout(loop, config.refreshMs);
  }

  const app = express();
  app.disable('x-powered-by');       // no need to tell every visitor what the server runs
  app.get('/healthz', (req, res) => res.json({ ok: true, status: snapshot.status }));
  app.get('/api/snapshot', (req, res) => res.json(snapshot));
  app.get('/api/notices', (req, res) => res.json(relay.recent));
  app.get('/events', (req, res) => {
    if (!pages.hasRoom()) {
      res.status(503).type('text/plain').send(`the dashboard already serves ${pages.max} pages (DASHBOARD_MAX_CLIENTS): `
        + 'close one, or raise DASHBOARD_MAX_CLIENTS\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive',
    });
    // A new page gets the current numbers and recent notices at once.
    pages.add(req, res);
    pages.send(res, `retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    for (const notice of [...relay.recent].reverse()) {
      pages.send(res, `event: notice\ndata: ${JSON.stringify(notice)}\n\n`);
    }
  });
  app.use(express.static(path.join(__dirname, 'public')));
  app.use('/vendor/c3', express.static(packageDir('c3')));
  app.use('/vendor/d3', express.static(path.join(packageDir('d3'), 'dist')));
  app.use('/vendor/topojson', express.static(path.join(packageDir('topojson-client'), 'dist')));
  app.use('/vendor/us-atlas', express.static(packageDir('us-atlas')));

  let server = null;
  return {
    app,
    config,
    relay,
    pages,
    /** Starts refreshing and listening; resolves with the http.Server. */
    start(port = config.port, host = config.host) {
      relay.on('notice', (notice) => push('notice', notice));
      relay.start();
      loop();
      return new Promise((resolve, reject) => {
        server = app.listen(port, host, () => resolve(server)).on('error', reject);
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      pages.endAll();
      if (server) await new Promise((resolve) => server.close(resolve));
      await relay.stop();
      await es.close();
    },
  };
}

if (require.main === module) {
  const config = readConfig();
  const problem = bindProblem(config.host, config.allowRemoteBind);
  if (problem && problem.refused) {
    console.error(`dashboard: ${problem.message}`);
    process.exit(1);
  }
  if (problem) console.warn(`dashboard: ${problem.message}`);
  const dashboard = createDashboard(config);
  const { host, port } = dashboard.config;
  dashboard.start().then(
    () => console.log(`dashboard: http://${host}:${port}  (Elasticsearch ${dashboard.config.esUrl}, Redis ${dashboard.config.redisUrl})`),
    (err) => {
      console.error(`dashboard: cannot listen on ${host}:${port}: ${err.message}` +
        (err.code === 'EADDRINUSE' ? ' (port taken: set DASHBOARD_PORT)' : ''));
      process.exit(1);
    },
  );
  const shutdown = () => dashboard.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

module.exports = { createDashboard };
