"""Exercise 1.1 (warm-up, 5 minutes): the busiest hour of the day.

Stage 1's first question is "when do people listen?". Elasticsearch can answer it
without sending us a single play: an aggregation counts the plays per hour of day
inside the cluster and returns only the counts.

Given: every document in the stage-1 index has the field `hour`, the hour of day of
the play (0-23, UTC), an integer the shipper added (common/events.py).

To do:
  1. peak_hour_search(): return the search body, a dict {"size": 0, "aggs": {...}}
     with a `terms` aggregation on the field `hour`. "size": 0 because we want the
     buckets, not the documents.
  2. peak_hour(response): read the answer from Elasticsearch's response (a dict):
     the busiest hour and its number of plays, as (hour, plays).
     A terms aggregation returns its buckets busiest first:
     response["aggregations"]["<your name>"]["buckets"] == [{"key": ..., "doc_count": ...}, ...]

Check:        make check-stage1 EX=1.1
Try it live:  .venv/bin/python exercises/stage1/peak_hour.py   (on your ba_realtime index)

한국어
------
과제 1.1 (워밍업, 5분): 하루 중 가장 바쁜 시각.
1단계의 첫 질문은 "사람들은 언제 듣는가?"입니다. Elasticsearch는 재생 한 건도 보내지 않고
답할 수 있습니다. aggregation이 cluster 안에서 시각별 재생 수를 세고 그 수만 돌려줍니다.
주어진 것: 1단계 index의 모든 문서에는 재생 시각(0-23, UTC)인 정수 필드 `hour`가 있습니다
(shipper가 붙임, common/events.py).
할 일:
  1. peak_hour_search(): 필드 `hour`에 `terms` aggregation을 건 검색 본문
     {"size": 0, "aggs": {...}}을 돌려줍니다. 문서가 아니라 bucket이 필요하므로 "size": 0입니다.
  2. peak_hour(response): Elasticsearch의 응답(dict)에서 가장 바쁜 시각과 그 재생 수를
     (hour, plays)로 읽습니다. terms aggregation은 bucket을 많은 순으로 돌려줍니다.
"""


def peak_hour_search() -> dict:
    # return {"size": 0, "aggs": {"by_hour": {"terms": {...}}}}
    raise NotImplementedError("write the search body")


def peak_hour(response: dict) -> tuple[int, int]:
    # the first bucket of your aggregation: (int(its key), its doc_count)
    raise NotImplementedError("read (hour, plays) from the response")


if __name__ == "__main__":            # try it on your own stage-1 index
    from common.clients import es_client
    from common.config import get_settings

    settings = get_settings()
    response = es_client(settings).search(index=settings.index_stage1, **peak_hour_search())
    print("busiest hour of day (UTC), plays:", peak_hour(response.body))
