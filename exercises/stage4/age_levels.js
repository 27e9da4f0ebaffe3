/**
 * Exercise 4.3 (20 minutes): add a chart of your own, plays by age band and level.
 *
 * "Add a chart" in 03.stage4/README.md: an aggregation in the search, and a transform of its
 * answer into what the chart draws. Here the question is "who pays, by age?": bars with one
 * group per age band and one bar (or stack) per subscription level, drawn by c3 from
 *
 *   [['x', '18-24', '25-34', ..., '65+'],     // the age bands with plays, youngest first
 *    ['Free', 910, 676, ...],                 // one value per band, in the order of x
 *    ['Silver', 596, 272, ...],
 *    ['Gold', 359, 186, ...]]
 *
 * Given: the enriched index (stage 2: ba_realtime2, or 3) has the keywords `age_band`
 * ('<18', '18-24', ..., '65+') and `level` ('Free', 'Silver', 'Gold').
 *
 * To do:
 *   1. ageLevelsSearch(): the body, { size: 0, aggs: {...} }: a terms aggregation on
 *      age_band with a terms aggregation on level inside it.
 *   2. ageLevelsColumns(response): the columns above. Mind three things:
 *        - x: the bands by their lowest age ('<18' first, '65+' last), not as the buckets
 *          come (busiest first);
 *        - the series Free, Silver, Gold, always all three, in that order;
 *        - a band where a level has no play has no bucket for it: 0 there, so that every
 *          value stays under its band.
 *
 * Check:        make check-stage4 EX=4.3
 * Try it live:  node exercises/stage4/age_levels.js     (from the repository root, after make stage2)
 *
 * 한국어
 * ------
 * 과제 4.3 (20분): 나만의 차트 추가하기, 나이대와 등급별 재생.
 * 03.stage4/README.ko.md의 "차트 추가하기": 검색의 aggregation 하나와, 그 답을 차트가 그리는 형태로 바꾸는
 * 변환 하나입니다. 질문은 "나이대별로 누가 돈을 낼까?"입니다.
 * 할 일:
 *   1. ageLevelsSearch(): age_band의 terms aggregation 안에 level의 terms aggregation을 둔 { size: 0, aggs }.
 *   2. ageLevelsColumns(response): 위의 columns. x는 bucket이 온 순서가 아니라 가장 낮은 나이 순('<18'이
 *      처음, '65+'가 마지막), series는 늘 Free, Silver, Gold 세 개를 이 순서로, 어떤 등급의 재생이 없는
 *      나이대에는 0을 넣어 모든 값이 자기 나이대 아래에 있게 합니다.
 */
'use strict';

const LEVELS = ['Free', 'Silver', 'Gold'];

function ageLevelsSearch() {
  // return { size: 0, aggs: { age_band: { terms: {...}, aggs: { level: { terms: {...} } } } } };
  throw new Error('not implemented: write the search body');
}

function ageLevelsColumns(response) {
  // the band buckets sorted by age; for each level, the count in each band (0 when absent)
  throw new Error('not implemented: build the columns from the buckets');
}

module.exports = { ageLevelsSearch, ageLevelsColumns };

if (require.main === module) {        // try it on your own index (node exercises/stage4/age_levels.js)
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
