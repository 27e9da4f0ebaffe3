"""Redis: one local server, its configuration under ``.runtime/``, append-only data.

    python -m services up redis

writes ``.runtime/redis.conf``, starts ``redis-server`` (it daemonizes and writes
``.runtime/run/redis.pid``), data in ``.runtime/data/redis``, log in
``.runtime/logs/redis.log``. Healthy means it answers PING.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from common.config import Settings
from services.system import ensure_redis_installed, log_dir, pid_file


def log(s: Settings) -> Path:
    return log_dir(s) / "redis.log"


def start(s: Settings) -> None:
    binary = ensure_redis_installed()
    data = s.runtime_dir / "data" / "redis"
    data.mkdir(parents=True, exist_ok=True)
    conf = s.runtime_dir / "redis.conf"
    conf.write_text("\n".join([
        f"bind {s.bind_host}", f"port {s.redis_port}", f"dir {data}",
        "daemonize yes", f"pidfile {pid_file(s, 'redis')}", f"logfile {log(s)}",
        # append-only file: a restart of Redis loses no offer, target or interest list
        "appendonly yes", "appendfsync everysec", 'save ""', "",
    ]))
    subprocess.run([binary, str(conf)], check=True)


def healthy(s: Settings) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(s.redis_url, socket_timeout=2).ping())
    except redis.RedisError:
        return False
