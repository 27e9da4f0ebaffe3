"""Reading the Pipeline panel through a fault (docs/faults.md, "Watch it on the dashboard").

Private engines (the ``private_engines`` fixture of tests/e2e/conftest.py, shared with
test_engine_faults: own ports, own .runtime folder; the shared engines are never paused)
carry a live stage-2 run at 20 plays/s, under names of its own, as `make demo` does:
live file -> shipper -> Kafka -> streaming job (enrichment) -> Elasticsearch, with the
collector (stage4.pipeline.Collector) sampling every 2 s and its rows and red rule
(rows_of, mark_growing) applied as the panel does. Then:

* Elasticsearch paused (SIGSTOP) for 30 s: the collector finds it down, the Spark →
  Elasticsearch row reads "down", the enrich query's Kafka lag grows and turns red while
  the file lag stays small; resumed (SIGCONT): the lag drains back to 0.
* Kafka paused for 20 s: Kafka is down, the Kafka rows read "down", the file lag grows
  (the shipper waits for Kafka's acknowledgements) and turns red; resumed: it drains to 0,
  and so does the Kafka lag.

Prints the figures docs/faults.md quotes (largest lags, seconds to drain).

    .venv/bin/python -m pytest -s tests/e2e/test_pipeline_faults.py
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from common.config import REPO_ROOT, Settings
from tests.cleanup import kill_tree, stage3_names
from tests.e2e.test_engine_faults import pause_engine
from tests.e2e.test_pipeline_lag import plays

pytestmark = pytest.mark.e2e
RATE = 20                      # plays per second, as make demo


class Sampler:
    """The collector every 2 s with the panel's rows (and red rule) of each sample."""

    def __init__(self, s: Settings):
        from stage4.pipeline import Collector
        self.collector = Collector(s)
        self.history: list[dict] = []

    def sample(self) -> tuple[dict, dict]:
        from stage4.pipeline import mark_growing, rows_of

        sample = self.collector.sample()
        rows = mark_growing(rows_of(sample), self.history[-3:])
        self.history.append({"rows": rows})
        return sample, {r["key"]: r for r in rows}

    def watch(self, seconds: float, what: str, log: list) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            sample, rows = self.sample()
            log.append((what, round(time.monotonic(), 1), sample, rows))
            time.sleep(max(0.0, 2.0 - (time.monotonic() - started)))

    def until(self, check, timeout: float, what: str, log: list) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            sample, rows = self.sample()
            log.append((what, round(time.monotonic(), 1), sample, rows))
            if check(sample):
                return time.monotonic() - started
            time.sleep(2.0)
        raise AssertionError(f"{what}: not within {timeout:.0f} s; last {log[-1][2]}")


def test_panel_shows_where_the_backlog_grows_and_drains(private_engines, unique, tmp_path):
    s0, env = private_engines
    # names of its own on the private engines, which test_engine_faults' runs use too
    names = {**stage3_names(f"t_{unique}"), "index_stage2": f"t_{unique}_enriched"}
    s = s0.model_copy(update={**names, "live_file": tmp_path / "live.csv", "engine_timeout_seconds": 2.0})
    env = {**env, **{k.upper(): v for k, v in names.items()}, "LIVE_FILE": str(s.live_file)}
    s.live_file.touch()

    def start(name, *argv):
        return subprocess.Popen([sys.executable, "-m", *argv], cwd=REPO_ROOT, env=env, start_new_session=True,
                                stdout=open(tmp_path / f"{name}.log", "w"), stderr=subprocess.STDOUT)

    shipper = start("shipper", "stage1.shipper", "--sink", "kafka", "--live-file", str(s.live_file))
    job = start("job", "stage2.streaming_job", "--no-interest", "--no-profiles", "--no-stats",
                "--checkpoint-dir", str(tmp_path / "checkpoint"))
    stop = threading.Event()

    def generator():
        first = 0
        while not stop.wait(1.0):
            with open(s.live_file, "a") as f:
                f.write("".join(line + "\n" for line in plays(first, RATE)))
            first += RATE

    gen = threading.Thread(target=generator, daemon=True)
    sampler = Sampler(s)
    log: list = []
    figures = {}
    try:
        gen.start()
        sampler.until(lambda x: x.get("kafka_lag") is not None and x["kafka_lag"] < 3 * RATE
                      and x.get("kafka_end_offsets", 0) > 5 * RATE, 300, "running", log)

        pause_engine(s, "elasticsearch", signal.SIGSTOP)
        sampler.watch(30, "es paused", log)
        pause_engine(s, "elasticsearch", signal.SIGCONT)
        paused = [x for x in log if x[0] == "es paused"]
        assert any("elasticsearch" in x[2]["engines_down"] for x in paused), [x[2]["engines_down"] for x in paused]
        assert any(x[3]["es"]["state"] == "down" for x in paused)
        lags = [x[2].get("kafka_lag") for x in paused]
        assert any(x[3]["kafka:enrich"]["growing"] for x in paused), lags
        assert max(x[2]["file_lag_lines"] for x in paused) < 500, [x[2]["file_lag_lines"] for x in paused]
        figures["Elasticsearch paused 30 s: largest enrich lag"] = max(v for v in lags if v is not None)
        figures["  largest file lag meanwhile"] = max(x[2]["file_lag_lines"] for x in paused)
        figures["  seconds from SIGCONT to enrich lag < 2 s of plays"] = round(sampler.until(
            lambda x: x.get("kafka_lag") is not None and x["kafka_lag"] < 2 * RATE and not x["engines_down"],
            180, "es back", log), 1)

        pause_engine(s, "kafka", signal.SIGSTOP)
        sampler.watch(20, "kafka paused", log)
        pause_engine(s, "kafka", signal.SIGCONT)
        paused = [x for x in log if x[0] == "kafka paused"]
        assert any("kafka" in x[2]["engines_down"] for x in paused), [x[2]["engines_down"] for x in paused]
        assert any(x[3]["kafka:enrich"]["state"] == "down" for x in paused)
        files = [x[2]["file_lag_lines"] for x in paused]
        assert any(x[3]["file"]["growing"] for x in paused), files
        figures["Kafka paused 20 s: largest file lag (lines)"] = max(files)
        figures["  seconds from SIGCONT to file lag and enrich lag < 2 s of plays"] = round(sampler.until(
            lambda x: x.get("file_lag_lines", 1e9) < 2 * RATE and x.get("kafka_lag") is not None
            and x["kafka_lag"] < 2 * RATE and not x["engines_down"], 180, "kafka back", log), 1)
        print("\n" + "\n".join(f"  {k}: {v}" for k, v in figures.items()))
        print("  samples (phase, file lag, enrich lag, down, red rows):")
        for what, _, sample, rows in log:
            red = [k for k, r in rows.items() if r.get("growing")]
            print(f"    {what:<12} {sample.get('file_lag_lines'):>5} {str(sample.get('kafka_lag')):>6} "
                  f"{','.join(sample['engines_down']) or '-':<14} {','.join(red)}")
    finally:
        stop.set()
        for name in ("elasticsearch", "kafka"):
            try:
                pause_engine(s, name, signal.SIGCONT)
            except (TypeError, ProcessLookupError):
                pass
        sampler.collector.engines.close()
        for proc in (job, shipper):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    kill_tree(proc)
