"""Stage-1 checkers: the four questions as Elasticsearch aggregations, and the parse of one
log line (exercises/stage1/README.md).

The aggregation exercises give two functions: ``*_search()``, the search body, and a reader
that takes Elasticsearch's response. The checker loads data/sample/tracks.csv into an index
of its own (parsed by the project's parser, ``common.events.parse_event``, with the stage's
mappings), runs the learner's body there, hands the response to the reader and compares the
answer with pandas on the same CSV (``common.readers.read_events``). The index is deleted
afterwards. The parse exercise needs no engine: its oracle is the project's own parser.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from uuid import uuid4

import pandas as pd

from common.config import REPO_ROOT, get_settings
from exercises.checking import Exercise, Text, Wrong

SAMPLE = REPO_ROOT / "data" / "sample"


# --- shared: the sample plays, in pandas and in an index of our own ------------------------
@lru_cache(maxsize=1)
def _plays() -> pd.DataFrame:
    """The oracle's view of data/sample/tracks.csv: one row per play, with hour of day (UTC),
    calendar hour, state (from the zip table) and part of the day."""
    from common.geo import lookup_zip
    from common.profiles import TIME_OF_DAY, time_of_day_index
    from common.readers import read_events

    plays = read_events(SAMPLE / "tracks.csv")
    plays["hour"] = plays["datetime"].str.slice(11, 13).astype(int)
    plays["calendar_hour"] = plays["datetime"].str.slice(0, 13)
    plays["state"] = plays["listening_zip_code"].map(lambda z: getattr(lookup_zip(z), "state", None))
    plays["part"] = [TIME_OF_DAY[i] for i in time_of_day_index(plays["hour"])]
    return plays


@lru_cache(maxsize=1)
def _documents() -> tuple[dict, ...]:
    """The same plays as the shipper would index them (the project's parser)."""
    from common.events import parse_event
    from common.readers import iter_event_lines

    return tuple(parse_event(line) for line in iter_event_lines(SAMPLE / "tracks.csv"))


@contextmanager
def _sample_index():
    """A fresh index ``ex_<random>_plays`` with the stage-1 mappings and the 6,000 sample
    plays, searchable; deleted on the way out, whatever happened."""
    from elasticsearch import helpers

    from common.clients import es_client
    from common.schema import STAGE1_DOC_FIELDS, es_mappings

    es = es_client(get_settings())
    index = f"ex_{uuid4().hex[:8]}_plays"
    try:
        # one shard: terms counts are exact; no template, so nothing is left behind
        es.indices.create(index=index, mappings=es_mappings(STAGE1_DOC_FIELDS),
                          settings={"number_of_shards": 1, "number_of_replicas": 0})
        helpers.bulk(es, ({"_index": index, "_id": str(d["event_id"]), "_source": d} for d in _documents()),
                     chunk_size=2000)
        es.indices.refresh(index=index)
        yield es, index
    finally:
        es.options(ignore_status=404).indices.delete(index=index)


def _body_of(module, name: str) -> dict:
    """Call the learner's ``name()`` first (an untouched starter raises NotImplementedError
    here, before anything else), then check the body has the shape of an aggregation search."""
    body = getattr(module, name)()
    if not isinstance(body, dict):
        raise Wrong(f"{name}() returned {type(body).__name__}, not a dict: return the search body, "
                    "for example {\"size\": 0, \"aggs\": {...}}",
                    f"{name}()가 돌려준 값이 dict가 아닙니다(타입: {type(body).__name__}). "
                    "검색 본문을 돌려주세요. 예: {\"size\": 0, \"aggs\": {...}}")
    if not (body.get("aggs") or body.get("aggregations")):
        raise Wrong(f"{name}() has no \"aggs\": the counting is done by an aggregation in Elasticsearch, "
                    "so the body needs \"aggs\": {\"<a name>\": {...}}",
                    f"{name}()에 \"aggs\"가 없습니다. 집계는 Elasticsearch가 aggregation으로 하므로 "
                    "본문에 \"aggs\": {\"<이름>\": {...}}가 있어야 합니다")
    if body.get("size") != 0:
        raise Wrong(f"{name}() asks for {body.get('size', 'the default 10')} documents: set \"size\": 0, "
                    "the answer is in the buckets and no play needs to leave the cluster",
                    f"{name}()가 문서를 {body.get('size', '기본값 10')}개 요청합니다. \"size\": 0으로 두세요. "
                    "답은 bucket에 있고, 재생 기록은 한 건도 클러스터 밖으로 나올 필요가 없습니다")
    return body


def _reason(exc) -> str:
    """Elasticsearch's own one-line reason for a refused request."""
    info = getattr(exc, "body", None) or getattr(exc, "info", None)
    if isinstance(info, dict) and isinstance(info.get("error"), dict):
        error = info["error"]
        cause = (error.get("root_cause") or [{}])[0].get("reason") or error.get("reason")
        deeper = (error.get("caused_by") or {}).get("reason")
        return "; ".join(r for r in (cause, deeper) if r) or str(exc)
    return str(exc)


def _answer(module, search: str, reader: str):
    """Run the learner's body on a fresh sample index, give the response to the reader."""
    from elasticsearch import ApiError

    body = _body_of(module, search)
    with _sample_index() as (es, index):
        try:
            response = es.search(index=index, **body).body
        except TypeError as exc:
            raise Wrong(f"{search}() holds a key a search body does not take ({exc}); "
                        "use \"size\", \"query\" and \"aggs\"",
                        f"{search}()에 검색 본문이 받지 않는 키가 있습니다({exc}). "
                        "\"size\", \"query\", \"aggs\"를 쓰세요")
        except ApiError as exc:
            raise Wrong(f"Elasticsearch refused the body of {search}(): {_reason(exc)}",
                        f"Elasticsearch가 {search}()의 본문을 거부했습니다: {_reason(exc)}")
    aggregations = response.get("aggregations") or {}
    names = sorted(aggregations)
    empty = [name for name, agg in aggregations.items() if agg.get("buckets") == []]
    if empty:
        from common.schema import STAGE1_DOC_FIELDS

        fields = ", ".join(f.name for f in STAGE1_DOC_FIELDS)
        raise Wrong(f"the aggregation \"{empty[0]}\" of {search}() made no bucket out of the 6,000 sample plays: "
                    f"is its field one the documents have? ({fields})",
                    f"{search}()의 aggregation \"{empty[0]}\"가 샘플 재생 6,000건에서 bucket을 하나도 만들지 "
                    f"못했습니다. 문서에 있는 필드인지 확인하세요({fields})")
    try:
        return getattr(module, reader)(response)
    except NotImplementedError:
        raise Wrong(f"{search}() runs; now fill in {reader}(response): the buckets are in "
                    f"response[\"aggregations\"], under the names you gave ({', '.join(names)})",
                    f"{search}()는 실행됩니다. 이제 {reader}(response)를 채우세요. bucket은 "
                    f"response[\"aggregations\"] 아래, 본문에서 붙인 이름({', '.join(names)})에 있습니다")
    except KeyError as exc:
        raise Wrong(f"{reader}(response) looked for the key {exc}, which the response does not have; "
                    f"response[\"aggregations\"] holds {names}: read the names your body gave",
                    f"{reader}(response)가 응답에 없는 키를 찾았습니다: {exc}. "
                    f"response[\"aggregations\"]에 있는 이름은 {names}입니다. 본문에서 붙인 이름으로 읽으세요")


def _as_int(value) -> int | None:
    """20, 20.0, numpy ints and "20" -> 20; anything else -> None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == int(number) else None


def _row(value, size: int) -> tuple | None:
    return tuple(value) if isinstance(value, (tuple, list)) and len(value) == size else None


# --- 1.1 the busiest hour of the day ---------------------------------------------------------
def check_peak_hour(module) -> None:
    plays = _plays()
    per_hour = plays.groupby("hour").size()
    best_hour, best = int(per_hour.idxmax()), int(per_hour.max())
    busiest_calendar_hour = int(plays.groupby("calendar_hour").size().max())

    answer = _answer(module, "peak_hour_search", "peak_hour")
    pair = _row(answer, 2)
    hour, count = (_as_int(pair[0]), _as_int(pair[1])) if pair else (None, None)
    if hour is None or count is None:
        raise Wrong(f"peak_hour() returned {answer!r}: return two whole numbers, (hour, plays), "
                    "for example (7, 123)",
                    f"peak_hour()의 결과가 {answer!r}입니다. 정수 두 개 (시, 재생 수)를 돌려주세요. 예: (7, 123)")
    if (hour, count) == (best_hour, best):
        return
    if not 0 <= hour <= 23:
        raise Wrong(f"peak_hour() gave hour {hour}, not an hour of day (0 to 23): a date_histogram's keys are "
                    "timestamps in milliseconds; count by the field hour instead",
                    f"peak_hour()가 준 {hour}은(는) 하루 중 시각(0~23)이 아닙니다. date_histogram의 key는 "
                    "밀리초 타임스탬프입니다. hour 필드로 세세요")
    if count == busiest_calendar_hour:
        raise Wrong(f"peak_hour() found {count} plays, the busiest single hour of one day; the question is the hour "
                    f"of day over the whole week, and the busiest has {best}: count by the field hour (0-23)",
                    f"peak_hour()가 찾은 {count}회는 어느 하루의 가장 바쁜 한 시간입니다. 문제는 일주일 전체에서 "
                    f"하루 중 몇 시가 가장 바쁜가이고, 그 시각은 {best}회입니다. hour 필드(0~23)로 세세요")
    if count != int(per_hour.get(hour, 0)):
        raise Wrong(f"peak_hour() says hour {hour} had {count} plays, but it had {int(per_hour.get(hour, 0))}: "
                    "take doc_count of that hour's bucket",
                    f"peak_hour()는 {hour}시에 {count}회라고 했지만 실제로는 {int(per_hour.get(hour, 0))}회입니다. "
                    "그 시각 bucket의 doc_count를 읽으세요")
    raise Wrong(f"peak_hour() found hour {hour} with {count} plays, but the busiest hour has {best}: "
                "a terms aggregation sorts its buckets by doc_count, busiest first; take the first one",
                f"peak_hour()가 찾은 것은 {hour}시 {count}회지만 가장 바쁜 시각의 재생은 {best}회입니다. "
                "terms aggregation은 bucket을 doc_count가 큰 순서로 돌려주니 첫 번째를 읽으세요")


# --- 1.2 plays and mobile share per hour of day ------------------------------------------------
def check_mobile_by_hour(module) -> None:
    plays = _plays()
    expected = plays.groupby("hour").agg(plays=("ismobile", "size"), share=("ismobile", "mean"))
    hours = set(expected.index)

    answer = _answer(module, "mobile_by_hour_search", "mobile_by_hour")
    if not isinstance(answer, dict):
        raise Wrong(f"mobile_by_hour() returned {type(answer).__name__}: return a dict "
                    "{hour: (plays, mobile_share)}, for example {0: (135, 0.58), 1: (...), ...}",
                    f"mobile_by_hour()가 돌려준 값이 dict가 아닙니다(타입: {type(answer).__name__}). "
                    "{시: (재생 수, 모바일 비율)} 형태의 dict를 돌려주세요. 예: {0: (135, 0.58), 1: (...), ...}")
    got = {_as_int(k): v for k, v in answer.items()}
    if None in got:
        bad = next(k for k in answer if _as_int(k) is None)
        raise Wrong(f"mobile_by_hour() has the key {bad!r}: the keys are hours of day, whole numbers 0 to 23",
                    f"mobile_by_hour()에 {bad!r} 키가 있습니다. key는 하루 중 시각, 0~23의 정수입니다")
    missing, extra = sorted(hours - set(got)), sorted(set(got) - hours)
    if extra:
        raise Wrong(f"mobile_by_hour() has hours {extra[:3]} that are not hours of day: count by the field hour (0-23), "
                    "not by timestamps",
                    f"mobile_by_hour()에 하루 중 시각이 아닌 키가 있습니다: {extra[:3]}. 타임스탬프가 아니라 "
                    "hour 필드(0~23)로 세세요")
    if missing:
        if len(got) == 10:
            raise Wrong(f"mobile_by_hour() returned 10 hours, but the plays fall into all {len(hours)}: "
                        "a terms aggregation returns 10 buckets unless its size asks for more",
                        f"mobile_by_hour()가 10개 시각만 돌려줬지만 재생은 {len(hours)}개 시각 모두에 있습니다. "
                        "terms aggregation은 size를 늘리지 않으면 bucket을 10개만 돌려줍니다")
        raise Wrong(f"mobile_by_hour() has no entry for hours {missing}: every hour of day has plays",
                    f"mobile_by_hour()에 빠진 시각이 있습니다: {missing}. 모든 시각에 재생이 있습니다")
    for hour in sorted(hours):
        row = _row(got[hour], 2)
        if row is None or _as_int(row[0]) is None or not isinstance(row[1], (int, float)):
            raise Wrong(f"mobile_by_hour()[{hour}] is {got[hour]!r}: give each hour a pair (plays, mobile_share), "
                        "a whole number and a share between 0 and 1",
                        f"mobile_by_hour()[{hour}]의 값이 {got[hour]!r}입니다. 시각마다 (재생 수, 모바일 비율) 쌍을 주세요. "
                        "정수 하나와 0~1 사이의 비율입니다")
    shares = [float(_row(got[h], 2)[1]) for h in sorted(hours)]
    if max(shares) - min(shares) < 1e-9:
        raise Wrong(f"every hour has the same mobile share, {shares[0]:.4f}, the share of all plays: put the avg "
                    "inside the hour buckets (a sub-aggregation), so each hour gets its own",
                    f"모든 시각의 모바일 비율이 전체 비율과 같은 {shares[0]:.4f}입니다. avg를 시각 bucket 안에 "
                    "(하위 aggregation으로) 넣어야 시각마다 따로 계산됩니다")
    for hour in sorted(hours):
        count, share = _as_int(got[hour][0]), float(got[hour][1])
        want_count, want_share = int(expected.at[hour, "plays"]), float(expected.at[hour, "share"])
        if count != want_count:
            raise Wrong(f"mobile_by_hour() says hour {hour} had {count} plays, but it had {want_count}: "
                        "take the bucket's doc_count",
                        f"mobile_by_hour()는 {hour}시에 {count}회라고 했지만 실제로는 {want_count}회입니다. "
                        "bucket의 doc_count를 읽으세요")
        if not 0 <= share <= 1:
            raise Wrong(f"hour {hour}: a mobile share of {share:g} is not between 0 and 1: average ismobile "
                        "(avg), do not sum it",
                        f"{hour}시의 모바일 비율이 {share:g}로, 0과 1 사이가 아닙니다. ismobile을 더하지(sum) 말고 "
                        "평균(avg)을 내세요")
        if abs(share - want_share) > 1e-6:
            raise Wrong(f"hour {hour}: your mobile share is {share:.4f}, but {want_share:.4f} of its {want_count} "
                        "plays were on a phone: the avg of ismobile inside that hour's bucket",
                        f"{hour}시의 모바일 비율이 {share:.4f}로 나왔지만 그 시각 {want_count}회 중 휴대폰 재생은 "
                        f"{want_share:.4f}입니다. 그 시각 bucket 안에서 ismobile의 avg를 구하세요")


# --- 1.3 one raw line: a document or a dead-letter reason --------------------------------------
GOOD = "1,42,7,2026-10-28 20:15:00,1,10001"
# (line, what it tries in English and Korean) in the order the checker feeds them; the verdict comes from the
# project's parser (common.events.parse_event), never from this list
LINES: list[tuple[bytes, str, str]] = [
    (b"1,199,21,2026-10-25 00:01:59,0,19930\n", "the first play of data/sample/tracks.csv", "data/sample/tracks.csv의 첫 재생"),
    (b"", "an empty line", "빈 줄"),
    (b"   \r\n", "a line of blanks", "공백뿐인 줄"),
    (b"\xff\xfe1,42,7,2026-10-28 20:15:00,1,10001", "bytes that are not UTF-8", "UTF-8이 아닌 바이트"),
    (b"not,a,play", "three columns", "열 3개"),
    (GOOD.encode() + b",extra", "seven columns", "열 7개"),
    (b",".join([b"1"] * 5000), "an oversized line of 5,000 columns", "열이 5,000개인 지나치게 긴 줄"),
    (b"abc" + GOOD[1:].encode(), "a word as event_id", "단어로 된 event_id"),
    (b"-5" + GOOD[1:].encode(), "a negative event_id", "음수 event_id"),
    (b"1.5" + GOOD[1:].encode(), "a decimal event_id", "소수 event_id"),
    (GOOD.replace(",42,", ",x42,").encode(), "a bad customer_id", "잘못된 customer_id"),
    (GOOD.replace(",7,", ",,").encode(), "an empty track_id", "비어 있는 track_id"),
    (GOOD.replace("2026-10-28", "2026-13-01").encode(), "month 13", "13월"),
    (GOOD.replace("20:15", "24:15").encode(), "hour 24", "24시"),
    (GOOD.replace("2026-10-28", "2026-02-30").encode(), "30 February", "2월 30일"),
    (GOOD.replace(" 20:15:00", "T20:15:00").encode(), "an ISO date with a T", "T가 들어간 ISO 날짜"),
    (GOOD.replace(":00,", ",").encode(), "a time without seconds", "초가 없는 시각"),
    (GOOD.replace(",1,10001", ",2,10001").encode(), "ismobile 2", "ismobile 2"),
    (GOOD.replace(",1,10001", ",true,10001").encode(), "ismobile true", "ismobile true"),
    (GOOD.replace("10001", "123456").encode(), "a six-digit zip", "여섯 자리 zip"),
    (GOOD.replace("10001", "1000A").encode(), "a letter in the zip", "문자가 섞인 zip"),
    (GOOD.replace("10001", "1" * 1_000).encode(), "an oversized zip of 1,000 digits", "1,000자리의 지나치게 긴 zip"),
    (b"1,x,7,2026-13-01 10:00:00,2,zip", "several faults at once (the first rule broken wins)", "여러 오류가 한꺼번에 (처음 어긴 규칙이 사유)"),
    (GOOD.encode(), "a clean play", "정상 재생"),
    (GOOD.replace("10001", "601").encode(), "a zip whose leading zeros were dropped", "앞자리 0이 빠진 zip"),
    (GOOD.replace("10001", "99999").encode(), "a well-formed zip missing from the zip table", "형식은 맞지만 zip 표에 없는 zip"),
    (b' 19 , 42,"7",2026-10-28 9:05:00 , 0 ,10001\r\n', "blanks, a quoted field, a one-digit hour, CRLF", "공백, 따옴표 필드, 한 자리 시, CRLF"),
    (b"0,0,0,2026-10-28 23:59:59,0,10001", "ids that are 0", "0인 id"),
]


def _shown(raw: bytes) -> str:
    text = repr(raw)
    return text if len(text) <= 70 else f"{text[:60]}...' ({len(raw):,} bytes)"


def check_parse_line(module) -> None:
    from common import events
    from common.events import Rejected, parse_event

    first = module.parse_line(LINES[0][0])       # an untouched starter stops here
    borrowed = [name for name, value in vars(module).items()
                if any(value is own for own in (events, events.parse_event, events.split_line))]
    if borrowed:
        raise Wrong(f"parse_line.py uses the project's parser ({borrowed[0]}): write the rules yourself, "
                    "the checker compares your verdicts with that parser's",
                    f"parse_line.py가 프로젝트의 파서를 가져다 씁니다({borrowed[0]}). 규칙을 직접 작성하세요. "
                    "채점기는 여러분의 판정을 그 파서의 판정과 비교합니다")
    for raw, what, what_ko in LINES:
        got = first if raw is LINES[0][0] else module.parse_line(raw)
        truth = parse_event(raw)
        line = _shown(raw)
        if isinstance(truth, Rejected):
            if got == truth.reason:
                continue
            if isinstance(got, dict):
                raise Wrong(f"parse_line({line}) ({what}) returned a document, but the shipper dead-letters it "
                            f"as {truth.reason}: see the rules in the docstring",
                            f"parse_line({line}) ({what_ko})의 결과가 문서이지만 shipper는 이 줄을 dead letter로 보냅니다"
                            f"(사유: {truth.reason}). docstring의 규칙을 보세요")
            raise Wrong(f"parse_line({line}) ({what}) returned {got!r}, but the reason is {truth.reason}: "
                        "one reason per line, the first rule it breaks, in the docstring's order",
                        f"parse_line({line}) ({what_ko})의 결과가 {got!r}이지만 사유는 {truth.reason}입니다. "
                        "한 줄에 사유는 하나, docstring 순서대로 처음 어긴 규칙입니다")
        if not isinstance(got, dict):
            raise Wrong(f"parse_line({line}) ({what}) returned {got!r}, but this line is a play the shipper "
                        "indexes: return its document",
                        f"parse_line({line}) ({what_ko})의 결과가 {got!r}이지만 이 줄은 shipper가 index하는 정상 "
                        "재생입니다. 문서를 돌려주세요")
        missing, extra = sorted(set(truth) - set(got)), sorted(set(got) - set(truth))
        if missing or extra:
            what_differs = (f"lacks {missing}" if missing else f"has {extra}, which this document must not have")
            ko_differs = (f"빠진 필드가 있습니다: {missing}" if missing else f"없어야 할 필드가 있습니다: {extra}")
            raise Wrong(f"parse_line({line}) ({what}): the document {what_differs}; expected the fields "
                        f"{sorted(truth)}",
                        f"parse_line({line}) ({what_ko}): 문서에 {ko_differs}. 기대하는 필드는 {sorted(truth)}입니다")
        for name in truth:
            if got[name] != truth[name] or type(got[name]) is not type(truth[name]):
                shown_got, shown_truth = repr(got[name]), repr(truth[name])
                if type(got[name]) is not type(truth[name]):
                    shown_got += f" ({type(got[name]).__name__})"
                    shown_truth += f" ({type(truth[name]).__name__})"
                raise Wrong(f"parse_line({line}) ({what}): {name} is {shown_got}, expected {shown_truth}",
                            f"parse_line({line}) ({what_ko}): {name} 값이 {shown_got}인데 기대값은 {shown_truth}입니다")


# --- 1.4 the top states, with their listeners --------------------------------------------------
TOP = 5


def check_top_states(module) -> None:
    from common.geo import zip_table

    plays = _plays()
    per_state = plays.groupby("state").agg(plays=("event_id", "size"), customers=("customer_id", "nunique"))
    want = per_state.sort_values("plays", ascending=False, kind="stable")["plays"].head(TOP).tolist()
    states = {place.state for place in zip_table().values()}

    answer = _answer(module, "top_states_search", "top_states")
    rows = [_row(r, 3) for r in answer] if isinstance(answer, (list, tuple)) else None
    if rows is None or None in rows:
        raise Wrong(f"top_states() returned {answer!r:.80}: return a list of (state, plays, customers), "
                    "for example [(\"NY\", 120, 9), ...]",
                    f"top_states()의 결과가 {answer!r:.80}입니다. (주, 재생 수, 고객 수)의 리스트를 돌려주세요. "
                    "예: [(\"NY\", 120, 9), ...]")
    if len(rows) != TOP:
        raise Wrong(f"top_states() returned {len(rows)} states; the question asks for the top {TOP}: "
                    "set the terms aggregation's size",
                    f"top_states()가 주를 {len(rows)}개 돌려줬습니다. 문제는 상위 {TOP}개입니다. "
                    "terms aggregation의 size를 정하세요")
    for state, count, customers in rows:
        if state not in states:
            raise Wrong(f"top_states() lists {state!r}, which is not a two-letter US state: aggregate on the "
                        "field state (the shipper added it from the zip table)",
                        f"top_states()에 있는 {state!r}: 두 글자 미국 주 코드가 아닙니다. state 필드로 집계하세요"
                        "(shipper가 zip 표에서 넣은 필드입니다)")
        true_plays = int(per_state["plays"].get(state, 0))
        true_customers = int(per_state["customers"].get(state, 0))
        if _as_int(count) != true_plays:
            raise Wrong(f"top_states() says {state} had {count} plays, but it had {true_plays}: take the bucket's doc_count",
                        f"top_states()는 {state}에서 {count}회라고 했지만 실제로는 {true_plays}회입니다. "
                        "bucket의 doc_count를 읽으세요")
        if _as_int(customers) != true_customers:
            if _as_int(customers) == true_plays:
                raise Wrong(f"top_states() gives {state} {customers} customers, the number of its plays: count the "
                            "distinct customer_id values (a cardinality sub-aggregation), not the plays",
                            f"top_states()가 준 {state}의 고객 수({customers})가 재생 수와 같습니다. 재생이 아니라 "
                            "서로 다른 customer_id의 수를 세세요(cardinality 하위 aggregation)")
            raise Wrong(f"top_states() gives {state} {customers} customers, but {true_customers} different customers "
                        "played there: a cardinality of customer_id inside the state's bucket",
                        f"top_states()는 {state}의 고객을 {customers}명이라고 했지만 그곳에서 들은 고객은 "
                        f"{true_customers}명입니다. 주 bucket 안에서 customer_id의 cardinality를 구하세요")
    got = [_as_int(count) for _, count, _ in rows]
    if got != want:
        raise Wrong(f"top_states() lists {[s for s, _, _ in rows]} with {got} plays, but the {TOP} busiest states "
                    f"have {want}: keep the terms buckets in their order, most plays first",
                    f"top_states()가 나열한 주 {[s for s, _, _ in rows]}의 재생은 {got}회이지만 가장 많이 들은 {TOP}개 주는 "
                    f"{want}회입니다. terms bucket의 순서(재생이 많은 순)를 그대로 두세요")


# --- 1.5 stretch: who listens to what, and when -------------------------------------------------
def check_who_when(module) -> None:
    from common.profiles import TIME_OF_DAY, TIME_OF_DAY_STARTS

    plays = _plays()
    per_customer = plays.groupby(["part", "customer_id"]).size()
    per_track = plays.groupby(["part", "customer_id", "track_id"]).size()

    answer = _answer(module, "who_when_search", "who_when")
    if not isinstance(answer, dict):
        raise Wrong(f"who_when() returned {type(answer).__name__}: return a dict "
                    "{part of day: [(customer_id, plays, favourite_track_id), ...]}",
                    f"who_when()가 돌려준 값이 dict가 아닙니다(타입: {type(answer).__name__}). "
                    "{시간대: [(customer_id, 재생 수, 가장 많이 들은 track_id), ...]} 형태의 dict를 돌려주세요")
    if sorted(answer) != sorted(TIME_OF_DAY):
        raise Wrong(f"who_when() has the parts {sorted(map(str, answer))}; it needs exactly {list(TIME_OF_DAY)} "
                    "(common/profiles.py): one filters bucket each",
                    f"who_when()의 시간대가 {sorted(map(str, answer))}입니다. 정확히 {list(TIME_OF_DAY)} 네 개가 "
                    "있어야 합니다(common/profiles.py). 시간대마다 filters bucket 하나씩입니다")
    for part in TIME_OF_DAY:
        start = TIME_OF_DAY_STARTS[part]
        end = TIME_OF_DAY_STARTS[TIME_OF_DAY[(TIME_OF_DAY.index(part) + 1) % len(TIME_OF_DAY)]]
        hours = f"[{start:02d}:00, {end:02d}:00)"
        want = per_customer[part].sort_values(ascending=False, kind="stable").head(3).tolist()
        rows = answer[part]
        rows = [_row(r, 3) for r in rows] if isinstance(rows, (list, tuple)) else None
        if rows is None or None in rows or len(rows) != 3:
            raise Wrong(f"who_when()[{part!r}] is {answer[part]!r:.80}: give each part a list of three "
                        "(customer_id, plays, favourite_track_id), busiest customer first",
                        f"who_when()[{part!r}]의 값이 {answer[part]!r:.80}입니다. 시간대마다 (customer_id, 재생 수, "
                        "가장 많이 들은 track_id) 세 개의 리스트를, 가장 많이 들은 고객부터 주세요")
        for customer, count, track in rows:
            if not isinstance(customer, int) or not isinstance(track, int):
                raise Wrong(f"who_when()[{part!r}] has the ids {customer!r} and {track!r}: make them ints; "
                            "the index stores ids as keywords, so a bucket key is text: int(bucket[\"key\"])",
                            f"who_when()[{part!r}]의 id({customer!r}, {track!r})를 int로 바꾸세요. index가 id를 "
                            "keyword로 저장하므로 bucket key는 문자열입니다: int(bucket[\"key\"])")
            true_count = int(per_customer.get((part, customer), 0))
            if _as_int(count) != true_count:
                raise Wrong(f"who_when() says customer {customer} played {count} times in the {part}, but by the "
                            f"rule {hours} (UTC hours) it was {true_count}: check that part's filter on the field hour",
                            f"who_when()는 고객 {customer}의 {part} 재생이 {count}회라고 했지만 규칙 {hours}"
                            f"(UTC 시각)으로는 {true_count}회입니다. 그 시간대의 hour 필터를 확인하세요")
            tracks = per_track.get((part, customer))
            if tracks is None:          # only when the answer names a customer with 0 plays there
                raise Wrong(f"who_when() lists customer {customer} in the {part}, who has no play in it: "
                            "take the customers from the part's own bucket",
                            f"who_when()가 {part} 시간대에 재생이 없는 고객을 넣었습니다(customer_id {customer}). "
                            "고객은 그 시간대 bucket 안에서 고르세요")
            best = int(tracks.max())
            if int(tracks.get(track, 0)) != best:
                raise Wrong(f"who_when(): customer {customer}'s favourite track in the {part} was played {best} "
                            f"times, but track {track} only {int(tracks.get(track, 0))}: a terms on track_id with "
                            "size 1 inside the customer's bucket",
                            f"who_when(): 고객 {customer}의 {part} 최다 재생 곡은 {best}회 재생됐는데 track {track}의 재생은 "
                            f"{int(tracks.get(track, 0))}회뿐입니다. 고객 bucket 안에 track_id terms(size 1)를 두세요")
        got = [_as_int(count) for _, count, _ in rows]
        if got != want:
            raise Wrong(f"who_when()[{part!r}]: your customers played {got} times, but the three busiest of the "
                        f"{part} played {want}: a terms on customer_id (size 3) inside each part's bucket, "
                        "most plays first",
                        f"who_when()[{part!r}]: 여러분이 고른 고객의 재생은 {got}회이지만 {part} 시간대에 가장 많이 들은 세 명은 "
                        f"{want}회입니다. 시간대 bucket 안에 customer_id terms(size 3)를 두고 많이 들은 순으로 읽으세요")


EXERCISES = [
    Exercise(
        key="1.1", file="peak_hour.py",
        title=Text("The busiest hour of the day", "하루 중 가장 바쁜 시각"),
        skill=Text("a terms aggregation with size 0, read from the response",
                   "size 0 검색에 terms aggregation을 걸고 응답에서 답 읽기"),
        minutes=5,
        first_step=Text("Fill in peak_hour_search() in exercises/stage1/peak_hour.py: a body with \"size\": 0 and "
                        "a terms aggregation on the field hour",
                        "exercises/stage1/peak_hour.py의 peak_hour_search()를 채우세요. \"size\": 0에 "
                        "hour 필드 terms aggregation을 건 본문입니다"),
        check=check_peak_hour, needs=("elasticsearch",)),
    Exercise(
        key="1.2", file="mobile_by_hour.py",
        title=Text("Plays and mobile share per hour", "시각별 재생 수와 모바일 비율"),
        skill=Text("a sub-aggregation: an avg of ismobile inside each hour's bucket, all 24 buckets",
                   "하위 aggregation: 시각 bucket마다 ismobile의 avg, 24개 bucket 모두"),
        minutes=10,
        first_step=Text("Fill in mobile_by_hour_search() in exercises/stage1/mobile_by_hour.py: one bucket per "
                        "hour of day, and inside each an avg of ismobile",
                        "exercises/stage1/mobile_by_hour.py의 mobile_by_hour_search()를 채우세요. 하루 중 시각마다 "
                        "bucket 하나, 그 안에 ismobile의 avg입니다"),
        check=check_mobile_by_hour, needs=("elasticsearch",)),
    Exercise(
        key="1.3", file="parse_line.py",
        title=Text("One log line: a document or a dead letter", "로그 한 줄: 문서인가, dead letter인가"),
        skill=Text("validating raw input with one reason per rejected line, as the shipper does",
                   "shipper처럼 원시 입력을 검증하고 거부한 줄마다 사유 하나 붙이기"),
        minutes=20,
        first_step=Text("Fill in parse_line() in exercises/stage1/parse_line.py: decode the bytes, split the CSV "
                        "line, then apply the rules of its docstring in order",
                        "exercises/stage1/parse_line.py의 parse_line()을 채우세요. 바이트를 디코딩하고 CSV 줄을 "
                        "나눈 뒤 docstring의 규칙을 순서대로 적용합니다"),
        check=check_parse_line),
    Exercise(
        key="1.4", file="top_states.py",
        title=Text("Top states and their listeners", "재생이 많은 주와 그 청취자 수"),
        skill=Text("terms on a keyword with a cardinality sub-aggregation (distinct customers)",
                   "keyword terms에 cardinality 하위 aggregation(서로 다른 고객 수) 걸기"),
        minutes=10,
        first_step=Text("Fill in top_states_search() in exercises/stage1/top_states.py: the top 5 values of the "
                        "field state, each with the number of distinct customer_id",
                        "exercises/stage1/top_states.py의 top_states_search()를 채우세요. state 필드 상위 5개 "
                        "값과 각각의 서로 다른 customer_id 수입니다"),
        check=check_top_states, needs=("elasticsearch",)),
    Exercise(
        key="1.5", file="who_when.py",
        title=Text("Stretch: who listens to what, and when", "심화: 누가 언제 무엇을 듣는가"),
        skill=Text("nested buckets: filters (parts of the day, night wraps midnight) > terms > terms",
                   "중첩 bucket: filters(시간대, 밤은 자정을 넘김) > terms > terms"),
        minutes=25,
        first_step=Text("Fill in who_when_search() in exercises/stage1/who_when.py: a filters aggregation with one "
                        "bucket per part of the day (common/profiles.py), the customers and their tracks inside",
                        "exercises/stage1/who_when.py의 who_when_search()를 채우세요. 시간대마다 bucket 하나인 "
                        "filters aggregation(common/profiles.py)과 그 안에 고객, 다시 그 안에 곡입니다"),
        check=check_who_when, needs=("elasticsearch",)),
]
