/**
 * Exercise 4.3, worked solution: a chart of your own, plays by age band and level.
 *
 * The pair the README's "Add a chart" asks for: an aggregation for the search, and a
 * transform of its answer into what the chart draws (here c3 columns for grouped or
 * stacked bars: one category per age band, one series per level).
 */
'use strict';

const LEVELS = ['Free', 'Silver', 'Gold'];      // the dashboard's order, whatever the counts
// "<18", "18-24", ..., "65+": order by the lowest age of the band (as lib/queries.js does)
const bandStart = (band) => (band.startsWith('<') ? -1 : parseInt(band, 10));

function ageLevelsSearch() {
  return {
    size: 0,
    aggs: {
      // 20 leaves room for every band; a terms aggregation returns 10 buckets unless told
      age_band: {
        terms: { field: 'age_band', size: 20 },
        aggs: { level: { terms: { field: 'level', size: 10 } } },   // inside each band
      },
    },
  };
}

function ageLevelsColumns(response) {
  const agg = (response.aggregations || {}).age_band;
  // Buckets come busiest first: sort a copy by age for the x axis.
  const bands = [...(agg ? agg.buckets : [])].sort((a, b) => bandStart(a.key) - bandStart(b.key));
  // Inside a band the levels are busiest first too, and a level without plays in that band
  // has no bucket at all: look each one up by its key, 0 when absent, so that every series
  // has one value per band, aligned with x.
  const countIn = (band, level) => {
    const bucket = band.level.buckets.find((b) => b.key === level);
    return bucket ? bucket.doc_count : 0;
  };
  return [
    ['x', ...bands.map((b) => b.key)],
    ...LEVELS.map((level) => [level, ...bands.map((band) => countIn(band, level))]),
  ];
}

// On the page (03.stage4/README.md, "Add a chart"): add `age_level: <the aggregation>` to
// buildDashboardSearch, a card <div class="chart" id="chart-age-level">, and in render():
//   c3.generate({ bindto: '#chart-age-level',
//                 data: { x: 'x', columns: ageLevelsColumns(...), type: 'bar', groups: [LEVELS] },
//                 axis: { x: { type: 'category' } } });
// then chart.load({ columns }) on the next snapshots.

module.exports = { ageLevelsSearch, ageLevelsColumns };

if (require.main === module) {        // from the repository root: node exercises/solutions/stage4/age_levels.js
  const path = require('node:path');
  const stage4 = path.resolve('03.stage4');
  const { Client } = require(require.resolve('@elastic/elasticsearch', { paths: [stage4] }));
  const { readConfig, esClientOptions } = require(path.join(stage4, 'lib', 'config'));
  const { pickEventIndex } = require(path.join(stage4, 'lib', 'queries'));
  const config = readConfig();
  const es = new Client(esClientOptions(config));
  (async () => {
    const index = await pickEventIndex(es, config.eventIndices);
    if (!index) throw new Error('no event index yet: run make stage2 (or make demo) first');
    const response = await es.search({ index, ...ageLevelsSearch() });
    for (const column of ageLevelsColumns(response)) console.log(column.join('\t'));
  })().catch((err) => console.error(err.message)).finally(() => es.close());
}
