"""Exercise 2.4, a worked solution: prove that nothing was lost or duplicated.

Read the event_id of every document (not the _id: a play stored twice under two
different _ids is still one play twice), count each one, and compare with what
was shipped. helpers.scan pages through the whole index with the scroll API,
so it works for 6,000 documents and for millions alike.

The same with aggregations, without reading documents: a terms aggregation on
event_id with "min_doc_count": 2 lists the duplicates, and a composite
aggregation pages through all the ids. Scanning is simpler and fast enough here.
"""
from __future__ import annotations

import argparse
from collections import Counter


def audit(es, index: str, shipped) -> dict[str, list[int]]:
    """Which shipped event ids are missing from the index, and which are stored more than once."""
    from elasticsearch import helpers

    # Only the field we need comes back (_source filtering); the ids are keyword
    # fields in the mapping, but _source holds what was sent: here an int.
    stored = Counter(int(hit["_source"]["event_id"])
                     for hit in helpers.scan(es, index=index, _source=["event_id"],
                                             query={"query": {"match_all": {}}}))
    wanted = set(shipped)
    return {
        # shipped, but in no document: lost
        "missing": sorted(i for i in wanted if stored[i] == 0),
        # shipped, and in two or more documents: duplicated. Plays of other runs
        # (in the index, not shipped this time) are left alone.
        "duplicated": sorted(i for i in wanted if stored[i] > 1),
    }


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
