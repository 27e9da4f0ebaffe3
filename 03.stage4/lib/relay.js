/**
 * Redis side of the dashboard: relays the stage-3 pub/sub channel (JSON
 * notices: {"type": "sms_offer" | "sms_sent", customer_id, name, level,
 * track_id, title, offer, at}, and {"type": "model_round", version, error,
 * verdict, reason, current, at} after each retraining round), reads the SMS
 * counter and the model status hash (02.stage3/train.py publish_status).
 *
 *   const relay = new RedisRelay({ url, channel, smsSentKey, modelStatusKey });
 *   relay.on('notice', (notice) => ...);
 *   relay.start();
 *
 * Redis may be down when the dashboard starts or go away later: the clients
 * keep reconnecting every second (node-redis subscribes again by itself), and
 * `relay.up` says whether both connections are ready.
 */
'use strict';

const { EventEmitter } = require('node:events');
const { createClient } = require('redis');

class RedisRelay extends EventEmitter {
  constructor({ url, channel, smsSentKey, modelStatusKey = 'model:status', keep = 20, log = console }) {
    super();
    this.channel = channel;
    this.smsSentKey = smsSentKey;
    this.modelStatusKey = modelStatusKey;
    this.keep = keep;
    this.recent = [];     // the last `keep` notices, newest first, for pages that open later
    this.log = log;
    const options = {
      url,
      // Fail commands at once while disconnected instead of queueing them.
      disableOfflineQueue: true,
      socket: { reconnectStrategy: 1000, connectTimeout: 3000 },
    };
    this.client = createClient(options);
    this.subscriber = createClient(options);
    let lastError = '';
    for (const c of [this.client, this.subscriber]) {
      // Without a listener, an 'error' event would crash the process.
      c.on('error', (err) => {
        const text = err.code || err.message;
        if (text !== lastError) this.log.warn(`redis: ${text} (retrying every second)`);
        lastError = text;
      });
      c.on('ready', () => { lastError = ''; });
    }
  }

  get up() {
    return this.client.isReady && this.subscriber.isReady;
  }

  /** Connects; resolves once connected and subscribed (which waits for Redis to come up). */
  start() {
    return Promise.all([
      this.client.connect(),
      this.subscriber.connect()
        .then(() => this.subscriber.subscribe(this.channel, (message) => this.relay(message))),
    ]).catch((err) => this.log.warn(`redis: ${err.message}`));
  }

  relay(message) {
    let notice;
    try {
      notice = JSON.parse(message);
    } catch {
      this.log.warn(`redis: ignoring a non-JSON message on ${this.channel}`);
      return;
    }
    if (notice === null || typeof notice !== 'object') return;
    this.recent.unshift(notice);
    this.recent.length = Math.min(this.recent.length, this.keep);
    this.emit('notice', notice);
  }

  /** The SMS sender's delivery counter, or null while Redis is down. */
  async smsSent() {
    if (!this.client.isReady) return null;
    return Number(await this.client.get(this.smsSentKey)) || 0;
  }

  /**
   * Stage 3's model status hash, all values strings (current_version, current_error,
   * current_trained_at, current_error_now, last_version, last_error, last_verdict,
   * last_reason, last_at, labels, labels_from_outcomes): {} before the first
   * training round, null while Redis is down.
   */
  async modelStatus() {
    if (!this.client.isReady) return null;
    return { ...(await this.client.hGetAll(this.modelStatusKey)) };   // a plain object for JSON
  }

  /** The pipeline collector's latest samples (JSON strings, newest first), or null while Redis is down. */
  async pipelineSamples(key, count = 200) {
    if (!this.client.isReady) return null;
    return this.client.lRange(key, 0, count - 1);
  }

  async stop() {
    for (const c of [this.client, this.subscriber]) {
      if (c.isReady) await c.close();
      else if (c.isOpen) c.destroy();       // still trying to connect: stop retrying
    }
  }
}

module.exports = { RedisRelay };
