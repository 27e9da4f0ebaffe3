/**
 * Elasticsearch side of the dashboard: which index to read, the one search
 * request that answers every chart, and turning its response into plain data.
 * Also Spark's own count of the last 30 minutes by level (the index ba_stats,
 * written by the stage-2 job) next to Elasticsearch's count of the same window.
 *
 * `currentWindow`, the `build...` and `parse...` functions are pure (no I/O),
 * so a test can pin them; `fetchEventStats` does the round trips.
 */
'use strict';

const { FIPS_BY_CODE, NAME_BY_CODE } = require('./states');

const MINUTE = 60 * 1000;
const LEVELS = ['Free', 'Silver', 'Gold'];
// Free, Silver, Gold, then "unknown" (a play by a customer not in cust.csv), then anything else.
const levelRank = (key) => {
  const i = [...LEVELS, 'unknown'].indexOf(key);
  return i < 0 ? LEVELS.length + 1 : i;
};
const byLevel = (a, b) => levelRank(a) - levelRank(b);
/** "YYYY-MM-DD HH:MM:SS" in UTC: how events and Spark's windows write times. */
const utcText = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
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
 * The Spark window that closes next, [start, end): it holds the last 25 to 30 minutes.
 *
 * Spark's windows are `length` minutes long and one starts every `slide`
 * minutes, on the clock's marks (30 and 5: 09:35-10:05, 09:40-10:10, ...).
 * At 10:07 this is 09:40-10:10 (the last mark, 10:05, minus 25 minutes), and so
 * from 10:05:00 up to 10:09:59; at 10:04:59 it is still 09:35-10:05.
 */
function currentWindow(now = Date.now(), { length = 30, slide = 5 } = {}) {
  const mark = Math.floor(now / (slide * MINUTE)) * slide * MINUTE;
  const start = mark - (length - slide) * MINUTE;
  return { start, end: start + length * MINUTE };
}

/** Spark's counts per level for the window starting at `start` (a search of the stats index). */
function buildSparkWindowSearch({ start }) {
  return {
    size: 20,       // one document per level: Free, Silver, Gold, unknown
    query: { bool: { filter: [{ term: { dimension: 'level' } }, { term: { window_start: utcText(start) } }] } },
  };
}

/** Elasticsearch's count of the same window: plays per level with `datetime` in [start, end). */
function windowLevelsAgg({ start, end }) {
  return {
    filter: { range: { datetime: { gte: start, lt: end, format: 'epoch_millis' } } },
    aggs: { level: { terms: { field: 'level', size: 10 } } },
  };
}

/**
 * One `_search` body (size 0) with an aggregation per chart.
 *
 * The timeline covers the last `windowMinutes` whole minutes up to `now`; the
 * breakdowns (device, gender, age, level, tracks, artists, states) cover the
 * whole index, so history loaded with the stage-1 shipper shows up too.
 * `levelWindow` is the window compared with Spark's counts (default: `currentWindow(now)`).
 */
function buildDashboardSearch({ now = Date.now(), windowMinutes = 30, levelWindow = currentWindow(now) } = {}) {
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
      // the 10 most played titles for each gender (ties by title, so the order is stable)
      tracks_by_gender: {
        ...terms('gender', 5, { order: { _key: 'asc' } }),
        aggs: { top: terms('title', 10, { order: [{ _count: 'desc' }, { _key: 'asc' }] }) },
      },
      window_levels: windowLevelsAgg(levelWindow),
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
  const levels = keyCounts(aggs.level).sort((a, b) => byLevel(a.key, b.key));
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
    topTracksByGender: bucketsOf(aggs.tracks_by_gender).map((b) => ({ gender: String(b.key), tracks: keyCounts(b.top) })),
    states: keyCounts(aggs.states)
      .filter((s) => FIPS_BY_CODE[s.key])            // skip zips outside the table
      .map((s) => ({ state: s.key, fips: FIPS_BY_CODE[s.key], name: NAME_BY_CODE[s.key], count: s.count })),
  };
}

/**
 * The window's plays per level, counted by Spark and by Elasticsearch:
 * `{ start, end, rows: [{ key, spark, elasticsearch }] }`, Free, Silver, Gold first
 * (always, 0 without plays), then unknown. `sparkResponse` is the answer to
 * `buildSparkWindowSearch`, or null when the stats index does not exist: then
 * every `spark` is null (not 0: Spark has not counted, rather than counted none).
 */
function parseWindowStats(levelWindow, response, sparkResponse) {
  const inWindow = (response.aggregations || {}).window_levels;
  const elasticsearch = new Map(keyCounts(inWindow && inWindow.level).map((b) => [b.key, b.count]));
  const spark = sparkResponse && new Map(sparkResponse.hits.hits.map((h) => [h._source.key, h._source.plays]));
  const keys = new Set([...LEVELS, ...elasticsearch.keys(), ...(spark ? spark.keys() : [])]);
  return {
    start: utcText(levelWindow.start),
    end: utcText(levelWindow.end),
    rows: [...keys].sort(byLevel).map((key) => ({
      key, spark: spark ? spark.get(key) || 0 : null, elasticsearch: elasticsearch.get(key) || 0,
    })),
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
  const levelWindow = currentWindow(now, { length: config.statsWindowMinutes, slide: config.statsSlideMinutes });
  const body = buildDashboardSearch({ now, windowMinutes: config.windowMinutes, levelWindow });
  const response = await es.search({ index, ...body });
  const sparkResponse = await es.indices.exists({ index: config.statsIndex })
    ? await es.search({ index: config.statsIndex, ...buildSparkWindowSearch(levelWindow) })
    : null;
  return {
    index, interestLists, ...parseDashboardResponse(response),
    windowStats: parseWindowStats(levelWindow, response, sparkResponse),
  };
}

module.exports = {
  pickEventIndex, currentWindow, buildDashboardSearch, buildSparkWindowSearch, windowLevelsAgg,
  parseDashboardResponse, parseWindowStats, countInterestLists, fetchEventStats,
};
