"""A bad line the shipper sends twice is ONE dead letter (issue 12), against the real
Kafka, Redis and Elasticsearch.

A shipper killed between its Kafka flush and its offset commit sends up to a batch
of lines again: Kafka then holds them twice, at new offsets. Each record carries
the line's place in its file (the ``source_position`` header: inode and byte
offset), and the stage-2 job derives a rejected line's dead-letter id from that,
so the second copy overwrites the first. Records without the header (another
producer) fall back to topic-partition-offset: a replayed micro-batch still
rewrites the same dead letter, but a copy at a new offset is a second one.
The enrichment judges "too far in the future" against each record's Kafka timestamp.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from common.bounded import Bounds
from tests.stage2_kit import docs, produce, run_job

pytestmark = pytest.mark.integration

FMT = "%Y-%m-%d %H:%M:%S"
T0 = (datetime.now(timezone.utc) - timedelta(minutes=5)).replace(tzinfo=None, microsecond=0)
GOOD = [f"1,1,10,{T0:{FMT}},1,10001", f"2,1,11,{T0:{FMT}},0,10001"]
BAD = "3,1,10,not a date,1,10001"                                  # bad_datetime
FUTURE = f"4,1,10,{T0 + timedelta(days=3):{FMT}},1,10001"           # datetime_in_future
ENRICH_ONLY = {"interest": False, "stats": False, "profiles": False}  # dead letters come from enrichment


def ship_once(s, live_file, offset_file):
    """The shipper's live path (stage1.shipper.ship_live) to Kafka, until the file is shipped."""
    from stage1.follower import FileFollower
    from stage1.shipper import OwnPlays, ToKafka, ship_live

    sink = ToKafka(s, s.kafka_topic)
    ship_live(FileFollower(live_file, offset_file), sink, Bounds(max_events=4), threading.Event(),
              OwnPlays(None, None))
    sink.finish()
    return sink.counts["sent"]


def test_a_line_the_shipper_sends_twice_is_one_dead_letter(spark, stage2, tmp_path):
    live, offsets = tmp_path / "live.csv", tmp_path / "offsets.json"
    live.write_text("\n".join([GOOD[0], BAD, GOOD[1], FUTURE]) + "\n")
    assert ship_once(stage2, live, offsets) == 4
    # the crash: Kafka took the batch, the offset commit never happened -> all sent again
    offsets.unlink()
    assert ship_once(stage2, live, offsets) == 4

    status = run_job(spark, stage2, tmp_path, **ENRICH_ONLY)
    assert status.records == 8
    assert sorted(docs(stage2, stage2.index_stage2)) == ["1", "2"]
    dead = docs(stage2, stage2.index_deadletter)
    assert sorted(d["reason"] for d in dead.values()) == ["bad_datetime", "datetime_in_future"]
    # each id is derived from the line's file position and its text
    import os

    from common.sinks import deadletter_id
    inode = os.stat(live).st_ino
    bad_at = len(GOOD[0]) + 1
    assert deadletter_id("stage2-streaming", BAD, f"{stage2.kafka_topic}@{inode}:{bad_at}") in dead

    # without the header (a producer that is not the shipper): one dead letter per Kafka
    # offset; the same micro-batch replayed (the same offsets) would add nothing
    produce(stage2, ["5,1,10,yesterday,1,10001"] * 2)
    # "too far in the future" is judged against the record's Kafka timestamp, not the
    # clock: a play of 5 minutes ago in a record stamped a day ago is a day ahead
    from common.clients import kafka_producer
    producer = kafka_producer(stage2)
    day_ago_ms = int((datetime.now(timezone.utc) - timedelta(days=1)).timestamp() * 1000)
    producer.produce(stage2.kafka_topic, value=f"6,1,10,{T0:{FMT}},1,10001".encode(), key=b"1",
                     timestamp=day_ago_ms)
    assert producer.flush(30) == 0
    run_job(spark, stage2, tmp_path, **ENRICH_ONLY)
    dead = docs(stage2, stage2.index_deadletter)
    assert sorted(d["reason"] for d in dead.values()) == ["bad_datetime"] * 3 + ["datetime_in_future"] * 2
    assert sorted(docs(stage2, stage2.index_stage2)) == ["1", "2"]
