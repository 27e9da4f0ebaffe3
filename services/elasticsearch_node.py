"""Elasticsearch: one single-node cluster from the unpacked distribution.

    python -m services up elasticsearch

copies the distribution's config to ``.runtime/elasticsearch/config`` and writes
its ``elasticsearch.yml`` (loopback, no security, single node), then starts it as
a daemon (pid in ``.runtime/run/elasticsearch.pid``), as the user
``workshop-es`` when we are root. Data in ``.runtime/data/elasticsearch``, logs
in ``.runtime/logs/elasticsearch/``. Healthy means the cluster is yellow or green.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from common.config import Settings
from services.fetch import fetch_elasticsearch, versions
from services.system import (ES_USER, ServiceError, es_user_prefix, find_jdk, log_dir, max_map_count,
                             pid_file, tail)


def log(s: Settings) -> Path:
    return log_dir(s) / "elasticsearch" / "workshop.log"


def _config(s: Settings, data: Path, logs: Path) -> str:
    """The text of elasticsearch.yml."""
    lines = [
        "cluster.name: workshop", "node.name: node-1",
        f"path.data: {data}", f"path.logs: {logs}",
        f"network.host: {s.bind_host}", f"http.port: {s.es_port}", "transport.port: 9300-9399",
        "discovery.type: single-node",
        # a learner's laptop disk is often >90% full; don't turn indices read-only for that
        "cluster.routing.allocation.disk.threshold_enabled: false",
        "action.destructive_requires_name: false",
        # loopback-only workshop node: no TLS, no passwords (otherwise ES 9 turns
        # on security with generated certificates at first start)
        "xpack.security.enabled: false",
    ]
    mmc = max_map_count()
    if mmc is not None and mmc < 262144:
        # too few memory-map areas for mmapfs; niofs works without changing the kernel
        lines.append("node.store.allow_mmap: false")
    return "\n".join(lines) + "\n"


def start(s: Settings) -> None:
    home = fetch_elasticsearch(s)
    jdk = find_jdk(21, f"Elasticsearch {versions()['ES_VERSION']}")
    base = s.runtime_dir / "elasticsearch"
    conf, data, logs = base / "config", s.runtime_dir / "data" / "elasticsearch", log_dir(s) / "elasticsearch"
    for d in (data, logs):
        d.mkdir(parents=True, exist_ok=True)
    # a fresh copy of the distribution's config each start (keystore, jvm.options ...)
    shutil.rmtree(conf, ignore_errors=True)
    shutil.copytree(home / "config", conf)
    (conf / "elasticsearch.yml").write_text(_config(s, data, logs))
    pidf = pid_file(s, "elasticsearch")
    pidf.unlink(missing_ok=True)
    prefix = es_user_prefix([base, data, logs, home])
    if prefix:
        subprocess.run(["chown", f"{ES_USER}:", str(pidf.parent)], check=True)
    env = dict(os.environ, ES_JAVA_HOME=str(jdk), ES_PATH_CONF=str(conf),
               ES_JAVA_OPTS=f"-Xms{s.es_heap} -Xmx{s.es_heap}")
    env.pop("JAVA_HOME", None)
    out = logs / "startup.log"
    with open(out, "ab") as fh:
        # its own session: `elasticsearch -d` does not leave the terminal's process group, so
        # a Ctrl-C on the `make stageN` that started it would otherwise stop Elasticsearch too
        res = subprocess.run(prefix + [str(home / "bin" / "elasticsearch"), "-d", "-p", str(pidf)],
                             env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=str(base),
                             start_new_session=True)
    if res.returncode != 0:
        raise ServiceError(f"Elasticsearch failed to start (exit {res.returncode}); last lines of {out}:\n"
                           + tail(out))


def healthy(s: Settings) -> bool:
    import requests

    try:
        r = requests.get(f"{s.es_url}/_cluster/health", params={"wait_for_status": "yellow", "timeout": "1s"},
                         timeout=5)
        return r.ok and r.json().get("status") in ("yellow", "green")
    except requests.RequestException:
        return False
