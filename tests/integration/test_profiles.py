"""The live customer profiles (stage2.profiles) against the real Kafka and Elasticsearch.

The stage-2 job runs in this process with ``available_now`` on an isolated topic,
indices and checkpoint (the helpers of test_streaming_job). After each run the
documents in the profiles index must equal common.profiles.listening_profile
computed with pandas from the same plays; a batch replayed after a crash-like
loss of its commit must not count a play twice.
"""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from common.profiles import PROFILE_COLUMNS, listening_profile
from tests.integration.test_streaming_job import all_docs, produce, run_job, sample_data  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration

EVENT_NAMES = ["event_id", "customer_id", "track_id", "datetime", "ismobile", "listening_zip_code"]


def events_of(lines: list[str]) -> pd.DataFrame:
    return pd.DataFrame([line.split(",") for line in lines], columns=EVENT_NAMES).astype(
        {"event_id": int, "customer_id": int, "track_id": int, "ismobile": int})


def assert_profiles_equal_batch(s, lines: list[str]) -> dict:
    """The profiles index holds exactly listening_profile(plays) (plus last_play);
    returns the documents by customer, without updated_at (it is the write time)."""
    expected = listening_profile(events_of(lines))
    last_play = events_of(lines).groupby("customer_id")["datetime"].max()
    docs = {int(d["_id"]): d for d in all_docs(s, s.index_profiles)}
    assert sorted(docs) == sorted(expected.index)
    for customer, want in expected.iterrows():
        doc = docs[customer]
        assert doc["customer_id"] == customer and doc["plays"] == want["plays"]
        assert [doc[c] for c in PROFILE_COLUMNS] == pytest.approx(want.tolist(), abs=1e-12)
        assert doc["last_play"] == last_play[customer]
    return {c: {k: v for k, v in d.items() if k != "updated_at"} for c, d in docs.items()}


def batches_with_data(checkpoint) -> list[int]:
    """Micro-batches whose planned Kafka offsets moved (the others were no-data batches
    that only advanced the watermark). offsets/N: a version line, metadata, then the offsets."""
    planned = sorted(int(f.name) for f in (checkpoint / "offsets").glob("*") if f.name.isdigit())
    ends = {n: (checkpoint / "offsets" / str(n)).read_text().splitlines()[2:] for n in planned}
    return [n for n in planned if n == planned[0] or ends[n] != ends[n - 1]]


def lose_commits_from(checkpoint, batch: int) -> None:
    """As if the job crashed while writing ``batch``: its commit (and later ones) never happened."""
    for f in (checkpoint / "commits").glob("*"):      # N and its checksum .N.crc
        if int(f.name.lstrip(".").split(".")[0]) >= batch:
            f.unlink()


def test_live_profiles_equal_batch_features_and_never_double_count(spark, stage2, tmp_path, sample_data):  # noqa: F811
    from stage3.features import read_profiles_es

    lines = (sample_data / "tracks.csv").read_text().splitlines()
    shutil.copy(sample_data / "music.csv", stage2.data_dir / "music.csv")
    run = lambda: run_job(spark, stage2, tmp_path, interest=False, profiles=True)  # noqa: E731

    # two runs, so the second half is added to counts restored from the checkpoint
    produce(stage2, lines[:4000])
    run()
    assert_profiles_equal_batch(stage2, lines[:4000])
    produce(stage2, lines[4000:])
    run()
    before = assert_profiles_equal_batch(stage2, lines)

    # lose the commit of the last batch that read plays: the restart replays it
    # from the state before it, and the documents do not change
    checkpoint = tmp_path / "checkpoint" / "profiles"
    replayed = batches_with_data(checkpoint)[-1]
    assert replayed > 0, "the second run should have added a batch to the first run's checkpoint"
    lose_commits_from(checkpoint, replayed)
    run()
    assert assert_profiles_equal_batch(stage2, lines) == before
    assert (checkpoint / "commits" / str(replayed)).exists(), "the lost batch was run again"

    # more plays (after the watermark): the counts grow by exactly those plays
    customer = int(lines[0].split(",")[1])
    more = [f"{100_000 + i},{customer if i < 3 else 424242},{900 + i % 2},2026-11-01 0{i}:30:00,{i % 2},10001"
            for i in range(5)]
    produce(stage2, more)
    run()
    after = assert_profiles_equal_batch(stage2, lines + more)
    assert after[customer]["plays"] == before[customer]["plays"] + 3 and after[424242]["plays"] == 2
    assert {c: d for c, d in after.items() if c not in (customer, 424242)} == \
        {c: d for c, d in before.items() if c != customer}

    # the trainer's reader sees the same table
    table = read_profiles_es(spark, stage2).toPandas().set_index("customer_id").sort_index()
    expected = listening_profile(events_of(lines + more))
    assert list(table.index) == list(expected.index)
    assert table[PROFILE_COLUMNS].to_numpy() == pytest.approx(expected.to_numpy(dtype=float), abs=1e-12)


def test_the_spark_aggregation_equals_listening_profile_on_every_boundary_hour(spark):
    """stage2.profiles' counts and profile, as Spark columns, on the crafted history of
    tests/unit/test_live_profiles.py (plays on every part-of-day boundary), in one batch."""
    from pyspark.sql import functions as F

    from stage2.profiles import profile_counts, profiles_from_counts
    from tests.unit.test_live_profiles import PLAYS, history

    plays = (spark.createDataFrame(PLAYS, "customer_id INT, track_id INT, datetime STRING, ismobile INT")
             .withColumn("played_at", F.to_timestamp("datetime")))
    got = profiles_from_counts(profile_counts(plays)).toPandas().set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(got[PROFILE_COLUMNS], listening_profile(history()), check_exact=True,
                                  check_names=False, check_dtype=False, check_index_type=False)
    # one customer per boundary hour, one play each: all of it in that hour's part
    hours = {4: "night", 5: "morning", 11: "morning", 12: "afternoon", 16: "afternoon", 17: "evening",
             21: "evening", 22: "night", 0: "night"}
    one_each = (spark.createDataFrame([(100 + h, 50, f"2026-03-02 {h:02d}:00:00", 0) for h in hours],
                                      "customer_id INT, track_id INT, datetime STRING, ismobile INT")
                .withColumn("played_at", F.to_timestamp("datetime")))
    for row in profiles_from_counts(profile_counts(one_each)).collect():
        parts = {p: row[p] for p in ("morning", "afternoon", "evening", "night")}
        assert parts[hours[row.customer_id - 100]] == 1.0 and sum(parts.values()) == 1.0, row
