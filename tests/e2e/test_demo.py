"""`make demo DEMO_DURATION=60` runs the whole pipeline, serves the dashboard and exits 0.

Runs the real make target (as the README tells a user), with a short history so
the test stays quick, and watches from outside: the dashboard answers 200 and
the stage indices grow while the demo runs.
"""
from __future__ import annotations

import os
import subprocess
import threading
import time
import urllib.request

import pytest
from elasticsearch import Elasticsearch, NotFoundError

from common.config import REPO_ROOT

pytestmark = pytest.mark.e2e


def _count(es: Elasticsearch, index: str) -> int:
    try:
        es.indices.refresh(index=index)
        return es.count(index=index)["count"]
    except NotFoundError:
        return 0


def _writes(es: Elasticsearch, index: str) -> int:
    """Documents written into ``index`` since it was created. Unlike the count this
    grows on a second demo run too, which replays the same plays (same ids, so
    they overwrite instead of duplicating)."""
    try:
        return es.indices.stats(index=index, metric="indexing")["_all"]["primaries"]["indexing"]["index_total"]
    except NotFoundError:
        return 0


def test_make_demo_bounded(engines, settings):
    es = Elasticsearch(**settings.es_client_kwargs())
    stage1_before = _count(es, settings.index_stage1)
    stage3_before = _writes(es, settings.index_stage3)
    seen = {"dashboard_200": False, "stage3_writes": []}
    done = threading.Event()

    def watch():
        url = f"http://{settings.bind_host}:{settings.dashboard_port}/"
        while not done.is_set():
            try:
                with urllib.request.urlopen(url, timeout=3) as r:
                    seen["dashboard_200"] |= r.status == 200
            except OSError:
                pass
            seen["stage3_writes"].append(_writes(es, settings.index_stage3))
            done.wait(2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t0 = time.monotonic()
    res = subprocess.run(["make", "demo", "DEMO_DURATION=60"], cwd=REPO_ROOT,
                         env=dict(os.environ, DEMO_HISTORY="20000"),
                         capture_output=True, text=True, timeout=900)
    done.set()
    watcher.join()
    tail = (res.stdout + res.stderr)[-4000:]
    assert res.returncode == 0, tail
    assert "http://127.0.0.1:3000" in res.stdout, tail
    assert seen["dashboard_200"], "the dashboard never answered 200 during the demo"
    writes = seen["stage3_writes"]
    assert writes and writes[-1] > stage3_before, f"{settings.index_stage3} did not grow: {writes}\n{tail}"
    # growth was seen while the demo ran, not only at the end
    assert sum(b > a for a, b in zip(writes, writes[1:])) >= 5, writes
    assert _count(es, settings.index_stage1) >= max(stage1_before, 20000)
    print(f"make demo DEMO_DURATION=60 took {time.monotonic() - t0:.0f}s; "
          f"{settings.index_stage3} writes: {stage3_before} -> {writes[-1]}")
