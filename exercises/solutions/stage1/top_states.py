"""Exercise 1.4, worked solution: the five states with most plays, and their listeners."""


def top_states_search() -> dict:
    return {
        "size": 0,
        "aggs": {
            "states": {
                # `state` is a keyword the shipper added from the zip table: exact values,
                # one bucket each, most plays first, five of them
                "terms": {"field": "state", "size": 5},
                "aggs": {
                    # distinct customers, not plays: cardinality. It is exact below
                    # precision_threshold distinct values, an estimate above (bounded memory)
                    "customers": {"cardinality": {"field": "customer_id", "precision_threshold": 40000}},
                },
            },
        },
    }


def top_states(response: dict) -> list[tuple[str, int, int]]:
    return [(b["key"], b["doc_count"], b["customers"]["value"])
            for b in response["aggregations"]["states"]["buckets"]]


# "value_count" of customer_id would count plays again (one value per document);
# "cardinality" counts each customer once.

if __name__ == "__main__":            # try it on your own stage-1 index
    from common.clients import es_client
    from common.config import get_settings

    settings = get_settings()
    response = es_client(settings).search(index=settings.index_stage1, **top_states_search())
    for state, plays, customers in top_states(response.body):
        print(f"{state}  {plays:8d} plays  {customers:6d} customers")
