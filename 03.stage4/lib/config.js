/**
 * Dashboard configuration from environment variables.
 *
 * Every `env.NAME` read here is the upper-case name of a field of the Python
 * settings (common/config.py: `redis_sms_sent_counter` <- REDIS_SMS_SENT_COUNTER),
 * so one `.env` or one set of exports points every stage, this server included,
 * at the same engines and names. `python -m stage4.run_stage4` passes each of
 * them from the settings (it finds the names in this file), and
 * tests/unit/test_dashboard_config.py checks that each one is a settings field:
 * read the environment only here, and only as `env.NAME`.
 */
'use strict';

function readConfig(env = process.env) {
  return {
    esUrl: env.ES_URL || 'http://127.0.0.1:9200',
    esApiKey: env.ES_API_KEY || null,
    esUsername: env.ES_USERNAME || null,
    esPassword: env.ES_PASSWORD || '',
    esCaFile: env.ES_CA_FILE || null,
    // Newest first: the dashboard reads the first of these that exists.
    eventIndices: [
      env.INDEX_STAGE3 || 'ba_realtime3',
      env.INDEX_STAGE2 || 'ba_realtime2',
      env.INDEX_STAGE1 || 'ba_realtime',
    ],
    interestIndex: env.INDEX_INTEREST || 'ba_interest',
    // Spark's windowed counts (stage 2): windows of STATS_WINDOW_MINUTES, a new one every STATS_SLIDE_MINUTES.
    statsIndex: env.INDEX_STATS || 'ba_stats',
    statsWindowMinutes: Number(env.STATS_WINDOW_MINUTES || 30),
    statsSlideMinutes: Number(env.STATS_SLIDE_MINUTES || 5),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379/0',
    offersChannel: env.REDIS_OFFERS_CHANNEL || 'offers',
    smsSentKey: env.REDIS_SMS_SENT_COUNTER || 'sms:sent_total',   // the SMS sender's delivery counter
    modelStatusKey: env.REDIS_MODEL_STATUS || 'model:status',     // stage 3's hash: promoted model, last round
    pipelineSamplesKey: env.REDIS_PIPELINE_SAMPLES || 'pipeline:samples',   // the pipeline collector's list (pipeline.py)
    port: Number(env.DASHBOARD_PORT || 3000),
    host: env.BIND_HOST || '127.0.0.1',
    refreshMs: Number(env.DASHBOARD_REFRESH_MS || 2000),
    windowMinutes: Number(env.DASHBOARD_WINDOW_MINUTES || 30),
    maxClients: Number(env.DASHBOARD_MAX_CLIENTS || 50),     // open pages at once; then 503
    // like the engines (services/system.py): binding beyond loopback needs ALLOW_REMOTE_BIND=yes
    allowRemoteBind: /^(yes|y|true|t|on|1)$/i.test(String(env.ALLOW_REMOTE_BIND)),   // 'True' from run_stage4
  };
}

/** Options for `new Client(...)` of @elastic/elasticsearch, like Settings.es_client_kwargs(). */
function esClientOptions(config) {
  const fs = require('node:fs');
  // Fail fast while Elasticsearch is down: the next tick retries anyway.
  // ES_URL may name several nodes, comma-separated: the client moves on when one is down
  const nodes = config.esUrl.split(',').map((u) => u.trim()).filter(Boolean);
  const options = { nodes, requestTimeout: 5000, maxRetries: 0 };
  if (config.esApiKey) options.auth = { apiKey: config.esApiKey };
  else if (config.esUsername) options.auth = { username: config.esUsername, password: config.esPassword };
  if (config.esCaFile) options.tls = { ca: fs.readFileSync(config.esCaFile) };
  return options;
}

/**
 * null when `host` is loopback; otherwise what to say: a warning when allowed, else the refusal.
 * The page shows customer names from the SMS notices and asks for no password.
 */
function bindProblem(host, allowed) {
  const net = require('node:net');
  const loopback = host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
  if (loopback) return null;
  const risk = `BIND_HOST=${host} lets other machines open the dashboard, which shows customer names and asks for no password`;
  return allowed ? { refused: false, message: `WARNING: ${risk} (allowed by ALLOW_REMOTE_BIND=yes)` }
    : { refused: true, message: `${risk}. Refused: set BIND_HOST=127.0.0.1, or confirm with ALLOW_REMOTE_BIND=yes` };
}

module.exports = { readConfig, esClientOptions, bindProblem };
