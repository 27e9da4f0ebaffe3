"""``stage3.train --every``: Spark's JVM exists only while a round runs (docs/memory.md).

A real round (Spark, Redis) on the small committed sample (data/sample), with its own
runtime folder and Redis names; then, while the loop waits for the next round, no java
process is left below it, and Ctrl-C ends the wait at once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from common.config import REPO_ROOT
from tests.cleanup import kill_tree
from tools.memwatch import read_process, tree_pids

pytestmark = pytest.mark.integration


def java_below(pid: int) -> list[int]:
    return [p for p in tree_pids([pid]) if p != pid and (read_process(p) or {}).get("name") == "java"]


def test_no_spark_jvm_is_left_between_rounds(engines, unique, tmp_path):
    from common.clients import redis_client
    from common.config import Settings

    names = {"RUNTIME_DIR": str(tmp_path), "DATA_DIR": str(REPO_ROOT / "data" / "sample"),
             "REDIS_TARGETS_SET": f"t_{unique}:targets", "REDIS_TARGET_PREFIX": f"t_{unique}:target:",
             "REDIS_MODEL_STATUS": f"t_{unique}:model", "REDIS_OFFERS_CHANNEL": f"t_{unique}:channel",
             "REDIS_OUTCOMES_HASH": f"t_{unique}:outcomes"}
    proc = subprocess.Popen([sys.executable, "-m", "stage3.train", "--every", "10m", "--rounds", "2"],
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **names}, cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    first_round = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("round 1 |"):
                first_round.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        # the round runs with its JVM below the loop (about 15 s on 2 idle cores) ...
        deadline = time.monotonic() + 240
        seen_java = False
        while not first_round.is_set() and time.monotonic() < deadline and proc.poll() is None:
            seen_java = seen_java or bool(java_below(proc.pid))
            time.sleep(0.2)
        assert first_round.is_set(), "no round line within 240 s:\n" + "".join(lines[-20:])
        assert seen_java, "the round's Spark JVM was never seen below the loop"
        # ... and once it has printed its line, its process (and the JVM) ends, the loop waits
        deadline = time.monotonic() + 30
        while java_below(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not java_below(proc.pid), "a Spark JVM stays alive while the loop waits for the next round"
        for _ in range(10):                         # and stays gone while it waits
            assert proc.poll() is None and not java_below(proc.pid)
            time.sleep(0.2)
        assert (read_process(proc.pid) or {"rss_kib": 0})["rss_kib"] < 400 * 1024   # a small Python loop
        proc.send_signal(signal.SIGINT)             # Ctrl-C between rounds: no round 2, exit 0 at once
        assert proc.wait(timeout=10) == 0
    finally:
        kill_tree(proc)                      # a failed test: the round's process and its JVM too
        s = Settings(redis_targets_set=f"t_{unique}:targets")
        r = redis_client(s)
        keys = list(r.scan_iter(f"t_{unique}*"))
        if keys:
            r.delete(*keys)
    assert not any(line.startswith("round 2") for line in lines)
    assert (tmp_path / "stage3" / "models" / "v0001" / "metrics.json").exists()
