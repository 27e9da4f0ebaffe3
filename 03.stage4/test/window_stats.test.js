// The pure functions behind "the last 30 minutes by level: Spark vs Elasticsearch"
// and "top 10 tracks by gender": window arithmetic, the searches' shape, the parsers.
// No engines needed (test/queries.test.js runs them against a real index).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  currentWindow, buildSparkWindowSearch, buildDashboardSearch, parseWindowStats, parseDashboardResponse,
} = require('../lib/queries');

const at = (text) => Date.parse(`${text}Z`);                  // "2024-05-01T10:07:00" in UTC
const iso = (ms) => new Date(ms).toISOString().slice(0, 19);
const windowAt = (text, options) => {
  const w = currentWindow(at(text), options);
  return [iso(w.start), iso(w.end)];
};

test('the window closes at the next 5-minute mark and is 30 minutes long', () => {
  assert.deepEqual(windowAt('2024-05-01T10:07:00'), ['2024-05-01T09:40:00', '2024-05-01T10:10:00']);
  // exactly on a mark: a new window (the play at 10:05:00 counts in [10:05, ...), not in [09:35, 10:05))
  assert.deepEqual(windowAt('2024-05-01T10:05:00'), ['2024-05-01T09:40:00', '2024-05-01T10:10:00']);
  assert.deepEqual(windowAt('2024-05-01T10:04:59.999'), ['2024-05-01T09:35:00', '2024-05-01T10:05:00']);
  assert.deepEqual(windowAt('2024-05-01T10:09:59'), ['2024-05-01T09:40:00', '2024-05-01T10:10:00']);
  // across midnight
  assert.deepEqual(windowAt('2024-05-02T00:01:00'), ['2024-05-01T23:35:00', '2024-05-02T00:05:00']);
  // other settings (STATS_WINDOW_MINUTES=10, STATS_SLIDE_MINUTES=2)
  assert.deepEqual(windowAt('2024-05-01T10:07:00', { length: 10, slide: 2 }),
    ['2024-05-01T09:58:00', '2024-05-01T10:08:00']);
});

test('the window always holds the last 25 to 30 minutes, now included', () => {
  for (let t = at('2024-05-01T10:00:00'); t < at('2024-05-01T10:20:00'); t += 7000) {
    const { start, end } = currentWindow(t);
    assert.ok(start <= t && t < end, iso(t));
    assert.ok(t - start >= 25 * 60000 && t - start < 30 * 60000, iso(t));
    assert.equal(new Date(start).getUTCMinutes() % 5, 0);
    assert.equal(new Date(start).getUTCSeconds(), 0);
  }
});

test("the stats search asks for the window's level documents, by window_start as Spark writes it", () => {
  const w = currentWindow(at('2024-05-01T10:07:00'));
  assert.deepEqual(buildSparkWindowSearch(w).query, {
    bool: { filter: [{ term: { dimension: 'level' } }, { term: { window_start: '2024-05-01 09:40:00' } }] },
  });
});

test('the dashboard search counts the same window per level, and the top titles per gender', () => {
  const now = at('2024-05-01T10:07:00');
  const { aggs } = buildDashboardSearch({ now });
  assert.deepEqual(aggs.window_levels.filter,
    { range: { datetime: { gte: at('2024-05-01T09:40:00'), lt: at('2024-05-01T10:10:00'), format: 'epoch_millis' } } });
  assert.equal(aggs.window_levels.aggs.level.terms.field, 'level');
  assert.equal(aggs.tracks_by_gender.terms.field, 'gender');
  assert.deepEqual(aggs.tracks_by_gender.aggs.top.terms,
    { field: 'title', size: 10, order: [{ _count: 'desc' }, { _key: 'asc' }] });
  // a window given explicitly (from the STATS_* settings) is the one counted
  const levelWindow = { start: 0, end: 1000 };
  assert.deepEqual(buildDashboardSearch({ now, levelWindow }).aggs.window_levels.filter.range.datetime,
    { gte: 0, lt: 1000, format: 'epoch_millis' });
});

const w = currentWindow(at('2024-05-01T10:07:00'));
const dashboardResponse = (levels) => ({
  hits: { total: { value: 0 } },
  aggregations: { window_levels: { doc_count: 0, level: { buckets: levels.map(([key, doc_count]) => ({ key, doc_count })) } } },
});
const statsResponse = (levels) => ({
  hits: { hits: levels.map(([key, plays]) => ({ _source: { dimension: 'level', key, plays } })) },
});

test('Spark and Elasticsearch side by side, Free Silver Gold first and unknown last', () => {
  const stats = parseWindowStats(w,
    dashboardResponse([['Free', 40], ['unknown', 2], ['Gold', 7], ['Silver', 12]]),
    statsResponse([['Gold', 7], ['unknown', 2], ['Free', 38], ['Silver', 12]]));
  assert.deepEqual(stats, {
    start: '2024-05-01 09:40:00',
    end: '2024-05-01 10:10:00',
    rows: [
      { key: 'Free', spark: 38, elasticsearch: 40 },
      { key: 'Silver', spark: 12, elasticsearch: 12 },
      { key: 'Gold', spark: 7, elasticsearch: 7 },
      { key: 'unknown', spark: 2, elasticsearch: 2 },
    ],
  });
});

test('a level with no plays is a 0 on both sides (Spark writes no document for it)', () => {
  const stats = parseWindowStats(w, dashboardResponse([['Free', 3]]), statsResponse([['Free', 3]]));
  assert.deepEqual(stats.rows, [
    { key: 'Free', spark: 3, elasticsearch: 3 },
    { key: 'Silver', spark: 0, elasticsearch: 0 },
    { key: 'Gold', spark: 0, elasticsearch: 0 },
  ]);
  // a level only Spark has counted yet (Elasticsearch's side is refreshed later) still shows
  const sparkOnly = parseWindowStats(w, dashboardResponse([]), statsResponse([['Gold', 1]]));
  assert.deepEqual(sparkOnly.rows.map((r) => [r.key, r.spark, r.elasticsearch]),
    [['Free', 0, 0], ['Silver', 0, 0], ['Gold', 1, 0]]);
});

test('no stats index: every spark count is null, not 0', () => {
  const stats = parseWindowStats(w, dashboardResponse([['Silver', 5]]), null);
  assert.deepEqual(stats.rows, [
    { key: 'Free', spark: null, elasticsearch: 0 },
    { key: 'Silver', spark: null, elasticsearch: 5 },
    { key: 'Gold', spark: null, elasticsearch: 0 },
  ]);
  // an index without the level aggregation (a response from before) parses too
  assert.deepEqual(parseWindowStats(w, { aggregations: {} }, null).rows.map((r) => r.elasticsearch), [0, 0, 0]);
});

test('top tracks by gender: one entry per gender, its titles with their counts', () => {
  const bucket = (key, doc_count, extra = {}) => ({ key, doc_count, ...extra });
  const parsed = parseDashboardResponse({
    hits: { total: { value: 9 } },
    aggregations: {
      tracks_by_gender: { buckets: [
        bucket('female', 5, { top: { buckets: [bucket('Hey Ya!', 3), bucket('Blue Monday', 2)] } }),
        bucket('male', 4, { top: { buckets: [bucket('Ceremony', 4)] } }),
      ] },
    },
  });
  assert.deepEqual(parsed.topTracksByGender, [
    { gender: 'female', tracks: [{ key: 'Hey Ya!', count: 3 }, { key: 'Blue Monday', count: 2 }] },
    { gender: 'male', tracks: [{ key: 'Ceremony', count: 4 }] },
  ]);
  assert.deepEqual(parseDashboardResponse({ hits: { total: { value: 0 } } }).topTracksByGender, []);
});
