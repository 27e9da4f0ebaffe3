"""A local Spark standalone cluster: one master and two workers, from the pip-installed Spark.

    python -m services cluster-up        start (idempotent), wait until every worker is ALIVE
    python -m services cluster-status    the master's JSON status: workers, applications
    python -m services cluster-down      stop what cluster-up started (pid files)
    SPARK_MASTER=spark://127.0.0.1:7077 make stage2 MAX_EVENTS=2000    a stage on the cluster

(``make cluster-up``, ``make cluster-status``, ``make cluster-down`` run the same.)
The pip package has no ``start-master.sh``; each daemon is a JVM started with
``<pyspark>/bin/spark-class org.apache.spark.deploy.master.Master`` (or
``...deploy.worker.Worker spark://127.0.0.1:7077``), bound to ``settings.bind_host``,
with its pid in ``.runtime/run/spark-master.pid`` / ``spark-worker-N.pid`` and its
output in ``.runtime/logs/spark-master.log`` / ``spark-worker-N.log``. Each worker
offers SPARK_WORKER_CORES cores and SPARK_WORKER_MEMORY to executors and runs them
in its own working directory, ``.runtime/spark-cluster/worker-N/`` (one folder per
application and executor, with the executor's stdout and stderr). Healthy means the
master's JSON status (``http://127.0.0.1:8088/json/``) lists every worker as ALIVE.

A stage that runs on it ships its own code to the executors (common/spark.py);
the cluster itself knows nothing of this project.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from common.config import Settings, get_settings
from services.system import (ServiceError, check_bind, cmdline_matches, find_jdk, log_dir, pid_alive, pid_file,
                             port_open, process_cmdline, say, secure_run_dir, tail, write_pid_file)

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
START_TIMEOUT = 120          # seconds for the master, then for every worker to be ALIVE


@dataclass(frozen=True)
class Daemon:
    """One JVM of the cluster: the master or worker N."""
    name: str                # spark-master, spark-worker-1 ...
    main_class: str
    properties: Path         # its own properties file: also what marks its command line

    def markers(self) -> list[str]:
        return [self.main_class, str(self.properties)]


def base_dir(s: Settings) -> Path:
    return s.runtime_dir / "spark-cluster"


def master_url(s: Settings) -> str:
    return f"spark://{s.bind_host}:{s.spark_master_port}"


def status_url(s: Settings) -> str:
    return f"http://{s.bind_host}:{s.spark_master_webui_port}/json/"


def master(s: Settings) -> Daemon:
    return Daemon("spark-master", MASTER_CLASS, base_dir(s) / "conf" / "master.properties")


def worker(s: Settings, n: int) -> Daemon:
    return Daemon(f"spark-worker-{n}", WORKER_CLASS, base_dir(s) / "conf" / f"worker-{n}.properties")


def daemons(s: Settings) -> list[Daemon]:
    """The master first, then the workers (down goes backwards)."""
    return [master(s), *(worker(s, n) for n in range(1, s.spark_cluster_workers + 1))]


def default_worker_dirs(s: Settings) -> list[Path]:
    return [base_dir(s) / f"worker-{n}" for n in range(1, s.spark_cluster_workers + 1)]


def spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def master_command(s: Settings) -> list[str]:
    return [str(spark_class()), MASTER_CLASS, "--host", s.bind_host, "--port", str(s.spark_master_port),
            "--webui-port", str(s.spark_master_webui_port), "--properties-file", str(master(s).properties)]


def worker_command(s: Settings, n: int, work_dir: Path) -> list[str]:
    # --webui-port 0: each worker's UI on a free port, so two workers never clash
    return [str(spark_class()), WORKER_CLASS, "--host", s.bind_host, "--cores", str(s.spark_worker_cores),
            "--memory", s.spark_worker_memory, "--work-dir", str(work_dir), "--webui-port", "0",
            "--properties-file", str(worker(s, n).properties), master_url(s)]


def daemon_env(s: Settings, work_dir: Path | None = None) -> dict[str, str]:
    """The environment of a master or worker JVM: its heap, loopback, its folders."""
    env = {**os.environ, "SPARK_DAEMON_MEMORY": s.spark_daemon_memory, "SPARK_LOCAL_IP": s.bind_host,
           "JAVA_HOME": str(find_jdk(17, "Spark"))}
    for var in ("SPARK_MASTER", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON"):
        env.pop(var, None)                    # the cluster's JVMs are no application's
    if work_dir is not None:
        env["SPARK_WORKER_DIR"] = str(work_dir)
        env["SPARK_LOCAL_DIRS"] = str(work_dir / "tmp")     # executors' shuffle and spill files
    return env


def _write_properties(s: Settings) -> None:
    conf = base_dir(s) / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    master(s).properties.write_text("\n".join([
        "# written by services/spark_cluster.py at each cluster-up",
        "spark.master.rest.enabled false",            # no REST submission endpoint: the web UI's JSON is enough
        "spark.deploy.retainedApplications 50", "",
    ]))
    for n in range(1, s.spark_cluster_workers + 1):
        worker(s, n).properties.write_text("\n".join([
            "# written by services/spark_cluster.py at each cluster-up",
            # finished applications' folders (executor logs, fetched code) go after 7 days
            "spark.worker.cleanup.enabled true", "spark.worker.cleanup.appDataTtl 604800", "",
        ]))


# --- processes ---------------------------------------------------------------------
def our_pid(s: Settings, d: Daemon) -> int | None:
    """The pid cluster-up started for ``d``, if that process still runs as ``d``."""
    try:
        pid = int(pid_file(s, d.name).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) and cmdline_matches(process_cmdline(pid), d.markers()) else None


def _start(s: Settings, d: Daemon, cmd: list[str], env: dict[str, str], cwd: Path) -> int:
    out = open(log_dir(s) / f"{d.name}.log", "ab")
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)          # spark-class execs the JVM: same pid
    out.close()
    write_pid_file(pid_file(s, d.name), proc.pid)
    return proc.pid


def cluster_state(s: Settings) -> dict | None:
    """The master's JSON status (workers, applications), or None if it does not answer."""
    try:
        with urllib.request.urlopen(status_url(s), timeout=3) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def alive_workers(state: dict | None) -> int:
    if not state or state.get("status") != "ALIVE":
        return 0
    return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")


def _wait(s: Settings, what: str, ready, watched: list[Daemon]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if ready():
            return
        for d in watched:
            if our_pid(s, d) is None:
                raise ServiceError(f"{d.name} exited while starting; last lines of its log:\n"
                                   f"{tail(log_dir(s) / f'{d.name}.log')}")
        time.sleep(0.5)
    d = watched[-1]
    raise ServiceError(f"{what} not ready after {START_TIMEOUT}s; last lines of "
                       f"{log_dir(s) / f'{d.name}.log'}:\n{tail(log_dir(s) / f'{d.name}.log')}")


def up(settings: Settings | None = None, worker_dirs: list[Path] | None = None) -> dict:
    """Start the master and the workers (idempotent) and wait until every worker is ALIVE.

    ``worker_dirs``: each worker's working directory (default ``.runtime/spark-cluster/worker-N``)."""
    s = settings or get_settings()
    warning = check_bind(s.bind_host, s.allow_remote_bind)
    if warning:
        say(f"  WARNING: the Spark master and workers accept any application: {warning}")
    dirs = [Path(p).resolve() for p in (worker_dirs or default_worker_dirs(s))]
    if len(dirs) != s.spark_cluster_workers:
        raise ServiceError(f"{len(dirs)} worker folders for SPARK_CLUSTER_WORKERS={s.spark_cluster_workers}")
    secure_run_dir(s)
    _write_properties(s)
    m = master(s)
    pid = our_pid(s, m)
    if pid is None:
        for port, env in ((s.spark_master_port, "SPARK_MASTER_PORT"), (s.spark_master_webui_port,
                                                                       "SPARK_MASTER_WEBUI_PORT")):
            if port_open(s.bind_host, port):
                raise ServiceError(f"port {port} (Spark master) is already in use by a process this project did "
                                   f"not start: stop it (see: ss -ltnp 'sport = :{port}') or set {env}")
        say(f"  spark-master   {master_url(s):<28} starting ...")
        pid = _start(s, m, master_command(s), daemon_env(s), base_dir(s))
    _wait(s, "the Spark master", lambda: cluster_state(s) is not None and port_open(s.bind_host, s.spark_master_port), [m])
    say(f"  spark-master   {master_url(s):<28} running (pid {pid}), status {status_url(s)}")
    for n, work_dir in enumerate(dirs, start=1):
        w = worker(s, n)
        wpid = our_pid(s, w)
        if wpid is None:
            work_dir.mkdir(parents=True, exist_ok=True)
            wpid = _start(s, w, worker_command(s, n, work_dir), daemon_env(s, work_dir), work_dir)
            say(f"  {w.name:<14} {s.spark_worker_cores} core(s), {s.spark_worker_memory:<6} in {work_dir} "
                f"(pid {wpid})")
        else:
            say(f"  {w.name:<14} already running (pid {wpid})")
    t0 = time.monotonic()
    _wait(s, f"{s.spark_cluster_workers} ALIVE workers",
          lambda: alive_workers(cluster_state(s)) >= s.spark_cluster_workers, daemons(s))
    state = cluster_state(s) or {}
    say(f"  cluster        {alive_workers(state)} workers ALIVE, {state.get('cores', '?')} cores "
        f"(after {time.monotonic() - t0:.0f}s): SPARK_MASTER={master_url(s)}")
    return state


def _stop(s: Settings, d: Daemon, timeout: float = 30) -> str:
    try:
        pid = int(pid_file(s, d.name).read_text().strip())
    except (OSError, ValueError):
        return "not running"
    try:
        if not pid_alive(pid):
            return "not running"
        if not cmdline_matches(process_cmdline(pid), d.markers()):
            return f"not running; its pid file named pid {pid}, another process: not signalled, pid file removed"
        try:
            os.kill(pid, signal.SIGTERM)         # a worker stops its executors on the way out
        except ProcessLookupError:
            return "stopped"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.3)
        if pid_alive(pid) and cmdline_matches(process_cmdline(pid), d.markers()):
            os.kill(pid, signal.SIGKILL)
        return f"stopped (pid {pid})"
    finally:
        pid_file(s, d.name).unlink(missing_ok=True)


def down(settings: Settings | None = None) -> None:
    """Stop the workers, then the master: only the processes cluster-up started."""
    s = settings or get_settings()
    for d in reversed(daemons(s)):
        say(f"  {d.name:<14} {_stop(s, d)}")


def status(settings: Settings | None = None) -> dict | None:
    """Print and return the master's JSON status (None when it is not running)."""
    s = settings or get_settings()
    for d in daemons(s):
        pid = our_pid(s, d)
        say(f"  {d.name:<14} {'running (pid %d)' % pid if pid else 'stopped'}")
    state = cluster_state(s)
    if state is None:
        say(f"  master status  {status_url(s)} does not answer")
        return None
    say(f"  master status  {state.get('status')}, {alive_workers(state)} workers ALIVE, "
        f"{state.get('coresused', 0)}/{state.get('cores', 0)} cores used, {status_url(s)}")
    for app in state.get("activeapps", []):
        say(f"  application    {app.get('id')} {app.get('name')!r} running, {app.get('cores')} cores")
    return state
