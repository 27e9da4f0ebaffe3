"""Exercise 1.5 (stretch, 25 minutes): who listens to what, and when.

Stage 1's question 4, as one search: for each part of the day, the 3 customers with
most plays in it, and for each of them the track they played most in that part.

Given: the parts of the day of common/profiles.py, by the field `hour` (UTC):
    morning [5, 12), afternoon [12, 17), evening [17, 22), night [22, 5)
TIME_OF_DAY (the four names) and TIME_OF_DAY_STARTS (their first hours) hold them.
Night wraps round midnight: no single range holds it.

To do:
  1. who_when_search(): three levels of buckets, "size": 0:
       a `filters` aggregation: one named bucket per part of the day, each a query on hour
         > a terms on customer_id, 3 buckets (busiest customer first)
           > a terms on track_id, 1 bucket (that customer's favourite in that part)
  2. who_when(response): {part: [(customer_id, plays, favourite_track_id), ...], ...}
     with the four parts, three tuples each, ids as ints. A filters aggregation with
     named filters returns its buckets as a dict, keyed by your names.

Check:        make check-stage1 EX=1.5
Try it live:  .venv/bin/python exercises/stage1/who_when.py

한국어
------
과제 1.5 (심화, 25분): 누가 언제 무엇을 듣는가.
1단계의 질문 4를 검색 한 번으로 답합니다. 하루 구간마다 재생이 가장 많은 고객 3명과, 그 고객이
그 구간에 가장 많이 들은 곡입니다.
주어진 것: common/profiles.py의 하루 구간(필드 `hour`, UTC 기준): 아침 [5, 12), 오후 [12, 17),
저녁 [17, 22), 밤 [22, 5). TIME_OF_DAY(네 이름)와 TIME_OF_DAY_STARTS(각 구간의 첫 시각)에
있습니다. 밤은 자정을 넘으므로 range 하나로는 담을 수 없습니다.
할 일:
  1. who_when_search(): "size": 0, 3단 bucket: 구간마다 이름 붙은 bucket을 가진 `filters`
     aggregation > customer_id의 terms(bucket 3개) > track_id의 terms(bucket 1개).
  2. who_when(response): {구간: [(customer_id, plays, favourite_track_id), ...], ...}, 네 구간에
     튜플 세 개씩, id는 int. 이름 붙은 filters aggregation은 bucket을 이름을 키로 한 dict로
     돌려줍니다.
"""
from common.profiles import TIME_OF_DAY, TIME_OF_DAY_STARTS   # noqa: F401


def who_when_search() -> dict:
    raise NotImplementedError("write the search body")


def who_when(response: dict) -> dict[str, list[tuple[int, int, int]]]:
    raise NotImplementedError("read {part: [(customer_id, plays, track_id), ...]} from the response")


if __name__ == "__main__":            # try it on your own stage-1 index
    from common.clients import es_client
    from common.config import get_settings

    settings = get_settings()
    response = es_client(settings).search(index=settings.index_stage1, **who_when_search())
    for part, rows in who_when(response.body).items():
        print(part, rows)
