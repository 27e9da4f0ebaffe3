"""Stage-2 checkers: Redis look-ups, the interest list, top tracks by gender, the
lost-or-duplicated audit, and Spark's sliding windows (exercises/stage2/README.md).

Each checker works on its own, uniquely named Redis keys or Elasticsearch index,
filled from data/sample with the project's own code (parse_event, customer_hash,
enrich_event, densest_window), and deletes them afterwards. The expected figures
are computed here, by the project's rule or by pandas, never typed in.
"""
from __future__ import annotations

import random
import re
import tempfile
from collections import Counter
from datetime import timedelta
from itertools import islice
from pathlib import Path
from uuid import uuid4

import pandas as pd

from common.config import REPO_ROOT, get_settings
from exercises.checking import Exercise, Text, Wrong

SAMPLE = REPO_ROOT / "data" / "sample"
TIME = "%Y-%m-%d %H:%M:%S"


def _unique() -> str:
    return f"ex_{uuid4().hex[:8]}"


def _sample_lines(count: int | None = None) -> list[str]:
    from common.readers import iter_event_lines

    return list(islice(iter_event_lines(SAMPLE / "tracks.csv"), count))


def _sample_customers() -> dict:
    from common.readers import iter_customers

    return {c.cust_id: c for _, c, _ in iter_customers(SAMPLE / "cust.csv") if c}


def _new_index(es, name: str, fields) -> None:
    """An index with the stage's own mappings (one shard: exact aggregations), no template."""
    from common.schema import es_mappings

    es.indices.create(index=name, mappings=es_mappings(fields),
                      settings={"number_of_shards": 1, "number_of_replicas": 0})


def _bulk(es, index: str, docs) -> None:
    """docs: (_id, document) pairs; searchable when this returns."""
    from elasticsearch import helpers

    helpers.bulk(es, ({"_index": index, "_id": i, "_source": d} for i, d in docs), chunk_size=2000)
    es.indices.refresh(index=index)


# --- 2.1 enrich one play from Redis ------------------------------------------------------
UNKNOWN_CUSTOMER = 987654321        # far beyond any CustID of the data


def check_enrich_one(module) -> None:
    from common.clients import redis_client
    from common.events import parse_event
    from common.readers import read_catalog
    from stage2.enrich import enrich_event
    from stage2.import_customers import customer_hash

    s = get_settings()
    r = redis_client(s)
    name = _unique()
    prefix = f"{name}:customer:"
    lines = _sample_lines(3)
    events = [parse_event(line) for line in lines]
    customers = _sample_customers()
    try:
        pipe = r.pipeline(transaction=False)
        for e in events:
            pipe.hset(f"{prefix}{e['customer_id']}", mapping=customer_hash(customers[e["customer_id"]]))
        pipe.execute()
        cid = events[0]["customer_id"]
        key = f"{prefix}{cid}"
        got = module.customer_of(r, cid, prefix)
        stored = r.hgetall(key)
        if got != stored:
            if not isinstance(got, dict):
                raise Wrong(f"customer_of(r, {cid}, prefix) returned a {type(got).__name__}, not the hash: "
                            f"return what HGETALL {key} gives (a dict of {len(stored)} fields)",
                            f"customer_of(r, {cid}, prefix)가 hash가 아니라 {type(got).__name__}을(를) 돌려줬습니다. "
                            f"HGETALL {key}의 결과(필드 {len(stored)}개짜리 dict)를 그대로 돌려주세요")
            stage_key = f"{s.redis_customer_prefix}{cid}"
            if got and got == r.hgetall(stage_key):
                raise Wrong(f"customer_of() read {stage_key}, the stage's own key, not {key}: "
                            "build the key from the prefix argument, f\"{prefix}{customer_id}\"",
                            f"customer_of()가 {key}가 아니라 단계의 키 {stage_key}를 읽었습니다. "
                            "키는 prefix 인자로 만드세요: f\"{prefix}{customer_id}\"")
            raise Wrong(f"customer_of(r, {cid}, prefix) returned the fields {sorted(got)[:4]}, but the hash "
                        f"at {key} holds {len(stored)} ({', '.join(sorted(stored)[:4])}, ...): "
                        "one HGETALL on prefix + customer id returns them all",
                        f"customer_of(r, {cid}, prefix)가 돌려준 필드는 {sorted(got)[:4]}뿐인데, {key} hash에는 "
                        f"{len(stored)}개({', '.join(sorted(stored)[:4])}, ...)가 있습니다. "
                        "prefix + 고객 id 키에 HGETALL 한 번이면 모두 읽힙니다")
        nobody = module.customer_of(r, UNKNOWN_CUSTOMER, prefix)
        if nobody != {}:
            raise Wrong(f"customer_of() for a customer not in Redis ({UNKNOWN_CUSTOMER}) returned {nobody!r}; "
                        "return {} (what HGETALL answers), so the play is kept with customer_known false",
                        f"Redis에 없는 고객({UNKNOWN_CUSTOMER})에 대해 customer_of()가 돌려준 값: {nobody!r}. "
                        "HGETALL의 답인 {}를 돌려주어야 재생 기록이 customer_known false로 남습니다")

        catalog = read_catalog(SAMPLE / "music.csv")
        unknown_line = re.sub(r"^(\d+),\d+,", rf"\g<1>,{UNKNOWN_CUSTOMER},", lines[0])
        for line in [*lines, unknown_line]:
            event = parse_event(line)
            expected = enrich_event(event, r.hgetall(f"{prefix}{event['customer_id']}"),
                                    catalog.get(event["track_id"]))
            doc = module.enrich_one(r, line, catalog, prefix)
            if not isinstance(doc, dict):
                raise Wrong(f"enrich_one() returned {type(doc).__name__} for the line {line!r}; "
                            "return the enriched document (a dict)",
                            f"enrich_one()이 {line!r} 줄에 대해 {type(doc).__name__}을(를) 돌려줬습니다. "
                            "보강된 문서(dict)를 돌려주세요")
            for field in sorted(set(expected) | set(doc)):
                if doc.get(field) != expected.get(field):
                    raise Wrong(f"enrich_one() for the line {line!r} gave {field} = {doc.get(field)!r}, expected "
                                f"{expected.get(field)!r}: parse_event(line), then enrich_event(event, "
                                "customer_of(...), catalog.get(track_id))",
                                f"enrich_one()이 {line!r} 줄에서 만든 {field} 값은 {doc.get(field)!r}, 기대값은 "
                                f"{expected.get(field)!r}입니다. parse_event(line) 다음에 "
                                "enrich_event(event, customer_of(...), catalog.get(track_id))를 부르세요")
    finally:
        keys = list(r.scan_iter(f"{name}:*"))
        if keys:
            r.delete(*keys)


# --- 2.2 the interest threshold ----------------------------------------------------------
def interest_oracle(plays: pd.DataFrame, min_plays: int, window_minutes: int = 30) -> set[tuple[int, int]]:
    """The stage's own rule (stage2.interest.densest_window), per (customer, track)."""
    from stage2.interest import densest_window

    times = pd.to_datetime(plays["datetime"], format=TIME)
    window = timedelta(minutes=window_minutes)
    return {(int(c), int(t)) for (c, t), g in times.groupby([plays["customer_id"], plays["track_id"]])
            if densest_window(list(g), min_plays, window) is not None}


def _closest_span(plays: pd.DataFrame, pair: tuple[int, int], k: int) -> tuple[int, str]:
    """(number of plays of the pair, shortest span of k of them as 'm:ss', or '')."""
    mine = plays[(plays["customer_id"] == pair[0]) & (plays["track_id"] == pair[1])]
    t = pd.to_datetime(mine["datetime"], format=TIME).sort_values().reset_index(drop=True)
    if len(t) < k:
        return len(t), ""
    span = min((t[i + k - 1] - t[i]) for i in range(len(t) - k + 1))
    seconds = int(span.total_seconds())
    return len(t), f"{seconds // 60}:{seconds % 60:02d}"


def _as_pairs(result, call: str) -> set[tuple[int, int]]:
    if isinstance(result, pd.DataFrame):
        raise Wrong(f"{call} returned a DataFrame; return a set of (customer_id, track_id) tuples, "
                    "e.g. set(zip(df.customer_id, df.track_id))",
                    f"{call}가 DataFrame을 돌려줬습니다. (customer_id, track_id) 튜플의 set을 돌려주세요. "
                    "예: set(zip(df.customer_id, df.track_id))")
    try:
        return {(int(c), int(t)) for c, t in result}
    except (TypeError, ValueError):
        raise Wrong(f"{call} returned {type(result).__name__}; return a set of (customer_id, track_id) tuples",
                    f"{call}가 {type(result).__name__}을(를) 돌려줬습니다. "
                    "(customer_id, track_id) 튜플의 set을 돌려주세요") from None


def _pairs_text(n: int) -> str:
    return f"{n} pair" if n == 1 else f"{n} pairs"


def _compare_pairs(got: set, expected: set, plays: pd.DataFrame, k: int, window: int, call: str) -> None:
    if got == expected:
        return
    extra, missed = sorted(got - expected), sorted(expected - got)
    head = (f"{call} found {_pairs_text(len(got))}, the interest rule {_pairs_text(len(expected))}",
            f"{call}는 {len(got)}쌍을 찾았고, 관심 목록 규칙으로는 {len(expected)}쌍입니다")
    if missed:
        pair = missed[0]
        n, span = _closest_span(plays, pair, k)
        raise Wrong(f"{head[0]}: it misses customer {pair[0]}, track {pair[1]}, whose closest {k} plays "
                    f"are {span} apart (at most {window}:00 apart counts, so exactly {window}:00 is in)",
                    f"{head[1]}. 빠진 쌍: 고객 {pair[0]}, 곡 {pair[1]}. 가장 가까운 재생 {k}번의 간격이 "
                    f"{span}입니다({window}:00 이내면 인정하므로 딱 {window}:00도 들어갑니다)")
    pair = extra[0]
    n, span = _closest_span(plays, pair, k)
    why = (f"its closest {k} plays are {span} apart" if span else f"it has only {n} plays",
           f"가장 가까운 재생 {k}번의 간격이 {span}입니다" if span else f"재생이 {n}번뿐입니다")
    raise Wrong(f"{head[0]}: customer {pair[0]}, track {pair[1]} is not interested, {why[0]} "
                f"(the first and last of {k} plays must be at most {window}:00 apart)",
                f"{head[1]}. 고객 {pair[0]}, 곡 {pair[1]}: 관심 쌍이 아닙니다. {why[1]} "
                f"(재생 {k}번의 처음과 끝이 {window}:00 이내여야 합니다)")


def _edge_plays() -> pd.DataFrame:
    """Hand-made edges: exactly 30:00 (in), 30:01 (out), one timestamp three times (in),
    plays out of order (3 of them within 29 minutes, all 4 within 60)."""
    rows = [(9001, 1, "2026-11-02 10:00:00"), (9001, 1, "2026-11-02 10:15:00"), (9001, 1, "2026-11-02 10:30:00"),
            (9002, 1, "2026-11-02 10:00:00"), (9002, 1, "2026-11-02 10:15:00"), (9002, 1, "2026-11-02 10:30:01"),
            (9003, 2, "2026-11-02 11:00:00"), (9003, 2, "2026-11-02 11:00:00"), (9003, 2, "2026-11-02 11:00:00"),
            (9004, 3, "2026-11-02 11:00:00"), (9004, 3, "2026-11-02 10:00:00"), (9004, 3, "2026-11-02 10:29:00"),
            (9004, 3, "2026-11-02 10:20:00"), (9004, 4, "2026-11-02 10:05:00")]
    return pd.DataFrame([(i + 1, c, t, when, 1, "10001") for i, (c, t, when) in enumerate(rows)],
                        columns=["event_id", "customer_id", "track_id", "datetime", "ismobile",
                                 "listening_zip_code"])


def check_interest_threshold(module) -> None:
    from common.readers import read_events

    plays = read_events(SAMPLE / "tracks.csv")
    got3 = module.interest_pairs(plays.copy(), 3)
    expected3 = interest_oracle(plays, 3)

    guess = getattr(module, "PREDICTED_PAIRS_AT_4", None)
    if guess is None:
        raise Wrong("PREDICTED_PAIRS_AT_4 is still None: write down how many pairs you expect at 4 plays "
                    "before the checker tells you (data/sample/GROUND_TRUTH.md describes the bursts)",
                    "PREDICTED_PAIRS_AT_4가 아직 None입니다. 채점기가 알려주기 전에 4회 기준에서 몇 쌍이 나올지 "
                    "먼저 적으세요(data/sample/GROUND_TRUTH.md에 반복 재생 패턴이 설명돼 있습니다)")
    if isinstance(guess, bool) or not isinstance(guess, int):
        raise Wrong(f"PREDICTED_PAIRS_AT_4 = {guess!r}: write a whole number of pairs",
                    f"PREDICTED_PAIRS_AT_4 = {guess!r}입니다. 쌍의 개수를 정수로 적으세요")
    if not 0 <= guess <= len(expected3):
        raise Wrong(f"PREDICTED_PAIRS_AT_4 = {guess} cannot be right: 4 plays within 30 minutes always hold "
                    f"3, so threshold 4 finds at most the {len(expected3)} pairs of threshold 3",
                    f"PREDICTED_PAIRS_AT_4 = {guess}: 맞을 수 없는 값입니다. 30분 안의 재생 4번에는 늘 3번이 들어 있으므로 "
                    f"4회 기준의 쌍은 3회 기준의 {len(expected3)}쌍보다 많을 수 없습니다")

    edges = _edge_plays()
    for k, window in ((3, 30), (4, 30), (3, 20)):
        call = f"interest_pairs(edge_plays, {k}, window_minutes={window})"
        _compare_pairs(_as_pairs(module.interest_pairs(edges.copy(), k, window_minutes=window), call),
                       interest_oracle(edges, k, window), edges, k, window, call)
    _compare_pairs(_as_pairs(got3, "interest_pairs(plays, 3)"), expected3, plays, 3, 30, "interest_pairs(plays, 3)")
    _compare_pairs(_as_pairs(module.interest_pairs(plays.copy(), 4), "interest_pairs(plays, 4)"),
                   interest_oracle(plays, 4), plays, 4, 30, "interest_pairs(plays, 4)")


# --- 2.3 top tracks by gender ---------------------------------------------------------------
def _enriched_sample_docs() -> list[dict]:
    """The sample plays as stage 2 indexes them: parse_event + customer hash + catalog row."""
    from common.events import parse_event
    from common.readers import read_catalog
    from stage2.enrich import enrich_event
    from stage2.import_customers import customer_hash

    customers = {cid: customer_hash(c) for cid, c in _sample_customers().items()}
    catalog = read_catalog(SAMPLE / "music.csv")
    events = [parse_event(line) for line in _sample_lines()]
    return [enrich_event(e, customers.get(e["customer_id"]), catalog.get(e["track_id"])) for e in events]


def _top_lists(result, size: int, call: str, counts: dict, overall: Counter) -> None:
    """result: {gender: [(track_id, plays), ...]}; counts: {gender: Counter(track -> plays)}."""
    if not isinstance(result, dict) or set(result) != set(counts):
        keys = sorted(result) if isinstance(result, dict) else type(result).__name__
        raise Wrong(f"{call} gave {keys}; expected a dict with the keys {sorted(counts)} "
                    "(the gender field of the enriched plays)",
                    f"{call}의 결과가 {keys}입니다. 키가 보강된 재생 기록의 gender 값 {sorted(counts)}인 "
                    "dict여야 합니다")
    for gender in sorted(counts):
        try:
            got = [(int(t), int(n)) for t, n in result[gender]]
        except (TypeError, ValueError):
            raise Wrong(f"{call}[{gender!r}] should be a list of (track_id, plays) pairs",
                        f"{call}[{gender!r}]는 (track_id, plays) 쌍의 리스트여야 합니다") from None
        ranked = counts[gender].most_common()
        best = [n for _, n in ranked[:size]]
        if len(got) != len(best):
            raise Wrong(f"{call}[{gender!r}] has {len(got)} tracks, expected {len(best)}: the size of the "
                        "track_id terms aggregation is the size argument",
                        f"{call}[{gender!r}]에 곡이 {len(got)}개 있지만 {len(best)}개여야 합니다. "
                        "track_id terms 집계의 size에 size 인자를 넘기세요")
        for track, plays in got:
            if plays != counts[gender][track]:
                both = (" (that is its count over both genders: put the track_id terms aggregation inside "
                        "the gender one)" if plays == overall[track] else "")
                both_ko = (" (두 성별을 합친 수입니다: track_id terms 집계를 gender 집계 안에 넣으세요)"
                           if plays == overall[track] else "")
                raise Wrong(f"{call}[{gender!r}] says track {track} has {plays} plays, the index holds "
                            f"{counts[gender][track]} by {gender} listeners{both}",
                            f"{call}[{gender!r}]에서 곡 {track}의 재생은 {plays}번인데, index에는 {gender} "
                            f"청취자의 재생이 {counts[gender][track]}번 있습니다{both_ko}")
        if [n for _, n in got] != best or len({t for t, _ in got}) != len(got):
            left_out = next(((t, n) for t, n in ranked if n > best[-1] and t not in {x for x, _ in got}), None)
            if left_out:
                raise Wrong(f"{call}[{gender!r}] leaves out track {left_out[0]} ({left_out[1]} plays), one of "
                            f"the {size} most played by {gender} listeners: order by plays, most first",
                            f"{call}[{gender!r}]에서 빠진 곡: {left_out[0]}(재생 {left_out[1]}번). {gender} "
                            f"청취자가 가장 많이 들은 {size}곡에 듭니다. 재생 수가 많은 순으로 정렬하세요")
            raise Wrong(f"{call}[{gender!r}] gives the plays {[n for _, n in got]}, expected {best}, most first",
                        f"{call}[{gender!r}]의 재생 수가 {[n for _, n in got]}이지만 많은 순으로 {best}여야 합니다")


def check_top_tracks(module) -> None:
    from common.clients import es_client
    from common.schema import STAGE2_DOC_FIELDS

    s = get_settings()
    es = es_client(s)
    index = f"{_unique()}_plays"
    try:
        docs = _enriched_sample_docs()
        _new_index(es, index, STAGE2_DOC_FIELDS)
        _bulk(es, index, ((str(d["event_id"]), d) for d in docs))
        counts: dict[str, Counter] = {}
        for d in docs:
            counts.setdefault(d["gender"], Counter())[d["track_id"]] += 1
        overall = Counter(d["track_id"] for d in docs)
        _top_lists(module.top_tracks_by_gender(es, index), 10, "top_tracks_by_gender(es, index)", counts, overall)
        _top_lists(module.top_tracks_by_gender(es, index, size=3), 3,
                   "top_tracks_by_gender(es, index, size=3)", counts, overall)
    finally:
        es.options(ignore_status=404).indices.delete(index=index)


# --- 2.4 nothing lost, nothing duplicated ----------------------------------------------------
SHIPPED = 3000          # the sample's first plays are "this run"; the next 200 an earlier run's


def _audit_index(es, index: str) -> tuple[list[int], set[int], dict[int, list[str]]]:
    """Index the sample's first SHIPPED + 200 plays, minus 6 shipped ones, with 5 shipped ones
    stored more than once: 3 under the _id of a missing play, 1 under '<id>-replayed',
    1 three times. As many extra copies as missing plays: the count looks right."""
    from common.events import parse_event
    from common.schema import STAGE1_DOC_FIELDS

    docs = {d["event_id"]: d for d in (parse_event(line) for line in _sample_lines(SHIPPED + 200))}
    shipped = sorted(docs)[:SHIPPED]
    rng = random.Random()
    chosen = rng.sample(shipped[10:], 11)
    missing, twice = set(chosen[:6]), chosen[6:]
    copies = {i: [str(i)] for i in docs if i not in missing}
    for i, borrowed in zip(twice[:3], sorted(missing)[:3]):
        copies[i].append(str(borrowed))             # the same play under another play's _id
    copies[twice[3]].append(f"{twice[3]}-replayed")
    copies[twice[4]] += [f"{twice[4]}-replayed", f"{twice[4]}-replayed-again"]
    _new_index(es, index, STAGE1_DOC_FIELDS)
    _bulk(es, index, ((_id, docs[i]) for i, ids in copies.items() for _id in ids))
    return shipped, missing, {i: ids for i, ids in copies.items() if len(ids) > 1}


def _id_list(result, name: str) -> list[int]:
    if not isinstance(result, dict) or name not in result:
        raise Wrong(f"audit() should return a dict with the keys 'missing' and 'duplicated', got {result!r:.80}",
                    f"audit()는 'missing'과 'duplicated' 키를 가진 dict를 돌려줘야 합니다. 받은 값: {result!r:.80}")
    try:
        return sorted(int(i) for i in result[name])
    except (TypeError, ValueError):
        raise Wrong(f"audit()[{name!r}] should be a list of event ids (numbers)",
                    f"audit()[{name!r}]는 event id(숫자)의 리스트여야 합니다") from None


def check_audit(module) -> None:
    from common.clients import es_client

    s = get_settings()
    es = es_client(s)
    index = f"{_unique()}_audit"
    try:
        shipped, missing, duplicated = _audit_index(es, index)
        result = module.audit(es, index, list(shipped))
        got_missing, got_dup = _id_list(result, "missing"), _id_list(result, "duplicated")
        if not got_missing and not got_dup:
            raise Wrong(f"audit() found nothing wrong, but {len(missing)} shipped plays are in no document and "
                        f"{len(duplicated)} are stored more than once; the index still holds {SHIPPED:,} documents "
                        "of shipped plays, so comparing counts is not enough: count each event_id",
                        f"audit()가 아무 문제도 찾지 못했지만, 보낸 재생 중 {len(missing)}개는 어느 문서에도 없고 "
                        f"{len(duplicated)}개는 두 번 이상 저장돼 있습니다. 보낸 재생의 문서 수는 그대로 {SHIPPED:,}개라서 "
                        "개수 비교로는 알 수 없습니다. event_id마다 세어 보세요")
        if len(got_missing) > 100:
            raise Wrong(f"audit() reported {len(got_missing):,} of {SHIPPED:,} shipped plays missing: did you read "
                        "every document? A search returns 10 hits unless you scroll (helpers.scan) or aggregate",
                        f"audit()가 보낸 재생 {SHIPPED:,}개 중 {len(got_missing):,}개가 없다고 했습니다. 문서를 전부 "
                        "읽었나요? 검색은 scroll(helpers.scan)이나 집계를 쓰지 않으면 10건만 돌려줍니다")
        wrong = [i for i in got_missing if i not in missing]
        if wrong:
            raise Wrong(f"audit() reports event {wrong[0]} as missing, but the index holds it "
                        f"(_id {duplicated.get(wrong[0], [str(wrong[0])])[0]!r})",
                        f"audit()가 없다고 한 event {wrong[0]}: index에 있습니다 "
                        f"(_id {duplicated.get(wrong[0], [str(wrong[0])])[0]!r})")
        for i in sorted(missing):
            if i not in got_missing:
                owner = next((j for j, ids in duplicated.items() if str(i) in ids), None)
                if owner is not None:
                    raise Wrong(f"audit() did not report event {i} as missing: no document has event_id {i}, "
                                f"though the copy of event {owner} has the _id '{i}': audit the event_id field, "
                                "not the _ids",
                                f"audit()가 빠진 것으로 보고하지 않은 event {i}: event_id가 {i}인 문서는 "
                                f"없습니다. event {owner} 사본의 _id가 '{i}'일 뿐입니다. _id가 아니라 "
                                "event_id 필드를 검사하세요")
                raise Wrong(f"audit() did not report event {i} as missing, though no document has event_id {i}",
                            f"audit()가 빠진 것으로 보고하지 않은 event {i}: event_id가 {i}인 문서가 없습니다")
        wrong = [i for i in got_dup if i not in duplicated]
        if wrong:
            raise Wrong(f"audit() reports event {wrong[0]} as duplicated, but it is stored once",
                        f"audit()가 중복이라고 한 event {wrong[0]}: 한 번만 저장돼 있습니다")
        for i, ids in sorted(duplicated.items()):
            if i not in got_dup:
                raise Wrong(f"audit() did not report event {i} as duplicated: {len(ids)} documents hold it "
                            f"(_ids {', '.join(repr(x) for x in ids)})",
                            f"audit()가 중복으로 보고하지 않은 event {i}: 문서 {len(ids)}개에 들어 있습니다 "
                            f"(_id {', '.join(repr(x) for x in ids)})")
    finally:
        es.options(ignore_status=404).indices.delete(index=index)


# --- 2.5 the sliding windows, in Spark ------------------------------------------------------
class _Probe:
    """Stands in for the DataFrame on a first call: an untouched starter raises
    NotImplementedError before touching it, so no Spark session is started for it."""

    def __getattr__(self, name):
        raise AttributeError(name)

    def __getitem__(self, name):
        raise KeyError(name)


def _untouched(function) -> None:
    try:
        function(_Probe(), "level")
    except NotImplementedError:
        raise
    except Exception:       # it began to work on the DataFrame: a real answer, check it with Spark
        pass


def _sample_plays_frame() -> pd.DataFrame:
    """Every sample play with its customer's level and its device, plus three edge plays:
    exactly on a 5-minute mark, one second before the next, and exactly on it."""
    from common.customers import level_label
    from common.readers import read_events

    events = read_events(SAMPLE / "tracks.csv")
    level = {cid: level_label(c.level) for cid, c in _sample_customers().items()}
    plays = pd.DataFrame({"customer_id": events["customer_id"], "track_id": events["track_id"],
                          "played_at": events["datetime"],
                          "level": events["customer_id"].map(level).fillna("unknown"),
                          "device": events["ismobile"].map({1: "mobile", 0: "pc"})})
    edges = pd.DataFrame({"customer_id": [1, 1, 1], "track_id": [1, 1, 1],
                          "played_at": ["2026-10-28 12:00:00", "2026-10-28 12:04:59", "2026-10-28 12:05:00"],
                          "level": [level[1]] * 3, "device": ["pc"] * 3})
    return pd.concat([plays, edges], ignore_index=True)


def window_oracle(plays: pd.DataFrame, by: str, length: str, slide: str) -> dict[tuple[str, str, str], int]:
    """{(window start, window end, key): plays}: a play at t is in every [start, start + length)
    with start on a multiple of ``slide`` (from the epoch) and start <= t < start + length."""
    t = pd.to_datetime(plays["played_at"], format=TIME)
    size, step = pd.Timedelta(length), pd.Timedelta(slide)
    last = t.dt.floor(step)
    out: Counter = Counter()
    for k in range(int(size / step) + 1):
        start = last - k * step
        inside = (start <= t) & (t < start + size)
        for s, key in zip(start[inside], plays[by][inside]):
            out[(s.strftime(TIME), (s + size).strftime(TIME), str(key))] += 1
    return dict(out)


def _windows_of(result, by: str, call: str) -> dict:
    from pyspark.sql import functions as F

    wanted = ["window_start", "window_end", "key", "plays"]
    columns = getattr(result, "columns", None)
    if columns is None:
        raise Wrong(f"{call} returned {type(result).__name__}; return the Spark DataFrame of counts",
                    f"{call}가 {type(result).__name__}을(를) 돌려줬습니다. 개수를 담은 Spark DataFrame을 돌려주세요")
    if not set(wanted) <= set(columns):
        raise Wrong(f"{call} has the columns {columns}, expected {wanted} "
                    "(window.start and window.end as window_start and window_end, the dimension's value as key)",
                    f"{call}의 컬럼이 {columns}이지만 {wanted}여야 합니다 "
                    "(window.start, window.end를 window_start, window_end로, 기준 컬럼의 값을 key로)")
    rows = result.select(F.date_format("window_start", "yyyy-MM-dd HH:mm:ss").alias("s"),
                         F.date_format("window_end", "yyyy-MM-dd HH:mm:ss").alias("e"),
                         F.col("key").cast("string").alias("k"), F.col("plays").cast("long").alias("n")).collect()
    got: dict = {}
    for row in rows:
        if (row.s, row.e, row.k) in got:
            raise Wrong(f"{call} has the window [{row.s}, {row.e}) for {by} {row.k} twice: group by the "
                        "window and the key, then count",
                        f"{call}에 {by} {row.k}의 [{row.s}, {row.e}) window가 두 번 나옵니다. window와 key로 "
                        "묶은 다음 세세요")
        got[(row.s, row.e, row.k)] = row.n
    return got


def _compare_windows(got: dict, expected: dict, plays: pd.DataFrame, by: str, length: str, slide: str,
                     call: str) -> None:
    if got == expected:
        return
    sizes = {pd.Timestamp(e) - pd.Timestamp(s) for s, e, _ in got}
    if sizes and sizes != {pd.Timedelta(length)}:
        minutes = sorted(int(x.total_seconds() // 60) for x in sizes)
        raise Wrong(f"{call} gave windows {', '.join(map(str, minutes))} minutes long, expected {length}: "
                    "pass the length and slide arguments to window()",
                    f"{call}의 window 길이가 {', '.join(map(str, minutes))}분입니다. {length}여야 합니다. "
                    "length와 slide 인자를 window()에 넘기세요")
    if abs(len(got) - len(expected)) > len(expected) // 10:
        raise Wrong(f"{call} gave {len(got):,} windows, the oracle {len(expected):,}: with window(played_at, "
                    f"'{length}', '{slide}') a play counts in every window that holds it, not only in one",
                    f"{call}의 window는 {len(got):,}개, 기대값은 {len(expected):,}개입니다. window(played_at, "
                    f"'{length}', '{slide}')에서는 재생 하나가 자신을 포함하는 모든 window에 들어갑니다")
    where = min(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
    start, end, key = where
    t = pd.to_datetime(plays["played_at"], format=TIME)
    edge = ((t == pd.Timestamp(start)) | (t == pd.Timestamp(end))) & (plays[by].astype(str) == key)
    hint = (f"; a play at exactly {start} is in it, one at exactly {end} is not: [start, end)" if edge.any() else "",
            f". 정확히 {start}의 재생은 들어가고 정확히 {end}의 재생은 들어가지 않습니다: [start, end)"
            if edge.any() else "")
    raise Wrong(f"{call}: {by} {key}, window [{start}, {end}) holds {expected.get(where, 0)} plays, you counted "
                f"{got.get(where, 'no such window')}{hint[0]}",
                f"{call}: {by} {key}, [{start}, {end}) window의 재생은 {expected.get(where, 0)}번인데 "
                + (f"여러분이 센 값은 {got[where]}입니다" if where in got else "그 window가 결과에 없습니다")
                + hint[1])


def _watermark_ms(stream_result) -> int | None:
    """The delay of the watermark on played_at in the analyzed plan of a streaming DataFrame."""
    plan = stream_result._jdf.queryExecution().analyzed().toString()
    found = re.search(r"played_at#\d+-T(\d+)ms", plan)
    return int(found.group(1)) if found else None


def check_window_counts(module) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from common.spark import get_spark

    _untouched(module.plays_per_window)
    existing = SparkSession.getActiveSession()
    spark = existing or get_spark("exercise-2.5", kafka=False, extra_conf={"spark.ui.showConsoleProgress": "false"})
    try:
        frame = _sample_plays_frame()
        ddl = "customer_id INT, track_id INT, played_at STRING, level STRING, device STRING"
        plays = (spark.createDataFrame(list(frame.itertuples(index=False, name=None)), ddl)
                 .withColumn("played_at", F.to_timestamp("played_at", "yyyy-MM-dd HH:mm:ss")))
        for by, args in (("level", {}), ("device", {"length": "20 minutes", "slide": "10 minutes"})):
            length, slide = args.get("length", "30 minutes"), args.get("slide", "5 minutes")
            call = "plays_per_window(plays, " + ", ".join([repr(by), *(f"{k}={v!r}" for k, v in args.items())]) + ")"
            got = _windows_of(module.plays_per_window(plays, by, **args), by, call)
            _compare_windows(got, window_oracle(frame, by, length, slide), frame, by, length, slide, call)

        with tempfile.TemporaryDirectory(prefix="ex_stream_") as folder:
            stream = spark.readStream.schema("customer_id INT, track_id INT, played_at TIMESTAMP, "
                                             "level STRING, device STRING").json(str(Path(folder)))
            delay = _watermark_ms(module.plays_per_window(stream, "device", lateness="7 minutes"))
        if delay is None:
            raise Wrong("plays_per_window() on a stream sets no watermark on played_at: call "
                        "withWatermark('played_at', lateness) before grouping, or Spark keeps every window forever",
                        "스트림에 plays_per_window()를 적용했더니 played_at에 watermark가 없습니다. 묶기 전에 "
                        "withWatermark('played_at', lateness)를 부르세요. 그렇지 않으면 Spark가 모든 window를 영원히 들고 있습니다")
        if delay != 7 * 60_000:
            raise Wrong(f"plays_per_window(stream, 'device', lateness='7 minutes') sets a watermark of "
                        f"{delay / 60_000:g} minutes: pass the lateness argument to withWatermark",
                        f"plays_per_window(stream, 'device', lateness='7 minutes')의 watermark가 "
                        f"{delay / 60_000:g}분입니다. lateness 인자를 withWatermark에 넘기세요")
    finally:
        if existing is None:
            spark.stop()


EXERCISES = [
    Exercise(
        key="2.1", file="enrich_one.py",
        title=Text("Enrich one play from Redis", "Redis로 재생 기록 하나 보강하기"),
        skill=Text("reading a customer's Redis hash (HGETALL) and merging it into a play, as the job does",
                   "고객의 Redis hash를 읽고(HGETALL) 재생 기록에 합치기: streaming job이 하는 일 그대로"),
        minutes=5,
        first_step=Text("Fill in customer_of() in exercises/stage2/enrich_one.py (one HGETALL on prefix + "
                        "customer id), then enrich_one()",
                        "exercises/stage2/enrich_one.py의 customer_of()를 채우고(prefix + 고객 id 키에 HGETALL 한 번) "
                        "이어서 enrich_one()을 채우세요"),
        check=check_enrich_one, needs=("redis",)),
    Exercise(
        key="2.2", file="interest_threshold.py",
        title=Text("Interest threshold 4: predict, then confirm", "관심 기준 4회: 먼저 예측하고 확인하기"),
        skill=Text("the interest rule (N plays of one track within 30 minutes of event time) in pandas, "
                   "and its edges",
                   "관심 목록 규칙(이벤트 시간 30분 안에 한 곡 N회 재생)을 pandas로 구현하고 경계 사례 다루기"),
        minutes=15,
        first_step=Text("Write your guess in PREDICTED_PAIRS_AT_4, then fill in interest_pairs() in "
                        "exercises/stage2/interest_threshold.py",
                        "exercises/stage2/interest_threshold.py의 PREDICTED_PAIRS_AT_4에 예측을 적고 "
                        "interest_pairs()를 채우세요"),
        check=check_interest_threshold),
    Exercise(
        key="2.3", file="top_tracks.py",
        title=Text("Top 10 tracks by gender", "성별 인기 10곡"),
        skill=Text("a nested Elasticsearch terms aggregation over the enriched plays",
                   "보강된 재생 기록에 대한 Elasticsearch terms 중첩 집계"),
        minutes=15,
        first_step=Text("Fill in top_tracks_by_gender() in exercises/stage2/top_tracks.py: a terms aggregation "
                        "on gender with a terms aggregation on track_id inside",
                        "exercises/stage2/top_tracks.py의 top_tracks_by_gender()를 채우세요. gender terms 집계 "
                        "안에 track_id terms 집계를 넣으면 됩니다"),
        check=check_top_tracks, needs=("elasticsearch",)),
    Exercise(
        key="2.4", file="audit.py",
        title=Text("Prove that nothing was lost or duplicated", "유실도 중복도 없음을 증명하기"),
        skill=Text("auditing an index against the shipped event ids, after killing the streaming job",
                   "streaming job을 죽인 뒤, 보낸 event id와 index를 대조해 검증하기"),
        minutes=20,
        first_step=Text("Fill in audit() in exercises/stage2/audit.py: read the event_id of every document, "
                        "then compare with the shipped ids",
                        "exercises/stage2/audit.py의 audit()를 채우세요. 모든 문서의 event_id를 읽어 보낸 id와 "
                        "비교합니다"),
        check=check_audit, needs=("elasticsearch",)),
    Exercise(
        key="2.5", file="window_counts.py",
        title=Text("Write the windowed aggregate yourself (stretch)", "window 집계 직접 작성하기 (심화)"),
        skill=Text("Spark's window() on event time with a watermark: sliding windows, [start, end) edges",
                   "watermark와 함께 이벤트 시간에 Spark window() 적용하기: 슬라이딩 window, [start, end) 경계"),
        minutes=40,
        first_step=Text("Fill in plays_per_window() in exercises/stage2/window_counts.py: withWatermark, "
                        "then groupBy(window(...), key) and count",
                        "exercises/stage2/window_counts.py의 plays_per_window()를 채우세요. withWatermark 다음에 "
                        "groupBy(window(...), key)로 묶어 셉니다"),
        check=check_window_counts, needs=("spark",)),
]
