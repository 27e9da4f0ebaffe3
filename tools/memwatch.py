"""Peak resident memory of a command and of the engines, sampled together.

    python -m tools.memwatch -- make demo DEMO_DURATION=60
    python -m tools.memwatch --json out.json --interval 0.5 -- make demo DEMO_DURATION=60
    python -m tools.memwatch --stop-after 180 -- python -m tools.demo --every 60s   # live, Ctrl-C after 180 s

Every ``--interval`` seconds (0.5) it reads the resident memory (``Pss`` from
``/proc/<pid>/smaps_rollup``: RSS with shared pages split between their processes, so the
sum is what is really used; ``VmRSS`` from ``status`` where unreadable) of every process
of the command's tree and of the engines the service manager started
(their pids in ``.runtime/run/*.pid``, and their own children), and names each one:
Elasticsearch, Kafka, Redis, the Spark driver JVM of the streaming job or of a
training round, Spark's Python workers, the shipper, the generator, the SMS sender,
the dashboard's Node ... The figure that matters is the **peak of the sum**: all
processes added up at one instant (a sum of per-process peaks would count twice
what never ran at the same time). Linux only (it reads ``/proc``).

As a library (the bench imports it):

    from tools.memwatch import Sampler, watched_pids
    sampler = Sampler(lambda: watched_pids([os.getpid()]), exclude=[os.getpid()]).start()
    ...                                   # the work to measure
    report = sampler.stop()               # {"peak_total_mib": ..., "parts": {...}, ...}
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

PROC = Path("/proc")
KIB_PER_MIB = 1024


# --- reading /proc (pure parsers first, then the readers) ------------------------------
def parse_status(text: str) -> dict:
    """``/proc/<pid>/status`` -> {"name", "ppid", "rss_kib"} (rss 0 for a kernel thread or a zombie)."""
    out = {"name": "", "ppid": 0, "rss_kib": 0}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "Name":
            out["name"] = value.strip()
        elif key == "PPid":
            out["ppid"] = int(value.split()[0])
        elif key == "VmRSS":
            out["rss_kib"] = int(value.split()[0])       # "  123456 kB"
    return out


def parse_pss(text: str) -> int | None:
    """``/proc/<pid>/smaps_rollup`` -> Pss in KiB: the process's resident pages, each page shared
    with N processes counted 1/N (Spark's Python workers are forks of one daemon: their RSS
    would count the shared pages again in every worker, their PSS adds up to what is used)."""
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return None


def parse_cmdline(raw: bytes) -> list[str]:
    """``/proc/<pid>/cmdline`` (NUL-separated) -> argv."""
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def read_process(pid: int) -> dict | None:
    """{"pid", "name", "ppid", "rss_kib", "pss_kib", "argv"} or None when the process is gone."""
    try:
        info = parse_status((PROC / str(pid) / "status").read_text())
        info["argv"] = parse_cmdline((PROC / str(pid) / "cmdline").read_bytes())
    except (OSError, ValueError):
        return None
    try:
        pss = parse_pss((PROC / str(pid) / "smaps_rollup").read_text())
    except (OSError, ValueError):
        pss = None                       # no smaps_rollup (old kernel, another user's process)
    info["pss_kib"] = info["rss_kib"] if pss is None else pss
    info["pid"] = pid
    return info


def all_parents() -> dict[int, int]:
    """{pid: parent pid} of every process (from ``/proc/<pid>/stat``)."""
    out = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and brackets, so split after the last ")"
        out[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def descendants(roots: Iterable[int], parents: dict[int, int]) -> set[int]:
    """``roots`` and every process below them."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    seen, todo = set(), [r for r in roots if r in parents]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(children.get(pid, []))
    return seen


def tree_pids(roots: Iterable[int]) -> set[int]:
    return descendants(roots, all_parents())


def engine_pids(settings=None) -> dict[int, str]:
    """{pid: engine name} of the engines this project started (services.manager.our_pid), with their children."""
    from common.config import get_settings
    from services.manager import ENGINES, our_pid

    s = settings or get_settings()
    parents = all_parents()
    out = {}
    from services import multinode

    for name in ENGINES:
        pid = our_pid(s, name)
        if pid is not None:
            for p in descendants([pid], parents):
                out[p] = name
    for engine in multinode.ENGINES:            # make cluster-up's brokers and nodes
        for node in multinode.nodes(s, engine):
            pid = multinode.our_pid(s, node)
            if pid is not None:
                for p in descendants([pid], parents):
                    out[p] = f"{engine} cluster"
    return out


def watched_pids(roots: Iterable[int], engines: bool = True, settings=None) -> dict[int, str]:
    """{pid: engine name or ""}: the processes below ``roots`` and (``engines``) the engines' processes."""
    found = engine_pids(settings) if engines else {}
    for pid in tree_pids(roots):
        found.setdefault(pid, "")
    return found


# --- naming a process --------------------------------------------------------------------
PY_MODULES = {                       # python -m <module> -> the part it is
    "stage1.live_generator": "generator", "stage1.shipper": "shipper (stage 1)",
    "stage2.shipper": "shipper (to Kafka)", "stage3.sms_sender": "SMS sender",
    "stage3.train": "training (Python)", "stage2.streaming_job": "streaming job (Python driver)",
    "stage3.streaming_job": "streaming job (Python driver)", "stage4.run_stage4": "dashboard launcher (Python)",
    "stage3.run_stage3": "stage runner (Python)", "stage2.run_stage2": "stage runner (Python)",
    "stage1.run_stage1": "stage runner (Python)", "tools.demo": "demo runner (Python)",
    "stage2.import_customers": "customer import", "services": "service manager",
}
SHELL = "shell / make"
SPARK_DRIVER_BY_PARENT = {"training (Python)": "Spark JVM (training)",
                          "streaming job (Python driver)": "Spark JVM (streaming job)"}


def _python_module(argv: list[str]) -> str | None:
    if "-m" in argv[:-1]:
        return argv[argv.index("-m") + 1]
    for a in argv[1:3]:
        if a.endswith(".py"):            # python 02.stage3/train.py -> stage3.train
            p = Path(a)
            return f"stage{p.parent.name.split('.stage')[-1]}.{p.stem}" if ".stage" in p.parent.name else p.stem
    return None


def classify(argv: list[str], name: str = "", engine: str | None = None, parent_part: str | None = None) -> str:
    """The part of the demo a process is, from its command line (and its parent's part)."""
    if engine:
        return {"elasticsearch": "Elasticsearch", "kafka": "Kafka", "redis": "Redis",
                "kafka cluster": "Kafka (cluster of 3)",
                "elasticsearch cluster": "Elasticsearch (cluster of 3)"}.get(engine, engine)
    joined = " ".join(argv)
    exe = Path(argv[0]).name if argv else name
    if "org.elasticsearch" in joined:
        return "Elasticsearch"
    if "kafka.Kafka" in joined:
        return "Kafka"
    if exe.startswith("redis-server") or name.startswith("redis-server"):
        return "Redis"
    if exe == "java" or name == "java":
        if "org.apache.spark.deploy" in joined or "pyspark-shell" in joined:
            if "deploy.master.Master" in joined:
                return "Spark master"
            if "deploy.worker.Worker" in joined:
                return "Spark worker"
            if "executor" in joined.lower() and "CoarseGrainedExecutorBackend" in joined:
                return "Spark executor"
            return SPARK_DRIVER_BY_PARENT.get(parent_part or "", "Spark JVM (other)")
        return "Java (other)"
    if exe == "node" or name == "node":
        return "dashboard (Node)" if "server.js" in joined else "Node (other)"
    if exe.startswith("python") or name.startswith("python"):
        module = _python_module(argv) or ""
        if (module.startswith("pyspark.") or module == "common.pydaemon"     # our daemon (common/pydaemon.py)
                or "pyspark/daemon.py" in joined or "pyspark/worker.py" in joined):
            return "Spark Python workers"
        if module in PY_MODULES:
            return PY_MODULES[module]
        if module == "tools.memwatch":
            return "memwatch"
        # pytest-xdist's workers (make test runs two) start as execnet's bootstrap line
        if module == "pytest" or "pytest" in joined or "exec(eval(sys.stdin.readline()))" in joined:
            return "pytest"
        return f"Python ({module})" if module else "Python (other)"
    if exe in ("make", "bash", "sh") or name in ("make", "bash", "sh"):
        return SHELL
    return name or exe or "other"


# --- sampling ------------------------------------------------------------------------------
def take_sample(pids: Iterable[int], engines: dict[int, str] | None = None,
                known: dict[int, str] | None = None) -> list[dict]:
    """One instant: [{"pid", "part", "rss_kib", "pss_kib"}] for every pid still running.

    ``known``: Spark JVMs named in earlier samples (kept: a JVM whose Python has just exited
    has lost its parent, but is still the same part); filled in here."""
    engines = engines or {}
    procs = {p: info for p in set(pids) if (info := read_process(p)) is not None}
    parts: dict[int, str] = {p: part for p, part in (known or {}).items()
                             if p in procs and part in SPARK_DRIVER_BY_PARENT.values()}
    parents_part: dict[int, str | None] = {}

    def part_of(pid: int, depth: int = 0) -> str | None:
        if pid in parts:
            return parts[pid]
        info = procs.get(pid)
        if info is None:
            info = read_process(pid)             # a parent outside the watched set (e.g. our own)
            if info is None:
                return None
        parent = part_of(info["ppid"], depth + 1) if depth < 6 and info["ppid"] > 1 else None
        if parent == SHELL:               # spark-submit's shell scripts sit between Python and its JVM
            parent = parents_part.get(info["ppid"])
        parts[pid] = classify(info["argv"], info["name"], engines.get(pid), parent)
        # what a shell's children see as their parent: the first part above it that is not a shell
        parents_part[pid] = parent if parts[pid] == SHELL else parts[pid]
        return parts[pid]

    rows = [{"pid": p, "part": part_of(p), "rss_kib": info["rss_kib"], "pss_kib": info["pss_kib"]}
            for p, info in procs.items()]
    if known is not None:       # only a named JVM sticks: a shell may still exec into one (spark-submit)
        known.update({r["pid"]: r["part"] for r in rows if r["part"] in SPARK_DRIVER_BY_PARENT.values()})
    return rows


class Peaks:
    """Running peaks over samples: per process, per part (its processes summed at one instant)
    and of the total (everything summed at one instant: the figure that matters), in PSS; the
    total's RSS peak beside it (it counts pages shared by several processes more than once)."""

    def __init__(self):
        self.samples = 0
        self.peak_total_kib = 0
        self.peak_total_at = 0.0
        self.peak_rss_total_kib = 0
        self.peak_breakdown: dict[str, int] = {}     # the parts at the instant of the peak total
        self.part_peak_kib: dict[str, int] = {}
        self.part_max_procs: dict[str, int] = {}
        self.proc_peak: dict[int, dict] = {}
        self.timeline: list[tuple[float, int]] = []  # (seconds, total KiB) per sample

    def add(self, sample: list[dict], at: float) -> None:
        self.samples += 1
        by_part: dict[str, int] = {}
        count: dict[str, int] = {}
        for row in sample:
            row.setdefault("pss_kib", row["rss_kib"])
            by_part[row["part"]] = by_part.get(row["part"], 0) + row["pss_kib"]
            count[row["part"]] = count.get(row["part"], 0) + 1
            best = self.proc_peak.get(row["pid"])
            if best is None or row["pss_kib"] > best["pss_kib"]:
                self.proc_peak[row["pid"]] = dict(row)
        for part, kib in by_part.items():
            self.part_peak_kib[part] = max(self.part_peak_kib.get(part, 0), kib)
            self.part_max_procs[part] = max(self.part_max_procs.get(part, 0), count[part])
        total = sum(by_part.values())
        self.timeline.append((round(at, 1), total))
        self.peak_rss_total_kib = max(self.peak_rss_total_kib, sum(r["rss_kib"] for r in sample))
        if total > self.peak_total_kib:
            self.peak_total_kib, self.peak_total_at, self.peak_breakdown = total, at, by_part

    def report(self) -> dict:
        mib = lambda kib: round(kib / KIB_PER_MIB, 1)   # noqa: E731
        parts = {p: {"peak_mib": mib(k), "at_peak_total_mib": mib(self.peak_breakdown.get(p, 0)),
                     "max_processes": self.part_max_procs[p]}
                 for p, k in sorted(self.part_peak_kib.items(), key=lambda kv: -kv[1])}
        return {"measure": "PSS (smaps_rollup; VmRSS where unreadable)",
                "peak_total_mib": mib(self.peak_total_kib), "peak_total_at_s": round(self.peak_total_at, 1),
                "peak_rss_total_mib": mib(self.peak_rss_total_kib),
                "sum_of_part_peaks_mib": mib(sum(self.part_peak_kib.values())),
                "samples": self.samples, "parts": parts,
                "processes": sorted(({"pid": r["pid"], "part": r["part"], "peak_mib": mib(r["pss_kib"])}
                                     for r in self.proc_peak.values()), key=lambda r: -r["peak_mib"]),
                "timeline_mib": [(s, mib(k)) for s, k in self.timeline]}


class Sampler:
    """Samples ``pids_fn()`` (a set of pids, or {pid: engine name}) every ``interval`` s in a thread.

        sampler = Sampler(lambda: engine_pids() | tree_pids([child.pid])).start()
        report = sampler.stop()
    """

    def __init__(self, pids_fn: Callable[[], Iterable[int] | dict[int, str]], interval: float = 0.5,
                 exclude: Iterable[int] = ()):
        self.pids_fn, self.interval, self.exclude = pids_fn, interval, set(exclude)
        self.peaks = Peaks()
        self._known: dict[int, str] = {}          # pid -> part, as first named
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = 0.0

    def sample_once(self) -> None:
        found = self.pids_fn()
        engines = found if isinstance(found, dict) else {}
        pids = set(found) - self.exclude
        self.peaks.add(take_sample(pids, engines, self._known), time.monotonic() - self._t0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception as exc:          # a sample lost to a race must not end the measurement
                print(f"memwatch: sample skipped ({exc})", file=sys.stderr)
            self._stop.wait(self.interval)

    def start(self) -> "Sampler":
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        report = self.peaks.report()
        report["seconds"] = round(time.monotonic() - self._t0, 1)
        report["interval_s"] = self.interval
        return report


def table(report: dict) -> str:
    lines = [f"{'part (PSS)':<32} {'peak MiB':>9} {'at peak total':>14} {'procs':>6}"]
    for part, row in report["parts"].items():
        lines.append(f"{part:<32} {row['peak_mib']:>9.0f} {row['at_peak_total_mib']:>14.0f} "
                     f"{row['max_processes']:>6}")
    lines.append(f"{'PEAK TOTAL (one instant)':<32} {report['peak_total_mib']:>9.0f}   "
                 f"at {report['peak_total_at_s']:.0f} s of {report.get('seconds', 0):.0f} s, "
                 f"{report['samples']} samples (sum of part peaks {report['sum_of_part_peaks_mib']:.0f}, "
                 f"RSS total peak {report['peak_rss_total_mib']:.0f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    own, command = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(prog="python -m tools.memwatch", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", type=Path, help="write the report here too")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between samples (0.5)")
    p.add_argument("--stop-after", type=float, help="send Ctrl-C (SIGINT) to the command after this many seconds")
    p.add_argument("--no-engines", action="store_true", help="the command's processes only")
    args = p.parse_args(own)
    if not command:
        p.error("give the command to measure after --, e.g. -- make demo DEMO_DURATION=60")

    proc = subprocess.Popen(command, start_new_session=True)

    sampler = Sampler(lambda: watched_pids([proc.pid], engines=not args.no_engines), args.interval,
                      exclude=[os.getpid()]).start()
    forward = lambda signum, _frame: os.killpg(proc.pid, signal.SIGINT)   # noqa: E731
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    if args.stop_after:
        timer = threading.Timer(args.stop_after, lambda: proc.poll() is None and os.killpg(proc.pid, signal.SIGINT))
        timer.daemon = True
        timer.start()
    code = proc.wait()
    report = sampler.stop()
    report.update(command=command, exit_code=code, engines_included=not args.no_engines)
    print("\n==> memory (resident, PSS) of " + " ".join(command))
    print(table(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"==> written to {args.json}")
    return code


if __name__ == "__main__":
    sys.exit(main())
