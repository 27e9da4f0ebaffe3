"""The stage-2 streaming job against the real Kafka, Redis and Elasticsearch.

Each test gets its own topic, indices, Redis key prefixes and checkpoint folder
(``t_<unique>``) and removes them afterwards. The job runs in this process with
``available_now`` (drain what Kafka holds, then stop); running it twice on the
same checkpoint is a restart.
"""
from __future__ import annotations

import shutil
import sys
from datetime import datetime, timedelta

import pandas as pd
import pytest

from common.config import REPO_ROOT, Settings
from tests import stage2_kit as kit
from tests.stage2_kit import produce

pytestmark = pytest.mark.integration

T0 = datetime(2024, 5, 1, 8, 0, 0)
FMT = "%Y-%m-%d %H:%M:%S"


def run_job(spark, s: Settings, tmp_path, **options):
    """The windowed aggregates (stats=True: they need a cust.csv in s.data_dir) and the
    live profiles only when asked."""
    return kit.run_job(spark, s, tmp_path, **{"stats": False, "profiles": False, **options})


def all_docs(s: Settings, index: str) -> list[dict]:
    return [{"_id": i, **d} for i, d in kit.docs(s, index).items()]


def play(event_id: int, customer: int, track: int, minutes: float, zip_code: str = "10001") -> str:
    return f"{event_id},{customer},{track},{(T0 + timedelta(minutes=minutes)).strftime(FMT)},1,{zip_code}"


def test_enriches_flags_unknown_customers_and_dead_letters_malformed(spark, stage2, tmp_path):
    from common.clients import redis_client

    r = redis_client(stage2)
    r.hset(f"{stage2.redis_customer_prefix}1", mapping={
        "name": "Ann Lee", "gender": "female", "age": 31, "age_band": "25-34", "level": "Silver",
        "level_code": 1, "campaign": 2, "zip": "02134", "linked_with_apps": 1, "status": 1})
    good = [play(100 + i, 1 if i % 3 else 2, 10 + i % 3, i) for i in range(30)]   # customer 2 unknown
    bad = ["100,1,10", "101,x,10,2024-05-01 08:00:00,1,10001", b"\xff\xfe,1,1,1,1,1",
           "102,1,10,2024-13-01 08:00:00,1,10001"]
    produce(stage2, good + bad)

    status = run_job(spark, stage2, tmp_path, interest=False)

    assert (status.records, status.indexed, status.rejected) == (34, 30, 4)
    docs = {int(d["_id"]): d for d in all_docs(stage2, stage2.index_stage2)}
    assert sorted(docs) == list(range(100, 130))     # each event once, _id = event_id
    for i in range(30):
        doc = docs[100 + i]
        assert doc["event_id"] == 100 + i
        assert doc["title"] == ["Blue Song", "Red Song", "Green Song"][i % 3]
        if i % 3:
            assert (doc["customer_known"], doc["name"], doc["level"], doc["age"]) == (True, "Ann Lee", "Silver", 31)
        else:
            assert doc["customer_known"] is False and "name" not in doc
    dead = all_docs(stage2, stage2.index_deadletter)
    assert sorted(d["reason"] for d in dead) == sorted(
        ["wrong_column_count", "bad_customer_id", "not_utf8", "bad_datetime"])
    assert all(d["source"] == "stage2-streaming" and d["raw"] for d in dead)

    # a restart on the same checkpoint reads nothing again; the index does not change
    again = run_job(spark, stage2, tmp_path, interest=False)
    assert again.records == 0 and len(all_docs(stage2, stage2.index_stage2)) == 30


def test_interest_list_edge_cases(spark, stage2, tmp_path):
    """3 plays over exactly 30:00 count, 30:01 does not; interleaved tracks; two
    customers; an out-of-order play within the watermark counts, one beyond it not.
    Lateness is 10 minutes: after phase 1 the latest play is at 90:00, so the
    watermark is 80:00 and phase-2 plays at or before 80:00 are dropped."""
    from common.clients import redis_client

    phase1 = [
        # customer 1: track 10 at 00:00, 10:00, 30:00 (exactly 30 min) -> interested
        #             track 11 at 00:00, 15:00, 30:01 -> not; track 12 interleaved, 2 plays -> not
        play(1, 1, 10, 0), play(2, 1, 11, 0), play(3, 1, 12, 1), play(4, 1, 10, 10),
        play(5, 1, 11, 15), play(6, 1, 12, 5), play(7, 1, 10, 30), play(8, 1, 11, 30 + 1 / 60),
        # customer 2: track 10 at 72, 85, 90 -> interested (3 plays); track 11 at 60, 65
        play(9, 2, 10, 72), play(10, 2, 10, 90), play(11, 2, 10, 85),
        play(12, 2, 11, 60), play(13, 2, 11, 65),
    ]
    produce(stage2, phase1)
    run_job(spark, stage2, tmp_path)
    phase2 = [
        play(14, 2, 10, 81),            # out of order but after the watermark: now 4 plays
        play(15, 2, 11, 62),            # would make 60/62/65, but late (62 <= 80): dropped
        play(16, 1, 11, 20),            # would make 00/15/20, but late: dropped
    ]
    produce(stage2, phase2)
    run_job(spark, stage2, tmp_path)

    r = redis_client(stage2)
    assert r.smembers(f"{stage2.redis_interest_prefix}1") == {"10"}
    assert r.smembers(f"{stage2.redis_interest_prefix}2") == {"10"}
    docs = {d["_id"]: d for d in all_docs(stage2, stage2.index_interest)}
    ts = lambda m: (T0 + timedelta(minutes=m)).strftime(FMT)  # noqa: E731
    assert docs == {
        "1-10": {"_id": "1-10", "customer_id": 1, "track_id": 10, "first_play": ts(0),
                 "last_play": ts(30), "plays": 3},
        "2-10": {"_id": "2-10", "customer_id": 2, "track_id": 10, "first_play": ts(72),
                 "last_play": ts(90), "plays": 4},
    }
    # every play, late or not, is still an enriched event
    assert len(all_docs(stage2, stage2.index_stage2)) == 16


def pandas_interest_oracle(events: pd.DataFrame, min_plays: int, window: str) -> dict:
    """Independent of stage2.interest: a time-based rolling count, closed on both
    ends (so exactly 30:00 is inside), per (customer, track)."""
    out = {}
    for (cust, track), group in events.groupby(["customer_id", "track_id"]):
        times = group["datetime"].sort_values()
        counts = pd.Series(1, index=times.values).rolling(window, closed="both").sum()
        best = int(counts.max())
        if best >= min_plays:
            last = counts.index[int(counts.values.argmax())]
            first = times[times >= last - pd.Timedelta(window)].iloc[0]
            out[f"{cust}-{track}"] = (first.strftime(FMT), last.strftime(FMT), best)
    return out


def test_interest_list_on_generated_data_equals_pandas_oracle(spark, stage2, tmp_path, sample_data):
    lines = (sample_data / "tracks.csv").read_text().splitlines()
    shutil.copy(sample_data / "music.csv", stage2.data_dir / "music.csv")
    produce(stage2, lines)
    run_job(spark, stage2, tmp_path)

    events = pd.read_csv(sample_data / "tracks.csv", header=None,
                         names=["event_id", "customer_id", "track_id", "datetime", "ismobile", "zip"],
                         parse_dates=["datetime"])
    expected = pandas_interest_oracle(events, stage2.interest_min_plays,
                                      f"{stage2.interest_window_minutes}min")
    found = {d["_id"]: (d["first_play"], d["last_play"], d["plays"])
             for d in all_docs(stage2, stage2.index_interest)}
    assert len(expected) > 10, "the sample should contain repeat-listening bursts"
    assert found == expected
    assert len(all_docs(stage2, stage2.index_stage2)) == len(lines)


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory):
    """The committed small sample (data/sample), or the same generated on the fly."""
    committed = REPO_ROOT / "data" / "sample"
    if (committed / "tracks.csv").exists():
        return committed
    import subprocess

    out = tmp_path_factory.mktemp("sample")
    subprocess.run([sys.executable, "-m", "tools.datagen", "--customers", "200", "--tracks", "300",
                    "--events", "6000", "--days", "7", "--out", str(out)], check=True, cwd=REPO_ROOT)
    return out
