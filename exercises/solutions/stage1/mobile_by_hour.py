"""Exercise 1.2, worked solution: plays and mobile share per hour of day."""


def mobile_by_hour_search() -> dict:
    return {
        "size": 0,
        "aggs": {
            "by_hour": {
                # 24 buckets: a terms aggregation returns only 10 unless `size` asks for more
                # (a "histogram" on hour with "interval": 1 would do the same)
                "terms": {"field": "hour", "size": 24},
                # a sub-aggregation runs once per bucket, on that bucket's plays only.
                # ismobile is 0 or 1, so its average is the share of plays on a phone.
                "aggs": {"mobile_share": {"avg": {"field": "ismobile"}}},
            },
        },
    }


def mobile_by_hour(response: dict) -> dict[int, tuple[int, float]]:
    buckets = response["aggregations"]["by_hour"]["buckets"]
    return {int(b["key"]): (b["doc_count"], b["mobile_share"]["value"]) for b in buckets}


if __name__ == "__main__":            # try it on your own stage-1 index
    from common.clients import es_client
    from common.config import get_settings

    settings = get_settings()
    response = es_client(settings).search(index=settings.index_stage1, **mobile_by_hour_search())
    for hour, (plays, share) in sorted(mobile_by_hour(response.body).items()):
        print(f"{hour:02d}:00  {plays:8d} plays  {share:6.1%} mobile")
