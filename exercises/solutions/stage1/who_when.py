"""Exercise 1.5, worked solution: who listens to what, and when.

Three levels of buckets: part of the day > the 3 customers with most plays in it > each
one's most played track in that part.
"""
from common.profiles import TIME_OF_DAY, TIME_OF_DAY_STARTS


def part_filter(part: str) -> dict:
    """The query that selects one part of the day by the field hour: [start, next start)."""
    start = TIME_OF_DAY_STARTS[part]
    end = TIME_OF_DAY_STARTS[TIME_OF_DAY[(TIME_OF_DAY.index(part) + 1) % len(TIME_OF_DAY)]]
    if start < end:
        return {"range": {"hour": {"gte": start, "lt": end}}}
    # night, [22, 5), wraps round midnight: no single range holds it, so two, either one
    return {"bool": {"should": [{"range": {"hour": {"gte": start}}},
                                {"range": {"hour": {"lt": end}}}],
                     "minimum_should_match": 1}}


def who_when_search() -> dict:
    return {
        "size": 0,
        "aggs": {
            "parts": {
                # filters: one bucket per named query (a range aggregation could not wrap midnight)
                "filters": {"filters": {part: part_filter(part) for part in TIME_OF_DAY}},
                "aggs": {
                    "customers": {
                        "terms": {"field": "customer_id", "size": 3},     # busiest first
                        "aggs": {"favourite": {"terms": {"field": "track_id", "size": 1}}},
                    },
                },
            },
        },
    }


def who_when(response: dict) -> dict[str, list[tuple[int, int, int]]]:
    parts = response["aggregations"]["parts"]["buckets"]      # keyed by part name (filters)
    return {
        part: [(int(c["key"]), c["doc_count"], int(c["favourite"]["buckets"][0]["key"]))
               for c in bucket["customers"]["buckets"]]
        # ids are keywords in the index, so bucket keys are text: int() them
        for part, bucket in parts.items()
    }


if __name__ == "__main__":            # try it on your own stage-1 index
    from common.clients import es_client
    from common.config import get_settings

    settings = get_settings()
    response = es_client(settings).search(index=settings.index_stage1, **who_when_search())
    for part, rows in who_when(response.body).items():
        print(part, rows)
