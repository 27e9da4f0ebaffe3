"""Retraining inside the streaming job: the rounds run on the job's own Spark JVM.

    python -m stage3.streaming_job --retrain-every 10m     # what make stage3 / make demo run

A round needs Spark. As its own process (``stage3.train --every``) every round
starts a second Spark JVM and Python process beside the streaming job's, about
750 MiB for the minute a round lasts: the peak of a live ``make demo``
(docs/memory.md). Here a thread of the streaming job runs the round
(stage3.train.run_round) on the SparkContext the job already has:

- its own SparkSession (``spark.newSession()``: the same JVM and cores, its own SQL
  settings): small file splits and a few shuffle partitions, so every training task
  is short (the streaming queries run with one shuffle partition);
- its own FAIR pool ``training`` (01.stage2/fairscheduler.xml: weight 1, no minimum
  share): a core that frees up goes to the enrichment first, and Spark never stops a
  running task, which is why the tasks are kept short;
- its own job group: when the job stops, a round half-way is cancelled. A round
  cancelled before its gate changes nothing: the current model and the targets
  stay as they were (as with Ctrl-C in stage3.train).

A round that fails (Redis or Elasticsearch away for longer than
ENGINE_GIVE_UP_SECONDS, a bug) says so in one line, and the next one comes at its
time: retraining never stops the streaming queries.
"""
from __future__ import annotations

import sys
import threading
import time

from common.config import Settings

TRAINING_POOL = "training"        # a pool of 01.stage2/fairscheduler.xml
JOB_GROUP = "stage3-retraining"
TRAINING_SQL_CONF = {
    # tracks.csv (43 MB) in ~6 tasks of a second or so instead of one long one
    "spark.sql.files.maxPartitionBytes": str(8 * 1024 * 1024),
    # the customers' features are grouped in a few short tasks
    "spark.sql.shuffle.partitions": "4",
}
STOP_GRACE_SECONDS = 30.0         # how long stop() waits for a cancelled round to end


class Retrainer:
    """Round 1, 2 ... every ``every`` seconds, the first one ``every`` seconds after start()
    (the stage runs a round before the plays start: stage3.run_stage3.prepare)."""

    def __init__(self, spark, settings: Settings, every: float, from_es: bool = False):
        from pyspark import InheritableThread   # a thread whose Spark jobs carry its own local properties

        self.spark, self.settings, self.every, self.from_es = spark, settings, every, from_es
        self.stopping = threading.Event()
        self.thread = InheritableThread(target=self._loop, name="retrainer", daemon=True)

    def start(self) -> "Retrainer":
        print(f"retraining in this job's Spark every {self.every:g} s (pool {TRAINING_POOL!r})", flush=True)
        self.thread.start()
        return self

    def _loop(self) -> None:
        from common.clients import redis_client
        from stage3.train import run_round

        session = self.spark.newSession()
        for key, value in TRAINING_SQL_CONF.items():
            session.conf.set(key, value)
        sc = self.spark.sparkContext
        sc.setLocalProperty("spark.scheduler.pool", TRAINING_POOL)   # this thread's jobs only
        sc.setJobGroup(JOB_GROUP, "stage 3 retraining round", interruptOnCancel=True)
        r = redis_client(self.settings, check=False)    # waited for in the round if it is away
        n, started = 0, time.monotonic()
        # a round every `every` seconds, start to start (as stage3.train --every): one that
        # took longer is followed at once by the next, never two at a time
        while not self.stopping.wait(max(0.0, self.every - (time.monotonic() - started))):
            n += 1
            started = time.monotonic()
            print(f"round {n} started (pool {TRAINING_POOL!r}, beside the streaming queries)", flush=True)
            try:
                run_round(session, self.settings, r, n, from_es=self.from_es)
            except Exception as exc:                     # noqa: BLE001 - the queries go on
                if self.stopping.is_set():
                    print(f"round {n} stopped before its end (the job stops); model and targets as they were",
                          flush=True)
                    return
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                print(f"round {n} failed after {time.monotonic() - started:.0f} s: {first}; "
                      f"the next round in {self.every:g} s", file=sys.stderr, flush=True)

    def stop(self) -> None:
        """Cancel a round that is running and wait (STOP_GRACE_SECONDS at most) for the thread."""
        self.stopping.set()
        self.thread.join(0.5)               # between two rounds it ends at once
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self.thread.is_alive() and time.monotonic() < deadline:
            # again and again: a round between two Spark jobs starts its next one after a cancel
            self.spark.sparkContext.cancelJobGroup(JOB_GROUP)
            self.thread.join(0.5)
