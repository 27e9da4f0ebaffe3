// The live offers feed: ids are non-negative integers, and 0 is an id like any
// other (customer 0, track 0), never "missing". No engines needed.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describeNotice, isGiven } = require('../public/feed');

const at = '2026-09-01T12:34:56Z';

test('0 and "0" are given values; null, undefined and blanks are not', () => {
  for (const v of [0, '0', 7, 'Ada']) assert.equal(isGiven(v), true, String(v));
  for (const v of [null, undefined, '', '  ']) assert.equal(isGiven(v), false, String(v));
});

test('a notice for customer 0 after track 0 names them like any other id', () => {
  // stage 3 sends ids as strings and an empty name / title when the customer or track is unknown
  for (const [customer, track] of [['0', '0'], [0, 0], ['42', '7']]) {
    const d = describeNotice({
      type: 'sms_offer', customer_id: customer, name: '', level: 'Free', track_id: track, title: '', at,
    });
    assert.equal(d.who, `customer ${customer}`);
    assert.equal(d.track, `track ${track}`);
    assert.deepEqual([d.kind, d.label, d.level], ['sms_offer', 'offer queued', 'Free']);
    assert.equal(d.at.toISOString(), '2026-09-01T12:34:56.000Z');
  }
});

test('names and titles win over ids; missing ids are said to be unknown, not "undefined"', () => {
  const sent = describeNotice({ type: 'sms_sent', customer_id: 0, name: 'Ada Lovelace', track_id: 0, title: 'Blue Monday' });
  assert.deepEqual([sent.kind, sent.label, sent.who, sent.track, sent.level], ['sms_sent', 'SMS sent', 'Ada Lovelace', 'Blue Monday', '?']);
  assert.ok(sent.at instanceof Date);                     // no `at`: the time it arrived
  const bare = describeNotice({ type: 'sms_offer', at: 'not a date' });
  assert.deepEqual([bare.who, bare.track, bare.at], ['unknown customer', 'unknown track', null]);
});

test('the page loads feed.js before app.js', () => {
  const html = fs.readFileSync(path.join(__dirname, '..', 'public', 'index.html'), 'utf8');
  const feed = html.indexOf('src="/feed.js"');
  assert.ok(feed > 0 && feed < html.indexOf('src="/app.js"'), 'feed.js must come before app.js');
});
