"""Stages 2 and 3 on three Kafka brokers and three Elasticsearch nodes that lose a node mid-stream.

A private pair of clusters (services/multinode.py: own ports, own .runtime folder) and a
private Redis carry one live stage-2 run and one live stage-3 run. While plays arrive,
the broker that leads the topic's first partition is killed with SIGKILL, and so is the
Elasticsearch node that holds the stage index's primary shard; later both are started
again and rejoin. No part of the pipeline is restarted by the test, and no query may
restart from its checkpoint: a partition leader's failover is Kafka's job, a lost
primary's Elasticsearch's. The results must equal a fault-free run's: every play in the
index once, the interest list equal to the oracle, one SMS per targeted customer and
day. The stall at each kill (from the kill until every play written is searchable) is
printed. A last test takes two of the three brokers away, so the topic has fewer
in-sync replicas than min.insync.replicas: the producer is refused, waits, and sends
the same messages again once a broker is back.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import threading
import time
import uuid

import pandas as pd
import pytest

import services
from common.config import Settings, get_settings
from services import multinode
from tests.e2e.test_engine_faults import (CHUNK, STAGE3_TARGETS, LiveRun, Stage3Run, all_docs, events_of,
                                          import_customers, indexed, interest_docs, interest_oracle, stage3_setup,
                                          stage3_searchable, wait_for_interest, wait_until_searchable)
from tests.faults_kit import FAST, SAMPLE

pytestmark = pytest.mark.e2e


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _free_block() -> int:
    """A base port with base..base+2 and base+100..base+102 free (a cluster's ports)."""
    while True:
        base = random.randrange(20000, 40000)
        if all(_free(base + d) for d in (0, 1, 2, 100, 101, 102)):
            return base


@pytest.fixture(scope="module")
def clusters(engines):
    """Three brokers, three Elasticsearch nodes and a Redis of our own (downloads shared)."""
    shared = get_settings()
    runtime = shared.runtime_dir / f"test-multinode-{uuid.uuid4().hex[:8]}"
    runtime.mkdir(parents=True)
    base = Settings(runtime_dir=runtime, downloads_dir=shared.downloads_dir, kafka_cluster_port=_free_block(),
                    es_cluster_port=_free_block(), redis_port=_free_block(), data_dir=SAMPLE,
                    trigger_interval="1 second", interest_lateness_minutes=1440)
    s = multinode.client_settings(base)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **FAST, "ENGINES": "external",
           "RUNTIME_DIR": str(runtime), "DOWNLOADS_DIR": str(shared.downloads_dir), "DATA_DIR": str(SAMPLE),
           "KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap_servers, "ES_URL": s.es_url,
           "REDIS_PORT": str(s.redis_port), "TRIGGER_INTERVAL": "1 second", "INTEREST_LATENESS_MINUTES": "1440"}
    env.pop("REDIS_URL", None)
    try:
        services.up(["redis"], settings=base)
        multinode.up(settings=base)
        yield base, s, env
    finally:
        multinode.down(settings=base)
        services.down(["redis"], settings=base)
        shutil.rmtree(runtime, ignore_errors=True)


# --- which node to kill ------------------------------------------------------------------
def leader_broker(base: Settings, s: Settings, topic: str):
    """The broker that leads the topic's partition 0 now."""
    from common.clients import _admin

    leader = _admin(s).list_topics(topic, timeout=10).topics[topic].partitions[0].leader
    return multinode.brokers(base)[leader - 1]


def primary_node(base: Settings, s: Settings, index: str):
    """The Elasticsearch node that holds the index's primary shard now."""
    from common.clients import es_client

    shards = es_client(s).cat.shards(index=index, format="json")
    name = next(row["node"] for row in shards if row["prirep"] == "p")
    return next(n for n in multinode.es_nodes(base) if n.name == name)


def kill(base: Settings, node) -> None:
    pid = multinode.our_pid(base, node)
    assert pid, f"{node.name} is not running"
    os.kill(pid, signal.SIGKILL)
    while services.system.pid_alive(pid):
        time.sleep(0.1)


def rejoin(base: Settings, node, engine: str) -> float:
    """Start a killed node again; returns the seconds until its cluster is healthy (green)."""
    started = time.monotonic()
    multinode.start_node(base, node)
    multinode.wait_healthy(base, engine)
    return time.monotonic() - started


def replication_of(s: Settings, topic: str) -> tuple[int, str]:
    from confluent_kafka.admin import ConfigResource

    from common.clients import _admin

    admin = _admin(s)
    replicas = len(admin.list_topics(topic, timeout=10).topics[topic].partitions[0].replicas)
    config = next(iter(admin.describe_configs([ConfigResource("topic", topic)]).values())).result()
    return replicas, config["min.insync.replicas"].value


def report(capsys, title: str, took: dict[str, float]) -> None:
    with capsys.disabled():
        print(f"\n{title}")
        for what, seconds in took.items():
            print(f"  {what:<64} {seconds:5.1f} s")


# --- the runs ------------------------------------------------------------------------------
def test_stage2_loses_the_partition_leader_and_an_es_node_and_nothing_else(clusters, tmp_path, capsys):
    base, s, env = clusters
    import_customers(env, timeout=180)
    plays = (SAMPLE / "tracks.csv").read_text().splitlines()[:5 * CHUNK]
    lines = plays[:2 * CHUNK] + ["malformed line on the cluster"] + plays[2 * CHUNK:]
    chunks = [lines[:CHUNK], lines[CHUNK:2 * CHUNK + 1], lines[2 * CHUNK + 1:3 * CHUNK + 1],
              lines[3 * CHUNK + 1:]]
    run = LiveRun(s, env, tmp_path)
    took: dict[str, float] = {}
    try:
        run.append(chunks[0])
        took["start (Spark, first batch)"] = wait_until_searchable(run, "before any kill", timeout=300)
        assert replication_of(s, s.kafka_topic) == (3, "2")
        assert es_replicas(s, s.index_stage2) == 1

        broker = leader_broker(base, s, s.kafka_topic)
        kill(base, broker)                          # the partition leader, -9, while plays arrive
        run.append(chunks[1], rate=100)
        took[f"Kafka: leader {broker.name} killed -9, plays go on (stall)"] = \
            wait_until_searchable(run, "after the leader was killed", timeout=120)
        took[f"Kafka: {broker.name} started again, cluster healthy"] = rejoin(base, broker, "kafka")

        node = primary_node(base, s, s.index_stage2)
        kill(base, node)                            # the node with the stage-2 primary, -9
        run.append(chunks[2], rate=100)
        took[f"Elasticsearch: {node.name} (primary) killed -9, plays go on (stall)"] = \
            wait_until_searchable(run, "after the ES node was killed", timeout=180)
        took[f"Elasticsearch: {node.name} started again, cluster green"] = rejoin(base, node, "elasticsearch")

        run.append(chunks[3])
        took["the last plays, every node back"] = wait_until_searchable(run, "the last plays")
        expected = interest_oracle(s, events_of(run.written))
        wait_for_interest(s, expected, alive=run.alive)
    finally:
        run.stop()
    report(capsys, "stage 2 on 3 brokers + 3 Elasticsearch nodes:", took)

    assert "restarting it from its checkpoint" not in run.log("job"), "a query restarted because of the kill"
    events = events_of(run.written)
    assert sorted(d["event_id"] for d in all_docs(s, s.index_stage2)) == sorted(events["event_id"]), \
        "lost or extra plays"
    assert sorted(d["event_id"] for d in all_docs(s, s.index_stage1)) == sorted(events["event_id"]), \
        "stage 1: lost or extra plays"
    assert [d["raw"] for d in all_docs(s, s.index_deadletter)] == ["malformed line on the cluster"]
    expected = interest_oracle(s, events)
    assert len(expected) > 5 and interest_docs(s) == expected


def es_replicas(s: Settings, index: str) -> int:
    from common.clients import es_client

    settings = es_client(s).indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    return int(settings["index.number_of_replicas"])


def test_stage3_loses_the_partition_leader_and_an_es_node_and_sends_each_sms_once(clusters, tmp_path, capsys):
    base, s0, env0 = clusters
    s, env, r = stage3_setup(s0, env0, "s3cluster", import_timeout=180)
    lines = (SAMPLE / "tracks.csv").read_text().splitlines()[:4 * CHUNK]
    chunks = [lines[i * CHUNK:(i + 1) * CHUNK] for i in range(4)]
    run = Stage3Run(s, env, tmp_path)
    took: dict[str, float] = {}
    try:
        run.append(chunks[0])
        took["start (Spark, first batch)"] = stage3_searchable(run, "before any kill", timeout=300)

        broker = leader_broker(base, s, s.kafka_topic)
        node = primary_node(base, s, s.index_stage3)
        kill(base, broker)                          # both at once, this time
        kill(base, node)
        run.append(chunks[1], rate=100)
        took[f"Kafka leader {broker.name} and ES primary {node.name} killed -9 (stall)"] = \
            stage3_searchable(run, "after the kills", timeout=180)
        took[f"{broker.name} started again, Kafka healthy"] = rejoin(base, broker, "kafka")
        took[f"{node.name} started again, Elasticsearch green"] = rejoin(base, node, "elasticsearch")

        run.append(chunks[2] + chunks[3])
        took["the last plays, every node back"] = stage3_searchable(run, "the last plays")
        events = events_of(run.written)
        levels = pd.read_csv(SAMPLE / "cust.csv").set_index("CustID")["Level"].to_dict()
        expected_offers = {f"{c}-{day[:10]}" for c, day in zip(events["customer_id"], events["datetime"])
                           if c in STAGE3_TARGETS and levels[c] in (0, 1)}          # Free, Silver
        expected = interest_oracle(s, events)
        wait_for_interest(s, expected, alive=run.alive, extra=lambda: len(run.delivered()) >= len(expected_offers))
    finally:
        run.stop()
    report(capsys, "stage 3 on 3 brokers + 3 Elasticsearch nodes:", took)

    assert "restarting it from its checkpoint" not in run.log("job"), "a query restarted because of the kill"
    docs = all_docs(s, s.index_stage3)
    assert sorted(d["event_id"] for d in docs) == sorted(events["event_id"]), "lost or extra plays"
    assert indexed(s, s.index_deadletter) == 0, "a good play was dead-lettered"
    assert len(expected) > 5 and interest_docs(s) == expected
    assert len(expected_offers) >= 10
    sms = run.delivered()
    assert len(sms) == len(set(sms)), f"an offer was delivered twice: {sorted(sms)}"
    assert set(sms) == expected_offers
    assert r.xlen(s.redis_offers_dead_stream) == 0


def test_too_few_in_sync_replicas_is_waited_out_and_the_same_messages_sent_again(clusters, unique):
    """Two of three brokers gone (and with them the controllers' quorum): the partitions
    have fewer in-sync copies than min.insync.replicas (2), and Kafka acknowledges no
    acks=all write. Two producers meet it. The shipper's (messages may wait as long as
    the give-up time) leaves the retrying to librdkafka, whose idempotent retries store
    each message once. One that gives a message up after 3 s is refused, says so, waits,
    and sends the same messages again once a broker is back: each lands at least once (a
    message the broker wrote but could not acknowledge lands twice; downstream a play is
    keyed by its event id, so the index holds it once)."""
    from common.clients import delete_topics, ensure_topic, read_topic
    from common.retry import call_with_retry
    from common.sinks import KafkaEventProducer
    from tests.stage1_data import track_lines

    base, s, _ = clusters
    topic = f"t_isr_{unique}"
    ensure_topic(topic, settings=s)
    assert replication_of(s, topic) == (3, "2")
    lines = track_lines(400)
    patient, hasty = lines[:200], lines[200:]
    first, second = multinode.brokers(base)[1:]
    said = {"patient": [], "hasty": []}
    try:
        kill(base, first)
        kill(base, second)
        producers = {"patient": KafkaEventProducer(s, topic, **{"message.timeout.ms": 120_000}),
                     "hasty": KafkaEventProducer(s, topic, **{"message.timeout.ms": 3000})}
        for name, part in (("patient", patient), ("hasty", hasty)):
            for i, line in enumerate(part):
                producers[name].send(line, key=line.split(b",")[1], source=f"{name}:{i}")

        def bring_one_back():
            time.sleep(8)
            multinode.start_node(base, first)

        back = threading.Thread(target=bring_one_back, daemon=True)
        back.start()
        flushes = {name: threading.Thread(target=lambda n=name: said[n].append(call_with_retry(
            lambda: producers[n].flush(timeout=4), "Kafka", s.kafka_bootstrap_servers, give_up=180, cap=2,
            say=said[n].append))) for name in producers}
        for thread in flushes.values():
            thread.start()
        for thread in flushes.values():
            thread.join()
        back.join()
        assert said["patient"][-1] == 200 and said["hasty"][-1] == 200, said
        assert not any("refusing writes" in str(line) for line in said["patient"]), said["patient"]
        assert any("refusing writes" in str(line) for line in said["hasty"]), said["hasty"]
        received = [r.value for r in read_topic(topic, 10_000, settings=s, timeout=20)]
        assert sorted(v for v in received if v in set(patient)) == sorted(patient), "the shipper's: each once"
        assert set(received) - set(patient) == set(hasty), "a message sent again was lost"
    finally:
        for b in (first, second):
            if multinode.our_pid(base, b) is None:
                multinode.start_node(base, b)
        multinode.wait_healthy(base, "kafka")
        delete_topics([topic], settings=s)
