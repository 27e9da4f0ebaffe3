"""Stage-4 checkers: the dashboard's queries and charts in JavaScript, and its live stream
(exercises/stage4/README.md).

The answers are JavaScript files (exercises/stage4/*.js, CommonJS, functions exported with
``module.exports``). The checker runs them with ``node``: one short Node process loads the
learner's file, calls its functions with JSON arguments and prints their JSON results
(``_RUNNER`` below; the stage's own ``03.stage4/lib/queries.js`` is run the same way). A function
that still throws ``new Error('not implemented ...')`` becomes ``NotImplementedError``, so the
runner prints the exercise's first step.

Searches run in Python against the real Elasticsearch, on indices of the checker's own with a
random name, filled with the enriched sample plays (data/sample, parsed and enriched with the
project's own code: parse_event, customer_hash, enrich_event), and deleted afterwards. The
expected figures are counted here from those documents (pandas or plain Python), never typed in.
The SSE exercises are checked with a parser of the event-stream format written from the
WHATWG specification (``parse_event_stream``): what a browser's EventSource would dispatch.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from uuid import uuid4

import pandas as pd

from common.config import REPO_ROOT, get_settings
from exercises.checking import Exercise, Text, Wrong, where_ko

SAMPLE = REPO_ROOT / "data" / "sample"
QUERIES_JS = REPO_ROOT / "03.stage4" / "lib" / "queries.js"
MINUTE = 60_000
TIME = "%Y-%m-%d %H:%M:%S"
NODE_TIMEOUT_S = 20

# --- running the learner's JavaScript ---------------------------------------------------------
# Reads {file, calls} on stdin; prints MARK + {"load": error} or {"results": [...]},
# one result per call: {"value": v} | {"undefined": true} | {"error": {name, message, line}} |
# {"missing": name}. The learner's console.log output may come before the mark: it is skipped.
_MARK = "\u0001ex-result\u0001"
_RUNNER = r"""
'use strict';
const MARK = '\u0001ex-result\u0001';
const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));

function lineIn(err, file) {
  const stack = String((err && err.stack) || '');
  const at = stack.indexOf(`${file}:`);
  const m = at < 0 ? null : /^:(\d+)/.exec(stack.slice(at + file.length));
  return m ? Number(m[1]) : null;
}

function errorOf(err, file) {
  if (err !== null && typeof err === 'object' && 'message' in err) {
    return { name: String(err.name || 'Error'), message: String(err.message), line: lineIn(err, file) };
  }
  return { name: 'a thrown value', message: String(err), line: null };
}

async function main() {
  const loaded = {};
  try {
    loaded.learner = require(input.file);
  } catch (err) {
    return { load: errorOf(err, input.file) };
  }
  const results = [];
  for (const { fn, args = [] } of input.calls) {
    const f = loaded.learner[fn];
    if (typeof f !== 'function') {
      results.push({ missing: fn });
      continue;
    }
    try {
      let value = f(...args);
      if (value && typeof value.then === 'function') value = await value;
      if (value === undefined) {
        results.push({ undefined: true });
        continue;
      }
      JSON.stringify(value);           // throws for a BigInt or a cycle
      results.push({ value });
    } catch (err) {
      results.push({ error: errorOf(err, input.file) });
    }
  }
  return { results };
}

main().then((out) => process.stdout.write(`\n${MARK}${JSON.stringify(out)}\n`, () => process.exit(0)));
"""


class Call:
    """One call of a function of the file, with JSON arguments (none given: undefined)."""

    def __init__(self, fn: str, *args, may_throw: bool = False, shown: str = ""):
        self.fn, self.args, self.may_throw = fn, list(args), may_throw
        self.shown = shown or f"{fn}(...)"


def _node() -> str:
    node = shutil.which("node")
    if not node:
        raise Wrong("Node.js is not installed (no node on PATH): run make setup, or install Node.js 20+",
                    "Node.js가 설치돼 있지 않습니다(PATH에 node 없음). make setup을 실행하거나 Node.js 20 이상을 "
                    "설치하세요")
    return node


def run_js(path: Path, calls: list[Call], learner: bool = True) -> list[dict]:
    """Run ``calls`` in one Node process; returns one result per call: {"value": ...}, or
    {"error": {...}} for a call made with may_throw. Raises NotImplementedError for an
    untouched function, Wrong for a file that does not load, a function that is not exported,
    returns undefined, or throws (unless may_throw). ``learner=False``: the stage's own file,
    whose failure is a RuntimeError (the stage changed), not the learner's mistake."""
    payload = {"file": str(path), "calls": [{"fn": c.fn, "args": c.args} for c in calls]}
    try:
        proc = subprocess.run([_node(), "-e", _RUNNER], input=json.dumps(payload), capture_output=True,
                              text=True, timeout=NODE_TIMEOUT_S, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        raise Wrong(f"{path.name} did not finish within {NODE_TIMEOUT_S} s: an endless loop, or a promise that "
                    "never settles?",
                    f"{path.name}이(가) {NODE_TIMEOUT_S}초 안에 끝나지 않았습니다. 무한 루프나 끝나지 않는 "
                    "promise가 있지 않은지 보세요") from None
    if _MARK not in proc.stdout:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise Wrong(f"{path.name} stopped node before it could answer ({last}): does it call process.exit?",
                    f"{path.name}이(가) 답을 내기 전에 node를 멈췄습니다({last}). process.exit를 부르지 않나요?")
    out = json.loads(proc.stdout.rsplit(_MARK, 1)[1])
    if not learner:
        failed = out.get("load") or next((r["error"] for r in out["results"] if "error" in r), None)
        if failed or any("missing" in r or "undefined" in r for r in out["results"]):
            raise RuntimeError(f"{path}: {failed or out['results']}")
        return out["results"]
    if "load" in out:
        err = out["load"]
        line = f", line {err['line']}" if err["line"] else ""
        if err["name"] == "SyntaxError":
            raise Wrong(f"{path.name} does not load: {err['message']}{line}",
                        f"{path.name} 파일을 읽지 못했습니다: {err['message']}{where_ko(line, ', ')}")
        raise Wrong(f"{path.name} does not load: {err['name']}: {err['message']}{line}",
                    f"{path.name} 파일을 읽지 못했습니다: {err['name']}: {err['message']}"
                    f"{where_ko(line, ', ')}")
    results = []
    for call, res in zip(calls, out["results"]):
        if "missing" in res:
            raise Wrong(f"{path.name} does not export {call.fn}(): keep its name and the module.exports line "
                        "at the end of the file",
                        f"{path.name}이(가) {call.fn}()을 내보내지 않습니다. 함수 이름과 파일 끝의 "
                        "module.exports 줄을 그대로 두세요")
        if "error" in res:
            err = res["error"]
            if err["message"].startswith("not implemented"):
                raise NotImplementedError(call.fn)
            if not call.may_throw:
                where = f", line {err['line']}" if err["line"] else ""
                raise Wrong(f"your code raised {err['name']}: {err['message']} ({path.name}{where}), "
                            f"in {call.shown}",
                            f"코드에서 {err['name']} 예외가 났습니다: {err['message']} "
                            f"({path.name}{where_ko(where)}), {call.shown} 호출 중")
        if res.get("undefined"):
            raise Wrong(f"{call.shown} returned undefined: is a return missing?",
                        f"{call.shown}이(가) undefined를 돌려줬습니다. return이 빠지지 않았나요?")
        results.append(res)
    return results


def _short(value, limit: int = 90) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


# --- the checker's own indices -----------------------------------------------------------------
def _unique() -> str:
    return f"ex_{uuid4().hex[:8]}"


def _ms(text: str) -> int:
    return int(datetime.strptime(text, TIME).replace(tzinfo=timezone.utc).timestamp() * 1000)


def _text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime(TIME)


def _hhmm(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%H:%M:%S UTC")


@lru_cache(maxsize=1)
def _enriched_sample() -> tuple[dict, ...]:
    """The 6,000 sample plays as stage 2 indexes them: parse_event + customer hash + catalog row."""
    from common.events import parse_event
    from common.readers import iter_customers, iter_event_lines, read_catalog
    from stage2.enrich import enrich_event
    from stage2.import_customers import customer_hash

    customers = {c.cust_id: customer_hash(c) for _, c, _ in iter_customers(SAMPLE / "cust.csv") if c}
    catalog = read_catalog(SAMPLE / "music.csv")
    events = [parse_event(line) for line in iter_event_lines(SAMPLE / "tracks.csv")]
    return tuple(enrich_event(e, customers.get(e["customer_id"]), catalog.get(e["track_id"])) for e in events)


def _live_docs(anchor_ms: int, span_minutes: int, speed: int = 24) -> list[dict]:
    """The sample's latest plays replayed ``speed`` times faster, the last one at ``anchor_ms``,
    as far back as ``span_minutes`` (about 14 plays a minute, 60% on a phone)."""
    docs = _enriched_sample()
    last = _ms(docs[-1]["datetime"])
    out = []
    for doc in reversed(docs):
        back = (last - _ms(doc["datetime"])) // speed
        if back > span_minutes * MINUTE:
            break
        at = (anchor_ms - back) // 1000 * 1000
        out.append({**doc, "datetime": _text(at), "hour": datetime.fromtimestamp(at / 1000, timezone.utc).hour})
    return out


def _es():
    from common.clients import es_client

    return es_client(get_settings())


def _index(es, name: str, docs: list[dict]) -> None:
    """A stage-2 index (the stage's own mappings, one shard: exact aggregations) holding ``docs``."""
    from elasticsearch import helpers

    from common.schema import STAGE2_DOC_FIELDS, es_mappings

    es.indices.create(index=name, mappings=es_mappings(STAGE2_DOC_FIELDS),
                      settings={"number_of_shards": 1, "number_of_replicas": 0})
    helpers.bulk(es, ({"_index": name, "_id": str(d["event_id"]), "_source": d} for d in docs), chunk_size=2000)
    es.indices.refresh(index=name)


def _search(es, index: str, body, shown: str) -> dict:
    """Elasticsearch's answer to the learner's body; its refusal, in one sentence."""
    from elasticsearch import ApiError

    if not isinstance(body, dict):
        raise Wrong(f"{shown} returned {_short(body, 40)}; return the search body, an object like "
                    "{ size: 0, aggs: {...} }",
                    f"{shown}이(가) {_short(body, 40)}을(를) 돌려줬습니다. {{ size: 0, aggs: {{...}} }} 같은 "
                    "검색 본문 객체를 돌려주세요")
    if body.get("size") != 0:
        raise Wrong(f"{shown} asks for {body.get('size', 'the default 10')} documents: the chart needs only the "
                    "aggregation's counts, so set size: 0",
                    f"{shown}이(가) 문서를 {body.get('size', '기본값 10')}건 요청합니다. 차트에는 집계 결과만 "
                    "필요하니 size: 0으로 두세요")
    try:
        return es.search(index=index, body=body).body
    except ApiError as exc:
        reason = _es_reason(exc)
        raise Wrong(f"Elasticsearch refused the body of {shown}: {reason}",
                    f"Elasticsearch가 {shown}의 본문을 거부했습니다: {reason}") from None


def _es_reason(exc) -> str:
    try:
        error = exc.body["error"]
        cause = (error.get("root_cause") or [error])[0]
        return f"{cause.get('type')}: {cause.get('reason')}"[:200]
    except (TypeError, KeyError, AttributeError):
        return str(exc)[:200]


def _drop(es, *names: str) -> None:
    for name in names:
        es.options(ignore_status=404).indices.delete(index=name)


# --- 4.1 plays in the last N minutes, per device ---------------------------------------------
def _device_counts(docs: list[dict], start: int, end: int, *, gte: bool = True, lte: bool = True) -> dict:
    counts = {"mobile": 0, "pc": 0}
    for d in docs:
        t = _ms(d["datetime"])
        if (t >= start if gte else t > start) and (t <= end if lte else t < end):
            counts["mobile" if d["ismobile"] == 1 else "pc"] += 1
    return counts


def _as_devices(got, shown: str) -> dict:
    if not isinstance(got, dict) or set(got) != {"mobile", "pc"} \
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in got.values()):
        raise Wrong(f"{shown} returned {_short(got, 60)}; return {{ mobile, pc }}, two numbers "
                    "(0 when the window has no play on that device)",
                    f"{shown}이(가) {_short(got, 60)}을(를) 돌려줬습니다. 숫자 두 개 {{ mobile, pc }}를 "
                    "돌려주세요(그 기기의 재생이 없으면 0)")
    return got


def check_recent_devices(path: Path) -> None:
    anchor = int(time.time()) * 1000                      # the real clock, on a whole second
    now = anchor - 7 * MINUTE                             # "now" as the page asks: 7 minutes ago
    windows = [(now, 15), (now - 20 * MINUTE, 5), (anchor - 3 * 60 * MINUTE, 10)]   # the last: no plays
    shown = [f"recentDevicesSearch({{ now: {n}, minutes: {m} }})" for n, m in windows]
    bodies = run_js(path, [Call("recentDevicesSearch", {"now": n, "minutes": m}, shown=s)
                           for (n, m), s in zip(windows, shown)])
    es = _es()
    index = f"{_unique()}_recent"
    docs = _live_docs(anchor, 70)
    # four plays on the edges of the first window, [now - 15 min, now], both ends included:
    # the one on its start on a phone, the one on its end on a PC (gt and lt miss different ones)
    start = now - 15 * MINUTE
    for doc, at, mobile in zip(docs[5:9], (start - 1000, start, now, now + 1000), (0, 1, 0, 1)):
        doc["datetime"], doc["ismobile"] = _text(at), mobile
    try:
        _index(es, index, docs)
        responses = [_search(es, index, b["value"], s) for b, s in zip(bodies, shown)]
        parsed = run_js(path, [Call("recentDevices", r, shown=f"recentDevices(<the answer to {s}>)")
                               for r, s in zip(responses, shown)])
    finally:
        _drop(es, index)
    for (n, m), body, res, s in zip(windows, bodies, parsed, shown):
        got = _as_devices(res["value"], f"recentDevices(<the answer to {s}>)")
        start = n - m * MINUTE
        want = _device_counts(docs, start, n)
        if got == want:
            continue
        when = f"from {_hhmm(start)} to {_hhmm(n)}"
        when_ko = f"{_hhmm(start)}부터 {_hhmm(n)}까지"
        lead = (f"for {s} you counted {got['mobile']} mobile and {got['pc']} PC plays, but {when} there are "
                f"{want['mobile']} and {want['pc']}")
        lead_ko = (f"{s}에 대해 모바일 {got['mobile']}건, PC {got['pc']}건을 셌지만 {when_ko} 재생은 "
                   f"모바일 {want['mobile']}건, PC {want['pc']}건입니다")
        if not any(want.values()):
            raise Wrong(f"{lead}: a window without plays has no buckets at all, so start from 0 for both",
                        f"{lead_ko}. 재생이 없는 구간에는 bucket이 아예 없으니 둘 다 0에서 시작하세요")
        if got == {"mobile": want["pc"], "pc": want["mobile"]}:
            raise Wrong(f"{lead}: mobile and PC are swapped (ismobile is 1 on a phone, 0 on a PC)",
                        f"{lead_ko}. 모바일과 PC가 뒤바뀌었습니다(ismobile은 휴대폰에서 1, PC에서 0)")
        if "now-" in json.dumps(body["value"]).replace(" ", "").lower() or got == _device_counts(docs, start, anchor):
            raise Wrong(f"{lead}: the range must end at the now argument, not run on to the real clock or "
                        "follow Elasticsearch's own ('now-15m'): gte: now - minutes * 60000, lte: now",
                        f"{lead_ko}. range는 now 인자에서 끝나야 합니다. 실제 시각까지 이어지거나 Elasticsearch의 "
                        "시계('now-15m')를 따르면 안 됩니다: gte: now - minutes * 60000, lte: now")
        if got == _device_counts(docs, start, n, gte=False):
            raise Wrong(f"{lead}: the play at exactly now - {m} min ({_hhmm(start)}) counts too: use gte, not gt",
                        f"{lead_ko}. 정확히 now - {m}분({_hhmm(start)})의 재생도 셉니다. gt가 아니라 gte를 쓰세요")
        if got == _device_counts(docs, start, n, lte=False):
            raise Wrong(f"{lead}: the play at exactly now ({_hhmm(n)}) counts too: use lte, not lt",
                        f"{lead_ko}. 정확히 now({_hhmm(n)})의 재생도 셉니다. lt가 아니라 lte를 쓰세요")
        if got == _device_counts(docs, 0, anchor):
            raise Wrong(f"{lead}: that is the whole index; add a range on datetime from now - minutes to now",
                        f"{lead_ko}. index 전체를 센 값입니다. datetime에 now - minutes부터 now까지 range를 "
                        "거세요")
        raise Wrong(f"{lead}: the range is on datetime, in epoch milliseconds (format: 'epoch_millis'), "
                    "from now - minutes * 60000 to now",
                    f"{lead_ko}. range는 datetime 필드에, epoch 밀리초(format: 'epoch_millis')로, "
                    "now - minutes * 60000부터 now까지 거세요")


# --- 4.2 the timeline as c3 columns ------------------------------------------------------------
_PROBE_RESPONSE = {"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []},
                   "aggregations": {"recent": {"doc_count": 0, "per_minute": {"buckets": []}}}}


def _timeline_oracle(docs: list[dict], now: int, minutes: int) -> tuple[list[int], list[int], list[int]]:
    end = now // MINUTE * MINUTE
    keys = [end - (minutes - 1 - i) * MINUTE for i in range(minutes)]
    slot = {k: i for i, k in enumerate(keys)}
    mobile, pc = [0] * minutes, [0] * minutes
    for d in docs:
        i = slot.get(_ms(d["datetime"]) // MINUTE * MINUTE)
        if i is not None:
            (mobile if d["ismobile"] == 1 else pc)[i] += 1
    return keys, mobile, pc


def _columns_by_name(got, names: list[str], shown: str, example: str) -> dict[str, list]:
    ok = isinstance(got, list) and all(isinstance(c, list) and c and isinstance(c[0], str) for c in got)
    if not ok or sorted(c[0] for c in got) != sorted(names):
        heads = [c[0] if isinstance(c, list) and c else c for c in got] if isinstance(got, list) else got
        raise Wrong(f"{shown} returned columns named {_short(heads, 60)}; c3 wants {example}: one array per "
                    "series, its name first",
                    f"{shown}이(가) 돌려준 열 이름은 {_short(heads, 60)}입니다. c3에는 {example}처럼 "
                    "시리즈마다 배열 하나, 맨 앞에 이름이 필요합니다")
    return {c[0]: c[1:] for c in got}


def check_timeline_columns(path: Path) -> None:
    run_js(path, [Call("timelineColumns", _PROBE_RESPONSE, may_throw=True)])    # an untouched starter stops here
    now = int(time.time() * 1000)
    docs = _live_docs(now, 45)
    quiet = range(now // MINUTE * MINUTE - 13 * MINUTE, now // MINUTE * MINUTE - 10 * MINUTE)
    docs = [d for d in docs if _ms(d["datetime"]) // MINUTE * MINUTE not in quiet]   # 3 minutes without plays
    cases = [(now, 30), (now, 10)]
    bodies = run_js(QUERIES_JS, [Call("buildDashboardSearch", {"now": n, "windowMinutes": m}) for n, m in cases],
                    learner=False)
    es = _es()
    index = f"{_unique()}_timeline"
    try:
        _index(es, index, docs)
        responses = [es.search(index=index, body=b["value"]).body for b in bodies]
    finally:
        _drop(es, index)
    shown = [f"timelineColumns(<the dashboard's answer, windowMinutes: {m}>)" for _, m in cases]
    results = run_js(path, [Call("timelineColumns", r, shown=s) for r, s in zip(responses, shown)])
    example = "[['x', ...], ['mobile', ...], ['pc', ...]]"
    for (n, m), res, s in zip(cases, results, shown):
        cols = _columns_by_name(res["value"], ["x", "mobile", "pc"], s, example)
        keys, mobile, pc = _timeline_oracle(docs, n, m)
        x = cols["x"]
        if x and all(isinstance(v, str) for v in x):
            raise Wrong(f"{s} puts texts like {x[0]!r} on x; use each bucket's key, the minute's start in epoch "
                        "milliseconds, which c3's timeseries axis reads as it is",
                        f"{s}의 x에 {x[0]!r} 같은 문자열이 들어 있습니다. 각 bucket의 key(그 분이 시작하는 epoch "
                        "밀리초)를 쓰세요. c3의 timeseries 축은 그 값을 그대로 읽습니다")
        if len(x) != m:
            raise Wrong(f"{s} gives {len(x)} minutes on x, the answer has {m}: keep the minutes without plays "
                        "(doc_count 0), or the line bridges the gap instead of dropping to 0",
                        f"{s}의 x에는 {len(x)}분이 있지만 응답에는 {m}분이 있습니다. 재생이 없는 분(doc_count 0)도 "
                        "남기세요. 빼면 그래프가 0으로 내려가지 않고 빈 구간을 건너 이어집니다")
        if x != keys:
            raise Wrong(f"{s} gives x = {_short(x[:3])}..., expected {_short(keys[:3])}...: the bucket keys, "
                        "oldest first, as the answer lists them",
                        f"{s}의 x가 {_short(x[:3])}...이지만 {_short(keys[:3])}...이어야 합니다. 응답에 나온 "
                        "순서(오래된 분부터)대로 bucket key를 쓰세요")
        for name, want in (("mobile", mobile), ("pc", pc)):
            got = cols[name]
            if got == want:
                continue
            if len(got) != len(want):
                raise Wrong(f"{s} has {len(got)} values for {name} and {len(want)} minutes on x: one value per "
                            "minute", f"{s}에서 {name} 값은 {len(got)}개인데 x의 분은 {len(want)}개입니다. 분마다 "
                            "값이 하나씩 있어야 합니다")
            i = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
            both = mobile[i] + pc[i]
            if name == "pc" and got[i] == both:
                raise Wrong(f"{s} gives pc = {got[i]} for the minute {_hhmm(keys[i])}, but {mobile[i]} of those "
                            f"{both} plays were on a phone: pc is the bucket's doc_count minus its mobile "
                            "doc_count, or the stacked chart counts them twice",
                            f"{s}에서 {_hhmm(keys[i])} 분의 pc가 {got[i]}이지만 그 {both}건 중 {mobile[i]}건은 "
                            "휴대폰에서 재생됐습니다. pc는 bucket의 doc_count에서 mobile의 doc_count를 뺀 값입니다. "
                            "그러지 않으면 누적 차트가 두 번 셉니다")
            raise Wrong(f"{s} gives {name} = {got[i]} for the minute {_hhmm(keys[i])}, the answer holds "
                        f"{want[i]} (mobile is bucket.mobile.doc_count, the filter inside each minute)",
                        f"{s}에서 {_hhmm(keys[i])} 분의 {name}이(가) {got[i]}이지만 응답에는 {want[i]}입니다"
                        "(mobile은 각 분 안의 filter, 곧 bucket.mobile.doc_count입니다)")


# --- 4.3 a chart of your own: plays by age band and level --------------------------------------
LEVEL_ORDER = ["Free", "Silver", "Gold"]


def _band_start(band: str) -> int:
    return -1 if band.startswith("<") else int(re.match(r"\d+", band).group())


def _age_level_oracle(docs) -> tuple[list[str], dict[str, list[int]]]:
    frame = pd.DataFrame({"band": [d.get("age_band") for d in docs], "level": [d.get("level") for d in docs]})
    table = pd.crosstab(frame["band"], frame["level"]).reindex(columns=LEVEL_ORDER, fill_value=0)
    bands = sorted(table.index, key=_band_start)
    return bands, {level: [int(table.at[b, level]) for b in bands] for level in LEVEL_ORDER}


def check_age_levels(path: Path) -> None:
    body = run_js(path, [Call("ageLevelsSearch", shown="ageLevelsSearch()")])[0]["value"]
    es = _es()
    docs = list(_enriched_sample())
    indices = {"all": (f"{_unique()}_ages", docs), "first 60": (f"{_unique()}_ages60", docs[:60])}
    try:
        responses = {}
        for label, (index, part) in indices.items():
            _index(es, index, part)
            responses[label] = _search(es, index, body, "ageLevelsSearch()")
    finally:
        _drop(es, *(index for index, _ in indices.values()))
    shown = {"all": f"ageLevelsColumns(<the answer on the {len(docs):,} sample plays>)",
             "first 60": "ageLevelsColumns(<the answer on the sample's first 60 plays>)"}
    results = run_js(path, [Call("ageLevelsColumns", responses[k], shown=shown[k]) for k in indices])
    example = "[['x', '18-24', ...], ['Free', ...], ['Silver', ...], ['Gold', ...]]"
    for label, res in zip(indices, results):
        s, part = shown[label], indices[label][1]
        got = res["value"]
        cols = _columns_by_name(got, ["x", *LEVEL_ORDER], s, example)
        if [c[0] for c in got] != ["x", *LEVEL_ORDER]:
            raise Wrong(f"{s} lists its columns as {[c[0] for c in got]}; give x first, then Free, Silver, Gold "
                        "(the dashboard's order of levels, which the legend and the stack follow)",
                        f"{s}의 열 순서가 {[c[0] for c in got]}입니다. x를 먼저, 이어서 Free, Silver, Gold 순서로 "
                        "주세요(대시보드의 등급 순서이며, 범례와 누적 순서가 이를 따릅니다)")
        bands, want = _age_level_oracle(part)
        if cols["x"] != bands:
            if sorted(map(str, cols["x"])) == sorted(bands):
                raise Wrong(f"{s} orders the bands {cols['x']}; order them by their lowest age, {bands} "
                            "(a terms aggregation lists its buckets busiest first)",
                            f"{s}의 연령대 순서가 {cols['x']}입니다. 가장 낮은 나이 순서 {bands}로 정렬하세요"
                            "(terms 집계는 bucket을 많은 순으로 돌려줍니다)")
            raise Wrong(f"{s} gives the bands {cols['x']}, expected {bands}: one per age_band bucket",
                        f"{s}의 연령대가 {cols['x']}이지만 {bands}여야 합니다. age_band bucket마다 하나씩입니다")
        for level in LEVEL_ORDER:
            values = cols[level]
            if values == want[level]:
                continue
            if len(values) != len(bands):
                missing = next((b for b, n in zip(bands, want[level]) if n == 0), None)
                hint = (f" ({missing} has no {level} play: its bucket is missing, so put 0 there)" if missing
                        else "")
                hint_ko = (f". {missing}에는 {level} 재생이 없어 bucket도 없으니 그 자리에 0을 넣으세요"
                           if missing else "")
                raise Wrong(f"{s} gives {len(values)} {level} values for {len(bands)} bands: one per band, in "
                            f"the order of x{hint}",
                            f"{s}에서 {level} 값은 {len(values)}개인데 연령대는 {len(bands)}개입니다. x 순서대로 "
                            f"연령대마다 하나씩이어야 합니다{hint_ko}")
            i = next(i for i, (a, b) in enumerate(zip(values, want[level])) if a != b)
            band = bands[i]
            other = next((lv for lv in LEVEL_ORDER if lv != level and want[lv][i] == values[i]), None)
            if other:
                raise Wrong(f"{s} gives {values[i]} {level} plays for {band}, which is the {other} count; there "
                            f"are {want[level][i]}: take each level by its bucket's key, not by its position "
                            "(inside a band the levels come busiest first)",
                            f"{s}에서 {band}의 {level} 재생이 {values[i]}건인데 이는 {other}의 수입니다. 실제는 "
                            f"{want[level][i]}건입니다. 등급은 위치가 아니라 bucket key로 찾으세요(연령대 안에서 "
                            "등급은 많은 순으로 나옵니다)")
            raise Wrong(f"{s} gives {values[i]} {level} plays for {band}, the index holds {want[level][i]}: "
                        "a terms on level inside a terms on age_band, doc_count of each",
                        f"{s}에서 {band}의 {level} 재생이 {values[i]}건이지만 index에는 {want[level][i]}건이 "
                        "있습니다. age_band terms 안에 level terms를 넣고 각 doc_count를 쓰세요")


# --- 4.4 one Server-Sent Events frame -------------------------------------------------------------
def parse_event_stream(text: str) -> list[tuple[str, str, str]]:
    """What an EventSource dispatches from ``text``: (type, data, lastEventId) per event.

    The WHATWG "interpret an event stream" rules: lines end with CRLF, LF or CR; a blank line
    dispatches; a field is "name: value" with one leading space removed; "data" lines join with
    LF; an event with no data line is not dispatched; the last event id carries over; an id
    holding NUL is ignored; an incomplete event at the end of the stream is dropped.
    """
    events: list[tuple[str, str, str]] = []
    data, kind, last_id = "", "", ""
    text = text[1:] if text.startswith("\ufeff") else text
    for line in re.split(r"\r\n|\r|\n", text)[:-1]:      # the last piece has no line ending yet
        if line == "":
            if data:
                events.append((kind or "message", data[:-1] if data.endswith("\n") else data, last_id))
            data, kind = "", ""
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            kind = value
        elif name == "data":
            data += value + "\n"
        elif name == "id" and "\0" not in value:
            last_id = value
    return events


def _as_data(value) -> str:
    """What the page should read as event.data for ``value`` sent by sseFrame."""
    if isinstance(value, str):
        return re.sub(r"\r\n|\r", "\n", value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _reads_as(text: str, value) -> bool:
    """Does the page get ``value`` back from event.data ``text``? A text exactly (line breaks as
    \n); anything else through JSON.parse (so JSON.stringify(data, null, 2) is right too)."""
    if isinstance(value, str):
        return text == _as_data(value)
    try:
        return json.loads(text) == value and type(json.loads(text)) is type(value)
    except ValueError:
        return False


# (event, data, id): frames that must reach the page unchanged
_FRAMES = [
    ("snapshot", {"at": "2026-11-28T10:07:02Z", "totals": {"events": 1200, "smsSent": 0}}, None),
    ("notice", {"type": "sms_offer", "customer_id": 0, "name": "Ada\nLovelace", "track_id": 0}, 17),
    (None, "plain text, no event name", None),
    ("notice", "line one\nline two", None),
    ("notice", "windows\r\nline\rold mac", None),
    ("notice", "  two leading spaces", "42"),
    ("notice", "", None),
    ("notice", "end\n", None),
    ("notice", "x\n\nevent: hacked\ndata: injected", None),
    ("tick", 0, None),
    ("tick", None, None),
    ("notice", "Beyoncé · 비욘세 🎵", None),
]
# (event, data, id): a line break in the event name or the id would start a new field
_BAD = [("snap\nshot", {"ok": True}, None), ("notice\r", "x", None), ("notice", "x", "7\n8")]


def _frame_call(event, data, event_id) -> tuple[list, str]:
    args = [event, data] if event_id is None else [event, data, event_id]
    js = ", ".join(_short(a, 40) for a in args)
    return args, f"sseFrame({js})"


def check_sse_frame(path: Path) -> None:
    calls = [Call("sseFrame", *_frame_call(*f)[0], shown=_frame_call(*f)[1]) for f in _FRAMES]
    bad = [Call("sseFrame", *_frame_call(*f)[0], may_throw=True, shown=_frame_call(*f)[1]) for f in _BAD]
    results = run_js(path, calls + bad)
    frames = []
    for (event, data, event_id), call, res in zip(_FRAMES, calls, results):
        frame = res["value"]
        s = call.shown
        if not isinstance(frame, str):
            raise Wrong(f"{s} returned {_short(frame, 50)}; return the frame as one string",
                        f"{s}이(가) {_short(frame, 50)}을(를) 돌려줬습니다. 프레임을 문자열 하나로 돌려주세요")
        frames.append(frame)
        want = (event or "message", _as_data(data), "" if event_id is None else str(event_id))
        got = parse_event_stream(frame)
        if not got:
            raise Wrong(f"the browser dispatches nothing from {s} = {_short(frame, 60)}: a frame ends with a blank "
                        "line (\\n\\n) and carries at least one data: line",
                        f"{s} = {_short(frame, 60)}에서 브라우저가 받는 이벤트가 없습니다. 프레임은 빈 줄(\\n\\n)로 "
                        "끝나고 data: 줄이 하나 이상 있어야 합니다")
        if len(got) > 1:
            raise Wrong(f"the browser reads {len(got)} events from {s} = {_short(frame, 60)}, expected one: "
                        "split the text at \\r\\n, \\r and \\n and send each line on its own data: line",
                        f"{s} = {_short(frame, 60)}에서 브라우저는 이벤트 {len(got)}개를 읽습니다. 하나여야 "
                        "합니다. 텍스트를 \\r\\n, \\r, \\n에서 나누어 줄마다 data: 줄 하나로 보내세요")
        kind, text, last_id = got[0]
        if kind != want[0]:
            raise Wrong(f"the browser reads {s} as an event of type {kind!r}, expected {want[0]!r}"
                        + (": no event: line when the event is undefined" if event is None
                           else f": start the frame with 'event: {event}'"),
                        f"브라우저는 {s}를 {kind!r} 타입 이벤트로 읽습니다. {want[0]!r}여야 합니다"
                        + (". event가 undefined면 event: 줄을 쓰지 마세요" if event is None
                           else f". 프레임을 'event: {event}'로 시작하세요"))
        if not _reads_as(text, data):
            one_space_less = "\n".join(ln[1:] if ln.startswith(" ") else ln for ln in want[1].split("\n"))
            if isinstance(data, str) and text == one_space_less:
                hint = ": put one space after 'data:' (the browser removes exactly one)"
                hint_ko = ". 'data:' 뒤에 공백을 하나 넣으세요(브라우저는 정확히 하나만 지웁니다)"
            elif not isinstance(data, str):
                hint = ": send anything that is not a string as JSON.stringify(data)"
                hint_ko = ". 문자열이 아닌 값은 JSON.stringify(data)로 보내세요"
            else:
                hint = ": one data: line per line of the text, split at \\r\\n, \\r and \\n"
                hint_ko = ". 텍스트의 줄마다 data: 줄 하나씩, \\r\\n, \\r, \\n에서 나누세요"
            raise Wrong(f"the browser's event.data for {s} is {_short(text, 50)}, expected {_short(want[1], 50)}"
                        + hint, f"{s}에 대해 브라우저의 event.data는 {_short(text, 50)}인데 "
                        f"{_short(want[1], 50)}여야 합니다" + hint_ko)
        if last_id != want[2]:
            raise Wrong(f"the browser's lastEventId after {s} is {last_id!r}, expected {want[2]!r}: "
                        + ("write an 'id: ...' line when an id is given" if event_id is not None
                           else "write no id: line when no id is given"),
                        f"{s} 다음 브라우저의 lastEventId가 {last_id!r}인데 {want[2]!r}여야 합니다. "
                        + ("id가 주어지면 'id: ...' 줄을 쓰세요" if event_id is not None
                           else "id가 없으면 id: 줄을 쓰지 마세요"))
    together = parse_event_stream("".join(frames))
    if len(together) != len(_FRAMES) or not all(
            k == (e or "message") and _reads_as(text, d) for (k, text, _), (e, d, _) in zip(together, _FRAMES)):
        raise Wrong("each frame reads right alone, but not one after the other on the same stream: end every "
                    "frame with exactly one blank line and nothing after it",
                    "프레임 하나씩은 맞게 읽히지만 한 스트림에 이어 보내면 달라집니다. 모든 프레임을 빈 줄 "
                    "하나로 끝내고 그 뒤에는 아무것도 두지 마세요")
    for call, res in zip(bad, results[len(calls):]):
        if "error" not in res:
            got = parse_event_stream(res["value"]) if isinstance(res["value"], str) else []
            events = _short([list(e[:2]) for e in got], 60)
            seen, seen_ko = (f" (the browser reads {events})", f"(브라우저가 읽는 것: {events})") if got else ("", "")
            raise Wrong(f"{call.shown} returned a frame{seen}; a line break there would start a new field of "
                        "the stream: throw an Error for an event or id holding \\r or \\n",
                        f"{call.shown}이(가) 프레임을 돌려줬습니다{seen_ko}. 그 자리의 줄바꿈은 스트림의 새 필드가 "
                        "되어 버립니다. event나 id에 \\r이나 \\n이 있으면 Error를 던지세요")


# --- 4.5 replay after a reconnect: Last-Event-ID ----------------------------------------------------
def _notices(first: int, last: int) -> list[dict]:
    """{id, notice} for ids first..last, newest first, as the relay keeps them."""
    out = []
    for i in range(last, first - 1, -1):
        kind = "sms_sent" if i % 3 == 0 else "sms_offer"
        out.append({"id": i, "notice": {"type": kind, "customer_id": (i * 7) % 13, "name": f"Listener {i}",
                                        "level": LEVEL_ORDER[i % 2], "track_id": i % 5, "title": f"Track {i % 5}",
                                        "offer": "ADV_REDUCED_1DAY", "at": f"2026-11-28T10:{i % 60:02d}:00Z"}})
    return out


_KEPT = _notices(31, 50)
_SMALL = _notices(8, 12)
# (recent, Last-Event-ID header, the ids to replay, oldest first, why)
_REPLAYS = [
    (_KEPT, None, list(range(31, 51)), ("a first visit (no header): every notice kept",
                                        "첫 방문(헤더 없음): 보관한 알림 전부")),
    (_KEPT, "45", [46, 47, 48, 49, 50], ("a reconnect after notice 45: the newer ones only",
                                         "알림 45 다음의 재연결: 더 새로운 것만")),
    (_KEPT, "50", [], ("a page that has them all: nothing", "모두 받은 페이지: 없음")),
    (_SMALL, "9", [10, 11, 12], ("ids compared as numbers: 10 comes after 9",
                                 "id는 숫자로 비교: 10은 9 다음")),
    (_KEPT, "12", list(range(31, 51)), ("a page that missed more than is kept: every notice kept",
                                        "보관분보다 더 많이 놓친 페이지: 보관한 알림 전부")),
    (_KEPT, "80", list(range(31, 51)), ("an id newer than any here (the server restarted and counts from 1 "
                                        "again): every notice kept",
                                        "여기 있는 어떤 id보다 새 id(서버가 재시작해 1부터 다시 셈): 보관한 알림 전부")),
    (_KEPT, "", list(range(31, 51)), ("an empty header: as no header", "빈 헤더: 헤더 없음과 같음")),
    (_KEPT, "abc", list(range(31, 51)), ("a header that is not a whole number: as no header",
                                         "정수가 아닌 헤더: 헤더 없음과 같음")),
    (_KEPT, "40.5", list(range(31, 51)), ("a header that is not a whole number: as no header",
                                          "정수가 아닌 헤더: 헤더 없음과 같음")),
    (_KEPT, "4e1", list(range(31, 51)), ("a header that is not a whole number: as no header",
                                         "정수가 아닌 헤더: 헤더 없음과 같음")),
    ([], None, [], ("nothing kept yet", "아직 보관한 알림 없음")),
]


def _ids(ids: list[int], none: str = "none", word: str = "ids") -> str:
    """[31, 32, ..., 50] -> 'ids 31..50'; [50, 49] -> 'ids [50, 49]'."""
    if not ids:
        return none
    if len(ids) > 3 and ids == list(range(ids[0], ids[0] + len(ids))):
        return f"{word} {ids[0]}..{ids[-1]}"
    return f"{word} {ids}"


def check_replay(path: Path) -> None:
    def shown(recent, header):
        ids = f"ids {recent[-1]['id']}..{recent[0]['id']}" if recent else "nothing"
        return f"replayFor(<{ids}>, {'undefined' if header is None else json.dumps(header)})"

    calls = [Call("replayFor", recent, header, shown=shown(recent, header)) if header is not None
             else Call("replayFor", recent, shown=shown(recent, header)) for recent, header, _, _ in _REPLAYS]
    results = run_js(path, calls)
    for (recent, header, want, (why, why_ko)), call, res in zip(_REPLAYS, calls, results):
        s, text = call.shown, res["value"]
        if not isinstance(text, str):
            raise Wrong(f"{s} returned {_short(text, 50)}; return the frames as one string ('' when there is "
                        "nothing to replay)",
                        f"{s}이(가) {_short(text, 50)}을(를) 돌려줬습니다. 프레임들을 문자열 하나로 돌려주세요"
                        "(다시 보낼 것이 없으면 '')")
        events = parse_event_stream(text)
        notice_of = {n["id"]: n["notice"] for n in recent}
        got_ids = []
        for kind, data, last_id in events:
            if kind != "notice":
                raise Wrong(f"{s} sends an event of type {kind!r}; the page listens for 'notice'",
                            f"{s}이(가) {kind!r} 타입 이벤트를 보냅니다. 페이지는 'notice'를 기다립니다")
            try:
                notice = json.loads(data)
            except ValueError:
                raise Wrong(f"{s} sends data that is not JSON: {_short(data, 50)}; send JSON.stringify(notice)",
                            f"{s}이(가) JSON이 아닌 data를 보냅니다: {_short(data, 50)}. "
                            "JSON.stringify(notice)를 보내세요") from None
            match = next((i for i, n in notice_of.items() if n == notice), None)
            if match is None:
                raise Wrong(f"{s} sends {_short(notice, 60)}, which is no notice of recent: send each entry's "
                            "notice, not the {id, notice} pair",
                            f"{s}이(가) recent에 없는 {_short(notice, 60)}을(를) 보냅니다. {{id, notice}} 쌍이 "
                            "아니라 각 항목의 notice를 보내세요")
            if last_id != str(match):
                raise Wrong(f"{s} sends notice {match} with lastEventId {last_id!r}; give each frame its id "
                            f"('id: {match}'), or the browser cannot say where it stopped when it reconnects",
                            f"{s}이(가) 알림 {match}을(를) lastEventId {last_id!r}로 보냅니다. 프레임마다 id를 "
                            f"주어야('id: {match}') 브라우저가 재연결할 때 어디까지 받았는지 알릴 수 있습니다")
            got_ids.append(match)
        if got_ids == want:
            continue
        if sorted(got_ids) == want:
            raise Wrong(f"{s} sends the notices {got_ids[:3]}...; send them oldest first, {want[:3]}... (recent "
                        "is newest first, and the page puts each new line on top)",
                        f"{s}이(가) 알림을 {got_ids[:3]}... 순서로 보냅니다. 오래된 것부터 {want[:3]}... 순서로 "
                        "보내세요(recent는 최신순이고, 페이지는 새 줄을 맨 위에 얹습니다)")
        raise Wrong(f"{s} replays {_ids(got_ids)}, expected {_ids(want)}: {why}",
                    f"{s}이(가) 다시 보내는 알림은 {_ids(got_ids, '없음', 'id')}이지만 {_ids(want, '없음', 'id')}이어야 "
                    f"합니다. {why_ko}")


EXERCISES = [
    Exercise(
        key="4.1", file="recent_devices.js",
        title=Text("Plays of the last minutes, per device", "최근 몇 분간의 기기별 재생 수"),
        skill=Text("a search body in JavaScript: a range on datetime from a given now (epoch ms) and a terms "
                   "on ismobile, read back with missing buckets as 0",
                   "JavaScript로 검색 본문 만들기: 주어진 now(epoch 밀리초) 기준 datetime range와 ismobile terms, "
                   "없는 bucket은 0으로 읽기"),
        minutes=5,
        first_step=Text("Fill in recentDevicesSearch() in exercises/stage4/recent_devices.js (size 0, a range "
                        "on datetime from now - minutes to now, a terms on ismobile), then recentDevices()",
                        "exercises/stage4/recent_devices.js의 recentDevicesSearch()를 채우고(size 0, now - minutes"
                        "부터 now까지 datetime range, ismobile terms) 이어서 recentDevices()를 채우세요"),
        check=check_recent_devices, needs=("elasticsearch",)),
    Exercise(
        key="4.2", file="timeline_columns.js",
        title=Text("The plays-per-minute chart's c3 columns", "분당 재생 차트의 c3 columns"),
        skill=Text("turning a date_histogram with a filter sub-aggregation into c3.js columns: x, mobile, "
                   "and PC as total minus mobile",
                   "filter 하위 집계가 있는 date_histogram을 c3.js columns로 바꾸기: x, mobile, 그리고 "
                   "전체에서 mobile을 뺀 PC"),
        minutes=10,
        first_step=Text("Fill in timelineColumns() in exercises/stage4/timeline_columns.js: read "
                        "aggregations.recent.per_minute.buckets and return [['x', ...], ['mobile', ...], "
                        "['pc', ...]]",
                        "exercises/stage4/timeline_columns.js의 timelineColumns()를 채우세요. "
                        "aggregations.recent.per_minute.buckets를 읽어 [['x', ...], ['mobile', ...], "
                        "['pc', ...]]를 돌려줍니다"),
        check=check_timeline_columns, needs=("elasticsearch",)),
    Exercise(
        key="4.3", file="age_levels.js",
        title=Text("Add a chart: plays by age band and level", "차트 추가하기: 연령대·등급별 재생"),
        skill=Text("a query and transform pair for a new chart: nested terms, buckets found by key, "
                   "series aligned on x with zeros",
                   "새 차트를 위한 쿼리와 변환 한 쌍: 중첩 terms, key로 bucket 찾기, 0을 채워 x에 맞춘 시리즈"),
        minutes=20,
        first_step=Text("Fill in ageLevelsSearch() in exercises/stage4/age_levels.js (size 0, a terms on "
                        "level inside a terms on age_band), then ageLevelsColumns()",
                        "exercises/stage4/age_levels.js의 ageLevelsSearch()를 채우고(size 0, age_band terms 안에 "
                        "level terms) 이어서 ageLevelsColumns()를 채우세요"),
        check=check_age_levels, needs=("elasticsearch",)),
    Exercise(
        key="4.4", file="sse_frame.js",
        title=Text("One Server-Sent Events frame, safe for any text", "어떤 텍스트에도 안전한 SSE 프레임 하나"),
        skill=Text("the event-stream wire format: event, data and id lines, multi-line data, the blank line "
                   "that ends a frame, and refusing line breaks that would inject fields",
                   "event-stream 전송 형식: event·data·id 줄, 여러 줄 data, 프레임을 끝내는 빈 줄, 필드를 "
                   "끼워 넣는 줄바꿈 거부하기"),
        minutes=15,
        first_step=Text("Fill in sseFrame(event, data, id) in exercises/stage4/sse_frame.js: 'event: ...', one "
                        "'data: ...' line per line of the data, an optional 'id: ...', then a blank line",
                        "exercises/stage4/sse_frame.js의 sseFrame(event, data, id)를 채우세요. 'event: ...', "
                        "data의 줄마다 'data: ...' 한 줄, 있으면 'id: ...', 마지막에 빈 줄입니다"),
        check=check_sse_frame),
    Exercise(
        key="4.5", file="replay.js",
        title=Text("No offer twice after a reconnect: Last-Event-ID (stretch)",
                   "재연결 뒤에도 제안은 한 번만: Last-Event-ID (심화)"),
        skill=Text("live updates that survive a reconnect: numbered SSE frames, and replaying only what the "
                   "page has not seen",
                   "재연결에도 유지되는 실시간 갱신: 번호를 붙인 SSE 프레임, 페이지가 아직 못 본 것만 다시 보내기"),
        minutes=25,
        first_step=Text("Fill in replayFor(recent, lastEventId) in exercises/stage4/replay.js: read the header "
                        "as a whole number, keep the notices with a larger id, and write them oldest first with "
                        "'id: N' frames",
                        "exercises/stage4/replay.js의 replayFor(recent, lastEventId)를 채우세요. 헤더를 정수로 "
                        "읽고, 그보다 큰 id의 알림만 골라 오래된 것부터 'id: N'이 붙은 프레임으로 씁니다"),
        check=check_replay),
]
