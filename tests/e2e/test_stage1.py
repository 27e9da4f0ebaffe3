"""Stage 1 end to end against the real engines: run it bounded and compare the
index with an oracle computed independently (pandas) from the lines replayed;
stop and restart the shipper mid-stream; feed it malformed lines.

Every test uses its own index, dead-letter index, live file and runtime dir."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from common.clients import es_client
from common.config import REPO_ROOT, Settings
from common.schema import EVENT_COLUMNS
from tests.stage1_data import BAD_LINES, track_lines, write_lines

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
STAGE1 = REPO_ROOT / "00.stage1"


@pytest.fixture
def stage(engines, unique, tmp_path):
    """Names and environment for one isolated stage-1 run; deletes its indices afterwards."""
    names = {"INDEX_STAGE1": f"t_{unique}", "INDEX_DEADLETTER": f"t_dl_{unique}",
             "RUNTIME_DIR": str(tmp_path / "runtime")}
    settings = Settings(index_stage1=names["INDEX_STAGE1"], index_deadletter=names["INDEX_DEADLETTER"],
                        runtime_dir=tmp_path / "runtime")
    es = es_client(settings)
    yield {"env": {**os.environ, **names}, "settings": settings, "es": es,
           "live": tmp_path / "live.csv", "index": names["INDEX_STAGE1"],
           "deadletter": names["INDEX_DEADLETTER"]}
    for index in (names["INDEX_STAGE1"], names["INDEX_DEADLETTER"]):
        es.options(ignore_status=404).indices.delete(index=index)
        es.options(ignore_status=404).indices.delete_index_template(name=index)


def run(script: str, *args, env, timeout=240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(STAGE1 / script), *map(str, args)], env=env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)


def shipped_count(output: str) -> int:
    return int(re.search(r"shipper: shipped (\d+) events", output).group(1))


def test_bounded_stage1_matches_a_pandas_oracle(stage, tmp_path):
    source = tmp_path / "tracks.csv"
    write_lines(source, track_lines(2000, seed=11))
    started, now_before = time.monotonic(), pd.Timestamp.utcnow().tz_localize(None)
    done = run("run_stage1.py", "--max-events", 2000, "--rate", 2000, "--source", source,
               "--live-file", stage["live"], env=stage["env"])
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"bounded stage 1, 2000 events: {time.monotonic() - started:.1f} s")
    assert "shipped 2000 events, rejected 0, indexed 2000" in done.stdout
    es, index = stage["es"], stage["index"]

    # no refresh here: the stage promised the last event is searchable when it exits
    assert es.count(index=index)["count"] == 2000

    # the oracle: the replayed lines themselves (timestamps are the replay's), read by pandas
    live = pd.read_csv(stage["live"], header=None, names=EVENT_COLUMNS, dtype={"listening_zip_code": str})
    assert len(live) == 2000 and live["event_id"].is_unique
    # the generator replaced the recorded timestamps with the time of the replay (UTC)
    replayed_at = pd.to_datetime(live["datetime"])
    assert (replayed_at >= now_before.floor("s")).all() and (replayed_at <= pd.Timestamp.utcnow().tz_localize(None)).all()
    live["hour"] = replayed_at.dt.floor("h")
    oracle = live.groupby("hour").agg(plays=("event_id", "size"), mobile=("ismobile", "mean"))

    buckets = es.search(index=index, size=0, aggs={"h": {
        "date_histogram": {"field": "datetime", "calendar_interval": "hour", "min_doc_count": 1},
        "aggs": {"mobile": {"avg": {"field": "ismobile"}}}}})["aggregations"]["h"]["buckets"]
    indexed = {pd.Timestamp(b["key"], unit="ms"): (b["doc_count"], b["mobile"]["value"]) for b in buckets}
    assert {h: n for h, (n, _) in indexed.items()} == oracle["plays"].to_dict()
    for hour, (_, share) in indexed.items():
        assert share == pytest.approx(oracle.loc[hour, "mobile"], abs=1e-9)

    # exact types: the mapping, and the values as stored
    props = es.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert props["datetime"]["type"] == "date"
    assert props["ismobile"]["type"] == "integer"
    assert props["location"]["type"] == "geo_point"
    doc = es.get(index=index, id=str(live["event_id"].iloc[-1]))["_source"]
    assert isinstance(doc["ismobile"], int) and set(doc["location"]) == {"lat", "lon"}
    # every document is placed in the contiguous US box (all test zips are real)
    in_us = es.count(index=index, query={"geo_bounding_box": {"location": {
        "top_left": {"lat": 72, "lon": -170}, "bottom_right": {"lat": 17, "lon": -65}}}})["count"]
    assert in_us == 2000
    # and each event once: the ids in the index are exactly those of the file
    ids = {h["_id"] for h in es.search(index=index, size=2000, source=False)["hits"]["hits"]}
    assert ids == {str(i) for i in live["event_id"]}


def test_restarted_shipper_loses_and_repeats_nothing(stage, tmp_path):
    live, env, es = stage["live"], stage["env"], stage["es"]
    lines = track_lines(1500, seed=5)
    write_lines(live, lines[:900])
    shipper = subprocess.Popen([sys.executable, str(STAGE1 / "shipper.py"), "--live-file", str(live)],
                               env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        # stop it in the middle: once something is indexed, while more lines keep arriving
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if es.indices.exists(index=stage["index"]):
                # "yellow" is also reported while a new index's primary is still unassigned;
                # green (the template has no replicas) means the shard is searchable
                es.cluster.health(index=stage["index"], wait_for_status="green", timeout="30s")
                if es.count(index=stage["index"])["count"] > 0:
                    break
            time.sleep(0.2)
        write_lines(live, lines[900:1200])
        shipper.send_signal(signal.SIGINT)
        first = shipper.communicate(timeout=60)[0]
    finally:
        if shipper.poll() is None:
            shipper.kill()
    assert shipper.returncode == 0, first
    first_count = shipped_count(first)
    print(f"the first run shipped {first_count} of 1200 lines before it was stopped")
    assert 0 < first_count <= 1200

    write_lines(live, lines[1200:])
    second = run("shipper.py", "--live-file", live, "--max-events", 1500 - first_count, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    # together the two runs handled every line exactly once...
    assert first_count + shipped_count(second.stdout) == 1500
    # ...and the index holds every event once
    assert es.count(index=stage["index"])["count"] == 1500
    # a third start has nothing left to do: the offset is at the end of the file
    third = run("shipper.py", "--live-file", live, "--duration", 2, env=env)
    assert shipped_count(third.stdout) == 0


def test_bad_lines_are_dead_lettered_with_their_reason_and_the_rest_shipped(stage, tmp_path):
    live, es = stage["live"], stage["es"]
    good = track_lines(300, seed=3)
    mixed = []
    for n, line in enumerate(good):      # bad lines spread among the good ones
        mixed.append(line)
        if n % 33 == 0 and n // 33 < len(BAD_LINES):
            mixed.append(BAD_LINES[n // 33][0])
    write_lines(live, mixed)
    done = run("shipper.py", "--live-file", live, "--max-events", len(mixed), env=stage["env"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"shipped {len(mixed)} events, rejected {len(BAD_LINES)}, indexed 300" in done.stdout

    assert es.count(index=stage["index"])["count"] == 300
    dead = [h["_source"] for h in es.search(index=stage["deadletter"], size=100)["hits"]["hits"]]
    assert sorted(d["reason"] for d in dead) == sorted(reason for _, reason in BAD_LINES)
    assert all(d["source"] == "shipper" for d in dead)
    by_reason = {}
    for d in dead:
        by_reason.setdefault(d["reason"], []).append(d["raw"])
    assert "900003,12,3,2024-13-45 10:00:00,1,10001" in by_reason["bad_datetime"]
    assert any("\ufffd" in raw for raw in by_reason["not_utf8"])


def test_kafka_sink_sends_raw_lines_keyed_by_customer(stage, unique):
    """Stage 2 uses the same shipper with --sink kafka: lines unchanged, empty ones skipped."""
    from common.clients import delete_topics, read_topic

    topic = f"t_{unique}"
    good = track_lines(200, seed=9)
    bad = [line for line, _ in BAD_LINES]
    write_lines(stage["live"], good + bad)
    try:
        done = run("shipper.py", "--sink", "kafka", "--topic", topic, "--live-file", stage["live"],
                   "--max-events", len(good) + len(bad), env=stage["env"])
        assert done.returncode == 0, done.stdout + done.stderr
        empty = sum(1 for line in bad if not line.strip())
        assert f"shipped {len(good) + len(bad)} events, rejected {empty}, sent {len(good) + len(bad) - empty}" \
            in done.stdout
        received = read_topic(topic, len(good) + len(bad) - empty, stage["settings"])
    finally:
        delete_topics([topic], stage["settings"])
    assert sorted(m.value for m in received) == sorted(line for line in good + bad if line.strip())
    keys = {m.value: m.key for m in received}
    assert all(keys[line] == line.split(b",")[1] for line in good)
    assert keys[b"900004,twelve,3,2024-03-01 10:00:00,1,10001"] is None   # no numeric customer id


def test_shipper_killed_hard_resumes_from_the_last_confirmed_batch(stage, tmp_path):
    """kill -9 while lines stream in: nothing confirmed is shipped again, nothing is lost."""
    from stage1.follower import FileFollower

    source, live, env, es = tmp_path / "tracks.csv", stage["live"], stage["env"], stage["es"]
    write_lines(source, track_lines(1500, seed=8))
    generator = subprocess.Popen([sys.executable, str(STAGE1 / "live_generator.py"), "--source", str(source),
                                  "--out", str(live), "--rate", "200", "--max-events", "1500"],
                                 env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
    shipper = subprocess.Popen([sys.executable, str(STAGE1 / "shipper.py"), "--live-file", str(live)],
                               env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
    try:
        offsets = tmp_path / "runtime" / "offsets"
        deadline = time.monotonic() + 60
        while not any(offsets.glob("shipper-es-*.json")) and time.monotonic() < deadline:
            time.sleep(0.05)               # until the first batch was confirmed
        time.sleep(0.5)
        shipper.kill()
        shipper.wait(timeout=10)
        assert generator.wait(timeout=60) == 0
    finally:
        for p in (generator, shipper):
            if p.poll() is None:
                p.kill()
    (offset_file,) = (tmp_path / "runtime" / "offsets").glob("shipper-es-*.json")
    backlog = FileFollower(live, offset_file).backlog_lines()
    assert 0 < backlog < 1500, "the kill should land in the middle of the stream"
    second = run("shipper.py", "--live-file", live, "--max-events", backlog, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert shipped_count(second.stdout) == backlog
    assert es.count(index=stage["index"])["count"] == 1500
    assert FileFollower(live, offset_file).backlog_lines() == 0


def test_runs_in_a_row_add_new_plays_and_ship_an_earlier_backlog_first(stage, tmp_path):
    """Two bounded runs on one live file: the second run's plays get new ids (the
    index grows by exactly its plays), and lines an earlier run left unshipped
    are shipped first and reported, without being mistaken for this run's."""
    source, live, es, index = tmp_path / "tracks.csv", stage["live"], stage["es"], stage["index"]
    write_lines(source, track_lines(300, seed=4))
    first = run("run_stage1.py", "--max-events", 200, "--rate", 2000, "--source", source,
                "--live-file", live, env=stage["env"])
    assert first.returncode == 0, first.stdout + first.stderr
    assert es.count(index=index)["count"] == 200
    # lines written while no shipper ran (ids below the generator's next one): a backlog
    write_lines(live, track_lines(30, seed=6, first_id=1))
    second = run("run_stage1.py", "--max-events", 200, "--rate", 2000, "--source", source,
                 "--live-file", live, env=stage["env"])
    assert second.returncode == 0, second.stdout + second.stderr
    assert "30 lines were written to live.csv since this shipper last ran" in second.stdout
    assert "shipped 230 events, 30 of them left by earlier runs" in second.stdout
    lines = pd.read_csv(live, header=None, names=EVENT_COLUMNS)
    generated = lines[lines["event_id"] > 300]["event_id"]
    # the source's largest id is 300: live plays continue after it, one new id each
    assert sorted(generated) == list(range(301, 701))
    assert es.count(index=index)["count"] == 430
