"""Stage 2 end to end, as a learner runs it, against the real engines.

* ``run_stage2.py --max-events``: import + generator + shipper(Kafka) + streaming
  job; every well-formed event is in the stage-2 index exactly once, with the
  customer and track fields of an oracle joined independently with pandas from
  the CSVs; unknown customers flagged; malformed lines dead-lettered.
* restart: the streaming job is killed (SIGKILL) mid-stream and started again;
  the index then holds exactly the events produced, and the interest list
  (stateful) equals the pandas oracle.

Everything is isolated by name (topic, indices, Redis prefixes, live file,
checkpoint) through environment variables, and removed afterwards.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from common.config import REPO_ROOT, Settings
from common.customers import age_band, ages_of
from common.events import Rejected, parse_event
from common.schema import EVENT_COLUMNS, LEVELS
from tests.cleanup import drop_test_resources
from tests.integration.test_streaming_job import pandas_interest_oracle

pytestmark = pytest.mark.e2e

SAMPLE = REPO_ROOT / "data" / "sample"
UNKNOWN_CUSTOMER = 987654
# (the generator stamps the current time on lines with the right column count)
MALFORMED = ["1,2,3", "x1,5,7,2024-05-01 08:00:00,1,10001", "78,5,7,2024-05-01 08:00:00,1,ABCDE"]


@pytest.fixture
def isolated(engines, unique, tmp_path):
    env = {"KAFKA_TOPIC": f"t_{unique}", "INDEX_STAGE2": f"t_{unique}_enriched",
           "INDEX_INTEREST": f"t_{unique}_interest", "INDEX_DEADLETTER": f"t_{unique}_dead",
           "INDEX_STATS": f"t_{unique}_stats", "INDEX_PROFILES": f"t_{unique}_profiles",
           "REDIS_CUSTOMER_PREFIX": f"t_{unique}:customer:", "REDIS_INTEREST_PREFIX": f"t_{unique}:interest:",
           "DATA_DIR": str(SAMPLE), "TRIGGER_INTERVAL": "1 second"}
    s = Settings(**{k.lower(): v for k, v in env.items()})
    yield s, {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    drop_test_resources(s, f"t_{unique}", (s.index_stage2, s.index_interest, s.index_deadletter, s.index_stats,
                                           s.index_profiles))
    for ck in s.checkpoint_dir.glob(f"stage2-t_{unique}-*"):
        shutil.rmtree(ck, ignore_errors=True)
    for offsets in (s.runtime_dir / "offsets").glob(f"shipper-kafka-t_{unique}-*"):
        offsets.unlink()


def docs_of(s: Settings, index: str) -> pd.DataFrame:
    from elasticsearch import helpers

    from common.clients import es_client
    es = es_client(s)
    es.indices.refresh(index=index)
    return pd.DataFrame([{"_id": h["_id"], **h["_source"]}
                         for h in helpers.scan(es, index=index, query={"query": {"match_all": {}}})])


def oracle(live_lines: list[str]) -> pd.DataFrame:
    """The expected documents, joined with pandas straight from the CSVs."""
    events = pd.DataFrame([line.split(",") for line in live_lines], columns=EVENT_COLUMNS)
    events = events.astype({"event_id": int, "customer_id": int, "track_id": int})
    cust = pd.read_csv(SAMPLE / "cust.csv", dtype={"zip": str})
    cust = cust.assign(name=cust["Name"], gender=cust["Gender"].map({0: "female", 1: "male"}),
                       age=ages_of(cust["CustID"]), level=cust["Level"].map(LEVELS),
                       campaign=cust["Campaign"], customer_zip=cust["zip"].str.zfill(5))
    cust["age_band"] = cust["age"].map(age_band)
    music = pd.read_csv(SAMPLE / "music.csv").rename(columns=str.lower)
    out = (events.merge(cust, left_on="customer_id", right_on="CustID", how="left")
           .merge(music, left_on="track_id", right_on="trackid", how="left"))
    out["customer_known"] = out["CustID"].notna()
    return out[["event_id", "customer_id", "customer_known", "name", "gender", "age", "age_band",
                "level", "campaign", "customer_zip", "title", "artist", "length"]]


def test_bounded_stage2_run_matches_the_pandas_oracle(isolated, tmp_path):
    s, env = isolated
    good = (SAMPLE / "tracks.csv").read_text().splitlines()[:1200]
    # a few plays of a customer who is not in cust.csv, and malformed lines in between
    good += [f"{900000 + i},{UNKNOWN_CUSTOMER},{good[i].split(',')[2]},2024-05-01 08:00:00,0,10001"
             for i in range(5)]
    source = good[:400] + MALFORMED + good[400:]
    (tmp_path / "source.csv").write_text("\n".join(source) + "\n")
    live = tmp_path / "live.csv"

    # plays: the good lines and the one malformed line that has a numeric id (the
    # generator gives it a new id; it is dead-lettered for its zip); the other two are
    # replayed unchanged and not counted
    proc = subprocess.run(
        [sys.executable, "-m", "stage2.run_stage2", "--max-events", str(len(good) + 1), "--rate", "1000",
         "--live-file", str(live), "--source", str(tmp_path / "source.csv")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    lines = live.read_text().splitlines()
    replayed = [line for line in lines if not isinstance(parse_event(line), Rejected)]
    rejected = [line for line in lines if isinstance(parse_event(line), Rejected)]
    assert (len(replayed), len(rejected)) == (len(good), len(MALFORMED))
    expected = oracle(replayed).set_index("event_id").sort_index()
    docs = docs_of(s, s.index_stage2)
    assert len(docs) == len(good) and docs["_id"].is_unique          # each event exactly once
    got = docs.set_index("event_id").sort_index()
    assert list(got.index) == list(expected.index)
    known = expected["customer_known"]
    assert known.sum() == len(good) - 5          # only the 5 plays of UNKNOWN_CUSTOMER are unknown
    assert (got["customer_known"] == known).all()
    assert set(got.loc[~got["customer_known"], "customer_id"]) == {UNKNOWN_CUSTOMER}
    for column in ["name", "gender", "age", "age_band", "level", "campaign", "customer_zip"]:
        assert (got.loc[known, column].astype(str) == expected.loc[known, column].astype(str)).all(), column
    for column in ["title", "artist", "length"]:
        assert (got[column].astype(str) == expected[column].astype(str)).all(), column

    dead = docs_of(s, s.index_deadletter)
    assert sorted(dead["raw"]) == sorted(rejected)
    assert sorted(dead["reason"]) == ["bad_event_id", "bad_zip", "wrong_column_count"]


def test_killed_job_restarts_without_loss_or_duplicates(isolated, tmp_path):
    from common.clients import ensure_topic, es_client
    from common.events import customer_key
    from common.sinks import KafkaEventProducer

    s, env = isolated
    # 500 records per batch are ~7 hours of the sample's event time, and the two Kafka
    # partitions drift apart by more than the default 10 minutes of lateness; with a
    # day of lateness no play is late, so the oracle (which drops none) applies.
    env = {**env, "INTEREST_LATENESS_MINUTES": "1440"}
    lines = (SAMPLE / "tracks.csv").read_bytes().splitlines()[:3000]      # 6 batches, 14 interest pairs
    ensure_topic(s.kafka_topic, settings=s)
    with KafkaEventProducer(s) as producer:
        for line in lines:
            producer.send(line, key=customer_key(line))

    # the index and the stateful interest list are checked; profiles and stats stay off (each
    # would start Python workers of its own on the 2 cores; tests/integration covers them)
    job = [sys.executable, "-m", "stage2.streaming_job", "--max-offsets-per-trigger", "500",
           "--interest-trigger", "1 second", "--no-profiles", "--no-stats"]
    first = subprocess.Popen(job, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    es = es_client(s)
    try:
        deadline = time.monotonic() + 300
        count = 0
        while time.monotonic() < deadline and count == 0:
            time.sleep(0.5)
            if es.indices.exists(index=s.index_stage2):
                es.indices.refresh(index=s.index_stage2)
                count = es.count(index=s.index_stage2)["count"]
        assert 0 < count < len(lines), f"expected to kill it mid-stream, index had {count}"
    finally:
        os.killpg(first.pid, signal.SIGKILL)     # no clean shutdown: a crash
        first.wait()

    # restarted as a learner would; --duration 1 then drains what Kafka holds and exits
    second = subprocess.run(job + ["--duration", "1"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[:6000]
    docs = docs_of(s, s.index_stage2)
    produced = sorted(int(line.split(b",")[0]) for line in lines)
    assert len(docs) == len(lines)
    assert sorted(docs["event_id"]) == produced
    # the interest list's state survived the crash too: same result as a pandas oracle
    events = pd.read_csv(SAMPLE / "tracks.csv", header=None, nrows=len(lines), names=EVENT_COLUMNS,
                         parse_dates=["datetime"])
    expected = pandas_interest_oracle(events, s.interest_min_plays, f"{s.interest_window_minutes}min")
    interest = docs_of(s, s.index_interest)
    assert len(expected) > 10
    assert {r["_id"]: (r["first_play"], r["last_play"], r["plays"]) for r in interest.to_dict("records")} == expected
