"""The stages one after another in one engine session, as a learner runs them.

    make stage1 MAX_EVENTS=2000   make stage2 MAX_EVENTS=3000   make stage3 MAX_EVENTS=3000
    make demo DEMO_DURATION=30    make demo DEMO_DURATION=30

through the real make targets, on the default names (ba_realtime ...), with a
short history for the demos and a faster RATE for the stages so the test stays
quick. After each run, from outside:

* the run appended exactly the plays it planned (a demo: DEMO_DURATION x its rate of
  20 plays/s), with ids never seen before;
* the run's index holds each of them once (document id = event id), and grew by
  exactly the documents the run says it indexed: its own plays, plus any backlog
  it reports (none on a fresh engine session, as in CI; a re-run in an old one
  also ships what other stages wrote meanwhile, and says so);
* during each demo the dashboard answers and its play count grows.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import urllib.request

import pytest

from common.clients import es_client
from common.config import REPO_ROOT
from common.events import event_id_of
from tools.demo import DEMO_RATE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

DEMO_SECONDS = 30          # each demo's DEMO_DURATION: long enough for the dashboard to move


def count(es, index: str) -> int:
    if not es.indices.exists(index=index):
        return 0
    es.indices.refresh(index=index)
    return es.count(index=index)["count"]


def appended_ids(live, offset: int) -> list[int]:
    with open(live, "rb") as f:
        f.seek(offset)
        return [i for i in map(event_id_of, f.read().splitlines()) if i is not None]


def missing_from(es, index: str, ids: list[int]) -> list[int]:
    found = set()
    for i in range(0, len(ids), 1000):
        chunk = [str(x) for x in ids[i:i + 1000]]
        docs = es.mget(index=index, ids=chunk, source=False)["docs"]
        found.update(int(d["_id"]) for d in docs if d.get("found"))
    return sorted(set(ids) - found)


def reported_indexed(name: str, output: str) -> int:
    """Documents the run says it indexed: the stage-1 shipper's or the streaming job's summary."""
    pattern = r"shipper: shipped \d+ events.*?indexed (\d+)" if name == "stage1" else r"done: .*?(\d+) indexed into"
    found = re.findall(pattern, output)
    assert found, f"{name}: no summary line in its output"
    return int(found[-1])


class DashboardWatch:
    """Polls the dashboard's snapshot (what the page renders) while a demo runs."""

    def __init__(self, url: str):
        self.url, self.plays, self.stop = url, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url + "/api/snapshot", timeout=3) as r:
                    events = json.load(r).get("totals", {}).get("events")
                    if events is not None:
                        self.plays.append(events)
            except OSError:
                pass
            self.stop.wait(2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def test_stages_in_sequence_then_two_demos(engines, settings):
    s, es = settings, es_client(settings)
    env = dict(os.environ, DEMO_HISTORY="20000")
    env.pop("DEMO_RATE", None)                   # the demo's own rate, as a learner runs it
    runs = [("stage1", ["make", "stage1", "MAX_EVENTS=2000", "RATE=1000"], s.index_stage1),
            ("stage2", ["make", "stage2", "MAX_EVENTS=3000", "RATE=2000"], s.index_stage2),
            ("stage3", ["make", "stage3", "MAX_EVENTS=3000", "RATE=2000"], s.index_stage3),
            ("demo 1", ["make", "demo", f"DEMO_DURATION={DEMO_SECONDS}"], s.index_stage3),
            ("demo 2", ["make", "demo", f"DEMO_DURATION={DEMO_SECONDS}"], s.index_stage3)]
    seen_ids: set[int] = set()
    dashboard = f"http://{s.bind_host}:{s.dashboard_port}"
    for name, command, index in runs:
        offset = s.live_file.stat().st_size if s.live_file.exists() else 0
        before = count(es, index)
        started = time.monotonic()
        with DashboardWatch(dashboard) as watch:
            done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
        tail = (done.stdout + done.stderr)[-4000:]
        assert done.returncode == 0, f"{name}: {tail}"
        ids = appended_ids(s.live_file, offset)
        after = count(es, index)
        print(f"{name}: {len(ids)} plays in {time.monotonic() - started:.0f} s, {index} {before} -> {after}")

        expected = {"stage1": 2000, "stage2": 3000, "stage3": 3000}.get(name, int(DEMO_SECONDS * DEMO_RATE))
        assert len(ids) == expected, f"{name} wrote {len(ids)} plays, planned {expected}"
        assert len(set(ids)) == len(ids) and not seen_ids & set(ids), f"{name} reused event ids"
        seen_ids |= set(ids)
        assert not missing_from(es, index, ids), f"{name}: plays missing from {index}\n{tail}"
        indexed = reported_indexed(name, done.stdout)
        assert indexed >= len(ids), f"{name}: says it indexed {indexed}, wrote {len(ids)}\n{tail}"
        assert after - before == indexed, f"{name}: {index} grew by {after - before}, indexed {indexed}"
        if name.startswith("demo"):
            assert "http://127.0.0.1:3000" in done.stdout, tail
            plays = watch.plays
            assert plays and max(plays) > plays[0], f"{name}: the dashboard's play count did not grow: {plays}"
    assert count(es, s.index_stage1) >= 20000 + 2000      # the demo's history and stage 1's plays
