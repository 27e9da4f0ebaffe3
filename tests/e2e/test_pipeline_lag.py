"""The pipeline collector's lags against the real engines, measured exactly.

A live file of the test's own, the shipper (--sink kafka) on a topic of its own, the
stage-2 streaming job (enrichment only, its own indices and checkpoint) and the
collector (stage4.pipeline.Collector, in this process) reading them:

* the job stopped while plays are appended: the Kafka lag is exactly the plays
  appended since (Kafka's end offsets minus the offsets of the job's last batch, which
  its progress listener published); the job started again: the lag returns to 0;
* the shipper stopped: the file lag is exactly the lines appended since, in lines and bytes;
* a malformed line: one dead letter in the per-minute count, with its source and reason.

    .venv/bin/python -m pytest -s tests/e2e/test_pipeline_lag.py
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from common.config import REPO_ROOT, Settings
from stage1.shipper import default_offset_file
from tests.cleanup import drop_test_resources, kill_tree

JOB_ARGS = ("--no-interest", "--no-profiles", "--no-stats")


def plays(first: int, n: int) -> list[str]:
    """``n`` well-formed plays with event ids from ``first`` (data/tracks.csv's lines, renumbered)."""
    out = []
    with open(REPO_ROOT / "data" / "tracks.csv") as f:
        next(f)
        for i, line in zip(range(n), f):
            out.append(f"{first + i}," + line.strip().split(",", 1)[1])
    return out


class Run:
    def __init__(self, s: Settings, env: dict, folder):
        self.s, self.env, self.folder = s, env, folder
        self.next_id = 0
        self.job = self.shipper = None

    def start(self, name: str, *argv: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", *argv], cwd=REPO_ROOT, env=self.env,
                                stdout=open(self.folder / f"{name}.log", "a"), stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_job(self) -> None:
        self.job = self.start("job", "stage2.streaming_job", "--checkpoint-dir", str(self.folder / "checkpoint"),
                              *JOB_ARGS)

    def start_shipper(self) -> None:
        self.shipper = self.start("shipper", "stage1.shipper", "--sink", "kafka", "--live-file",
                                  str(self.s.live_file), "--topic", self.s.kafka_topic)

    @staticmethod
    def stop(proc: subprocess.Popen) -> None:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                kill_tree(proc)

    def append(self, lines: list[str]) -> None:
        with open(self.s.live_file, "a") as f:
            f.write("".join(line + "\n" for line in lines))

    def append_plays(self, n: int) -> list[str]:
        lines = plays(self.next_id, n)
        self.next_id += n
        self.append(lines)
        return lines

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def wait_for(collector, what: str, check, timeout: float = 240, run: Run | None = None) -> dict:
    """Sample every second until ``check(sample)``; returns that sample."""
    deadline = time.monotonic() + timeout
    sample = {}
    while time.monotonic() < deadline:
        sample = collector.sample()
        if check(sample):
            return sample
        if run is not None:
            for name, proc in (("job", run.job), ("shipper", run.shipper)):
                assert proc is None or proc.poll() is None, f"the {name} exited:\n{run.log(name)}"
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s; last sample {sample}\n"
                         f"job log:\n{run.log('job') if run else ''}")


@pytest.mark.e2e
def test_collector_measures_file_kafka_lag_and_dead_letters(engines, unique, tmp_path):
    from stage4.pipeline import Collector, rows_of

    p = f"t_{unique}"
    names = {"kafka_topic": p, "index_stage2": f"{p}_enriched", "index_deadletter": f"{p}_dead",
             "index_interest": f"{p}_interest", "index_stats": f"{p}_stats", "index_profiles": f"{p}_profiles",
             "redis_customer_prefix": f"{p}:customer:", "redis_interest_prefix": f"{p}:interest:",
             "redis_offers_stream": f"{p}:offers", "redis_offers_dead_stream": f"{p}:offers:dead",
             "redis_model_status": f"{p}:model", "live_file": str(tmp_path / "live.csv"),
             "trigger_interval": "1 second"}
    s = Settings(**names)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **{k.upper(): v for k, v in names.items()}}
    s.live_file.touch()
    run = Run(s, env, tmp_path)
    collector = Collector(s)
    figures = {}
    try:
        run.start_shipper()
        run.start_job()
        run.append_plays(200)
        first = wait_for(collector, "the job's first batches (lag 0 after 200 plays)",
                         lambda x: x.get("kafka_end_offsets") == 200 and x.get("kafka_lag") == 0, run=run)
        assert first["spark_app"] == "stage2" and "enrich" in first["queries"], first
        assert first["file_lag_lines"] == 0 and first["shipper"] == f"kafka:{p}", first
        # the query says its trigger, so the panel knows what it holds between two batches
        assert collector.progresses()[1]["enrich"]["trigger_seconds"] == 1.0, collector.progresses()

        # the job stopped: every play appended since waits in Kafka, counted exactly
        run.stop(run.job)
        run.job = None
        run.append_plays(300)
        stopped = wait_for(collector, "the 300 plays shipped to Kafka", lambda x: x.get("kafka_end_offsets") == 500,
                           run=run)
        figures["kafka lag, job stopped, 300 plays appended"] = stopped["kafka_lag"]
        assert stopped["kafka_lag"] == 300, stopped
        row = next(r for r in rows_of(stopped) if r["key"] == "kafka:enrich")
        assert row["value"] == 300 and row["state"] == "ok", row

        # started again: it catches up and the lag returns to 0
        run.start_job()
        back = wait_for(collector, "lag back to 0 after the restart", lambda x: x.get("kafka_lag") == 0, run=run)
        figures["kafka lag after the restart"] = back["kafka_lag"]

        # the shipper stopped: the file lag is the lines appended since, and their bytes
        run.stop(run.shipper)
        run.shipper = None
        lines = run.append_plays(150)
        file_lag = collector.sample()
        figures["file lag, shipper stopped, 150 lines appended"] = file_lag["file_lag_lines"]
        assert file_lag["file_lag_lines"] == 150, file_lag
        assert file_lag["file_lag_bytes"] == sum(len(line) + 1 for line in lines), file_lag
        assert collector.sample()["file_lag_lines"] == 150        # counted incrementally: the same again
        run.start_shipper()
        wait_for(collector, "file lag back to 0", lambda x: x.get("file_lag_lines") == 0, run=run)

        # a malformed line: one dead letter, by source and reason, in the per-minute count
        run.append(["this is not a play"])
        # (the batch writes its dead letter before the listener publishes its progress: wait for both)
        dead = wait_for(collector, "the dead letter counted and its batch's progress published",
                        lambda x: x.get("deadletters_per_min") == 1 and x.get("kafka_lag") == 0, run=run)
        figures["dead letters per minute after one malformed line"] = dead["deadletters_per_min"]
        assert dead["deadletter_reasons"][0].startswith("stage2-streaming/"), dead
        assert dead["kafka_lag"] == 0 and dead["engines_down"] == [], dead
        print("\n" + "\n".join(f"  {k}: {v}" for k, v in figures.items()))
    finally:
        run.stop(run.job)
        run.stop(run.shipper)
        collector.engines.close()
        from common.clients import redis_client
        redis_client(s).delete(f"{s.redis_pipeline_progress}:{p}")
        default_offset_file(s, "kafka", p, s.live_file).unlink(missing_ok=True)
        drop_test_resources(s, p, (s.index_stage2, s.index_deadletter, s.index_interest, s.index_stats,
                                   s.index_profiles))
