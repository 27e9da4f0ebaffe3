// The Redis relay against the real Redis: a published notice is forwarded,
// a non-JSON message is dropped, the SMS counter is read.
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
