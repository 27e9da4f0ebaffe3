/**
 * Exercise 4.1, worked solution: plays of the last minutes, per device.
 *
 * The same two halves as lib/queries.js: a pure function that builds the body, and a pure
 * function that reads the answer. Neither talks to Elasticsearch, so a test can pin `now`.
 */
'use strict';

const MINUTE = 60 * 1000;

function recentDevicesSearch({ now, minutes }) {
  return {
    size: 0,                  // counts only: no documents in the answer
    query: {
      // [now - minutes, now], both ends included. The times are numbers (epoch milliseconds),
      // so say so with `format`; the field's own format is "yyyy-MM-dd HH:mm:ss" (UTC).
      // Not 'now-15m': that is Elasticsearch's clock, and the page (or a test) may ask about
      // another "now" than the server's.
      range: { datetime: { gte: now - minutes * MINUTE, lte: now, format: 'epoch_millis' } },
    },
    aggs: {
      // ismobile is 0 or 1: two buckets at most, fewer when a device has no play
      device: { terms: { field: 'ismobile', size: 2 } },
    },
  };
}

function recentDevices(response) {
  const counts = { mobile: 0, pc: 0 };        // a bucket that is missing means no play: 0
  const device = (response.aggregations || {}).device;
  for (const bucket of device ? device.buckets : []) {
    counts[Number(bucket.key) === 1 ? 'mobile' : 'pc'] = bucket.doc_count;
  }
  return counts;
}

// Another way: "filters": { "filters": { "mobile": {"term": {"ismobile": 1}}, "pc": {...} } }
// always returns both buckets, 0 included. The terms version is what the dashboard uses.

module.exports = { recentDevicesSearch, recentDevices };

if (require.main === module) {        // try it on your own index, from the repository root:
  // node exercises/solutions/stage4/recent_devices.js
  const path = require('node:path');
  const stage4 = path.resolve('03.stage4');
  const { Client } = require(require.resolve('@elastic/elasticsearch', { paths: [stage4] }));
  const { readConfig, esClientOptions } = require(path.join(stage4, 'lib', 'config'));
  const { pickEventIndex } = require(path.join(stage4, 'lib', 'queries'));
  const config = readConfig();
  const es = new Client(esClientOptions(config));
  (async () => {
    const index = await pickEventIndex(es, config.eventIndices);
    if (!index) throw new Error('no event index yet: run make stage1 (or make demo) first');
    const body = recentDevicesSearch({ now: Date.now(), minutes: 15 });
    console.log(index, 'last 15 minutes:', recentDevices(await es.search({ index, ...body })));
  })().catch((err) => console.error(err.message)).finally(() => es.close());
}
