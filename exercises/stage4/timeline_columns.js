/**
 * Exercise 4.2 (10 minutes): the plays-per-minute chart's c3 columns.
 *
 * The top chart of the page stacks mobile and PC plays per minute. c3.js draws from
 * "columns": one array per series, its name first, and with data: { x: 'x' } one array
 * named 'x' for the x axis:
 *
 *   [['x', 1764324420000, 1764324480000, ...],     // each minute's start, epoch ms
 *    ['mobile', 9, 11, ...],
 *    ['pc', 5, 4, ...]]
 *
 * Given: `response`, Elasticsearch's answer to the dashboard's own search
 * (buildDashboardSearch in 03.stage4/lib/queries.js: read it). The part you need:
 *
 *   response.aggregations.recent.per_minute.buckets = [
 *     { key: 1764324420000, key_as_string: '...', doc_count: 14, mobile: { doc_count: 9 } }, ...]
 *
 * one bucket per minute, oldest first, minutes without plays included (doc_count 0);
 * `mobile` is a filter (ismobile: 1) inside each minute.
 *
 * To do: timelineColumns(response) returns the three columns above: x, mobile and pc for
 * every minute. Elasticsearch counted all plays and the phone ones; PC is the rest.
 *
 * Check:        make check-stage4 EX=4.2
 * Try it live:  node exercises/stage4/timeline_columns.js     (from the repository root)
 *
 * 한국어
 * ------
 * 과제 4.2 (10분): 분당 재생 차트의 c3 columns.
 * 페이지 맨 위 차트는 분마다 휴대폰과 PC 재생을 쌓아 그립니다. c3.js는 "columns"(series마다 이름이
 * 맨 앞인 배열 하나, 그리고 x축용 'x' 배열)로 그립니다.
 * 주어진 것: 대시보드 자신의 검색(03.stage4/lib/queries.js의 buildDashboardSearch)에 대한 응답.
 * response.aggregations.recent.per_minute.buckets는 분마다 bucket 하나(오래된 것부터, 재생 없는 분 포함)이고,
 * 각 bucket 안의 `mobile`은 ismobile: 1 filter입니다.
 * 할 일: timelineColumns(response)가 모든 분에 대해 x, mobile, pc 세 column을 돌려줍니다. PC = 전체 - mobile.
 */
'use strict';

function timelineColumns(response) {
  // const buckets = response.aggregations.recent.per_minute.buckets;
  // return [['x', ...buckets.map((b) => ...)], ['mobile', ...], ['pc', ...]];
  throw new Error('not implemented: build the columns from the buckets');
}

module.exports = { timelineColumns };

if (require.main === module) {        // try it on your own index (node exercises/stage4/timeline_columns.js)
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
