"""Exercise 1.2 (10 minutes): plays and mobile share per hour of day.

Stage 1's first question in full: usage per hour, and how much of it is mobile.

Given: `hour` (0-23, UTC) and `ismobile` (1 on a phone, 0 on a PC) in every document.
Since ismobile is 0 or 1, its average over some plays is the share of them made on
a phone.

To do:
  1. mobile_by_hour_search(): a body with "size": 0, one bucket per hour of day
     (all 24 of them), and inside each bucket a sub-aggregation: the avg of ismobile.
     A sub-aggregation goes in an "aggs" next to the bucket aggregation's own type:
         {"by_hour": {"terms": {...}, "aggs": {"mobile_share": {"avg": {...}}}}}
  2. mobile_by_hour(response): {hour: (plays, mobile_share)} for every hour,
     for example {0: (135, 0.58), 1: (...), ...}. A sub-aggregation's result is in
     its bucket: bucket["mobile_share"]["value"].

Check:        make check-stage1 EX=1.2
Try it live:  .venv/bin/python exercises/stage1/mobile_by_hour.py

한국어
------
과제 1.2 (10분): 시각별 재생 수와 모바일 비율.
1단계 첫 질문의 전체 형태입니다. 시각별 사용량과 그중 휴대폰 재생의 비율을 구합니다.
주어진 것: 모든 문서에 `hour`(0-23, UTC)와 `ismobile`(휴대폰 1, PC 0)이 있습니다. ismobile은
0 아니면 1이므로 재생 몇 건에 대한 평균이 곧 휴대폰 재생의 비율입니다.
할 일:
  1. mobile_by_hour_search(): "size": 0, 하루의 시각마다 bucket 하나(24개 모두), 그리고 각 bucket
     안에 ismobile의 avg 하위 aggregation. 하위 aggregation은 bucket aggregation의 종류 옆
     "aggs"에 넣습니다(위의 예).
  2. mobile_by_hour(response): 모든 시각에 대해 {hour: (plays, mobile_share)}. 하위 aggregation의
     결과는 그 bucket 안에 있습니다: bucket["mobile_share"]["value"].
"""


def mobile_by_hour_search() -> dict:
    raise NotImplementedError("write the search body")


def mobile_by_hour(response: dict) -> dict[int, tuple[int, float]]:
    raise NotImplementedError("read {hour: (plays, mobile_share)} from the response")


if __name__ == "__main__":            # try it on your own stage-1 index
    from common.clients import es_client
    from common.config import get_settings

    settings = get_settings()
    response = es_client(settings).search(index=settings.index_stage1, **mobile_by_hour_search())
    for hour, (plays, share) in sorted(mobile_by_hour(response.body).items()):
        print(f"{hour:02d}:00  {plays:8d} plays  {share:6.1%} mobile")
