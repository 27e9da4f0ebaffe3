// The Redis relay against the real Redis: a published notice is forwarded,
// a non-JSON message is dropped, the SMS counter and the model status hash are read.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { createClient } = require('redis');
const { readConfig } = require('../lib/config');
const { RedisRelay } = require('../lib/relay');
const { unique } = require('../testkit/helpers');

const { redisUrl } = readConfig();
const quiet = { warn() {} };

test('forwards a JSON notice published on the channel and skips junk', async () => {
  const channel = `t_${unique()}:offers`;
  const relay = new RedisRelay({ url: redisUrl, channel, smsSentKey: `t_${unique()}:sms`, log: quiet });
  const publisher = createClient({ url: redisUrl });
  await publisher.connect();
  try {
    await relay.start();                 // resolves once subscribed
    assert.equal(relay.up, true);
    const notice = {
      type: 'sms_offer', customer_id: 42, name: 'Ada Lovelace', level: 'Free',
      track_id: 7, title: 'Blue Monday', offer: 'ADV_REDUCED_1DAY', at: new Date().toISOString(),
    };
    const received = once(relay, 'notice');
    assert.equal(await publisher.publish(channel, 'not json'), 1);   // one subscriber: the relay
    await publisher.publish(channel, JSON.stringify(notice));
    const [got] = await received;
    assert.deepEqual(got, notice);
    assert.deepEqual(relay.recent, [notice]);
  } finally {
    await publisher.close();
    await relay.stop();
  }
});

test('reads the SMS counter', async () => {
  const key = `t_${unique()}:sms_sent_total`;
  const relay = new RedisRelay({ url: redisUrl, channel: `t_${unique()}`, smsSentKey: key, log: quiet });
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  try {
    await relay.start();
    assert.equal(await relay.smsSent(), 0);      // counter not created yet
    await redis.incrBy(key, 3);
    assert.equal(await relay.smsSent(), 3);
  } finally {
    await redis.del(key);
    await redis.close();
    await relay.stop();
  }
});

test('reads the model status hash, {} before the first round, null while Redis is down', async () => {
  const key = `t_${unique()}:model_status`;         // the Python setting redis_model_status
  const channel = `t_${unique()}:offers`;
  const relay = new RedisRelay({ url: redisUrl, channel, smsSentKey: `t_${unique()}:sms`, modelStatusKey: key, log: quiet });
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  // what 02.stage3/train.py publish_status writes: every value a string
  const status = {
    current_version: 'v0003', current_error: '0.0612', current_trained_at: '2026-09-01T12:00:00+00:00',
    current_error_now: '0.0731', last_version: 'v0005', last_error: '0.3100', last_verdict: 'refused',
    last_reason: 'test error 0.310 is above the threshold 0.250', last_at: '2026-09-01T12:20:00+00:00',
    labels: '1234', labels_from_outcomes: '56',
  };
  try {
    assert.equal(await relay.modelStatus(), null);          // not connected yet
    await relay.start();
    assert.deepEqual(await relay.modelStatus(), {});        // no round yet
    await redis.hSet(key, status);
    const got = await relay.modelStatus();
    assert.deepEqual(got, status);
    assert.equal(Object.getPrototypeOf(got), Object.prototype);   // a plain object, as JSON sends it
    // the round's notice goes through the same path as the SMS notices
    const notice = {
      type: 'model_round', version: 'v0005', error: 0.31, verdict: 'refused',
      reason: status.last_reason, current: 'v0003', at: status.last_at,
    };
    const received = once(relay, 'notice');
    await redis.publish(channel, JSON.stringify(notice));
    assert.deepEqual((await received)[0], notice);
    assert.deepEqual(relay.recent, [notice]);
  } finally {
    await redis.del(key);
    await redis.close();
    await relay.stop();
  }
});
