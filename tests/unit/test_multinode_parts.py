"""The three-broker and three-node clusters' layout and configuration (services/multinode.py),
and how many copies a new topic gets (common.clients.replication); no engine is started."""
from __future__ import annotations

from common.clients import replication
from common.config import Settings
from services import elasticsearch_node, kafka_broker, multinode


def test_each_node_has_its_own_ports_folders_and_pid_file(tmp_path):
    s = Settings(runtime_dir=tmp_path, kafka_cluster_port=30000, es_cluster_port=31000)
    brokers, nodes = multinode.brokers(s), multinode.es_nodes(s)
    assert [(b.port, b.controller_port) for b in brokers] == [(30000, 30100), (30001, 30101), (30002, 30102)]
    assert brokers[0].voters == "1@127.0.0.1:30100,2@127.0.0.1:30101,3@127.0.0.1:30102"
    assert [(n.http_port, n.transport_port) for n in nodes] == [(31000, "31100"), (31001, "31101"), (31002, "31102")]
    every = [*brokers, *nodes]
    assert len({x.name for x in every}) == 6 and "kafka" not in {x.name for x in every}   # not the single broker's
    assert len({x.base for x in every}) == 6 and all(tmp_path / "cluster" in x.base.parents for x in every)
    assert multinode.bootstrap_servers(s) == "127.0.0.1:30000,127.0.0.1:30001,127.0.0.1:30002"
    assert multinode.client_settings(s).es_urls == [f"http://127.0.0.1:{p}" for p in (31000, 31001, 31002)]


def test_a_cluster_broker_keeps_three_copies_of_kafkas_own_topics_and_wants_two_in_sync(tmp_path):
    s = Settings(runtime_dir=tmp_path)
    b = multinode.brokers(s)[1]
    b.base.mkdir(parents=True)
    props = kafka_broker._write_config(s, b)[0].read_text()
    for line in ("node.id=2", "default.replication.factor=3", "min.insync.replicas=2",
                 "offsets.topic.replication.factor=3", "transaction.state.log.min.isr=2",
                 f"controller.quorum.voters={b.voters}"):
        assert line in props.splitlines()
    single = kafka_broker.single(s)
    single.base.mkdir(parents=True)
    one = kafka_broker._write_config(s, single)[0].read_text().splitlines()
    assert "offsets.topic.replication.factor=1" in one and "min.insync.replicas=1" in one


def test_cluster_nodes_find_each_other_and_a_single_node_stays_single(tmp_path):
    s = Settings(runtime_dir=tmp_path, es_cluster_port=31000)
    text = elasticsearch_node._config(s, multinode.es_nodes(s)[2])
    assert 'discovery.seed_hosts: ["127.0.0.1:31100", "127.0.0.1:31101", "127.0.0.1:31102"]' in text
    assert 'cluster.initial_master_nodes: ["es-1", "es-2", "es-3"]' in text
    assert "node.name: es-3" in text and "discovery.type" not in text
    assert "discovery.type: single-node" in elasticsearch_node._config(s, elasticsearch_node.single(s))
    # a cluster node's command line carries its own folder: kill and status tell the three apart
    markers = elasticsearch_node.cmdline_markers(s, multinode.es_nodes(s)[0])
    assert markers[-1] == f"-Dworkshop.node={multinode.es_nodes(s)[0].base}"


def test_a_new_topic_has_a_copy_per_broker_up_to_three_and_one_fewer_in_sync():
    s = Settings()
    assert replication(s, 1) == (1, 1)
    assert replication(s, 2) == (2, 1)
    assert replication(s, 3) == (3, 2)
    assert replication(s, 5) == (3, 2)
    assert replication(Settings(kafka_replication_factor=2, kafka_min_insync_replicas=2), 3) == (2, 2)


def test_checkpoints_and_shipper_offsets_kept_for_a_cluster_are_never_read_against_the_single_node(tmp_path):
    from stage1.shipper import default_offset_file
    from stage2 import streaming_job as job

    single = Settings(runtime_dir=tmp_path)
    cluster = multinode.client_settings(single)
    assert single.place_tag("kafka") == single.place_tag("elasticsearch") == ""
    assert cluster.place_tag("kafka").startswith("@") and cluster.place_tag("elasticsearch").startswith("@")
    opts = job.JobOptions()
    names = {job.checkpoint_root(s, opts, "ba_realtime2").name for s in (single, cluster)}
    assert len(names) == 2 and f"stage2-{single.kafka_topic}-ba_realtime2" in names
    live = tmp_path / "live.log"
    for sink, target in (("kafka", "realtime"), ("es", "ba_realtime")):
        files = {default_offset_file(s, sink, target, live) for s in (single, cluster)}
        assert len(files) == 2 and all(f.name.startswith(f"shipper-{sink}-{target}") for f in files)
