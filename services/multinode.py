"""Kafka and Elasticsearch as real three-node clusters on this machine.

    python -m services cluster-up kafka elasticsearch   start (idempotent), wait until healthy
    python -m services cluster-status                    every node, and what the cluster says
    python -m services cluster-down                      stop what cluster-up started

(``make cluster-up`` starts these and the Spark standalone cluster; ``CLUSTER=kafka``
starts one.) They run beside the single engines of ``make services-up``, on their
own ports, with their own data and logs:

    Kafka          3 brokers in KRaft mode, each a broker and a controller (combined mode,
                   a quorum of three controllers: one may die), on KAFKA_CLUSTER_PORT and
                   the next two ports (controllers 100 above); .runtime/cluster/kafka-N/,
                   logs .runtime/logs/cluster/kafka-N.log. Kafka's own topics and every new
                   topic get 3 copies, min.insync.replicas 2 (common.clients.ensure_topic).
    Elasticsearch  3 nodes, all master-eligible and holding data, on ES_CLUSTER_PORT and the
                   next two (transport 100 above); .runtime/cluster/es-N/, logs in
                   .runtime/logs/cluster/es-N/. Every index gets one replica
                   (common.schema: auto_expand_replicas 0-1).

Healthy means every broker is in the cluster's metadata and a message produced with
acks=all is read back; and Elasticsearch reports all its nodes, green. The stages run on
them by configuration alone (``cluster-up`` prints the line)::

    ENGINES=external KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094 \\
      ES_URL=http://127.0.0.1:19200,http://127.0.0.1:19201,http://127.0.0.1:19202 make stage2
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from common.config import Settings, get_settings
from services import elasticsearch_node, kafka_broker
from services.elasticsearch_node import Node
from services.kafka_broker import Broker
from services.system import (ServiceError, check_bind, cmdline_matches, pid_alive, pid_file, port_open,
                             process_cmdline, say, secure_run_dir, tail)

ENGINES = ("kafka", "elasticsearch")
START_TIMEOUT = 240              # seconds for a whole cluster to be healthy


def base_dir(s: Settings) -> Path:
    return s.runtime_dir / "cluster"


def cluster_log_dir(s: Settings) -> Path:
    return s.runtime_dir / "logs" / "cluster"


# --- the nodes -----------------------------------------------------------------------
def brokers(s: Settings) -> list[Broker]:
    n = s.kafka_cluster_brokers
    voters = ",".join(f"{i}@{s.bind_host}:{s.kafka_cluster_port + 100 + i - 1}" for i in range(1, n + 1))
    return [Broker(f"kafka-{i}", i, s.kafka_cluster_port + i - 1, s.kafka_cluster_port + 100 + i - 1, voters,
                   base_dir(s) / f"kafka-{i}", base_dir(s) / f"kafka-{i}" / "data",
                   cluster_log_dir(s) / f"kafka-{i}.log", s.kafka_cluster_heap, replicas=min(3, n))
            for i in range(1, n + 1)]


def es_nodes(s: Settings) -> list[Node]:
    n = s.es_cluster_nodes
    seeds = tuple(f"{s.bind_host}:{s.es_cluster_port + 100 + i}" for i in range(n))
    return [Node(name, s.es_cluster_port + i, str(s.es_cluster_port + 100 + i), base_dir(s) / name,
                 base_dir(s) / name / "data", cluster_log_dir(s) / name, s.es_cluster_heap, seeds,
                 cluster="workshop-cluster")
            for i, name in enumerate(elasticsearch_node.cluster_node_names(n))]


def bootstrap_servers(s: Settings) -> str:
    return ",".join(f"{s.bind_host}:{b.port}" for b in brokers(s))


def es_url(s: Settings) -> str:
    return ",".join(f"http://{s.bind_host}:{n.http_port}" for n in es_nodes(s))


def client_settings(s: Settings) -> Settings:
    """The settings a stage runs with on these clusters (Redis stays the single one)."""
    return s.model_copy(update={"kafka_bootstrap_servers": bootstrap_servers(s), "es_url": es_url(s)})


def markers(s: Settings, node: Broker | Node) -> list[str]:
    return node.markers() if isinstance(node, Broker) else elasticsearch_node.cmdline_markers(s, node)


def our_pid(s: Settings, node: Broker | Node) -> int | None:
    """The pid cluster-up started for ``node``, if that process still runs as it."""
    try:
        pid = int(pid_file(s, node.name).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) and cmdline_matches(process_cmdline(pid), markers(s, node)) else None


def nodes(s: Settings, engine: str) -> list[Broker | Node]:
    return list(brokers(s)) if engine == "kafka" else list(es_nodes(s))


def ports(node: Broker | Node) -> list[int]:
    if isinstance(node, Broker):
        return [node.port, node.controller_port]
    return [node.http_port, int(node.transport_port)]


# --- health --------------------------------------------------------------------------
def kafka_healthy(s: Settings) -> bool:
    """Every broker is in the metadata, and a message written with acks=all is read back."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    from common.clients import kafka_config

    c = client_settings(s)
    try:
        meta = AdminClient(kafka_config(c)).list_topics(timeout=5)
    except KafkaException:
        return False
    return len(meta.brokers) == s.kafka_cluster_brokers and kafka_broker.healthy(c)


def es_health(s: Settings) -> dict | None:
    """The cluster's health as the first node that answers says it, or None."""
    import requests

    for url in client_settings(s).es_urls:
        try:
            r = requests.get(f"{url}/_cluster/health", timeout=5)
            if r.ok:
                return r.json()
        except requests.RequestException:
            continue
    return None


def es_healthy(s: Settings) -> bool:
    h = es_health(s)
    return h is not None and h.get("number_of_nodes") == s.es_cluster_nodes and h.get("status") == "green"


HEALTHY = {"kafka": kafka_healthy, "elasticsearch": es_healthy}


# --- start, stop ---------------------------------------------------------------------
def start_node(s: Settings, node: Broker | Node) -> int:
    """Start one node (it joins the others) and return its pid; no waiting for health."""
    for port in ports(node):
        if port_open(s.bind_host, port):
            raise ServiceError(f"port {port} ({node.name}) is already in use by a process this project did not "
                               f"start: stop it (see: ss -ltnp 'sport = :{port}') or move the cluster "
                               f"(KAFKA_CLUSTER_PORT, ES_CLUSTER_PORT)")
    if isinstance(node, Broker):
        kafka_broker.start_broker(s, node, cluster_id=_kafka_cluster_id(s))
    else:
        elasticsearch_node.start_node(s, node)
    pid = our_pid(s, node)
    if pid is None:
        raise ServiceError(f"{node.name} exited at once; last lines of {node.log}:\n{tail(node.log)}")
    return pid


def _kafka_cluster_id(s: Settings) -> str:
    """The id every broker's storage is formatted with (kept, so a wiped broker rejoins)."""
    path = base_dir(s) / "kafka-cluster.id"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kafka_broker.new_cluster_id())
    return path.read_text().strip()


def wait_healthy(s: Settings, engine: str, timeout: float = START_TIMEOUT) -> float:
    """Wait until ``engine``'s cluster is healthy; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if HEALTHY[engine](s):
            return time.monotonic() - started
        for node in nodes(s, engine):
            if our_pid(s, node) is None:
                raise ServiceError(f"{node.name} exited while the cluster started; last lines of {node.log}:\n"
                                   f"{tail(node.log)}")
        time.sleep(1)
    raise ServiceError(f"the {engine} cluster was not healthy after {timeout:.0f}s; "
                       f"see {cluster_log_dir(s)}/")


def up(engines=None, settings: Settings | None = None) -> None:
    """Start every node of each cluster (idempotent) and wait until each cluster is healthy."""
    s = settings or get_settings()
    warning = check_bind(s.bind_host, s.allow_remote_bind)
    if warning:
        say(f"  WARNING: {warning}")
    secure_run_dir(s)
    cluster_log_dir(s).mkdir(parents=True, exist_ok=True)
    for engine in engines or ENGINES:
        t0 = time.monotonic()
        for node in nodes(s, engine):
            pid = our_pid(s, node)
            if pid is None:
                pid = start_node(s, node)
                say(f"  {node.name:<14} {s.bind_host}:{ports(node)[0]:<22} starting (pid {pid})")
            else:
                say(f"  {node.name:<14} {s.bind_host}:{ports(node)[0]:<22} already running (pid {pid})")
        wait_healthy(s, engine)
        say(f"  {engine:<14} {len(nodes(s, engine))} nodes, healthy after {time.monotonic() - t0:.0f}s")
    say("  run a stage on them:\n    ENGINES=external "
        + (f"KAFKA_BOOTSTRAP_SERVERS={bootstrap_servers(s)} " if "kafka" in (engines or ENGINES) else "")
        + (f"ES_URL={es_url(s)} " if "elasticsearch" in (engines or ENGINES) else "") + "make stage2")


def stop_node(s: Settings, node: Broker | Node, sig: int = signal.SIGTERM, timeout: float = 60) -> str:
    pid = our_pid(s, node)
    if pid is None:
        pid_file(s, node.name).unlink(missing_ok=True)
        return "not running"
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.2)
    if pid_alive(pid) and cmdline_matches(process_cmdline(pid), markers(s, node)):
        os.kill(pid, signal.SIGKILL)
        while pid_alive(pid):
            time.sleep(0.1)
    pid_file(s, node.name).unlink(missing_ok=True)
    return f"stopped (pid {pid})"


def down(engines=None, settings: Settings | None = None) -> None:
    """Stop the nodes cluster-up started: Kafka first, Elasticsearch last."""
    s = settings or get_settings()
    for engine in engines or ENGINES:
        for node in reversed(nodes(s, engine)):
            say(f"  {node.name:<14} {stop_node(s, node)}")


def status(settings: Settings | None = None) -> dict[str, str]:
    """One line per node, and the cluster's own view of itself."""
    s = settings or get_settings()
    states = {}
    for engine in ENGINES:
        for node in nodes(s, engine):
            pid = our_pid(s, node)
            states[node.name] = f"running (pid {pid})" if pid else "stopped"
            say(f"  {node.name:<14} {s.bind_host}:{ports(node)[0]:<22} {states[node.name]}")
    h = es_health(s)
    say(f"  elasticsearch  " + (f"{h['number_of_nodes']} nodes, {h['status']}, {h['active_shards']} shards "
                                f"({h['unassigned_shards']} unassigned)" if h else "no node answers"))
    say(f"  kafka          " + ("healthy: every broker in the metadata, a write read back"
                                if any(our_pid(s, b) for b in brokers(s)) and kafka_healthy(s) else "not healthy"))
    return states
