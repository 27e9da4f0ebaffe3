/**
 * Elasticsearch side of the dashboard: which index to read, the one search
 * request that answers every chart, and turning its response into plain data.
 *
 * `buildDashboardSearch` and `parseDashboardResponse` are pure (no I/O), so a
 * test can pin them; `fetchEventStats` does the round trips.
 */
'use strict';

const { FIPS_BY_CODE, NAME_BY_CODE } = require('./states');

const MINUTE = 60 * 1000;
const LEVEL_ORDER = ['Free', 'Silver', 'Gold'];
// Age bands are labels like "<18", "18-24", ..., "65+": order them by their lowest age.
const bandStart = (band) => (band.startsWith('<') ? -1 : parseInt(band, 10));

/** The first index of `indices` (newest stage first) that exists, or null. */
async function pickEventIndex(es, indices) {
  for (const index of indices) {
    if (await es.indices.exists({ index })) return index;
  }
  return null;
}

/**
 * One `_search` body (size 0) with an aggregation per chart.
 *
 * The timeline covers the last `windowMinutes` whole minutes up to `now`; the
 * breakdowns (device, gender, age, level, tracks, artists, states) cover the
 * whole index, so history loaded with the stage-1 shipper shows up too.
 */
function buildDashboardSearch({ now = Date.now(), windowMinutes = 30 } = {}) {
  const end = Math.floor(now / MINUTE) * MINUTE;        // start of the current minute
  const start = end - (windowMinutes - 1) * MINUTE;
  const terms = (field, size, extra = {}) => ({ terms: { field, size, ...extra } });
  return {
    size: 0,
    track_total_hits: true,          // exact event count, not "10000+"
    aggs: {
      // Exact below 40 000 distinct customers, approximate above (HyperLogLog).
      listeners: { cardinality: { field: 'customer_id', precision_threshold: 40000 } },
      recent: {
        filter: { range: { datetime: { gte: start, format: 'epoch_millis' } } },
        aggs: {
          per_minute: {
            date_histogram: {
              field: 'datetime',
              fixed_interval: '1m',
              min_doc_count: 0,        // empty minutes are zeros, not gaps
              extended_bounds: { min: start, max: end },
            },
            aggs: { mobile: { filter: { term: { ismobile: 1 } } } },
          },
        },
      },
      device: terms('ismobile', 2),
      gender: terms('gender', 5),
      age_band: terms('age_band', 20),
      level: terms('level', 5),
      top_tracks: terms('title', 10),
      top_artists: terms('artist', 10),
      // 56 is the number of entries in lib/states.js plus some headroom.
      states: terms('state', 60),
    },
  };
}

const bucketsOf = (agg) => (agg ? agg.buckets : []);
const keyCounts = (agg) => bucketsOf(agg).map((b) => ({ key: String(b.key), count: b.doc_count }));

/** Plain data for the page from a response to `buildDashboardSearch`. */
function parseDashboardResponse(response) {
  const aggs = response.aggregations || {};
  const device = { mobile: 0, pc: 0 };
  for (const b of bucketsOf(aggs.device)) device[Number(b.key) === 1 ? 'mobile' : 'pc'] = b.doc_count;
  const levels = keyCounts(aggs.level)
    .sort((a, b) => LEVEL_ORDER.indexOf(a.key) - LEVEL_ORDER.indexOf(b.key));
  return {
    events: response.hits.total.value,
    listeners: aggs.listeners ? aggs.listeners.value : 0,
    timeline: bucketsOf(aggs.recent && aggs.recent.per_minute).map((b) => ({
      t: b.key, mobile: b.mobile.doc_count, pc: b.doc_count - b.mobile.doc_count,
    })),
    device,
    gender: keyCounts(aggs.gender),
    ageBands: keyCounts(aggs.age_band).sort((a, b) => bandStart(a.key) - bandStart(b.key)),
    levels,
    topTracks: keyCounts(aggs.top_tracks),
    topArtists: keyCounts(aggs.top_artists),
    states: keyCounts(aggs.states)
      .filter((s) => FIPS_BY_CODE[s.key])            // skip zips outside the table
      .map((s) => ({ state: s.key, fips: FIPS_BY_CODE[s.key], name: NAME_BY_CODE[s.key], count: s.count })),
  };
}

/** Number of interest-list entries (documents in the interest index; 0 before stage 2 wrote any). */
async function countInterestLists(es, index) {
  const res = await es.count({ index, ignore_unavailable: true, allow_no_indices: true });
  return res.count;
}

/**
 * Everything the page needs from Elasticsearch, or `{ index: null }` when no
 * event index exists yet. Throws when Elasticsearch cannot be reached.
 */
async function fetchEventStats(es, config, now = Date.now()) {
  const index = await pickEventIndex(es, config.eventIndices);
  const interestLists = await countInterestLists(es, config.interestIndex);
  if (!index) return { index: null, interestLists };
  const body = buildDashboardSearch({ now, windowMinutes: config.windowMinutes });
  const response = await es.search({ index, ...body });
  return { index, interestLists, ...parseDashboardResponse(response) };
}

module.exports = {
  pickEventIndex, buildDashboardSearch, parseDashboardResponse, countInterestLists, fetchEventStats,
};
