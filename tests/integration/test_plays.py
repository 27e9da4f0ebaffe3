"""Spark's parse of the Kafka records (stage2.plays, JVM path + Python path) keeps
exactly the plays that common.events.parse_kafka_records keeps, with the same
values, on the usual lines and on every kind of bad or unusual one."""
from __future__ import annotations

from datetime import datetime, timedelta

from common.config import REPO_ROOT

NOW = datetime(2026, 11, 29, 12, 0, 0)

UNUSUAL = [
    b"1,42,7,2026-11-29 08:15:00,1,10001",            # the usual shape
    b"2,42,7,2026-11-29 08:15:00,0,601\r\n",          # short zip, line ending
    b" 3,42,7,2026-11-29 08:15:00,1,10001",           # a space: Python path, still a play
    b"4,42,7,2026-11-29 8:15:00,1,10001",             # single-digit hour: Python path
    b'"5",42,7,2026-11-29 08:15:00,1,10001',          # quoted field
    b"6,42,7,2026-02-30 08:15:00,1,10001",            # no such day
    b"7,42,7,2026-11-29 24:00:00,1,10001",            # no such hour
    b"8,42,7,2026-11-29 08:15:60,1,10001",            # no such second
    b"9,3000000000,7,2026-11-29 08:15:00,1,10001",    # customer beyond INT
    b"10,42,2147483648,2026-11-29 08:15:00,1,10001",  # track beyond INT
    b"9223372036854775808,42,7,2026-11-29 08:15:00,1,10001",            # event beyond LONG
    b"9223372036854775807,2147483647,2147483647,2026-11-29 08:15:00,1,10001",   # the biggest ids
    b"11,42,7,1969-12-31 23:59:59,1,10001",           # before the watermark's 0
    b"12,42,7,1970-01-02 00:00:00,1,10001",           # the earliest play
    b"13,42,7,0000-01-01 00:00:00,1,10001",           # no year 0
    b"14,42,7,2261-12-31 23:59:59,1,10001",           # far future: judged against the timestamp
    b"15,42,7,2026-11-29 12:05:00,1,10001",           # exactly the lead ahead
    b"16,42,7,2026-11-29 12:05:01,1,10001",           # one second more
    b"17,42,7,2026-11-29 08:15:00,2,10001",           # bad ismobile
    b"18,42,7,2026-11-29 08:15:00,1,123456",          # zip too long
    b"19,42,7,2026-11-29 08:15:00,1",                 # a column short
    b"20,42,7,2026-11-29 08:15:00,1,10001,x",         # a column more
    b"21,-42,7,2026-11-29 08:15:00,1,10001",          # negative id
    b"\xff\xfe,42,7,2026-11-29 08:15:00,1,10001",     # not UTF-8
    b"",                                              # empty
    b"oops",
    b"22,42,7,2026-11-29 08:15:00,1,10001\n\n",       # two line endings
    b"23,0042,07,2026-11-29 08:15:00,1,00601",        # leading zeros
    b"24,42,7,2026-11-29T08:15:00,1,10001",           # ISO 'T': not the format
]


def test_spark_keeps_exactly_the_plays_parse_kafka_records_keeps(spark, settings):
    import pandas as pd

    from common.events import parse_kafka_records
    from stage2.plays import plays_from_kafka

    sample = [line.encode() for line in (REPO_ROOT / "data" / "sample" / "tracks.csv").read_text().splitlines()]
    values = UNUSUAL + sample[:3000]
    stamps = [NOW] * len(UNUSUAL) + [datetime(2030, 1, 1)] * 3000
    records = spark.createDataFrame([(v, t) for v, t in zip(values, stamps)], "value BINARY, timestamp TIMESTAMP")

    got = sorted(tuple(r) for r in plays_from_kafka(records, settings).collect())
    want = sorted((p["event_id"], p["customer_id"], p["track_id"], datetime.strptime(p["datetime"], "%Y-%m-%d %H:%M:%S"),
                   p["ismobile"], p["listening_zip_code"])
                  for p in parse_kafka_records(values, pd.Series(stamps)))
    assert got == want
    unusual = records.limit(len(UNUSUAL))
    kept = {r.event_id for r in plays_from_kafka(unusual, settings).collect()}
    assert {1, 2, 3, 4, 5, 12, 15, 22, 23, 2**63 - 1} <= kept
    assert not kept & {6, 7, 8, 9, 10, 11, 13, 14, 16, 17, 18, 19, 20, 21, 24}
    assert len(got) == len(want) > 3000
    assert timedelta(seconds=settings.max_event_lead_seconds) == timedelta(minutes=5)   # rows 15 and 16
