/**
 * Exercise 4.2, worked solution: the plays-per-minute chart's c3 columns.
 *
 * c3 takes one array per series, its name first: ['mobile', 3, 5, ...]. With `x: 'x'` in the
 * chart's data options, the array named 'x' holds the x values; a timeseries axis reads epoch
 * milliseconds as they are.
 */
'use strict';

function timelineColumns(response) {
  // the filter "recent" (the last minutes) holds the date_histogram "per_minute"
  const recent = (response.aggregations || {}).recent;
  const buckets = recent ? recent.per_minute.buckets : [];
  // Every bucket, the empty minutes too (doc_count 0, from min_doc_count: 0 and
  // extended_bounds): dropping them would draw a line straight across a quiet spell.
  return [
    ['x', ...buckets.map((b) => b.key)],                 // the minute's start, epoch ms
    ['mobile', ...buckets.map((b) => b.mobile.doc_count)],
    // Elasticsearch counted all plays (doc_count) and the phone ones (the filter inside each
    // minute). PC is the difference: the chart stacks mobile and pc, so pc = doc_count would
    // count every phone play twice.
    ['pc', ...buckets.map((b) => b.doc_count - b.mobile.doc_count)],
  ];
}

module.exports = { timelineColumns };

if (require.main === module) {        // from the repository root: node exercises/solutions/stage4/timeline_columns.js
  const path = require('node:path');
  const stage4 = path.resolve('03.stage4');
  const { Client } = require(require.resolve('@elastic/elasticsearch', { paths: [stage4] }));
  const { readConfig, esClientOptions } = require(path.join(stage4, 'lib', 'config'));
  const { pickEventIndex, buildDashboardSearch } = require(path.join(stage4, 'lib', 'queries'));
  const config = readConfig();
  const es = new Client(esClientOptions(config));
  (async () => {
    const index = await pickEventIndex(es, config.eventIndices);
    if (!index) throw new Error('no event index yet: run make stage1 (or make demo) first');
    const response = await es.search({ index, ...buildDashboardSearch({ windowMinutes: 10 }) });
    for (const column of timelineColumns(response)) console.log(column.join(' '));
  })().catch((err) => console.error(err.message)).finally(() => es.close());
}
