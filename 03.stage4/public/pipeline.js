/*
 * The "Pipeline" panel: one row per hop of the pipeline with its lag (or rate) now and a
 * sparkline of the last 10 minutes, red while a lag grows (server.js sends the rows,
 * lib/pipeline.js decides `growing`). Loaded by the page before app.js, and by
 * test/pipeline_page.test.js (module.exports).
 */
'use strict';

/**
 * SVG polyline point lists for a series [{t, v}] over [now - windowMs, now], or from its first
 * sample when it is younger (a collector that just started fills the width); a null breaks the line.
 */
function sparkLines(series, now, windowMs, width = 160, height = 28) {
  const values = series.map((p) => p.v).filter((v) => v !== null);
  const start = series.length ? Math.max(now - windowMs, Math.min(...series.map((p) => p.t))) : now - windowMs;
  const span = Math.max(now - start, 1);
  const max = Math.max(1, ...values);
  const lines = [];
  let current = [];
  for (const p of series) {
    if (p.v === null) {
      if (current.length) lines.push(current);
      current = [];
      continue;
    }
    const x = Math.max(0, Math.min(width, ((p.t - start) / span) * width));
    const y = height - 2 - (p.v / max) * (height - 4);
    current.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  if (current.length) lines.push(current);
  return lines.map((points) => (points.length === 1 ? [points[0], points[0]] : points).join(' '));
}

/** The number a row shows now: "1,234", "12.5" for rates per second, "–" when unknown, "down". */
function rowNumber(row) {
  if (row.state === 'down') return 'down';
  if (row.value === null || row.value === undefined) return '–';
  const digits = row.unit.endsWith('/s') ? 1 : 0;
  return Number(row.value).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A row's unit for its value: "1 line", "2 lines" ("docs/s" and "/min" stay as they are). */
function rowUnit(row) {
  return row.value === 1 && /^[a-z]+s$/.test(row.unit) ? row.unit.slice(0, -1) : row.unit;
}

/** The panel's caption: how old the last sample is and which engines the collector found down. */
function panelCaption(panel) {
  if (!panel || panel.at === null) {
    return 'No samples yet: the pipeline collector starts with the dashboard (python -m stage4.pipeline).';
  }
  const age = Math.round(panel.ageMs / 1000);
  const down = panel.enginesDown.length ? ` Not answering: ${panel.enginesDown.join(', ')}.` : ' Every engine answers.';
  const stale = age > 30 ? ' The collector has stopped sampling?' : '';
  return `Sampled ${age} s ago.${down}${stale} Red: a lag that grew at each of the last 3 samples.`;
}

if (typeof module === 'object' && module.exports) module.exports = { sparkLines, rowNumber, rowUnit, panelCaption };
