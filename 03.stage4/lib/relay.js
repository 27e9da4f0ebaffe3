/**
 * Redis side of the dashboard: relays the stage-3 pub/sub channel (JSON
 * notices: {"type": "sms_offer" | "sms_sent", customer_id, name, level,
 * track_id, title, offer, at}) and reads the SMS counter.
 *
 *   const relay = new RedisRelay({ url, channel, smsSentKey });
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
  constructor({ url, channel, smsSentKey, keep = 20, log = console }) {
    super();
    this.channel = channel;
    this.smsSentKey = smsSentKey;
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

  async stop() {
    for (const c of [this.client, this.subscriber]) {
      if (c.isReady) await c.close();
      else if (c.isOpen) c.destroy();       // still trying to connect: stop retrying
    }
  }
}

module.exports = { RedisRelay };
