/**
 * Exercise 4.1 (warm-up, 5 minutes): plays of the last minutes, per device.
 *
 * The dashboard never downloads plays: it sends Elasticsearch a search body with
 * aggregations and draws the counts that come back (03.stage4/lib/queries.js). Write one
 * such pair yourself: how many plays in the last `minutes` minutes, on a phone and on a PC?
 *
 * Given: the event index (ba_realtime, ba_realtime2, ...) has `datetime` (the play's time,
 * "YYYY-MM-DD HH:MM:SS", UTC) and `ismobile` (1 on a phone, 0 on a PC).
 *
 * To do:
 *   1. recentDevicesSearch({ now, minutes }): the search body, an object
 *      { size: 0, query: {...}, aggs: {...} }:
 *        - only the plays with datetime from now - minutes to now, both ends included;
 *          `now` is a number, epoch milliseconds, like Date.now() (a range query, as in
 *          windowLevelsAgg of lib/queries.js);
 *        - a terms aggregation on ismobile.
 *   2. recentDevices(response): { mobile, pc }, the two counts read from Elasticsearch's
 *      answer (response.aggregations.<your name>.buckets: [{ key: 1, doc_count: 312 }, ...]).
 *      A device without plays has no bucket: its count is 0.
 *
 * Check:        make check-stage4 EX=4.1
 * Try it live:  node exercises/stage4/recent_devices.js     (from the repository root)
 *
 * 한국어
 * ------
 * 과제 4.1 (워밍업, 5분): 최근 몇 분간의 기기별 재생 수.
 * 대시보드는 재생을 내려받지 않고, aggregation을 담은 검색 본문을 보내 돌아온 수를 그립니다
 * (03.stage4/lib/queries.js). 그런 한 쌍을 직접 작성하세요.
 * 할 일:
 *   1. recentDevicesSearch({ now, minutes }): now - minutes부터 now까지(양 끝 포함)의 재생만 고르는
 *      range query와 ismobile의 terms aggregation을 담은 { size: 0, query, aggs }. now는 epoch 밀리초입니다.
 *   2. recentDevices(response): 응답에서 읽은 { mobile, pc }. 재생이 없는 기기는 bucket이 없으니 0입니다.
 */
'use strict';

function recentDevicesSearch({ now, minutes }) {
  // return { size: 0, query: { range: { datetime: { gte: ..., lte: ..., format: 'epoch_millis' } } }, aggs: {...} };
  throw new Error('not implemented: write the search body');
}

function recentDevices(response) {
  // start from { mobile: 0, pc: 0 }, then one bucket per device that has plays
  throw new Error('not implemented: read { mobile, pc } from the response');
}

module.exports = { recentDevicesSearch, recentDevices };

if (require.main === module) {        // try it on your own index (node exercises/stage4/recent_devices.js)
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
