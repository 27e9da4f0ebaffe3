"""Spark's windowed aggregates (stage2.window_stats) against the real Kafka and Elasticsearch.

Compared with a pandas oracle written here on its own, and with the same
counts computed by Elasticsearch from the enriched documents. Edges: a play
exactly on a window boundary, and late plays that arrive in a later micro-batch,
inside and beyond the watermark (a window is final once its end is at or behind
the watermark; a late play still counts in its windows that are not final).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from common.customers import level_label
from common.geo import lookup_zip
from tests.integration.test_streaming_job import all_docs, produce, run_job, sample_data  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration

CUSTOMERS = ("CustID,Name,Gender,Address,zip,SignDate,Status,Level,Campaign,LinkedWithApps\n"
             "1,Ann Free,0,1 Main St,10001,01/02/2024,1,0,1,1\n"
             "2,Bob Gold,1,2 Main St,94103,03/04/2024,1,2,0,0\n")


def window_starts(t: pd.Timestamp, length: str, slide: str) -> list[pd.Timestamp]:
    """The starts of the sliding windows [start, start + length) that hold ``t``."""
    last = t.floor(slide)
    return [s for s in pd.date_range(last - pd.Timedelta(length) + pd.Timedelta(slide), last, freq=slide)
            if s <= t < s + pd.Timedelta(length)]


def oracle(plays: list[dict], length="30min", slide="5min") -> dict[str, int]:
    """{doc id: plays}: each play counted in each of its windows whose end is after
    the watermark in force when the play arrived (its ``watermark``, None = none yet)."""
    out: dict[str, int] = {}
    for p in plays:
        t = pd.Timestamp(p["datetime"])
        for start in window_starts(t, length, slide):
            if p["watermark"] is not None and start + pd.Timedelta(length) <= p["watermark"]:
                continue                           # that window is final: the play is too late for it
            for dim in ("state", "level", "device"):
                key = f"{dim}-{p[dim]}-{start.strftime('%Y-%m-%dT%H:%M:%S')}"
                out[key] = out.get(key, 0) + 1
    return out


def line(event_id, cust, when, zip_code, mobile) -> str:
    return f"{event_id},{cust},10,{when},{mobile},{zip_code}"


def test_boundaries_and_late_plays_inside_and_beyond_the_watermark(spark, stage2, tmp_path):
    (stage2.data_dir / "cust.csv").write_text(CUSTOMERS)
    state = {z: lookup_zip(z).state for z in ("10001", "94103")}
    levels = {1: level_label(0), 2: level_label(2), 999: "unknown"}

    def play(event_id, cust, when, zip_code, mobile, watermark=None):
        return {"line": line(event_id, cust, when, zip_code, mobile), "datetime": when,
                "state": state[zip_code], "level": levels[cust], "device": "mobile" if mobile else "pc",
                "watermark": None if watermark is None else pd.Timestamp(watermark)}

    first = [play(1, 1, "2024-05-01 10:05:00", "10001", 1),      # exactly on a window boundary
             play(2, 2, "2024-05-01 10:07:30", "94103", 0),
             play(3, 1, "2024-05-01 10:30:00", "10001", 1)]      # latest: watermark 10:30 - 10 min = 10:20
    produce(stage2, [p["line"] for p in first])
    run_job(spark, stage2, tmp_path, stats=True, interest=False)

    after_first = {d["_id"]: d["plays"] for d in all_docs(stage2, stage2.index_stats)}
    assert after_first == oracle(first)
    # the play at 10:05:00 opens [10:05, 10:35) and is not in [09:35, 10:05)
    assert after_first["level-Free-2024-05-01T10:05:00"] == 2
    assert "level-Free-2024-05-01T09:35:00" not in after_first

    second = [play(4, 2, "2024-05-01 10:22:00", "94103", 1, "2024-05-01 10:20"),   # late, inside the watermark
              play(5, 1, "2024-05-01 10:12:00", "10001", 0, "2024-05-01 10:20"),   # late, behind it
              play(6, 999, "2024-05-01 10:31:00", "10001", 0, "2024-05-01 10:20")]  # a customer not in cust.csv
    produce(stage2, [p["line"] for p in second])
    run_job(spark, stage2, tmp_path, stats=True, interest=False)

    docs = {d["_id"]: d for d in all_docs(stage2, stage2.index_stats)}
    assert {k: d["plays"] for k, d in docs.items()} == oracle(first + second)
    # the late 10:12 play missed the final windows [09:45, 10:15) and [09:50, 10:20) ...
    assert docs["device-pc-2024-05-01T09:45:00"]["plays"] == 1          # only play 2
    # ... and still counted in [09:55, 10:25), which was not final
    assert docs["device-pc-2024-05-01T09:55:00"]["plays"] == 2
    assert docs["level-unknown-2024-05-01T10:30:00"]["plays"] == 1
    assert docs["level-Gold-2024-05-01T10:00:00"] == {
        "_id": "level-Gold-2024-05-01T10:00:00", "window_start": "2024-05-01 10:00:00",
        "window_end": "2024-05-01 10:30:00", "dimension": "level", "key": "Gold", "plays": 2}


def test_generated_data_equals_the_oracle_and_the_elasticsearch_aggregation(spark, stage2, tmp_path, sample_data):
    import shutil

    from common.clients import es_client, redis_client
    from stage2.import_customers import import_customers

    for name in ("music.csv", "cust.csv"):
        shutil.copy(sample_data / name, stage2.data_dir / name)
    # the enrichment reads customers from Redis; the windowed counts from cust.csv
    import_customers(stage2.data_dir / "cust.csv", redis_client(stage2), stage2)
    lines = (sample_data / "tracks.csv").read_text().splitlines()
    produce(stage2, lines)
    run_job(spark, stage2, tmp_path, stats=True, interest=False)

    # the oracle, from the enriched documents' own fields (state, level) and the CSV lines
    enriched = pd.DataFrame(all_docs(stage2, stage2.index_stage2))
    assert len(enriched) == len(lines)
    plays = [{"datetime": r.datetime, "state": r.state if isinstance(r.state, str) else "unknown",
              "level": r.level if isinstance(r.level, str) else "unknown",
              "device": "mobile" if r.ismobile else "pc", "watermark": None}
             for r in enriched.itertuples()]
    docs = {d["_id"]: d for d in all_docs(stage2, stage2.index_stats)}
    assert {k: d["plays"] for k, d in docs.items()} == oracle(plays)

    # Elasticsearch's own count of the same windows: 5-minute buckets per level,
    # six consecutive buckets make one 30-minute window
    es = es_client(stage2)
    res = es.search(index=stage2.index_stage2, size=0, aggs={"lv": {
        "terms": {"field": "level", "size": 10},
        "aggs": {"t": {"date_histogram": {"field": "datetime", "fixed_interval": "5m"}}}}})
    by_level = {b["key"]: {pd.Timestamp(x["key"], unit="ms"): x["doc_count"] for x in b["t"]["buckets"]}
                for b in res["aggregations"]["lv"]["buckets"]}
    compared = 0
    for doc in docs.values():
        if doc["dimension"] != "level" or doc["key"] == "unknown":
            continue
        start = pd.Timestamp(doc["window_start"])
        from_es = sum(by_level[doc["key"]].get(start + timedelta(minutes=5 * i), 0) for i in range(6))
        assert from_es == doc["plays"], doc
        compared += 1
    assert compared > 100
    print(f"{len(docs)} window counts from Spark, {compared} level windows equal to Elasticsearch's")
