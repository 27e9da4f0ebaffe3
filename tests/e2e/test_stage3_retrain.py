"""Retraining inside stage 3's streaming job (--retrain-every), on the real engines.

The job runs with a round every 3 s on the small committed sample (data/sample),
with every name (topic, indices, Redis keys, runtime folder) unique to the test:

- the rounds run in the job's own JVM: never a second java process below the job;
- a round promotes or refuses as stage3.train does (models/v0001, model status in Redis);
- plays produced meanwhile are indexed, all of them: retraining does not hold up the queries;
- Ctrl-C in the middle of a round: the round is cancelled, the model stays as it was,
  the job prints its summary and exits 0.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.cleanup import drop_test_resources, kill_tree, stage3_names
from tools.memwatch import read_process, tree_pids

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
PLAYS = 40


@pytest.fixture
def retraining(engines, unique, tmp_path):
    from common.config import Settings

    p = f"t_{unique}"
    names = {**stage3_names(p),
             "data_dir": str(REPO / "data" / "sample"), "runtime_dir": str(tmp_path),
             "trigger_interval": "1 second"}
    s = Settings(**names)
    env = {**os.environ, **{k.upper(): str(v) for k, v in names.items()}, "PYTHONUNBUFFERED": "1"}
    yield s, env, tmp_path
    drop_test_resources(s, p, (s.index_stage3, s.index_interest, s.index_deadletter, s.index_stats,
                               s.index_profiles))


def java_below(pid: int) -> set[int]:
    return {p for p in tree_pids([pid]) if p != pid and (read_process(p) or {}).get("name") == "java"}


class Output:
    """The job's output lines, read by a thread; wait() for a line that starts with a prefix."""

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.lines = proc, []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait(self, prefix: str, timeout: float, javas: list[int]) -> None:
        """... and meanwhile note how many java processes run below the job at once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            javas.append(len(java_below(self.proc.pid)))
            if any(line.startswith(prefix) for line in self.lines):
                return
            assert self.proc.poll() is None, f"the job exited ({self.proc.returncode}):\n{self.tail()}"
            time.sleep(0.2)
        raise AssertionError(f"no line {prefix!r} within {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        return "".join(self.lines[-30:])


def test_rounds_run_in_the_jobs_jvm_and_ctrl_c_cancels_one(retraining):
    from common.clients import ensure_topic, es_client, redis_client
    from common.sinks import KafkaEventProducer

    s, env, tmp = retraining
    r, es = redis_client(s), es_client(s)
    subprocess.run([sys.executable, "-m", "stage2.import_customers"], cwd=REPO, env=env, check=True)
    ensure_topic(s.kafka_topic, settings=s)
    job = subprocess.Popen([sys.executable, "-m", "stage3.streaming_job", "--no-interest", "--no-stats",
                            "--no-profiles", "--retrain-every", "3s"],
                           cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, javas = Output(job), []
    try:
        out.wait("round 1 started", 240, javas)
        # plays while the first round trains: the enrichment goes on beside it
        now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        with KafkaEventProducer(s) as producer:
            for i in range(1, PLAYS + 1):
                producer.send(f"{i},{1 + i % 20},{100 + i},{now},1,18463".encode(), key=str(i).encode())
        out.wait("round 1 |", 300, javas)
        models = tmp / "stage3" / "models"
        assert (models / "v0001" / "metrics.json").exists()
        assert r.hget(s.redis_model_status, "last_version") == "v0001"
        current = (models / "CURRENT").read_text() if (models / "CURRENT").exists() else None

        def indexed() -> int:
            if not es.indices.exists(index=s.index_stage3):
                return 0
            es.indices.refresh(index=s.index_stage3)
            return es.count(index=s.index_stage3)["count"]

        deadline = time.monotonic() + 120
        while indexed() < PLAYS and time.monotonic() < deadline:
            time.sleep(0.5)
        assert indexed() == PLAYS

        out.wait("round 2 started", 60, javas)
        time.sleep(1.0)                         # round 2 is in its Spark jobs now
        job.send_signal(signal.SIGINT)
        assert job.wait(timeout=90) == 0, out.tail()
    finally:
        kill_tree(job)                          # only when the test failed with the job running
    time.sleep(0.5)                             # the reader thread takes the last lines
    text = "".join(out.lines)
    # the job's own JVM only (spark-submit's launcher, a java process too, ends before it starts)
    assert max(javas) == 1, f"java processes at once below the job: {sorted(set(javas))}"
    assert "round 2 stopped before its end" in text, out.tail()
    assert "round 2 |" not in text
    now_current = (models / "CURRENT").read_text() if (models / "CURRENT").exists() else None
    assert now_current == current                # the cancelled round changed nothing
    assert f"{PLAYS} indexed into {s.index_stage3}" in text
