"""``make check-room`` for real (tools/check_room.py), against the real engines.

It must pass on this machine: exit 0, one line per check (the three engines, the bounded
stage 2 and stage 3 runs, the dashboard), each starting with ``ok``, then the verdict. Afterwards
nothing it created is left (its indices, index templates, Redis keys and Kafka topic carry the
prefix it names in its Kafka line) and the engines it found running still run.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from common.config import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CHECKS = ["Redis", "Elasticsearch", "Kafka", "stage 2", "stage 3", "dashboard"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_room_check_passes_with_one_line_per_check_and_leaves_nothing_behind(engines, settings):
    from common.clients import _admin, es_client, redis_client

    # a port of its own for the dashboard, so a dashboard another test starts cannot take it first
    env = {**os.environ, "WORKSHOP_LANG": "en", "DASHBOARD_PORT": str(free_port())}
    proc = subprocess.run([sys.executable, "-m", "tools.check_room"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=540)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    checks = [line for line in lines if re.match(r"(ok|FAIL)\s", line)]
    assert [re.match(r"(ok|FAIL)\s+(.+?)\s{2,}", line)[2] for line in checks] == CHECKS, proc.stdout
    assert all(line.startswith("ok ") for line in checks), proc.stdout
    assert lines[0].startswith("room check:") and lines[-1].startswith("verdict: READY, all 6 checks passed")
    assert len(lines) == len(CHECKS) + 2, proc.stdout

    prefix = re.search(r"topic (room_[0-9a-f]+) created", proc.stdout)[1]
    es, r = es_client(settings), redis_client(settings)
    assert not es.cat.indices(index=f"{prefix}_*", format="json", expand_wildcards="all").body
    assert not es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}_*").get("index_templates")
    assert not list(r.scan_iter(f"{prefix}:*"))
    assert prefix not in _admin(settings).list_topics(timeout=10).topics
    assert not (settings.runtime_dir / "check-room" / prefix).exists()
    assert all(state.startswith(("running, healthy", "external, healthy")) for state in engines.status().values())
