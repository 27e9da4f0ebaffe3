"""Benchmark stage 2 end to end: shipper -> Kafka -> streaming job -> Elasticsearch.

Three runs, each on its own topic, index and checkpoint (removed afterwards):

  throughput  the first --events plays of data/tracks.csv (200,000 by default) are
              written to a live file at once; the shipper (--sink kafka) and the
              already-running streaming job move them into the index as fast as
              they can. Sustained rate = events / (last one searchable - shipper start).
  latency     plays are appended to the live file at --offered-rate (1,000/s) for
              --latency-seconds; a poller searches for every 5th event id every
              0.1 s and records when it became searchable -> p50 / p95 / max.
  naive       like throughput, with --naive-events (20,000) and the job's --naive
              mode (one Redis round trip and one index request per record, as the
              original demo). Its rate is measured on fewer events and compared as is.

The throughput runs also record the CPU each part of the pipeline used per event
(engines, shipper, Spark's JVM, its Python workers), read from /proc.

Prints two tables, writes bench/results/bench-<time>.json and bench/results/bench-<time>.png.

    python bench/run_bench.py                    # make bench; about 4 minutes here
    python bench/run_bench.py --events 50000 --naive-events 5000 --latency-seconds 20
"""
from __future__ import annotations

import argparse
import json
import os
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

PY = sys.executable
RESULTS = REPO_ROOT / "bench" / "results"
JOB_ARGS: list[str] = []      # extra streaming-job arguments (--job-args)
WARMUP_EVENTS = 2000
console = Console()


class Isolated:
    """Names for one run, passed to the child processes through the environment."""

    def __init__(self, run: str, tag: str, trigger: str, work: Path):
        self.run = run
        self.env_vars = {"KAFKA_TOPIC": f"bench_{tag}_{run}", "INDEX_STAGE2": f"bench_{tag}_{run}",
                         "INDEX_INTEREST": f"bench_{tag}_{run}_interest",
                         "INDEX_STATS": f"bench_{tag}_{run}_stats",
                         "INDEX_PROFILES": f"bench_{tag}_{run}_profiles",
                         "INDEX_DEADLETTER": f"bench_{tag}_{run}_dead",
                         "REDIS_INTEREST_PREFIX": f"bench_{tag}:interest:",
                         "REDIS_CUSTOMER_PREFIX": f"bench_{tag}:customer:",
                         "TRIGGER_INTERVAL": trigger}
        self.settings = Settings(**{k.lower(): v for k, v in self.env_vars.items()})
        self.env = {**os.environ, **self.env_vars, "PYTHONUNBUFFERED": "1"}
        self.live = work / f"{run}.csv"
        self.checkpoint = work / f"checkpoint-{run}"

    def start(self, argv: list[str], log: Path) -> subprocess.Popen:
        return subprocess.Popen(argv, cwd=REPO_ROOT, env=self.env, stdout=open(log, "w"),
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start_job(self, work: Path, naive: bool = False) -> subprocess.Popen:
        argv = [PY, "-m", "stage2.streaming_job", "--checkpoint-dir", str(self.checkpoint), *JOB_ARGS]
        job = self.start(argv + (["--naive"] if naive else []), work / f"{self.run}-job.log")
        wait_for_line(work / f"{self.run}-job.log", "reading Kafka topic", job)
        return job

    def start_shipper(self, work: Path, max_events: int | None = None) -> subprocess.Popen:
        argv = [PY, "-m", "stage1.shipper", "--sink", "kafka", "--live-file", str(self.live),
                "--offset-file", str(work / f"{self.run}.offset")]
        return self.start(argv + (["--max-events", str(max_events)] if max_events else []),
                          work / f"{self.run}-shipper.log")

    def cleanup(self, es) -> None:
        s = self.settings
        for index in (s.index_stage2, s.index_interest, s.index_deadletter, s.index_stats, s.index_profiles):
            es.options(ignore_status=404).indices.delete(index=index)
            es.options(ignore_status=404).indices.delete_index_template(name=index)
        delete_topics([s.kafka_topic], s)


def wait_for_line(log: Path, text: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[1]} exited early; see {log}")
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


def warm_up(iso: Isolated, warmup: list[str], job: subprocess.Popen, work: Path, es) -> None:
    """Spark starts its Python workers, loads the zip table ... on the first data:
    wait until both queries have handled the warm-up events before measuring."""
    wait_searchable(es, iso.settings.index_stage2, len(warmup), timeout=300)
    if "--no-interest" not in JOB_ARGS:
        wait_for_line(work / f"{iso.run}-job.log", "interest batch", job)


def cpu_by_part(job: int, shipper: int) -> dict[str, float]:
    """CPU seconds used so far (user + system) by each part of the pipeline: the
    engines (pids from the service manager), the shipper, and the streaming job
    split into its Python driver, Spark's JVM and the Python workers the JVM forks."""
    from services import ENGINES, our_pid

    ticks = os.sysconf("SC_CLK_TCK")
    procs = {}                                       # pid -> (parent, name, cpu seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue                                 # gone meanwhile
        fields = rest.split()
        procs[int(entry.name)] = (int(fields[1]), name.split("(", 1)[1],
                                  (int(fields[11]) + int(fields[12])) / ticks)

    def part_of(pid: int) -> str | None:
        chain = []
        while pid in procs and pid > 1:
            chain.append(pid)
            pid = procs[pid][0]
        names = [procs[p][1] for p in chain]
        if shipper in chain:
            return "shipper"
        if job in chain:
            if chain[0] == job:
                return "job: Python driver"
            return "job: Spark JVM" if names[0] == "java" else "job: Python workers"
        return None

    parts = {name: procs[pid][2] for name in ENGINES
             if (pid := our_pid(get_settings(), name)) in procs}
    for pid, (_, _, cpu) in procs.items():
        if (part := part_of(pid)) is not None:
            parts[part] = parts.get(part, 0.0) + cpu
    return parts


def throughput_run(iso: Isolated, lines: list[str], warmup: list[str], work: Path, es,
                   naive: bool = False) -> dict:
    """After the warm-up, append ``lines`` at once and time until all are searchable."""
    index = iso.settings.index_stage2
    iso.live.write_text("\n".join(warmup) + "\n")
    job = iso.start_job(work, naive)
    shipper = iso.start_shipper(work)
    try:
        warm_up(iso, warmup, job, work, es)
        cpu_before = cpu_by_part(job.pid, shipper.pid)
        started = time.monotonic()
        with open(iso.live, "a") as out:
            out.write("\n".join(lines) + "\n")
        done = wait_searchable(es, index, len(warmup) + len(lines), timeout=900)
        cpu_after = cpu_by_part(job.pid, shipper.pid)
    finally:
        stop(shipper)
        stop(job)
    seconds = done - started
    # CPU per event, by part (a worker that exited meanwhile is missed: they are reused)
    cpu_us = {part: round((cpu_after[part] - cpu_before.get(part, 0.0)) / len(lines) * 1e6, 1)
              for part in sorted(cpu_after)}
    return {"events": len(lines), "seconds": round(seconds, 2), "events_per_s": round(len(lines) / seconds),
            "cpu_us_per_event": cpu_us}


def latency_run(iso: Isolated, lines: list[str], warmup: list[str], rate: float, seconds: float,
                work: Path, es) -> dict:
    """After a warm-up, append at ``rate`` lines/s; record the write time and the
    first-searchable time of every 5th event id."""
    iso.live.write_text("\n".join(warmup) + "\n")
    job = iso.start_job(work)
    shipper = iso.start_shipper(work)
    warm_up(iso, warmup, job, work, es)
    written: dict[str, float] = {}
    seen: dict[str, float] = {}
    finished = threading.Event()

    def poll():
        index = iso.settings.index_stage2
        while not finished.is_set() or len(seen) < len(written):
            pending = [i for i in list(written) if i not in seen][:1000]
            if pending:
                hits = es.options(ignore_status=(404, 503)).search(
                    index=index, query={"ids": {"values": pending}}, size=len(pending),
                    source=False).get("hits", {}).get("hits", [])
                now = time.monotonic()
                for h in hits:
                    seen[h["_id"]] = now
            if finished.is_set() and time.monotonic() > finished.deadline:
                break
            time.sleep(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        total = int(rate * seconds)
        chunk = max(int(rate / 20), 1)         # 20 appends per second
        start = time.monotonic()
        with open(iso.live, "a") as out:
            for i in range(0, total, chunk):
                wait = start + i / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                part = lines[i:i + chunk]
                out.write("\n".join(part) + "\n")
                out.flush()
                now = time.monotonic()
                for line in part[::5]:
                    written[line.split(",", 1)[0]] = now
        finished.deadline = time.monotonic() + 60
        finished.set()
        poller.join()
    finally:
        stop(shipper)
        stop(job)
    latencies = sorted(seen[i] - written[i] for i in seen)
    pick = lambda q: round(latencies[min(int(q * len(latencies)), len(latencies) - 1)], 3)  # noqa: E731
    return {"offered_rate": rate, "seconds": seconds, "samples": len(latencies),
            "lost_samples": len(written) - len(seen), "p50_s": pick(0.50), "p95_s": pick(0.95),
            "max_s": round(latencies[-1], 3), "latencies": [round(x, 3) for x in latencies]}


def chart(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    rates = [result["throughput"]["events_per_s"], result["naive"]["events_per_s"]]
    left.bar(["batched (stage 2)", "naive (per record)"], rates, color=["tab:blue", "tab:gray"])
    left.axhline(5000, color="tab:red", linestyle="--", label="goal 5,000 ev/s")
    left.set_ylabel("events/s end to end")
    left.set_title(f"Throughput ({result['ratio']:.1f}x naive)")
    left.legend()
    lat = result["latency"]
    right.hist(lat["latencies"], bins=40, color="tab:blue")
    for q, style in (("p50_s", ":"), ("p95_s", "--")):
        right.axvline(lat[q], color="black", linestyle=style, label=f"{q[:3]} {lat[q]:.2f} s")
    right.axvline(2.0, color="tab:red", linestyle="--", label="goal p95 2 s")
    right.set_xlabel(f"event-to-searchable latency (s) at {lat['offered_rate']:.0f} events/s")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--naive-events", type=int, default=20_000)
    p.add_argument("--offered-rate", type=float, default=1000)
    p.add_argument("--latency-seconds", type=float, default=30)
    p.add_argument("--trigger", default="2 seconds", help="trigger of the throughput runs")
    p.add_argument("--latency-trigger", default="500 milliseconds", help="trigger of the latency run")
    p.add_argument("--job-args", default="", help='extra streaming-job arguments, e.g. "--no-interest"')
    a = p.parse_args()
    JOB_ARGS.extend(shlex.split(a.job_args))

    s = get_settings()
    source = s.data_dir / "tracks.csv"
    if not source.exists():
        print(f"{source} is missing; generate it with: make data", file=sys.stderr)
        return 1
    with open(source) as f:
        lines = [next(f).rstrip("\n") for _ in range(WARMUP_EVENTS + max(
            a.events, a.naive_events, int(a.offered_rate * a.latency_seconds)))]
    warmup, lines = lines[:WARMUP_EVENTS], lines[WARMUP_EVENTS:]
    tag = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    work = s.runtime_dir / "bench" / tag
    work.mkdir(parents=True, exist_ok=True)
    es = es_client(s)

    # customers once, under a bench-only prefix
    runs = {"throughput": Isolated("throughput", tag, a.trigger, work),
            "latency": Isolated("latency", tag, a.latency_trigger, work),
            "naive": Isolated("naive", tag, a.trigger, work)}
    imported = subprocess.run([PY, "-m", "stage2.import_customers"], cwd=REPO_ROOT,
                              env=runs["throughput"].env, capture_output=True, text=True)
    console.print(imported.stdout.strip().splitlines()[-1])

    result = {"when": tag, "events": a.events, "cpus": os.cpu_count(), "job_args": a.job_args,
              "trigger": a.trigger, "latency_trigger": a.latency_trigger, "bulk_size": s.bulk_size}
    try:
        console.print(f"[bold]throughput[/]: {a.events:,} events, full speed ...")
        result["throughput"] = throughput_run(runs["throughput"], lines[:a.events], warmup, work, es)
        console.print(f"[bold]latency[/]: {a.offered_rate:,.0f} events/s for {a.latency_seconds:.0f} s ...")
        result["latency"] = latency_run(runs["latency"], lines, warmup, a.offered_rate, a.latency_seconds, work, es)
        console.print(f"[bold]naive[/]: {a.naive_events:,} events, one request per record ...")
        result["naive"] = throughput_run(runs["naive"], lines[:a.naive_events], warmup[:200], work, es,
                                         naive=True)
    finally:
        r = redis_client(s)
        keys = list(r.scan_iter(f"bench_{tag}:*"))
        for i in range(0, len(keys), 1000):
            r.delete(*keys[i:i + 1000])
        for iso in runs.values():
            iso.cleanup(es)
    result["ratio"] = result["throughput"]["events_per_s"] / result["naive"]["events_per_s"]

    table = Table(title="Stage 2 benchmark (shipper -> Kafka -> Spark -> Elasticsearch)")
    for col in ("measure", "value", "goal"):
        table.add_column(col)
    t, lat = result["throughput"], result["latency"]
    table.add_row("sustained throughput", f"{t['events_per_s']:,} events/s ({t['events']:,} in {t['seconds']} s)", ">= 5,000")
    table.add_row(f"latency p50 at {lat['offered_rate']:,.0f}/s", f"{lat['p50_s']:.2f} s", "")
    table.add_row(f"latency p95 at {lat['offered_rate']:,.0f}/s", f"{lat['p95_s']:.2f} s", "<= 2 s")
    table.add_row("naive throughput", f"{result['naive']['events_per_s']:,} events/s "
                  f"({result['naive']['events']:,} events)", "")
    table.add_row("batched / naive", f"{result['ratio']:.1f}x", ">= 10x")
    console.print(table)
    cpu = Table(title="CPU per event in the throughput runs (µs; 2 cores give 100 µs per event at 20,000/s)")
    cpu.add_column("part")
    for run in ("throughput", "naive"):
        cpu.add_column(run, justify="right")
    parts = result["throughput"]["cpu_us_per_event"]
    for part in parts:
        cpu.add_row(part, *(f"{result[run]['cpu_us_per_event'].get(part, 0):,.1f}" for run in ("throughput", "naive")))
    cpu.add_row("total", *(f"{sum(result[run]['cpu_us_per_event'].values()):,.1f}" for run in ("throughput", "naive")))
    console.print(cpu)

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"bench-{tag}.json").write_text(json.dumps(result, indent=1))
    chart(result, RESULTS / f"bench-{tag}.png")
    console.print(f"wrote {RESULTS / f'bench-{tag}.json'} and .png; process logs in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
