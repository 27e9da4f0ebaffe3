"""Exercise 2.4: prove that nothing was lost or duplicated (20 minutes).

The stage promises that a crash loses nothing and duplicates nothing: Spark
replays an uncommitted micro-batch, and every write is idempotent (the
document _id is the event_id). Trust, but check: after killing the streaming
job with kill -9 and starting it again (exercises/stage2/README.md, 2.4), the
index must hold every shipped play exactly once.

A count is not a proof: one play missing and another stored twice (under
another _id, say by a buggy writer) give the right count. Look at the
event_id field of every document.

Given:
  es        an Elasticsearch client (common.clients.es_client)
  index     the index to audit (ba_realtime2 in the stage; the checker passes
            an index of its own, with a few plays missing and a few stored twice)
  shipped   the event ids that were shipped (ints). The index may also hold
            plays of other runs: those are none of this audit's business.

Your task: audit(es, index, shipped) ->
    {"missing": [ids of shipped plays in no document, sorted],
     "duplicated": [ids of shipped plays in two or more documents, sorted]}

Check:  make check-stage2 EX=2.4
Use:    .venv/bin/python exercises/stage2/audit.py FIRST_ID LAST_ID

한국어
------
과제 2.4 (20분): 유실도 중복도 없음을 증명하기.
2단계는 장애가 나도 잃는 것도 중복되는 것도 없다고 약속합니다. Spark는 commit되지 않은
micro-batch를 다시 실행하고, 모든 쓰기는 멱등합니다(문서 _id가 event_id). 그래도 확인합니다.
streaming job을 kill -9로 죽였다 다시 시작한 뒤(exercises/stage2/README.ko.md, 2.4) index에는
보낸 재생이 모두 정확히 한 번씩 있어야 합니다. 개수는 증명이 아닙니다: 하나가 빠지고 다른 하나가
두 번 저장되면 개수는 맞습니다. 모든 문서의 event_id 필드를 보세요.
주어진 것: es, index(점검할 index), shipped(보낸 event id들. index에는 다른 실행의 재생도 있을 수
있으며, 그것은 이 점검의 대상이 아닙니다).
할 일: audit(es, index, shipped) -> {"missing": [어느 문서에도 없는 id, 정렬],
"duplicated": [두 개 이상의 문서에 있는 id, 정렬]}.
"""
from __future__ import annotations

import argparse


def audit(es, index: str, shipped) -> dict[str, list[int]]:
    """Which shipped event ids are missing from the index, and which are stored more than once."""
    # Hint: elasticsearch.helpers.scan reads every document (a plain search
    # returns 10); _source=["event_id"] keeps the answer small. Count per event_id.
    raise NotImplementedError("audit: read the event_id of every document, count them, compare with shipped")


if __name__ == "__main__":
    from common.clients import es_client
    from common.config import get_settings

    s = get_settings()
    p = argparse.ArgumentParser(description="audit an index against the event ids FIRST..LAST")
    p.add_argument("first", type=int)
    p.add_argument("last", type=int)
    p.add_argument("--index", default=s.index_stage2)
    a = p.parse_args()
    es = es_client(s)
    es.indices.refresh(index=a.index)
    found = audit(es, a.index, range(a.first, a.last + 1))
    print(f"{a.index}: {a.last - a.first + 1} plays shipped (event ids {a.first}..{a.last}), "
          f"{len(found['missing'])} missing, {len(found['duplicated'])} duplicated")
    for name in ("missing", "duplicated"):
        if found[name]:
            print(f"  {name}: {found[name][:20]}{' ...' if len(found[name]) > 20 else ''}")
