"""Start, check, stop and reset the engines: the table of engines and what ``up`` does.

    python -m services up [redis elasticsearch kafka]   start (idempotent), wait until healthy
    python -m services status | logs | down | reset

Each engine's own module (redis_server, elasticsearch_node, kafka_broker) knows
its configuration, how to start it and when it is healthy; this module only
knows the order, the pid files in ``.runtime/run/`` and what to say when a start
fails. ``down`` stops only what this project started: a pid from a pid file is
signalled only if that process's command line is the engine's (pids are reused).
Engines bind to loopback; anything wider needs ``ALLOW_REMOTE_BIND=yes``.

With ``ENGINES=external`` (docker compose, a shared cluster) nothing is started
or stopped: ``up`` only checks that each engine answers at its URL.
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from common.config import Settings, get_settings
from services import elasticsearch_node, kafka_broker, redis_server
from services.system import (ServiceError, available_memory_mb, check_bind, cmdline_matches, pid_alive,
                             pid_file, port_open, process_cmdline, say, secure_run_dir, tail)

ENGINES = ("redis", "elasticsearch", "kafka")      # the start order; down goes backwards
ALIASES = {"es": "elasticsearch", "elastic": "elasticsearch"}


@dataclass
class Engine:
    name: str
    port: Callable[[Settings], int]
    url: Callable[[Settings], str]
    start: Callable[[Settings], None]
    healthy: Callable[[Settings], bool]
    timeout: int                            # seconds to wait for healthy after a start
    log: Callable[[Settings], Path]
    port_env: str                           # the setting that moves its port
    url_env: str                            # the setting that points at an external engine
    markers: Callable[[Settings], list[str]]    # what its process's command line contains


ENGINE_TABLE: dict[str, Engine] = {
    "redis": Engine("redis", lambda s: s.redis_port, lambda s: s.redis_url, redis_server.start,
                    redis_server.healthy, 30, redis_server.log, "REDIS_PORT", "REDIS_URL",
                    redis_server.cmdline_markers),
    "elasticsearch": Engine("elasticsearch", lambda s: s.es_port, lambda s: s.es_url, elasticsearch_node.start,
                            elasticsearch_node.healthy, 240, elasticsearch_node.log, "ES_PORT", "ES_URL",
                            elasticsearch_node.cmdline_markers),
    "kafka": Engine("kafka", lambda s: s.kafka_port, lambda s: s.kafka_bootstrap_servers, kafka_broker.start,
                    kafka_broker.healthy, 120, kafka_broker.log, "KAFKA_PORT",
                    "KAFKA_BOOTSTRAP_SERVERS", kafka_broker.cmdline_markers),
}


def external(s: Settings) -> bool:
    """True when the engines run elsewhere (``ENGINES=external``): start and stop nothing."""
    if s.engines not in ("local", "external"):
        raise ServiceError(f"ENGINES={s.engines!r} is not a choice: set it to local (the default) or external")
    return s.engines == "external"


def _pid_in_file(s: Settings, name: str) -> int | None:
    try:
        return int(pid_file(s, name).read_text().strip())
    except (OSError, ValueError):
        return None


def is_engine(s: Settings, name: str, pid: int) -> bool:
    """True if ``pid`` runs and its command line is engine ``name``'s (not a reused pid)."""
    return pid_alive(pid) and cmdline_matches(process_cmdline(pid), ENGINE_TABLE[name].markers(s))


def our_pid(s: Settings, name: str) -> int | None:
    """The pid this project started for ``name``, if that process still runs as that engine."""
    pid = _pid_in_file(s, name)
    return pid if pid is not None and is_engine(s, name, pid) else None


def _names(names) -> list[str]:
    if not names:
        return list(ENGINES)
    out = []
    for n in names:
        n = ALIASES.get(n, n)
        if n not in ENGINE_TABLE:
            raise ServiceError(f"unknown engine {n!r}: choose from {', '.join(ENGINES)}")
        out.append(n)
    return out


# --- waiting, and saying why a start failed --------------------------------------
def _wait_healthy(s: Settings, eng: Engine, pid_check: bool = True) -> None:
    start = time.monotonic()
    deadline = start + eng.timeout
    while time.monotonic() < deadline:
        if eng.healthy(s):
            return
        # Redis and Elasticsearch daemonize and write their pid file a moment
        # later: only a missing process after that grace means it died.
        if pid_check and our_pid(s, eng.name) is None and time.monotonic() - start > 10:
            break                            # it died: no point waiting
        time.sleep(0.5)
    state = "exited" if our_pid(s, eng.name) is None else f"was not healthy after {eng.timeout}s"
    hint = _diagnose(eng, eng.log(s))
    raise ServiceError(f"{eng.name} {state}{hint}; last lines of {eng.log(s)}:\n{tail(eng.log(s))}")


def _diagnose(eng: Engine, log: Path) -> str:
    """A hint from the engine's log for the usual causes: port taken, memory, max_map_count."""
    text = log.read_text(errors="replace")[-20000:] if log.exists() else ""
    if "Address already in use" in text or "BindException" in text:
        return f" (a port it needs is taken: free it or change {eng.port_env})"
    if "OutOfMemoryError" in text or "Cannot allocate memory" in text or "exit code 137" in text:
        return " (not enough memory: close other programs or lower ES_HEAP)"
    if "max virtual memory areas vm.max_map_count" in text:
        return " (raise it: sudo sysctl -w vm.max_map_count=262144)"
    return ""


def _preflight_memory() -> None:
    avail_mb = available_memory_mb()
    if avail_mb is not None and avail_mb < 2500:
        say(f"  warning: only {avail_mb} MB of memory available; the engines need about 2.5 GB "
            "(close other programs if they fail to start)")


# --- the commands -----------------------------------------------------------------
def check_external(names=None, settings: Settings | None = None) -> None:
    """ENGINES=external: start nothing, only check that each engine answers at its URL."""
    s = settings or get_settings()
    for name in _names(names):
        eng = ENGINE_TABLE[name]
        if not eng.healthy(s):
            raise ServiceError(
                f"{name} is not reachable at {eng.url(s)} (ENGINES=external, so this project starts "
                f"nothing): start it (e.g. docker compose up -d) or set {eng.url_env} to where it runs")
        say(f"  {name:<14} {eng.url(s):<28} healthy (external)")


def up(names=None, settings: Settings | None = None) -> None:
    """Start the engines (all by default) and wait until each is healthy. Idempotent."""
    s = settings or get_settings()
    if external(s):
        check_external(names, s)
    else:
        _start_local(names, s)
    if "kafka" in _names(names):
        from common.clients import ensure_topic

        ensure_topic(s.kafka_topic, settings=s)     # the events topic, with its partitions


def _start_local(names, s: Settings) -> None:
    warning = check_bind(s.bind_host, s.allow_remote_bind)    # raises without the confirmation
    if warning:
        say(f"  {'!' * 78}\n  {warning}\n  {'!' * 78}")
    _preflight_memory()
    for name in _names(names):
        eng = ENGINE_TABLE[name]
        url, port = eng.url(s), eng.port(s)
        pid = our_pid(s, name)
        if pid is not None:
            _wait_healthy(s, eng)
            say(f"  {name:<14} {url:<28} already running (pid {pid})")
            continue
        if port_open(s.bind_host, port):
            raise ServiceError(
                f"port {port} ({name}) is already in use by a process this project did not start: "
                f"stop it (see: ss -ltnp 'sport = :{port}') or set {eng.port_env} to a free port")
        t0 = time.monotonic()
        say(f"  {name:<14} {url:<28} starting ...")
        secure_run_dir(s)
        eng.start(s)
        _wait_healthy(s, eng)
        say(f"  {name:<14} {url:<28} healthy after {time.monotonic() - t0:.0f}s "
            f"(pid {our_pid(s, name)})")


def _stop_pid(s: Settings, name: str, pid: int, timeout: float = 60) -> None:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL if it is still that engine."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.3)
    if is_engine(s, name, pid):
        os.kill(pid, signal.SIGKILL)


def down(names=None, settings: Settings | None = None) -> None:
    """Stop only the processes this project started (their pid files)."""
    s = settings or get_settings()
    if external(s):
        say("  ENGINES=external: the engines are not this project's to stop; nothing stopped "
            "(docker compose down stops the compose ones)")
        return
    for name in reversed(_names(names)):      # kafka first, redis last
        pid = _pid_in_file(s, name)
        if pid is None or not pid_alive(pid):
            say(f"  {name:<14} not running")
        elif not is_engine(s, name, pid):
            cmd = (process_cmdline(pid) or "?")[:80]
            say(f"  {name:<14} not running; its pid file named pid {pid}, which is not {name} "
                f"({cmd}): not signalled, pid file removed")
        else:
            _stop_pid(s, name, pid)
            say(f"  {name:<14} stopped (pid {pid})")
        pid_file(s, name).unlink(missing_ok=True)


def status(settings: Settings | None = None) -> dict[str, str]:
    """Print and return one state per engine: running and healthy or not, foreign port, stopped."""
    s = settings or get_settings()
    states = {}
    for name in ENGINES:
        eng = ENGINE_TABLE[name]
        pid = our_pid(s, name)
        if external(s):
            state = "external, healthy" if eng.healthy(s) else f"external, NOT reachable (check {eng.url_env})"
        elif pid is not None:
            state = f"running, healthy (pid {pid})" if eng.healthy(s) else f"running, NOT healthy (pid {pid})"
        elif port_open(s.bind_host, eng.port(s)):
            state = "port in use by a process this project did not start"
        else:
            state = "stopped"
        states[name] = state
        say(f"  {name:<14} {eng.url(s):<28} {state}")
    return states


def logs(settings: Settings | None = None, lines: int = 20) -> None:
    """Print the last ``lines`` lines of every engine's log."""
    s = settings or get_settings()
    for name in ENGINES:
        log = ENGINE_TABLE[name].log(s)
        say(f"==> {name}: {log}")
        say(tail(log, lines))


def reset(settings: Settings | None = None) -> None:
    """Stop the engines and wipe engine data, checkpoints, offsets and live files,
    and the live generator's saved position and event-id counter
    (``.runtime/generator/``), so the next run starts from the beginning.
    Downloads (jars, the Elasticsearch distribution) are kept. With ENGINES=external
    only the local files go: the external engines' data is not ours to wipe."""
    s = settings or get_settings()
    down(settings=s)
    if not external(s):
        from services import multinode
        if any(multinode.our_pid(s, n) for e in multinode.ENGINES for n in multinode.nodes(s, e)):
            multinode.down(settings=s)          # make cluster-up's brokers and nodes: their data goes too
    wiped = [s.checkpoint_dir, s.runtime_dir / "offsets", s.runtime_dir / "stage3",
             s.runtime_dir / "spark-tmp", s.runtime_dir / "generator"]
    if not external(s):     # external engines keep their data: only our local files go
        wiped += [s.runtime_dir / "data", s.runtime_dir / "elasticsearch", s.runtime_dir / "cluster"]
    for p in wiped:
        shutil.rmtree(p, ignore_errors=True)
    for f in [s.live_file, *s.runtime_dir.glob("sms_outbox.jsonl*")]:     # the outbox, its rotated file, its lock
        f.unlink(missing_ok=True)
    if external(s):
        say("  wiped checkpoints, offsets, the live file and the generator's position; the external "
            "engines' data is untouched (delete indices, topics and keys there yourself)")
    else:
        say("  wiped engine data, checkpoints, offsets, the live file and the generator's position "
            "(downloads kept)")
