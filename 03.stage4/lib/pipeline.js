/**
 * The Pipeline panel's data, from the pipeline collector's samples (03.stage4/pipeline.py).
 *
 * The collector pushes one sample every few seconds onto a Redis list (REDIS_PIPELINE_SAMPLES,
 * newest first, the last 12 minutes): `{"at": ms, "engines_down": [...], "rows": [{key, hop,
 * what, value, unit, detail, kind, floor, state}]}`, one row per hop of the pipeline (and per
 * streaming query). `buildPanel` turns them into what the page draws: each row as it is now,
 * with its series over the last 10 minutes and whether it is growing.
 *
 * `growing` is the panel's red rule, the same as the collector's (pipeline.py `growing`):
 * a "lag" row is red when its value grew at each of the last 3 samples and is above
 * `floor`, what the hop normally holds in flight (a shipper batch, one trigger's worth
 * of records). "rate" rows (documents/s, dead letters/min) are never red.
 * Pure functions, no I/O: test/pipeline.test.js pins them.
 */
'use strict';

const WINDOW_MS = 10 * 60 * 1000;

function growing(values, floor = 0) {
  const last = values.slice(-4);
  if (last.length < 4 || last.some((v) => v === null || v === undefined)) return false;
  return last[0] < last[1] && last[1] < last[2] && last[2] < last[3] && last[3] > floor;
}

/** Parse the list's entries (JSON strings, newest first); unreadable ones are skipped. */
function parseSamples(entries) {
  const out = [];
  for (const text of entries || []) {
    try {
      const s = JSON.parse(text);
      if (s && typeof s.at === 'number' && Array.isArray(s.rows)) out.push(s);
    } catch { /* not a sample */ }
  }
  return out.sort((a, b) => a.at - b.at);      // oldest first
}

/**
 * `{ at, ageMs, enginesDown, rows: [{...row, series: [{t, v}], growing}] }`, or
 * `{ at: null, rows: [] }` before the first sample. The rows are the latest sample's.
 */
function buildPanel(entries, now = Date.now(), windowMs = WINDOW_MS) {
  const samples = parseSamples(entries).filter((s) => s.at >= now - windowMs);
  if (!samples.length) return { at: null, ageMs: null, enginesDown: [], rows: [] };
  const latest = samples[samples.length - 1];
  const rows = latest.rows.map((row) => {
    const series = samples.map((s) => {
      const r = s.rows.find((x) => x.key === row.key);
      return { t: s.at, v: r && typeof r.value === 'number' ? r.value : null };
    });
    return { ...row, series, growing: row.kind === 'lag' && growing(series.map((p) => p.v), row.floor || 0) };
  });
  return { at: latest.at, ageMs: now - latest.at, enginesDown: latest.engines_down || [], rows };
}

module.exports = { WINDOW_MS, growing, parseSamples, buildPanel };
