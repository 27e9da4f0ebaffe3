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
