// The dashboard's aggregations against a real Elasticsearch index seeded here.
// Expected numbers are counted from the seed documents in plain JS (the oracle).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { unique, indexBody, testEs, eventTime } = require('../testkit/helpers');
const { fetchEventStats, pickEventIndex, currentWindow } = require('../lib/queries');

const MINUTE = 60000;
const now = Date.now();
const thisMinute = Math.floor(now / MINUTE) * MINUTE;

// 10 plays in the 30-minute window (minutes ago: 0..29) and 3 older ones.
const minutesAgo = [0, 0, 1, 1, 1, 4, 10, 10, 20, 29, 45, 120, 600];
const people = [
  { customer_id: '1', gender: 'female', age_band: '18-24', level: 'Free' },
  { customer_id: '2', gender: 'male', age_band: '25-34', level: 'Silver' },
  { customer_id: '3', gender: 'female', age_band: '<18', level: 'Gold' },
  { customer_id: '4', gender: 'male', age_band: '65+', level: 'Free' },
];
const tracks = [
  { track_id: '10', title: 'Blue Monday', artist: 'New Order' },
  { track_id: '11', title: 'Hey Ya!', artist: 'OutKast' },
  { track_id: '12', title: 'Ceremony', artist: 'New Order' },
];
const states = ['CA', 'CA', 'NY', 'TX', 'ZZ'];   // ZZ: not a state, the parser drops it

const docs = minutesAgo.map((ago, i) => ({
  event_id: String(1000 + i),
  ...people[i % people.length],
  ...tracks[i % tracks.length],
  datetime: eventTime(thisMinute - ago * MINUTE + 5000),
  ismobile: i % 3 === 0 ? 0 : 1,
  listening_zip_code: '10001',
  state: states[i % states.length],
  hour: 12, customer_known: true, ad_target: false, send_event: 0,
}));

function countBy(field) {
  const counts = new Map();
  for (const d of docs) counts.set(d[field], (counts.get(d[field]) || 0) + 1);
  return counts;
}
const asMap = (buckets) => new Map(buckets.map((b) => [b.key, b.count]));

const name = `t_${unique()}`;
const config = {
  eventIndices: [`${name}_3`, `${name}_2`, `${name}_1`],
  interestIndex: `${name}_interest`,
  statsIndex: `${name}_stats`,
  windowMinutes: 30,
};
const es = testEs();

test.before(async () => {
  await es.indices.create({ index: `${name}_2`, ...indexBody('STAGE2_DOC_FIELDS') });
  const stage2docs = docs.map(({ ad_target, send_event, ...d }) => d);
  const operations = stage2docs.flatMap((d) => [{ index: { _id: d.event_id } }, d]);
  const res = await es.bulk({ index: `${name}_2`, operations, refresh: true });
  assert.equal(res.errors, false, JSON.stringify(res.items.find((it) => it.index.error)));
});

test.after(async () => {
  await es.indices.delete({ index: `${name}_*`, ignore_unavailable: true });
  await es.close();
});

test('reads the newest stage index that exists', async () => {
  assert.equal(await pickEventIndex(es, config.eventIndices), `${name}_2`);
  assert.equal(await pickEventIndex(es, [`${name}_none`]), null);
});

test('totals, breakdowns and per-minute timeline match the seeded documents', async () => {
  const stats = await fetchEventStats(es, config, now);
  assert.equal(stats.index, `${name}_2`);
  assert.equal(stats.events, docs.length);
  assert.equal(stats.listeners, new Set(docs.map((d) => d.customer_id)).size);
  assert.equal(stats.interestLists, 0);            // no interest index yet

  const mobile = docs.filter((d) => d.ismobile === 1).length;
  assert.deepEqual(stats.device, { mobile, pc: docs.length - mobile });
  assert.deepEqual(asMap(stats.gender), countBy('gender'));
  assert.deepEqual(asMap(stats.levels), countBy('level'));
  assert.deepEqual(stats.levels.map((b) => b.key), ['Free', 'Silver', 'Gold']);
  assert.deepEqual(asMap(stats.ageBands), countBy('age_band'));
  assert.deepEqual(stats.ageBands.map((b) => b.key), ['<18', '18-24', '25-34', '65+']);
  assert.deepEqual(asMap(stats.topTracks), countBy('title'));
  assert.deepEqual(asMap(stats.topArtists), countBy('artist'));
  assert.equal(stats.topArtists[0].key, 'New Order');   // most played first

  const stateCounts = countBy('state');
  stateCounts.delete('ZZ');
  assert.deepEqual(new Map(stats.states.map((s) => [s.state, s.count])), stateCounts);
  assert.equal(stats.states.find((s) => s.state === 'CA').fips, '06');

  // 30 one-minute buckets, oldest first, zeros included
  assert.equal(stats.timeline.length, 30);
  assert.equal(stats.timeline[29].t, thisMinute);
  for (const [i, bucket] of stats.timeline.entries()) {
    const ago = 29 - i;
    const inMinute = docs.filter((d, j) => minutesAgo[j] === ago);
    assert.deepEqual(
      { mobile: bucket.mobile, pc: bucket.pc },
      { mobile: inMinute.filter((d) => d.ismobile === 1).length, pc: inMinute.filter((d) => d.ismobile === 0).length },
      `minute -${ago}`,
    );
  }
  const inWindow = stats.timeline.reduce((n, b) => n + b.mobile + b.pc, 0);
  assert.equal(inWindow, minutesAgo.filter((m) => m < 30).length);

  // the 10 most played titles per gender
  for (const { gender, tracks: top } of stats.topTracksByGender) {
    const titles = new Map();
    for (const d of docs.filter((doc) => doc.gender === gender)) titles.set(d.title, (titles.get(d.title) || 0) + 1);
    assert.deepEqual(asMap(top), titles, gender);
  }
  assert.deepEqual(stats.topTracksByGender.map((g) => g.gender), ['female', 'male']);
});

// Plays per level in Spark's current window [start, end), counted from the seed documents.
function levelsInWindow(now) {
  const { start, end } = currentWindow(now);
  const counts = new Map();
  for (const d of docs) {
    const t = Date.parse(`${d.datetime.replace(' ', 'T')}Z`);
    if (t >= start && t < end) counts.set(d.level, (counts.get(d.level) || 0) + 1);
  }
  return counts;
}

test("the last 30 minutes by level: Elasticsearch's count, and Spark's once its stats index exists", async () => {
  const expected = levelsInWindow(now);
  const before = await fetchEventStats(es, config, now);        // no stats index yet
  assert.deepEqual(before.windowStats.rows.map((r) => r.key), ['Free', 'Silver', 'Gold']);
  for (const row of before.windowStats.rows) {
    assert.equal(row.spark, null, row.key);
    assert.equal(row.elasticsearch, expected.get(row.key) || 0, row.key);
  }

  // ba_stats-shaped documents, as the stage-2 job writes them: this window, the one before, and a state
  await es.indices.create({ index: config.statsIndex, ...indexBody('STATS_FIELDS') });
  const { start, end } = currentWindow(now);
  const statsDoc = (from, dimension, key, plays) => ({
    _id: `${dimension}-${key}-${eventTime(from).replace(' ', 'T')}`,
    doc: { window_start: eventTime(from), window_end: eventTime(from + 30 * MINUTE), dimension, key, plays },
  });
  const written = [
    statsDoc(start, 'level', 'Free', 4), statsDoc(start, 'level', 'Gold', 2), statsDoc(start, 'level', 'unknown', 1),
    statsDoc(start - 5 * MINUTE, 'level', 'Silver', 99), statsDoc(start, 'state', 'CA', 50),
  ];
  await es.bulk({ index: config.statsIndex, refresh: true,
    operations: written.flatMap(({ _id, doc }) => [{ index: { _id } }, doc]) });

  const after = await fetchEventStats(es, config, now);
  assert.equal(after.windowStats.start, eventTime(start));
  assert.equal(after.windowStats.end, eventTime(end));
  assert.deepEqual(after.windowStats.rows.map((r) => [r.key, r.spark]),
    [['Free', 4], ['Silver', 0], ['Gold', 2], ['unknown', 1]]);
  assert.deepEqual(after.windowStats.rows.map((r) => r.elasticsearch),
    ['Free', 'Silver', 'Gold', 'unknown'].map((level) => expected.get(level) || 0));
});

test('interest lists are counted, and a newer stage index takes over', async () => {
  await es.indices.create({ index: config.interestIndex, ...indexBody('INTEREST_FIELDS') });
  const interest = [['1', '10'], ['1', '11'], ['2', '10']].map(([c, t]) => ({
    customer_id: c, track_id: t, first_play: eventTime(now), last_play: eventTime(now), plays: 3,
  }));
  await es.bulk({
    index: config.interestIndex, refresh: true,
    operations: interest.flatMap((d) => [{ index: { _id: `${d.customer_id}-${d.track_id}` } }, d]),
  });
  await es.indices.create({ index: `${name}_3`, ...indexBody('STAGE3_DOC_FIELDS') });

  const stats = await fetchEventStats(es, config, now);
  assert.equal(stats.interestLists, interest.length);
  assert.equal(stats.index, `${name}_3`);
  assert.equal(stats.events, 0);
  assert.equal(stats.timeline.length, 30);
  assert.deepEqual(stats.states, []);
});

test('a stage-1 index (no customer or track fields) gives empty breakdowns, not an error', async () => {
  const index = `${name}_1`;
  await es.indices.create({ index, ...indexBody('STAGE1_DOC_FIELDS') });
  const stage1docs = docs.slice(0, 4).map((d) => ({
    event_id: d.event_id, customer_id: d.customer_id, track_id: d.track_id, datetime: d.datetime,
    ismobile: d.ismobile, listening_zip_code: d.listening_zip_code, state: d.state, hour: d.hour,
  }));
  await es.bulk({ index, refresh: true, operations: stage1docs.flatMap((d) => [{ index: { _id: d.event_id } }, d]) });

  const stats = await fetchEventStats(es, { ...config, eventIndices: [index] }, now);
  assert.equal(stats.events, 4);
  assert.deepEqual(stats.gender, []);
  assert.deepEqual(stats.topTracks, []);
  assert.equal(stats.device.mobile + stats.device.pc, 4);
  assert.equal(stats.states.reduce((n, s) => n + s.count, 0), stage1docs.filter((d) => d.state !== 'ZZ').length);
});

test('customer 0 and track 0 are counted like any other id', async () => {
  const index = `${name}_zero`;
  await es.indices.create({ index, ...indexBody('STAGE3_DOC_FIELDS') });
  const zeroDocs = [
    ['0', '0', 'Track Zero'], ['0', '0', 'Track Zero'], ['0', '11', 'Hey Ya!'], ['5', '0', 'Track Zero'],
  ].map(([customer_id, track_id, title], i) => ({
    ...docs[i], event_id: String(i), customer_id, track_id, title, artist: 'Zero Artist',
  }));
  const res = await es.bulk({
    index, refresh: true, operations: zeroDocs.flatMap((d) => [{ index: { _id: d.event_id } }, d]),
  });
  assert.equal(res.errors, false, JSON.stringify(res.items.find((it) => it.index.error)));

  const stats = await fetchEventStats(es, { ...config, eventIndices: [index] }, now);
  assert.equal(stats.events, 4);                       // event 0 included
  assert.equal(stats.listeners, 2);                    // customers 0 and 5
  assert.deepEqual(stats.topTracks, [{ key: 'Track Zero', count: 3 }, { key: 'Hey Ya!', count: 1 }]);
});
