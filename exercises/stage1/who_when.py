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
