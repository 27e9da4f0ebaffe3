// The Pipeline panel: rows and series from the collector's samples, the red rule, the
// sparkline's points and the numbers shown (lib/pipeline.js, public/pipeline.js). No engines.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { growing, buildPanel, parseSamples } = require('../lib/pipeline');
const { sparkLines, rowNumber, rowUnit, panelCaption } = require('../public/pipeline');

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'growing.json'), 'utf8'));

test('the red rule: grew at each of the last 3 samples and above the floor (the shared fixture)', () => {
  for (const c of fixture.cases) assert.equal(growing(c.values, c.floor), c.growing, JSON.stringify(c));
});

const row = (key, value, extra = {}) => ({
  key, hop: 'Kafka → Spark', what: 'enrich: records behind', value, unit: 'records', detail: '', kind: 'lag',
  floor: 20, state: value === null ? 'none' : 'ok', ...extra,
});
const now = 1_800_000_000_000;
const sample = (at, lag, file) => JSON.stringify({
  at, engines_down: [], rows: [row('kafka:enrich', lag), row('file', file, { kind: 'lag', floor: 500 }),
    row('es', 12.5, { kind: 'rate', unit: 'docs/s' })],
});

test('each row of the latest sample, with its series of the last 10 minutes, oldest first', () => {
  const entries = [sample(now - 1000, 400, 3), sample(now - 6000, 300, 2), sample(now - 11000, 200, 1),
    sample(now - 16000, 100, 0), sample(now - 11 * 60 * 1000, 5, 0), 'not json'];
  const panel = buildPanel(entries, now);
  assert.equal(panel.at, now - 1000);
  assert.equal(panel.ageMs, 1000);
  const kafka = panel.rows.find((r) => r.key === 'kafka:enrich');
  assert.deepEqual(kafka.series.map((p) => p.v), [100, 200, 300, 400]);     // the 11-minute-old one is left out
  assert.equal(kafka.growing, true);
  assert.equal(panel.rows.find((r) => r.key === 'file').growing, false);    // grows, but within a shipper batch
  assert.equal(panel.rows.find((r) => r.key === 'es').growing, false);      // a rate is never red
});

test('no samples: an empty panel; unreadable entries are skipped', () => {
  assert.deepEqual(buildPanel([], now), { at: null, ageMs: null, enginesDown: [], rows: [] });
  assert.equal(parseSamples(['{}', '[', 'null']).length, 0);
  assert.match(panelCaption(buildPanel([], now)), /No samples yet/);
});

test('a row that is unknown in some samples breaks its sparkline there', () => {
  const series = [{ t: now - 600000, v: 1 }, { t: now - 300000, v: null }, { t: now - 5000, v: 4 }, { t: now, v: 8 }];
  const lines = sparkLines(series, now, 600000, 160, 28);
  assert.equal(lines.length, 2);
  assert.equal(lines[0].split(' ').length, 2);             // one point drawn as a dot
  assert.match(lines[1], /^158\.7,\d+\.\d 160\.0,2\.0$/);    // the highest value at the top
});

test('the number shown: grouped, a decimal for rates per second, "down" and "–"', () => {
  assert.equal(rowNumber(row('k', 12345)), '12,345');
  assert.equal(rowNumber({ ...row('k', 3.25), unit: 'docs/s' }), '3.3');
  assert.equal(rowNumber({ ...row('k', null), state: 'down' }), 'down');
  assert.equal(rowNumber(row('k', null)), '–');
  assert.equal(rowUnit({ ...row('k', 1), unit: 'lines' }), 'line');
  assert.equal(rowUnit({ ...row('k', 2), unit: 'lines' }), 'lines');
  assert.equal(rowUnit({ ...row('k', 1), unit: 'docs/s' }), 'docs/s');
  const caption = panelCaption({ at: now, ageMs: 4000, enginesDown: ['elasticsearch'], rows: [] });
  assert.match(caption, /Sampled 4 s ago\. Not answering: elasticsearch\./);
});

test('a series younger than the window fills the sparkline from its first sample', () => {
  const series = [{ t: now - 20000, v: 0 }, { t: now - 10000, v: 5 }, { t: now, v: 10 }];
  const [line] = sparkLines(series, now, 600000, 160, 28);
  assert.equal(line, '0.0,26.0 80.0,14.0 160.0,2.0');
});
