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


def test_make_demo_bounded(engines, settings):
    es = Elasticsearch(**settings.es_client_kwargs())
    before = {i: _count(es, i) for i in (settings.index_stage1, settings.index_stage3)}
    seen = {"dashboard_200": False, "stage3_counts": []}
    done = threading.Event()

    def watch():
        url = f"http://{settings.bind_host}:{settings.dashboard_port}/"
        while not done.is_set():
            try:
                with urllib.request.urlopen(url, timeout=3) as r:
                    seen["dashboard_200"] |= r.status == 200
            except OSError:
                pass
            seen["stage3_counts"].append(_count(es, settings.index_stage3))
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
    counts = seen["stage3_counts"]
    assert counts and counts[-1] > before[settings.index_stage3], f"{settings.index_stage3} did not grow: {counts}"
    # growth was seen while the demo ran, not only at the end
    assert any(b > a for a, b in zip(counts, counts[1:])), counts
    assert _count(es, settings.index_stage1) >= max(before[settings.index_stage1], 20000)
    print(f"make demo DEMO_DURATION=60 took {time.monotonic() - t0:.0f}s; "
          f"{settings.index_stage3}: {before[settings.index_stage3]} -> {counts[-1]}")
