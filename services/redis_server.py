"""Redis: one local server, its configuration under ``.runtime/``, append-only data.

    python -m services up redis

writes ``.runtime/redis.conf``, starts ``redis-server`` (it daemonizes and writes
``.runtime/run/redis.pid``), data in ``.runtime/data/redis``, log in
``.runtime/logs/redis.log``. Healthy means it answers PING. Memory is capped at
``REDIS_MAXMEMORY`` (512mb); the append-only file is compacted as it grows.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from common.config import Settings
from services.system import ensure_redis_installed, log_dir, pid_file


def log(s: Settings) -> Path:
    return log_dir(s) / "redis.log"


def cmdline_markers(s: Settings) -> list[str]:
    """redis-server shows itself as ``redis-server 127.0.0.1:6379`` (its port ends it)."""
    return ["redis-server", f":{s.redis_port}"]


def start(s: Settings) -> None:
    binary = ensure_redis_installed()
    data = s.runtime_dir / "data" / "redis"
    data.mkdir(parents=True, exist_ok=True)
    conf = s.runtime_dir / "redis.conf"
    conf.write_text("\n".join([
        f"bind {s.bind_host}", f"port {s.redis_port}", f"dir {data}",
        "daemonize yes", f"pidfile {pid_file(s, 'redis')}", f"logfile {log(s)}",
        # append-only file: a restart of Redis loses no offer, target or interest list;
        # rewritten (compacted) when it doubles past 64 MB, so it stays near the data's size
        "appendonly yes", "appendfsync everysec", 'save ""',
        "auto-aof-rewrite-percentage 100", "auto-aof-rewrite-min-size 64mb",
        # a bound on memory; beyond it writes fail with an OOM error rather than Redis
        # evicting customers or targets the pipeline still needs (noeviction)
        f"maxmemory {s.redis_maxmemory}", "maxmemory-policy noeviction", "",
    ]))
    subprocess.run([binary, str(conf)], check=True)


def healthy(s: Settings) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(s.redis_url, socket_timeout=2).ping())
    except redis.RedisError:
        return False
