"""Exercise 2.3, a worked solution: the 10 most played tracks by gender.

One request: a terms aggregation on gender makes one bucket per gender, and a
terms aggregation on track_id inside it counts the tracks within each bucket.
Elasticsearch does the counting where the data is; nothing but the counts
comes back (size=0: no documents).

A note on exactness: over several shards a terms aggregation adds up each
shard's own top list, so its counts can be approximate; the stage's indices
have one shard (common/schema.py), where they are exact.
"""
from __future__ import annotations


def top_tracks_by_gender(es, index: str, size: int = 10) -> dict[str, list[tuple[int, int]]]:
    """{gender: [(track_id, plays), ...]}, the `size` most played tracks of each gender."""
    response = es.search(index=index, size=0, aggs={
        "by_gender": {
            "terms": {"field": "gender"},                      # female, male: one bucket each
            "aggs": {
                # inside each gender bucket: its tracks, most plays first (the default order)
                "top_tracks": {"terms": {"field": "track_id", "size": size}},
            },
        },
    })
    out = {}
    for gender in response["aggregations"]["by_gender"]["buckets"]:
        # track_id is a keyword field, so its keys come back as text: "373", not 373
        out[gender["key"]] = [(int(t["key"]), t["doc_count"]) for t in gender["top_tracks"]["buckets"]]
    return out


if __name__ == "__main__":
    from common.clients import es_client
    from common.config import get_settings

    s = get_settings()
    for gender, tracks in top_tracks_by_gender(es_client(s), s.index_stage2).items():
        print(gender, tracks)
