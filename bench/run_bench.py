"""Benchmark stages 1-3: shipper -> Kafka -> streaming job -> Elasticsearch (and Redis).

Runs, each on its own topic, indices, Redis keys and checkpoint (removed afterwards):

  throughput  the first --events plays of data/tracks.csv (200,000 by default) are
              written to a live file at once; the shipper (--sink kafka) and the
              already-running stage-2 job (all its queries: enrichment, interest
              list, profiles, windowed stats) move them into the index as fast as
              they can. Sustained rate = events / (last one searchable - append).
  latency     plays are appended to the live file at --offered-rate (1,000/s) for
              --latency-seconds (60: two rounds of the 30 s stateful queries), each
              stamped with the time it is appended (as the live generator of
              `make demo` writes them); a poller searches for every 5th event id
              every 0.1 s -> p50 / p95 / p99, and each hop is timed: append -> Kafka
              (the record's CreateTime, read back by a consumer of our own), Kafka ->
              searchable, the job's batches.
  latency_recorded  the same with data/tracks.csv's own times: event time then runs
              ~4,000 times faster than the clock, so each 30 s trigger of the windowed
              stats meets ~33 hours of windows (the figures of earlier runs).
  naive       like throughput, with --naive-events (20,000) and the job's --naive
              mode (one Redis round trip and one index request per record, as the
              original demo). Its rate is measured on fewer events and compared as is.
  stage 3     stage3.streaming_job (enrichment + targeting + offers) on its own
              targets (every Free/Silver customer with an even id, a Redis set of the
              run's own): throughput as above, then a latency run at --offered-rate;
              a play's offer latency is the time from the append of the first play
              of a target customer and day to its entry in the offers stream (the
              stream entry's id is Redis' clock in ms).
  history     `stage1.shipper --history` of --history-events plays (1,000,000: all
              of data/tracks.csv, as `make stage1-history`) into its own index.

Every run records the CPU each part used per event and the peak resident memory of
each part (engines, shipper, Spark's JVM, its Python driver and workers), read from /proc.

Prints the tables, writes bench/results/bench-<time>.json and bench/results/bench-<time>.png.

    python bench/run_bench.py                    # make bench; about 12 minutes here
    python bench/run_bench.py --events 50000 --naive-events 5000 --latency-seconds 20 --history-events 200000
    python bench/run_bench.py --only latency     # some runs (throughput, enrich_only, latency, latency_recorded, naive, stage3, history)
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from common.clients import delete_topics, es_client, redis_client
from common.config import REPO_ROOT, Settings, get_settings
from tools.memwatch import parse_pss

PY = sys.executable
RESULTS = REPO_ROOT / "bench" / "results"
JOB_ARGS: list[str] = []      # extra streaming-job arguments (--job-args)
WARMUP_EVENTS = 2000
ENRICH_ONLY = ("--no-interest", "--no-profiles", "--no-stats")   # the job without its stateful queries
RUNS = ("throughput", "enrich_only", "latency", "latency_recorded", "naive", "stage3", "history")
console = Console()


class Isolated:
    """Names for one run, passed to the child processes through the environment."""

    def __init__(self, run: str, tag: str, trigger: str, work: Path, stage: int = 2,
                 job_args: tuple[str, ...] = ()):
        self.run, self.stage, self.tag, self.job_args = run, stage, tag, list(job_args)
        name = f"bench_{tag}_{run}"
        self.env_vars = {"KAFKA_TOPIC": name, "INDEX_STAGE2": name, "INDEX_STAGE3": name,
                         "INDEX_INTEREST": f"{name}_interest",
                         "INDEX_STATS": f"{name}_stats",
                         "INDEX_PROFILES": f"{name}_profiles",
                         "INDEX_DEADLETTER": f"{name}_dead",
                         "REDIS_INTEREST_PREFIX": f"bench_{tag}:interest:",
                         "REDIS_CUSTOMER_PREFIX": f"bench_{tag}:customer:",
                         "REDIS_TARGETS_SET": f"bench_{tag}:ad_targets",
                         "REDIS_TARGET_PREFIX": f"bench_{tag}:ad_target:",
                         "REDIS_OFFERED_PREFIX": f"bench_{tag}:{run}:offered:",
                         "REDIS_OFFERS_STREAM": f"bench_{tag}:{run}:offers",
                         "REDIS_OFFERS_CHANNEL": f"bench_{tag}:{run}:offers",
                         # the pipeline collector and the job's progress listener (stage4.pipeline)
                         "REDIS_PIPELINE_PROGRESS": f"bench_{tag}:{run}:progress",
                         "REDIS_PIPELINE_SAMPLES": f"bench_{tag}:{run}:samples",
                         "INDEX_PIPELINE": f"{name}_pipeline",
                         "TRIGGER_INTERVAL": trigger}
        self.settings = Settings(**{k.lower(): v for k, v in self.env_vars.items()})
        self.env = {**os.environ, **self.env_vars, "PYTHONUNBUFFERED": "1"}
        self.live = work / f"{run}.csv"
        self.env["LIVE_FILE"] = str(self.live)
        self.checkpoint = work / f"checkpoint-{run}"
        self.index = self.settings.index_stage3 if stage == 3 else self.settings.index_stage2
        self.job_log = work / f"{run}-job.log"

    def all_job_args(self) -> list[str]:
        """--job-args of the bench, then this run's own (enrich_only: --no-interest ...)."""
        return [*JOB_ARGS, *self.job_args]

    def start(self, argv: list[str], log: Path) -> subprocess.Popen:
        return subprocess.Popen(argv, cwd=REPO_ROOT, env=self.env, stdout=open(log, "w"),
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start_job(self, work: Path, naive: bool = False) -> subprocess.Popen:
        argv = [PY, "-m", f"stage{self.stage}.streaming_job", "--checkpoint-dir", str(self.checkpoint),
                *self.all_job_args()]
        job = self.start(argv + (["--naive"] if naive else []), self.job_log)
        wait_for_line(self.job_log, "reading Kafka topic", job)
        return job

    def start_shipper(self, work: Path, max_events: int | None = None) -> subprocess.Popen:
        argv = [PY, "-m", "stage1.shipper", "--sink", "kafka", "--live-file", str(self.live),
                "--offset-file", str(work / f"{self.run}.offset")]
        return self.start(argv + (["--max-events", str(max_events)] if max_events else []),
                          work / f"{self.run}-shipper.log")

    def start_collector(self, work: Path) -> subprocess.Popen:
        """The pipeline collector (stage4.pipeline) on this run's file, topic, indices and keys."""
        return self.start([PY, "-m", "stage4.pipeline", "--offset-file", str(work / f"{self.run}.offset")],
                          work / f"{self.run}-collector.log")

    def cleanup(self, es) -> None:
        s = self.settings
        for index in (self.index, s.index_interest, s.index_deadletter, s.index_stats, s.index_profiles,
                      s.index_pipeline):
            es.options(ignore_status=404).indices.delete(index=index)
            es.options(ignore_status=404).indices.delete_index_template(name=index)
        delete_topics([s.kafka_topic], s)


def wait_for_line(log: Path, text: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[1:3]} exited early; see {log}")
        time.sleep(0.2)
    raise TimeoutError(f"no {text!r} in {log}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def searchable(es, index: str) -> int:
    from elasticsearch import ApiError

    try:
        return es.count(index=index)["count"]
    except ApiError:            # not created yet, or its shard is still starting
        return 0


def wait_searchable(es, index: str, n: int, timeout: float) -> float:
    """Poll the count every 0.2 s; returns the monotonic time it reached n."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if searchable(es, index) >= n:
            return time.monotonic()
        time.sleep(0.2)
    raise TimeoutError(f"{index} has {searchable(es, index)} of {n} documents after {timeout:.0f} s")


def warm_up(iso: Isolated, warmup: list[str], job: subprocess.Popen, es) -> None:
    """Spark starts its Python workers, loads the zip table ... on the first data:
    wait until the queries have handled the warm-up events before measuring."""
    wait_searchable(es, iso.index, len(warmup), timeout=300)
    # the stateful queries (one 30 s clock) print a line when a batch wrote something:
    # profiles and stats always do on new plays, the interest list only on a new window
    for query in ("profiles", "stats"):
        if f"--no-{query}" not in iso.all_job_args():
            wait_for_line(iso.job_log, f"{query} batch", job, timeout=600)


# --- what each part of the pipeline uses, from /proc --------------------------------------
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[int, str, float, int]]:
    """pid -> (parent, name, CPU seconds so far, resident bytes) of every process."""
    procs = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue                                 # gone meanwhile
        fields = rest.split()
        procs[int(entry.name)] = (int(fields[1]), name.split("(", 1)[1],
                                  (int(fields[11]) + int(fields[12])) / TICKS, int(fields[21]) * PAGE)
    return procs


def proportional_bytes(pid: int, procs: dict) -> float:
    """A process's proportional set size (its pages, shared ones divided among their
    sharers; tools/memwatch.py reads it): forked Python workers share most of their
    pages, their RSS would count them once per worker. Its RSS where smaps_rollup is
    not ours to read."""
    try:
        pss_kib = parse_pss(Path(f"/proc/{pid}/smaps_rollup").read_text())
    except (OSError, ValueError):
        pss_kib = None
    if pss_kib is not None:
        return pss_kib * 1024
    return procs[pid][3] if pid in procs else 0


def by_part(procs: dict, job: int | None, shipper: int | None, column: int,
            collector: int | None = None) -> dict[str, float]:
    """Sum ``column`` (2: CPU seconds, 3: memory: proportional set size) over each part of the pipeline:
    the engines (pids from the service manager, shared with whoever else uses them),
    the shipper, and the streaming job split into its Python driver, Spark's JVM
    and the Python workers the JVM forks."""
    from services import ENGINES, our_pid

    def part_of(pid: int) -> str | None:
        chain = []
        while pid in procs and pid > 1:
            chain.append(pid)
            pid = procs[pid][0]
        if shipper in chain:
            return "shipper"
        if collector is not None and collector in chain:
            return "pipeline collector"
        if job in chain:
            if chain[0] == job:
                return "job: Python driver"
            return "job: Spark JVM" if procs[chain[0]][1] == "java" else "job: Python workers"
        return None

    value = (lambda pid: procs[pid][2]) if column == 2 else (lambda pid: proportional_bytes(pid, procs))
    parts = {name: value(pid) for name in ENGINES if (pid := our_pid(get_settings(), name)) in procs}
    for pid in procs:
        if (part := part_of(pid)) is not None:
            parts[part] = parts.get(part, 0.0) + value(pid)
    return parts


def cpu_by_part(job: int | None, shipper: int | None, collector: int | None = None) -> dict[str, float]:
    return by_part(processes(), job, shipper, 2, collector)


def listener_cpu(iso: Isolated) -> float:
    """CPU seconds the job's progress listener has spent so far (it publishes its own count)."""
    s = iso.settings
    raw = redis_client(s).hgetall(f"{s.redis_pipeline_progress}:{s.kafka_topic}")
    return max((json.loads(v).get("listener_cpu_seconds", 0.0) for v in raw.values()), default=0.0)


class PeakMemory:
    """Samples the memory of each part (PSS) every 0.5 s while a run lasts;
    ``peaks`` holds each part's highest sum and the highest total at one instant."""

    def __init__(self, job: int | None = None, shipper: int | None = None, collector: int | None = None):
        self.job, self.shipper, self.collector = job, shipper, collector
        self.peaks: dict[str, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(0.5):
            parts = by_part(processes(), self.job, self.shipper, 3, self.collector)
            parts["total"] = sum(parts.values())
            for part, rss in parts.items():
                self.peaks[part] = max(self.peaks.get(part, 0), rss)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def mib(self) -> dict[str, int]:
        return {part: round(rss / 2**20) for part, rss in sorted(self.peaks.items())}


def quantiles(values: list[float]) -> dict:
    values = sorted(values)
    if not values:
        return {"samples": 0}
    pick = lambda q: round(values[min(int(q * len(values)), len(values) - 1)], 3)  # noqa: E731
    return {"samples": len(values), "p50_s": pick(0.50), "p95_s": pick(0.95), "p99_s": pick(0.99),
            "max_s": round(values[-1], 3)}


def batch_seconds(log: Path) -> dict:
    """The job's own status lines: how long each enrichment and stateful batch took."""
    text = log.read_text(errors="replace") if log.exists() else ""
    enrich = [float(x) for x in re.findall(r"^batch\s+\d+:\s+\d+ rows in\s+([\d.]+) s", text, re.M)]
    stateful: dict[str, list[tuple[int, float]]] = {}
    for name, docs, seconds in re.findall(r"^(\w+) batch\s+\d+:\s+(\d+) .* in\s+([\d.]+) s$", text, re.M):
        stateful.setdefault(name, []).append((int(docs), float(seconds)))
    out = {"enrich": quantiles(enrich)}
    for name, values in stateful.items():      # batches that wrote something (the job prints only those)
        docs, seconds = [d for d, _ in values], [t for _, t in values]
        out[name] = {"batches": len(values), "mean_s": round(sum(seconds) / len(values), 2),
                     "max_s": round(max(seconds), 2), "docs_written": sum(docs),
                     "docs_per_batch": round(sum(docs) / len(values))}
    return out


# --- the runs ---------------------------------------------------------------------------
def throughput_run(iso: Isolated, lines: list[str], warmup: list[str], work: Path, es,
                   naive: bool = False) -> dict:
    """After the warm-up, append ``lines`` at once and time until all are searchable."""
    iso.live.write_text("\n".join(warmup) + "\n")
    job = iso.start_job(work, naive)
    shipper = iso.start_shipper(work)
    try:
        with PeakMemory(job.pid, shipper.pid) as memory:
            warm_up(iso, warmup, job, es)
            cpu_before = cpu_by_part(job.pid, shipper.pid)
            started = time.monotonic()
            with open(iso.live, "a") as out:
                out.write("\n".join(lines) + "\n")
            done = wait_searchable(es, iso.index, len(warmup) + len(lines), timeout=900)
            cpu_after = cpu_by_part(job.pid, shipper.pid)
    finally:
        stop(shipper)
        stop(job)
    seconds = done - started
    # CPU per event, by part (a worker that exited meanwhile is missed: they are reused)
    cpu_us = {part: round((cpu_after[part] - cpu_before.get(part, 0.0)) / len(lines) * 1e6, 1)
              for part in sorted(cpu_after)}
    return {"events": len(lines), "seconds": round(seconds, 2), "events_per_s": round(len(lines) / seconds),
            "cpu_us_per_event": cpu_us, "peak_memory_mib": memory.mib(), "batches": batch_seconds(iso.job_log)}


class KafkaTimes(threading.Thread):
    """Reads the run's topic from its end as our own consumer: the CreateTime the
    shipper's producer stamped on each record of the sampled event ids."""

    def __init__(self, settings: Settings, wanted: set[str]):
        super().__init__(daemon=True)
        from confluent_kafka import Consumer

        from common.clients import kafka_config
        self.consumer = Consumer({**kafka_config(settings), "group.id": f"{settings.kafka_topic}-times",
                                  "auto.offset.reset": "latest", "enable.auto.commit": False})
        self.consumer.subscribe([settings.kafka_topic])
        self.wanted, self.times = wanted, {}
        self.done = threading.Event()
        deadline = time.monotonic() + 30
        while not self.consumer.assignment() and time.monotonic() < deadline:
            self.consumer.poll(0.2)                  # joined: reads from now on

    def run(self) -> None:
        while not self.done.is_set():
            for msg in self.consumer.consume(1000, timeout=0.2):
                if msg.error() is None:
                    event_id = msg.value().split(b",", 1)[0].decode(errors="replace")
                    if event_id in self.wanted:
                        self.times[event_id] = msg.timestamp()[1] / 1000
        self.consumer.close()


def first_offer_plays(lines: list[str], targets: set[int], levels: dict[int, int],
                      before: list[str] = ()) -> dict[tuple[str, str], str]:
    """(customer id, day) -> event id of the play that queues its offer: the first play
    of a Free/Silver target customer on that day (stage3.offers, a day's period).
    Customers and days that already have a play in ``before`` (the warm-up) are left out."""
    first = {}
    for line in [*before, *lines]:
        cols = line.split(",")
        if len(cols) < 4 or not cols[1].isdigit():
            continue
        customer = int(cols[1])
        if customer in targets and levels.get(customer, 2) < 2:
            first.setdefault((cols[1], cols[3][:10]), cols[0])
    earlier = {line.split(",", 1)[0] for line in before}
    return {key: event for key, event in first.items() if event not in earlier}


def restamped(lines: list[str], start: float, rate: float) -> list[str]:
    """``lines`` as plays happening while they are appended (line i at ``start`` + i / ``rate``,
    epoch seconds), each keeping its event id: what the live generator of ``make demo`` writes."""
    from stage1.live_generator import as_new_play

    out = []
    for i, line in enumerate(lines):
        when = datetime.fromtimestamp(start + i / rate, tz=timezone.utc)
        out.append(as_new_play(line, int(line.split(",", 1)[0]), when) or line)
    return out


def latency_run(iso: Isolated, lines: list[str], warmup: list[str], rate: float, seconds: float,
                work: Path, es, offers: tuple[set[int], dict[int, int]] | None = None, clock: str = "live") -> dict:
    """After a warm-up, append at ``rate`` lines/s; record the append time and the
    first-searchable time of every 5th event id (stage 3: also every offer's queue time).
    ``clock``: "live" stamps each play with the time it is appended, as ``make demo``
    does; "recorded" keeps data/tracks.csv's own times (event time then runs ~4,000
    times faster than the wall clock: far more windows and watermark moves per trigger)."""
    total = int(rate * seconds)
    lines = lines[:total]
    sampled = {line.split(",", 1)[0] for line in lines[::5]}
    if clock == "live":
        warmup = restamped(warmup, time.time(), rate=1e9)
    iso.live.write_text("\n".join(warmup) + "\n")
    job = iso.start_job(work)
    shipper = iso.start_shipper(work)
    collector = iso.start_collector(work)      # its cost, and the listener's, at this rate
    written: dict[str, float] = {}                  # event id -> wall-clock time of its append
    seen: dict[str, float] = {}                     # event id -> first time a search found it
    finished = threading.Event()

    def poll():
        while not finished.is_set() or len(seen) < len([i for i in written if i in sampled]):
            pending = [i for i in list(written) if i in sampled and i not in seen][:1000]
            if pending:
                hits = es.options(ignore_status=(404, 503)).search(
                    index=iso.index, query={"ids": {"values": pending}}, size=len(pending),
                    source=False).get("hits", {}).get("hits", [])
                now = time.time()
                for h in hits:
                    seen[h["_id"]] = now
            if finished.is_set() and time.monotonic() > finished.deadline:
                break
            time.sleep(0.1)

    try:
        with PeakMemory(job.pid, shipper.pid, collector.pid) as memory:
            warm_up(iso, warmup, job, es)
            begin = time.time() + 2.0                 # when the appending starts
            if clock == "live":
                lines = restamped(lines, begin, rate)
            offer_plays = first_offer_plays(lines, *offers, before=warmup) if offers else {}
            kafka = KafkaTimes(iso.settings, sampled)
            kafka.start()
            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            chunk = max(int(rate / 20), 1)         # 20 appends per second
            cpu_before = cpu_by_part(job.pid, shipper.pid, collector.pid)
            listener_before = listener_cpu(iso)
            time.sleep(max(begin - time.time(), 0))
            start = time.monotonic()
            with open(iso.live, "a") as out:
                for i in range(0, total, chunk):
                    wait = start + i / rate - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    part = lines[i:i + chunk]
                    out.write("\n".join(part) + "\n")
                    out.flush()
                    now = time.time()
                    for line in part:
                        written[line.split(",", 1)[0]] = now
            cpu_after, appending = cpu_by_part(job.pid, shipper.pid, collector.pid), time.monotonic() - start
            listener_seconds = listener_cpu(iso) - listener_before
            finished.deadline = time.monotonic() + 60
            finished.set()
            poller.join()
            queued = offer_times(iso, offer_plays, deadline=time.monotonic() + 30) if offers else {}
            kafka.done.set()
            kafka.join()
    finally:
        stop(collector)
        stop(shipper)
        stop(job)
    collector_cores = (cpu_after.get("pipeline collector", 0.0) - cpu_before.get("pipeline collector", 0.0)) / appending
    result = {"offered_rate": rate, "seconds": seconds, "trigger": iso.settings.trigger_interval, "clock": clock,
              **quantiles([seen[i] - written[i] for i in seen]),
              "lost_samples": len(sampled) - len(seen),
              "latencies": sorted(round(seen[i] - written[i], 3) for i in seen),
              # the hops: file append -> record in Kafka (shipper: poll, read, produce, ack),
              # Kafka -> searchable (trigger wait, micro-batch, bulk, refresh, our 0.1 s poll)
              "hops": {"append_to_kafka": quantiles([kafka.times[i] - written[i] for i in kafka.times]),
                       "kafka_to_searchable": quantiles([seen[i] - kafka.times[i] for i in seen
                                                         if i in kafka.times])},
              "batches": batch_seconds(iso.job_log), "peak_memory_mib": memory.mib(),
              # how much of the machine each part needs at this rate (1.0 = one core)
              "cores_used": {part: round((cpu_after[part] - cpu_before.get(part, 0.0)) / appending, 2)
                             for part in sorted(cpu_after)},
              # what watching the pipeline costs at this rate (1.0 = one core): the collector's
              # process (from /proc) and the listener inside the job's driver (its own count)
              "monitoring": {"collector_cores": round(collector_cores, 4),
                             "listener_cores": round(listener_seconds / appending, 4),
                             "percent_of_one_core": round(100 * (collector_cores + listener_seconds / appending), 2),
                             "collector_peak_mib": memory.mib().get("pipeline collector")}}
    if offers:
        delays = [queued[key] - written[event] for key, event in offer_plays.items()
                  if key in queued and event in written]
        # expected: offers the measured plays should queue; queued: those found in the stream
        result["offer"] = {**quantiles(delays), "expected": len(offer_plays),
                           "queued": sum(1 for key in offer_plays if key in queued),
                           "latencies": sorted(round(d, 3) for d in delays)}
    return result


def offer_times(iso: Isolated, plays: dict[tuple[str, str], str], deadline: float) -> dict[tuple[str, str], float]:
    """(customer id, day) -> when its offer entered the run's offers stream (the
    entry id is Redis' clock in ms), waiting until all are there or ``deadline``."""
    r = redis_client(iso.settings)
    times: dict[tuple[str, str], float] = {}
    while time.monotonic() < deadline:
        times = {}
        for entry_id, fields in r.xrange(iso.settings.redis_offers_stream):
            times.setdefault((fields["customer_id"], fields["day"]), int(entry_id.split("-")[0]) / 1000)
        if all(key in times for key in plays):
            break
        time.sleep(1)
    return times


def history_run(tag: str, events: int, work: Path, es) -> dict:
    """``stage1.shipper --history`` into an index of the run's own, as make stage1-history."""
    index, dead = f"bench_{tag}_history", f"bench_{tag}_history_dead"
    env = {**os.environ, "INDEX_DEADLETTER": dead, "PYTHONUNBUFFERED": "1"}
    log = work / "history-shipper.log"
    cpu_before = cpu_by_part(None, None)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        with open(log, "w") as out:
            shipper = subprocess.Popen([PY, "-m", "stage1.shipper", "--history", "--index", index,
                                        "--max-events", str(events)], cwd=REPO_ROOT, env=env,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            with PeakMemory(None, shipper.pid) as memory:
                shipper.wait()
        cpu_after = cpu_by_part(None, None)
        # the shipper's CPU, read once it has exited: what our children used meanwhile
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        shipper_cpu = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
        text = log.read_text(errors="replace")
        found = re.search(r"history: (\d+) events in ([\d.]+) s", text)
        if not found:
            raise RuntimeError(f"the history load failed; see {log}")
        n, seconds = int(found[1]), float(found[2])
        indexed = searchable(es, index)
    finally:
        for name in (index, dead):
            es.options(ignore_status=404).indices.delete(index=name)
            es.options(ignore_status=404).indices.delete_index_template(name=name)
    cpu_us = {part: round((cpu_after[part] - cpu_before.get(part, 0.0)) / n * 1e6, 1) for part in cpu_after}
    cpu_us["shipper"] = round(shipper_cpu / n * 1e6, 1)
    return {"events": n, "seconds": seconds, "events_per_s": round(n / seconds), "searchable": indexed,
            "cpu_us_per_event": cpu_us, "peak_memory_mib": memory.mib()}


def bench_targets(s: Settings, tag: str) -> tuple[set[int], dict[int, int]]:
    """The stage-3 runs' targets: every Free/Silver customer with an even id, in a
    Redis set of the bench's own (what a training round would leave in ad_targets)."""
    with open(s.data_dir / "cust.csv", newline="") as f:
        levels = {int(row["CustID"]): int(row["Level"]) for row in csv.DictReader(f)}
    targets = {c for c, level in levels.items() if level < 2 and c % 2 == 0}
    redis_client(s).sadd(f"bench_{tag}:ad_targets", *targets)
    return targets, levels


# --- report -----------------------------------------------------------------------------
def chart(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 4.5))
    bars = {"stage 2": ("throughput", "events_per_s"), "naive": ("naive", "events_per_s"),
            "stage 3": ("stage3", "throughput"), "history": ("history", "events_per_s")}
    names, rates = [], []
    for name, (run, key) in bars.items():
        value = result.get(run, {}).get(key)
        value = value.get("events_per_s") if isinstance(value, dict) else value
        if value:
            names.append(name)
            rates.append(value)
    colors = {"stage 2": "tab:blue", "naive": "tab:gray", "stage 3": "tab:green", "history": "tab:orange"}
    left.bar(names, rates, color=[colors[n] for n in names])
    left.axhline(25000, color="tab:orange", linestyle="--", label="history goal 25,000/s")
    left.set_ylabel("events/s end to end")
    ratio = f" ({result['ratio']:.1f}x naive)" if result.get("ratio") else ""
    left.set_title(f"Throughput{ratio}")
    left.legend()
    for label, lat, color in (("stage 2 searchable", result.get("latency"), "tab:blue"),
                              ("stage 2, recorded times", result.get("latency_recorded"), "tab:gray"),
                              ("stage 3 offer", result.get("stage3", {}).get("latency", {}).get("offer"),
                               "tab:green")):
        if lat and lat.get("latencies"):
            middle.hist(lat["latencies"], bins=40, color=color, alpha=0.6,
                        label=f"{label}: p95 {lat['p95_s']:.2f} s, p99 {lat['p99_s']:.2f} s")
    middle.axvline(1.0, color="tab:red", linestyle="--", label="goal p95 1 s")
    middle.axvline(1.5, color="tab:red", linestyle=":", label="goal p99 1.5 s")
    middle.set_xlabel("latency (s) at the offered rate")
    middle.legend(fontsize=8)
    memory = result.get("peak_memory_mib", {})
    parts = [p for p in memory if p != "total"]
    right.barh(parts, [memory[p] for p in parts], color="tab:purple")
    right.set_xlabel(f"peak memory, PSS (MiB), any run; all at once: {memory.get('total', 0):,} MiB")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def report(result: dict) -> None:
    table = Table(title="Benchmark (shipper -> Kafka -> Spark -> Elasticsearch / Redis)")
    for col in ("measure", "value", "goal"):
        table.add_column(col)
    if "throughput" in result:
        t = result["throughput"]
        table.add_row("stage 2 sustained throughput",
                      f"{t['events_per_s']:,} events/s ({t['events']:,} in {t['seconds']} s)", ">= 17,000")
    if "enrich_only" in result:
        t = result["enrich_only"]
        table.add_row("  the same, enrichment only (no stateful queries)",
                      f"{t['events_per_s']:,} events/s ({t['events']:,} in {t['seconds']} s)", "")
    if result.get("full_over_enrich_only"):
        table.add_row("  full / enrichment only", f"{result['full_over_enrich_only']:.2f}", ">= 0.8")
    if result.get("latency", {}).get("samples"):
        lat = result["latency"]
        rate = f"{lat['offered_rate']:,.0f}/s"
        table.add_row(f"stage 2 latency p50 / p95 / p99 at {rate} (plays stamped now, as make demo)",
                      f"{lat['p50_s']:.2f} / {lat['p95_s']:.2f} / {lat['p99_s']:.2f} s", "p95 <= 1.0, p99 <= 1.5 s")
        for hop, q in lat["hops"].items():
            if q.get("samples"):
                table.add_row(f"  hop {hop.replace('_', ' ')} p50 / p95",
                              f"{q['p50_s']:.2f} / {q['p95_s']:.2f} s", "")
        used = lat.get("cores_used", {})
        if used:
            table.add_row("  cores used while appending", f"{sum(used.values()):.2f} of {os.cpu_count()} "
                          f"(job {sum(v for k, v in used.items() if k.startswith('job')):.2f})", "")
        m = lat.get("monitoring")
        if m:
            table.add_row(f"  pipeline collector + progress listener at {rate}",
                          f"{m['percent_of_one_core']:.2f}% of one core (collector {100 * m['collector_cores']:.2f}%, "
                          f"listener {100 * m['listener_cores']:.2f}%), collector {m['collector_peak_mib']} MiB",
                          "<= 2%")
        e = lat["batches"]["enrich"]
        if e.get("samples"):
            table.add_row("  enrichment batch duration p50 / p95",
                          f"{e['p50_s']:.2f} / {e['p95_s']:.2f} s (trigger {lat['trigger']})", "")
        for name, b in lat["batches"].items():
            if name != "enrich" and b.get("batches"):
                table.add_row(f"  {name}: batches that wrote, mean / max duration, documents per batch",
                              f"{b['batches']}, {b['mean_s']:.2f} / {b['max_s']:.2f} s, {b['docs_per_batch']:,}", "")
    if result.get("latency_recorded", {}).get("samples"):
        lat = result["latency_recorded"]
        table.add_row("stage 2 latency p50 / p95 / p99, recorded times (event time ~4,000x the clock)",
                      f"{lat['p50_s']:.2f} / {lat['p95_s']:.2f} / {lat['p99_s']:.2f} s", "")
    if "naive" in result:
        table.add_row("naive throughput", f"{result['naive']['events_per_s']:,} events/s "
                      f"({result['naive']['events']:,} events)", "")
    if result.get("ratio"):
        table.add_row("batched / naive", f"{result['ratio']:.1f}x", ">= 12x")
    if "stage3" in result:
        s3 = result["stage3"]
        if "throughput" in s3:
            table.add_row("stage 3 sustained throughput", f"{s3['throughput']['events_per_s']:,} events/s", "")
        if s3.get("latency", {}).get("samples"):
            lat = s3["latency"]
            table.add_row("stage 3 searchable p50 / p95 / p99",
                          f"{lat['p50_s']:.2f} / {lat['p95_s']:.2f} / {lat['p99_s']:.2f} s", "")
            o = lat["offer"]
            if o.get("samples"):
                table.add_row("stage 3 play -> offer in stream p50 / p95 / p99",
                              f"{o['p50_s']:.2f} / {o['p95_s']:.2f} / {o['p99_s']:.2f} s "
                              f"({o['queued']} of {o['expected']} offers)", "")
    if "history" in result:
        h = result["history"]
        table.add_row("history load (stage1.shipper --history)",
                      f"{h['events_per_s']:,} docs/s ({h['events']:,} in {h['seconds']} s)", ">= 25,000")
    if "host_loop_s" in result:
        table.add_row("host: 10 million Python additions, one core", f"{result['host_loop_s']:.2f} s",
                      "lower = faster host")
    console.print(table)

    runs = {name: r for name, r in (("throughput", result.get("throughput")),
                                    ("enrich only", result.get("enrich_only")), ("naive", result.get("naive")),
                                    ("stage 3", result.get("stage3", {}).get("throughput")),
                                    ("history", result.get("history"))) if r}
    cpu = Table(title="CPU per event (µs; 2 cores give 100 µs per event at 20,000/s; engines are shared)")
    cpu.add_column("part")
    memory = Table(title="Peak memory, PSS (MiB; engines are shared with whoever else uses them)")
    memory.add_column("part")
    for name in runs:
        cpu.add_column(name, justify="right")
    mem_runs = {**runs, **({"latency": result["latency"]} if "latency" in result else {})}
    for name in mem_runs:
        memory.add_column(name, justify="right")
    parts = sorted({p for r in runs.values() for p in r["cpu_us_per_event"]})
    for part in parts:
        cpu.add_row(part, *(f"{r['cpu_us_per_event'].get(part, 0):,.1f}" for r in runs.values()))
    cpu.add_row("total", *(f"{sum(r['cpu_us_per_event'].values()):,.1f}" for r in runs.values()))
    mem_parts = sorted({p for r in mem_runs.values() for p in r["peak_memory_mib"]}, key=lambda p: (p == "total", p))
    for part in mem_parts:
        memory.add_row(part, *(f"{r['peak_memory_mib'].get(part, 0):,}" for r in mem_runs.values()))
    console.print(cpu)
    console.print(memory)


def host_speed() -> float:
    """Seconds for one core of this host to run a fixed pure-Python loop (10 million
    additions), best of three. Hosts of the same kind differ by 2-3x; this number
    says which kind of host a run's figures come from (lower is faster)."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best, 2)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--naive-events", type=int, default=20_000)
    p.add_argument("--stage3-events", type=int, default=100_000)
    p.add_argument("--history-events", type=int, default=1_000_000)
    p.add_argument("--offered-rate", type=float, default=1000)
    p.add_argument("--latency-seconds", type=float, default=60)
    p.add_argument("--trigger", default="2 seconds", help="trigger of the throughput runs")
    p.add_argument("--latency-trigger", default="500 milliseconds", help="trigger of the latency runs")
    p.add_argument("--job-args", default="", help='extra streaming-job arguments, e.g. "--no-interest"')
    p.add_argument("--only", default=",".join(RUNS), help=f"comma-separated runs of: {', '.join(RUNS)}")
    a = p.parse_args()
    JOB_ARGS.extend(shlex.split(a.job_args))
    only = set(a.only.split(","))

    s = get_settings()
    source = s.data_dir / "tracks.csv"
    if not source.exists():
        print(f"{source} is missing; generate it with: make data", file=sys.stderr)
        return 1
    with open(source) as f:
        lines = [next(f).rstrip("\n") for _ in range(WARMUP_EVENTS + max(
            a.events, a.naive_events, a.stage3_events, int(a.offered_rate * a.latency_seconds)))]
    warmup, lines = lines[:WARMUP_EVENTS], lines[WARMUP_EVENTS:]
    tag = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    work = s.runtime_dir / "bench" / tag
    work.mkdir(parents=True, exist_ok=True)
    es = es_client(s)

    # customers once, under a bench-only prefix
    runs = {"throughput": Isolated("throughput", tag, a.trigger, work),
            "enrich_only": Isolated("enrich_only", tag, a.trigger, work, job_args=ENRICH_ONLY),
            "latency": Isolated("latency", tag, a.latency_trigger, work),
            "latency_recorded": Isolated("latency_recorded", tag, a.latency_trigger, work),
            "naive": Isolated("naive", tag, a.trigger, work),
            "stage3": Isolated("stage3", tag, a.trigger, work, stage=3),
            "stage3_latency": Isolated("stage3_latency", tag, a.latency_trigger, work, stage=3)}
    imported = subprocess.run([PY, "-m", "stage2.import_customers"], cwd=REPO_ROOT,
                              env=runs["throughput"].env, capture_output=True, text=True)
    console.print(imported.stdout.strip().splitlines()[-1])

    result = {"when": tag, "cpus": os.cpu_count(), "job_args": a.job_args, "trigger": a.trigger,
              "latency_trigger": a.latency_trigger, "bulk_size": s.bulk_size,
              "load_average_at_start": os.getloadavg(), "host_loop_s": host_speed()}
    def measure(name: str, what: str, call) -> None:
        console.print(what)
        try:
            result[name] = call()
        except Exception as exc:                   # noqa: BLE001 - reported, the other runs go on
            console.print(f"[red]{name} failed[/]: {exc}")
            result.setdefault("failed", {})[name] = str(exc)

    try:
        if "throughput" in only:
            measure("throughput", f"[bold]throughput[/]: {a.events:,} events, full speed ...",
                    lambda: throughput_run(runs["throughput"], lines[:a.events], warmup, work, es))
        if "enrich_only" in only:
            measure("enrich_only", f"[bold]throughput, enrichment only[/] ({' '.join(ENRICH_ONLY)}): "
                    f"{a.events:,} events ...",
                    lambda: throughput_run(runs["enrich_only"], lines[:a.events], warmup, work, es))
        if "latency" in only:
            measure("latency", f"[bold]latency[/]: {a.offered_rate:,.0f} events/s for {a.latency_seconds:.0f} s ...",
                    lambda: latency_run(runs["latency"], lines, warmup, a.offered_rate, a.latency_seconds, work, es))
        if "latency_recorded" in only:
            measure("latency_recorded", f"[bold]latency, recorded times[/]: {a.offered_rate:,.0f} events/s for "
                    f"{a.latency_seconds:.0f} s, data/tracks.csv's own times ...",
                    lambda: latency_run(runs["latency_recorded"], lines, warmup, a.offered_rate, a.latency_seconds,
                                        work, es, clock="recorded"))
        if "naive" in only:
            measure("naive", f"[bold]naive[/]: {a.naive_events:,} events, one request per record ...",
                    lambda: throughput_run(runs["naive"], lines[:a.naive_events], warmup[:500], work, es,
                                           naive=True))
        if "stage3" in only:
            offers = bench_targets(s, tag)
            stage3: dict = {"targets": len(offers[0])}
            result["stage3"] = stage3          # what ran, also when a later part fails

            def stage3_runs():
                stage3["throughput"] = throughput_run(runs["stage3"], lines[:a.stage3_events], warmup, work, es)
                console.print(f"[bold]stage 3 latency[/]: {a.offered_rate:,.0f} events/s for "
                              f"{a.latency_seconds:.0f} s ...")
                stage3["latency"] = latency_run(runs["stage3_latency"], lines, warmup, a.offered_rate,
                                                a.latency_seconds, work, es, offers=offers)
                return stage3
            measure("stage3", f"[bold]stage 3[/]: {a.stage3_events:,} events, full speed, "
                    f"{len(offers[0]):,} target customers ...", stage3_runs)
        if "history" in only:
            measure("history", f"[bold]history[/]: stage1.shipper --history, {a.history_events:,} plays ...",
                    lambda: history_run(tag, a.history_events, work, es))
    finally:
        r = redis_client(s)
        keys = list(r.scan_iter(f"bench_{tag}:*"))
        for i in range(0, len(keys), 1000):
            r.delete(*keys[i:i + 1000])
        for iso in runs.values():
            iso.cleanup(es)
    if "throughput" in result and "enrich_only" in result:
        result["full_over_enrich_only"] = result["throughput"]["events_per_s"] / result["enrich_only"]["events_per_s"]
    if "throughput" in result and "naive" in result:
        result["ratio"] = result["throughput"]["events_per_s"] / result["naive"]["events_per_s"]
    peaks: dict[str, int] = {}
    for run in (result.get("throughput"), result.get("enrich_only"), result.get("latency"), result.get("latency_recorded"), result.get("naive"),
                result.get("history"),
                *(result.get("stage3", {}).get(k) for k in ("throughput", "latency"))):
        for part, mib in (run or {}).get("peak_memory_mib", {}).items():
            peaks[part] = max(peaks.get(part, 0), mib)
    result["peak_memory_mib"] = peaks
    result["load_average_at_end"] = os.getloadavg()

    report(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"bench-{tag}.json").write_text(json.dumps(result, indent=1))
    chart(result, RESULTS / f"bench-{tag}.png")
    console.print(f"wrote {RESULTS / f'bench-{tag}.json'} and .png; process logs in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
