"""Elasticsearch: one single-node cluster from the unpacked distribution.

    python -m services up elasticsearch

copies the distribution's config to ``.runtime/elasticsearch/config`` and writes
its ``elasticsearch.yml`` (loopback, no security, single node), then starts it as
a daemon, as the user ``workshop-es`` when we are root. Data in
``.runtime/data/elasticsearch``, logs in ``.runtime/logs/elasticsearch/``. Healthy
means the cluster is yellow or green.

That user owns only the node's own folders (config, data, logs). Its pid file is
written there (``.runtime/elasticsearch/node.pid``); we copy the pid into
``.runtime/run/elasticsearch.pid`` (root's) only once its command line is
Elasticsearch's, so the node's user can never choose what ``down`` signals.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from common.config import Settings
from services.fetch import es_home, fetch_elasticsearch, versions
from services.system import (ServiceError, cmdline_matches, es_user_prefix, find_jdk, log_dir, max_map_count,
                             pid_alive, pid_file, process_cmdline, tail, write_pid_file)

MAIN_CLASS = "org.elasticsearch.bootstrap.Elasticsearch"


@dataclass(frozen=True)
class Node:
    """One Elasticsearch node: the single one of ``make services-up``, or one of the
    three of ``make cluster-up`` (services/multinode.py)."""
    name: str                    # node.name, and its pid file's name
    http_port: int
    transport_port: str          # a port, or a range to take the first free one of
    base: Path                   # its config folder (a fresh copy of the distribution's) and pid file
    data: Path
    logs: Path
    heap: str
    seeds: tuple[str, ...] = ()  # the cluster's transport addresses; none: a single-node cluster
    cluster: str = "workshop"

    @property
    def log(self) -> Path:
        return self.logs / f"{self.cluster}.log"


def single(s: Settings) -> Node:
    """The one node of ``make services-up``."""
    return Node("elasticsearch", s.es_port, "9300-9399", s.runtime_dir / "elasticsearch",
                s.runtime_dir / "data" / "elasticsearch", log_dir(s) / "elasticsearch", s.es_heap)


def log(s: Settings) -> Path:
    return single(s).log


def cmdline_markers(s: Settings, node: Node | None = None) -> list[str]:
    """What the node's command line contains: its main class and ``-Des.path.home=.../elasticsearch-<v>``
    (the folder's name only: a symbolic link on the way may show in the full path or not);
    a cluster's node also its own folder, which tells it from its neighbours."""
    markers = [MAIN_CLASS, es_home(s).name]
    return markers + [f"-Dworkshop.node={node.base}"] if node is not None and node.seeds else markers


def _config(s: Settings, node: Node) -> str:
    """The text of elasticsearch.yml."""
    lines = [
        f"cluster.name: {node.cluster}", f"node.name: {node.name if node.seeds else 'node-1'}",
        f"path.data: {node.data}", f"path.logs: {node.logs}",
        f"network.host: {s.bind_host}", f"http.port: {node.http_port}", f"transport.port: {node.transport_port}",
    ]
    if node.seeds:
        # every node is master-eligible and holds data; the first start elects a master among them
        seeds = ", ".join(f'"{a}"' for a in node.seeds)
        masters = ", ".join(f'"{n}"' for n in cluster_node_names(len(node.seeds)))
        lines += [f"discovery.seed_hosts: [{seeds}]", f"cluster.initial_master_nodes: [{masters}]"]
    else:
        lines.append("discovery.type: single-node")
    lines += [
        # a learner's laptop disk is often >90% full; don't turn indices read-only for that
        "cluster.routing.allocation.disk.threshold_enabled: false",
        "action.destructive_requires_name: false",
        # loopback-only workshop node: no TLS, no passwords (otherwise ES 9 turns
        # on security with generated certificates at first start)
        "xpack.security.enabled: false",
    ]
    if not mmap_enough(max_map_count()):
        # too few memory-map areas for mmapfs; niofs works without changing the kernel
        lines.append("node.store.allow_mmap: false")
    return "\n".join(lines) + "\n"


def cluster_node_names(n: int) -> list[str]:
    return [f"es-{i}" for i in range(1, n + 1)]


# Lucene reads index files through memory maps unless told not to. Elasticsearch's
# production check asks for vm.max_map_count >= 262144 (it only warns on a loopback
# node); a workshop node with its few small indices uses a few hundred map areas, so
# Linux's default of 65530 is plenty. Below that (some container hosts) the node falls
# back to niofs: reads through system calls, measured at ~30% more CPU per indexed
# document (bench/README.md, "What was tuned": Elasticsearch's file access).
MMAP_MIN_MAP_COUNT = 65530


def mmap_enough(map_count: int | None) -> bool:
    """Whether the node may use memory maps with this ``vm.max_map_count`` (None: not Linux)."""
    return map_count is None or map_count >= MMAP_MIN_MAP_COUNT


def start(s: Settings) -> None:
    start_node(s, single(s))


def start_node(s: Settings, node: Node) -> None:
    home = fetch_elasticsearch(s)
    jdk = find_jdk(21, f"Elasticsearch {versions()['ES_VERSION']}")
    conf = node.base / "config"
    for d in (node.data, node.logs):
        d.mkdir(parents=True, exist_ok=True)
    # a fresh copy of the distribution's config each start (keystore, jvm.options ...)
    shutil.rmtree(conf, ignore_errors=True)
    shutil.copytree(home / "config", conf)
    (conf / "elasticsearch.yml").write_text(_config(s, node))
    pid_file(s, node.name).unlink(missing_ok=True)
    node_pid = node.base / "node.pid"            # written by the node, as its user
    node_pid.unlink(missing_ok=True)
    prefix = es_user_prefix(own=[node.base, node.data, node.logs], reach=[home])
    mark = f" -Dworkshop.node={node.base}" if node.seeds else ""
    env = dict(os.environ, ES_JAVA_HOME=str(jdk), ES_PATH_CONF=str(conf),
               ES_JAVA_OPTS=f"-Xms{node.heap} -Xmx{node.heap}{mark}")
    env.pop("JAVA_HOME", None)
    out = startup_log(s, node)                   # in root's log folder, not the node user's
    with open(out, "ab") as fh:
        # its own session: `elasticsearch -d` does not leave the terminal's process group, so
        # a Ctrl-C on the `make stageN` that started it would otherwise stop Elasticsearch too
        res = subprocess.run(prefix + [str(home / "bin" / "elasticsearch"), "-d", "-p", str(node_pid)],
                             env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=str(node.base),
                             start_new_session=True)
    if res.returncode != 0:
        raise ServiceError(f"Elasticsearch failed to start (exit {res.returncode}); last lines of {out}:\n"
                           + tail(out))
    _record_pid(s, node, node_pid)


def startup_log(s: Settings, node: Node | None = None) -> Path:
    """The output of ``bin/elasticsearch -d`` (the node's own log is ``Node.log``)."""
    name = "elasticsearch" if node is None or not node.seeds else node.name
    return log_dir(s) / f"{name}-startup.log"


def _record_pid(s: Settings, node: Node, node_pid: Path, wait: float = 30) -> None:
    """Copy the node's pid into run/ once it names a running Elasticsearch of this distribution."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            pid = int(node_pid.read_text().strip())
        except (OSError, ValueError):
            pid = None                       # `-d` returned before the node wrote it
        if pid and pid_alive(pid) and cmdline_matches(process_cmdline(pid), cmdline_markers(s, node)):
            write_pid_file(pid_file(s, node.name), pid)
            return
        time.sleep(0.3)
    raise ServiceError(f"Elasticsearch started but {node_pid} does not name a running Elasticsearch "
                       f"after {wait:.0f}s; last lines of {node.log}:\n" + tail(node.log))


def healthy(s: Settings) -> bool:
    """The cluster is yellow or green, as the first of ES_URL's nodes that answers says."""
    import requests

    for url in s.es_urls:
        try:
            r = requests.get(f"{url}/_cluster/health", params={"wait_for_status": "yellow", "timeout": "1s"},
                             timeout=5)
            return r.ok and r.json().get("status") in ("yellow", "green")
        except requests.RequestException:
            continue
    return False
