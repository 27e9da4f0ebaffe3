"""Exercise 2.3: the 10 most played tracks by gender (15 minutes).

Stage 1's documents only knew a customer id. Stage 2's know the listener's
gender (from the Redis hash), so Elasticsearch can answer "what do women and
men play most?" in one request, without Spark.

Given:
  es      an Elasticsearch client (common.clients.es_client)
  index   an index of enriched plays (ba_realtime2 in the stage; the checker
          passes an index of its own), mapped by common/schema.py: gender and
          track_id are keyword fields

Your task: top_tracks_by_gender(es, index, size) ->
    {"female": [(track_id, plays), ...], "male": [(track_id, plays), ...]}
the `size` most played tracks for each gender, most played first, track_id
and plays as int. One search request with aggregations, no documents (size=0).

Check:  make check-stage2 EX=2.3
Try it on the stage's index after a stage-2 run:
    .venv/bin/python exercises/stage2/top_tracks.py

한국어
------
과제 2.3 (15분): 성별 인기 10곡.
2단계 문서에는 청취자의 성별이 있으므로 Elasticsearch가 Spark 없이 요청 한 번으로 "여성과 남성은
무엇을 가장 많이 듣나?"에 답할 수 있습니다.
주어진 것: es(Elasticsearch 클라이언트), index(보강된 재생의 index. gender와 track_id는 keyword).
할 일: top_tracks_by_gender(es, index, size) -> {"female": [(track_id, plays), ...], "male": [...]}.
성별마다 가장 많이 재생된 곡 `size`개를 많은 순으로, track_id와 plays는 int로. aggregation을 쓴
검색 요청 하나, 문서는 받지 않습니다(size=0).
"""
from __future__ import annotations


def top_tracks_by_gender(es, index: str, size: int = 10) -> dict[str, list[tuple[int, int]]]:
    """{gender: [(track_id, plays), ...]}, the `size` most played tracks of each gender."""
    # Hint: es.search(index=index, size=0, aggs={...}); the answer's buckets are in
    # response["aggregations"][<your name>]["buckets"], each with "key" and "doc_count".
    raise NotImplementedError("top_tracks_by_gender: terms on gender, with terms on track_id inside")


if __name__ == "__main__":
    from common.clients import es_client
    from common.config import get_settings

    s = get_settings()
    for gender, tracks in top_tracks_by_gender(es_client(s), s.index_stage2).items():
        print(gender, tracks)
