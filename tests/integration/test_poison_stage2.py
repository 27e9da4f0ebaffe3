"""No record can stop the stage-2 job (issue 12), against the real Kafka, Redis
and Elasticsearch: good plays and one line of each poison class go into a topic
of their own; the job (all four queries) indexes every good play, dead-letters
each poison line with its reason, counts a record that Kafka holds twice once,
and, run again on the same checkpoint, exits cleanly instead of crash-looping.
The pure rules are in tests/unit/test_poison.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from common.schema import STAGE2_DOC_FIELDS
from stage2 import streaming_job as job
from tests.stage2_kit import docs, produce, run_job

pytestmark = pytest.mark.integration

FMT = "%Y-%m-%d %H:%M:%S"
# Event times a little before now: the job judges each play against its Kafka timestamp
T0 = (datetime.now(timezone.utc) - timedelta(minutes=20)).replace(tzinfo=None, microsecond=0)

POISON = {   # line -> the reason it is dead-lettered with
    f"900,3000000000,10,{T0:{FMT}},1,10001": "customer_id_out_of_range",      # beyond Spark's INT
    f"901,1,2147483648,{T0:{FMT}},1,10001": "track_id_out_of_range",
    "902,1,10,1500-01-01 00:00:00,1,10001": "datetime_out_of_range",           # pandas: OutOfBoundsDatetime
    "903,1,10,2099-01-01 00:00:00,1,10001": "datetime_in_future",             # would move every watermark
    f'904,1,10,{T0:{FMT}},1,"' + "9" * 200_000 + '"': "line_too_long",          # over csv's field limit too
    "905,1,10," + "x" * 2_000_000: "line_too_long",                            # over Kafka's message limit
}


def play(event_id: int, track: int, minutes: int) -> str:
    return f"{event_id},1,{track},{(T0 + timedelta(minutes=minutes)):{FMT}},1,10001"


GOOD = [play(1, 10, 0), play(2, 10, 5), play(3, 10, 10), play(4, 11, 2)]


def test_poison_is_dead_lettered_duplicates_count_once_and_a_restart_is_clean(spark, stage2, tmp_path):
    # play 2 is in Kafka twice: the shipper re-sends a batch after a crash
    assert produce(stage2, GOOD + [GOOD[1]] + list(POISON)) == 2      # both oversized lines cut

    status = run_job(spark, stage2, tmp_path)

    assert status.rejected == len(POISON)
    assert sorted(int(i) for i in docs(stage2, stage2.index_stage2)) == [1, 2, 3, 4]
    dead = docs(stage2, stage2.index_deadletter).values()
    assert sorted(d["reason"] for d in dead) == sorted(POISON.values())
    assert all(len(d["raw"]) < 5000 for d in dead)                 # capped, the length kept
    assert any(f"{2_000_009} bytes" in d["raw"] for d in dead)
    # play 2 counted once everywhere: 3 plays of track 10, 4 plays in the profile
    assert docs(stage2, stage2.index_interest)["1-10"]["plays"] == 3
    assert docs(stage2, stage2.index_profiles)["1"]["plays"] == 4
    stats = [d for d in docs(stage2, stage2.index_stats).values() if d["dimension"] == "device"]
    assert max(d["plays"] for d in stats) == 4

    # The 2099 play did not move the watermark: a play 11 minutes after the others
    # still counts. The same checkpoint runs again (it replays nothing) and ends cleanly.
    produce(stage2, [play(5, 10, 11)])
    again = run_job(spark, stage2, tmp_path)
    assert (again.records, again.rejected) == (1, 0)
    assert docs(stage2, stage2.index_profiles)["1"]["plays"] == 5
    assert docs(stage2, stage2.index_interest)["1-10"]["plays"] == 4

    # the interest query alone (stage2.interest.interest_windows on stage2.plays) reads
    # the same topic from a checkpoint of its own and agrees
    from common.clients import redis_client
    from stage2.plays import plays_from_kafka

    s = stage2.model_copy(update={"index_interest": f"{stage2.index_stage2}_interest2"})
    job.prepare(s, s.index_stage2, STAGE2_DOC_FIELDS)
    opts = job.JobOptions(available_now=True, quiet=True, checkpoint_dir=tmp_path / "checkpoint2")
    query = job.start_interest_query(plays_from_kafka(job.read_kafka(spark, s, opts), s), s, opts)
    query.awaitTermination()
    assert query.exception() is None
    assert docs(s, s.index_interest)["1-10"]["plays"] == 4
    assert 0 < redis_client(s).ttl(f"{s.redis_interest_prefix}1") <= s.interest_ttl_seconds
