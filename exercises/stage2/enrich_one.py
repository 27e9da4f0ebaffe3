"""Exercise 2.1: enrich one play from Redis (warm-up, 5 minutes).

The streaming job turns a bare play into a document that knows who listened: it
reads the customer's Redis hash, written by `make stage2-import`:

    customer:{CustID} -> name, gender, age, age_band, level, campaign, zip, ...

and merges it into the play (stage2.enrich.enrich_event). Here you do it for
one play, the way a single event would go through the job.

Given:
  r         a Redis client that returns str (common.clients.redis_client)
  prefix    the start of every customer key ("customer:" in the stage; the
            checker uses keys of its own, so use the prefix, do not type it)
  catalog   {track_id: {"title", "artist", "length"}} (common.readers.read_catalog)

Your task:
  1. customer_of(r, customer_id, prefix): the customer's hash, as a dict.
     A customer who is not in Redis gives {} (that is what HGETALL answers).
  2. enrich_one(r, line, catalog, prefix): one line of the listening log ->
     the stage-2 document. Use the project's own functions below: parse_event
     for the line, enrich_event for the merge.

Check:  make check-stage2 EX=2.1

한국어
------
과제 2.1 (워밍업, 5분): Redis로 재생 기록 하나 보강하기.
streaming job은 `make stage2-import`가 써 둔 고객의 Redis hash(customer:{CustID})를 읽어 재생에
합칩니다(stage2.enrich.enrich_event). 여기서는 재생 하나에 대해 직접 해 봅니다.
주어진 것: r(str을 돌려주는 Redis 클라이언트), prefix(모든 고객 키의 앞부분. 채점기는 자기 키를
쓰므로 직접 입력하지 말고 prefix를 쓰세요), catalog({track_id: {"title", "artist", "length"}}).
할 일:
  1. customer_of(r, customer_id, prefix): 고객 hash를 dict로. Redis에 없는 고객은 {}입니다.
  2. enrich_one(r, line, catalog, prefix): 청취 로그 한 줄 -> 2단계 문서. 줄은 parse_event로,
     합치기는 enrich_event로 합니다.
"""
from __future__ import annotations

from common.events import parse_event           # noqa: F401  (you will use it)
from stage2.enrich import enrich_event           # noqa: F401  (you will use it)


def customer_of(r, customer_id: int, prefix: str = "customer:") -> dict:
    """The Redis hash of one customer: {field: value}, or {} when there is none."""
    # One Redis command reads a whole hash. The key is the prefix + the id.
    raise NotImplementedError("customer_of: one HGETALL on f'{prefix}{customer_id}'")


def enrich_one(r, line: str, catalog: dict, prefix: str = "customer:") -> dict:
    """One log line, e.g. '1,199,21,2026-10-25 00:01:59,0,19930', -> the enriched document."""
    # parse the line (the play), look the customer up, find the track, merge the three
    raise NotImplementedError("enrich_one: parse_event, customer_of, catalog.get, enrich_event")
