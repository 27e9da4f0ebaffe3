// The "Model" card's texts from stage 3's status hash (02.stage3/train.py publish_status:
// every value a string). No engines needed.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { describeModel, whenText } = require('../public/model');

const now = new Date('2026-09-01T12:30:00Z');
const status = {
  current_version: 'v0003', current_error: '0.0612', current_trained_at: '2026-09-01T12:00:00+00:00',
  current_error_now: '0.0731', last_version: 'v0005', last_error: '0.3100', last_verdict: 'refused',
  last_reason: 'test error 0.310 is above the threshold 0.250', last_at: '2026-09-01T12:20:00+00:00',
  labels: '1234', labels_from_outcomes: '56',
};
const local = (iso) => new Date(iso).toLocaleTimeString('en-GB');

test('the promoted model, its test error as a percentage, and the last round with its verdict and reason', () => {
  const m = describeModel(status, now);
  assert.equal(m.version, 'v0003');
  assert.equal(m.error, 'test error 6.1%');
  assert.equal(m.detail, `trained ${local(status.current_trained_at)} · now 7.3% on the latest history`);
  assert.deepEqual(m.round, {
    verdict: 'refused',
    text: `last round v0005 · test error 31.0% · ${local(status.last_at)}`,
    reason: 'test error 0.310 is above the threshold 0.250',
  });
  assert.equal(m.labels, 'labels: 1,234 (56 from SMS outcomes)');
});

test('"no model yet" before the first round, and after rounds that all were refused', () => {
  const none = describeModel({}, now);
  assert.deepEqual(none, {
    version: 'no model yet', error: '', detail: 'appears after stage 3 trains (make stage3-train)', round: null, labels: '',
  });
  const refused = describeModel({
    ...status, current_version: '', current_error: '', current_trained_at: '', current_error_now: '', last_version: 'v0001',
  }, now);
  assert.deepEqual([refused.version, refused.error, refused.detail], ['no model yet', '', 'no round has passed the gate yet']);
  assert.equal(refused.round.verdict, 'refused');
  assert.ok(refused.round.text.startsWith('last round v0001 · test error 31.0%'), refused.round.text);
});

test('a passed round, no live outcomes yet, an unexpected verdict', () => {
  const m = describeModel({ ...status, last_version: 'v0003', last_verdict: 'passed', labels_from_outcomes: '0' }, now);
  assert.equal(m.round.verdict, 'passed');
  assert.equal(m.labels, 'labels: 1,234 (0 from SMS outcomes)');
  assert.equal(describeModel({ ...status, last_verdict: 'later' }, now).round.verdict, 'unknown');
  // the promoted model had no error on the latest history (a first model): no "now ..." part
  assert.equal(describeModel({ ...status, current_error_now: '' }, now).detail, `trained ${local(status.current_trained_at)}`);
});

test('times: the clock time today, the date and time another day, blank when unreadable', () => {
  assert.equal(whenText('2026-09-01T12:20:00Z', now), local('2026-09-01T12:20:00Z'));
  const before = whenText('2026-08-20T08:05:00Z', now);
  assert.match(before, /Aug/);
  assert.equal(whenText('', now), '');
  assert.equal(whenText('not a time', now), '');
});
