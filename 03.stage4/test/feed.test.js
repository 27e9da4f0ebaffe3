// The live offers feed: ids are non-negative integers, and 0 is an id like any
// other (customer 0, track 0), never "missing"; model rounds get their own line.
// No engines needed.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describeNotice, isGiven, percent } = require('../public/feed');

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

test('the page loads feed.js, then model.js (which uses it), before app.js', () => {
  const html = fs.readFileSync(path.join(__dirname, '..', 'public', 'index.html'), 'utf8');
  const feed = html.indexOf('src="/feed.js"');
  const model = html.indexOf('src="/model.js"');
  assert.ok(feed > 0 && feed < model && model < html.indexOf('src="/app.js"'), 'feed.js, model.js, app.js in this order');
});

test('a model round reads "round v0005 refused: test error 31.0%", with its reason and the current model', () => {
  const reason = 'test error 0.310 is above the threshold 0.250';
  const refused = describeNotice({ type: 'model_round', version: 'v0005', error: 0.31, verdict: 'refused', reason, current: 'v0003', at });
  assert.deepEqual([refused.kind, refused.label], ['model_round refused', 'model round']);
  assert.equal(refused.text, `round v0005 refused: test error 31.0% · ${reason} · current model v0003`);
  assert.equal(refused.at.toISOString(), '2026-09-01T12:34:56.000Z');
  // the first round, refused: no model at all; an unexpected verdict is not dressed as passed
  const first = describeNotice({ type: 'model_round', version: 'v0001', error: 0.5, verdict: 'refused', reason, current: null, at });
  assert.match(first.text, /· no current model$/);
  const odd = describeNotice({ type: 'model_round', version: 'v0002', error: 0.05, verdict: 'maybe', current: 'v0002' });
  assert.deepEqual([odd.kind, odd.text], ['model_round unknown', 'round v0002 unknown: test error 5.0% · current model v0002']);
  const passed = describeNotice({ type: 'model_round', version: 'v0006', error: '0.0612', verdict: 'passed', reason, current: 'v0006', at });
  assert.equal(passed.kind, 'model_round passed');
  assert.ok(passed.text.startsWith('round v0006 passed: test error 6.1% · '), passed.text);
});

test('percent: a fraction as a percentage with one decimal, blank when missing', () => {
  assert.deepEqual([percent(0.0612), percent('0.3100'), percent(0), percent(1)], ['6.1%', '31.0%', '0.0%', '100.0%']);
  for (const v of [null, undefined, '', 'n/a']) assert.equal(percent(v), '', String(v));
});
