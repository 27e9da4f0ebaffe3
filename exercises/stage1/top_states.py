"""Exercise 1.4 (10 minutes): the top states, and how many listeners each has.

Stage 1's questions 2 and 3: which regions listen most, and which customers listen where.

Given: `state` (a keyword, the two-letter US state the shipper looked up from the zip)
and `customer_id` (a keyword) in every document.

To do:
  1. top_states_search(): "size": 0, a terms aggregation on `state` returning the 5
     states with most plays, and inside each state's bucket the number of DIFFERENT
     customers who played there (a `cardinality` sub-aggregation; a count of
     customer_id values would count the plays again).
  2. top_states(response): [(state, plays, customers), ...], the busiest state first,
     for example [("NY", 120, 9), ...].

Check:        make check-stage1 EX=1.4
Try it live:  .venv/bin/python exercises/stage1/top_states.py

한국어
------
과제 1.4 (10분): 재생이 많은 주와 그 청취자 수.
1단계의 질문 2와 3입니다. 어느 지역에서 가장 많이 듣는지, 어느 고객이 어디서 듣는지.
주어진 것: 모든 문서에 `state`(shipper가 zip으로 찾은 두 글자 미국 주, keyword)와
`customer_id`(keyword)가 있습니다.
할 일:
  1. top_states_search(): "size": 0, 재생이 가장 많은 주 5개를 돌려주는 `state`의 terms
     aggregation, 그리고 주마다 그곳에서 들은 **서로 다른** 고객 수(`cardinality` 하위
     aggregation. customer_id 값을 세면 재생을 다시 세게 됩니다).
  2. top_states(response): [(state, plays, customers), ...], 가장 바쁜 주부터.
"""


def top_states_search() -> dict:
    raise NotImplementedError("write the search body")


def top_states(response: dict) -> list[tuple[str, int, int]]:
    raise NotImplementedError("read [(state, plays, customers), ...] from the response")


if __name__ == "__main__":            # try it on your own stage-1 index
    from common.clients import es_client
    from common.config import get_settings

    settings = get_settings()
    response = es_client(settings).search(index=settings.index_stage1, **top_states_search())
    for state, plays, customers in top_states(response.body):
        print(f"{state}  {plays:8d} plays  {customers:6d} customers")
