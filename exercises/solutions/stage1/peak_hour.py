"""Exercise 1.1, worked solution: the busiest hour of the day.

The cluster counts; we receive 24 numbers, never the plays themselves.
"""


def peak_hour_search() -> dict:
    return {
        "size": 0,            # no documents in the answer: only the aggregation's buckets
        "aggs": {
            # `hour` (0-23, UTC) was added to every play by the shipper (common/events.py).
            # A terms aggregation makes one bucket per value and counts its documents
            # (doc_count); the buckets come busiest first, so the first one is the answer.
            "by_hour": {"terms": {"field": "hour", "size": 1}},
        },
    }


def peak_hour(response: dict) -> tuple[int, int]:
    top = response["aggregations"]["by_hour"]["buckets"][0]
    return int(top["key"]), top["doc_count"]


# A date_histogram with "calendar_interval": "hour" would count each hour of each day
# separately (2026-10-30 21:00 is one bucket, 2026-10-31 21:00 another): the busiest
# single hour, not the busiest hour of day. The notebook does that and then sums by
# hour of day in pandas; counting on `hour` lets Elasticsearch do the whole job.

if __name__ == "__main__":            # try it on your own stage-1 index
    from common.clients import es_client
    from common.config import get_settings

    settings = get_settings()
    response = es_client(settings).search(index=settings.index_stage1, **peak_hour_search())
    print("busiest hour of day (UTC), plays:", peak_hour(response.body))
