/*
 * Stage 4 dashboard page: draws what server.js pushes.
 *
 * server.js sends two kinds of Server-Sent Events on /events:
 *   "snapshot"  every refresh: totals, engine status and one array per chart
 *   "notice"    each message from the Redis channel `offers` (SMS offers queued / sent,
 *               model rounds)
 * Charts are c3.js (on d3 v5); the map is d3-geo with the us-atlas states file.
 * The text of a feed line comes from feed.js (describeNotice), the Model card's from
 * model.js (describeModel), the Pipeline panel's from pipeline.js, all loaded before this file.
 * Each chart is created on the first data and then updated with chart.load(),
 * which animates the change instead of redrawing.
 */
'use strict';

const COLORS = { mobile: '#1f6feb', pc: '#f59e0b', female: '#d946ef', male: '#0ea5e9' };
const NAMES = { mobile: 'Mobile', pc: 'PC' };
const charts = {};
const fmt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
const shorten = (text, max = 30) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

// ---- charts -------------------------------------------------------------
function updateTimeline(timeline) {
  const columns = [
    ['x', ...timeline.map((p) => p.t)],
    ['mobile', ...timeline.map((p) => p.mobile)],
    ['pc', ...timeline.map((p) => p.pc)],
  ];
  if (charts.timeline) return charts.timeline.load({ columns });
  charts.timeline = c3.generate({
    bindto: '#chart-timeline',
    data: {
      x: 'x', columns, names: NAMES, colors: COLORS,
      types: { mobile: 'area', pc: 'area' },   // straight segments: a spline would overshoot below 0
      groups: [['mobile', 'pc']],          // stacked: the top edge is all plays
    },
    axis: {
      x: { type: 'timeseries', tick: { format: '%H:%M', culling: { max: 6 } } },
      y: { min: 0, padding: { bottom: 0 }, tick: { format: d3.format('d') } },
    },
    point: { show: false },
    legend: { position: 'bottom' },
  });
}

/** A donut from {key: count}; keys that disappear are unloaded. */
function updateDonut(name, counts) {
  const columns = Object.entries(counts).map(([key, count]) => [key, count]);
  const chart = charts[name];
  if (chart) {
    const gone = chart.data().map((d) => d.id).filter((id) => !(id in counts));
    return chart.load({ columns, unload: gone });
  }
  charts[name] = c3.generate({
    bindto: `#chart-${name}`,
    data: { columns, type: 'donut', names: NAMES, colors: COLORS, empty: { label: { text: 'no data yet' } } },
    donut: { label: { format: (value, ratio) => d3.format('.0%')(ratio) } },
    legend: { position: 'right' },
  });
}

/** Bars from [{key, count}]; `rotated` puts categories on the left (for long titles). */
function updateBars(name, buckets, { rotated = false, color = '#1f6feb' } = {}) {
  const columns = [['x', ...buckets.map((b) => shorten(b.key))], ['plays', ...buckets.map((b) => b.count)]];
  if (charts[name]) return charts[name].load({ columns });
  charts[name] = c3.generate({
    bindto: `#chart-${name}`,
    data: { x: 'x', columns, type: 'bar', colors: { plays: color }, empty: { label: { text: 'no data yet' } } },
    axis: { rotated, x: { type: 'category', tick: { multiline: false } }, y: { tick: { format: d3.format('d') } } },
    bar: { width: { ratio: 0.7 } },
    legend: { show: false },
  });
}

/** Spark's and Elasticsearch's count of the same 30-minute window, per level, side by side. */
function updateWindow(w) {
  const columns = [
    ['x', ...w.rows.map((r) => r.key)],
    ['spark', ...w.rows.map((r) => r.spark)],          // null (no bar) when there is no stats index
    ['elasticsearch', ...w.rows.map((r) => r.elasticsearch)],
  ];
  setText('window-caption', w.rows.every((r) => r.spark === null)
    ? "Spark's windowed counts appear once the stage-2/3 job has run its stats query."
    : `Plays from ${localTime(w.start)} to ${localTime(w.end)}. Spark's side updates every 30 s, so it may trail by a few plays.`);
  if (charts.window) return charts.window.load({ columns });
  charts.window = c3.generate({
    bindto: '#chart-window',
    data: {
      x: 'x', columns, type: 'bar', labels: true,      // the numbers on top of the bars
      names: { spark: 'Spark (ba_stats)', elasticsearch: 'Elasticsearch' },
      colors: { spark: '#e25a1c', elasticsearch: '#00a9a5' },
    },
    axis: { x: { type: 'category' }, y: { tick: { format: d3.format('d') } } },
    legend: { position: 'bottom' },
  });
}

/** One small bar chart per gender of its 10 most played titles (a chart is added for a new gender). */
function updateGenderTracks(byGender) {
  for (const { gender, tracks } of byGender) {
    const name = `tracks-${gender.replace(/\W/g, '_')}`;
    if (!document.getElementById(`chart-${name}`)) {
      const title = document.createElement('h3');
      title.textContent = gender;
      const chart = document.createElement('div');
      chart.className = 'chart';
      chart.id = `chart-${name}`;
      const box = document.createElement('div');
      box.append(title, chart);
      document.getElementById('gender-tracks').append(box);
    }
    updateBars(name, tracks, { rotated: true, color: COLORS[gender] });
  }
}

// ---- map ------------------------------------------------------------------
const map = { paths: null, pending: null };

async function drawMap() {
  const us = await d3.json('/vendor/us-atlas/states-10m.json');
  // The standard Albers USA layout for a 975 x 610 canvas (Alaska and Hawaii inset).
  const path = d3.geoPath(d3.geoAlbersUsa().scale(1300).translate([487.5, 305]));
  const states = topojson.feature(us, us.objects.states).features.filter((f) => path(f));
  const svg = d3.select('#map').append('svg')
    .attr('viewBox', '0 0 975 610').attr('role', 'img').attr('aria-label', 'Plays per US state');
  map.paths = svg.selectAll('path').data(states).enter().append('path')
    .attr('class', 'state').attr('d', path).attr('data-fips', (f) => f.id);
  map.paths.append('title');
  if (map.pending) updateMap(map.pending);
}

function updateMap(states) {
  if (!map.paths) { map.pending = states; return; }
  const byFips = new Map(states.map((s) => [s.fips, s]));
  const max = d3.max(states, (s) => s.count) || 1;
  // Start the scale below zero so that a state with a single play is still visibly blue.
  const color = d3.scaleSequential(d3.interpolateBlues).domain([-max * 0.2, max]);
  map.paths
    .attr('data-plays', (f) => (byFips.get(f.id) || { count: 0 }).count)
    .attr('fill', (f) => (byFips.has(f.id) ? color(byFips.get(f.id).count) : '#e5e7eb'))
    .select('title').text((f) => `${f.properties.name}: ${fmt((byFips.get(f.id) || { count: 0 }).count)} plays`);
  const top = states[0];
  document.getElementById('map-legend').textContent = top
    ? `Darker is more plays. Most: ${top.name} (${fmt(top.count)}); ${states.length} states with plays.`
    : 'No plays with a US state yet.';
}

// ---- header, status, feed ---------------------------------------------------
function setText(id, text) { document.getElementById(id).textContent = text; }
// "2024-05-01 09:40:00" (UTC, as Spark writes it) -> "11:40" in the browser's time zone, like the timeline
const localTime = (utc) => new Date(`${utc.replace(' ', 'T')}Z`).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });

function setPill(id, state, label) {
  const pill = document.getElementById(id);
  pill.className = `pill ${state}`;
  pill.textContent = state === 'up' ? `${label} ✓` : `waiting for ${label}`;
}

function showNotice(text) {
  const notice = document.getElementById('notice');
  notice.hidden = !text;
  notice.textContent = text || '';
}

function addNotice(n) {
  const feed = document.getElementById('feed');
  const empty = feed.querySelector('.empty');
  if (empty) empty.remove();
  const d = describeNotice(n);          // feed.js: customer 0 and track 0 are ids like any other
  const li = document.createElement('li');
  const kind = document.createElement('span');
  kind.className = `kind ${d.kind}`;
  kind.textContent = d.label;
  const when = document.createElement('time');
  when.textContent = d.at ? d.at.toLocaleTimeString('en-GB') : '';
  if (n.type === 'model_round') {       // a retraining round: its verdict, error and reason
    li.className = d.kind;
    li.append(kind, d.text, when);
  } else {
    const who = document.createElement('b');
    who.textContent = d.who;
    li.append(kind, who, ` (${d.level}) after “${d.track}”`, when);
  }
  feed.prepend(li);
  while (feed.children.length > 30) feed.lastChild.remove();
}

/** The Model card from stage 3's status hash; null (Redis down) keeps what it shows. */
function renderModel(status) {
  if (!status) return;
  const m = describeModel(status);      // model.js
  const card = document.getElementById('model');
  card.classList.toggle('empty', !status.current_version);
  setText('model-version', m.version);
  setText('model-error', m.error);
  setText('model-detail', m.detail);
  document.getElementById('model-round').hidden = !m.round;
  if (m.round) {
    const verdict = document.getElementById('model-verdict');
    verdict.className = `verdict ${m.round.verdict}`;
    verdict.textContent = m.round.verdict;
    setText('model-round-text', m.round.text);
  }
  setText('model-reason', m.round ? m.round.reason : '');
  setText('model-labels', m.labels);
}

/** The Pipeline panel: one row per hop (pipeline.js); null (Redis down) keeps what it shows. */
function renderPipeline(panel) {
  if (!panel) return;
  const box = document.getElementById('pipeline-rows');
  const SVG = 'http://www.w3.org/2000/svg';
  const rows = panel.rows.map((row) => {
    const div = document.createElement('div');
    div.className = `pipe-row ${row.state}${row.growing ? ' growing' : ''}`;
    div.dataset.key = row.key;
    const cell = (cls, text) => {
      const el = document.createElement('span');
      el.className = cls;
      el.textContent = text;
      return el;
    };
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 160 28');
    svg.setAttribute('preserveAspectRatio', 'none');
    for (const points of sparkLines(row.series, panel.at, 10 * 60 * 1000)) {
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', points);
      svg.append(line);
    }
    div.append(cell('hop', row.hop), cell('what', row.what),
      cell('now', `${rowNumber(row)}${row.state === 'ok' ? ` ${rowUnit(row)}` : ''}`), svg, cell('detail', row.detail));
    return div;
  });
  box.replaceChildren(...rows);
  setText('pipeline-caption', panelCaption(panel));
}

function render(s) {
  const { status = {}, totals = {} } = s;
  renderModel(s.model);                 // from Redis: shown even while Elasticsearch is down
  renderPipeline(s.pipeline);           // from Redis too: it shows an Elasticsearch that is down
  setPill('status-es', status.elasticsearch, 'Elasticsearch');
  setPill('status-redis', status.redis, 'Redis');
  setText('total-events', fmt(totals.events));
  setText('total-listeners', fmt(totals.listeners));
  setText('total-interest', fmt(totals.interestLists));
  setText('total-sms', fmt(totals.smsSent));
  setText('status-index', s.index ? `index ${s.index}` : '');
  if (status.elasticsearch !== 'up') {
    // Keep the charts as they are: the last numbers are better than a blank page.
    showNotice('Waiting for Elasticsearch… the charts show the last numbers received.');
    return;
  }
  if (!s.index) {
    showNotice('Elasticsearch is up but no event index exists yet: run make stage1 (or stage2, stage3).');
    return;
  }
  showNotice(status.redis === 'up' ? '' : 'Waiting for Redis… the offers feed, SMS count and model status resume when it is back.');
  updateTimeline(s.timeline);
  updateDonut('device', s.device);
  updateDonut('gender', Object.fromEntries(s.gender.map((g) => [g.key, g.count])));
  updateBars('age', s.ageBands);
  updateBars('level', s.levels, { color: '#8b5cf6' });
  updateBars('tracks', s.topTracks, { rotated: true, color: '#10b981' });
  updateBars('artists', s.topArtists, { rotated: true, color: '#f97316' });
  updateWindow(s.windowStats);
  updateGenderTracks(s.topTracksByGender);
  updateMap(s.states);
}

// ---- the live connection ------------------------------------------------------
drawMap().catch((err) => showNotice(`Could not load the US map: ${err.message}`));
const source = new EventSource('/events');
source.addEventListener('snapshot', (e) => render(JSON.parse(e.data)));
source.addEventListener('notice', (e) => addNotice(JSON.parse(e.data)));
// EventSource reconnects by itself (every 2 s, the server's `retry:`).
source.onerror = () => showNotice('Lost the connection to the dashboard server; reconnecting…');
source.onopen = () => showNotice('');
